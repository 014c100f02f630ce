//! The HTTP door: GraphQL over HTTP on `POST /graphql` and `GET /graphql` (queries only),
//! GraphiQL on `GET /graphql` for a browser (its files under `/graphiql/`), and
//! `GET /health`, `/livez`, `/readyz`, and `GET /metrics` when metrics are on; and
//! `POST /sources/{id}/import`, a large import streamed as the request body (`upload`).
//!
//! The handler authenticates once (API key → tenant scope, admin token → admin access),
//! attaches the result to the request, and negotiates the response media type itself:
//! `application/graphql-response+json` when the client asks for it (then a request that
//! fails to parse or validate is a 400 without `data`), `application/json` otherwise.

mod answer;
mod auth;
mod cache;
mod explain;
mod get;
mod graphiql;
mod graphql;
pub(crate) mod observe;
mod throttle;
mod upload;
pub(crate) mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::config::ServerConfig;
use crate::db;
use crate::graphql::limits::QueryLimits;
use crate::graphql::parsed::ParsedQueries;
use crate::graphql::persisted::PersistedQueries;
use crate::graphql::{Api, idempotency};
use crate::store::read_session::{ReadSessions, StatementObserver};
use cache::ResponseCache;
use graphiql::Graphiql;
use throttle::Throttle;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    api: Api,
    db: DatabaseConnection,
    /// Where each request's reads run ([`crate::store::read_session`]).
    reads: ReadSessions,
    /// Where a key's `lastUsedAt` is refreshed: never waiting for SQLite's write lock.
    touch_db: DatabaseConnection,
    admin_token: Option<SecretString>,
    graphiql: Graphiql,
    page_limits: crate::store::pager::PageLimits,
    timeout: Duration,
    persisted: PersistedQueries,
    /// Parsed documents by query text.
    parsed: ParsedQueries,
    cache: Option<ResponseCache>,
    limits: QueryLimits,
    max_body_bytes: usize,
    max_upload_bytes: u64,
    metrics: Option<crate::metrics::Metrics>,
    throttle: Throttle,
    events: crate::events::hub::EventHub,
    ws: ws::WsSettings,
    key_subscriptions: ws::KeySubscriptions,
}

impl AppState {
    /// State for a server over `db`. With `graphiql_key`, GraphiQL starts with that API key in
    /// its headers (the `serve --demo` experience).
    pub fn new(db: DatabaseConnection, config: &ServerConfig, graphiql_key: Option<&str>) -> Self {
        let reads = ReadSessions::new(&db);
        Self::with_reads(db, reads, config, graphiql_key)
    }

    /// [`AppState::new`], with `observer` told of the statements requests run on the
    /// connections they hold, as the pool's metric callback is of the others (see
    /// [`crate::store::read_session`]).
    pub fn observed(
        db: DatabaseConnection,
        observer: StatementObserver,
        config: &ServerConfig,
        graphiql_key: Option<&str>,
    ) -> Self {
        let reads = ReadSessions::observed(&db, observer);
        Self::with_reads(db, reads, config, graphiql_key)
    }

    fn with_reads(
        db: DatabaseConnection,
        reads: ReadSessions,
        config: &ServerConfig,
        graphiql_key: Option<&str>,
    ) -> Self {
        let api = Api::new(db.clone(), config.schema_config());
        let events = crate::events::hub::EventHub::start(&db);
        Self {
            inner: Arc::new(Inner {
                api,
                touch_db: crate::db::without_waiting_for_writes(&db),
                reads,
                db,
                admin_token: config
                    .admin_token
                    .clone()
                    .filter(|t| !t.expose_secret().is_empty()),
                graphiql: Graphiql::new(graphiql_key),
                page_limits: config.page_limits(),
                timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
                persisted: PersistedQueries::new(config.apq_cache_size),
                parsed: ParsedQueries::default(),
                cache: ResponseCache::new(config.response_cache_mb.saturating_mul(1 << 20)),
                limits: QueryLimits::new(&config.schema_config()),
                max_body_bytes: config.max_body_bytes,
                max_upload_bytes: config.max_upload_bytes,
                metrics: config.metrics.then(crate::metrics::Metrics::new),
                throttle: Throttle::new(config),
                events,
                ws: ws::WsSettings::of(config),
                key_subscriptions: ws::KeySubscriptions::default(),
            }),
        }
    }
}

