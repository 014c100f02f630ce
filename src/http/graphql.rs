//! `/graphql` over HTTP: a request goes through its steps in order (who asks and whether
//! they may now, the response cache, reading the request, a persisted query, checks before
//! execution, execution under the time limit, the answer), and each step may answer early.

use std::net::SocketAddr;

use async_graphql::parser::types::OperationType;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::answer::{
    APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, RETRY_AFTER_SECS, answer_response, builtin_code,
    error_response, failure_response, method_not_allowed, negotiate, not_acceptable,
    request_error_response,
};
use super::auth::authenticate;
use super::cache::CacheKey;
use super::get::{self, GetParams};
use super::throttle::Turn;
use super::{AppState, explain, observe, ws};
use crate::error::code;
use crate::graphql::context::{RequestAuth, TenantAuth};
use crate::graphql::idempotency;
use crate::graphql::loaders::Loaders;
use crate::graphql::passes::Passes;
use crate::graphql::persisted::PersistedQueryError;
use crate::store::read_session::ReadSession;

/// How a GraphQL request arrived: a POST may run any operation, a GET only queries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Post,
    Get,
}

/// A step's early answer: the request goes no further.
type Step<T> = Result<T, Box<Response>>;

/// `GET /graphql`: a WebSocket upgrade for subscriptions (as `/graphql/ws`), GraphiQL for a
/// browser (no `query` parameter, `Accept` naming `text/html`), otherwise the request in the
/// URL's parameters, answered `Cache-Control: private, no-store`.
pub(super) async fn graphql_get(
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

/// `POST /graphql`: the request is the JSON body.
pub(super) async fn graphql_post(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    match post_body(&state, &headers, media, body) {
        Ok(body) => execute(&state, client, &headers, media, body, Verb::Post).await,
        Err(answer) => *answer,
    }
}

/// The body of a POST, sent as JSON and within the size limit.
fn post_body(
    state: &AppState,
    headers: &HeaderMap,
    media: &'static str,
    body: Result<Bytes, BytesRejection>,
) -> Step<Bytes> {
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
        return Err(Box::new(error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            code::UNSUPPORTED_MEDIA_TYPE,
            "a GraphQL request must be sent with `Content-Type: application/json`".into(),
        )));
    }
    body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            let message = format!(
                "the request body is larger than the server's limit of {} bytes",
                state.inner.max_body_bytes
            );
            return error_response(status, media, code::PAYLOAD_TOO_LARGE, message);
        }
        error_response(status, media, code::BAD_USER_INPUT, rejection.body_text())
    })
    .map_err(Box::new)
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
    let steps = async {
        // The key and a query's rows are read on one connection; a mutation's writes take
        // their own, so it gives the connection back once it is known to be one.
        let reads = state.inner.reads.begin();
        let (auth, _turn) = admit(state, client, headers, media, &reads).await?;
        let cache_key = cached(state, &auth, headers, media, &body)?;
        let mut request = read_request(&body, media).await?;
        resolve_persisted(state, &mut request, media)?;
        state.inner.parsed.fill(&mut request);
        let operation = check(state, &mut request, verb, media)?;
        let is_query = operation == Some(OperationType::Query);
        let query_key = cache_key.filter(|_| is_query);
        let reads = if is_query { reads } else { reads.unheld() };
        let passes = Passes::new();
        let request = with_request_data(state, request, headers, auth, media, &passes, reads)?;
        let response = run(state, request, media, &passes).await?;
        Ok(respond(state, &body, response, media, query_key).await)
    };
    steps.await.unwrap_or_else(|answer: Box<Response>| *answer)
}

/// Who asks, and whether they may now: authentication, then the rate limit's turn.
async fn admit(
    state: &AppState,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    media: &'static str,
    reads: &ReadSession,
) -> Step<(RequestAuth, Turn)> {
    let auth = authenticate(state, headers, reads).await.map_err(|err| {
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        tracing::error!(cause = cause.as_deref(), "API key not checked: {err}");
        failure_response(media, &err)
    })?;
    let client = client.map(|Extension(ConnectInfo(address))| address.ip());
    let turn = state
        .inner
        .throttle
        .admit(&auth.tenant, client)
        .await
        .map_err(|limited| limited.response(media))?;
    Ok((auth, turn))
}

/// The cache key of a tenant's request, or the cached answer when there is one.
fn cached(
    state: &AppState,
    auth: &RequestAuth,
    headers: &HeaderMap,
    media: &'static str,
    body: &Bytes,
) -> Step<Option<CacheKey>> {
    let (Some(cache), TenantAuth::Granted(granted)) = (&state.inner.cache, &auth.tenant) else {
        return Ok(None);
    };
    // Admin requests are not cached: what they may see depends on the admin token too.
    if headers.contains_key("x-admin-token") {
        return Ok(None);
    }
    let key = CacheKey::new(granted.key_id.0, granted.data_version, body.clone());
    match cache.get(&key) {
        Some(answer) => {
            observe::note_cached_query(body);
            Err(Box::new(answer_response(
                StatusCode::OK,
                media,
                answer,
                Some("HIT"),
            )))
        }
        None => Ok(Some(key)),
    }
}

/// Bodies up to this size are parsed on the runtime's thread; a larger one (a big import's
/// `items`) is parsed on a blocking thread, so the requests beside it keep being answered.
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// The GraphQL request in the body: one JSON object, numbers kept exactly. A body over
/// [`PARSE_INLINE_BYTES`] is parsed off the async runtime.
async fn read_request(body: &Bytes, media: &'static str) -> Step<async_graphql::Request> {
    if body.len() <= PARSE_INLINE_BYTES {
        return parse_request(body, media);
    }
    let body = body.clone();
    tokio::task::spawn_blocking(move || parse_request(&body, media))
        .await
        .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()))
}

