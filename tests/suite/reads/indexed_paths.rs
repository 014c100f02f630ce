//! Indexed paths (`sync-manager index-path`): a filtered page ordered by the path reads through
//! the path's index on both listing tables, and answers exactly what it answered without it.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};
use sync_manager::domain::path_indexes::{self, IndexedPath};
use sync_manager::error::Error;

use crate::common::TestApp;

/// How long `index-path` waits for a busy table here.
const WAIT: Duration = path_indexes::DEFAULT_LOCK_WAIT;

/// Listings per source.
const LISTINGS: usize = 1_500;

/// A price for listing `i`: mostly numbers with many ties (so pages end inside a run of equal
/// prices), and some of every kind an ordering filter must leave out.
fn price(i: usize) -> Option<Value> {
    match i % 40 {
        0 => Some(json!("on request")),
        1 => Some(Value::Null),
        2 => None,
        3 => Some(json!(true)),
        4 => Some(json!((i % 97) as f64 * 1_000.5)),
        _ => Some(json!((i * 7_919 % 997) * 1_000)),
    }
}

fn listings(prefix: &str) -> Value {
    let items: Vec<Value> = (0..LISTINGS)
        .map(|i| {
            let mut item = json!({ "id": format!("{prefix}{i}"), "title": format!("Listing {i}") });
            if let Some(price) = price(i) {
                item["price"] = price;
            }
            item
        })
        .collect();
    Value::Array(items)
}

struct Setup {
    app: TestApp,
    key: String,
    source: String,
    target: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let (_, other_key) = app.create_tenant("Other").await;
    let source = app.create_source(&key, "Feed").await;
    let other_source = app.create_source(&key, "Second feed").await;
    let foreign = app.create_source(&other_key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    for (key, source, prefix) in [
        (&key, &source, "a"),
        (&key, &other_source, "b"),
        (&other_key, &foreign, "c"),
    ] {
        app.import(key, source, listings(prefix)).await;
    }
    app.sync(&key, &source, &target).await;
    Setup {
        app,
        key,
        source,
        target,
    }
}

/// The pages a client reads: filtered and ordered by price, walked forwards to the end with
/// `after` and backwards from the end with `before`, in both directions, and unfiltered.
const PAGES: [&str; 8] = [
    r#"where: [{ path: "price", op: LT, value: 300000 }], orderBy: { path: "price" }"#,
    r#"where: [{ path: "price", op: EQ, value: 5000 }]"#,
    r#"where: [{ path: "price", op: IN, value: [5000, 7000, "on request"] }], orderBy: { path: "price", direction: DESC }"#,
    r#"where: [{ path: "price", op: IN, value: [5000, null] }]"#,
    r#"where: [{ path: "price", op: GTE, value: 500000 }, { path: "price", op: LTE, value: 700000 }], orderBy: { path: "price" }"#,
    r#"where: [{ path: "price", op: GT, value: 600000 }], orderBy: { path: "price", direction: DESC }"#,
    r#"where: [{ path: "title", op: GTE, value: "Listing 9" }], orderBy: { path: "title" }"#,
    r#"orderBy: { path: "price" }"#,
];

impl Setup {
    async fn page(&self, list: &str, args: &str, cursor: &str) -> Value {
        let (parent, id) = match list {
            "source" => ("source", &self.source),
            _ => ("target", &self.target),
        };
        let query = format!(
            "query($id: ID!) {{ {parent}(id: $id) {{ properties(first: 40, {args}{cursor}) {{ totalCount \
             pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} \
             edges {{ cursor node {{ externalId price: field(path: \"price\") }} }} }} }} }}"
        );
        let data = self.app.data(&self.key, &query, json!({ "id": id })).await;
        data[parent]["properties"].clone()
    }