impl Inner {
    /// Resolves a presented API key (see [`api_keys::authenticate`]), read through `reads`; its
    /// `lastUsedAt` is refreshed through `touch_db`, which does not wait for SQLite's write
    /// lock.
    async fn authenticate(
        &self,
        reads: &impl sea_orm::ConnectionTrait,
        key: &str,
    ) -> Result<crate::domain::api_keys::Authenticated, crate::error::Error> {
        crate::domain::api_keys::authenticate(reads, &self.touch_db, key).await
    }
}

/// The router with every route and layer.
pub fn router(state: AppState, config: &ServerConfig) -> Router {
    let mut router = Router::new()
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route("/graphiql/licenses.txt", get(graphiql::licenses))
        .route("/graphiql/{hash}/{name}", get(graphiql::asset))
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/health", get(health))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route(
            "/sources/{id}/import",
            axum::routing::post(upload::import_upload),
        );
    if config.metrics && config.metrics_bind.is_none() {
        router = router.route("/metrics", get(observe::metrics));
    }
    router = router
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TraceLayer::new_for_http());
    if let Some(cors) = cors_layer(&config.cors_origins) {
        router = router.layer(cors);
    }
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}

/// CORS for the configured origins (`*` for any); `None` when there are none.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::AUTHORIZATION,
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("x-admin-token"),
                HeaderName::from_static(idempotency::HEADER),
            ])
            .expose_headers([observe::REQUEST_ID])
            .max_age(Duration::from_secs(3600)),
    )
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM, then shuts down gracefully: new
/// connections are refused at once, requests in flight run on for up to `grace`, and then it
/// returns whatever is still running. A request cut off that way is dropped with its open
/// transaction, which the database rolls back: an import or sync is written whole or not at
/// all.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    grace: Duration,
) -> std::io::Result<()> {
    let signalled = Arc::new(tokio::sync::Notify::new());
    let notify = signalled.clone();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: no new connections, waiting for requests in flight"
        );
        // `notify_one` keeps the permit until the grace timer below waits for it.
        notify.notify_one();
    })
    .into_future();
    let grace_over = async {
        signalled.notified().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => served,
        () = grace_over => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "shutdown grace period over: exiting with requests still running (their \
                 transactions are rolled back)"
            );
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// How long a health probe waits for the database: an orchestrator's probe must get an answer
/// quickly even when the database hangs.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the database answers within [`PROBE_TIMEOUT`].
async fn database_up(db: &DatabaseConnection) -> bool {
    tokio::time::timeout(PROBE_TIMEOUT, db::ping(db))
        .await
        .unwrap_or(false)
}

/// `GET /health`: the server and its database, answered within a second.
async fn health(State(state): State<AppState>) -> Response {
    if database_up(&state.inner.db).await {
        Json(json!({ "status": "ok", "database": "up" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "degraded", "database": "down" })),
        )
            .into_response()
    }
}

/// `GET /livez`: the process is up and serving (it never asks the database, so a database
/// outage does not get the server restarted).
async fn livez() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: the database answers and has every migration this binary needs; `503`
/// otherwise, so a load balancer sends no traffic here.
async fn readyz(State(state): State<AppState>) -> Response {
    let pending = tokio::time::timeout(PROBE_TIMEOUT, db::pending_migrations(&state.inner.db))
        .await
        .ok()
        .and_then(Result::ok);
    let (status, body) = match pending {
        Some(0) => (
            StatusCode::OK,
            json!({ "status": "ready", "database": "up", "migrations": "applied" }),
        ),
        Some(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "not ready", "database": "up", "migrations": "pending", "pendingMigrations": pending }),
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "not ready", "database": "down" }),
        ),
    };
    (status, Json(body)).into_response()
}
