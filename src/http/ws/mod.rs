//! GraphQL over WebSocket: the `graphql-transport-ws` protocol of the graphql-ws library,
//! served on `GET /graphql/ws` ([`graphql_ws`]); [`upgrade`] is what any handler calls to
//! answer an upgrade request with it.
//!
//! The client sends `connection_init` with its key (`{"X-API-Key": "…"}`); an unknown or
//! revoked key closes the socket with 4403. Each `subscribe` runs through [`Api::execute_stream`]
//! (the width, depth and complexity limits and the input coercion of every request), within
//! the per-connection and per-key limits; its first answer, when it is a request error, is
//! an `error` message, else answers are `next` messages until `complete`. The server sends a
//! `ping` every `SYNC_WS_PING_SECS`, re-checks the key every `SYNC_WS_AUTH_RECHECK_SECS` and
//! closes the socket (4403) once it is revoked; a client that does not read its messages is
//! disconnected when `SYNC_WS_SEND_BUFFER` of them are waiting.
//!
//! Close codes, as the protocol defines them: 4400 a message that is not the protocol's,
//! 4401 `subscribe` before `connection_ack`, 4403 a refused key, 4408 no `connection_init`
//! in time, 4409 a subscription id already in use, 4429 a second `connection_init`, 1011 the
//! database could not check the key, 1013 too many refused keys from one address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::futures_util::stream::{self, AbortHandle, Abortable, BoxStream, SelectAll};
use async_graphql::futures_util::{SinkExt, StreamExt};
use async_graphql::{Data, Response};
use axum::Extension;
use axum::extract::State;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response as HttpResponse;
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod protocol;
mod settings;

use super::AppState;
use crate::domain::api_keys::Authenticated;
use crate::error::{Error, code};
use crate::graphql::context::{AdminAuth, RequestAuth, TenantAuth};
use crate::graphql::loaders::Loaders;
use protocol::{ClientMessage, End, authenticate, close_message, key_of};
use settings::KeySlot;
pub(crate) use settings::{KeySubscriptions, WsSettings};

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// How long `connection_ack` waits for the server to receive other processes' events (the
/// PostgreSQL `LISTEN` of a server that just started).
const EVENTS_READY_WAIT: Duration = Duration::from_secs(5);

/// `GET /graphql/ws`: a WebSocket upgrade to `graphql-transport-ws`.
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    ws: WebSocketUpgrade,
) -> HttpResponse {
    upgrade(
        state,
        ws,
        client.map(|Extension(ConnectInfo(address))| address.ip()),
    )
}

/// Answers a WebSocket upgrade request with the `graphql-transport-ws` protocol (for
/// `GET /graphql` as well as `/graphql/ws`); `client` is the caller's address, for the limit
/// on failed authentications. A client that does not offer the subprotocol is closed with
/// 4406, as graphql-ws servers do.
pub fn upgrade(state: AppState, ws: WebSocketUpgrade, client: Option<IpAddr>) -> HttpResponse {
    let max_message = state.inner.max_body_bytes;
    let ws = ws.protocols([PROTOCOL]).max_message_size(max_message);
    let offered = ws.selected_protocol().is_some();
    // The upgrade request's id (its `X-Request-Id`): every error of the connection carries it.
    let request_id = crate::telemetry::request_id();
    ws.on_upgrade(move |socket| async move {
        if offered {
            serve(state, socket, request_id, client).await;
        } else {
            let mut socket = socket;
            let _ = socket
                .send(close_message(4406, "Subprotocol not acceptable"))
                .await;
        }
    })
}

/// One running subscription.
struct Operation {
    abort: AbortHandle,
    /// Whether it has answered yet (a first answer that is a request error is an `error`).
    answered: bool,
    _slot: KeySlot,
}

/// One connection's state.
struct Connection {
    state: AppState,
    settings: WsSettings,
    out: mpsc::Sender<Message>,
    /// The id of the upgrade request, as `extensions.requestId` of every error.
    request_id: Option<String>,
    /// The client's address.
    client: Option<IpAddr>,
    key: Option<(String, Authenticated)>,
    session: Option<Arc<Data>>,
    operations: HashMap<String, Operation>,
    /// Each subscription's answers, tagged with its id; `None` when it has ended.
    streams: SelectAll<BoxStream<'static, (String, Option<Response>)>>,
}