    /// Every page of `args` under `list`, forwards, then the listings before the last page.
    async fn walk(&self, list: &str, args: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self.page(list, args, &cursor).await;
            let next = page["pageInfo"]["hasNextPage"] == json!(true);
            cursor = format!(", after: {}", page["pageInfo"]["endCursor"]);
            pages.push(page);
            if !next {
                break;
            }
        }
        let before = pages.last().expect("a page")["pageInfo"]["startCursor"].clone();
        if before.is_string() {
            pages.push(self.page(list, args, &format!(", before: {before}")).await);
        }
        pages
    }

    async fn every_page(&self) -> Vec<Value> {
        let mut all = Vec::new();
        for list in ["source", "target"] {
            for args in PAGES {
                all.extend(self.walk(list, args).await);
            }
        }
        all
    }
}

/// The plan of `statement`, one line per row.
async fn plan(app: &TestApp, statement: &Statement) -> String {
    let backend = statement.db_backend;
    let explain = match backend {
        DbBackend::Postgres => "EXPLAIN",
        _ => "EXPLAIN QUERY PLAN",
    };
    let values = statement.values.clone().map(|v| v.0).unwrap_or_default();
    let txn = app.db.begin().await.expect("begin");
    if backend == DbBackend::Postgres {
        // The tables are small, so a sequential scan, or a bitmap scan of another index,
        // costs less than the path's index, which includes every column of a page. The
        // question here is whether the index can bound the page; on tables of real size the
        // planner picks it (an index-only scan, BENCHMARKS.md).
        txn.execute_unprepared("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
            .await
            .expect("set");
    }
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!("{explain} {}", statement.sql),
            values,
        ))
        .await
        .expect("explain");
    txn.rollback().await.expect("rollback");
    rows.iter()
        .map(|row| match backend {
            DbBackend::Postgres => row.try_get::<String>("", "QUERY PLAN").expect("plan"),
            _ => row.try_get::<String>("", "detail").expect("detail"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The statement that read the listings of a `table` page filtered by price.
fn page_statement(statements: &[Statement], table: &str) -> Statement {
    statements
        .iter()
        .find(|s| {
            s.sql.contains(table)
                && s.sql.contains("LIMIT")
                && (s.sql.contains("\"sm_key:price\"") || s.sql.contains("'$.\"price\"'"))
        })
        .unwrap_or_else(|| panic!("no page statement on {table} among {statements:#?}"))
        .clone()
}

#[tokio::test]
async fn a_filtered_page_ordered_by_an_indexed_path_reads_its_index_and_answers_the_same() {
    let s = setup().await;
    let db = &s.app.db;
    assert_eq!(path_indexes::indexed_paths(db).await.unwrap(), vec![]);
    let before = s.every_page().await;
    // A walk that ends on its first page would not show much.
    assert!(before.len() > 40, "{} pages", before.len());

    let indexed = path_indexes::index_path(db, "price", WAIT).await.unwrap();
    let expected = IndexedPath {
        path: "price".into(),
        tables: vec!["source_properties", "target_properties"],
        ready: true,
    };
    assert_eq!(indexed, expected);
    // Declaring it again keeps it.
    assert_eq!(
        path_indexes::index_path(db, "price", WAIT).await.unwrap(),
        expected
    );
    assert_eq!(
        path_indexes::indexed_paths(db).await.unwrap(),
        vec![expected]
    );

    assert_eq!(s.every_page().await, before, "the index changed an answer");
    if db.get_database_backend() == DbBackend::Postgres {
        // Adding the key column rewrote the tables; `index_path` vacuumed them, so a page
        // can be answered from the index without visiting rows.
        for table in ["source_properties", "target_properties"] {
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT relpages::bigint AS p, relallvisible::bigint AS v FROM pg_class WHERE relname = '{table}'"),
                ))
                .await
                .unwrap()
                .expect("the table");
            let (pages, visible): (i64, i64) =
                (row.try_get("", "p").unwrap(), row.try_get("", "v").unwrap());
            assert!(
                pages > 0 && visible == pages,
                "{table}: {visible} of {pages} pages all-visible"
            );
        }
    }

    for (list, table, index, page, pg_cond, sqlite_cond) in [
        (
            "source",
            "source_properties",
            "sm_path_sp:price",
            PAGES[0],
            "< '300000'::jsonb",
            "<expr><?",
        ),
        (
            "target",
            "target_properties",
            "sm_path_tp:price",
            PAGES[0],
            "< '300000'::jsonb",
            "<expr><?",
        ),
        (
            "source",
            "source_properties",
            "sm_path_sp:price",
            PAGES[1],
            "= '5000'::jsonb",
            "<expr>=?",
        ),
        (
            "source",
            "source_properties",
            "sm_path_sp:price",
            PAGES[5],
            "> '600000'::jsonb",
            "<expr>>?",
        ),
    ] {
        s.app.record();
        s.page(list, page, "").await;
        let statement = page_statement(&s.app.recorded(), table);
        // PostgreSQL reads the key from its stored column, not from the listing JSON.
        assert!(
            !statement.sql.contains("'{price}'"),
            "the {list} page reads the price from the JSON:\n{}",
            statement.sql
        );
        let plan = plan(&s.app, &statement).await;
        // The filter is a condition of the index scan, not a filter of its rows.
        let bounded = plan.lines().any(|line| {
            (line.contains("Index Cond") && line.contains(pg_cond))
                || (line.contains(index) && line.contains(sqlite_cond))
        });
        assert!(
            plan.contains(index) && bounded,
            "the {list} page does not read {index} within its bound:\n{}\n{plan}",
            statement.sql
        );
    }

    path_indexes::drop_path_index(db, "price", WAIT)
        .await
        .unwrap();
    assert_eq!(path_indexes::indexed_paths(db).await.unwrap(), vec![]);
    assert_eq!(s.every_page().await, before);
}

impl Setup {
    /// The external ids of the first page of `args` under `list`, read with `selection` in
    /// each edge besides the node's external id, and the page statements the app ran.
    async fn ids(&self, list: &str, args: &str, selection: &str) -> (Value, Vec<Statement>) {
        let (parent, id) = match list {
            "source" => ("source", &self.source),
            _ => ("target", &self.target),
        };
        let query = format!(
            "query($id: ID!) {{ {parent}(id: $id) {{ properties(first: 40, {args}) {{ \
             edges {{ {selection} node {{ externalId }} }} }} }} }}"
        );
        self.app.record();
        let data = self.app.data(&self.key, &query, json!({ "id": id })).await;
        let edges = data[parent]["properties"]["edges"]
            .as_array()
            .expect("edges");
        let ids = edges
            .iter()
            .map(|edge| edge["node"]["externalId"].clone())
            .collect();
        (Value::Array(ids), self.app.recorded())
    }
}

#[tokio::test]
async fn a_page_read_without_cursors_selects_no_sort_key_and_answers_the_same() {
    let s = setup().await;
    path_indexes::index_path(&s.app.db, "price", WAIT)
        .await
        .unwrap();
    let postgres = s.app.db.get_database_backend() == DbBackend::Postgres;
    for list in ["source", "target"] {
        for args in PAGES {
            let (with, statements) = s.ids(list, args, "cursor").await;
            let (without, without_statements) = s.ids(list, args, "").await;
            assert_eq!(with, without, "{list} {args}");
            let keyed =
                |statements: &[Statement]| statements.iter().any(|s| s.sql.contains("page_key"));
            if postgres && args.contains("orderBy") {
                assert!(keyed(&statements), "{list} {args}: a cursor needs the key");
                assert!(
                    !keyed(&without_statements),
                    "{list} {args}: no cursor, no key"
                );
            }
        }
    }
}

/// Every listing of `prefix` with its price changed (`+ 1` on numbers) and every tenth gone,
/// for a next day's `FULL` import.
fn next_day(prefix: &str) -> Value {
    let mut items = listings(prefix);
    let items = items.as_array_mut().expect("an array");
    items.retain(|item| !item["id"].as_str().unwrap().ends_with('7'));
    for item in items.iter_mut() {
        if let Some(price) = item["price"].as_f64() {
            item["price"] = json!(price + 1.0);
        }
    }
    Value::Array(items.clone())
}

#[tokio::test]
async fn imports_and_syncs_write_around_an_indexed_path_and_a_dropped_key_column_is_read_again() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    // Indexed before anything is written: every import and sync writes the key column.
    path_indexes::index_path(db, "price", WAIT).await.unwrap();
    app.import(&key, &source, listings("a")).await;
    app.sync(&key, &source, &target).await;
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items, mode: FULL }) { importRun { id } } }",
        json!({ "s": source, "items": next_day("a") }),
    )
    .await;
    app.sync(&key, &source, &target).await;

    let s = Setup {
        app,
        key,
        source,
        target,
    };
    let indexed = s.every_page().await;
    // The prices the pages answer are the next day's (a listing gone at the source keeps its
    // last price): the key column followed every write.
    let mut checked = 0;
    for page in &indexed {
        for edge in page["edges"].as_array().expect("edges") {
            let node = &edge["node"];
            let id = node["externalId"].as_str().expect("externalId");
            let i: usize = id[1..].parse().expect("a number");
            if let (false, Some(Value::Number(was))) = (id.ends_with('7'), price(i)) {
                assert_eq!(node["price"], json!(was.as_f64().unwrap() + 1.0), "{node}");
                checked += 1;
            }
        }
    }
    assert!(checked > 1_000, "{checked} prices checked");

    if s.app.db.get_database_backend() == DbBackend::Postgres {
        // A column dropped behind this process's back (by another one's `index-path drop`):
        // the first statement that names it fails, and the page is read again without it.
        s.app
            .db
            .execute_unprepared(
                "ALTER TABLE source_properties DROP COLUMN \"sm_key:price\"; \
                 ALTER TABLE target_properties DROP COLUMN \"sm_key:price\"",
            )
            .await
            .unwrap();
        assert_eq!(s.every_page().await, indexed, "a dropped key column");
        path_indexes::index_path(&s.app.db, "price", WAIT)
            .await
            .unwrap();
    }
    path_indexes::drop_path_index(&s.app.db, "price", WAIT)
        .await
        .unwrap();
    assert_eq!(s.every_page().await, indexed, "the index changed an answer");
}

