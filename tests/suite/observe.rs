//! What an operator sees: request ids, one log line per request, domain work logged in spans,
//! no secrets in logs or `Debug`, and Prometheus metrics at `GET /metrics`.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Once};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use sync_manager::telemetry::{LogFormat, subscriber};

use crate::common::{TestApp, TestResponse, decode_id, test_config};
use crate::engine::Setup;

thread_local! {
    /// Where the log lines of this thread's test go, while it captures.
    static SINK: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
}

/// Log lines written while a test runs on this thread (`#[tokio::test]` runs every task of
/// the test on it, DataLoader batches included).
///
/// One process-wide subscriber writes to the capturing test's buffer: a thread-local
/// subscriber per test would race with other tests over `tracing`'s per-callsite interest.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

/// Stops capturing when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        SINK.with(|sink| *sink.borrow_mut() = None);
    }
}

impl Captured {
    /// Captures this thread's JSON log lines at INFO and above until the guard is dropped.
    fn start(&self) -> Capturing {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let _ = tracing::subscriber::set_global_default(subscriber(
                "info",
                LogFormat::Json,
                || Writer,
                false,
            ));
        });
        SINK.with(|sink| *sink.borrow_mut() = Some(self.0.clone()));
        Capturing
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Every line, parsed: the JSON format writes one object per line.
    fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    /// The request line of request `id`.
    fn request_line(&self, id: &str) -> Value {
        let lines: Vec<Value> = self
            .lines()
            .into_iter()
            .filter(|l| l["message"] == "request" && l["request_id"] == id)
            .collect();
        assert_eq!(lines.len(), 1, "one line for {id}: {}", self.text());
        lines[0].clone()
    }
}

