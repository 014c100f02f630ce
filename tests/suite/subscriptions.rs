//! Subscriptions over WebSocket (`graphql-transport-ws`), spoken by a real client
//! (tokio-tungstenite) to a real server: the handshake, `subscribe`/`next`/`complete`, errors,
//! limits, keys refused and revoked, pings, the progress of imports and syncs, listing changes,
//! and, on PostgreSQL, events across two servers and from the CLI.

use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sync_manager::config::ServerConfig;
use sync_manager::{db, http};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{TestApp, test_config};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a message before it fails rather than hangs (not a timing check).
const PATIENCE: Duration = Duration::from_secs(20);

// Removals here are meant: the mass-removal guard lets them through.
const IMPORT: &str = "mutation($s: ID!, $items: JSON!, $mode: ImportMode) { importProperties(input: { sourceId: $s, items: $items, mode: $mode, allowMassRemoval: true }) { importRun { id created } } }";
const SYNC: &str = "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t, allowMassRemoval: true }) { syncLog { id created updated conflicts removed } } }";
const SYNC_PROGRESS: &str = "subscription($s: ID!, $t: ID!) { syncProgress(sourceId: $s, targetId: $t) { sourceId targetId phase processed total created updated skipped conflicts removed syncLog { id created actor } } }";
const LISTING_CHANGES: &str = "subscription($t: ID!, $since: DateTime) { listingChanges(targetId: $t, since: $since) { listingId externalId kind cause syncLog { id } listing { id data } } }";

/// Serves `router` on a free local port.
async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    address
}

/// A tenant with a source and a target, served over TCP.
struct Live {
    app: TestApp,
    address: SocketAddr,
    key: String,
    source: String,
    target: String,
}

impl Live {
    async fn start() -> Self {
        Self::start_with(test_config()).await
    }

    async fn start_with(config: ServerConfig) -> Self {
        let app = TestApp::spawn_with(config).await;
        let address = serve(app.router.clone()).await;
        let (_, key) = app.create_tenant("Acme").await;
        let source = app.create_source(&key, "Feed").await;
        let target = app.create_target(&key, "Site").await;
        Self {
            app,
            address,
            key,
            source,
            target,
        }
    }

    /// A connection past `connection_ack`.
    async fn connect(&self) -> Socket {
        let mut socket = connect(self.address).await;
        init(&mut socket, &self.key).await;
        socket
    }

    async fn import(&self, items: Value) -> Value {
        self.app
            .data(
                &self.key,
                IMPORT,
                json!({ "s": self.source, "items": items }),
            )
            .await["importProperties"]["importRun"]
            .clone()
    }

    async fn sync(&self) -> Value {
        self.app
            .data(
                &self.key,
                SYNC,
                json!({ "s": self.source, "t": self.target }),
            )
            .await["syncSource"]["syncLog"]
            .clone()
    }

    fn pair(&self) -> Value {
        json!({ "s": self.source, "t": self.target })
    }
}

/// A WebSocket to `address` speaking `graphql-transport-ws`.
async fn connect(address: SocketAddr) -> Socket {
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket opens");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// The next protocol message, or what closed the socket as `{"close": code, "reason": …}`.
/// The server's keep-alive pings are answered and skipped unless `pings` is set.
async fn next_message(socket: &mut Socket, pings: bool) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a message within the test's patience")
            .expect("the socket is open")
            .expect("a message");
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] == "ping" && !pings {
                    send(socket, json!({ "type": "pong" })).await;
                    continue;
                }
                return value;
            }
            Message::Close(frame) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((0, String::new()));
                return json!({ "close": code, "reason": reason });
            }
            _ => {}
        }
    }
}

async fn recv(socket: &mut Socket) -> Value {
    next_message(socket, false).await
}

/// The close code the server ended the connection with.
async fn close_code(socket: &mut Socket) -> u64 {
    let message = recv(socket).await;
    message["close"]
        .as_u64()
        .unwrap_or_else(|| panic!("expected a close, got {message}"))
}

