//! The SQL of indexes on a path inside the listing JSON, which an operator declares
//! (`sync-manager index-path`): one per listing table, on
//! `(tenant_id, <parent>, <the path's sort key>, id)`.
//!
//! The key expression is exactly the one pages order by ([`JsonPath::sort_key_sql`]) and
//! ordering and equality filters compare ([`crate::store::listing_filter`]), so a page of one
//! source or target filtered with `LT`/`LTE`/`GT`/`GTE` on the path and ordered by it reads
//! its range of the index in order and stops at the page's end, instead of reading every
//! listing of the parent and sorting them.
//!
//! An index's name carries its path (`sm_path_sp:address.city`), so the database's catalog is
//! the only record of which paths are indexed: nothing to keep in step.
//!
//! On PostgreSQL the key is first stored in a generated column of its own
//! (`"sm_key:address.city" jsonb GENERATED ALWAYS AS (NULLIF(data #> '{address,city}',
//! 'null')) STORED`), and the index is on that column and includes every other column a page
//! without the listing JSON selects, as the tables' page indexes do. PostgreSQL cannot answer
//! from an index on an expression alone (its planner never takes an expression's value from
//! the index), so a filtered page had to visit each listing's row; on the column, the page is
//! an index-only scan. Pages read the column in place of the expression
//! ([`crate::store::key_columns`]). SQLite indexes the expression itself.

use sea_orm::DbBackend;

use crate::error::Error;
use crate::store::json_path::{JsonPath, KEY_COLUMN_PREFIX};

/// The listing tables an indexed path is indexed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ListingTable {
    /// `source_properties`, under their source.
    Source,
    /// `target_properties`, under their target.
    Target,
}

impl ListingTable {
    /// Both tables, sources first.
    pub(crate) const ALL: [Self; 2] = [Self::Source, Self::Target];

    /// The table's name.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Self::Source => "source_properties",
            Self::Target => "target_properties",
        }
    }

    /// The column of the listing's parent.
    fn parent(self) -> &'static str {
        match self {
            Self::Source => "source_id",
            Self::Target => "target_id",
        }
    }

    /// The columns a page of this table selects besides its index key and `data`: what the
    /// table's page index includes (migrations 000007 and 000010), so that a path index
    /// covers a page as well.
    fn page_columns(self) -> &'static str {
        match self {
            Self::Source => "external_id, content_hash, removed_at, created_at, updated_at",
            Self::Target => {
                "source_property_id, external_id, content_hash, base_hash, manually_modified, \
                 manual_changed_at, conflict, removed_at, last_synced_at, created_at, \
                 updated_at, resolution, resolved_at, resolved_by, version"
            }
        }
    }

    /// What every name of a path index on this table starts with.
    fn prefix(self) -> &'static str {
        match self {
            Self::Source => "sm_path_sp:",
            Self::Target => "sm_path_tp:",
        }
    }

    /// What the name of the statistics of a path's key type on this table starts with (as
    /// long as [`Self::prefix`], so a path that names an index names these too).
    fn statistics_prefix(self) -> &'static str {
        match self {
            Self::Source => "sm_type_sp:",
            Self::Target => "sm_type_tp:",
        }
    }

    /// The table named `name`.
    pub(crate) fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|table| table.table() == name)
    }

    /// The table an index name belongs to and the path it names, if it names a path index.
    pub(crate) fn of_index(name: &str) -> Option<(Self, &str)> {
        Self::ALL
            .into_iter()
            .find_map(|table| Some((table, name.strip_prefix(table.prefix())?)))
    }
}

/// PostgreSQL's longest identifier, in bytes.
const MAX_NAME_BYTES: usize = 63;

/// The longest path an index can be declared on: its name holds it after the prefix.
pub(crate) const MAX_PATH_CHARS: usize = MAX_NAME_BYTES - "sm_path_sp:".len();

/// Checks a path an operator names (`field` in errors) and that an index name can hold it.
pub(crate) fn parse_path(field: &str, raw: &str) -> Result<JsonPath, Error> {
    let path = JsonPath::parse(field, raw)?;
    if raw.len() > MAX_PATH_CHARS {
        return Err(Error::invalid(
            field,
            format!(
                "an indexed path has at most {MAX_PATH_CHARS} characters; `{raw}` has {}",
                raw.len()
            ),
        ));
    }
    Ok(path)
}

