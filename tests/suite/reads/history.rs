//! Snapshots show what changed when they were replaced.

use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn snapshots_show_field_level_changes() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let import = "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created updated } } }";
    for price in [250000, 239000, 229000] {
        app.data(&key, import, json!({ "s": source, "items": [{ "id": 1, "price": price, "address": { "city": "Lyon" }, "sold": price == 250000 }] }))
            .await;
    }
    let data = app
        .data(
            &key,
            "query($s: ID!) { source(id: $s) { properties { nodes { snapshots { nodes { reason createdAt changes { path before after } } } } } } }",
            json!({ "s": source }),
        )
        .await;
    let snapshots = &data["source"]["properties"]["nodes"][0]["snapshots"]["nodes"];
    assert_eq!(snapshots.as_array().unwrap().len(), 2);
    assert_eq!(
        snapshots[0]["changes"],
        json!([
            { "path": "price", "before": 250000, "after": 239000 },
            { "path": "sold", "before": true, "after": false },
        ])
    );
    // The newest snapshot compares with the listing as it is now.
    assert_eq!(
        snapshots[1]["changes"],
        json!([{ "path": "price", "before": 239000, "after": 229000 }])
    );
    assert_eq!(snapshots[1]["reason"], "IMPORT");
}
