//! A deep query issues one statement per nesting level, whatever the number of parents.

use serde_json::json;

use crate::common::TestApp;

/// A tenant with `sources` sources of 5 listings each, all synced into one target.
async fn catalog(sources: usize) -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let target = app.create_target(&key, "Site").await;
    for s in 0..sources {
        let source = app.create_source(&key, &format!("Feed {s}")).await;
        let items: Vec<_> = (0..5)
            .map(|i| json!({ "id": format!("{s}-{i}"), "price": i * 1000 }))
            .collect();
        app.data(
            &key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
            json!({ "s": source, "items": items }),
        )
        .await;
        // A second version, so every listing has a snapshot.
        let items: Vec<_> = (0..5)
            .map(|i| json!({ "id": format!("{s}-{i}"), "price": i * 1000 + 1 }))
            .collect();
        app.data(
            &key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { updated } } }",
            json!({ "s": source, "items": items }),
        )
        .await;
        app.data(
            &key,
            "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { created } } }",
            json!({ "s": source, "t": target }),
        )
        .await;
    }
    (app, key)
}

const DEEP: &str = r#"query($n: Int!) {
  sources(first: $n) {
    totalCount
    edges { node {
      name
      importRuns(first: 10) { totalCount nodes { created sourceId } }
      properties(first: 3, orderBy: { path: "price", direction: DESC }) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node {
          externalId
          field(path: "price")
          snapshots(first: 5) { totalCount nodes { reason data } }
          targetProperties(first: 2) { nodes { externalId sourceProperty { externalId } snapshots { totalCount } } }
        } }
      }
    } }
  }
  targets(first: 5) { nodes { syncLogs(last: 3) { nodes { created source { name } target { name } } } properties(first: 4) { nodes { externalId } } } }
}"#;

#[tokio::test]
async fn a_deep_query_costs_the_same_statements_for_2_or_8_parents() {
    let (small, small_key) = catalog(2).await;
    let (large, large_key) = catalog(8).await;
    let few = small
        .statements_of(&small_key, DEEP, json!({ "n": 2 }))
        .await;
    let many = large
        .statements_of(&large_key, DEEP, json!({ "n": 8 }))
        .await;
    assert_eq!(
        few, many,
        "the statement count grew with the number of parents"
    );
    // Auth, sources + count, targets + count, and one or two per nested level: well under 20.
    assert!(many <= 20, "{many} statements");

    let data = large.data(&large_key, DEEP, json!({ "n": 8 })).await;
    let sources = data["sources"]["edges"].as_array().unwrap();
    assert_eq!(sources.len(), 8);
    let first = &sources[0]["node"];
    assert_eq!(first["importRuns"]["totalCount"], 2);
    assert_eq!(first["importRuns"]["nodes"][0]["created"], 5);
    let listings = &first["properties"];
    assert_eq!(listings["totalCount"], 5);
    assert_eq!(listings["pageInfo"]["hasNextPage"], true);
    let prices: Vec<_> = listings["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["field"].clone())
        .collect();
    assert_eq!(prices, vec![json!(4001), json!(3001), json!(2001)]);
    let node = &listings["edges"][0]["node"];
    assert_eq!(node["snapshots"]["totalCount"], 1);
    assert_eq!(node["snapshots"]["nodes"][0]["data"]["price"], 4000);
    assert_eq!(
        node["targetProperties"]["nodes"][0]["sourceProperty"]["externalId"],
        "0-4"
    );
    let logs = &data["targets"]["nodes"][0]["syncLogs"]["nodes"];
    assert_eq!(logs.as_array().unwrap().len(), 3);
    assert_eq!(logs[2]["source"]["name"], "Feed 7");
    assert_eq!(logs[2]["target"]["name"], "Site");
}

#[tokio::test]
async fn nested_pages_walk_forwards_and_backwards_under_each_parent() {
    let (app, key) = catalog(2).await;
    let page = |after: Option<String>| {
        let app = &app;
        let key = &key;
        async move {
            app.data(
                key,
                "query($after: String) { sources { nodes { properties(first: 2, after: $after, orderBy: { field: EXTERNAL_ID, direction: DESC }) { pageInfo { hasNextPage hasPreviousPage endCursor } nodes { externalId } } } } }",
                json!({ "after": after }),
            )
            .await
        }
    };
    let one = page(None).await;
    let conn = &one["sources"]["nodes"][1]["properties"];
    assert_eq!(
        conn["nodes"],
        json!([{ "externalId": "1-4" }, { "externalId": "1-3" }])
    );
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
    let cursor = conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let two = page(Some(cursor)).await;
    let conn = &two["sources"]["nodes"][1]["properties"];
    assert_eq!(
        conn["nodes"],
        json!([{ "externalId": "1-2" }, { "externalId": "1-1" }])
    );
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);

    let back = app
        .data(
            &key,
            "{ sources(first: 1) { nodes { properties(last: 2) { pageInfo { hasNextPage hasPreviousPage } nodes { externalId } } } } }",
            json!({}),
        )
        .await;
    let conn = &back["sources"]["nodes"][0]["properties"];
    assert_eq!(
        conn["nodes"],
        json!([{ "externalId": "0-3" }, { "externalId": "0-4" }])
    );
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);
}
