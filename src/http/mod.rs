//! The HTTP door: GraphQL over HTTP on `POST /graphql` and `GET /graphql` (queries only),
//! GraphiQL on `GET /graphql` for a browser (its files under `/graphiql/`), and
//! `GET /health`, `/livez`, `/readyz`, and `GET /metrics` when metrics are on.
//!
//! The handler authenticates once (API key → tenant scope, admin token → admin access),
//! attaches the result to the request, and negotiates the response media type itself:
//! `application/graphql-response+json` when the client asks for it (then a request that
//! fails to parse or validate is a 400 without `data`), `application/json` otherwise.

mod cache;
mod explain;
mod get;
mod graphiql;
pub mod observe;
mod throttle;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::OperationType;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use subtle::ConstantTimeEq as _;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::config::ServerConfig;
use crate::db;
use crate::domain::api_keys;
use crate::error::{Error, code};
use crate::graphql::context::{AdminAuth, RequestAuth, TenantAuth};
use crate::graphql::limits::QueryLimits;
use crate::graphql::loaders::Loaders;
use crate::graphql::persisted::{PersistedQueries, PersistedQueryError};
use crate::graphql::{Api, idempotency};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use cache::{CacheKey, ResponseCache};
use get::GetParams;
use graphiql::Graphiql;
use throttle::Throttle;

/// The media type of GraphQL-over-HTTP responses.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy JSON media type.
const APPLICATION_JSON: &str = "application/json";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    api: Api,
    db: DatabaseConnection,
    admin_token: Option<SecretString>,
    graphiql: Graphiql,
    page_limits: crate::domain::pager::PageLimits,
    timeout: Duration,
    persisted: PersistedQueries,
    cache: Option<ResponseCache>,
    limits: QueryLimits,
    max_body_bytes: usize,
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
        let api = Api::new(db.clone(), config.schema_config());
        let events = crate::events::hub::EventHub::start(&db);
        Self {
            inner: Arc::new(Inner {
                api,
                db,
                admin_token: config
                    .admin_token
                    .clone()
                    .filter(|t| !t.expose_secret().is_empty()),
                graphiql: Graphiql::new(graphiql_key),
                page_limits: config.page_limits(),
                timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
                persisted: PersistedQueries::new(config.apq_cache_size),
                cache: ResponseCache::new(config.response_cache_mb.saturating_mul(1 << 20)),
                limits: QueryLimits::new(&config.schema_config()),
                max_body_bytes: config.max_body_bytes,
                metrics: config.metrics.then(crate::metrics::Metrics::new),
                throttle: Throttle::new(config),
                events,
                ws: ws::WsSettings::of(config),
                key_subscriptions: ws::KeySubscriptions::default(),
            }),
        }
    }
}

/// The router with every route and layer.
pub fn router(state: AppState, config: &ServerConfig) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphiql/licenses.txt", get(graphiql::licenses))
        .route("/graphiql/{hash}/{name}", get(graphiql::asset))
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/health", get(health))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz));
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
pub async fn serve(
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

/// The response media type a request's `Accept` header allows, or `None` when it allows
/// neither of ours.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(APPLICATION_JSON);
    };
    if accept.trim().is_empty() {
        return Some(APPLICATION_JSON);
    }
    let mut best: Option<(&'static str, f32)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let candidate = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => GRAPHQL_RESPONSE_JSON,
            APPLICATION_JSON | "application/*" | "*/*" => APPLICATION_JSON,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((current, q)) => {
                quality > q
                    || (quality == q && candidate == GRAPHQL_RESPONSE_JSON && current != candidate)
            }
        };
        if better {
            best = Some((candidate, quality));
        }
    }
    best.map(|(media, _)| media)
}

fn error_response(
    status: StatusCode,
    media: &'static str,
    code: &str,
    message: String,
) -> Response {
    let body = observe::error_body(code, message);
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        body.to_string(),
    )
        .into_response()
}

