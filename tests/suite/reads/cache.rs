//! The response cache: a repeated query is answered from memory, and never after a write.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sync_manager::domain::sources::{self, NewSource, SourceKind};
use sync_manager::domain::tenants;
use sync_manager::http;
use tower::ServiceExt;

use crate::common::{TestApp, test_config};

/// An app with the response cache on.
async fn cached_app() -> TestApp {
    let mut config = test_config();
    config.response_cache_mb = 16;
    TestApp::spawn_with(config).await
}

/// Everything the writes below change.
const CATALOG: &str = "{
  viewer { name apiKeys(first: 20) { nodes { id name revokedAt } } }
  sources(first: 20) { nodes { id name active
    importRuns(first: 20) { totalCount }
    properties(first: 20) { totalCount nodes { externalId contentHash removedAt snapshots(first: 10) { totalCount } } } } }
  targets(first: 20) { nodes { id name active
    syncLogs(first: 20) { totalCount }
    properties(first: 20) { totalCount nodes { externalId contentHash manuallyModified hasConflict data snapshots(first: 10) { totalCount } } } } }
  conflicts(first: 10) { totalCount }
}";

/// POSTs `query` to `router` with `key`: the body and the `X-Cache` header.
async fn ask(router: &Router, key: &str, query: &str, variables: Value) -> (Value, Option<String>) {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-api-key", key)
        .body(Body::from(
            json!({ "query": query, "variables": variables }).to_string(),
        ))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let cache = response
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    (body, cache)
}

#[tokio::test]
async fn a_repeated_query_is_answered_from_the_cache() {
    let app = cached_app().await;
    let (_, key) = app.create_tenant("Acme").await;
    app.create_source(&key, "Feed").await;
    let (first, status) = ask(&app.router, &key, CATALOG, json!({})).await;
    assert_eq!(status.as_deref(), Some("MISS"));
    let (second, status) = ask(&app.router, &key, CATALOG, json!({})).await;
    assert_eq!(status.as_deref(), Some("HIT"));
    assert_eq!(first, second);
    // Other variables are another request.
    let by_id = "query($first: Int) { sources(first: $first) { nodes { name } } }";
    let (_, status) = ask(&app.router, &key, by_id, json!({ "first": 1 })).await;
    assert_eq!(status.as_deref(), Some("MISS"));
    let (_, status) = ask(&app.router, &key, by_id, json!({ "first": 2 })).await;
    assert_eq!(status.as_deref(), Some("MISS"));
}

#[tokio::test]
async fn mutations_always_run() {
    let app = cached_app().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let import = "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [{ id: 1 }] }) { importRun { id } } }";
    let (first, status) = ask(&app.router, &key, import, json!({ "s": source })).await;
    assert_eq!(status, None, "a mutation is never cached");
    let (second, status) = ask(&app.router, &key, import, json!({ "s": source })).await;
    assert_eq!(status, None);
    assert_ne!(first, second, "each import writes its own import run");
}

