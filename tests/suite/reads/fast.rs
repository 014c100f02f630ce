//! Plain list selections take a fast path (`src/graphql/connection_lists.rs`); it must answer exactly
//! what async-graphql's own path answers. An inline fragment forces the own path.

use serde_json::{Value, json};

use crate::common::TestApp;

/// Each connection of the demo data, as (query around `{}`, node type, its scalar fields).
const CONNECTIONS: &[(&str, &str, &str)] = &[
    (
        "viewer { apiKeys(first: 10) {} }",
        "ApiKey",
        "id name prefix scopes createdAt lastUsedAt revokedAt",
    ),
    (
        "sources(first: 10) {}",
        "Source",
        "id name kind active createdAt updatedAt",
    ),
    (
        "targets(first: 10) {}",
        "Target",
        "id name kind active conflictPolicy createdAt updatedAt",
    ),
    (
        "syncLogs(first: 10) {}",
        "SyncLog",
        "id sourceId targetId dryRun created updated skipped conflicts newConflicts openConflicts keptEdits removed actor startedAt finishedAt durationMs",
    ),
    ("conflicts(first: 10) {}", "Conflict", "id externalId"),
    (
        "sources(first: 10) { nodes { importRuns(first: 10) {} } }",
        "ImportRun",
        "id sourceId mode dryRun created updated unchanged removed actor startedAt finishedAt durationMs",
    ),
    (
        "sources(first: 10) { nodes { properties(first: 10) {} } }",
        "SourceProperty",
        "id externalId contentHash removedAt createdAt updatedAt sourceId",
    ),
    (
        "targets(first: 10) { nodes { properties(first: 10) {} } }",
        "TargetProperty",
        "id externalId contentHash baseHash manuallyModified manualChangedAt hasConflict removedAt lastSyncedAt createdAt updatedAt targetId version editedPaths",
    ),
    (
        "sources(first: 10) { nodes { properties(first: 10) { nodes { snapshots(first: 10) {} } } } }",
        "SourceSnapshot",
        "id contentHash reason createdAt pinned",
    ),
    (
        "targets(first: 10) { nodes { properties(first: 10) { nodes { snapshots(first: 10) {} } } } }",
        "TargetSnapshot",
        "id contentHash reason createdAt pinned",
    ),
];

/// The number of edges under every `edges` key of `value`.
fn edge_count(value: &Value) -> usize {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("edges", Value::Array(edges)) => {
                    edges.len() + edges.iter().map(edge_count).sum::<usize>()
                }
                _ => edge_count(v),
            })
            .sum(),
        Value::Array(items) => items.iter().map(edge_count).sum(),
        _ => 0,
    }
}

#[tokio::test]
async fn plain_selections_answer_as_async_graphql_does() {
    let app = TestApp::spawn().await;
    let demo = sync_manager::demo::seed(&app.db).await.unwrap();
    for (around, type_name, fields) in CONNECTIONS {
        let plain = format!(
            "edges {{ __typename cursor again: cursor node {{ __typename {fields} }} }} nodes {{ key: id {fields} }}"
        );
        let fragment = format!(
            "edges {{ __typename cursor again: cursor node {{ ... on {type_name} {{ __typename {fields} }} }} }} nodes {{ ... on {type_name} {{ key: id {fields} }} }}"
        );
        let fast = app
            .data(
                &demo.api_key,
                &format!("{{ {} }}", around.replace("{}", &format!("{{ {plain} }}"))),
                json!({}),
            )
            .await;
        let own = app
            .data(
                &demo.api_key,
                &format!(
                    "{{ {} }}",
                    around.replace("{}", &format!("{{ {fragment} }}"))
                ),
                json!({}),
            )
            .await;
        assert!(
            edge_count(&fast) > 0,
            "{type_name}: the demo data has none: {fast}"
        );
        assert_eq!(fast, own, "{type_name}: the fast path differs");
    }
}

#[tokio::test]
async fn selections_the_fast_path_cannot_answer_still_work() {
    let app = TestApp::spawn().await;
    let demo = sync_manager::demo::seed(&app.db).await.unwrap();
    let data = app
        .data(
            &demo.api_key,
            "query($yes: Boolean!) { sources(first: 1) { nodes { properties(first: 2) { edges { node { id @include(if: $yes) externalId price: field(path: \"price\") data(fields: [\"price\"]) } } } } } }",
            json!({ "yes": false }),
        )
        .await;
    let node = &data["sources"]["nodes"][0]["properties"]["edges"][0]["node"];
    assert!(
        node.get("id").is_none(),
        "@include(if: false) is honoured: {node}"
    );
    assert!(node["externalId"].is_string(), "{node}");
    assert!(node["price"].is_number(), "{node}");
    assert_eq!(node["data"], json!({ "price": node["price"] }));
}
