//! The migrations: up, all the way down, up again; and the cascading foreign keys they make.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::json;

use crate::common::{TestApp, TestDatabase, decode_id};

/// Tables the migrations create (later migrations may add more).
const TABLES: [&str; 10] = [
    "api_keys",
    "import_runs",
    "source_properties",
    "source_snapshots",
    "sources",
    "sync_logs",
    "target_properties",
    "target_snapshots",
    "targets",
    "tenants",
];

/// The application tables of the database, sorted (SeaORM's own bookkeeping table aside).
async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name"
        }
        DbBackend::Postgres => {
            "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename <> 'seaql_migrations' ORDER BY tablename"
        }
        other => panic!("unexpected backend {other:?}"),
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("list tables")
        .iter()
        .map(|row| row.try_get::<String>("", "t").expect("t"))
        .collect()
}

/// Whether the `sources` table exists, asked the way each database answers it best.
async fn sources_table_exists(db: &DatabaseConnection) -> bool {
    let backend = db.get_database_backend();
    let statement = match backend {
        DbBackend::Sqlite => Statement::from_string(
            backend,
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name = 'sources'",
        ),
        DbBackend::Postgres => {
            Statement::from_string(backend, "SELECT to_regclass('sources')::text AS t")
        }
        other => panic!("unexpected backend {other:?}"),
    };
    let row = db.query_one_raw(statement).await.expect("query");
    row.and_then(|row| row.try_get::<Option<String>>("", "t").expect("t"))
        .is_some()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let (_database, url) = TestDatabase::create().await;
    let db = sync_manager::db::connect(&url).await.expect("connect");
    assert!(tables(&db).await.is_empty());
    assert!(!sources_table_exists(&db).await);

    Migrator::up(&db, None).await.expect("up");
    let all = tables(&db).await;
    for table in TABLES {
        assert!(all.iter().any(|t| t == table), "`{table}` in {all:?}");
    }
    assert!(sources_table_exists(&db).await);
    let applied = Migrator::get_applied_migrations(&db)
        .await
        .expect("applied");
    assert_eq!(applied.len(), Migrator::migrations().len());
    // Up again is a no-op.
    Migrator::up(&db, None).await.expect("up twice");
    assert_eq!(tables(&db).await, all);

    Migrator::down(&db, None).await.expect("down");
    assert!(!sources_table_exists(&db).await);
    assert_eq!(tables(&db).await, Vec::<String>::new());
    assert!(
        Migrator::get_applied_migrations(&db)
            .await
            .expect("applied")
            .is_empty()
    );

    Migrator::up(&db, None).await.expect("up after down");
    assert_eq!(tables(&db).await, all);
    assert!(sources_table_exists(&db).await);
    // The schema works: a tenant can be stored again.
    db.execute_unprepared(
        "INSERT INTO tenants (name, slug, created_at) VALUES ('Acme', 'acme', '2026-01-01T00:00:00Z')",
    )
    .await
    .expect("insert");
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM tenants").await, 1);
    db.close().await.expect("close");
}

#[tokio::test]
async fn migrations_step_down_one_at_a_time() {
    let (_database, url) = TestDatabase::create().await;
    let db = sync_manager::db::connect(&url).await.expect("connect");
    Migrator::up(&db, None).await.expect("up");
    let all = tables(&db).await;
    let total = Migrator::migrations().len();
    for left in (0..total).rev() {
        Migrator::down(&db, Some(1)).await.expect("one down");
        assert_eq!(
            Migrator::get_applied_migrations(&db).await.unwrap().len(),
            left
        );
    }
    assert_eq!(tables(&db).await, Vec::<String>::new());
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(tables(&db).await, all);
    db.close().await.expect("close");
}

#[tokio::test]
async fn deleting_a_tenant_deletes_what_it_owns() {
    let app = TestApp::spawn().await;
    let (gone_id, gone_key) = app.create_tenant("Gone").await;
    let (kept_id, kept_key) = app.create_tenant("Kept").await;
    for name in ["Feed 1", "Feed 2"] {
        app.create_source(&gone_key, name).await;
        app.create_target(&gone_key, name).await;
    }
    app.create_source(&kept_key, "Feed").await;
    app.create_target(&kept_key, "Site").await;
    let (_, gone) = decode_id(&gone_id);
    let (_, kept) = decode_id(&kept_id);

    let owned = |table: &str, tenant: i64| {
        format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = {tenant}")
    };
    assert_eq!(count(&app.db, &owned("sources", gone)).await, 2);
    assert_eq!(count(&app.db, &owned("targets", gone)).await, 2);
    assert_eq!(count(&app.db, &owned("api_keys", gone)).await, 1);

    app.db
        .execute_unprepared(&format!("DELETE FROM tenants WHERE id = {gone}"))
        .await
        .expect("delete the tenant");

    for table in ["sources", "targets", "api_keys"] {
        assert_eq!(count(&app.db, &owned(table, gone)).await, 0, "{table}");
        assert_eq!(count(&app.db, &owned(table, kept)).await, 1, "{table}");
    }
    // The deleted tenant's key no longer authenticates; the other tenant is untouched.
    let body = app
        .graphql(&gone_key, "{ viewer { name } }", json!({}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let data = app
        .data(
            &kept_key,
            "{ viewer { name } sources { totalCount } targets { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "viewer": { "name": "Kept" }, "sources": { "totalCount": 1 }, "targets": { "totalCount": 1 } })
    );
}

#[tokio::test]
async fn a_row_cannot_point_at_a_missing_tenant() {
    let app = TestApp::spawn().await;
    let result = app
        .db
        .execute_unprepared(
            "INSERT INTO sources (tenant_id, kind, name, active, config, created_at, updated_at) \
             VALUES (424242, 'json', 'Orphan', TRUE, '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        )
        .await;
    assert!(result.is_err(), "the foreign key refuses an orphan");
    assert_eq!(count(&app.db, "SELECT COUNT(*) AS n FROM sources").await, 0);
}

/// The indexes that page listings under their source or target: keyed by tenant, parent and
/// id on both databases; on PostgreSQL they also carry what a page shows (`INCLUDE`), which
/// SQLite cannot, so it keeps the plain indexes.
#[tokio::test]
async fn listing_page_indexes_cover_what_a_page_shows() {
    let app = TestApp::spawn().await;
    let backend = app.db.get_database_backend();
    for (index, keys, included) in [
        (
            "idx_source_properties_source_id",
            ["tenant_id", "source_id", "id"],
            "external_id, content_hash",
        ),
        (
            "idx_target_properties_target_id",
            ["tenant_id", "target_id", "id"],
            "source_property_id, external_id",
        ),
    ] {
        let sql = match backend {
            DbBackend::Sqlite => format!(
                "SELECT group_concat(name, ', ') AS d FROM \
                 (SELECT name FROM pragma_index_info('{index}') ORDER BY seqno)"
            ),
            DbBackend::Postgres => {
                format!("SELECT indexdef AS d FROM pg_indexes WHERE indexname = '{index}'")
            }
            other => panic!("unexpected backend {other:?}"),
        };
        let row = app
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        let definition: String = row.try_get("", "d").unwrap();
        let keys = keys.join(", ");
        match backend {
            DbBackend::Sqlite => assert_eq!(definition, keys, "{index}"),
            _ => assert!(
                definition.contains(&format!("({keys}) INCLUDE ({included}")),
                "{definition}"
            ),
        }
    }
}