#[tokio::test]
async fn a_path_that_cannot_be_indexed_or_dropped_is_named() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    let field_of = |err: Error| match err {
        Error::InvalidInput { field, reason } => (field, reason),
        other => panic!("not an input error: {other:?}"),
    };
    let (field, reason) = field_of(
        path_indexes::index_path(db, "price; drop", WAIT)
            .await
            .unwrap_err(),
    );
    assert_eq!(field, "path");
    assert!(reason.contains("`price; drop` is not a path"), "{reason}");
    let long = "p".repeat(53);
    let (_, reason) = field_of(path_indexes::index_path(db, &long, WAIT).await.unwrap_err());
    assert!(reason.contains("at most 52 characters"), "{reason}");
    match path_indexes::drop_path_index(db, "price", WAIT)
        .await
        .unwrap_err()
    {
        Error::NotFound { entity, id } => {
            assert_eq!((entity, id.as_str()), ("IndexedPath", "price"))
        }
        other => panic!("not a not-found error: {other:?}"),
    }
    let nested = path_indexes::index_path(db, "address.city", WAIT)
        .await
        .unwrap();
    assert_eq!(nested.path, "address.city");
    assert_eq!(path_indexes::indexed_paths(db).await.unwrap(), vec![nested]);
}

/// The key columns of the listing tables in the catalog: `table.column`, sorted.
async fn key_columns_in_catalog(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.relname || '.' || a.attname AS name FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relname IN ('source_properties', 'target_properties') \
             AND a.attnum > 0 AND NOT a.attisdropped AND a.attname LIKE 'sm_key:%' \
             ORDER BY 1",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn a_key_column_left_without_its_index_is_listed_as_not_ready_then_rebuilt_or_dropped() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    if db.get_database_backend() != DbBackend::Postgres {
        // SQLite indexes an expression: there is no key column to leave behind.
        return;
    }
    // What a build that failed after adding its column leaves (another process was cut off
    // between the column and the index).
    db.execute_unprepared(
        "ALTER TABLE source_properties ADD COLUMN \"sm_key:rooms\" jsonb \
         GENERATED ALWAYS AS (NULLIF(data #> '{rooms}', 'null'::jsonb)) STORED",
    )
    .await
    .unwrap();
    let half_built = IndexedPath {
        path: "rooms".into(),
        tables: vec!["source_properties"],
        ready: false,
    };
    assert_eq!(
        path_indexes::indexed_paths(db).await.unwrap(),
        vec![half_built.clone()]
    );
    // `drop` finds the column, though no index names the path.
    path_indexes::drop_path_index(db, "rooms", WAIT)
        .await
        .unwrap();
    assert_eq!(path_indexes::indexed_paths(db).await.unwrap(), vec![]);
    assert_eq!(key_columns_in_catalog(db).await, Vec::<String>::new());

    // `add` finishes such a build: both columns, both indexes, ready.
    db.execute_unprepared(
        "ALTER TABLE target_properties ADD COLUMN \"sm_key:rooms\" jsonb \
         GENERATED ALWAYS AS (NULLIF(data #> '{rooms}', 'null'::jsonb)) STORED",
    )
    .await
    .unwrap();
    let rebuilt = path_indexes::index_path(db, "rooms", WAIT).await.unwrap();
    let ready = IndexedPath {
        path: "rooms".into(),
        tables: vec!["source_properties", "target_properties"],
        ready: true,
    };
    assert_eq!(rebuilt, ready);
    assert_eq!(
        key_columns_in_catalog(db).await,
        vec![
            "source_properties.sm_key:rooms",
            "target_properties.sm_key:rooms"
        ]
    );
    // An index dropped behind its back leaves the path listed, not ready, on both tables.
    db.execute_unprepared("DROP INDEX \"sm_path_tp:rooms\"")
        .await
        .unwrap();
    assert_eq!(
        path_indexes::indexed_paths(db).await.unwrap(),
        vec![IndexedPath {
            ready: false,
            ..ready.clone()
        }]
    );
    assert_eq!(
        path_indexes::index_path(db, "rooms", WAIT).await.unwrap(),
        ready
    );
}