/// The name of the index on `path` in `table`, quoted.
pub(crate) fn quoted_name(table: ListingTable, path: &JsonPath) -> String {
    format!("\"{}{}\"", table.prefix(), path.as_str())
}

/// PostgreSQL: the statement that adds the stored column of `path`'s sort key to `table`
/// (nothing when it exists). Adding it rewrites the table under an exclusive lock: reads and
/// writes of the table wait until it is done.
pub(crate) fn add_key_column_sql(table: ListingTable, path: &JsonPath) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN IF NOT EXISTS \"{}\" jsonb GENERATED ALWAYS AS ({}) STORED",
        table.table(),
        path.key_column(),
        path.key_expression(),
    )
}

/// PostgreSQL: the statement that drops the stored key column of `path` from `table`
/// (nothing when it does not exist; no rewrite).
pub(crate) fn drop_key_column_sql(table: ListingTable, path: &JsonPath) -> String {
    format!(
        "ALTER TABLE {} DROP COLUMN IF EXISTS \"{}\"",
        table.table(),
        path.key_column()
    )
}

/// The statement that builds the index on `path` in `table` (nothing when it exists): on
/// PostgreSQL on the stored key column ([`add_key_column_sql`] first), including the page's
/// other columns, on SQLite on the key expression. On PostgreSQL it builds `CONCURRENTLY`:
/// imports, syncs and reads go on meanwhile, and the statement cannot run inside a
/// transaction.
pub(crate) fn create_sql(backend: DbBackend, table: ListingTable, path: &JsonPath) -> String {
    let concurrently = concurrently(backend);
    let (key, include) = match backend {
        DbBackend::Postgres => (
            format!("\"{}\"", path.key_column()),
            format!(" INCLUDE ({})", table.page_columns()),
        ),
        _ => (format!("({})", path.sort_key_text(backend)), String::new()),
    };
    format!(
        "CREATE INDEX {concurrently}IF NOT EXISTS {} ON {} (tenant_id, {}, {key}, id){include}",
        quoted_name(table, path),
        table.table(),
        table.parent(),
    )
}

/// PostgreSQL: the statement that keeps statistics of the JSON type of `path`'s stored key
/// in `table` (nothing when they exist), named like the index (`sm_type_sp:price`).
///
/// A page that compares the key with a number or a string also checks its type
/// ([`JsonPath::key_type`]); without statistics of that expression the planner takes it to
/// hold for one row in 200, so it estimated a page of 100 listings to read every listing in
/// range, costed the plan it could keep for any value above the plan for the request's own
/// value, and planned each filtered page again (0.25–0.33 ms of a 1.2 ms page, 2026-12-05).
/// With them it knows how many keys are numbers and keeps one plan (0.02 ms). `ANALYZE`
/// fills them, as it does the column's.
pub(crate) fn create_type_statistics_sql(table: ListingTable, path: &JsonPath) -> String {
    format!(
        "CREATE STATISTICS IF NOT EXISTS {} ON ({}) FROM {}",
        quoted_statistics_name(table, path),
        path.clone().with_stored_key().key_type(DbBackend::Postgres),
        table.table(),
    )
}

/// PostgreSQL: the statement that drops [`create_type_statistics_sql`]'s statistics
/// (nothing when they do not exist).
pub(crate) fn drop_type_statistics_sql(table: ListingTable, path: &JsonPath) -> String {
    format!(
        "DROP STATISTICS IF EXISTS {}",
        quoted_statistics_name(table, path)
    )
}

/// The quoted name of the statistics of `path`'s key type in `table` (`"sm_type_sp:price"`),
/// as [`quoted_name`] is the index's.
fn quoted_statistics_name(table: ListingTable, path: &JsonPath) -> String {
    format!("\"{}{}\"", table.statistics_prefix(), path.as_str())
}

/// The statement that drops the index on `path` in `table` (nothing when it does not exist).
pub(crate) fn drop_sql(backend: DbBackend, table: ListingTable, path: &JsonPath) -> String {
    format!(
        "DROP INDEX {}IF EXISTS {}",
        concurrently(backend),
        quoted_name(table, path)
    )
}

fn concurrently(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "CONCURRENTLY ",
        _ => "",
    }
}

