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