async fn serve(
    state: AppState,
    socket: WebSocket,
    request_id: Option<String>,
    client: Option<IpAddr>,
) {
    let settings = state.inner.ws;
    let (mut sink, mut incoming) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<Message>(settings.send_buffer);
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let last = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || last {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut connection = Connection {
        state,
        settings,
        out,
        request_id,
        client,
        key: None,
        session: None,
        operations: HashMap::new(),
        streams: SelectAll::new(),
    };
    let end = connection.run(&mut incoming).await;
    let Connection { out, .. } = connection;
    match end {
        End::Close(code, reason) => {
            if out.try_send(close_message(code, &reason)).is_err() {
                writer.abort();
            }
        }
        End::Gone => {}
        End::TooSlow => {
            tracing::info!("subscription client too slow: disconnected");
            writer.abort();
        }
    }
    drop(out);
}

impl Connection {
    async fn run(
        &mut self,
        incoming: &mut (impl StreamExt<Item = Result<Message, axum::Error>> + Unpin),
    ) -> End {
        let init_deadline = tokio::time::sleep(self.settings.init_timeout);
        tokio::pin!(init_deadline);
        let mut ping = self
            .settings
            .ping
            .map(|every| tokio::time::interval_at(tokio::time::Instant::now() + every, every));
        let mut recheck = tokio::time::interval_at(
            tokio::time::Instant::now() + self.settings.recheck,
            self.settings.recheck,
        );
        loop {
            let acked = self.session.is_some();
            // Answers first: a subscription registers for events on its first poll, before
            // the next client message (say a `ping`) is answered.
            let step = tokio::select! {
                biased;
                Some((id, answer)) = self.streams.next(), if !self.streams.is_empty() => {
                    self.forward(id, answer)
                }
                message = incoming.next() => match message {
                    Some(Ok(message)) => self.receive(message).await,
                    _ => Err(End::Gone),
                },
                () = &mut init_deadline, if !acked => {
                    Err(End::Close(4408, "Connection initialisation timeout".into()))
                }
                _ = tick(&mut ping), if acked => self.send(json!({ "type": "ping" })),
                _ = recheck.tick(), if acked => self.recheck_key().await,
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Queues a protocol message.
    fn send(&self, message: Value) -> Result<(), End> {
        self.send_text(message.to_string())
    }

    /// Queues a message of subscription `id` whose payload is `payload` serialized as it is
    /// (a `Value` would sort the fields of an answer, which must come in query order).
    fn send_payload(
        &self,
        kind: &str,
        id: &str,
        payload: &impl serde::Serialize,
    ) -> Result<(), End> {
        let payload = serde_json::to_string(payload).unwrap_or_else(|_| "null".into());
        self.send_payload_text(kind, id, &payload)
    }

    /// Queues a message of subscription `id` whose payload is the JSON text `payload`.
    fn send_payload_text(&self, kind: &str, id: &str, payload: &str) -> Result<(), End> {
        let id = Value::from(id);
        self.send_text(format!(
            r#"{{"type":"{kind}","id":{id},"payload":{payload}}}"#
        ))
    }

    fn send_text(&self, text: String) -> Result<(), End> {
        self.out
            .try_send(Message::Text(text.into()))
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => End::TooSlow,
                mpsc::error::TrySendError::Closed(_) => End::Gone,
            })
    }

    async fn receive(&mut self, message: Message) -> Result<(), End> {
        let text = match &message {
            Message::Text(text) => text.as_str(),
            Message::Binary(bytes) => std::str::from_utf8(bytes).unwrap_or(""),
            Message::Close(_) => return Err(End::Gone),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        let message: ClientMessage = serde_json::from_str(text)
            .map_err(|err| End::Close(4400, format!("Invalid message received: {err}")))?;
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload).await,
            ClientMessage::Ping { payload } => {
                let mut pong = json!({ "type": "pong" });
                if let Some(payload) = payload {
                    pong["payload"] = payload;
                }
                self.send(pong)
            }
            ClientMessage::Pong {} => Ok(()),
            ClientMessage::Subscribe { id, payload } => self.subscribe(id, *payload),
            ClientMessage::Complete { id } => {
                if let Some(operation) = self.operations.remove(&id) {
                    operation.abort.abort();
                }
                Ok(())
            }
        }
    }

    /// `connection_init`: the key is checked, the session made, `connection_ack` sent.
    async fn init(&mut self, payload: Option<Value>) -> Result<(), End> {
        if self.key.is_some() {
            return Err(End::Close(4429, "Too many initialisation requests".into()));
        }
        let Some(key) = key_of(payload.as_ref()) else {
            return Err(End::Close(
                4403,
                "Forbidden: no API key in connection_init's payload ({\"X-API-Key\": \"…\"})"
                    .into(),
            ));
        };
        let authenticated = authenticate(&self.state, &key, self.client).await?;
        let state = &self.state.inner;
        let mut session = Data::default();
        let loaders = Loaders::new(&state.db, authenticated.scope.clone(), state.page_limits);
        session.insert(RequestAuth {
            tenant: TenantAuth::Granted(authenticated.clone()),
            admin: AdminAuth::Disabled,
        });
        session.insert(loaders);
        session.insert(state.events.clone());
        if !state.events.ready(EVENTS_READY_WAIT).await {
            tracing::warn!("subscription acknowledged before other replicas' events are received");
        }
        self.key = Some((key, authenticated));
        self.session = Some(Arc::new(session));
        self.send(json!({ "type": "connection_ack" }))
    }

    /// `subscribe`: within the limits, the operation starts.
    fn subscribe(&mut self, id: String, mut request: async_graphql::Request) -> Result<(), End> {
        let (Some(session), Some((_, authenticated))) = (&self.session, &self.key) else {
            return Err(End::Close(4401, "Unauthorized".into()));
        };
        if self.operations.contains_key(&id) {
            return Err(End::Close(
                4409,
                format!("Subscriber for {id} already exists"),
            ));
        }
        if self.operations.len() >= self.settings.per_connection {
            let message = format!(
                "this connection already runs {} subscriptions, the most one connection may \
                 (SYNC_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one first",
                self.settings.per_connection
            );
            return self.refuse(&id, code::RATE_LIMITED, message);
        }
        let Some(slot) = self
            .state
            .inner
            .key_subscriptions
            .take(authenticated.key_id.0, self.settings.per_key)
        else {
            let message = format!(
                "this API key already runs {} subscriptions, the most one key may \
                 (SYNC_WS_MAX_SUBSCRIPTIONS_PER_KEY): complete one first",
                self.settings.per_key
            );
            return self.refuse(&id, code::RATE_LIMITED, message);
        };
        crate::graphql::json::exact_numbers(&mut request.variables);
        if let Err(error) = self.state.inner.limits.check_nesting(&request.query) {
            return self.send_payload("error", &id, &[self.coded(error, true)]);
        }
        let answers = self
            .state
            .inner
            .api
            .execute_stream(request, session.clone());
        let tag = id.clone();
        let tagged = answers
            .map(move |answer| (tag.clone(), Some(answer)))
            .chain(stream::once({
                let id = id.clone();
                async move { (id, None) }
            }));
        let (abortable, abort) = stream::abortable(tagged);
        self.streams.push(Abortable::boxed(abortable));
        self.operations.insert(
            id,
            Operation {
                abort,
                answered: false,
                _slot: slot,
            },
        );
        Ok(())
    }

    /// An `error` message refusing subscription `id`.
    fn refuse(&self, id: &str, code: &str, message: String) -> Result<(), End> {
        let mut error = async_graphql::ServerError::new(message, None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        self.send_payload("error", id, &[self.coded(error, true)])
    }

    /// `error` with its `extensions.code` set, as the HTTP answers have it, and the
    /// connection's `extensions.requestId`.
    fn coded(
        &self,
        mut error: async_graphql::ServerError,
        request_error: bool,
    ) -> async_graphql::ServerError {
        let code = super::answer::builtin_code(&error.message, request_error);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code);
        }
        if let Some(id) = &self.request_id {
            extensions.set("requestId", id.as_str());
        }
        error
    }

    /// Sends an answer of subscription `id` (`None`: it has ended).
    fn forward(&mut self, id: String, answer: Option<Response>) -> Result<(), End> {
        let Some(operation) = self.operations.get_mut(&id) else {
            // Completed by the client meanwhile.
            return Ok(());
        };
        let Some(mut answer) = answer else {
            self.operations.remove(&id);
            return self.send(json!({ "type": "complete", "id": id }));
        };
        let first = !operation.answered;
        operation.answered = true;
        let request_error = answer.data == async_graphql::Value::Null && !answer.errors.is_empty();
        answer.errors = std::mem::take(&mut answer.errors)
            .into_iter()
            .map(|error| self.coded(error, request_error))
            .collect();
        if first && request_error {
            if let Some(operation) = self.operations.remove(&id) {
                operation.abort.abort();
            }
            return self.send_payload("error", &id, &answer.errors);
        }
        // Written as the HTTP answers are: with the lists the fast path wrote ahead.
        let payload = crate::graphql::wire::to_vec(&answer)
            .ok()
            .and_then(|text| String::from_utf8(text).ok())
            .unwrap_or_else(|| "null".into());
        self.send_payload_text("next", &id, &payload)
    }

    /// Closes the connection (4403) once its key is no longer valid.
    async fn recheck_key(&mut self) -> Result<(), End> {
        let Some((key, _)) = &self.key else {
            return Ok(());
        };
        match self
            .state
            .inner
            .authenticate(&self.state.inner.db, key)
            .await
        {
            Err(Error::Unauthenticated(reason)) => {
                Err(End::Close(4403, format!("Forbidden: {reason}")))
            }
            // The database did not answer: the key stays trusted until it can be checked.
            _ => Ok(()),
        }
    }
}

/// Waits for the next tick of `interval`, or forever without one.
async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}
