//! The statements of a sync: each reads or writes the whole join of a source's listings with
//! a target's, matched by external id.

use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, Statement};

use super::Sql;
use crate::entity::SnapshotReason;

/// The tenant, source and target of a sync.
#[derive(Clone, Copy, Debug)]
pub struct SyncPair {
    /// The tenant of both.
    pub tenant: i64,
    /// The source.
    pub source: i64,
    /// The target.
    pub target: i64,
}

/// The source changed since the last sync (in the [`pairs`] join).
const SOURCE_CHANGED: &str = "(tp.base_hash IS NULL OR tp.base_hash <> sp.content_hash)";

/// The source changed since the last sync (in an [`update_join`]).
const TARGET_CHANGED: &str =
    "(target_properties.base_hash IS NULL OR target_properties.base_hash <> sp.content_hash)";

/// A target listing a sync overwrites from its source: live at the source, not edited by
/// hand, and changed or removed on the target (in an [`update_join`]).
const TO_UPDATE: &str = "sp.removed_at IS NULL AND NOT target_properties.manually_modified \
     AND (target_properties.base_hash IS NULL OR target_properties.base_hash <> sp.content_hash \
          OR target_properties.removed_at IS NOT NULL)";

/// Appends the join of the source's listings (`sp`) with the target's (`tp`).
fn pairs(sql: Sql, ids: SyncPair) -> Sql {
    sql.push(
        " FROM source_properties sp LEFT JOIN target_properties tp \
           ON tp.tenant_id = sp.tenant_id AND tp.target_id = ",
    )
    .bind(ids.target)
    .push(" AND tp.external_id = sp.external_id WHERE sp.tenant_id = ")
    .bind(ids.tenant)
    .push(" AND sp.source_id = ")
    .bind(ids.source)
}

/// Appends the conditions joining `target_properties` (unaliased, as `UPDATE … FROM` needs)
/// to the source's listings `sp`.
fn update_join(sql: Sql, ids: SyncPair) -> Sql {
    sql.push(" sp.tenant_id = target_properties.tenant_id AND sp.source_id = ")
        .bind(ids.source)
        .push(
            " AND sp.external_id = target_properties.external_id \
             AND target_properties.tenant_id = ",
        )
        .bind(ids.tenant)
        .push(" AND target_properties.target_id = ")
        .bind(ids.target)
}

/// The hand-edited listings whose source changed and that are not flagged yet (`id`): what
/// the `MERGE` policy merges or flags.
pub fn merge_candidates(backend: DbBackend, ids: SyncPair) -> Statement {
    pairs(Sql::new(backend).push("SELECT tp.id AS id"), ids)
        .push(" AND sp.removed_at IS NULL AND tp.manually_modified AND ")
        .push(SOURCE_CHANGED)
        .push(" AND NOT tp.conflict ORDER BY tp.id")
        .build()
}

/// How many listings fall in each category (`created`, `updated`, `skipped`, `conflict`,
/// `removed`, `gone`), and whether they are flagged already: `category`, `flagged`, `n`.
pub fn count_categories(backend: DbBackend, ids: SyncPair) -> Statement {
    let sql = Sql::new(backend).push(&format!(
        "SELECT category, flagged, COUNT(*) AS n FROM (SELECT CASE \
           WHEN sp.removed_at IS NOT NULL THEN \
             CASE WHEN tp.id IS NOT NULL AND tp.removed_at IS NULL THEN 'removed' ELSE 'gone' END \
           WHEN tp.id IS NULL THEN 'created' \
           WHEN tp.manually_modified AND {SOURCE_CHANGED} THEN 'conflict' \
           WHEN NOT tp.manually_modified AND ({SOURCE_CHANGED} OR tp.removed_at IS NOT NULL) \
             THEN 'updated' \
           ELSE 'skipped' END AS category, \
           CASE WHEN tp.conflict THEN 1 ELSE 0 END AS flagged"
    ));
    pairs(sql, ids)
        .push(") pairs GROUP BY category, flagged")
        .build()
}

/// The target's live listings that this source feeds (`n`).
pub fn count_live_on_target(backend: DbBackend, ids: SyncPair) -> Statement {
    pairs(Sql::new(backend).push("SELECT COUNT(*) AS n"), ids)
        .push(" AND tp.id IS NOT NULL AND tp.removed_at IS NULL")
        .build()
}

/// The hand-edited listings whose source changed: `id`, `external_id`.
pub fn edited_and_changed(backend: DbBackend, ids: SyncPair) -> Statement {
    pairs(
        Sql::new(backend).push("SELECT tp.id AS id, tp.external_id AS external_id"),
        ids,
    )
    .push(" AND sp.removed_at IS NULL AND tp.manually_modified AND ")
    .push(SOURCE_CHANGED)
    .push(" ORDER BY tp.id")
    .build()
}

/// Copies the target versions a sync is about to overwrite into `target_snapshots`.
pub fn snapshot_target_listings_to_update(
    backend: DbBackend,
    ids: SyncPair,
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
        .push(" FROM target_properties, source_properties sp WHERE");
    update_join(sql, ids).push(" AND ").push(TO_UPDATE).build()
}

/// Overwrites the target listings not edited by hand whose source changed (or that were
/// removed and are back) with the source's version.
pub fn update_target_listings_from_source(
    backend: DbBackend,
    ids: SyncPair,
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
        .push(", version = target_properties.version + 1 FROM source_properties sp WHERE");
    update_join(sql, ids).push(" AND ").push(TO_UPDATE).build()
}

/// Creates the target listings the target lacks; the unique index skips those it has.
pub fn create_missing_target_listings(
    backend: DbBackend,
    ids: SyncPair,
    now: DateTime<Utc>,
) -> Statement {
    Sql::new(backend)
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
        .push(" FROM source_properties sp WHERE sp.tenant_id = ")
        .bind(ids.tenant)
        .push(" AND sp.source_id = ")
        .bind(ids.source)
        .push(
            " AND sp.removed_at IS NULL \
             ON CONFLICT (tenant_id, target_id, external_id) DO NOTHING",
        )
        .build()
}

/// Flags as conflicts the hand-edited listings whose source changed (pointing them at that
/// source listing); with `only`, just those of these target listing ids.
pub fn flag_conflicts(
    backend: DbBackend,
    ids: SyncPair,
    only: &[i64],
    now: DateTime<Utc>,
) -> Statement {
    let sql = Sql::new(backend)
        .push("UPDATE target_properties SET conflict = ")
        .bind(true)
        .push(", source_property_id = sp.id, updated_at = ")
        .bind(now)
        .push(", version = target_properties.version + 1 FROM source_properties sp WHERE");
    let mut sql = update_join(sql, ids)
        .push(" AND sp.removed_at IS NULL AND target_properties.manually_modified AND ")
        .push(TARGET_CHANGED)
        .push(" AND NOT target_properties.conflict");
    if !only.is_empty() {
        sql = sql
            .push(" AND target_properties.id IN (")
            .bind_list(only.iter().copied())
            .push(")");
    }
    sql.build()
}

/// Marks removed the target listings whose source listing was removed.
pub fn mark_target_listings_removed(
    backend: DbBackend,
    ids: SyncPair,
    now: DateTime<Utc>,
) -> Statement {
    let sql = Sql::new(backend)
        .push("UPDATE target_properties SET removed_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now)
        .push(", version = target_properties.version + 1 FROM source_properties sp WHERE");
    update_join(sql, ids)
        .push(" AND sp.removed_at IS NOT NULL AND target_properties.removed_at IS NULL")
        .build()
}
