//! The database locks that keep two writers of one source or target apart, and the planner
//! settings of set-based writes. The statements themselves live in
//! [`crate::store::statements`].
use sea_orm::{ConnectionTrait, DbBackend};

use crate::error::Error;
use crate::store::statements::{Sql, Table};

/// Rows per multi-row statement: big enough to amortise round trips, small enough for
/// SQLite's limit on bound values (32,766) at up to 10 values a row.
pub const CHUNK_ROWS: usize = 1_000;

/// Ids per `IN (…)` list.
pub const CHUNK_IDS: usize = 5_000;

/// What a lock protects; each kind has its own key space.
#[derive(Clone, Copy, Debug)]
pub enum LockKind {
    /// Writes to one source's listings (imports; syncs read them under it).
    Source = 1,
    /// Writes to one target's listings (syncs).
    Target = 2,
}

/// Holds a transaction-scoped lock on one source or target until the transaction ends.
///
/// PostgreSQL: `pg_advisory_xact_lock`, so replicas of the server exclude each other.
/// SQLite: nothing to do, the transaction already holds the database's write lock
/// (`BEGIN IMMEDIATE`).
pub async fn lock<C: ConnectionTrait>(conn: &C, kind: LockKind, id: i64) -> Result<(), Error> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let key = ((kind as i64) << 56) | (id & 0x00FF_FFFF_FFFF_FFFF);
    conn.execute_raw(
        Sql::new(DbBackend::Postgres)
            .push("SELECT pg_advisory_xact_lock(")
            .bind(key)
            .push(")")
            .build(),
    )
    .await?;
    Ok(())
}

/// Refreshes PostgreSQL's statistics of `table` when they are stale: when the rows it holds
/// differ from what the planner believes it holds by more than a fifth (and at least 1,000).
/// (Not by the rows changed since the last `ANALYZE`: an `ANALYZE` of some columns, as this
/// one is, leaves that count as it was.) Autovacuum does the same, but later: right after a
/// first import of 100,000 listings the planner still takes the table for empty and picks
/// plans that scan every listing once per chunk of a batch. Measured without this refresh
/// (2026-12-04): an unchanged re-import of 10,000 listings right after the first import took
/// 37–50 s instead of 0.2 s. `ANALYZE` samples at most 30,000 rows, and only the key columns
/// ([`Table::analyze_keys`]), so this costs a fraction of a second (40 ms at 10,000
/// listings, 160–260 ms at 100,000), and only after large changes. An import that changes
/// many listings refreshes them itself once it has committed ([`statistics_stale_after`]), so
/// an import finds them stale here only after other changes (or a refresh that failed).
pub async fn refresh_table_statistics<C: ConnectionTrait>(
    conn: &C,
    table: Table,
) -> Result<(), Error> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let (held, believed) = row_counts(conn, table).await?;
    if stale(held - believed, believed) {
        analyze(conn, table).await?;
    }
    Ok(())
}

/// Whether statistics are stale after `difference` rows more (or fewer, or changed) than the
/// `believed` the planner bases its plans on.
fn stale(difference: f64, believed: f64) -> bool {
    difference.abs() >= 1_000.0 && difference.abs() > believed / 5.0
}

/// The rows `table` holds as PostgreSQL counts them (`n_live_tup`, as of the last reported
/// commit) and the rows its planner believes it holds (`reltuples`, as of the last `ANALYZE`);
/// 0 for either that is not known yet.
async fn row_counts<C: ConnectionTrait>(conn: &C, table: Table) -> Result<(f64, f64), Error> {
    let row = conn
        .query_one_raw(
            Sql::new(DbBackend::Postgres)
                .push(
                    "SELECT COALESCE(s.n_live_tup, 0)::float8 AS held, \
                       GREATEST(c.reltuples, 0)::float8 AS believed \
                     FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
                     WHERE c.oid = ",
                )
                .bind(table.name())
                .push("::regclass")
                .build(),
        )
        .await?;
    match row {
        Some(row) => Ok((row.try_get("", "held")?, row.try_get("", "believed")?)),
        None => Ok((0.0, 0.0)),
    }
}