/// The answer to a request that failed before it could run: `503` with `Retry-After` when the
/// database is unavailable, `500` otherwise (the details are in the log, not the answer).
fn failure_response(media: &'static str, err: &Error) -> Response {
    let status = match err {
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = error_response(status, media, err.code(), err.to_string());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    response
}

/// How long a client should wait before retrying a request the database could not serve.
const RETRY_AFTER_SECS: &str = "2";

/// A request error (no `data` in `application/graphql-response+json`, with its 400 status;
/// `data: null` in `application/json`), as async-graphql's own request errors are answered.
fn request_error_response(media: &'static str, error: async_graphql::ServerError) -> Response {
    let (status, body) = if media == GRAPHQL_RESPONSE_JSON {
        (StatusCode::BAD_REQUEST, json!({ "errors": [error] }))
    } else {
        (StatusCode::OK, json!({ "data": null, "errors": [error] }))
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        body.to_string(),
    )
        .into_response()
}

fn api_key_from(headers: &HeaderMap) -> Option<String> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim().to_owned());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The request's credentials. Only a key the database says is unknown or revoked is refused;
/// when the database cannot answer, the error comes back as it is (for a 503), never as a
/// refusal that would tell a client its good key is bad.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<RequestAuth, Error> {
    let key = api_key_from(headers);
    let tenant = match &key {
        None => TenantAuth::Missing,
        Some(key) => match api_keys::authenticate(&state.inner.db, key).await {
            Ok(authenticated) => TenantAuth::Granted(authenticated),
            Err(err @ Error::Unauthenticated(_)) => TenantAuth::Refused(err.to_string()),
            Err(err) => return Err(err),
        },
    };
    let admin = match &state.inner.admin_token {
        None => AdminAuth::Disabled,
        Some(expected) => match headers.get("x-admin-token").and_then(|v| v.to_str().ok()) {
            // In time independent of where the tokens first differ.
            Some(given)
                if bool::from(
                    given
                        .trim()
                        .as_bytes()
                        .ct_eq(expected.expose_secret().as_bytes()),
                ) =>
            {
                AdminAuth::Granted
            }
            _ => AdminAuth::Refused,
        },
    };
    let auth = RequestAuth { tenant, admin };
    observe::note_caller(&auth, key.as_deref().map(api_keys::visible_prefix));
    Ok(auth)
}

/// The code of an error async-graphql raised itself (they carry none).
fn builtin_code(message: &str, request_error: bool) -> &'static str {
    // Also the recursion limits of async-graphql (selection sets nested through fragments)
    // and of its parser: deep nesting, whatever counts it.
    if message.contains("nested too deep")
        || message.starts_with("The recursion depth of the query")
        || message == "recursion limit exceeded."
    {
        code::QUERY_TOO_DEEP
    } else if message.contains("too complex") {
        code::QUERY_TOO_COMPLEX
    } else if message.contains("PersistedQueryNotFound") {
        code::PERSISTED_QUERY_NOT_FOUND
    } else if request_error {
        code::BAD_USER_INPUT
    } else {
        code::INTERNAL
    }
}

/// How a GraphQL request arrived: a POST may run any operation, a GET only queries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Post,
    Get,
}

/// `GET /graphql`: a WebSocket upgrade for subscriptions (as `/graphql/ws`), GraphiQL for a
/// browser (no `query` parameter, `Accept` naming
/// `text/html`), otherwise the request in the URL's parameters, answered
/// `Cache-Control: private, no-store`.
async fn graphql_get(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    // A WebSocket upgrade on `/graphql` is a subscription connection, as on `/graphql/ws`.
    if let Ok(upgrade) = upgrade {
        let address = client.map(|Extension(ConnectInfo(address))| address.ip());
        return ws::upgrade(state, upgrade, address);
    }
    let params = GetParams::parse(raw.as_deref());
    if params.as_ref().is_ok_and(|p| !p.has_query()) && get::accepts_html(&headers) {
        return state.inner.graphiql.page_response(&headers);
    }
    let mut response = match negotiate(&headers) {
        None => not_acceptable(),
        Some(media) => match params.and_then(GetParams::into_body) {
            Err(message) => error_response(
                StatusCode::BAD_REQUEST,
                media,
                code::BAD_USER_INPUT,
                message,
            ),
            Ok(body) => execute(&state, client, &headers, media, body, Verb::Get).await,
        },
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// The `406` answer to an `Accept` header that allows none of our media types.
fn not_acceptable() -> Response {
    error_response(
        StatusCode::NOT_ACCEPTABLE,
        APPLICATION_JSON,
        code::NOT_ACCEPTABLE,
        format!(
            "cannot answer in any type the Accept header allows; use {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}"
        ),
    )
}

/// `POST /graphql`: the request is the JSON body.
async fn graphql_post(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.as_deref() != Some(APPLICATION_JSON) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            code::UNSUPPORTED_MEDIA_TYPE,
            "a GraphQL request must be sent with `Content-Type: application/json`".into(),
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                let message = format!(
                    "the request body is larger than the server's limit of {} bytes",
                    state.inner.max_body_bytes
                );
                return error_response(status, media, code::PAYLOAD_TOO_LARGE, message);
            }
            return error_response(status, media, code::BAD_USER_INPUT, rejection.body_text());
        }
    };
    execute(&state, client, &headers, media, body, Verb::Post).await
}

