//! How `/graphql` answers: the media type a client accepts, and the responses built in it
//! (GraphQL answers, request errors, failures before execution).

use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::observe;
use crate::error::{Error, code};

/// The media type of GraphQL-over-HTTP responses.
pub(super) const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// The legacy JSON media type.
pub(super) const APPLICATION_JSON: &str = "application/json";

/// The response media type a request's `Accept` header allows, or `None` when it allows
/// neither of ours.
pub(super) fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
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

pub(super) fn error_response(
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
pub(super) fn failure_response(media: &'static str, err: &Error) -> Response {
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
pub(super) const RETRY_AFTER_SECS: &str = "2";

/// A request error (no `data` in `application/graphql-response+json`, with its 400 status;
/// `data: null` in `application/json`), as async-graphql's own request errors are answered.
pub(super) fn request_error_response(
    media: &'static str,
    error: async_graphql::ServerError,
) -> Response {
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

/// A GraphQL answer; `cache` tells the `X-Cache` header (`HIT` or `MISS`) for a query that
/// the response cache could answer (none for mutations, which always run).
pub(super) fn answer_response(
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
pub(super) fn method_not_allowed(media: &'static str, ty: OperationType) -> Response {
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

/// The `406` answer to an `Accept` header that allows none of our media types.
pub(super) fn not_acceptable() -> Response {
    error_response(
        StatusCode::NOT_ACCEPTABLE,
        APPLICATION_JSON,
        code::NOT_ACCEPTABLE,
        format!(
            "cannot answer in any type the Accept header allows; use {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}"
        ),
    )
}

/// The code of an error async-graphql raised itself (they carry none).
pub(super) fn builtin_code(message: &str, request_error: bool) -> &'static str {
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
