//! Indexed paths: an operator declares that listings are often filtered and ordered by a path
//! of their JSON (`price`), and each listing table gets an index on it
//! ([`crate::store::path_index`]). Pages of one source or target that compare the path with
//! `LT`/`LTE`/`GT`/`GTE` (or `EQ`/`IN` with values other than `null`) and order by it
//! ascending then read only the listings they answer.
//!
//! The indexes serve every tenant (they are on the shared tables, led by `tenant_id`), so they
//! are the operator's to declare, from the CLI, not a tenant's from GraphQL. Each one costs
//! imports and syncs some time per written listing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

use crate::error::Error;
use crate::store::key_columns;
use crate::store::path_index::{self, ListingTable};

/// How long `index_path` and `drop_path_index` keep trying to take a listing table's lock
/// by default (`index-path add|drop --wait`).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// How long one attempt waits for a listing table's lock on PostgreSQL. A statement waiting
/// for a table's exclusive lock makes every later reader of the table wait behind it, so an
/// attempt gives up soon and lets them through before the next one.
const LOCK_ATTEMPT: Duration = Duration::from_millis(200);

/// The pause between two attempts to take a listing table's lock.
const LOCK_PAUSE: Duration = Duration::from_millis(800);

/// A path with an index on the listing tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedPath {
    /// The path, as declared (`address.city`).
    pub path: String,
    /// The tables that have its index (`source_properties`, `target_properties`).
    pub tables: Vec<&'static str>,
    /// Whether every index of it is ready for reads; on PostgreSQL a build that failed half
    /// way leaves one that is not (declaring the path again rebuilds it).
    pub ready: bool,
}

/// Builds the index of `raw_path` on both listing tables (an index that exists is kept, one a
/// failed build left behind is rebuilt), then refreshes the planner's statistics so it
/// knows the values under the path (on PostgreSQL with a `VACUUM`, which also lets pages
/// be answered from the index alone after the rewrite, and also their JSON types, which
/// filtered pages check: [`path_index::create_type_statistics_sql`]). Returns the path as
/// [`indexed_paths`] lists it.
///
/// On PostgreSQL each table first gets the path's stored key column, which rewrites it under
/// an exclusive lock (reads and writes of the table wait, about a second per 100,000
/// listings here); then the index builds `CONCURRENTLY` (imports, syncs and reads go on
/// meanwhile). Both take as long as reading the table; `db` should have no statement
/// timeout. The column waits at most `lock_wait` for the table's lock (an import or a sync
/// holds the table while it writes), in short attempts, so reads never queue behind it for
/// long; then the error says the table is busy. An index of an earlier version, on the key
/// expression, is rebuilt; so is a key column left without its index by a build that failed.
pub async fn index_path(
    db: &DatabaseConnection,
    raw_path: &str,
    lock_wait: Duration,
) -> Result<IndexedPath, Error> {
    let path = path_index::parse_path("path", raw_path)?;
    let backend = db.get_database_backend();
    let broken: Vec<ListingTable> = listed(db)
        .await?
        .into_iter()
        .filter(|(_, listed, valid)| *listed == path.as_str() && !valid)
        .map(|(table, _, _)| table)
        .collect();
    for table in broken {
        db.execute_unprepared(&path_index::drop_sql(backend, table, &path))
            .await?;
    }
    for table in ListingTable::ALL {
        if backend == DbBackend::Postgres {
            let added = path_index::add_key_column_sql(table, &path);
            alter_table(db, table, &added, lock_wait).await?;
            key_columns::forget(db);
            db.execute_unprepared(&path_index::create_type_statistics_sql(table, &path))
                .await?;
        }
        db.execute_unprepared(&path_index::create_sql(backend, table, &path))
            .await?;
        if let Some(analyze) = path_index::vacuum_analyze_sql(backend, table) {
            db.execute_unprepared(&analyze).await?;
        }
    }
    indexed_paths(db)
        .await?
        .into_iter()
        .find(|indexed| indexed.path == path.as_str())
        .ok_or_else(|| {
            Error::Internal(DbErr::Custom(format!(
                "the index of `{}` is not in the catalog after its build",
                path.as_str()
            )))
        })
}

