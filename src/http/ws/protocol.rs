//! The messages of `graphql-transport-ws`, the ways a connection ends, and the key a
//! `connection_init` carries.

use std::net::IpAddr;

use axum::extract::ws::{CloseFrame, Message};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use crate::domain::api_keys::Authenticated;
use crate::error::Error;
use crate::graphql::context::TenantAuth;

/// Why a connection ends.
pub(super) enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The client went away.
    Gone,
    /// The client did not read: drop it without waiting for it.
    TooSlow,
}

/// A close frame; its reason cut to the 123 bytes a close frame may carry.
pub(super) fn close_message(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].into(),
    }))
}

/// A message of the protocol from the client.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {},
    Subscribe {
        id: String,
        payload: Box<async_graphql::Request>,
    },
    Complete {
        id: String,
    },
}

/// The API key of a `connection_init` payload: `X-API-Key` (any case), or `Authorization`
/// with a `Bearer` token.
pub(super) fn key_of(payload: Option<&Value>) -> Option<String> {
    let fields = payload?.as_object()?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
            .map(str::trim)
    };
    if let Some(key) = field("x-api-key") {
        return Some(key.to_owned());
    }
    let (scheme, token) = field("authorization")?.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The key's identity, or the end of the connection: 4403 for a refused key (1013 once
/// `client` has sent more refused keys than `SYNC_AUTH_FAILURES_PER_MINUTE`, as over HTTP),
/// 1011 when the database could not check it.
pub(super) async fn authenticate(
    state: &AppState,
    key: &str,
    client: Option<IpAddr>,
) -> Result<Authenticated, End> {
    match state.inner.authenticate(&state.inner.db, key).await {
        Ok(authenticated) => Ok(authenticated),
        Err(Error::Unauthenticated(reason)) => {
            let refused = TenantAuth::Refused(reason.clone());
            if state.inner.throttle.admit(&refused, client).await.is_err() {
                return Err(End::Close(
                    1013,
                    "too many failed authentications from this address; retry later".into(),
                ));
            }
            Err(End::Close(4403, format!("Forbidden: {reason}")))
        }
        Err(err) => {
            tracing::error!(error = %err, "subscription key not checked");
            Err(End::Close(
                1011,
                "the database is unavailable; retry shortly".into(),
            ))
        }
    }
}
