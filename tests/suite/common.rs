//! `TestApp`: a migrated database of its own and the real HTTP router over it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use sync_manager::config::ServerConfig;
use sync_manager::{db, http};
use tower::ServiceExt;

/// The admin token every test server accepts.
pub const ADMIN_TOKEN: &str = "test-admin-token";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique name for this test's database.
pub fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "sm_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Where a test database lives, and how to get rid of it.
pub enum TestDatabase {
    /// A SQLite file, deleted on drop.
    Sqlite { path: std::path::PathBuf },
    /// A PostgreSQL database, dropped on drop.
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// Creates an empty database and returns it with its URL.
    pub async fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = unique_name();
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL must name a reachable PostgreSQL server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                (Self::Postgres { admin_url, name }, url.to_string())
            }
            _ => {
                let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (Self::Sqlite { path }, url)
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Self::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await.ok();
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// The server configuration of tests.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        bind: "127.0.0.1:0".parse().expect("address"),
        admin_token: Some(ADMIN_TOKEN.into()),
        default_page_size: 100,
        max_page_size: 500,
        max_body_bytes: 64 * 1024 * 1024,
        max_upload_bytes: 1024 * 1024 * 1024,
        max_depth: 16,
        max_complexity: 250_000,
        max_list_items: 1_000,
        max_fields: 1_000,
        max_aliases: 100,
        max_root_fields: 50,
        key_max_concurrent: 16,
        key_queue_ms: 2_000,
        key_requests_per_second: 25_000,
        auth_failures_per_minute: 30,
        request_timeout_ms: 30_000,
        shutdown_grace_secs: 30,
        introspection: true,
        cors_origins: Vec::new(),
        apq_cache_size: 100,
        // Off, so statement counts and timings see every request; the cache tests turn it on.
        response_cache_mb: 0,
        metrics: false,
        metrics_bind: None,
        idempotency_key_hours: 24,
        ws_ping_secs: 15,
        ws_init_timeout_secs: 10,
        ws_auth_recheck_secs: 2,
        ws_max_subscriptions_per_connection: 25,
        ws_max_subscriptions_per_key: 100,
        ws_send_buffer: 256,
    }
}

/// A response as a test sees it.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A migrated database of its own and the router over it.
pub struct TestApp {
    pub db: DatabaseConnection,
    pub database_url: String,
    pub router: Router,
    pub config: ServerConfig,
    /// How many SQL statements the app has run so far.
    pub statements: std::sync::Arc<AtomicU32>,
    /// The statements the app runs while a test records them ([`TestApp::record`]).
    pub recorder: std::sync::Arc<std::sync::Mutex<Option<Vec<sea_orm::Statement>>>>,
    // Last, so the pool closes before the database is dropped.
    _database: TestDatabase,
}

