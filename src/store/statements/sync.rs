//! The statements of a sync. One statement joins the source's listings with the target's,
//! matched by external id, and writes each pair that needs a look into the temporary table
//! `sync_work` with its category; the counts, the warnings and every write then read that
//! table and reach the listings by primary key, so the two tables are joined once a sync.

use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, Statement};

use super::Sql;
use crate::entity::SnapshotReason;

/// The tenant, source and target of a sync.
#[derive(Clone, Copy, Debug)]
pub struct SyncPair {
    /// The tenant.
    pub tenant: i64,
    /// The source.
    pub source: i64,
    /// The target.
    pub target: i64,
}

/// What a sync does with a pair of listings (`sync_work.category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Live at the source, missing on the target: created.
    Created,
    /// Changed at the source (or removed on the target) and not edited by hand: overwritten.
    Updated,
    /// Nothing to do.
    Skipped,
    /// Changed at the source and edited by hand on the target.
    Conflict,
    /// Removed at the source, live on the target: marked removed.
    Removed,
    /// Removed at the source, and missing or removed on the target.
    Gone,
}

impl Category {
    /// Every category.
    pub const ALL: [Self; 6] = [
        Self::Created,
        Self::Updated,
        Self::Skipped,
        Self::Conflict,
        Self::Removed,
        Self::Gone,
    ];

    /// Its name in `sync_work.category`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Skipped => "skipped",
            Self::Conflict => "conflict",
            Self::Removed => "removed",
            Self::Gone => "gone",
        }
    }

    /// Its name as an SQL string literal.
    fn literal(self) -> String {
        format!("'{}'", self.as_str())
    }

    /// The category named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// The temporary table of the pairs a sync looks at: source listing, target listing (none
/// when missing), category, flagged as a conflict already (0/1), live on the target (0/1).
/// Skipped pairs that are live and unflagged, the bulk of a sync, are not written.
/// PostgreSQL drops it at commit; SQLite keeps temporary tables for the connection, so a
/// leftover of an earlier sync on it is dropped first (see [`drop_work_table`]).
pub fn create_work_table(backend: DbBackend) -> Statement {
    let on_commit = match backend {
        DbBackend::Postgres => " ON COMMIT DROP",
        _ => "",
    };
    Sql::new(backend)
        .push(
            "CREATE TEMPORARY TABLE sync_work (sp_id BIGINT NOT NULL, tp_id BIGINT, \
               category TEXT NOT NULL, flagged INTEGER NOT NULL, live INTEGER NOT NULL)",
        )
        .push(on_commit)
        .build()
}

/// Drops the work table if the connection still has one.
pub fn drop_work_table(backend: DbBackend) -> Statement {
    // Qualified, so that no table of that name in the database's own schema is ever meant.
    let table = match backend {
        DbBackend::Postgres => "pg_temp.sync_work",
        _ => "temp.sync_work",
    };
    Sql::new(backend)
        .push("DROP TABLE IF EXISTS ")
        .push(table)
        .build()
}

/// Rows of one category a write handles per statement, unless the sync says otherwise: a sync
/// of any size writes in batches of at most this many listings, so that no statement outgrows
/// the statement timeout or its join's memory (a first sync of 1,000,000 listings in one
/// statement took about a minute and hashed every source listing to disk).
pub const BATCH_ROWS: u32 = 10_000;

/// The work table's rows of one write statement: those whose source listing id is in
/// `after < sp_id <= last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Rows after this source listing id.
    pub after: i64,
    /// Rows up to this source listing id, included.
    pub last: i64,
}

impl Batch {
    /// Every row: a category small enough for one statement.
    pub const ALL: Self = Self {
        after: i64::MIN,
        last: i64::MAX,
    };

    /// Appends the batch's range on the work table `w` and, when the statement joins the
    /// source listings `sp`, the same range on their primary key, so that the planner reads
    /// only the batch's source listings. Nothing for [`Batch::ALL`]: a small sync's
    /// statements read the whole table, planned without ranges.
    fn restrict(self, sql: Sql, joins_source: bool) -> Sql {
        if self == Self::ALL {
            return sql;
        }
        let sql = sql
            .push(" AND w.sp_id > ")
            .bind(self.after)
            .push(" AND w.sp_id <= ")
            .bind(self.last);
        if !joins_source {
            return sql;
        }
        sql.push(" AND sp.id > ")
            .bind(self.after)
            .push(" AND sp.id <= ")
            .bind(self.last)
    }
}