/// Runs the GraphQL request in `body` (JSON), whichever way it came, and answers in `media`.
async fn execute(
    state: &AppState,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    media: &'static str,
    body: Bytes,
    verb: Verb,
) -> Response {
    let auth = match authenticate(state, headers).await {
        Ok(auth) => auth,
        Err(err) => {
            let cause = std::error::Error::source(&err).map(ToString::to_string);
            tracing::error!(cause = cause.as_deref(), "API key not checked: {err}");
            return failure_response(media, &err);
        }
    };
    let client = client.map(|Extension(ConnectInfo(address))| address.ip());
    let _turn = match state.inner.throttle.admit(&auth.tenant, client).await {
        Ok(turn) => turn,
        Err(limited) => return limited.response(media),
    };
    let cache_key = match (&state.inner.cache, &auth.tenant) {
        // Admin requests are not cached: what they may see depends on the admin token too.
        (Some(_), TenantAuth::Granted(granted)) if !headers.contains_key("x-admin-token") => Some(
            CacheKey::new(granted.key_id.0, granted.data_version, body.clone()),
        ),
        _ => None,
    };
    if let (Some(cache), Some(key)) = (&state.inner.cache, &cache_key)
        && let Some(answer) = cache.get(key)
    {
        observe::note_cached_query(&body);
        return answer_response(StatusCode::OK, media, answer, Some("HIT"));
    }
    if body.trim_ascii_start().starts_with(b"[") {
        return error_response(
            StatusCode::BAD_REQUEST,
            media,
            code::BAD_USER_INPUT,
            "batched requests (a JSON array) are not supported: send one GraphQL request, a JSON \
             object, per POST"
                .into(),
        );
    }
    let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                media,
                code::BAD_USER_INPUT,
                format!("the body is not a GraphQL request (JSON with a `query` string): {err}"),
            );
        }
    };
    crate::graphql::json::exact_numbers(&mut request.variables);
    if let Err(err) = state.inner.persisted.resolve(&mut request) {
        let (code, message) = match err {
            PersistedQueryError::NotFound => (
                code::PERSISTED_QUERY_NOT_FOUND,
                "PersistedQueryNotFound: send the query text with its hash once",
            ),
            PersistedQueryError::HashMismatch => (
                code::BAD_USER_INPUT,
                "the persisted query's sha256Hash does not match the query",
            ),
        };
        // Apollo clients expect the 200 answer with this error to retry with the text.
        return error_response(StatusCode::OK, media, code, message.into());
    }
    // Before the parser, whose recursion limit would otherwise answer a deep query first.
    if let Err(error) = state.inner.limits.check_nesting(&request.query) {
        return request_error_response(media, error);
    }
    observe::note_operation(&mut request);
    // Parsed once here (execution reuses the document) to tell a query, whose answer may be
    // kept, from a mutation, which must run every time (and never over GET).
    let operation_name = request.operation_name.clone();
    let operation_type = request.parsed_query().ok().and_then(|document| {
        crate::graphql::conform::operation(document, operation_name.as_deref()).map(|op| op.ty)
    });
    if verb == Verb::Get
        && let Some(ty) = operation_type.filter(|ty| *ty != OperationType::Query)
    {
        return method_not_allowed(media, ty);
    }
    let query_key = cache_key.filter(|_| operation_type == Some(OperationType::Query));
    if let Some(key) = headers.get(idempotency::HEADER) {
        if let Err(error) = state.inner.api.check_idempotency_header(&mut request) {
            return request_error_response(media, error);
        }
        let key = key.to_str().unwrap_or("\u{fffd}").trim().to_owned();
        request = request.data(idempotency::HeaderKey(key));
    }
    if let TenantAuth::Granted(authenticated) = &auth.tenant {
        request = request.data(Loaders::new(
            &state.inner.db,
            authenticated.scope.clone(),
            state.inner.page_limits,
        ));
    }
    let execution = state.inner.api.execute(request.data(auth));
    let Ok(mut response) = tokio::time::timeout(state.inner.timeout, execution).await else {
        return error_response(
            StatusCode::GATEWAY_TIMEOUT,
            media,
            code::TIMEOUT,
            format!(
                "the request took longer than {} ms and was stopped",
                state.inner.timeout.as_millis()
            ),
        );
    };

    // A request error (parse, validation, variables) has no `data` and errors without a path.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if request_error {
        explain::explain_request_errors(state, &body, &mut response.errors).await;
    }
    for err in &mut response.errors {
        let code = builtin_code(&err.message, request_error);
        let extensions = err.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code);
        }
    }
    observe::note_errors(&mut response.errors);
    let unavailable = response.errors.iter().any(|e| {
        e.extensions.as_ref().and_then(|x| x.get("code"))
            == Some(&async_graphql::Value::from(code::SERVICE_UNAVAILABLE))
    });
    let (status, body) = if unavailable {
        // The database is down: the whole answer is "retry later", whatever part of it ran.
        (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::to_vec(&response),
        )
    } else if media == GRAPHQL_RESPONSE_JSON && request_error {
        // The specification: a request error has no `data` entry, and a 4xx status.
        let errors = json!({ "errors": response.errors });
        (StatusCode::BAD_REQUEST, serde_json::to_vec(&errors))
    } else {
        (StatusCode::OK, serde_json::to_vec(&response))
    };
    let body = Bytes::from(
        body.unwrap_or_else(|_| br#"{"errors":[{"message":"internal error"}]}"#.to_vec()),
    );
    let mut cache_status = None;
    if let (Some(cache), Some(key)) = (&state.inner.cache, query_key) {
        cache_status = Some("MISS");
        if status == StatusCode::OK && response.errors.is_empty() {
            cache.put(key, body.clone());
        }
    }
    let mut answer = answer_response(status, media, body, cache_status);
    if unavailable {
        answer.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    answer
}

/// A GraphQL answer; `cache` tells the `X-Cache` header (`HIT` or `MISS`) for a query that
/// the response cache could answer (none for mutations, which always run).
fn answer_response(
    status: StatusCode,
    media: &'static str,
    body: Bytes,
    cache: Option<&'static str>,
) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        body,
    )
        .into_response();
    if let Some(cache) = cache {
        response
            .headers_mut()
            .insert("x-cache", HeaderValue::from_static(cache));
    }
    response
}

/// The `405` answer to a mutation or subscription sent with GET.
fn method_not_allowed(media: &'static str, ty: OperationType) -> Response {
    let message = match ty {
        OperationType::Subscription => {
            "a subscription cannot run over GET: subscribe over WebSocket at /graphql/ws"
        }
        _ => "a mutation cannot be sent with GET, which runs only queries: send it with POST",
    };
    let mut response = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        media,
        code::METHOD_NOT_ALLOWED,
        message.into(),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accept_headers_pick_the_media_type() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(APPLICATION_JSON));
        assert_eq!(negotiate(&accept("*/*")), Some(APPLICATION_JSON));
        assert_eq!(
            negotiate(&accept("application/json")),
            Some(APPLICATION_JSON)
        );
        assert_eq!(
            negotiate(&accept(GRAPHQL_RESPONSE_JSON)),
            Some(GRAPHQL_RESPONSE_JSON)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(GRAPHQL_RESPONSE_JSON)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(APPLICATION_JSON)
        );
        assert_eq!(negotiate(&accept("text/html")), None);
    }
}
