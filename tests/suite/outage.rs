//! A database that cannot answer: requests are told to retry (`503`, `SERVICE_UNAVAILABLE`,
//! `Retry-After`), never that their good key is bad; the probes answer at once.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use sea_orm::{DatabaseTransaction, DbBackend, TransactionTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse};

async fn post(app: &TestApp, key: &str, query: &str) -> TestResponse {
    let body = json!({ "query": query }).to_string();
    app.send(
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("x-api-key", key)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn get(app: &TestApp, path: &str) -> TestResponse {
    app.send(Request::get(path).body(Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn a_database_outage_is_503_and_never_a_bad_key() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    assert_eq!(
        app.data(&key, "{ viewer { name } }", json!({})).await["viewer"]["name"],
        "Acme"
    );

    // Every connection of the pool goes away, as when PostgreSQL restarts.
    app.db.close_by_ref().await.unwrap();

    for key in [key.as_str(), "smk_unknown"] {
        let response = post(&app, key, "{ viewer { name } }").await;
        assert_eq!(
            response.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            response.body
        );
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{}",
            response.body
        );
        assert_eq!(response.headers["retry-after"], "2");
        assert!(response.body.get("data").is_none(), "{}", response.body);
    }

    let health = get(&app, "/health").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        health.body,
        json!({ "status": "degraded", "database": "down" })
    );
    let ready = get(&app, "/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["database"], "down");
    let live = get(&app, "/livez").await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body, json!({ "status": "ok" }));
}

#[tokio::test]
async fn an_unknown_key_is_still_unauthenticated() {
    let app = TestApp::spawn().await;
    let body = app
        .graphql("smk_not_a_key", "{ viewer { name } }", json!({}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(body["errors"][0]["message"], "unknown API key");
}

#[tokio::test]
async fn probes_of_a_healthy_server() {
    let app = TestApp::spawn().await;
    let health = get(&app, "/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, json!({ "status": "ok", "database": "up" }));
    let ready = get(&app, "/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.body,
        json!({ "status": "ready", "database": "up", "migrations": "applied" })
    );
    assert_eq!(get(&app, "/livez").await.status, StatusCode::OK);
}

/// With every pooled connection held by someone else, the database cannot answer a probe
/// in time: `/health` says so within its one-second budget instead of waiting for the pool
/// (ten seconds) and then answering.
#[tokio::test]
async fn health_answers_at_once_when_no_connection_is_free() {
    let app = TestApp::spawn().await;
    let size = match app.db.get_database_backend() {
        DbBackend::Postgres => app
            .db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        _ => app
            .db
            .get_sqlite_connection_pool()
            .options()
            .get_max_connections(),
    };
    let mut held: Vec<DatabaseTransaction> = Vec::new();
    for _ in 0..size {
        held.push(app.db.begin().await.unwrap());
    }
    let health = tokio::time::timeout(Duration::from_secs(5), get(&app, "/health"))
        .await
        .expect("/health answers without waiting for the pool");
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.body["database"], Value::from("down"));
    let ready = tokio::time::timeout(Duration::from_secs(5), get(&app, "/readyz"))
        .await
        .expect("/readyz answers without waiting for the pool");
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    drop(held);
}

/// Sessions PostgreSQL ends while they wait in the pool (a restart, `pg_terminate_backend`, a
/// proxy's idle timeout) are found out on their way out of it once they have waited
/// `PING_AFTER_IDLE`, and replaced: no request gets a dead connection. (Connections used again
/// within that pause are not checked; the pool checks each one as it comes back.)
#[tokio::test]
async fn sessions_ended_while_idle_in_the_pool_are_replaced_before_use() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        eprintln!("skipped on SQLite: its connections cannot be ended from outside");
        return;
    }
    let (_, key) = app.create_tenant("Acme").await;
    const HELD: usize = 4;
    let mut held: Vec<DatabaseTransaction> = Vec::new();
    for _ in 0..HELD {
        held.push(app.db.begin().await.unwrap());
    }
    drop(held);
    let ended = app
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend' AND query NOT ILIKE 'LISTEN%'",
        ))
        .await
        .unwrap();
    assert!(ended.len() >= HELD - 1, "ended {} sessions", ended.len());
    tokio::time::sleep(sync_manager::db::PING_AFTER_IDLE + Duration::from_millis(300)).await;

    let mut held: Vec<DatabaseTransaction> = Vec::new();
    for _ in 0..HELD {
        let txn = app.db.begin().await.expect("a live connection");
        txn.query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT 1"))
            .await
            .expect("the connection answers");
        held.push(txn);
    }
    drop(held);
    for _ in 0..HELD {
        assert_eq!(
            app.data(&key, "{ viewer { name } }", json!({})).await["viewer"]["name"],
            "Acme"
        );
    }
}
