//! What async-graphql's own request errors leave out, added after the fact: the numbers of a
//! refused depth or complexity, and the variable an invalid argument value came from.

use async_graphql::ServerError;
use axum::body::Bytes;

use super::AppState;
use crate::graphql::invalid_input::invalid_value_field;
use crate::graphql::limits::QueryLimits;

/// Completes the request `errors` of the request in `body`: a depth or complexity error gets
/// the query's numbers and the limit ([`QueryLimits::explain`]), an invalid argument value
/// gets `extensions.field` naming its variable ([`invalid_value_field`]). It reads the request
/// again from its body, so it does so only when there is such an error.
pub(super) async fn explain_request_errors(
    state: &AppState,
    body: &Bytes,
    errors: &mut [ServerError],
) {
    let limits = errors.iter().any(QueryLimits::is_limit_error);
    let invalid_values = errors.iter().any(|e| invalid_value_pos(e).is_some());
    if !limits && !invalid_values {
        return;
    }
    let Ok(mut request) = serde_json::from_slice::<async_graphql::Request>(body) else {
        return;
    };
    if state.inner.persisted.resolve(&mut request).is_err() {
        return;
    }
    if invalid_values && let Ok(document) = request.parsed_query() {
        for error in errors.iter_mut() {
            let Some(pos) = invalid_value_pos(error) else {
                continue;
            };
            if let Some(field) = invalid_value_field(document, &error.message, pos) {
                let extensions = error.extensions.get_or_insert_with(Default::default);
                if extensions.get("field").is_none() {
                    extensions.set("field", field);
                }
            }
        }
    }
    if limits && let Some(explained) = state.inner.limits.explain(request).await {
        for error in errors.iter_mut() {
            if QueryLimits::is_limit_error(error) {
                *error = explained.clone();
            }
        }
    }
}

/// Where an error about an argument's value is, when it is one (a request error: no path).
fn invalid_value_pos(error: &ServerError) -> Option<async_graphql::Pos> {
    (error.path.is_empty() && error.message.starts_with("Invalid value for argument"))
        .then(|| error.locations.first().copied())
        .flatten()
}