async fn init(socket: &mut Socket, key: &str) {
    send(
        socket,
        json!({ "type": "connection_init", "payload": { "X-API-Key": key } }),
    )
    .await;
    assert_eq!(recv(socket).await, json!({ "type": "connection_ack" }));
}

/// Subscribes, then waits for a ping's pong: the server has registered the subscription by
/// then (it polls a new subscription before it reads the next message).
async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    send(
        socket,
        json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }),
    )
    .await;
    send(
        socket,
        json!({ "type": "ping", "payload": { "after": id } }),
    )
    .await;
    let pong = recv(socket).await;
    assert_eq!(
        pong,
        json!({ "type": "pong", "payload": { "after": id } }),
        "subscription {id} answered before the pong"
    );
}

/// The payload of the next `next` message of `id`.
async fn next_of(socket: &mut Socket, id: &str) -> Value {
    let message = recv(socket).await;
    assert_eq!(
        [&message["type"], &message["id"]],
        [&json!("next"), &json!(id)],
        "expected a next of {id}: {message}"
    );
    message["payload"].clone()
}

/// The `data.<field>` of the next `next` message of `id`, which must have no errors.
async fn event(socket: &mut Socket, id: &str, field: &str) -> Value {
    let payload = next_of(socket, id).await;
    assert!(payload.get("errors").is_none(), "errors: {payload}");
    payload["data"][field].clone()
}

