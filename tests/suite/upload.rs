//! `POST /sources/{id}/import` over a real socket: NDJSON and JSON-array bodies, errors that
//! name the line and write nothing, the keys `/graphql` takes and refuses, content types, the
//! upload limit (declared and streamed), `FULL` removals and the mass-removal guard, dry runs.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{TestApp, error_code, error_field, test_config};
use crate::http::Server;

const NDJSON: &str = "application/x-ndjson";
const JSON: &str = "application/json";

/// A tenant with a source, served over a real socket.
struct Upload {
    app: TestApp,
    server: Server,
    key: String,
    source: String,
}

impl Upload {
    async fn start(app: TestApp) -> Self {
        let (_, key) = app.create_tenant("Uploads").await;
        let source = app.create_source(&key, "Nightly").await;
        let server = Server::start(&app, None).await;
        Self {
            app,
            server,
            key,
            source,
        }
    }

    /// Posts `body` as `content_type` to the source's upload with `query`, with `key`.
    async fn post_as(
        &self,
        key: Option<&str>,
        source: &str,
        query: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .server
            .client
            .post(self.server.url(&format!("/sources/{source}/import{query}")))
            .header(CONTENT_TYPE, content_type)
            .body(body);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        (status, body)
    }

    /// Posts with the tenant's key to its source.
    async fn post(&self, query: &str, content_type: &str, body: &str) -> (StatusCode, Value) {
        self.post_as(
            Some(&self.key),
            &self.source,
            query,
            content_type,
            body.to_owned(),
        )
        .await
    }

    /// The source's listings, as `(externalId, removed)` sorted by id.
    async fn listings(&self) -> Vec<(String, bool)> {
        let data = self
            .app
            .data(
                &self.key,
                "query($id: ID!) { source(id: $id) { properties(first: 100) { nodes { externalId removedAt } } } }",
                json!({ "id": self.source }),
            )
            .await;
        let mut listings: Vec<(String, bool)> = data["source"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["externalId"].as_str().unwrap().to_owned(),
                    !n["removedAt"].is_null(),
                )
            })
            .collect();
        listings.sort();
        listings
    }
}

/// The counts of an answer's import run: created, updated, unchanged, removed.
fn counts(body: &Value) -> [i64; 4] {
    let run = &body["importRun"];
    ["created", "updated", "unchanged", "removed"].map(|n| run[n].as_i64().unwrap())
}

fn ndjson(ids: impl IntoIterator<Item = usize>) -> String {
    ids.into_iter()
        .map(|i| format!("{{\"id\":\"l{i}\",\"price\":{i}}}\n"))
        .collect()
}

#[tokio::test]
async fn ndjson_and_json_array_bodies_import_into_one_run() {
    let up = Upload::start(TestApp::spawn().await).await;
    let body = "{\"id\":\"a\",\"price\":1}\n\n{\"id\":\"b\",\"price\":2}\r\n";
    let (status, answer) = up.post("", NDJSON, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), [2, 0, 0, 0]);
    assert_eq!(answer["listings"], 2);
    assert_eq!(answer["importRun"]["sourceId"], up.source.as_str());
    assert_eq!(answer["importRun"]["mode"], "INCREMENTAL");
    assert_eq!(answer["importRun"]["dryRun"], false);

    // A JSON array, to the source's numeric id: one unchanged, one changed, one new.
    let (_, raw_id) = crate::common::decode_id(&up.source);
    let array = r#"[{"id":"a","price":1},{"id":"b","price":3},{"id":"c","price":4}]"#;
    let (status, answer) = up
        .post_as(Some(&up.key), &raw_id.to_string(), "", JSON, array)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), [1, 1, 1, 0]);
    assert_eq!(answer["listings"], 3);
    assert_eq!(
        up.listings().await,
        [
            ("a".into(), false),
            ("b".into(), false),
            ("c".into(), false)
        ]
    );
}

#[tokio::test]
async fn a_bad_item_is_named_by_its_line_and_nothing_is_written() {
    let up = Upload::start(TestApp::spawn().await).await;
    let body = format!(
        "{}\n{{\"id\": \"x\", oops}}\n{}",
        ndjson(0..3),
        ndjson(3..5)
    );
    let (status, answer) = up.post("", NDJSON, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(error_code(&answer), "BAD_USER_INPUT");
    assert_eq!(error_field(&answer), "line 5");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid line 5: is not valid JSON: "),
        "{answer}"
    );
    let (status, answer) = up
        .post("", JSON, r#"[{"id":"a"},{"id":"b"},{"name":"no id"}]"#)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["errors"][0]["message"],
        "invalid item 2: has no `id` field"
    );
    assert_eq!(error_field(&answer), "item 2");
    let (_, answer) = up.post("", NDJSON, "{\"id\":1}\n{\"id\":1}\n").await;
    assert_eq!(
        answer["errors"][0]["message"],
        "invalid line 2: repeats id `1` of line 1 in the same batch"
    );
    assert_eq!(up.listings().await, []);
}

