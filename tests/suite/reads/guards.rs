//! Each guard trips with its code.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::common::{TestApp, error_code, test_config};

/// The one error of a response, whole.
fn only_error(body: &serde_json::Value) -> serde_json::Value {
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    crate::common::without_request_ids(body["errors"][0].clone())
}

#[tokio::test]
async fn a_query_nested_too_deep_is_refused_with_its_depth_and_the_limit() {
    let mut config = test_config();
    config.max_depth = 4;
    let app = TestApp::spawn_with(config).await;
    let (_, key) = app.create_tenant("Acme").await;
    // Six levels of fields, measured on the text before parsing.
    let body = app
        .graphql(
            &key,
            "{ sources { edges { node { properties { nodes { externalId } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], json!(null));
    assert_eq!(
        only_error(&body),
        json!({
            "message": "Query is nested too deep: its fields nest 6 levels, more than the limit of 4.",
            "extensions": { "code": "QUERY_TOO_DEEP", "depth": 6, "maxDepth": 4 },
        })
    );
    // Five levels through a fragment (four on the text): measured as async-graphql counts.
    let body = app
        .graphql(
            &key,
            "{ sources { ...Page } } fragment Page on SourceConnection { edges { node { properties { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        only_error(&body),
        json!({
            "message": "Query is nested too deep: its fields nest 5 levels, more than the limit of 4.",
            "extensions": { "code": "QUERY_TOO_DEEP", "depth": 5, "maxDepth": 4 },
        })
    );
    // Inline fragments add no level: four levels pass.
    let body = app
        .data(
            &key,
            "{ sources { edges { ... on SourceEdge { node { ... on Source { name } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["sources"]["edges"], json!([]));
    assert_eq!(
        app.data(&key, "{ sources { totalCount } }", json!({}))
            .await["sources"]["totalCount"],
        0
    );
}

#[tokio::test]
async fn a_query_deeper_than_the_parser_goes_is_too_deep_not_bad_input() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    // 40 levels: past async-graphql's recursion limit of 32, which used to answer first with
    // BAD_USER_INPUT.
    let query = format!("{{ {}id{} }}", "viewer { ".repeat(40), " }".repeat(40));
    let body = app.graphql(&key, &query, json!({})).await;
    assert_eq!(
        only_error(&body),
        json!({
            "message": "Query is nested too deep: its fields nest 41 levels, more than the limit of 16.",
            "extensions": { "code": "QUERY_TOO_DEEP", "depth": 41, "maxDepth": 16 },
        })
    );
    // Through named fragments the text shows a lower bound.
    let query = format!(
        "{{ viewer {{ ...Deep }} }} fragment Deep on Tenant {{ {}id{} }}",
        "a { ".repeat(20),
        " }".repeat(20)
    );
    let body = app.graphql(&key, &query, json!({})).await;
    assert_eq!(
        only_error(&body)["message"],
        "Query is nested too deep: its fields nest at least 21 levels, more than the limit of 16."
    );
    assert_eq!(error_code(&body), "QUERY_TOO_DEEP");
}

#[tokio::test]
async fn nesting_through_inline_fragments_past_the_recursion_limit_is_too_deep() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    // Two levels of fields, but 35 inline fragments: past async-graphql's recursion limit.
    let query = format!(
        "{{ viewer {{ {}name{} }} }}",
        "... on Tenant { ".repeat(35),
        " }".repeat(35)
    );
    let body = app.graphql(&key, &query, json!({})).await;
    assert_eq!(body["data"], json!(null));
    assert_eq!(error_code(&body), "QUERY_TOO_DEEP");
    assert_eq!(
        only_error(&body)["message"],
        "The recursion depth of the query cannot be greater than `32`"
    );
}

#[tokio::test]
async fn a_query_too_complex_is_refused_with_its_cost_and_the_limit() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    // 500 sources x 500 listings x 500 snapshots x 2 fields is far past the default limit:
    // 1 + 500 x (1 + 1 + 500 x (1 + 1 + 500 x (1 + 2))).
    let body = app
        .graphql(
            &key,
            "{ sources(first: 500) { nodes { properties(first: 500) { nodes { snapshots(first: 500) { nodes { id reason } } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], json!(null));
    assert_eq!(
        only_error(&body),
        json!({
            "message": "Query is too complex: it costs 375501001, more than the limit of 250000. Each field costs 1, and a connection costs 1 plus the cost of what it selects times its page size (`first` or `last`, else 100).",
            "extensions": { "code": "QUERY_TOO_COMPLEX", "complexity": 375501001, "maxComplexity": 250000 },
        })
    );
}