/// [`read_request`]'s work.
fn parse_request(body: &Bytes, media: &'static str) -> Step<async_graphql::Request> {
    let bad = |message: String| {
        error_response(
            StatusCode::BAD_REQUEST,
            media,
            code::BAD_USER_INPUT,
            message,
        )
    };
    if body.trim_ascii_start().starts_with(b"[") {
        return Err(Box::new(bad(
            "batched requests (a JSON array) are not supported: send one GraphQL request, a \
             JSON object, per POST"
                .into(),
        )));
    }
    let mut request: async_graphql::Request = serde_json::from_slice(body).map_err(|err| {
        bad(format!(
            "the body is not a GraphQL request (JSON with a `query` string): {err}"
        ))
    })?;
    crate::graphql::json::exact_numbers(&mut request.variables);
    Ok(request)
}

/// The query text of a persisted query (automatic persisted queries).
fn resolve_persisted(
    state: &AppState,
    request: &mut async_graphql::Request,
    media: &'static str,
) -> Step<()> {
    state
        .inner
        .persisted
        .resolve(request)
        .map_err(|err| {
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
            error_response(StatusCode::OK, media, code, message.into())
        })
        .map_err(Box::new)
}

/// Checks before execution: the nesting limit, and no mutation over GET. Gives the
/// operation's type when the document parses.
fn check(
    state: &AppState,
    request: &mut async_graphql::Request,
    verb: Verb,
    media: &'static str,
) -> Step<Option<OperationType>> {
    // Before the parser, whose recursion limit would otherwise answer a deep query first.
    if let Err(error) = state.inner.limits.check_nesting(&request.query) {
        return Err(Box::new(request_error_response(media, error)));
    }
    observe::note_operation(request);
    // Parsed once here (execution reuses the document) to tell a query, whose answer may be
    // kept, from a mutation, which must run every time (and never over GET).
    let operation_name = request.operation_name.clone();
    let operation_type = request.parsed_query().ok().and_then(|document| {
        crate::graphql::conform::operation(document, operation_name.as_deref()).map(|op| op.ty)
    });
    if verb == Verb::Get
        && let Some(ty) = operation_type.filter(|ty| *ty != OperationType::Query)
    {
        return Err(Box::new(method_not_allowed(media, ty)));
    }
    Ok(operation_type)
}

/// Attaches what resolvers read: the idempotency key, the tenant's loaders, the caller, and
/// the session its reads run on.
fn with_request_data(
    state: &AppState,
    mut request: async_graphql::Request,
    headers: &HeaderMap,
    auth: RequestAuth,
    media: &'static str,
    passes: &Passes,
    reads: ReadSession,
) -> Step<async_graphql::Request> {
    if let Some(key) = headers.get(idempotency::HEADER) {
        if let Err(error) = state.inner.api.check_idempotency_header(&mut request) {
            return Err(Box::new(request_error_response(media, error)));
        }
        let key = key.to_str().unwrap_or("\u{fffd}").trim().to_owned();
        request = request.data(idempotency::HeaderKey(key));
    }
    if let TenantAuth::Granted(authenticated) = &auth.tenant {
        request = request.data(Loaders::per_pass(
            &reads,
            authenticated.scope.clone(),
            state.inner.page_limits,
            passes,
        ));
    }
    Ok(request.data(auth).data(reads))
}

/// Executes the request within the server's time limit; its loaders batch per pass of
/// `passes`.
async fn run(
    state: &AppState,
    request: async_graphql::Request,
    media: &'static str,
    passes: &Passes,
) -> Step<async_graphql::Response> {
    let execution = passes.drive(state.inner.api.execute(request));
    tokio::time::timeout(state.inner.timeout, execution)
        .await
        .map_err(|_| {
            error_response(
                StatusCode::GATEWAY_TIMEOUT,
                media,
                code::TIMEOUT,
                format!(
                    "the request took longer than {} ms and was stopped",
                    state.inner.timeout.as_millis()
                ),
            )
        })
        .map_err(Box::new)
}

/// The answer to an executed request: error codes completed, the status the specification
/// and the database's state call for, and a query's answer kept in the cache.
async fn respond(
    state: &AppState,
    body: &Bytes,
    mut response: async_graphql::Response,
    media: &'static str,
    query_key: Option<CacheKey>,
) -> Response {
    // A request error (parse, validation, variables) has no `data` and errors without a path.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if request_error {
        explain::explain_request_errors(state, body, &mut response.errors).await;
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
    let (status, answer) = if unavailable {
        // The database is down: the whole answer is "retry later", whatever part of it ran.
        (
            StatusCode::SERVICE_UNAVAILABLE,
            crate::graphql::wire::to_vec(&response),
        )
    } else if media == GRAPHQL_RESPONSE_JSON && request_error {
        // The specification: a request error has no `data` entry, and a 4xx status.
        let errors = json!({ "errors": response.errors });
        (StatusCode::BAD_REQUEST, serde_json::to_vec(&errors))
    } else {
        (StatusCode::OK, crate::graphql::wire::to_vec(&response))
    };
    let answer = Bytes::from(
        answer.unwrap_or_else(|_| br#"{"errors":[{"message":"internal error"}]}"#.to_vec()),
    );
    let mut cache_status = None;
    if let (Some(cache), Some(key)) = (&state.inner.cache, query_key) {
        cache_status = Some("MISS");
        if status == StatusCode::OK && response.errors.is_empty() {
            cache.put(key, answer.clone());
        }
    }
    let mut answer = answer_response(status, media, answer, cache_status);
    if unavailable {
        answer.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    answer
}