/// The `extensions.code` of an `error` message of `id`.
async fn error_code_of(socket: &mut Socket, id: &str) -> String {
    let message = recv(socket).await;
    assert_eq!(
        [&message["type"], &message["id"]],
        [&json!("error"), &json!(id)],
        "expected an error of {id}: {message}"
    );
    assert!(
        message["payload"][0]["extensions"]["requestId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "no request id: {message}"
    );
    message["payload"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {message}"))
        .to_owned()
}

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

#[tokio::test]
async fn init_subscribe_next_complete_and_pong() {
    let live = Live::start().await;
    let mut socket = live.connect().await;

    // A query runs once: next, then complete.
    send(&mut socket, json!({ "type": "subscribe", "id": "q", "payload": { "query": "{ sources { totalCount } }" } })).await;
    assert_eq!(
        next_of(&mut socket, "q").await,
        json!({ "data": { "sources": { "totalCount": 1 } } })
    );
    assert_eq!(
        recv(&mut socket).await,
        json!({ "type": "complete", "id": "q" })
    );

    subscribe(&mut socket, "s", SYNC_PROGRESS, live.pair()).await;
    live.import(json!([{ "id": "a" }, { "id": "b" }])).await;
    let log = live.sync().await;
    let started = event(&mut socket, "s", "syncProgress").await;
    assert_eq!(
        started,
        json!({
            "sourceId": live.source, "targetId": live.target, "phase": "STARTED",
            "processed": 0, "total": 2, "created": 0, "updated": 0, "skipped": 0,
            "conflicts": 0, "removed": 0, "syncLog": null,
        })
    );
    let writing = event(&mut socket, "s", "syncProgress").await;
    assert_eq!(
        [
            &writing["phase"],
            &writing["processed"],
            &writing["created"]
        ],
        [&json!("WRITING"), &json!(2), &json!(2)]
    );
    let finished = event(&mut socket, "s", "syncProgress").await;
    assert_eq!(finished["phase"], "FINISHED");
    assert_eq!(finished["syncLog"]["id"], log["id"]);
    assert_eq!(finished["syncLog"]["created"], 2);
    assert!(
        finished["syncLog"]["actor"]
            .as_str()
            .unwrap()
            .starts_with("api_key:")
    );

    // The stream stays open for the next sync, until the client completes it.
    live.sync().await;
    assert_eq!(
        event(&mut socket, "s", "syncProgress").await["phase"],
        "STARTED"
    );
    send(&mut socket, json!({ "type": "complete", "id": "s" })).await;
    send(&mut socket, json!({ "type": "ping" })).await;
    // The rest of that sync's events are not sent once completed (the pong may follow the
    // WRITING/FINISHED events already queued before the complete arrived).
    loop {
        let message = recv(&mut socket).await;
        if message["type"] == "pong" {
            break;
        }
        assert_eq!(message["id"], "s", "{message}");
        assert_eq!(message["type"], "next", "{message}");
    }
    live.sync().await;
    send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(recv(&mut socket).await, json!({ "type": "pong" }));
}

#[tokio::test]
async fn import_progress_and_nothing_from_a_rolled_back_import() {
    let live = Live::start().await;
    let mut socket = live.connect().await;
    subscribe(
        &mut socket,
        "i",
        "subscription($s: ID!) { importProgress(sourceId: $s) { sourceId phase processed total created updated unchanged removed importRun { id created } } }",
        json!({ "s": live.source }),
    )
    .await;
    // Item 1 has no id: the import fails and writes nothing, so it sends nothing either.
    let failed = live
        .app
        .graphql(
            &live.key,
            IMPORT,
            json!({ "s": live.source, "items": [{ "id": "a" }, { "no": "id" }] }),
        )
        .await;
    assert_eq!(crate::common::error_code(&failed), "BAD_USER_INPUT");
    let run = live
        .import(json!([{ "id": "a" }, { "id": "b" }, { "id": "c" }]))
        .await;
    assert_eq!(
        event(&mut socket, "i", "importProgress").await,
        json!({
            "sourceId": live.source, "phase": "WRITING", "processed": 3, "total": null,
            "created": 3, "updated": 0, "unchanged": 0, "removed": 0, "importRun": null,
        })
    );
    assert_eq!(
        event(&mut socket, "i", "importProgress").await,
        json!({
            "sourceId": live.source, "phase": "FINISHED", "processed": 3, "total": 3,
            "created": 3, "updated": 0, "unchanged": 0, "removed": 0,
            "importRun": { "id": run["id"], "created": 3 },
        })
    );
}

/// The (externalId, kind, cause) of the next `n` listing changes of `id`, and their sync
/// log ids.
async fn changes(socket: &mut Socket, id: &str, n: usize) -> Vec<(String, String, String, Value)> {
    let mut seen = Vec::new();
    for _ in 0..n {
        let change = event(socket, id, "listingChanges").await;
        assert_eq!(change["listingId"], change["listing"]["id"]);
        seen.push((
            change["externalId"].as_str().unwrap().to_owned(),
            change["kind"].as_str().unwrap().to_owned(),
            change["cause"].as_str().unwrap().to_owned(),
            change["syncLog"]["id"].clone(),
        ));
    }
    seen
}

fn change(
    external_id: &str,
    kind: &str,
    cause: &str,
    log: &Value,
) -> (String, String, String, Value) {
    (external_id.into(), kind.into(), cause.into(), log.clone())
}

#[tokio::test]
async fn listing_changes_for_create_update_remove_conflict_and_resolve() {
    let live = Live::start().await;
    let mut socket = live.connect().await;
    subscribe(
        &mut socket,
        "l",
        LISTING_CHANGES,
        json!({ "t": live.target }),
    )
    .await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);

    live.import(json!([{ "id": "a", "v": 1 }, { "id": "b", "v": 1 }, { "id": "c", "v": 1 }]))
        .await;
    let first = live.sync().await;
    let seen = changes(&mut socket, "l", 3).await;
    assert_eq!(
        seen,
        [
            change("a", "CREATED", "SYNC", &first["id"]),
            change("b", "CREATED", "SYNC", &first["id"]),
            change("c", "CREATED", "SYNC", &first["id"]),
        ]
    );

    // A hand edit of `a`.
    let listing_a = live
        .app
        .data(
            &live.key,
            "query($t: ID!) { target(id: $t) { properties(first: 1) { edges { node { id } } } } }",
            json!({ "t": live.target }),
        )
        .await["target"]["properties"]["edges"][0]["node"]["id"]
        .clone();
    live.app
        .data(&live.key, "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { v: 9 } }) { targetProperty { id } } }", json!({ "id": listing_a }))
        .await;
    let edit = event(&mut socket, "l", "listingChanges").await;
    assert_eq!(
        [
            &edit["externalId"],
            &edit["kind"],
            &edit["cause"],
            &edit["syncLog"]
        ],
        [
            &json!("a"),
            &json!("UPDATED"),
            &json!("MANUAL_EDIT"),
            &Value::Null
        ]
    );
    assert_eq!(edit["listing"]["data"], json!({ "id": "a", "v": 9 }));

    // The source changes `a` and `b` and drops `c`.
    live.app
        .data(&live.key, IMPORT, json!({ "s": live.source, "items": [{ "id": "a", "v": 2 }, { "id": "b", "v": 2 }], "mode": "FULL" }))
        .await;
    let second = live.sync().await;
    assert_eq!(
        [&second["updated"], &second["conflicts"], &second["removed"]],
        [&json!(1), &json!(1), &json!(1)]
    );
    assert_eq!(
        changes(&mut socket, "l", 3).await,
        [
            change("a", "CONFLICT", "SYNC", &second["id"]),
            change("b", "UPDATED", "SYNC", &second["id"]),
            change("c", "REMOVED", "SYNC", &second["id"]),
        ]
    );

    live.app
        .data(&live.key, "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: ACCEPT_SOURCE }) { targetProperty { id } } }", json!({ "id": listing_a }))
        .await;
    let resolved = event(&mut socket, "l", "listingChanges").await;
    assert_eq!(
        [
            &resolved["externalId"],
            &resolved["kind"],
            &resolved["cause"]
        ],
        [
            &json!("a"),
            &json!("RESOLVED"),
            &json!("CONFLICT_RESOLUTION")
        ]
    );
    assert_eq!(resolved["listing"]["data"], json!({ "id": "a", "v": 2 }));

    // A replay since before it all: each listing once, with its latest change.
    // (Replayed events come at once: no ping first.)
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "r", "payload": { "query": LISTING_CHANGES, "variables": { "t": live.target, "since": before.to_rfc3339() } } }),
    )
    .await;
    let replayed = changes(&mut socket, "r", 3).await;
    assert_eq!(
        replayed,
        [
            change("b", "CREATED", "SYNC", &Value::Null),
            change("c", "REMOVED", "SYNC", &Value::Null),
            change("a", "RESOLVED", "CONFLICT_RESOLUTION", &Value::Null),
        ]
    );
}