#[tokio::test]
async fn index_path_gives_up_on_a_busy_table_and_lets_its_readers_through_while_it_waits() {
    let app = TestApp::spawn().await;
    let db = &app.db;
    if db.get_database_backend() != DbBackend::Postgres {
        // SQLite builds the index under its one write lock, as any write: nothing waits.
        return;
    }
    // A long import holds the source listings (the lock an `INSERT` takes) until it commits.
    let import = db.begin().await.unwrap();
    import
        .execute_unprepared("LOCK TABLE source_properties IN ROW EXCLUSIVE MODE")
        .await
        .unwrap();
    let adding = tokio::spawn({
        let db = db.clone();
        async move { path_indexes::index_path(&db, "price", Duration::from_secs(3)).await }
    });
    // While `add` waits for the table, reads of it still get through: before, its queued
    // `ALTER TABLE` held every later reader until the import ended.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        let read = db.query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM source_properties",
        ));
        // Far longer than the 200 ms an attempt holds readers up; without the attempts the
        // read would wait for the import.
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("a read waited behind index-path's lock")
            .unwrap();
        assert!(!adding.is_finished(), "index-path stopped waiting early");
    }
    match adding.await.unwrap().unwrap_err() {
        Error::Conflict(message) => {
            assert!(
                message.contains("`source_properties` stayed busy for 3 s"),
                "{message}"
            );
            assert!(message.contains("--wait"), "{message}");
        }
        other => panic!("not a conflict: {other:?}"),
    }
    // Nothing was left half done: no column, no index.
    assert_eq!(path_indexes::indexed_paths(db).await.unwrap(), vec![]);
    assert_eq!(key_columns_in_catalog(db).await, Vec::<String>::new());
    import.commit().await.unwrap();
    let indexed = path_indexes::index_path(db, "price", WAIT).await.unwrap();
    assert!(indexed.ready);
}