#[tokio::test]
async fn keys_are_checked_as_graphql_checks_them() {
    let up = Upload::start(TestApp::spawn().await).await;
    let body = ndjson(0..2);
    let source = up.source.clone();
    let (status, answer) = up.post_as(None, &source, "", NDJSON, body.clone()).await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
    );
    let bad = Some("sm_not_a_real_key");
    let (status, answer) = up.post_as(bad, &source, "", NDJSON, body.clone()).await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
    );

    let make_key = |input: String| {
        let app = &up.app;
        let key = &up.key;
        async move {
            let data = app
                .data(
                    key,
                    &format!(
                        r#"mutation {{ createApiKey(input: {{ name: "k", {input} }}) {{ key }} }}"#
                    ),
                    json!({}),
                )
                .await;
            data["createApiKey"]["key"].as_str().unwrap().to_owned()
        }
    };
    let read_only = make_key("scopes: [READ]".into()).await;
    let (status, answer) = up
        .post_as(Some(&read_only), &source, "", NDJSON, body.clone())
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::FORBIDDEN, "FORBIDDEN")
    );

    let other = up.app.create_source(&up.key, "Other").await;
    let limited = make_key(format!(r#"scopes: [IMPORT], sourceIds: ["{other}"]"#)).await;
    let (status, answer) = up
        .post_as(Some(&limited), &source, "", NDJSON, body.clone())
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, _) = up
        .post_as(Some(&limited), &other, "", NDJSON, body.clone())
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, stranger) = up.app.create_tenant("Someone else").await;
    let (status, answer) = up
        .post_as(Some(&stranger), &source, "", NDJSON, body.clone())
        .await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    assert_eq!(up.listings().await, []);
}

#[tokio::test]
async fn content_types_parameters_and_idempotency_keys_are_checked() {
    let up = Upload::start(TestApp::spawn().await).await;
    let body = ndjson(0..1);
    let (status, answer) = up.post("", "text/plain", &body).await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
    );
    let (status, answer) = up.post("?mode=SOMETIMES", NDJSON, &body).await;
    assert_eq!(
        (status, error_field(&answer)),
        (StatusCode::BAD_REQUEST, "mode")
    );
    let (status, answer) = up.post("?dry_run=true", NDJSON, &body).await;
    assert_eq!(
        (status, error_field(&answer)),
        (StatusCode::BAD_REQUEST, "dry_run")
    );
    let (status, answer) = up
        .post_as(Some(&up.key), "nope", "", NDJSON, body.clone())
        .await;
    assert_eq!(
        (status, error_field(&answer)),
        (StatusCode::BAD_REQUEST, "sourceId")
    );
    let response = up
        .server
        .client
        .post(up.server.url(&format!("/sources/{}/import", up.source)))
        .header(CONTENT_TYPE, NDJSON)
        .header("x-api-key", &up.key)
        .header("idempotency-key", "k-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(error_field(&answer), "Idempotency-Key");
    assert_eq!(up.listings().await, []);
}

#[tokio::test]
async fn a_body_over_the_upload_limit_is_refused_and_writes_nothing() {
    let mut config = test_config();
    config.max_upload_bytes = 1_000;
    let up = Upload::start(TestApp::spawn_with(config).await).await;
    let body = ndjson(0..100);
    assert!(body.len() > 1_000);
    let (status, answer) = up.post("", NDJSON, &body).await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
    );

    // Sent in chunks, without a declared length: refused once the limit is passed.
    let address = up.server.base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /sources/{}/import HTTP/1.1\r\nHost: {address}\r\nContent-Type: {NDJSON}\r\n\
         X-API-Key: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        up.source, up.key
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    for line in body.lines() {
        let chunk = format!("{line}\n");
        let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        if socket.write_all(framed.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(answer.contains("\"PAYLOAD_TOO_LARGE\""), "{answer}");
    assert_eq!(up.listings().await, []);

    let (status, answer) = up.post("", NDJSON, &ndjson(0..3)).await;
    assert_eq!((status, counts(&answer)), (StatusCode::OK, [3, 0, 0, 0]));
}

#[tokio::test]
async fn full_uploads_remove_what_they_lack_within_the_mass_removal_guard() {
    let up = Upload::start(TestApp::spawn().await).await;
    let (status, _) = up.post("", NDJSON, &ndjson(0..10)).await;
    assert_eq!(status, StatusCode::OK);

    // A dry run counts and writes nothing.
    let (status, answer) = up
        .post("?mode=FULL&dryRun=true", NDJSON, &ndjson(0..9))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["importRun"]["dryRun"], true);
    assert_eq!(answer["importRun"]["wouldRemove"], 1);
    assert!(up.listings().await.iter().all(|(_, removed)| !removed));

    let (status, answer) = up.post("?mode=FULL", NDJSON, &ndjson(0..9)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), [0, 0, 9, 1]);
    assert_eq!(answer["importRun"]["mode"], "FULL");
    assert_eq!(up.listings().await[9], ("l9".into(), true));

    // Removing 7 of 9 passes the default guard of 20 %.
    let (status, answer) = up.post("?mode=full", NDJSON, &ndjson(0..2)).await;
    assert_eq!(
        (status, error_code(&answer)),
        (StatusCode::CONFLICT, "MASS_REMOVAL")
    );
    assert_eq!(answer["errors"][0]["extensions"]["wouldRemove"], 7);
    assert_eq!(up.listings().await.iter().filter(|l| l.1).count(), 1);

    let query = "?mode=FULL&allowMassRemoval=true";
    let (status, answer) = up.post(query, NDJSON, &ndjson(0..2)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), [0, 0, 2, 7]);
    assert_eq!(up.listings().await.iter().filter(|l| l.1).count(), 8);
}