#[tokio::test]
async fn errors_are_error_messages_for_that_subscription() {
    let mut config = test_config();
    config.ws_max_subscriptions_per_connection = 2;
    config.ws_max_subscriptions_per_key = 3;
    let live = Live::start_with(config).await;
    let (_, other_key) = live.app.create_tenant("Other").await;
    let other_source = live.app.create_source(&other_key, "Theirs").await;
    let mut socket = live.connect().await;

    send(&mut socket, json!({ "type": "subscribe", "id": "bad", "payload": { "query": "subscription { importProgress { phase } }" } })).await;
    assert_eq!(error_code_of(&mut socket, "bad").await, "BAD_USER_INPUT");
    send(
        &mut socket,
        json!({ "type": "subscribe", "id": "syntax", "payload": { "query": "subscription {" } }),
    )
    .await;
    assert_eq!(error_code_of(&mut socket, "syntax").await, "BAD_USER_INPUT");
    let progress = "subscription($s: ID!) { importProgress(sourceId: $s) { phase } }";
    send(&mut socket, json!({ "type": "subscribe", "id": "theirs", "payload": { "query": progress, "variables": { "s": other_source } } })).await;
    assert_eq!(error_code_of(&mut socket, "theirs").await, "NOT_FOUND");
    let unknown = sync_manager::ids::encode_global("Source", 999_999);
    send(&mut socket, json!({ "type": "subscribe", "id": "unknown", "payload": { "query": progress, "variables": { "s": unknown } } })).await;
    assert_eq!(error_code_of(&mut socket, "unknown").await, "NOT_FOUND");
    // Deeper than SYNC_MAX_DEPTH (16): refused before it is even validated.
    let too_deep = format!(
        "subscription($s: ID!, $t: ID!) {{ syncProgress(sourceId: $s, targetId: $t) {{ {} id {} }} }}",
        "syncLog { ".repeat(18),
        "} ".repeat(18)
    );
    send(&mut socket, json!({ "type": "subscribe", "id": "deep", "payload": { "query": too_deep, "variables": live.pair() } })).await;
    assert_eq!(error_code_of(&mut socket, "deep").await, "QUERY_TOO_DEEP");

    // Two per connection: the third is refused, the connection stays.
    subscribe(&mut socket, "one", progress, json!({ "s": live.source })).await;
    subscribe(&mut socket, "two", progress, json!({ "s": live.source })).await;
    send(&mut socket, json!({ "type": "subscribe", "id": "three", "payload": { "query": progress, "variables": { "s": live.source } } })).await;
    assert_eq!(error_code_of(&mut socket, "three").await, "RATE_LIMITED");
    // Three per key: a second connection gets one more, not two.
    let mut second = live.connect().await;
    subscribe(&mut second, "a", progress, json!({ "s": live.source })).await;
    send(&mut second, json!({ "type": "subscribe", "id": "b", "payload": { "query": progress, "variables": { "s": live.source } } })).await;
    assert_eq!(error_code_of(&mut second, "b").await, "RATE_LIMITED");
    // Completing one frees its place.
    send(&mut socket, json!({ "type": "complete", "id": "one" })).await;
    subscribe(&mut second, "b", progress, json!({ "s": live.source })).await;
    live.import(json!({ "id": "x" })).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let message = recv(&mut second).await;
        assert_eq!(
            message["payload"]["data"]["importProgress"]["phase"],
            "WRITING"
        );
        ids.push(message["id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["a", "b"]);

    // A subscription id already running closes the connection (4409).
    send(&mut second, json!({ "type": "subscribe", "id": "b", "payload": { "query": progress, "variables": { "s": live.source } } })).await;
    loop {
        let message = recv(&mut second).await;
        if message.get("close").is_some() {
            assert_eq!(message["close"], 4409, "{message}");
            break;
        }
    }
}

#[tokio::test]
async fn protocol_violations_and_refused_keys_close_the_socket() {
    let live = Live::start().await;

    let mut socket = connect(live.address).await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(close_code(&mut socket).await, 4403);

    let mut socket = connect(live.address).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "X-API-Key": "sm_nope" } }),
    )
    .await;
    assert_eq!(close_code(&mut socket).await, 4403);

    let mut socket = connect(live.address).await;
    send(&mut socket, json!({ "type": "subscribe", "id": "1", "payload": { "query": "{ sources { totalCount } }" } })).await;
    assert_eq!(close_code(&mut socket).await, 4401);

    let mut socket = live.connect().await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "X-API-Key": live.key } }),
    )
    .await;
    assert_eq!(close_code(&mut socket).await, 4429);

    let mut socket = live.connect().await;
    send(&mut socket, json!({ "type": "what" })).await;
    assert_eq!(close_code(&mut socket).await, 4400);
}