#[tokio::test]
async fn a_query_too_complex_names_the_connections_without_first_or_last() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    // 1 + 30 sources x (1 + 1 + 100 listings x (1 + (1 + 100 x 2) + (1 + 2 x 2))): `$n`
    // counts as given.
    let body = app
        .graphql(
            &key,
            "query($n: Int) { sources(first: $n) { nodes { ...Listings } } } fragment Listings on Source { properties { nodes { snapshots { nodes { id } } history: snapshots(last: 2) { nodes { id } } } } }",
            json!({ "n": 30 }),
        )
        .await;
    assert_eq!(
        only_error(&body),
        json!({
            "message": "Query is too complex: it costs 621061, more than the limit of 250000. Each field costs 1, and a connection costs 1 plus the cost of what it selects times its page size (`first` or `last`, else 100). Without `first` or `last`, `sources.nodes.properties`, `sources.nodes.properties.nodes.snapshots` count as a page of 100: add `first` with the number of items you need.",
            "extensions": { "code": "QUERY_TOO_COMPLEX", "complexity": 621061, "maxComplexity": 250000 },
        })
    );
    // With `first` on them, the same selection passes.
    let body = app
        .data(
            &key,
            "query($n: Int) { sources(first: $n) { nodes { ...Listings } } } fragment Listings on Source { properties(first: 10) { nodes { snapshots(first: 5) { nodes { id } } history: snapshots(last: 2) { nodes { id } } } } }",
            json!({ "n": 30 }),
        )
        .await;
    assert_eq!(body["sources"]["nodes"], json!([]));
}

#[tokio::test]
async fn a_body_too_large_and_a_slow_request_get_coded_errors() {
    let mut config = test_config();
    config.max_body_bytes = 1_000;
    let app = TestApp::spawn_with(config).await;
    let big =
        json!({ "query": format!("{{ viewer {{ name }} }} #{}", "x".repeat(2_000)) }).to_string();
    let response = app
        .send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(error_code(&response.body), "PAYLOAD_TOO_LARGE");

    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let items: Vec<_> = (0..3000)
        .map(|i| json!({ "id": i, "text": "x".repeat(200) }))
        .collect();
    let request = json!({
        "query": "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        "variables": { "s": source, "items": items },
    });
    // The same database behind a server that allows 1 ms a request.
    let mut config = test_config();
    config.request_timeout_ms = 1;
    let hurried = sync_manager::http::router(
        sync_manager::http::AppState::new(app.db.clone(), &config, None),
        &config,
    );
    let response = hurried
        .oneshot(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("x-api-key", &key)
                .body(Body::from(request.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(error_code(&body), "TIMEOUT");
    // Nothing of the stopped import remains.
    let count = app
        .data(
            &key,
            "query($s: ID!) { source(id: $s) { properties { totalCount } } }",
            json!({ "s": source }),
        )
        .await;
    assert_eq!(count["source"]["properties"]["totalCount"], 0);
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let query = "{ __schema { queryType { name } } }";
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    assert_eq!(
        app.data(&key, query, json!({})).await["__schema"]["queryType"]["name"],
        "Query"
    );

    let mut config = test_config();
    config.introspection = false;
    let app = TestApp::spawn_with(config).await;
    let (_, key) = app.create_tenant("Acme").await;
    let body = app.graphql(&key, query, json!({})).await;
    assert_eq!(body["data"]["__schema"], json!(null), "{body}");
    assert_eq!(
        app.data(&key, "{ viewer { slug } }", json!({})).await["viewer"]["slug"],
        "acme"
    );
}

#[tokio::test]
async fn cors_answers_configured_origins_only() {
    let mut config = test_config();
    config.cors_origins = vec!["https://app.example".into()];
    let app = TestApp::spawn_with(config).await;
    let preflight = |origin: &str| {
        Request::options("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-api-key")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = app.send(preflight("https://app.example")).await;
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://app.example"
    );
    let other = app.send(preflight("https://evil.example")).await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn automatic_persisted_queries_run_by_hash() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let query = "{ viewer { slug } }";
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let send = |body: serde_json::Value| {
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("x-api-key", &key)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let unknown = app.send(send(json!({ "extensions": extensions }))).await;
    assert_eq!(error_code(&unknown.body), "PERSISTED_QUERY_NOT_FOUND");
    let registered = app
        .send(send(json!({ "query": query, "extensions": extensions })))
        .await;
    assert_eq!(registered.body["data"]["viewer"]["slug"], "acme");
    let by_hash = app.send(send(json!({ "extensions": extensions }))).await;
    assert_eq!(by_hash.body["data"]["viewer"]["slug"], "acme");
}
