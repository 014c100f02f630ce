//! Which paths have a stored key column in each listing table (PostgreSQL; see
//! [`crate::store::path_index`]), so that pages read the column instead of the listing JSON.
//!
//! The catalog is the only record: `sync-manager index-path` adds and drops the columns from
//! another process, while servers run. Each process keeps what it last read of a database's
//! catalog for [`FRESH_FOR`]; a path indexed meanwhile is read through its expression until
//! then (the same values, only slower). A column dropped meanwhile fails the statement that
//! names it: the reader then forgets what it knew ([`forget`]) and reads again
//! ([`is_missing_key_column`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::error::Error;
use crate::store::json_path::{JsonPath, KEY_COLUMN_PREFIX};
use crate::store::listing_filter::ListingSide;
use crate::store::path_index::{self, ListingTable};

/// How long a process trusts what it read of a database's key columns.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);

/// The paths with a stored key column, per listing table.
#[derive(Debug, Default)]
pub(crate) struct KeyColumns {
    source: HashSet<String>,
    target: HashSet<String>,
}

impl KeyColumns {
    /// Whether listings of `side` have `path`'s key in a column.
    pub(crate) fn has(&self, side: ListingSide, path: &JsonPath) -> bool {
        let paths = match side {
            ListingSide::Source => &self.source,
            ListingSide::Target => &self.target,
        };
        paths.contains(&path.as_str())
    }
}

/// What this process read of each database's key columns, and when; by database.
type Known = HashMap<String, (Instant, Arc<KeyColumns>)>;

static KNOWN: LazyLock<Mutex<Known>> = LazyLock::new(Default::default);

/// The database `db` reads, as a key of [`KNOWN`]; `None` for SQLite, whose pages read
/// expressions.
fn database(db: &DatabaseConnection) -> Option<String> {
    if db.get_database_backend() != DbBackend::Postgres {
        return None;
    }
    let options = db.get_postgres_connection_pool().connect_options();
    Some(format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    ))
}

/// The key columns of `db`'s listing tables, read from its catalog at most [`FRESH_FOR`] ago.
pub(crate) async fn of(db: &DatabaseConnection) -> Result<Arc<KeyColumns>, Error> {
    let Some(database) = database(db) else {
        return Ok(Arc::default());
    };
    if let Some((read_at, known)) = lock().get(&database)
        && read_at.elapsed() < FRESH_FOR
    {
        return Ok(known.clone());
    }
    let read_at = Instant::now();
    let mut known = KeyColumns::default();
    for (table, path) in read(db).await? {
        let paths = match table {
            ListingTable::Source => &mut known.source,
            ListingTable::Target => &mut known.target,
        };
        paths.insert(path);
    }
    let known = Arc::new(known);
    lock().insert(database, (read_at, known.clone()));
    Ok(known)
}

/// The key columns of `db`'s listing tables (PostgreSQL), read from its catalog now: each
/// table and path.
pub(crate) async fn read(db: &DatabaseConnection) -> Result<Vec<(ListingTable, String)>, Error> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            path_index::key_columns_sql(),
        ))
        .await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let table: String = row.try_get("", "table_name")?;
        let column: String = row.try_get("", "column_name")?;
        if let (Some(table), Some(path)) = (
            ListingTable::named(&table),
            column.strip_prefix(KEY_COLUMN_PREFIX),
        ) {
            found.push((table, path.to_owned()));
        }
    }
    Ok(found)
}

/// Forgets what this process read of `db`'s key columns: the next [`of`] reads the catalog.
pub(crate) fn forget(db: &DatabaseConnection) {
    if let Some(database) = database(db) {
        lock().remove(&database);
    }
}

/// Whether `err` says a statement named a key column that is not there (dropped since this
/// process read the catalog).
pub(crate) fn is_missing_key_column(err: &Error) -> bool {
    let Error::Internal(db_err) = err else {
        return false;
    };
    match crate::db::sqlx_error(db_err) {
        Some(sea_orm::sqlx::Error::Database(db)) => {
            db.code().as_deref() == Some("42703") && db.message().contains(KEY_COLUMN_PREFIX)
        }
        _ => false,
    }
}

fn lock() -> std::sync::MutexGuard<'static, Known> {
    // A panic while the map was held leaves it whole: each entry is replaced at once.
    KNOWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