#[tokio::test]
async fn refused_keys_from_one_address_are_limited_as_over_http() {
    let mut config = test_config();
    config.auth_failures_per_minute = 1;
    let live = Live::start_with(config).await;
    let bad_init = json!({ "type": "connection_init", "payload": { "X-API-Key": "sm_nope" } });
    let mut socket = connect(live.address).await;
    send(&mut socket, bad_init.clone()).await;
    assert_eq!(close_code(&mut socket).await, 4403);
    let mut socket = connect(live.address).await;
    send(&mut socket, bad_init).await;
    assert_eq!(close_code(&mut socket).await, 1013);
    // A valid key still opens.
    let mut socket = live.connect().await;
    send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(recv(&mut socket).await, json!({ "type": "pong" }));
}

#[tokio::test]
async fn a_key_revoked_while_connected_ends_its_subscriptions() {
    let mut config = test_config();
    config.ws_auth_recheck_secs = 1;
    let live = Live::start_with(config).await;
    let created = live
        .app
        .data(
            &live.key,
            "mutation { createApiKey(input: { name: \"watcher\" }) { key apiKey { id } } }",
            json!({}),
        )
        .await["createApiKey"]
        .clone();
    let mut socket = connect(live.address).await;
    init(&mut socket, created["key"].as_str().unwrap()).await;
    subscribe(&mut socket, "s", SYNC_PROGRESS, live.pair()).await;
    live.app
        .data(
            &live.key,
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
            json!({ "id": created["apiKey"]["id"] }),
        )
        .await;
    assert_eq!(close_code(&mut socket).await, 4403);
}