/// The indexed paths, by path.
pub async fn indexed_paths(db: &DatabaseConnection) -> Result<Vec<IndexedPath>, Error> {
    let mut paths: BTreeMap<String, IndexedPath> = BTreeMap::new();
    for (table, path, valid) in listed(db).await? {
        let entry = paths.entry(path.clone()).or_insert_with(|| IndexedPath {
            path,
            tables: Vec::new(),
            ready: true,
        });
        entry.tables.push(table.table());
        entry.ready &= valid;
    }
    Ok(paths.into_values().collect())
}

/// Drops the indexes of `raw_path` (and on PostgreSQL its stored key columns, waiting at
/// most `lock_wait` for each table's lock as [`index_path`] does); an error names the path
/// when it has none.
pub async fn drop_path_index(
    db: &DatabaseConnection,
    raw_path: &str,
    lock_wait: Duration,
) -> Result<(), Error> {
    let path = path_index::parse_path("path", raw_path)?;
    let backend = db.get_database_backend();
    let tables: Vec<ListingTable> = listed(db)
        .await?
        .into_iter()
        .filter(|(_, listed, _)| *listed == path.as_str())
        .map(|(table, _, _)| table)
        .collect();
    if tables.is_empty() {
        return Err(Error::not_found("IndexedPath", path.as_str()));
    }
    for table in tables {
        db.execute_unprepared(&path_index::drop_sql(backend, table, &path))
            .await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared(&path_index::drop_type_statistics_sql(table, &path))
                .await?;
            let dropped = path_index::drop_key_column_sql(table, &path);
            alter_table(db, table, &dropped, lock_wait).await?;
            key_columns::forget(db);
        }
    }
    Ok(())
}

/// Runs `alter` (an `ALTER TABLE` of `table`, PostgreSQL) in attempts that each wait at most
/// [`LOCK_ATTEMPT`] for the table's lock, until one takes it or `lock_wait` has passed.
async fn alter_table(
    db: &DatabaseConnection,
    table: ListingTable,
    alter: &str,
    lock_wait: Duration,
) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!(
            "SET LOCAL lock_timeout = {}",
            LOCK_ATTEMPT.as_millis()
        ))
        .await?;
        match txn.execute_unprepared(alter).await {
            Ok(_) => return Ok(txn.commit().await?),
            Err(err) if crate::db::sqlstate(&err).as_deref() == Some("55P03") => {
                txn.rollback().await?;
                let waited = started.elapsed();
                if waited >= lock_wait {
                    return Err(Error::Conflict(format!(
                        "`{}` stayed busy for {} s: an import, a sync or a long transaction \
                         holds it, and its key column needs the table to itself for a moment; \
                         try again at a quieter time, or wait longer with `--wait`",
                        table.table(),
                        lock_wait.as_secs()
                    )));
                }
                tokio::time::sleep(LOCK_PAUSE.min(lock_wait - waited)).await;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Every path index in the catalog: its table, its path and whether it is valid. On
/// PostgreSQL a path's key column without an index on its table (a build that failed after
/// adding it) is listed as an index that is not valid, so that `add` finishes the build and
/// `drop` finds the column.
async fn listed(db: &DatabaseConnection) -> Result<Vec<(ListingTable, String, bool)>, Error> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            path_index::list_sql(backend),
        ))
        .await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get("", "name")?;
        let valid: bool = row.try_get("", "valid")?;
        if let Some((table, path)) = ListingTable::of_index(&name) {
            found.push((table, path.to_owned(), valid));
        }
    }
    if backend == DbBackend::Postgres {
        for (table, path) in key_columns::read(db).await? {
            if !found.iter().any(|(t, p, _)| *t == table && *p == path) {
                found.push((table, path, false));
            }
        }
    }
    found.sort();
    Ok(found)
}
