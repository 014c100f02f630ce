//! Who is asking: the API key (`X-API-Key` or `Authorization: Bearer`) and the admin token
//! of a request, checked once at the edge.

use axum::http::{HeaderMap, header};
use secrecy::ExposeSecret as _;
use subtle::ConstantTimeEq as _;

use super::{AppState, observe};
use crate::domain::api_keys;
use crate::error::Error;
use crate::graphql::context::{AdminAuth, RequestAuth, TenantAuth};

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

/// The request's credentials, the key read through `reads`. Only a key the database says is
/// unknown or revoked is refused; when the database cannot answer, the error comes back as it
/// is (for a 503), never as a refusal that would tell a client its good key is bad.
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    reads: &impl sea_orm::ConnectionTrait,
) -> Result<RequestAuth, Error> {
    let key = api_key_from(headers);
    let tenant = match &key {
        None => TenantAuth::Missing,
        Some(key) => match state.inner.authenticate(reads, key).await {
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