/// A query for the names of the path indexes (column `name`) and whether each is ready for
/// reads (column `valid`: a concurrent build that failed leaves an invalid index on
/// PostgreSQL, and so does an index of an earlier version, on the key expression instead of
/// the stored key column).
pub(crate) fn list_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "SELECT c.relname AS name, \
             i.indisvalid AND strpos(pg_get_indexdef(i.indexrelid), '\"sm_key:') > 0 AS valid \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_class t ON t.oid = i.indrelid \
             WHERE t.relname IN ('source_properties', 'target_properties') \
             AND t.relnamespace = current_schema()::regnamespace \
             AND left(c.relname, 8) = 'sm_path_' ORDER BY c.relname"
        }
        _ => {
            "SELECT name, 1 AS valid FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ('source_properties', 'target_properties') \
             AND substr(name, 1, 8) = 'sm_path_' ORDER BY name"
        }
    }
}

/// PostgreSQL: a query for the stored key columns of both listing tables (columns
/// `table_name` and `column_name`), beside [`list_sql`]'s indexes on them.
pub(crate) fn key_columns_sql() -> String {
    format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         WHERE c.relname IN ('source_properties', 'target_properties') \
         AND c.relnamespace = current_schema()::regnamespace \
         AND a.attnum > 0 AND NOT a.attisdropped \
         AND left(a.attname, {}) = '{KEY_COLUMN_PREFIX}'",
        KEY_COLUMN_PREFIX.len()
    )
}

/// The statement that refreshes the planner's statistics of `table` (and so of its key
/// column) on PostgreSQL, and vacuums it: adding the key column rewrote the table, which
/// leaves no page marked all-visible, so every index-only scan would still visit each row
/// until a vacuum, and a rewrite gives autovacuum no reason to run. SQLite plans without
/// statistics. It cannot run inside a transaction.
pub(crate) fn vacuum_analyze_sql(backend: DbBackend, table: ListingTable) -> Option<String> {
    (backend == DbBackend::Postgres).then(|| format!("VACUUM (ANALYZE) {}", table.table()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_named_after_its_path_and_keyed_like_pages_are_ordered() {
        let path = parse_path("path", "address.city").unwrap();
        assert_eq!(
            add_key_column_sql(ListingTable::Source, &path),
            "ALTER TABLE source_properties ADD COLUMN IF NOT EXISTS \"sm_key:address.city\" \
             jsonb GENERATED ALWAYS AS (NULLIF(\"data\" #> '{address,city}', 'null'::jsonb)) \
             STORED"
        );
        assert_eq!(
            create_sql(DbBackend::Postgres, ListingTable::Source, &path),
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"sm_path_sp:address.city\" ON \
             source_properties (tenant_id, source_id, \"sm_key:address.city\", id) INCLUDE \
             (external_id, content_hash, removed_at, created_at, updated_at)"
        );
        assert_eq!(
            create_type_statistics_sql(ListingTable::Source, &path),
            "CREATE STATISTICS IF NOT EXISTS \"sm_type_sp:address.city\" ON \
             (jsonb_typeof(\"sm_key:address.city\")) FROM source_properties"
        );
        assert_eq!(
            drop_type_statistics_sql(ListingTable::Target, &path),
            "DROP STATISTICS IF EXISTS \"sm_type_tp:address.city\""
        );
        assert_eq!(
            drop_key_column_sql(ListingTable::Target, &path),
            "ALTER TABLE target_properties DROP COLUMN IF EXISTS \"sm_key:address.city\""
        );
        assert_eq!(
            create_sql(DbBackend::Sqlite, ListingTable::Target, &path),
            "CREATE INDEX IF NOT EXISTS \"sm_path_tp:address.city\" ON target_properties \
             (tenant_id, target_id, (json_extract(\"data\", '$.\"address\".\"city\"')), id)"
        );
        assert_eq!(
            ListingTable::of_index("sm_path_tp:address.city"),
            Some((ListingTable::Target, "address.city"))
        );
        assert_eq!(
            ListingTable::of_index("uq_source_properties_external_id"),
            None
        );
        let longest = "p".repeat(MAX_PATH_CHARS);
        let name = quoted_name(ListingTable::Source, &parse_path("path", &longest).unwrap());
        assert_eq!(name.len() - 2, MAX_NAME_BYTES);
        assert!(parse_path("path", &format!("{longest}q")).is_err());
    }
}