impl TestApp {
    /// A fresh app with the test configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(test_config()).await
    }

    /// A fresh app with `config`.
    pub async fn spawn_with(config: ServerConfig) -> Self {
        let (database, database_url) = TestDatabase::create().await;
        let mut db = db::connect_and_migrate(&database_url)
            .await
            .expect("connect and migrate the test database");
        let statements = std::sync::Arc::new(AtomicU32::new(0));
        let counter = statements.clone();
        let recorder = std::sync::Arc::new(std::sync::Mutex::new(None::<Vec<sea_orm::Statement>>));
        let recording = std::sync::Arc::clone(&recorder);
        let observer: sync_manager::store::read_session::StatementObserver =
            std::sync::Arc::new(move |info: &sea_orm::metric::Info<'_>| {
                counter.fetch_add(1, Ordering::Relaxed);
                if let Some(statements) = recording.lock().expect("recorder").as_mut() {
                    statements.push(info.statement.clone());
                }
                // What the server's own callback does (this one replaces it): the request log's count.
                sync_manager::telemetry::on_statement(info);
                if std::env::var_os("TEST_PRINT_SQL").is_some() {
                    eprintln!(
                        "SQL: {}",
                        &info.statement.sql[..info.statement.sql.len().min(150)]
                    );
                }
            });
        let on_pool = observer.clone();
        db.set_metric_callback(move |info| on_pool(info));
        let state = http::AppState::observed(db.clone(), observer, &config, None);
        let router = http::router(state, &config);
        Self {
            db,
            database_url,
            router,
            config,
            statements,
            recorder,
            _database: database,
        }
    }

    /// Starts recording the statements the app runs; [`TestApp::recorded`] takes them.
    pub fn record(&self) {
        *self.recorder.lock().expect("recorder") = Some(Vec::new());
    }

    /// The statements run since [`TestApp::record`], which stops recording.
    pub fn recorded(&self) -> Vec<sea_orm::Statement> {
        self.recorder
            .lock()
            .expect("recorder")
            .take()
            .unwrap_or_default()
    }

    /// The number of SQL statements `query` runs (after a warm-up run of it).
    pub async fn statements_of(&self, key: &str, query: &str, variables: Value) -> u32 {
        self.data(key, query, variables.clone()).await;
        let before = self.statements.load(Ordering::SeqCst);
        self.data(key, query, variables).await;
        self.statements.load(Ordering::SeqCst) - before
    }

    /// Sends a raw request through the router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// POSTs a GraphQL request with optional API key and extra headers; returns the body.
    pub async fn graphql_with(
        &self,
        key: Option<&str>,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> Value {
        let mut builder = Request::post("/graphql").header("content-type", "application/json");
        if let Some(key) = key {
            builder = builder.header("x-api-key", key);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        let response = self
            .send(builder.body(Body::from(body)).expect("request"))
            .await;
        assert_eq!(response.status, StatusCode::OK, "body: {}", response.body);
        response.body
    }

    /// POSTs a GraphQL request with `key`.
    pub async fn graphql(&self, key: &str, query: &str, variables: Value) -> Value {
        self.graphql_with(Some(key), &[], query, variables).await
    }

    /// POSTs a GraphQL request that must succeed; returns its `data`.
    pub async fn data(&self, key: &str, query: &str, variables: Value) -> Value {
        let body = self.graphql(key, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Creates a tenant through `createTenant` with the admin token; returns (id, API key).
    pub async fn create_tenant(&self, name: &str) -> (String, String) {
        let body = self
            .graphql_with(
                None,
                &[("x-admin-token", ADMIN_TOKEN)],
                "mutation($name: String!) { createTenant(input: { name: $name }) { tenant { id } key } }",
                json!({ "name": name }),
            )
            .await;
        let payload = &body["data"]["createTenant"];
        assert!(payload.is_object(), "createTenant failed: {body}");
        (
            payload["tenant"]["id"].as_str().expect("id").to_owned(),
            payload["key"].as_str().expect("key").to_owned(),
        )
    }

    /// Creates a source; returns its id.
    pub async fn create_source(&self, key: &str, name: &str) -> String {
        let data = self
            .data(
                key,
                "mutation($name: String!) { createSource(input: { name: $name, kind: JSON }) { source { id } } }",
                json!({ "name": name }),
            )
            .await;
        data["createSource"]["source"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Imports `items` into `source` (`INCREMENTAL`), which must succeed.
    pub async fn import(&self, key: &str, source: &str, items: Value) {
        self.data(
            key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { id } } }",
            json!({ "s": source, "items": items }),
        )
        .await;
    }

    /// Syncs `source` into `target`, which must succeed.
    pub async fn sync(&self, key: &str, source: &str, target: &str) {
        self.data(
            key,
            "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { id } } }",
            json!({ "s": source, "t": target }),
        )
        .await;
    }

    /// Creates a target; returns its id.
    pub async fn create_target(&self, key: &str, name: &str) -> String {
        let data = self
            .data(
                key,
                "mutation($name: String!) { createTarget(input: { name: $name, kind: WEBSITE }) { target { id } } }",
                json!({ "name": name }),
            )
            .await;
        data["createTarget"]["target"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}

/// The `extensions.code` of the first error of a response.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code: {body}"))
}

/// The `extensions.field` of the first error of a response.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error naming a field: {body}"))
}

/// Asserts that `body` failed with `BAD_USER_INPUT` naming `field`.
pub fn assert_bad_input(body: &Value, field: &str) {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "body: {body}");
    assert_eq!(error_field(body), field, "body: {body}");
}

/// The type name and numeric key inside a global id.
pub fn decode_id(id: &str) -> (String, i64) {
    sync_manager::ids::decode_global(id, "id").expect("a global id")
}

/// `body` without the `extensions.requestId` of its errors (random per request; the request
/// id tests in `observe.rs` check it), for comparing whole error bodies.
pub fn without_request_ids(mut body: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(extensions)) = map.get_mut("extensions") {
                    extensions.remove("requestId");
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut body);
    body
}

/// The real `sync-manager` binary on the database at `database_url`, with the server's
/// settings that a developer's shell may hold unset, logs at `warn` and no standard input.
/// The caller adds the arguments (and a working directory of its own, so no `.env` is read).
pub fn sync_manager(database_url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sync-manager"));
    command
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("BIND")
        .env_remove("SYNC_ADMIN_TOKEN")
        .env_remove("SYNC_DEFAULT_PAGE_SIZE")
        .env_remove("SYNC_MAX_PAGE_SIZE")
        .env_remove("SYNC_MAX_BODY_BYTES")
        .env_remove("SYNC_MAX_UPLOAD_BYTES")
        .stdin(std::process::Stdio::null());
    command
}