/// Whether `written` rows, written to `table` by the open transaction `conn`, are enough to
/// leave PostgreSQL's statistics of it stale (as [`refresh_table_statistics`] judges them,
/// on what the transaction wrote). When they are, the transaction's row counts are reported
/// the moment it commits (PostgreSQL 15 and later; before, within a second): the next
/// import then finds the rows the table holds as [`analyze`] after the commit found them,
/// and nothing to refresh.
///
/// The writer that made the statistics stale refreshes them once it has committed, rather
/// than leaving them to the next import's [`refresh_table_statistics`]: until then the
/// readers (a sync, a page of listings) are planned for a table that is not there any more,
/// and the next import's `ANALYZE` would run in its transaction, holding `ANALYZE`'s lock on
/// the table, which other tenants' imports that need one wait for, until it commits.
pub async fn statistics_stale_after<C: ConnectionTrait>(
    conn: &C,
    table: Table,
    written: u64,
) -> Result<bool, Error> {
    if conn.get_database_backend() != DbBackend::Postgres || written < 1_000 {
        return Ok(false);
    }
    let (_, believed) = row_counts(conn, table).await?;
    if !stale(written as f64, believed) {
        return Ok(false);
    }
    conn.execute_unprepared(
        "DO $$ BEGIN \
           IF current_setting('server_version_num')::int >= 150000 THEN \
             PERFORM pg_stat_force_next_flush(); \
           END IF; \
         END $$",
    )
    .await?;
    Ok(true)
}

/// Refreshes PostgreSQL's statistics of `table`'s key columns ([`Table::analyze_keys`]): for
/// a writer whose transaction [`statistics_stale_after`] found them stale, once it has
/// committed.
pub async fn analyze<C: ConnectionTrait>(conn: &C, table: Table) -> Result<(), Error> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(table.analyze_keys()).await?;
    }
    Ok(())
}

/// Steers PostgreSQL to hash and merge joins (`prefer`), or lets it choose again, for the
/// rest of the transaction.
///
/// A sync joins a whole source with a whole target. Right after a large import the planner's
/// statistics can still describe the tables as empty, and it would then pick a nested loop
/// over a sequential scan, which is quadratic: 100,000 listings took minutes instead of
/// seconds. Hash joins are the right plan for these set-wide statements at any size; the
/// statements after that join reach listings by primary key, where an index probe per row is.
pub async fn prefer_set_joins<C: ConnectionTrait>(conn: &C, prefer: bool) -> Result<(), Error> {
    if conn.get_database_backend() == DbBackend::Postgres {
        let sql = if prefer {
            "SET LOCAL enable_nestloop = off"
        } else {
            "SET LOCAL enable_nestloop = on"
        };
        conn.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Raises PostgreSQL's `work_mem` to [`crate::db::SYNC_WORK_MEM_KB`] for the rest of the transaction
/// (never lowers it).
///
/// A sync hashes a whole target's listings to join them with the source's, and its writes join
/// the work table with both. At PostgreSQL's default of 4 MB the hash of 100,000 listings
/// spills to disk in batches, which made the sync after a next-day import of 100,000 cost
/// about a third more per listing than that of 10,000 (BENCHMARKS.md, "Syncs with memory for
/// their joins"); at 64 MB, that of 1,000,000 did.
pub async fn give_sync_memory<C: ConnectionTrait>(conn: &C) -> Result<(), Error> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(&format!(
            "SELECT set_config('work_mem', GREATEST(setting::bigint, {})::text, \
             true) FROM pg_settings WHERE name = 'work_mem'",
            crate::db::SYNC_WORK_MEM_KB
        ))
        .await?;
    }
    Ok(())
}
