//! What an operator sees of each request: a request id (`X-Request-Id`, taken from the
//! request when it is sane, else made) on every response and in every GraphQL error's
//! `extensions.requestId`; one log line when the request ends; its metrics; and
//! `GET /metrics`.

use std::time::Instant;

use async_graphql::ServerError;
use async_graphql::parser::types::OperationType;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::db;
use crate::graphql::context::{AdminAuth, RequestAuth, TenantAuth};
use crate::telemetry::{self, Notes, RequestRecord};

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The longest operation name written to the log (the client chooses it).
const MAX_LOGGED_NAME_LEN: usize = 100;

/// Whether a client's request id may be reused: 1 to 128 visible characters of a small set,
/// so it cannot break a log line or a header.
fn sane_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b))
}

/// A new request id: 128 random bits in hex.
fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: the time still tells requests apart well enough for logs.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = nanos.to_be_bytes();
    }
    hex::encode(bytes)
}

/// The route a request matched, as a fixed label (`other` for anything unrouted).
fn route_of(request: &Request) -> &'static str {
    match request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some("/graphql") => "/graphql",
        Some("/health") => "/health",
        Some("/livez") => "/livez",
        Some("/readyz") => "/readyz",
        Some("/metrics") => "/metrics",
        Some("/sources/{id}/import") => "/sources/{id}/import",
        _ => "other",
    }
}

/// The middleware around every request: id, record, log line, metrics.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| sane_request_id(id))
        .map_or_else(new_request_id, str::to_owned);
    let route = route_of(&request);
    let method = request.method().clone();
    let record = RequestRecord::new(id, state.inner.metrics.clone());
    let mut response = telemetry::scope(record.clone(), next.run(request)).await;
    let duration = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(record.id()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .map(|v| if v == "HIT" { "hit" } else { "miss" });
    let notes = record.notes();
    let status = response.status();
    let operation = notes.operation_type.unwrap_or("none");
    if let Some(metrics) = &state.inner.metrics {
        metrics.request(route, operation, status.as_u16(), duration);
        metrics.graphql_errors(&notes.error_codes);
        if let Some(cache) = cache {
            metrics.cache_lookup(cache == "hit");
        }
    }
    log_request(
        &record,
        &notes,
        method.as_str(),
        route,
        status,
        duration,
        cache,
    );
    response
}

/// The one line a request leaves in the log. Probes and scrapes log at DEBUG, server
/// failures at WARN, everything else at INFO.
fn log_request(
    record: &RequestRecord,
    notes: &Notes,
    method: &str,
    route: &'static str,
    status: StatusCode,
    duration: std::time::Duration,
    cache: Option<&'static str>,
) {
    let operation_name = notes
        .operation_name
        .as_deref()
        .map(|name| name.chars().take(MAX_LOGGED_NAME_LEN).collect::<String>());
    let error_codes = notes.error_codes.join(",");
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                $level,
                request_id = record.id(),
                method,
                route,
                status = status.as_u16(),
                duration_ms = duration.as_secs_f64() * 1000.0,
                sql_statements = record.statements(),
                operation_type = notes.operation_type,
                operation_name = operation_name.as_deref(),
                tenant = notes.tenant_id,
                key_prefix = notes.key_prefix.as_deref(),
                admin = notes.admin,
                error_codes = (!error_codes.is_empty()).then_some(error_codes.as_str()),
                cache,
                "request"
            )
        };
    }
    if status.is_server_error() {
        line!(tracing::Level::WARN);
    } else if matches!(route, "/health" | "/livez" | "/readyz" | "/metrics") {
        line!(tracing::Level::DEBUG);
    } else {
        line!(tracing::Level::INFO);
    }
}

/// Notes the operation a GraphQL request runs (parsing it now; execution reuses the parse).
pub(super) fn note_operation(request: &mut async_graphql::Request) {
    let requested = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return;
    };
    let Some((own_name, operation)) =
        crate::graphql::conform::named_operation(document, requested.as_deref())
    else {
        return;
    };
    let name = requested.or_else(|| own_name.map(str::to_owned));
    let kind = match operation.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    telemetry::note_operation(name.as_deref(), kind);
}

/// Notes a query answered from the response cache (only queries are kept there), with the
/// operation name the body gives, if any.
pub(super) fn note_cached_query(body: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Name {
        #[serde(rename = "operationName")]
        operation_name: Option<String>,
    }
    let name = serde_json::from_slice::<Name>(body)
        .ok()
        .and_then(|n| n.operation_name);
    telemetry::note_operation(name.as_deref(), "query");
}

/// Notes who the request acts for; `key_prefix` is the visible prefix of an accepted key.
pub(super) fn note_caller(auth: &RequestAuth, key_prefix: Option<&str>) {
    let tenant = match &auth.tenant {
        TenantAuth::Granted(granted) => Some(granted.scope.tenant_id().0),
        _ => None,
    };
    let key_prefix = tenant.and(key_prefix);
    telemetry::note_caller(tenant, key_prefix, matches!(auth.admin, AdminAuth::Granted));
}

/// Gives every error the request id and notes its code.
pub(super) fn note_errors(errors: &mut [ServerError]) {
    let id = telemetry::request_id();
    for err in errors {
        let extensions = err.extensions.get_or_insert_with(Default::default);
        if let Some(async_graphql::Value::String(code)) = extensions.get("code") {
            telemetry::note_error_code(code);
        }
        if let Some(id) = &id {
            extensions.set("requestId", id.as_str());
        }
    }
}

/// The `errors` entry of an answer the handler makes itself, with the request id.
pub(super) fn error_body(code: &str, message: String) -> serde_json::Value {
    telemetry::note_error_code(code);
    let mut extensions = serde_json::json!({ "code": code });
    if let Some(id) = telemetry::request_id() {
        extensions["requestId"] = id.into();
    }
    serde_json::json!({ "errors": [{ "message": message, "extensions": extensions }] })
}

/// The Prometheus text format's media type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`: the server's metrics in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(metrics) = &state.inner.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = state.inner.cache.as_ref().map(|c| c.stats());
    let text = metrics.render(db::pool_stats(&state.inner.db), cache);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROMETHEUS_TEXT),
        )],
        text,
    )
        .into_response()
}

/// A router with `GET /metrics` only, for a metrics address of its own.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_clients_must_be_plain() {
        assert!(sane_request_id("abc-123_DEF.4:5"));
        assert!(!sane_request_id(""));
        assert!(!sane_request_id("a b"));
        assert!(!sane_request_id("a\nb"));
        assert!(!sane_request_id(&"x".repeat(129)));
        assert_eq!(new_request_id().len(), 32);
    }
}
