//! Authentication: API keys (missing, unknown, revoked, read-only, Bearer) and the admin token.

use serde_json::json;

use crate::common::{ADMIN_TOKEN, TestApp, error_code, test_config};

const VIEWER: &str = "{ viewer { id name slug } }";

#[tokio::test]
async fn a_request_without_a_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let body = app.graphql_with(None, &[], VIEWER, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(body["data"], json!(null));
}

#[tokio::test]
async fn an_unknown_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    app.create_tenant("Acme").await;
    let body = app
        .graphql("smk_000000000000000000000000", VIEWER, json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(body["errors"][0]["message"], "unknown API key");
}

#[tokio::test]
async fn a_valid_key_names_its_tenant_in_either_header() {
    let app = TestApp::spawn().await;
    let (id, key) = app.create_tenant("Acme Homes").await;
    let data = app.data(&key, VIEWER, json!({})).await;
    assert_eq!(
        data["viewer"],
        json!({ "id": id, "name": "Acme Homes", "slug": "acme-homes" })
    );

    let bearer = format!("Bearer {key}");
    let body = app
        .graphql_with(None, &[("authorization", &bearer)], VIEWER, json!({}))
        .await;
    assert_eq!(body["data"]["viewer"]["name"], "Acme Homes");
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = app
        .data(
            &key,
            r#"mutation { createApiKey(input: { name: "scraper" }) { key apiKey { id name prefix scopes revokedAt } } }"#,
            json!({}),
        )
        .await;
    let second = created["createApiKey"]["key"].as_str().unwrap().to_owned();
    let second_id = created["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        created["createApiKey"]["apiKey"]["scopes"],
        json!(["READ", "WRITE"])
    );
    assert_eq!(
        created["createApiKey"]["apiKey"]["prefix"],
        json!(&second[..12])
    );
    assert_eq!(
        app.data(&second, VIEWER, json!({})).await["viewer"]["slug"],
        "acme"
    );

    let revoked = app
        .data(
            &key,
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id revokedAt } } }",
            json!({ "id": second_id }),
        )
        .await;
    assert!(revoked["revokeApiKey"]["apiKey"]["revokedAt"].is_string());

    let body = app.graphql(&second, VIEWER, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    // The first key still works.
    assert_eq!(
        app.data(&key, VIEWER, json!({})).await["viewer"]["slug"],
        "acme"
    );
}

#[tokio::test]
async fn a_read_only_key_can_query_but_not_mutate() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = app
        .data(
            &key,
            r#"mutation { createApiKey(input: { name: "dashboard", scopes: [READ] }) { key apiKey { scopes } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(created["createApiKey"]["apiKey"]["scopes"], json!(["READ"]));
    let read_only = created["createApiKey"]["key"].as_str().unwrap();
    assert_eq!(
        app.data(read_only, VIEWER, json!({})).await["viewer"]["slug"],
        "acme"
    );
    let body = app
        .graphql(
            read_only,
            r#"mutation { createSource(input: { name: "x", kind: JSON }) { source { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let sources = app
        .data(&key, "{ sources { totalCount } }", json!({}))
        .await;
    assert_eq!(sources["sources"]["totalCount"], 0);
}

#[tokio::test]
async fn create_tenant_needs_the_admin_token() {
    let app = TestApp::spawn().await;
    let mutation =
        r#"mutation { createTenant(input: { name: "Acme", slug: "acme" }) { tenant { slug } } }"#;

    let body = app.graphql_with(None, &[], mutation, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = app
        .graphql_with(None, &[("x-admin-token", "wrong")], mutation, json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    let body = app
        .graphql_with(None, &[("x-admin-token", ADMIN_TOKEN)], mutation, json!({}))
        .await;
    assert_eq!(body["data"]["createTenant"]["tenant"]["slug"], "acme");

    // The same slug again is a conflict.
    let body = app
        .graphql_with(None, &[("x-admin-token", ADMIN_TOKEN)], mutation, json!({}))
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
}

#[tokio::test]
async fn without_an_admin_token_configured_tenants_come_from_the_cli_only() {
    let mut config = test_config();
    config.admin_token = None;
    let app = TestApp::spawn_with(config).await;
    let body = app
        .graphql_with(
            None,
            &[("x-admin-token", "")],
            r#"mutation { createTenant(input: { name: "Acme" }) { tenant { slug } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SYNC_ADMIN_TOKEN")
    );
}

/// What `createTenant` reads back about the new tenant is the new tenant's, whoever calls it:
/// with the admin token alone, or with another tenant's key beside it.
#[tokio::test]
async fn create_tenant_reads_back_the_new_tenants_keys() {
    let app = TestApp::spawn().await;
    let (_, other_key) = app.create_tenant("Other").await;
    let query = r#"mutation($name: String!) { createTenant(input: { name: $name }) {
        tenant { name apiKeys(first: 10) { totalCount nodes { id name } } } apiKey { id } } }"#;
    for (name, key) in [("Acme", None), ("Beta", Some(other_key.as_str()))] {
        let body = app
            .graphql_with(
                key,
                &[("x-admin-token", ADMIN_TOKEN)],
                query,
                json!({ "name": name }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let payload = &body["data"]["createTenant"];
        assert_eq!(payload["tenant"]["name"], name);
        assert_eq!(payload["tenant"]["apiKeys"]["totalCount"], 1, "{body}");
        assert_eq!(
            payload["tenant"]["apiKeys"]["nodes"][0]["id"],
            payload["apiKey"]["id"]
        );
    }
}

/// A key's first request of the minute refreshes its `lastUsedAt`. While another write holds
/// the database (on SQLite an import holds the write lock for its whole transaction), the
/// request answers at once and the refresh is left to a later request; before, it waited for
/// the lock, up to SQLite's 30 s busy timeout, and then failed.
#[tokio::test]
async fn a_write_in_progress_does_not_hold_up_a_keys_first_request() {
    use sea_orm::{
        ConnectionTrait, DbBackend, SqliteTransactionMode, Statement, TransactionOptions,
        TransactionTrait,
    };
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = app
        .data(
            &key,
            r#"mutation { createApiKey(input: { name: "reader" }) { key } }"#,
            json!({}),
        )
        .await;
    let reader = created["createApiKey"]["key"].as_str().unwrap().to_owned();
    let last_used = || async {
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT last_used_at IS NOT NULL AS used FROM api_keys WHERE name = 'reader'",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<bool>("", "used").unwrap()
    };
    assert!(!last_used().await);

    // A write transaction in progress on another connection, as an import's.
    let held = app
        .db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
        .unwrap();
    held.execute_unprepared("UPDATE sources SET name = name WHERE 1 = 0")
        .await
        .unwrap();
    let body = app.graphql(&reader, VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["name"], "Acme", "{body}");
    // SQLite's write lock is the database's: the refresh gave way. PostgreSQL's locks are
    // rows', and nothing held the key's.
    let sqlite = app.db.get_database_backend() == DbBackend::Sqlite;
    assert_eq!(last_used().await, !sqlite);
    held.rollback().await.unwrap();

    let body = app.graphql(&reader, VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["name"], "Acme", "{body}");
    assert!(last_used().await, "the next request refreshes it");
}
