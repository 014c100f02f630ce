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
            "query($s: ID!) { source(id: $s) { properties { nodes { snapshots { nodes { reason createdAt changes { path kind before after } } } } } } }",
            json!({ "s": source }),
        )
        .await;
    let snapshots = &data["source"]["properties"]["nodes"][0]["snapshots"]["nodes"];
    assert_eq!(snapshots.as_array().unwrap().len(), 2);
    assert_eq!(
        snapshots[0]["changes"],
        json!([
            { "path": "price", "kind": "CHANGED", "before": 250000, "after": 239000 },
            { "path": "sold", "kind": "CHANGED", "before": true, "after": false },
        ])
    );
    // The newest snapshot compares with the listing as it is now.
    assert_eq!(
        snapshots[1]["changes"],
        json!([{ "path": "price", "kind": "CHANGED", "before": 239000, "after": 229000 }])
    );
    assert_eq!(snapshots[1]["reason"], "IMPORT");
}

#[tokio::test]
async fn changes_compare_canonical_values_and_tell_absent_from_null() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let import = "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created updated unchanged } } }";
    let versions = [
        json!({ "id": 1, "price": 1.0, "rooms": [2.0] }),
        // The same content: nothing written.
        json!({ "id": 1, "price": 1, "rooms": [2] }),
        // A field appears, as null.
        json!({ "id": 1, "price": 1, "rooms": [2], "note": null }),
        // It disappears again, and the price really changes.
        json!({ "id": 1, "price": 2, "rooms": [2] }),
    ];
    let mut runs = Vec::new();
    for version in versions {
        let data = app
            .data(&key, import, json!({ "s": source, "items": [version] }))
            .await;
        runs.push(data["importProperties"]["importRun"].clone());
    }
    assert_eq!(
        runs[1],
        json!({ "created": 0, "updated": 0, "unchanged": 1 })
    );
    let data = app
        .data(
            &key,
            "query($s: ID!) { source(id: $s) { properties { nodes { snapshots { nodes { changes { path kind before after } } } } } } }",
            json!({ "s": source }),
        )
        .await;
    let snapshots = &data["source"]["properties"]["nodes"][0]["snapshots"]["nodes"];
    assert_eq!(
        snapshots,
        &json!([
            // `price: 1.0` → `1` and `rooms: [2.0]` → `[2]` are no change; `note` was absent.
            { "changes": [{ "path": "note", "kind": "ADDED", "before": null, "after": null }] },
            { "changes": [
                { "path": "note", "kind": "REMOVED", "before": null, "after": null },
                { "path": "price", "kind": "CHANGED", "before": 1, "after": 2 },
            ] },
        ])
    );
}