/// Indexes the work table by category and source listing, for the batches of a large sync.
pub fn index_work_table(backend: DbBackend) -> Statement {
    Sql::new(backend)
        .push("CREATE INDEX sync_work_batches ON sync_work (category, sp_id)")
        .build()
}

/// The source listing ids that end the batches of `rows` rows (at least 1) of `category`, in
/// order: `sp_id` of its `rows`th, `2 × rows`th, … row. The rows after the last of them are
/// the last batch.
pub fn batch_ends(backend: DbBackend, category: Category, rows: u32) -> Statement {
    Sql::new(backend)
        .push(
            "SELECT sp_id FROM (SELECT sp_id, ROW_NUMBER() OVER (ORDER BY sp_id) AS n \
             FROM sync_work WHERE category = ",
        )
        .push(&category.literal())
        .push(") numbered WHERE n % ")
        .bind(i64::from(rows))
        .push(" = 0 ORDER BY sp_id")
        .build()
}

/// Fills the work table: the one join of the source's listings (`sp`) with the target's
/// (`tp`).
pub fn fill_work_table(backend: DbBackend, ids: SyncPair) -> Statement {
    let changed = "(tp.base_hash IS NULL OR tp.base_hash <> sp.content_hash)";
    let [created, updated, skipped, conflict, removed, gone] = Category::ALL.map(Category::literal);
    Sql::new(backend)
        .push(&format!(
            "INSERT INTO sync_work (sp_id, tp_id, category, flagged, live) \
             SELECT sp_id, tp_id, category, flagged, live FROM (SELECT sp.id AS sp_id, \
               tp.id AS tp_id, CASE \
               WHEN sp.removed_at IS NOT NULL THEN \
                 CASE WHEN tp.id IS NOT NULL AND tp.removed_at IS NULL THEN {removed} \
                 ELSE {gone} END \
               WHEN tp.id IS NULL THEN {created} \
               WHEN tp.manually_modified AND {changed} THEN {conflict} \
               WHEN NOT tp.manually_modified AND ({changed} OR tp.removed_at IS NOT NULL) \
                 THEN {updated} \
               ELSE {skipped} END AS category, \
               CASE WHEN tp.conflict THEN 1 ELSE 0 END AS flagged, \
               CASE WHEN tp.id IS NOT NULL AND tp.removed_at IS NULL THEN 1 ELSE 0 END AS live \
             FROM source_properties sp LEFT JOIN target_properties tp \
               ON tp.tenant_id = sp.tenant_id AND tp.target_id = "
        ))
        .bind(ids.target)
        .push(" AND tp.external_id = sp.external_id WHERE sp.tenant_id = ")
        .bind(ids.tenant)
        .push(" AND sp.source_id = ")
        .bind(ids.source)
        .push(&format!(
            ") pairs WHERE category <> {skipped} OR flagged = 1 OR live = 0"
        ))
        .build()
}

/// The source's listings (`n`): with the work table's rows, what gives the skipped pairs the
/// table leaves out.
pub fn count_source_listings(backend: DbBackend, ids: SyncPair) -> Statement {
    Sql::new(backend)
        .push("SELECT COUNT(*) AS n FROM source_properties WHERE tenant_id = ")
        .bind(ids.tenant)
        .push(" AND source_id = ")
        .bind(ids.source)
        .build()
}

/// The work table's pairs by `category`, `flagged` and `live`: `n`.
pub fn count_work(backend: DbBackend) -> Statement {
    Sql::new(backend)
        .push(
            "SELECT category, flagged, live, COUNT(*) AS n FROM sync_work \
             GROUP BY category, flagged, live",
        )
        .build()
}

/// The hand-edited listings whose source changed and that are not flagged yet (`id`): what
/// the `MERGE` policy merges or flags.
pub fn merge_candidates(backend: DbBackend) -> Statement {
    Sql::new(backend)
        .push("SELECT tp_id AS id FROM sync_work WHERE category = ")
        .push(&Category::Conflict.literal())
        .push(" AND flagged = 0 ORDER BY tp_id")
        .build()
}

/// The hand-edited listings whose source changed: `id`, `external_id`.
pub fn edited_and_changed(backend: DbBackend) -> Statement {
    Sql::new(backend)
        .push(
            "SELECT tp.id AS id, tp.external_id AS external_id \
             FROM sync_work w JOIN target_properties tp ON tp.id = w.tp_id \
             WHERE w.category = ",
        )
        .push(&Category::Conflict.literal())
        .push(" ORDER BY tp.id")
        .build()
}

/// What each write that changes target listings returns: their ids, for `listingChanges`.
const RETURNING_ID: &str = " RETURNING target_properties.id AS id";