#[tokio::test]
async fn the_server_pings_and_answers_pings() {
    let mut config = test_config();
    config.ws_ping_secs = 1;
    let live = Live::start_with(config).await;
    let mut socket = live.connect().await;
    send(
        &mut socket,
        json!({ "type": "ping", "payload": { "n": 1 } }),
    )
    .await;
    assert_eq!(
        next_message(&mut socket, true).await,
        json!({ "type": "pong", "payload": { "n": 1 } })
    );
    assert_eq!(
        next_message(&mut socket, true).await,
        json!({ "type": "ping" })
    );
    send(&mut socket, json!({ "type": "pong" })).await;
    assert_eq!(
        next_message(&mut socket, true).await,
        json!({ "type": "ping" })
    );
}

/// A second server over the same database as `live`'s.
async fn replica(live: &Live) -> SocketAddr {
    let db = db::connect_and_migrate(&live.app.database_url)
        .await
        .expect("connect");
    let state = http::AppState::new(db, &live.app.config, None);
    serve(http::router(state, &live.app.config)).await
}

#[tokio::test]
async fn a_sync_on_one_server_is_seen_on_another_in_order_exactly_once() {
    if !on_postgres() {
        // On SQLite the bus is inside one process: there are no replicas to reach.
        return;
    }
    let live = Live::start().await;
    let other = replica(&live).await;
    let mut socket = connect(other).await;
    init(&mut socket, &live.key).await;
    subscribe(&mut socket, "s", SYNC_PROGRESS, live.pair()).await;
    subscribe(
        &mut socket,
        "l",
        LISTING_CHANGES,
        json!({ "t": live.target }),
    )
    .await;

    live.import(json!([{ "id": "a" }, { "id": "b" }])).await;
    let log = live.sync().await;
    // Each subscription's events come in order; the two subscriptions interleave freely.
    let (mut progress, mut listings) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let message = recv(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        let data = &message["payload"]["data"];
        match message["id"].as_str() {
            Some("s") => progress.push((
                data["syncProgress"]["phase"].clone(),
                data["syncProgress"]["syncLog"]["id"].clone(),
            )),
            Some("l") => listings.push((
                data["listingChanges"]["externalId"].clone(),
                data["listingChanges"]["kind"].clone(),
                data["listingChanges"]["syncLog"]["id"].clone(),
            )),
            _ => panic!("unexpected {message}"),
        }
    }
    assert_eq!(
        progress,
        [
            (json!("STARTED"), Value::Null),
            (json!("WRITING"), Value::Null),
            (json!("FINISHED"), log["id"].clone()),
        ]
    );
    assert_eq!(
        listings,
        [
            (json!("a"), json!("CREATED"), log["id"].clone()),
            (json!("b"), json!("CREATED"), log["id"].clone()),
        ]
    );
    // Exactly once: the next message is the next sync's first event, not a repeat.
    live.sync().await;
    let next = event(&mut socket, "s", "syncProgress").await;
    assert_eq!(
        [&next["phase"], &next["total"]],
        [&json!("STARTED"), &json!(2)]
    );
    assert_eq!(
        event(&mut socket, "s", "syncProgress").await["phase"],
        "WRITING"
    );
    assert_eq!(
        event(&mut socket, "s", "syncProgress").await["phase"],
        "FINISHED"
    );
}

/// The process ids of the `LISTEN` connections open on `live`'s database.
async fn listeners(live: &Live) -> Vec<i32> {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = live
        .app
        .db
        .query_all_raw(Statement::from_string(
            live.app.db.get_database_backend(),
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        ))
        .await
        .expect("pg_stat_activity");
    rows.iter()
        .map(|row| row.try_get::<i32>("", "pid").expect("pid"))
        .collect()
}