#[tokio::test]
async fn no_write_is_hidden_by_the_cache() {
    let app = cached_app().await;
    let mut config = test_config();
    config.response_cache_mb = 0;
    let uncached = http::router(http::AppState::new(app.db.clone(), &config, None), &config);
    let (_, key) = app.create_tenant("Acme").await;

    let mutate = |query: &'static str, variables: Value| {
        let (app, key) = (&app, key.clone());
        async move { app.data(&key, query, variables).await }
    };
    let source = app.create_source(&key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    let mut before = ask(&app.router, &key, CATALOG, json!({})).await.0;

    let import = "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { id } } }";
    let sync = "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { id } } }";
    let writes: Vec<(&str, &str, Value)> = vec![
        (
            "import",
            import,
            json!({ "s": source, "items": [{ "id": 1, "price": 100 }, { "id": 2, "price": 200 }] }),
        ),
        ("sync", sync, json!({ "s": source, "t": target })),
        (
            "import of a change",
            import,
            json!({ "s": source, "items": [{ "id": 1, "price": 110 }] }),
        ),
        (
            "import of nothing new",
            import,
            json!({ "s": source, "items": [{ "id": 1, "price": 110 }] }),
        ),
        (
            "rename a source",
            "mutation($s: ID!) { updateSource(input: { id: $s, name: \"Feed 2\" }) { source { id } } }",
            json!({ "s": source }),
        ),
        (
            "switch a target off",
            "mutation($t: ID!) { updateTarget(input: { id: $t, active: false }) { target { id } } }",
            json!({ "t": target }),
        ),
        (
            "switch it on",
            "mutation($t: ID!) { updateTarget(input: { id: $t, active: true }) { target { id } } }",
            json!({ "t": target }),
        ),
        (
            "create an API key",
            "mutation { createApiKey(input: { name: \"ci\" }) { key } }",
            json!({}),
        ),
    ];
    for (what, query, variables) in writes {
        // Prime the cache, write, then the cached server must answer as the uncached one.
        ask(&app.router, &key, CATALOG, json!({})).await;
        mutate(query, variables).await;
        before = check(&app.router, &uncached, &key, before, what).await;
    }

    // A hand edit, a conflict, its resolution, a revocation, a cleanup: ids come from reads.
    let listing =
        "query($t: ID!) { target(id: $t) { properties(first: 5) { nodes { id externalId } } } }";
    let listings = app.data(&key, listing, json!({ "t": target })).await;
    let edited = listings["target"]["properties"]["nodes"][1]["id"].clone();
    let keys = app
        .data(
            &key,
            "{ viewer { apiKeys(first: 5) { nodes { id name } } } }",
            json!({}),
        )
        .await;
    let ci_key = keys["viewer"]["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ci")
        .unwrap()["id"]
        .clone();
    let writes: Vec<(&str, &str, Value)> = vec![
        (
            "a hand edit",
            "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { price: 1 } }) { targetProperty { id } } }",
            json!({ "id": edited }),
        ),
        (
            "a change under the edit",
            import,
            json!({ "s": source, "items": [{ "id": 2, "price": 210 }] }),
        ),
        (
            "the sync that flags the conflict",
            sync,
            json!({ "s": source, "t": target }),
        ),
        (
            "resolving it",
            "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: ACCEPT_SOURCE }) { targetProperty { id } } }",
            json!({ "id": edited }),
        ),
        (
            "revoking a key",
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
            json!({ "id": ci_key }),
        ),
        (
            "a cleanup",
            "mutation { cleanupSnapshots(input: { olderThanDays: 0 }) { sourceSnapshotsDeleted } }",
            json!({}),
        ),
        (
            "deleting a target",
            "mutation($t: ID!) { deleteTarget(input: { id: $t }) { deletedTargetId } }",
            json!({ "t": target }),
        ),
    ];
    for (what, query, variables) in writes {
        ask(&app.router, &key, CATALOG, json!({})).await;
        mutate(query, variables).await;
        before = check(&app.router, &uncached, &key, before, what).await;
    }

    // Another process (the CLI, another replica) writes through the domain, not this server.
    ask(&app.router, &key, CATALOG, json!({})).await;
    let scope = tenants::scope_for_cli(&app.db, "acme").await.unwrap();
    sources::create_source(
        &app.db,
        &scope,
        NewSource {
            name: "From the CLI".into(),
            kind: SourceKind::Json,
            active: true,
            config: json!({}),
        },
    )
    .await
    .unwrap();
    check(
        &app.router,
        &uncached,
        &key,
        before,
        "a write by another process",
    )
    .await;
}

/// The cached router answers `CATALOG` as the uncached one does, and differently from
/// `before` (the write showed); returns the new answer.
async fn check(cached: &Router, uncached: &Router, key: &str, before: Value, what: &str) -> Value {
    let (answer, status) = ask(cached, key, CATALOG, json!({})).await;
    let (fresh, _) = ask(uncached, key, CATALOG, json!({})).await;
    assert_eq!(
        answer, fresh,
        "after {what}, the cache ({status:?}) answered stale data"
    );
    assert_ne!(answer, before, "{what} changed nothing the query shows");
    answer
}