/// The statistics objects of key types (`sm_type_…`) on the listing tables, each with
/// whether `ANALYZE` has filled it.
async fn type_statistics(db: &sea_orm::DatabaseConnection) -> Vec<(String, bool)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT s.stxname::text AS name, EXISTS (SELECT 1 FROM pg_stats_ext_exprs e \
             WHERE e.statistics_name = s.stxname AND e.most_common_vals IS NOT NULL) AS filled \
             FROM pg_statistic_ext s WHERE left(s.stxname, 8) = 'sm_type_' ORDER BY 1",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (
                row.try_get("", "name").unwrap(),
                row.try_get("", "filled").unwrap(),
            )
        })
        .collect()
}

/// The rows the planner expects of `condition` on source listings, and the rows there are.
async fn estimated_and_counted(db: &sea_orm::DatabaseConnection, condition: &str) -> (f64, i64) {
    let plan = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("EXPLAIN (FORMAT JSON) SELECT 1 FROM source_properties WHERE {condition}"),
        ))
        .await
        .unwrap()
        .expect("a plan");
    let plan: Value = plan.try_get("", "QUERY PLAN").unwrap();
    let estimated = plan[0]["Plan"]["Plan Rows"].as_f64().expect("plan rows");
    let counted = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) AS n FROM source_properties WHERE {condition}"),
        ))
        .await
        .unwrap()
        .expect("a count");
    (estimated, counted.try_get("", "n").unwrap())
}

