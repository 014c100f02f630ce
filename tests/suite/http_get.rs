//! GraphQL over HTTP with `GET /graphql`: queries from the URL's parameters through the same
//! path as a POST (auth, limits, persisted queries, the response cache), `405` for mutations,
//! `400` for bad parameters, `Cache-Control: private, no-store`; and GraphiQL's page, files
//! and licences for a browser.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{TestApp, TestResponse, error_code, test_config, without_request_ids};

/// `GET /graphql` with these URL parameters (encoded here) and headers.
async fn get(app: &TestApp, params: &[(&str, &str)], headers: &[(&str, &str)]) -> TestResponse {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut request = Request::get(format!("/graphql?{query}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

fn assert_private(response: &TestResponse) {
    assert_eq!(
        response.headers[header::CACHE_CONTROL],
        "private, no-store",
        "{}",
        response.body
    );
}

/// How many sources the tenant of `key` has, asked over POST.
async fn source_count(app: &TestApp, key: &str) -> u64 {
    let data = app
        .data(key, "{ sources(first: 1) { totalCount } }", json!({}))
        .await;
    data["sources"]["totalCount"].as_u64().unwrap()
}

#[tokio::test]
async fn a_get_runs_a_query_as_a_post_does() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    app.create_source(&key, "Scraper").await;
    let query = "query Names($n: Int) { viewer { slug } sources(first: $n) { nodes { name } } }
                 query Other { viewer { name } }";
    let variables = json!({ "n": 5 });
    let response = get(
        &app,
        &[
            ("query", query),
            ("variables", &variables.to_string()),
            ("operationName", "Names"),
        ],
        &[("x-api-key", &key)],
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_private(&response);
    assert_eq!(
        response.headers[header::CONTENT_TYPE],
        "application/json",
        "as a POST without Accept"
    );
    let expected = json!({ "data": { "viewer": { "slug": "acme" }, "sources": { "nodes": [{ "name": "Scraper" }] } } });
    assert_eq!(response.body, expected);
    let posted = app
        .graphql_with(Some(&key), &[], query, variables.clone())
        .await;
    assert!(posted["errors"].is_array(), "two operations need a name");

    // The key may come as a bearer token too; the media type follows Accept.
    let response = get(
        &app,
        &[("query", "{ viewer { name } }")],
        &[
            ("authorization", &format!("Bearer {key}")),
            ("accept", "application/graphql-response+json"),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.headers[header::CONTENT_TYPE],
        "application/graphql-response+json"
    );
    assert_eq!(
        response.body,
        json!({ "data": { "viewer": { "name": "Acme" } } })
    );
}

#[tokio::test]
async fn a_get_is_authenticated_and_limited_as_a_post_is() {
    let app = TestApp::spawn().await;
    let response = get(&app, &[("query", "{ viewer { name } }")], &[]).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_private(&response);
    assert_eq!(error_code(&response.body), "UNAUTHENTICATED");

    let (_, key) = app.create_tenant("Acme").await;
    // Deeper than the test configuration's 16 levels.
    let too_deep = format!(
        "{{ __schema {{ types {{ fields {{ type {} {{ name }} {} }} }} }} }}",
        "{ ofType ".repeat(20),
        "}".repeat(20)
    );
    let response = get(
        &app,
        &[("query", &too_deep)],
        &[
            ("x-api-key", &key),
            ("accept", "application/graphql-response+json"),
        ],
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
    assert_private(&response);
    assert_eq!(error_code(&response.body), "QUERY_TOO_DEEP");
    assert!(response.body.get("data").is_none());

    // A query that does not parse: a request error, as over POST.
    let response = get(
        &app,
        &[("query", "{ viewer { name }")],
        &[
            ("x-api-key", &key),
            ("accept", "application/graphql-response+json"),
        ],
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&response.body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_mutation_over_get_is_405_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let mutation = r#"mutation { createSource(input: { name: "Sneaky", kind: SCRAPED, config: {} }) { source { id } } }"#;
    let response = get(&app, &[("query", mutation)], &[("x-api-key", &key)]).await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers[header::ALLOW], "POST");
    assert_private(&response);
    assert_eq!(
        without_request_ids(response.body),
        json!({ "errors": [{
            "message": "a mutation cannot be sent with GET, which runs only queries: send it with POST",
            "extensions": { "code": "METHOD_NOT_ALLOWED" }
        }] })
    );
    // The operation picked by name counts, not the first in the document.
    let response = get(
        &app,
        &[
            (
                "query",
                &format!(
                    "query Q {{ viewer {{ name }} }} {}",
                    mutation.replacen("mutation", "mutation M", 1)
                ),
            ),
            ("operationName", "M"),
        ],
        &[("x-api-key", &key)],
    )
    .await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(source_count(&app, &key).await, 0, "nothing was written");
}

#[tokio::test]
async fn bad_parameters_are_a_400_naming_them() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("query", "{ viewer { name } }"), ("variables", "{not json")],
            "the `variables` parameter is not valid JSON",
        ),
        (
            &[("query", "{ viewer { name } }"), ("variables", "[1]")],
            "the `variables` parameter must be a JSON object",
        ),
        (
            &[("query", "{ viewer { name } }"), ("extensions", "{\"a\":")],
            "the `extensions` parameter is not valid JSON",
        ),
        (
            &[
                ("query", "{ viewer { name } }"),
                ("query", "{ viewer { slug } }"),
            ],
            "the `query` parameter is given more than once",
        ),
        (&[], "a GET /graphql request needs a `query` parameter"),
    ];
    for (params, message) in cases {
        let response = get(
            &app,
            params,
            &[("x-api-key", &key), ("accept", "application/json")],
        )
        .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{params:?}");
        assert_private(&response);
        assert_eq!(error_code(&response.body), "BAD_USER_INPUT", "{params:?}");
        let got = response.body["errors"][0]["message"].as_str().unwrap();
        assert!(got.starts_with(message), "{params:?}: {got}");
    }
}

#[tokio::test]
async fn persisted_queries_work_over_get() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let query = "{ viewer { slug } }";
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let headers = [("x-api-key", key.as_str())];

    let unknown = get(&app, &[("extensions", &extensions)], &headers).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_private(&unknown);
    assert_eq!(error_code(&unknown.body), "PERSISTED_QUERY_NOT_FOUND");

    let registered = get(
        &app,
        &[("query", query), ("extensions", &extensions)],
        &headers,
    )
    .await;
    assert_eq!(
        registered.body,
        json!({ "data": { "viewer": { "slug": "acme" } } })
    );

    let by_hash = get(&app, &[("extensions", &extensions)], &headers).await;
    assert_eq!(by_hash.status, StatusCode::OK);
    assert_private(&by_hash);
    assert_eq!(
        by_hash.body,
        json!({ "data": { "viewer": { "slug": "acme" } } })
    );

    let wrong =
        json!({ "persistedQuery": { "version": 1, "sha256Hash": "00".repeat(32) } }).to_string();
    let mismatch = get(&app, &[("query", query), ("extensions", &wrong)], &headers).await;
    assert_eq!(error_code(&mismatch.body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_response_cache_answers_repeated_gets() {
    let mut config = test_config();
    config.response_cache_mb = 8;
    let app = TestApp::spawn_with(config).await;
    let (_, key) = app.create_tenant("Acme").await;
    let params = [("query", "{ viewer { name } }")];
    app.create_source(&key, "Feed").await;
    let first = get(&app, &params, &[("x-api-key", &key)]).await;
    assert_eq!(first.headers["x-cache"], "MISS");
    let second = get(&app, &params, &[("x-api-key", &key)]).await;
    assert_eq!(second.headers["x-cache"], "HIT");
    assert_private(&second);
    assert_eq!(second.body, first.body);
    assert_eq!(
        second.body,
        json!({ "data": { "viewer": { "name": "Acme" } } })
    );
}

#[tokio::test]
async fn a_browser_gets_graphiql_without_a_key_and_its_files() {
    let app = TestApp::spawn().await;
    let html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let page = get(&app, &[], &[("accept", html), ("host", "127.0.0.1:8000")]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    let Value::String(text) = &page.body else {
        panic!("an HTML page: {}", page.body);
    };
    assert!(!text.contains("smk_"), "no key without --demo");
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    if text.contains("GraphiQL is not in this build") {
        eprintln!(
            "GraphiQL's files are not in this build (no npm when it was built): checking the page that says how to get them"
        );
        assert!(text.contains("npm ci"));
        assert!(csp.starts_with("default-src 'none'"));
        return;
    }
    assert_eq!(
        csp,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         font-src 'self' data:; img-src 'self' data:; \
         connect-src 'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    );
    assert!(
        text.contains(r#"\"X-API-Key\": \"\""#),
        "an empty key in the headers"
    );
    assert!(text.contains("Put your API key in the <b>Headers</b> tab"));
    assert!(!text.contains("<script>"), "no inline script");
    assert!(text.contains(r#"<a href="/graphiql/licenses.txt">"#));

    let paths: Vec<&str> = text
        .split(['"'])
        .filter(|part| part.starts_with("/graphiql/") && part.len() > "/graphiql/".len() + 17)
        .collect();
    let names: Vec<&str> = paths
        .iter()
        .map(|p| p.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "graphiql.min.css",
            "page.css",
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "graphql-ws.min.js",
            "page.js"
        ]
    );
    for path in paths {
        let response = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(
            response.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable",
            "{path}"
        );
        let content_type = if path.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(
            response.headers[header::CONTENT_TYPE],
            content_type,
            "{path}"
        );
        let hash = path.split('/').nth(2).unwrap();
        let Value::String(body) = &response.body else {
            panic!("{path}")
        };
        assert_eq!(
            hex::encode(&Sha256::digest(body.as_bytes())[..8]),
            hash,
            "{path}: the path names its content"
        );
    }
    let stale = app
        .send(
            Request::get("/graphiql/0000000000000000/graphiql.min.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);

    let licenses = app
        .send(
            Request::get("/graphiql/licenses.txt")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(licenses.status, StatusCode::OK);
    let Value::String(licenses) = &licenses.body else {
        panic!("text")
    };
    for package in [
        "graphiql 4.1.2 (MIT)",
        "react 18.3.1 (MIT)",
        "react-dom 18.3.1 (MIT)",
        "graphql-ws 6.0.6 (MIT)",
    ] {
        assert!(licenses.contains(package), "{package} in the licences");
    }
    assert!(licenses.contains("Permission is hereby granted, free of charge"));

    // With a `query` parameter, a browser gets the answer, not the page.
    let (_, key) = app.create_tenant("Acme").await;
    let answer = get(
        &app,
        &[("query", "{ viewer { slug } }")],
        &[("accept", html), ("x-api-key", &key)],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({ "data": { "viewer": { "slug": "acme" } } })
    );
}
