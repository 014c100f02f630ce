//! `nodes(ids)`: every type with an id, in order, null for what the tenant cannot see, and
//! one statement per type named whatever the number of ids.

use serde_json::{Value, json};

use crate::common::TestApp;

/// Every (type, id) of the demo tenant that a frontend can read.
async fn every_id(app: &TestApp, key: &str) -> Vec<(String, String)> {
    let data = app
        .data(
            key,
            "{ viewer { __typename id apiKeys(first: 10) { nodes { __typename id } } }
               sources(first: 10) { nodes { __typename id importRuns(first: 10) { nodes { __typename id } }
                 properties(first: 10) { nodes { __typename id snapshots(first: 10) { nodes { __typename id } } } } } }
               targets(first: 10) { nodes { __typename id syncLogs(first: 10) { nodes { __typename id } }
                 properties(first: 10) { nodes { __typename id snapshots(first: 10) { nodes { __typename id } } } } } } }",
            json!({}),
        )
        .await;
    let mut found = Vec::new();
    collect(&data, &mut found);
    found
}

fn collect(value: &Value, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(t)), Some(Value::String(id))) =
                (map.get("__typename"), map.get("id"))
            {
                found.push((t.clone(), id.clone()));
            }
            map.values().for_each(|v| collect(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn nodes_resolve_every_type_in_order() {
    let app = TestApp::spawn().await;
    let demo = sync_manager::demo::seed(&app.db).await.unwrap();
    let all = every_id(&app, &demo.api_key).await;
    let types: std::collections::BTreeSet<&str> = all.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        [
            "ApiKey",
            "ImportRun",
            "Source",
            "SourceProperty",
            "SourceSnapshot",
            "SyncLog",
            "Target",
            "TargetProperty",
            "TargetSnapshot",
            "Tenant"
        ]
    );
    // Reversed, with a repeat, so order and duplicates both show.
    let mut ids: Vec<&str> = all.iter().rev().map(|(_, id)| id.as_str()).collect();
    ids.push(all[0].1.as_str());
    let data = app
        .data(
            &demo.api_key,
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            json!({ "ids": ids }),
        )
        .await;
    let answered: Vec<(String, String)> = data["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["__typename"].as_str().unwrap().to_owned(),
                n["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = all.iter().rev().cloned().collect();
    expected.push(all[0].clone());
    assert_eq!(answered, expected);
}

#[tokio::test]
async fn nodes_of_another_tenant_are_null() {
    let app = TestApp::spawn().await;
    let demo = sync_manager::demo::seed(&app.db).await.unwrap();
    let (_, other) = app.create_tenant("Other").await;
    let own = app.create_source(&other, "Mine").await;
    let theirs = every_id(&app, &demo.api_key).await;
    let mut ids: Vec<&str> = theirs.iter().map(|(_, id)| id.as_str()).collect();
    ids.push(own.as_str());
    let data = app
        .data(
            &other,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    let nodes = data["nodes"].as_array().unwrap();
    assert!(nodes[..theirs.len()].iter().all(Value::is_null), "{data}");
    assert_eq!(nodes[theirs.len()], json!({ "id": own }));
}

#[tokio::test]
async fn nodes_take_one_statement_per_type() {
    let app = TestApp::spawn().await;
    let demo = sync_manager::demo::seed(&app.db).await.unwrap();
    let listings: Vec<String> = every_id(&app, &demo.api_key)
        .await
        .into_iter()
        .filter(|(t, _)| t == "SourceProperty")
        .map(|(_, id)| id)
        .collect();
    assert!(listings.len() >= 4, "{listings:?}");
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let two = app
        .statements_of(&demo.api_key, query, json!({ "ids": listings[..2] }))
        .await;
    let all = app
        .statements_of(&demo.api_key, query, json!({ "ids": listings }))
        .await;
    assert_eq!(two, all, "more ids, more statements");
}

/// Every nested field, under every kind of parent.
const EVERY_NESTED_FIELD: &str = "{
  viewer { __typename id apiKeys(first: 5) { nodes { __typename id } } }
  sources(first: 5) { nodes { __typename id
    importRuns(first: 5) { nodes { __typename id source { __typename id } } }
    properties(first: 5) { nodes { __typename id
      snapshots(first: 5) { nodes { __typename id } }
      targetProperties(first: 5) { nodes { __typename id sourceProperty { __typename id } } } } } } }
  targets(first: 5) { nodes { __typename id
    syncLogs(first: 5) { nodes { __typename id source { __typename id } target { __typename id } } }
    properties(first: 5) { nodes { __typename id sourceProperty { __typename id }
      snapshots(first: 5) { nodes { __typename id } } } } } }
  syncLogs(first: 5) { nodes { __typename id source { __typename id } target { __typename id } } }
  conflicts(first: 5) { nodes { targetProperty { __typename id } sourceProperty { __typename id } } }
}";

/// A second tenant with the demo's shapes: imports, a sync, a hand edit, a conflict.
async fn second_tenant(app: &TestApp) -> String {
    let (_, key) = app.create_tenant("Second").await;
    let source = app.create_source(&key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    let import = "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { id } } }";
    let sync = "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { id } } }";
    let both = json!({ "s": source, "t": target });
    app.data(
        &key,
        import,
        json!({ "s": source, "items": [{ "id": 1, "p": 1 }, { "id": 2, "p": 2 }] }),
    )
    .await;
    app.data(&key, sync, both.clone()).await;
    let listing = app
        .data(
            &key,
            "query($t: ID!) { target(id: $t) { properties(first: 1) { nodes { id } } } }",
            json!({ "t": target }),
        )
        .await["target"]["properties"]["nodes"][0]["id"]
        .clone();
    app.data(
        &key,
        "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { p: 9 } }) { targetProperty { id } } }",
        json!({ "id": listing }),
    )
    .await;
    app.data(
        &key,
        import,
        json!({ "s": source, "items": [{ "id": 1, "p": 3 }, { "id": 2, "p": 4 }] }),
    )
    .await;
    app.data(&key, sync, both).await;
    key
}

#[tokio::test]
async fn every_nested_field_shows_only_its_own_tenant() {
    let app = TestApp::spawn().await;
    let demo = sync_manager::demo::seed(&app.db).await.unwrap();
    let second = second_tenant(&app).await;
    let mut seen = Vec::new();
    for key in [&demo.api_key, &second] {
        let data = app.data(key, EVERY_NESTED_FIELD, json!({})).await;
        let mut ids = Vec::new();
        collect(&data, &mut ids);
        assert!(
            data["conflicts"]["nodes"][0]["sourceProperty"]["id"].is_string(),
            "{data}"
        );
        let types: std::collections::BTreeSet<&str> = ids.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types.len(), 10, "every type with an id shows up: {types:?}");
        seen.push(ids);
    }
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    for (own, key, other) in [
        (&seen[0], &demo.api_key, &seen[1]),
        (&seen[1], &second, &seen[0]),
    ] {
        let own_ids: Vec<&str> = own.iter().map(|(_, id)| id.as_str()).collect();
        let other_ids: Vec<&str> = other.iter().map(|(_, id)| id.as_str()).collect();
        assert!(own_ids.iter().all(|id| !other_ids.contains(id)));
        // Everything a tenant's nested fields showed is its own…
        let resolved = app.data(key, query, json!({ "ids": own_ids })).await;
        assert!(
            resolved["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| !n.is_null()),
            "{resolved}"
        );
        // …and none of the other tenant's.
        let resolved = app.data(key, query, json!({ "ids": other_ids })).await;
        assert!(
            resolved["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_null),
            "{resolved}"
        );
    }
}
