//! Enums stored as text (`sources.kind`, `targets.conflict_policy`, `*_snapshots.reason`, …):
//! a value this version does not know is an `INTERNAL` error, never read as some default.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::common::error_code;
use crate::engine::Setup;

/// Runs `sql` (no parameters) on the test database.
async fn raw(s: &Setup, sql: &str) {
    let db = &s.app.db;
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

/// The one number `sql` selects.
async fn count(s: &Setup, sql: &str) -> i64 {
    let db = &s.app.db;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// Asserts `body` failed with `INTERNAL` and does not show the stored value.
fn assert_internal(body: &Value, stored: &str) {
    assert_eq!(error_code(body), "INTERNAL", "{body}");
    assert_eq!(body["errors"][0]["message"], "internal error", "{body}");
    assert!(!body.to_string().contains(stored), "{body}");
}

#[tokio::test]
async fn an_unknown_source_kind_is_an_internal_error_and_an_update_writes_nothing() {
    let s = Setup::new().await;
    raw(&s, "UPDATE sources SET kind = 'ftp'").await;

    let body = s
        .app
        .graphql(
            &s.key,
            "{ sources(first: 5) { nodes { name kind } } }",
            json!({}),
        )
        .await;
    assert_internal(&body, "ftp");
    assert!(body["data"].is_null(), "{body}");

    let body = s
        .app
        .graphql(
            &s.key,
            "mutation($id: ID!) { updateSource(input: { id: $id, name: \"Renamed\" }) { source { name } } }",
            json!({ "id": s.source }),
        )
        .await;
    assert_internal(&body, "ftp");
    assert_eq!(
        count(
            &s,
            "SELECT COUNT(*) FROM sources WHERE name = 'Feed' AND kind = 'ftp'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_unknown_conflict_policy_fails_a_sync_before_it_writes() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a", "price": 1 }]), "INCREMENTAL")
        .await;
    raw(&s, "UPDATE targets SET conflict_policy = 'overwrite'").await;

    let body = s.sync_raw(false).await;
    assert_internal(&body, "overwrite");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM target_properties").await, 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM sync_logs").await, 0);

    let body = s
        .app
        .graphql(
            &s.key,
            "query($id: ID!) { target(id: $id) { conflictPolicy } }",
            json!({ "id": s.target }),
        )
        .await;
    assert_internal(&body, "overwrite");
}

#[tokio::test]
async fn an_unknown_target_kind_is_an_internal_error() {
    let s = Setup::new().await;
    raw(&s, "UPDATE targets SET kind = 'printer'").await;
    let body = s
        .app
        .graphql(
            &s.key,
            "{ targets(first: 5) { nodes { kind } } }",
            json!({}),
        )
        .await;
    assert_internal(&body, "printer");
}

#[tokio::test]
async fn an_unknown_snapshot_reason_is_an_internal_error_not_a_sync() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a", "price": 1 }]), "INCREMENTAL")
        .await;
    s.import(json!([{ "id": "a", "price": 2 }]), "INCREMENTAL")
        .await;
    let query = "query($id: ID!) { source(id: $id) { properties(first: 5) { nodes { snapshots { nodes { reason } } } } } }";
    let body = s.app.data(&s.key, query, json!({ "id": s.source })).await;
    assert_eq!(
        body["source"]["properties"]["nodes"][0]["snapshots"]["nodes"][0]["reason"],
        "IMPORT"
    );

    raw(&s, "UPDATE source_snapshots SET reason = 'archived'").await;
    let body = s
        .app
        .graphql(&s.key, query, json!({ "id": s.source }))
        .await;
    assert_internal(&body, "archived");
}

#[tokio::test]
async fn an_unknown_import_mode_is_an_internal_error() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a" }]), "FULL").await;
    raw(&s, "UPDATE import_runs SET mode = 'partial'").await;
    let body = s
        .app
        .graphql(
            &s.key,
            "query($id: ID!) { source(id: $id) { importRuns(first: 5) { nodes { mode } } } }",
            json!({ "id": s.source }),
        )
        .await;
    assert_internal(&body, "partial");
}

/// The one text `sql` selects.
async fn text(s: &Setup, sql: &str) -> String {
    let db = &s.app.db;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn enums_are_written_as_the_text_stored_before_they_were_typed() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a", "price": 1 }]), "FULL").await;
    s.import(json!([{ "id": "a", "price": 2 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    s.import(json!([{ "id": "a", "price": 3 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    assert_eq!(text(&s, "SELECT kind FROM sources").await, "json");
    assert_eq!(text(&s, "SELECT kind FROM targets").await, "website");
    assert_eq!(
        text(&s, "SELECT conflict_policy FROM targets").await,
        "flag"
    );
    assert_eq!(
        text(&s, "SELECT mode FROM import_runs ORDER BY id LIMIT 1").await,
        "full"
    );
    assert_eq!(
        text(&s, "SELECT mode FROM import_runs ORDER BY id DESC LIMIT 1").await,
        "incremental"
    );
    assert_eq!(
        text(&s, "SELECT DISTINCT reason FROM source_snapshots").await,
        "import"
    );
    assert_eq!(
        text(&s, "SELECT DISTINCT reason FROM target_snapshots").await,
        "sync"
    );
}

#[tokio::test]
async fn an_unknown_resolution_is_an_internal_error() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a", "price": 1 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let query = "query($t: ID!) { target(id: $t) { properties(first: 5) { nodes { lastResolution { resolution } } } } }";
    let body = s.app.data(&s.key, query, json!({ "t": s.target })).await;
    assert!(body["target"]["properties"]["nodes"][0]["lastResolution"].is_null());

    // Every read of the row reads the column, whether or not `resolved_at` is set.
    raw(&s, "UPDATE target_properties SET resolution = 'coin_flip'").await;
    let body = s.app.graphql(&s.key, query, json!({ "t": s.target })).await;
    assert_internal(&body, "coin_flip");
}
