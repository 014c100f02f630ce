//! PostgreSQL's statistics of the listings after large imports: the import that changed
//! many listings refreshes them once it has committed, and the next import finds nothing to
//! refresh.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use super::Setup;

/// The listings table's statistics: (manual `ANALYZE`s so far, rows it holds as counted,
/// rows the planner believes it holds).
async fn statistics(s: &Setup) -> (i64, i64, f64) {
    let row = s
        .app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT s.analyze_count, s.n_live_tup, c.reltuples::float8 AS reltuples \
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
             WHERE s.relname = 'source_properties'",
        ))
        .await
        .expect("statistics readable")
        .expect("a row");
    (
        row.try_get("", "analyze_count").unwrap(),
        row.try_get("", "n_live_tup").unwrap(),
        row.try_get("", "reltuples").unwrap(),
    )
}

fn listings(count: usize, price: u32) -> Value {
    json!(
        (0..count)
            .map(|i| json!({ "id": format!("L-{i}"), "price": price }))
            .collect::<Vec<_>>()
    )
}

#[tokio::test]
async fn a_large_import_leaves_the_statistics_fresh_and_the_next_import_finds_them_so() {
    let s = Setup::new().await;
    if s.app.db.get_database_backend() != DbBackend::Postgres {
        eprintln!("skipped on SQLite: it keeps no planner statistics to refresh");
        return;
    }
    // Too few rows changed to matter: no refresh.
    assert_eq!(
        s.import(listings(500, 1), "INCREMENTAL").await,
        [500, 0, 0, 0]
    );
    let (analyzed, _, _) = statistics(&s).await;
    assert_eq!(analyzed, 0);

    // 1,500 new listings in a table believed empty: refreshed once committed.
    assert_eq!(
        s.import(listings(2_000, 1), "INCREMENTAL").await,
        [1_500, 0, 500, 0]
    );
    let (analyzed, held, believed) = statistics(&s).await;
    assert_eq!(analyzed, 1);
    assert_eq!(believed, 2_000.0);
    assert_eq!(
        held, 2_000,
        "the import's rows were counted as it committed"
    );

    // Unchanged: nothing stale, no second ANALYZE (before or after the import).
    assert_eq!(
        s.import(listings(2_000, 1), "INCREMENTAL").await,
        [0, 0, 2_000, 0]
    );
    assert_eq!(statistics(&s).await.0, 1);

    // 2,000 changed of 2,000: refreshed again.
    assert_eq!(
        s.import(listings(2_000, 2), "INCREMENTAL").await,
        [0, 2_000, 0, 0]
    );
    assert_eq!(statistics(&s).await.0, 2);

    // A dry run writes nothing and refreshes nothing.
    let body = s.import_raw(listings(2_000, 3), "INCREMENTAL", true).await;
    assert_eq!(
        body["data"]["importProperties"]["importRun"]["updated"],
        2_000
    );
    assert_eq!(statistics(&s).await.0, 2);
}