/// Writes to the capturing test's buffer, if any.
struct Writer;

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|sink| {
            if let Some(sink) = &*sink.borrow() {
                sink.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// POSTs a GraphQL request with `headers`.
async fn post(app: &TestApp, headers: &[(&str, &str)], query: &str) -> TestResponse {
    post_named(app, headers, query, None).await
}

/// POSTs a GraphQL request with `headers` and an `operationName`.
async fn post_named(
    app: &TestApp,
    headers: &[(&str, &str)],
    query: &str,
    name: Option<&str>,
) -> TestResponse {
    let mut builder = Request::post("/graphql").header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let body = json!({ "query": query, "operationName": name }).to_string();
    app.send(builder.body(Body::from(body)).unwrap()).await
}

fn request_id(response: &TestResponse) -> String {
    response.headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn is_made_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn every_answer_carries_its_request_id() {
    let app = TestApp::spawn().await;

    // Made when the client sends none, and in every error of the answer.
    let response = post(&app, &[("x-api-key", "smk_unknown")], "{ viewer { name } }").await;
    let id = request_id(&response);
    assert!(is_made_id(&id), "{id}");
    assert_eq!(
        response.body["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(
        response.body["errors"][0]["extensions"]["requestId"],
        id.as_str()
    );

    // A client's sane id is kept; one that could break a log line or a header is replaced.
    let response = post(
        &app,
        &[("x-request-id", "trace-42.a:b")],
        "{ viewer { name } }",
    )
    .await;
    assert_eq!(request_id(&response), "trace-42.a:b");
    assert_eq!(
        response.body["errors"][0]["extensions"]["requestId"],
        "trace-42.a:b"
    );
    let long = "x".repeat(129);
    for bad in ["two words", long.as_str()] {
        let response = post(&app, &[("x-request-id", bad)], "{ viewer { name } }").await;
        assert!(is_made_id(&request_id(&response)), "{bad}");
    }

    // Answers the handler makes itself (here a 415) and other routes have one too.
    let response = app
        .send(
            Request::post("/graphql")
                .header("content-type", "text/plain")
                .body(Body::from("{ viewer { name } }"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        response.body["errors"][0]["extensions"]["requestId"],
        request_id(&response).as_str()
    );
    for path in ["/health", "/livez", "/no-such-page"] {
        let response = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert!(is_made_id(&request_id(&response)), "{path}");
    }
}

#[tokio::test]
async fn one_log_line_per_request_tells_what_it_did() {
    let mut config = test_config();
    config.response_cache_mb = 16;
    let app = TestApp::spawn_with(config).await;
    let (tenant, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let import = format!(
        "mutation Load {{ importProperties(input: {{ sourceId: \"{source}\", items: [{{ id: \"a1\", note: \"listing-data-marker\" }}] }}) {{ importRun {{ created }} }} }}"
    );
    let nested = "query Catalog { sources(first: 5) { nodes { name properties(first: 5) { totalCount nodes { externalId } } } } }";

    let captured = Captured::default();
    let guard = captured.start();
    let mutation = post(&app, &[("x-api-key", &key)], &import).await;
    assert_eq!(
        mutation.body["data"]["importProperties"]["importRun"]["created"],
        1
    );
    let before = app.statements.load(Ordering::SeqCst);
    let miss = post_named(&app, &[("x-api-key", &key)], nested, Some("Catalog")).await;
    let statements = app.statements.load(Ordering::SeqCst) - before;
    let hit = post_named(&app, &[("x-api-key", &key)], nested, Some("Catalog")).await;
    let failed = post(
        &app,
        &[("x-api-key", &key)],
        "{ source(id: \"U291cmNlOjk5OTk=\") { name } viewer { nope } }",
    )
    .await;
    drop(guard);

    let tenant_id = decode_id(&tenant).1;
    let line = captured.request_line(&request_id(&mutation));
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["operation_name"], "Load");
    assert_eq!(line["operation_type"], "mutation");
    assert_eq!(line["tenant"], tenant_id);
    assert_eq!(line["key_prefix"], &key[..12]);
    assert_eq!(line["status"], 200);
    assert_eq!(line["route"], "/graphql");
    assert_eq!(line.get("error_codes"), None);
    assert_eq!(line.get("cache"), None, "mutations are never cached");
    assert!(line["sql_statements"].as_u64().unwrap() > 0, "{line}");
    assert!(line["duration_ms"].as_f64().unwrap() > 0.0, "{line}");

    // The statements counted include those of DataLoader batches, run in tasks of their own.
    let line = captured.request_line(&request_id(&miss));
    assert_eq!(line["operation_name"], "Catalog");
    assert_eq!(line["operation_type"], "query");
    assert_eq!(line["cache"], "miss");
    assert_eq!(line["sql_statements"], statements);
    assert!(
        statements >= 3,
        "the key, the sources, their properties: {statements}"
    );
    let line = captured.request_line(&request_id(&hit));
    assert_eq!(line["operation_name"], "Catalog");
    assert_eq!(line["operation_type"], "query");
    assert_eq!(line["cache"], "hit");
    assert_eq!(line["sql_statements"], 1, "only the key is checked");

    let codes: Vec<&str> = failed.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    let line = captured.request_line(&request_id(&failed));
    assert_eq!(line["error_codes"], codes.join(","));
    assert_eq!(line["error_codes"], "BAD_USER_INPUT");

    // The import logged its counts and phases in its span.
    let imports: Vec<Value> = captured
        .lines()
        .into_iter()
        .filter(|l| l["message"] == "import committed")
        .collect();
    assert_eq!(imports.len(), 1, "{}", captured.text());
    let import = &imports[0];
    assert_eq!(import["created"], 1);
    assert_eq!(import["updated"], 0);
    assert_eq!(import["items"], 1);
    assert_eq!(import["span"]["name"], "import");
    assert_eq!(import["span"]["tenant"], tenant_id);
    assert_eq!(import["span"]["source"], decode_id(&source).1);
    assert_eq!(import["span"]["mode"], "incremental");
    for phase in [
        "check_ms",
        "load_ms",
        "write_ms",
        "finish_ms",
        "duration_ms",
    ] {
        assert!(import[phase].as_f64().is_some(), "{phase}: {import}");
    }

    // Neither the key nor listing data reached the log.
    let text = captured.text();
    assert!(!text.contains(&key), "{text}");
    assert!(!text.contains("listing-data-marker"), "{text}");
}

#[tokio::test]
async fn syncs_and_cleanups_log_their_counts() {
    let s = Setup::new().await;
    s.import(
        json!([{ "id": "a", "p": 1 }, { "id": "b", "p": 2 }]),
        "INCREMENTAL",
    )
    .await;
    let captured = Captured::default();
    let guard = captured.start();
    s.sync().await;
    s.import(json!([{ "id": "a", "p": 3 }]), "INCREMENTAL")
        .await;
    let cleanup = s
        .app
        .data(
            &s.key,
            "mutation { cleanupSnapshots(input: { olderThanDays: 0 }) { sourceSnapshotsDeleted } }",
            json!({}),
        )
        .await;
    drop(guard);
    assert_eq!(cleanup["cleanupSnapshots"]["sourceSnapshotsDeleted"], 1);

    let lines = captured.lines();
    let sync = lines
        .iter()
        .find(|l| l["message"] == "sync committed")
        .unwrap_or_else(|| panic!("{}", captured.text()));
    assert_eq!(sync["created"], 2);
    assert_eq!(sync["updated"], 0);
    assert_eq!(sync["new_conflicts"], 0);
    assert_eq!(sync["span"]["name"], "sync");
    assert_eq!(sync["span"]["target"], decode_id(&s.target).1);
    for phase in ["lock_ms", "count_ms", "write_ms", "duration_ms"] {
        assert!(sync[phase].as_f64().is_some(), "{phase}: {sync}");
    }
    let cleanup = lines
        .iter()
        .find(|l| l["message"] == "cleanup finished")
        .unwrap_or_else(|| panic!("{}", captured.text()));
    assert_eq!(cleanup["source_snapshots"], 1);
    assert_eq!(cleanup["target_snapshots"], 0);
    assert_eq!(cleanup["span"]["name"], "cleanup");
    assert_eq!(cleanup["span"]["older_than_days"], 0, "{cleanup}");
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    use clap::Parser as _;
    let cli = sync_manager::cli::Cli::try_parse_from([
        "sync-manager",
        "--database-url",
        "postgres://sync:hunter2@db.example:5432/sync",
        "serve",
        "--admin-token",
        "admin-hunter3",
    ])
    .unwrap();
    let debug = format!("{cli:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("admin-hunter3"), "{debug}");
    assert!(
        debug.contains("postgres://sync:***@db.example:5432/sync"),
        "{debug}"
    );

    let mut config = test_config();
    config.admin_token = Some("admin-hunter4".into());
    let debug = format!("{config:?}");
    assert!(!debug.contains("admin-hunter4"), "{debug}");
}

/// The metric samples of `text`, parsed as Prometheus does.
fn parse(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `name` with exactly `labels`.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let samples: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| {
            s.metric == name
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
        .collect();
    assert_eq!(samples.len(), 1, "{name} {labels:?}: {:?}", scrape.samples);
    match samples[0].value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        ref other => panic!("{name}: {other:?}"),
    }
}

/// Checks `text` with `promtool check metrics` when `PROMTOOL` names it (CI installs it).
fn promtool_check(text: &str) {
    let Some(promtool) = std::env::var_os("PROMTOOL").filter(|p| !p.is_empty()) else {
        eprintln!(
            "promtool check skipped: PROMTOOL is not set (install Debian's `prometheus` and set PROMTOOL=promtool)"
        );
        return;
    };
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {promtool:?}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

const EDIT: &str = "mutation($id: ID!, $patch: JSON!) { updateTargetProperty(input: { id: $id, patch: $patch }) { targetProperty { manuallyModified } } }";
const CLEANUP: &str = "mutation { cleanupSnapshots(input: { olderThanDays: 0 }) { sourceSnapshotsDeleted targetSnapshotsDeleted } }";

#[tokio::test]
async fn metrics_count_what_the_server_did() {
    let mut config = test_config();
    config.metrics = true;
    config.response_cache_mb = 16;
    let app = TestApp::spawn_with(config).await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    let s = Setup {
        app,
        key,
        source,
        target,
    };
    // Mutations: 3 above, then 2 imports, 2 syncs, 1 edit, 1 cleanup.
    s.import(
        json!([{ "id": "a", "p": 1 }, { "id": "b", "p": 2 }]),
        "INCREMENTAL",
    )
    .await;
    s.sync().await;
    let a = s.target_listing("a").await["id"]
        .as_str()
        .unwrap()
        .to_owned(); // a query: miss
    s.app
        .data(&s.key, EDIT, json!({ "id": a, "patch": { "p": 10 } }))
        .await;
    s.import(
        json!([{ "id": "a", "p": 5 }, { "id": "b", "p": 6 }]),
        "INCREMENTAL",
    )
    .await;
    let ([created, updated, _, conflicts, _], _) = s.sync().await;
    assert_eq!((created, updated, conflicts), (0, 1, 1));
    let cleanup = s.app.data(&s.key, CLEANUP, json!({})).await;
    let source_removed = cleanup["cleanupSnapshots"]["sourceSnapshotsDeleted"]
        .as_f64()
        .unwrap();
    let target_removed = cleanup["cleanupSnapshots"]["targetSnapshotsDeleted"]
        .as_f64()
        .unwrap();
    assert_eq!(source_removed, 2.0);
    // The same query twice with no write between: a miss, then a hit.
    s.app.data(&s.key, "{ viewer { name } }", json!({})).await;
    s.app.data(&s.key, "{ viewer { name } }", json!({})).await;
    // A refused key: an error, and no cache lookup.
    let refused = post(
        &s.app,
        &[("x-api-key", "smk_unknown")],
        "{ viewer { name } }",
    )
    .await;
    assert_eq!(refused.status, StatusCode::OK);

    let response = s
        .app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.body.as_str().unwrap().to_owned();
    let scrape = parse(&text);
    let m = |name: &str, labels: &[(&str, &str)]| value(&scrape, name, labels);

    let graphql = |operation, status| {
        [
            ("route", "/graphql"),
            ("operation", operation),
            ("status", status),
        ]
    };
    assert_eq!(
        m(
            "sync_manager_http_requests_total",
            &graphql("mutation", "200")
        ),
        9.0
    );
    assert_eq!(
        m("sync_manager_http_requests_total", &graphql("query", "200")),
        4.0
    );
    assert_eq!(
        m(
            "sync_manager_http_request_duration_seconds_count",
            &[("route", "/graphql"), ("operation", "mutation")]
        ),
        9.0
    );
    assert_eq!(
        m(
            "sync_manager_graphql_errors_total",
            &[("code", "UNAUTHENTICATED")]
        ),
        1.0
    );
    assert_eq!(m("sync_manager_rate_limited_requests_total", &[]), 0.0);

    let incremental = [("mode", "incremental"), ("dry_run", "false")];
    assert_eq!(m("sync_manager_imports_total", &incremental), 2.0);
    assert_eq!(m("sync_manager_import_duration_seconds_count", &[]), 2.0);
    for (outcome, n) in [
        ("created", 2.0),
        ("updated", 2.0),
        ("unchanged", 0.0),
        ("removed", 0.0),
    ] {
        assert_eq!(
            m(
                "sync_manager_import_listings_total",
                &[("outcome", outcome)]
            ),
            n,
            "{outcome}"
        );
    }
    assert_eq!(m("sync_manager_syncs_total", &[("dry_run", "false")]), 2.0);
    assert_eq!(m("sync_manager_sync_duration_seconds_count", &[]), 2.0);
    for (outcome, n) in [
        ("created", 2.0),
        ("updated", 1.0),
        ("skipped", 0.0),
        ("removed", 0.0),
        ("conflict", 1.0),
    ] {
        assert_eq!(
            m("sync_manager_sync_listings_total", &[("outcome", outcome)]),
            n,
            "{outcome}"
        );
    }
    assert_eq!(m("sync_manager_conflicts_raised_total", &[]), 1.0);
    assert_eq!(
        m(
            "sync_manager_snapshots_removed_total",
            &[("kind", "source")]
        ),
        source_removed
    );
    assert_eq!(
        m(
            "sync_manager_snapshots_removed_total",
            &[("kind", "target")]
        ),
        target_removed
    );

    assert_eq!(
        m(
            "sync_manager_response_cache_requests_total",
            &[("result", "hit")]
        ),
        1.0
    );
    assert_eq!(
        m(
            "sync_manager_response_cache_requests_total",
            &[("result", "miss")]
        ),
        2.0
    );
    assert_eq!(m("sync_manager_response_cache_entries", &[]), 2.0);
    assert!(m("sync_manager_response_cache_bytes", &[]) > 0.0);
    assert_eq!(
        m("sync_manager_response_cache_capacity_bytes", &[]),
        16.0 * 1024.0 * 1024.0
    );
    assert_eq!(m("sync_manager_response_cache_evictions_total", &[]), 0.0);

    let max = if s.app.database_url.starts_with("sqlite") {
        4.0
    } else {
        16.0
    };
    assert_eq!(m("sync_manager_db_pool_max_connections", &[]), max);
    let in_use = m("sync_manager_db_pool_connections", &[("state", "in_use")]);
    let idle = m("sync_manager_db_pool_connections", &[("state", "idle")]);
    assert!(
        in_use + idle >= 1.0 && in_use + idle <= max,
        "{in_use} + {idle}"
    );

    // Every metric is documented in the README.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in the README"
        );
    }

    promtool_check(&text);
}

#[tokio::test]
async fn metrics_are_off_unless_enabled() {
    let app = TestApp::spawn().await;
    let response = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}
