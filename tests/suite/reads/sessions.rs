//! A query's reads on one held connection (PostgreSQL): the key, the sources and their
//! listings share one pooled connection, at most half the pool is held at once, a connection
//! the database ended is replaced, and more concurrent requests than connections are all
//! answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use sync_manager::config::ServerConfig;
use sync_manager::http::{AppState, router};
use sync_manager::store::read_session::{ReadSession, ReadSessions};
use tokio::net::TcpListener;

use crate::common::{TestApp, test_config};

/// The app, or `None` (saying why) on SQLite, whose reads go through the pool.
async fn postgres_app() -> Option<TestApp> {
    let app = TestApp::spawn().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        eprintln!("skipped on SQLite: its reads go through the pool, a connection a statement");
        return None;
    }
    Some(app)
}

/// The server process id of the connection `session` runs its statements on.
async fn backend_of(session: &ReadSession) -> i32 {
    let row = session
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_backend_pid() AS pid",
        ))
        .await
        .expect("the session answers")
        .expect("a row");
    row.try_get("", "pid").expect("pid")
}

#[tokio::test]
async fn a_session_runs_every_statement_on_the_connection_it_took_first() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let sessions = ReadSessions::new(&app.db);
    let session = sessions.begin();
    assert!(session.holds());
    let first = backend_of(&session).await;
    for _ in 0..3 {
        assert_eq!(backend_of(&session).await, first);
    }
    // The request's loaders hold clones: the same connection.
    assert_eq!(backend_of(&session.clone()).await, first);
    // Given back, it reads through the pool.
    assert!(!session.unheld().holds());
}

#[tokio::test]
async fn at_most_half_the_pool_is_held_and_the_rest_still_serves() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let size = app
        .db
        .get_postgres_connection_pool()
        .options()
        .get_max_connections() as usize;
    let sessions = ReadSessions::new(&app.db);
    let mut all: Vec<ReadSession> = (0..size + 4).map(|_| sessions.begin()).collect();
    assert_eq!(all.iter().filter(|s| s.holds()).count(), size / 2);
    // Every held session takes its connection; the sessions without a turn, and a
    // transaction, still get connections from the other half.
    let mut backends = std::collections::HashSet::new();
    for session in &all {
        let pid = backend_of(session).await;
        if session.holds() {
            assert!(backends.insert(pid), "two sessions share connection {pid}");
        }
    }
    let txn = sea_orm::TransactionTrait::begin(&app.db)
        .await
        .expect("a connection beside the held ones");
    drop(txn);
    // A session ended gives its turn back.
    let at = all.iter().position(ReadSession::holds).expect("a held one");
    all.remove(at);
    assert!(sessions.begin().holds());
}

#[tokio::test]
async fn a_held_connection_the_database_ended_is_replaced_at_the_next_statement() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let session = ReadSessions::new(&app.db).begin();
    let ended = backend_of(&session).await;
    app.db
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_terminate_backend({ended})"),
        ))
        .await
        .expect("terminate");
    let lost = session
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT 1"))
        .await
        .expect_err("the ended connection cannot answer");
    let error = sync_manager::error::Error::from(lost);
    assert!(
        matches!(error, sync_manager::error::Error::Unavailable(_)),
        "{error:?}"
    );
    let replaced = backend_of(&session).await;
    assert_ne!(replaced, ended);
    assert_eq!(backend_of(&session).await, replaced);
}

/// The app's router over a loopback socket, with an observer that counts the statements run
/// on held connections only (the pool's go to the app's own counter).
async fn serve_counting_held(app: &TestApp) -> (String, Arc<AtomicU32>) {
    let held = Arc::new(AtomicU32::new(0));
    let counter = held.clone();
    let state = AppState::observed(
        app.db.clone(),
        Arc::new(move |_: &sea_orm::metric::Info<'_>| {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
        &app.config,
        None,
    );
    let router = router(state, &app.config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    (format!("http://{address}/graphql"), held)
}

async fn post(client: &reqwest::Client, url: &str, key: &str, query: &str, variables: Value) {
    let response = client
        .post(url)
        .header("x-api-key", key)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
}

const NESTED: &str = "{ sources(first: 10) { edges { node { name properties(first: 100) { edges { node { externalId contentHash } } } } } } }";

#[tokio::test]
async fn a_query_reads_on_the_connection_it_holds_and_a_mutation_gives_it_back() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let (url, held) = serve_counting_held(&app).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    post(&client, &url, &key, NESTED, json!({})).await;
    // The key, the sources, their listings.
    assert_eq!(held.swap(0, Ordering::SeqCst), 3);

    post(
        &client,
        &url,
        &key,
        "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [{ id: \"a\", price: 1 }] }) { importRun { created } } }",
        json!({ "s": source }),
    )
    .await;
    // Only the key: the import writes in its own transaction, and its answer reads through
    // the pool.
    assert_eq!(held.swap(0, Ordering::SeqCst), 1);
}

#[tokio::test]
async fn more_concurrent_requests_than_pooled_connections_are_all_answered() {
    // One key sends them all, so its own limits are lifted.
    let app = TestApp::spawn_with(ServerConfig {
        key_max_concurrent: 0,
        key_requests_per_second: 0,
        ..test_config()
    })
    .await;
    let (_, key) = app.create_tenant("Acme").await;
    for s in 0..3 {
        let source = app.create_source(&key, &format!("Feed {s}")).await;
        let items: Vec<Value> = (0..50)
            .map(|i| json!({ "id": format!("{s}-{i}"), "price": i }))
            .collect();
        app.import(&key, &source, json!(items)).await;
    }
    let (url, _) = serve_counting_held(&app).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let source = app.create_source(&key, "Busy").await;
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..64 {
        let (client, url, key, source) = (client.clone(), url.clone(), key.clone(), source.clone());
        requests.spawn(async move {
            if n % 8 == 0 {
                let items: Vec<Value> = (0..20)
                    .map(|i| json!({ "id": format!("b-{i}"), "price": n * 100 + i }))
                    .collect();
                post(
                    &client,
                    &url,
                    &key,
                    "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
                    json!({ "s": source, "items": items }),
                )
                .await;
            } else {
                post(&client, &url, &key, NESTED, json!({})).await;
            }
        });
    }
    while let Some(done) = requests.join_next().await {
        done.expect("every request is answered");
    }
}
