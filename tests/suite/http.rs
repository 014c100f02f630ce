//! The HTTP door over a real socket: `/health`, GraphiQL, and GraphQL over HTTP (media types,
//! status codes, content types, body limits, both ways of sending the API key).

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use sync_manager::http::{AppState, router};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::common::{TestApp, assert_bad_input, error_code, test_config};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// The real router of a [`TestApp`]'s database, served on a loopback port.
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    handle: JoinHandle<()>,
}

impl Server {
    pub(crate) async fn start(app: &TestApp, graphiql_key: Option<&str>) -> Self {
        let state = AppState::new(app.db.clone(), &app.config, graphiql_key);
        let router = router(state, &app.config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let handle = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        Self {
            base: format!("http://{address}"),
            client,
            handle,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A POST to `/graphql` with a JSON content type and the given extra headers.
    fn post(
        &self,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header(CONTENT_TYPE, APPLICATION_JSON);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Reply {
    async fn of(request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().expect("ASCII content type").to_owned())
            .unwrap_or_default();
        let text = response.text().await.expect("body");
        Self {
            status,
            content_type,
            text,
        }
    }

    /// The body, without its errors' request ids (random; `observe.rs` checks them).
    fn json(&self) -> Value {
        crate::common::without_request_ids(
            serde_json::from_str(&self.text)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text)),
        )
    }
}

fn query(text: &str) -> String {
    json!({ "query": text }).to_string()
}

#[tokio::test]
async fn health_reports_the_database_up() {
    let app = TestApp::spawn().await;
    let server = Server::start(&app, None).await;
    let reply = Reply::of(server.client.get(server.url("/health"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, APPLICATION_JSON);
    assert_eq!(reply.json(), json!({ "status": "ok", "database": "up" }));

    let reply = Reply::of(server.client.get(server.url("/nowhere"))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn get_graphql_serves_graphiql_with_the_demo_key() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Demo").await;

    let with_key = Server::start(&app, Some(&key)).await;
    let reply = Reply::of(
        with_key
            .client
            .get(with_key.url("/graphql"))
            .header(ACCEPT, "text/html"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.content_type.starts_with("text/html"),
        "{}",
        reply.content_type
    );
    assert!(reply.text.to_lowercase().contains("graphiql"));
    assert!(reply.text.contains("Sync Manager GraphiQL"));
    assert!(reply.text.contains(&key), "the key is in the page");
    assert!(reply.text.contains("X-API-Key"));

    let without = Server::start(&app, None).await;
    let reply = Reply::of(
        without
            .client
            .get(without.url("/graphql"))
            .header(ACCEPT, "text/html"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.to_lowercase().contains("graphiql"));
    assert!(!reply.text.contains(&key));
    assert!(!reply.text.contains("smk_"));
}

#[tokio::test]
async fn the_response_media_type_follows_the_accept_header() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    let expected = json!({ "data": { "viewer": { "slug": "acme" } } });

    for (accept, media) in [
        (None, APPLICATION_JSON),
        (Some(APPLICATION_JSON), APPLICATION_JSON),
        (Some("*/*"), APPLICATION_JSON),
        (Some("application/*"), APPLICATION_JSON),
        (Some(GRAPHQL_RESPONSE_JSON), GRAPHQL_RESPONSE_JSON),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            GRAPHQL_RESPONSE_JSON,
        ),
        (
            Some("application/graphql-response+json;q=0.5, application/json"),
            APPLICATION_JSON,
        ),
        (Some("text/html, application/json"), APPLICATION_JSON),
    ] {
        let mut headers = vec![("x-api-key", key.as_str())];
        if let Some(accept) = accept {
            headers.push(("accept", accept));
        }
        let reply = Reply::of(server.post(&headers, query("{ viewer { slug } }"))).await;
        assert_eq!(reply.status, StatusCode::OK, "Accept {accept:?}");
        assert_eq!(reply.content_type, media, "Accept {accept:?}");
        assert_eq!(reply.json(), expected, "Accept {accept:?}");
    }
}

#[tokio::test]
async fn a_request_error_is_a_400_without_data_in_graphql_response_json() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    let headers = [
        ("x-api-key", key.as_str()),
        ("accept", GRAPHQL_RESPONSE_JSON),
    ];

    // A syntax error, a validation error, and a variable of the wrong type.
    for body in [
        query("{ viewer { slug "),
        query("{ viewer { nope } }"),
        json!({ "query": "query($n: Int) { sources(first: $n) { totalCount } }", "variables": { "n": "x" } })
            .to_string(),
        json!({}).to_string(),
    ] {
        let reply = Reply::of(server.post(&headers, body.clone())).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.text);
        assert_eq!(reply.content_type, GRAPHQL_RESPONSE_JSON);
        let json = reply.json();
        assert!(json.get("data").is_none(), "no data key: {json}");
        assert_eq!(error_code(&json), "BAD_USER_INPUT");
        assert!(json["errors"][0]["message"].is_string());
    }
}

#[tokio::test]
async fn a_request_error_is_a_200_with_null_data_in_application_json() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    for accept in [APPLICATION_JSON, "*/*"] {
        let headers = [("x-api-key", key.as_str()), ("accept", accept)];
        for body in [query("{ viewer { slug "), query("{ viewer { nope } }")] {
            let reply = Reply::of(server.post(&headers, body.clone())).await;
            assert_eq!(reply.status, StatusCode::OK, "{body}");
            assert_eq!(reply.content_type, APPLICATION_JSON);
            let json = reply.json();
            assert_eq!(json.get("data"), Some(&Value::Null), "{json}");
            assert_eq!(error_code(&json), "BAD_USER_INPUT");
        }
    }
}

#[tokio::test]
async fn a_field_error_is_a_200_with_data_in_either_media_type() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    let missing = sync_manager::ids::encode_global("Source", 999_999);
    let body = json!({ "query": "query($id: ID!) { source(id: $id) { name } }", "variables": { "id": missing } })
        .to_string();
    for accept in [GRAPHQL_RESPONSE_JSON, APPLICATION_JSON] {
        let reply = Reply::of(server.post(
            &[("x-api-key", key.as_str()), ("accept", accept)],
            body.clone(),
        ))
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{accept}");
        assert_eq!(reply.content_type, accept);
        let json = reply.json();
        assert_eq!(json.get("data"), Some(&Value::Null), "{json}");
        assert_eq!(error_code(&json), "NOT_FOUND");
        assert_eq!(json["errors"][0]["path"], json!(["source"]));
    }

    // No key at all is a field error too: 200, UNAUTHENTICATED.
    let reply = Reply::of(server.post(
        &[("accept", GRAPHQL_RESPONSE_JSON)],
        query("{ viewer { slug } }"),
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json.get("data"), Some(&Value::Null), "{json}");
    assert_eq!(error_code(&json), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_post_needs_a_json_content_type() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    let url = server.url("/graphql");

    let reply = Reply::of(
        server
            .client
            .post(&url)
            .header("x-api-key", &key)
            .body(query("{ viewer { slug } }")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.content_type, APPLICATION_JSON);
    assert!(reply.json()["errors"][0]["message"].is_string());

    for content_type in [
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
    ] {
        let reply = Reply::of(
            server
                .client
                .post(&url)
                .header("x-api-key", &key)
                .header(CONTENT_TYPE, content_type)
                .header(ACCEPT, GRAPHQL_RESPONSE_JSON)
                .body(query("{ viewer { slug } }")),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        // The error itself comes in the media type asked for.
        assert_eq!(reply.content_type, GRAPHQL_RESPONSE_JSON);
    }

    // Parameters and case of the content type do not matter.
    for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
        let reply = Reply::of(
            server
                .client
                .post(&url)
                .header("x-api-key", &key)
                .header(CONTENT_TYPE, content_type)
                .body(query("{ viewer { slug } }")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{content_type}");
        assert_eq!(
            reply.json(),
            json!({ "data": { "viewer": { "slug": "acme" } } })
        );
    }
}

#[tokio::test]
async fn an_accept_header_allowing_neither_type_is_a_406() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    for accept in [
        "text/html",
        "application/xml, text/plain",
        "application/json;q=0",
    ] {
        let reply = Reply::of(server.post(
            &[("x-api-key", key.as_str()), ("accept", accept)],
            query("{ viewer { slug } }"),
        ))
        .await;
        assert_eq!(reply.status, StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert!(reply.json()["errors"][0]["message"].is_string());
    }
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_is_a_400() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    for accept in [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON] {
        for body in [
            "not json",
            "",
            "[1, 2]",
            r#"{"query": 5}"#,
            r#"{"query": "{ viewer { slug } }""#,
        ] {
            let reply =
                Reply::of(server.post(&[("x-api-key", key.as_str()), ("accept", accept)], body))
                    .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{accept} {body:?}");
            assert_eq!(reply.content_type, accept);
            let json = reply.json();
            assert!(json.get("data").is_none(), "{json}");
            assert!(json["errors"][0]["message"].is_string());
        }
    }
}

#[tokio::test]
async fn the_key_works_in_either_header() {
    let app = TestApp::spawn().await;
    let (id, key) = app.create_tenant("Acme Homes").await;
    let server = Server::start(&app, None).await;
    let expected = json!({ "data": { "viewer": { "id": id, "slug": "acme-homes" } } });
    let body = query("{ viewer { id slug } }");

    let reply = Reply::of(server.post(&[("x-api-key", key.as_str())], body.clone())).await;
    assert_eq!(reply.json(), expected);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let header = format!("{scheme} {key}");
        let reply = Reply::of(server.post(&[], body.clone()).header(AUTHORIZATION, header)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json(), expected, "{scheme}");
    }
    // A wrong key in either header is refused.
    let reply = Reply::of(
        server
            .post(&[], body.clone())
            .header(AUTHORIZATION, "Bearer smk_wrong"),
    )
    .await;
    assert_eq!(error_code(&reply.json()), "UNAUTHENTICATED");
    let reply = Reply::of(server.post(&[("x-api-key", "smk_wrong")], body.clone())).await;
    assert_eq!(error_code(&reply.json()), "UNAUTHENTICATED");
    // Another scheme is no key at all.
    let reply = Reply::of(
        server
            .post(&[], body)
            .header(AUTHORIZATION, format!("Basic {key}")),
    )
    .await;
    let json = reply.json();
    assert_eq!(error_code(&json), "UNAUTHENTICATED");
    assert!(
        json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("API key is required"),
        "{json}"
    );
}

#[tokio::test]
async fn mutations_work_over_the_socket() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    let body = json!({
        "query": "mutation($input: CreateSourceInput!) { createSource(input: $input) { source { name kind config } } }",
        "variables": { "input": { "name": "Feed", "kind": "SCRAPED", "config": { "id_field": "ref" } } },
    })
    .to_string();
    let reply = Reply::of(server.post(
        &[
            ("x-api-key", key.as_str()),
            ("accept", GRAPHQL_RESPONSE_JSON),
        ],
        body,
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({ "data": { "createSource": { "source": {
            "name": "Feed", "kind": "SCRAPED", "config": { "id_field": "ref" },
        } } } })
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let mut config = test_config();
    config.max_body_bytes = 1024;
    let app = TestApp::spawn_with(config).await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;

    let padding = " ".repeat(2000);
    let big = json!({ "query": format!("{{ viewer {{ slug }} }}{padding}") }).to_string();
    let reply = Reply::of(server.post(&[("x-api-key", key.as_str())], big)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.json(),
        json!({ "errors": [{
            "message": "the request body is larger than the server's limit of 1024 bytes",
            "extensions": { "code": "PAYLOAD_TOO_LARGE" },
        }] })
    );

    // Just under the limit is fine.
    let small = query("{ viewer { slug } }");
    assert!(small.len() < 1024);
    let reply = Reply::of(server.post(&[("x-api-key", key.as_str())], small)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({ "data": { "viewer": { "slug": "acme" } } })
    );
}

#[tokio::test]
async fn other_methods_are_not_allowed() {
    let app = TestApp::spawn().await;
    let server = Server::start(&app, None).await;
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let reply = Reply::of(
            server
                .client
                .request(method.clone(), server.url("/graphql")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    let reply = Reply::of(server.client.post(server.url("/health"))).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_batched_request_is_refused_as_unsupported() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    let batch = json!([{ "query": "{ viewer { slug } }" }, { "query": "{ viewer { name } }" }]);
    for accept in [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON] {
        let reply = Reply::of(server.post(
            &[("x-api-key", key.as_str()), ("accept", accept)],
            format!("  {batch}"),
        ))
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.content_type, accept);
        assert_eq!(
            reply.json(),
            json!({ "errors": [{
                "message": "batched requests (a JSON array) are not supported: send one GraphQL request, a JSON object, per POST",
                "extensions": { "code": "BAD_USER_INPUT" },
            }] })
        );
    }
}

#[tokio::test]
async fn a_wrong_enum_value_in_variables_names_the_variable() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let server = Server::start(&app, None).await;
    let send = |query: &str, variables: Value| {
        let body = json!({ "query": query, "variables": variables }).to_string();
        Reply::of(server.post(&[("x-api-key", key.as_str())], body))
    };
    let reply = send(
        "query($kind: SourceKind) { sources(kind: $kind) { totalCount } }",
        json!({ "kind": "NOPE" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({ "data": null, "errors": [{
            "message": "Invalid value for argument \"kind\", enumeration type \"SourceKind\" does not contain the value \"NOPE\"",
            "locations": [{ "line": 1, "column": 36 }],
            "extensions": { "code": "BAD_USER_INPUT", "field": "$kind" },
        }] })
    );
    // Inside an input object variable, and inside a list variable of an input literal.
    let reply = send(
        "mutation($input: ImportPropertiesInput!) { importProperties(input: $input) { importRun { created } } }",
        json!({ "input": { "sourceId": "x", "items": [], "mode": "EVERYTHING" } }),
    )
    .await;
    assert_bad_input(&reply.json(), "$input.mode");
    let reply = send(
        "mutation($scopes: [ApiKeyScope!]!) { createApiKey(input: { name: \"k\", scopes: $scopes }) { key } }",
        json!({ "scopes": ["READ", "ROOT"] }),
    )
    .await;
    assert_bad_input(&reply.json(), "$scopes[1]");
    // A wrong value written in the query names the argument.
    let reply = send(
        "mutation { createApiKey(input: { name: \"k\", scopes: [READ, ROOT] }) { key } }",
        json!({}),
    )
    .await;
    assert_bad_input(&reply.json(), "input.scopes[1]");
}