/// Appends the conditions that pick the target listings of `category` from the work table
/// `w` in an `UPDATE target_properties … FROM`: by primary key only, so that the planner
/// probes the key for each of the table's rows rather than reading the tenant's listings
/// (which the statistics of a freshly loaded target can call a handful).
fn of_category(sql: Sql, category: Category, batch: Batch, joins_source: bool) -> Sql {
    let sql = sql
        .push(" target_properties.id = w.tp_id AND w.category = ")
        .push(&category.literal());
    batch.restrict(sql, joins_source)
}

/// Copies the target versions a sync is about to overwrite into `target_snapshots`.
pub fn snapshot_target_listings_to_update(
    backend: DbBackend,
    batch: Batch,
    now: DateTime<Utc>,
) -> Statement {
    let sql = Sql::new(backend)
        .push(
            "INSERT INTO target_snapshots \
               (tenant_id, target_property_id, data, content_hash, reason, created_at) \
             SELECT target_properties.tenant_id, target_properties.id, target_properties.data, \
                    target_properties.content_hash, ",
        )
        .bind(SnapshotReason::Sync)
        .push(", ")
        .bind(now)
        .push(" FROM sync_work w, target_properties WHERE");
    of_category(sql, Category::Updated, batch, false).build()
}

/// Overwrites the target listings not edited by hand whose source changed (or that were
/// removed and are back) with the source's version.
pub fn update_target_listings_from_source(
    backend: DbBackend,
    batch: Batch,
    now: DateTime<Utc>,
) -> Statement {
    let sql = Sql::new(backend)
        .push(
            "UPDATE target_properties SET data = sp.data, content_hash = sp.content_hash, \
               base_hash = sp.content_hash, source_property_id = sp.id, removed_at = NULL, \
               last_synced_at = ",
        )
        .bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(
            ", version = target_properties.version + 1 \
             FROM sync_work w JOIN source_properties sp ON sp.id = w.sp_id WHERE",
        );
    of_category(sql, Category::Updated, batch, true)
        .push(RETURNING_ID)
        .build()
}

/// Creates the target listings the target lacks. A plain `INSERT`: only a sync creates target
/// listings, under the target's lock, so none can have appeared since the work table was
/// filled (and `ON CONFLICT` would cost a speculative insertion per row).
pub fn create_missing_target_listings(
    backend: DbBackend,
    ids: SyncPair,
    batch: Batch,
    now: DateTime<Utc>,
) -> Statement {
    let sql = Sql::new(backend)
        .push(
            "INSERT INTO target_properties (tenant_id, target_id, source_property_id, \
               external_id, data, content_hash, base_hash, manually_modified, conflict, \
               last_synced_at, created_at, updated_at) \
             SELECT sp.tenant_id, ",
        )
        .bind(ids.target)
        .push(", sp.id, sp.external_id, sp.data, sp.content_hash, sp.content_hash, ")
        .bind_list([false, false])
        .push(", ")
        .bind_list([now, now, now])
        .push(
            " FROM sync_work w JOIN source_properties sp ON sp.id = w.sp_id \
             WHERE w.category = ",
        )
        .push(&Category::Created.literal());
    batch.restrict(sql, true).push(" RETURNING id").build()
}

/// Flags as conflicts the hand-edited listings whose source changed and that are not flagged
/// yet (pointing them at that source listing); with `only`, just those of these target
/// listing ids.
pub fn flag_conflicts(
    backend: DbBackend,
    batch: Batch,
    only: &[i64],
    now: DateTime<Utc>,
) -> Statement {
    let sql = Sql::new(backend)
        .push("UPDATE target_properties SET conflict = ")
        .bind(true)
        .push(", source_property_id = w.sp_id, updated_at = ")
        .bind(now)
        .push(", version = target_properties.version + 1 FROM sync_work w WHERE");
    let mut sql = of_category(sql, Category::Conflict, batch, false).push(" AND w.flagged = 0");
    if !only.is_empty() {
        sql = sql
            .push(" AND target_properties.id IN (")
            .bind_list(only.iter().copied())
            .push(")");
    }
    sql.push(RETURNING_ID).build()
}

/// Marks removed the target listings whose source listing was removed.
pub fn mark_target_listings_removed(
    backend: DbBackend,
    batch: Batch,
    now: DateTime<Utc>,
) -> Statement {
    let sql = Sql::new(backend)
        .push("UPDATE target_properties SET removed_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(", version = target_properties.version + 1 FROM sync_work w WHERE");
    of_category(sql, Category::Removed, batch, false)
        .push(RETURNING_ID)
        .build()
}