#[tokio::test]
async fn a_listener_whose_connection_drops_reconnects() {
    if !on_postgres() {
        return;
    }
    let live = Live::start().await;
    let other = replica(&live).await;
    let mut socket = connect(other).await;
    init(&mut socket, &live.key).await;
    subscribe(&mut socket, "s", SYNC_PROGRESS, live.pair()).await;
    let before = listeners(&live).await;
    assert_eq!(before.len(), 2);
    {
        use sea_orm::{ConnectionTrait, Statement};
        live.app
            .db
            .execute_raw(Statement::from_string(
                live.app.db.get_database_backend(),
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
            ))
            .await
            .expect("terminate the listeners");
    }
    // Both servers listen again (they reconnect on their own; nothing here makes them).
    let mut polls = 0;
    while listeners(&live)
        .await
        .iter()
        .filter(|pid| !before.contains(pid))
        .count()
        < 2
    {
        polls += 1;
        assert!(polls < 2_000, "the listeners did not come back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    live.import(json!({ "id": "a" })).await;
    live.sync().await;
    assert_eq!(
        event(&mut socket, "s", "syncProgress").await["phase"],
        "STARTED"
    );
}

#[tokio::test]
async fn a_sync_run_from_the_cli_sends_progress() {
    if !on_postgres() {
        // On SQLite a CLI process cannot reach the server's in-process channel (README).
        return;
    }
    let live = Live::start().await;
    let mut socket = live.connect().await;
    subscribe(&mut socket, "s", SYNC_PROGRESS, live.pair()).await;
    live.import(json!([{ "id": "a" }])).await;
    let tenant = live
        .app
        .data(&live.key, "{ viewer { id } }", json!({}))
        .await["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let output = crate::common::sync_manager(&live.app.database_url)
        .args(["sync", &tenant, &live.source, &live.target, "--json"])
        .output()
        .expect("run the CLI");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        event(&mut socket, "s", "syncProgress").await["phase"],
        "STARTED"
    );
    assert_eq!(
        event(&mut socket, "s", "syncProgress").await["phase"],
        "WRITING"
    );
    let finished = event(&mut socket, "s", "syncProgress").await;
    assert_eq!(
        [
            &finished["phase"],
            &finished["syncLog"]["created"],
            &finished["syncLog"]["actor"]
        ],
        [&json!("FINISHED"), &json!(1), &json!("cli")]
    );
}

/// Prints the latency from a commit on one server to its event on another (PostgreSQL):
/// `TEST_DATABASE_URL=… cargo test --test suite replica_latency -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a test: run it by name"]
async fn replica_latency() {
    if !on_postgres() {
        eprintln!("replica_latency needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let live = Live::start().await;
    let other = replica(&live).await;
    let mut socket = connect(other).await;
    init(&mut socket, &live.key).await;
    live.import(json!([{ "id": "a", "v": 0 }])).await;
    live.sync().await;
    subscribe(
        &mut socket,
        "l",
        "subscription($t: ID!) { listingChanges(targetId: $t) { at } }",
        json!({ "t": live.target }),
    )
    .await;
    let listing = live
        .app
        .data(
            &live.key,
            "query($t: ID!) { target(id: $t) { properties(first: 1) { edges { node { id } } } } }",
            json!({ "t": live.target }),
        )
        .await["target"]["properties"]["edges"][0]["node"]["id"]
        .clone();
    let mut micros = Vec::new();
    for n in 1..=200 {
        live.app
            .data(&live.key, "mutation($id: ID!, $p: JSON!) { updateTargetProperty(input: { id: $id, patch: $p }) { targetProperty { id } } }", json!({ "id": listing, "p": { "v": n } }))
            .await;
        let change = event(&mut socket, "l", "listingChanges").await;
        let received = chrono::Utc::now();
        let at: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(change["at"].clone()).expect("at");
        micros.push((received - at).num_microseconds().unwrap_or(i64::MAX));
    }
    micros.sort_unstable();
    let percentile = |p: usize| micros[(micros.len() - 1) * p / 100] as f64 / 1000.0;
    println!(
        "commit -> event on the other replica, {} edits: min {:.2} ms, median {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        micros.len(),
        percentile(0),
        percentile(50),
        percentile(95),
        percentile(99),
        percentile(100)
    );
}