#[tokio::test]
async fn the_planner_knows_how_many_keys_of_an_indexed_path_are_numbers() {
    let s = setup().await;
    let db = &s.app.db;
    if db.get_database_backend() != DbBackend::Postgres {
        eprintln!("skipped on SQLite: it keeps no planner statistics");
        return;
    }
    let numbers = "jsonb_typeof(\"sm_key:price\") = 'number'";
    path_indexes::index_path(db, "price", WAIT).await.unwrap();
    assert_eq!(
        type_statistics(db).await,
        vec![
            ("sm_type_sp:price".to_string(), true),
            ("sm_type_tp:price".to_string(), true)
        ]
    );
    // Without them the planner expects one row in 200; nine in ten are numbers here.
    let (estimated, counted) = estimated_and_counted(db, numbers).await;
    assert!(
        counted > 0 && (estimated - counted as f64).abs() < counted as f64 * 0.2,
        "the planner expects {estimated} numbers, there are {counted}"
    );

    // A database whose paths were indexed before the statistics existed gets them from the
    // migration that added them.
    use migration::{Migrator, MigratorTrait};
    Migrator::down(db, Some(1)).await.expect("one down");
    assert_eq!(type_statistics(db).await, vec![]);
    Migrator::up(db, None).await.expect("up");
    assert_eq!(
        type_statistics(db).await,
        vec![
            ("sm_type_sp:price".to_string(), true),
            ("sm_type_tp:price".to_string(), true)
        ]
    );

    path_indexes::drop_path_index(db, "price", WAIT)
        .await
        .unwrap();
    assert_eq!(type_statistics(db).await, vec![]);
}
