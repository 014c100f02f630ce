//! Sync (rule 3): every listing of a source into a target, set-based and under a lock.
//!
//! Per listing, matched by external id: missing on the target → created; source hash equal to
//! the target's `base_hash` → skipped; changed and not edited by hand → snapshotted, then
//! updated; changed but edited by hand → left alone, flagged as a conflict (unless the target's
//! policy is `KEEP_TARGET`) and named in a warning; removed at the source → marked removed.
//! The log counts conflicts three ways: `new_conflicts` (flagged by this sync),
//! `open_conflicts` (flagged after it, for the pair) and `kept_edits` (hand edits the
//! `KEEP_TARGET` policy kept without a flag). Under the `MERGE` policy a hand-edited listing
//! whose source changed is merged field by field instead (see [`merge_policy`]), counted in
//! `merged`, and flagged only when a field changed on both sides differently.
//! Every statement that changes a target listing increments its `version`. A sync that would
//! mark more than the target's `config.max_removal_percent` of the live listings this source
//! feeds it removed, or all of them, is refused (see [`removal_guard`]) and writes only its log.
//! Each rule is one SQL statement over the whole source, so the work stays in the database.
//! The source and target locks (see [`locks::lock`]) keep two syncs of a pair, and an import
//! into the source, from interleaving, also across server replicas.

pub mod merge_policy;

use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, Set};
use serde_json::json;
use tracing::instrument;

use self::merge_policy::MergePlan;
use crate::domain::audit::{self, Actor};
use crate::domain::changes;
use crate::domain::removal_guard;
use crate::domain::sources::get_source;
use crate::domain::targets::{ConflictPolicy, get_target};
use crate::entity::sync_log;
use crate::error::{Error, MassRemoval};
use crate::events::{Progress, RunPhase};
use crate::ids::{SourceId, SyncLogId, TargetId, TargetPropertyId};
use crate::store::locks::{self, LockKind};
use crate::store::scope::{Permission, TenantScope};
use crate::store::statements::Table;
use crate::store::statements::sync::{self as statements, SyncPair};
use crate::store::tenant_write::TenantWrite;

/// How to run a sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Count and report, write nothing but the sync log.
    pub dry_run: bool,
    /// Let the sync remove more than the target's `config.max_removal_percent` of the live
    /// target listings this source feeds (see [`removal_guard`]).
    pub allow_mass_removal: bool,
    /// Who runs it.
    pub actor: Actor,
}

#[derive(Debug, Default)]
struct Counts {
    created: i64,
    updated: i64,
    skipped: i64,
    /// Hand-edited listings whose source changed, whatever became of them (the old count).
    conflicts: i64,
    /// Conflicts this sync flags.
    new_conflicts: i64,
    /// Conflicts of the pair flagged after this sync (those before it, plus the new ones).
    open_conflicts: i64,
    /// Hand edits over a changed source kept by the `KEEP_TARGET` policy, without a flag.
    kept_edits: i64,
    /// Hand-edited listings merged field by field by the `MERGE` policy.
    merged: i64,
    removed: i64,
}

impl Counts {
    /// The progress event of `phase`: nothing done yet when it starts, everything once it
    /// writes.
    fn progress(&self, phase: RunPhase) -> Progress {
        let started = phase == RunPhase::Started;
        let done = |count: i64| {
            if started {
                0
            } else {
                u64::try_from(count).unwrap_or(0)
            }
        };
        let total = self.created + self.updated + self.skipped + self.conflicts + self.removed;
        Progress {
            phase,
            processed: done(total),
            total: Some(u64::try_from(total).unwrap_or(0)),
            created: done(self.created),
            updated: done(self.updated),
            unchanged: done(self.skipped),
            conflicts: done(self.conflicts),
            removed: done(self.removed),
        }
    }
}

/// Syncs every listing of a source into a target of the scope's tenant.
#[instrument(name = "sync", skip_all, fields(
    tenant = scope.tenant_id().0,
    source = source_id.0,
    target = target_id.0,
    dry_run = options.dry_run,
))]
pub async fn sync_source_to_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_id: SourceId,
    target_id: TargetId,
    options: SyncOptions,
) -> Result<sync_log::Model, Error> {
    scope.require(Permission::Sync)?;
    let started_at = Utc::now();
    let clock = Instant::now();
    let source = get_source(db, scope, source_id).await?;
    let target = get_target(db, scope, target_id).await?;
    if !source.active {
        return Err(Error::Conflict(format!(
            "source `{}` is inactive; activate it before syncing",
            source.name
        )));
    }
    if !target.active {
        return Err(Error::Conflict(format!(
            "target `{}` is inactive; activate it before syncing",
            target.name
        )));
    }
    let policy = target.conflict_policy;
    let ids = SyncPair {
        tenant: scope.tenant_id().0,
        source: source.id,
        target: target.id,
    };

    let phase = Instant::now();
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    // Source first, then target: the order every writer takes them in.
    locks::lock(&txn, LockKind::Source, ids.source).await?;
    locks::lock(&txn, LockKind::Target, ids.target).await?;
    let lock_time = phase.elapsed();
    locks::refresh_table_statistics(&txn, Table::SourceProperties).await?;
    locks::refresh_table_statistics(&txn, Table::TargetProperties).await?;
    locks::prefer_set_joins(&txn).await?;
    let plan = match policy {
        ConflictPolicy::Merge => {
            let candidates = merge_candidates(&txn, ids).await?;
            merge_policy::plan(&txn, scope, &candidates).await?
        }
        _ => MergePlan::default(),
    };
    let mut counts = count(&txn, ids, policy, plan.merged.len() as i64).await?;
    let mut warnings = match policy {
        ConflictPolicy::Merge => plan.warnings(),
        _ => conflict_warnings(&txn, ids, policy).await?,
    };
    let live = live_on_target(&txn, ids).await?;
    let max_percent = removal_guard::max_removal_percent(&target.config);
    let would_remove = u64::try_from(counts.removed).unwrap_or(0);
    let refused =
        !options.allow_mass_removal && removal_guard::refuses(would_remove, live, max_percent);
    let would_remove_count = counts.removed;
    let count_time = phase.elapsed() - lock_time;
    crate::events::sync_progress(
        db,
        ids.tenant,
        (ids.source, ids.target),
        counts.progress(RunPhase::Started),
    )
    .await;
    let mut changed = Vec::new();
    if refused && !options.dry_run {
        // Nothing but the log: its counts are zero, `would_remove` says why.
        counts = Counts::default();
        warnings.clear();
    } else if !options.dry_run {
        let now = Utc::now();
        write(&txn, ids, policy, &plan.conflict_ids(), now).await?;
        merge_policy::write_merged(&txn, plan, now).await?;
        changed = changes::written_by_sync(&txn, ids.tenant, ids.target, now).await?;
    }
    crate::events::sync_progress(
        db,
        ids.tenant,
        (ids.source, ids.target),
        counts.progress(RunPhase::Writing),
    )
    .await;
    let write_time = phase.elapsed() - lock_time - count_time;
    let log = sync_log::ActiveModel {
        tenant_id: Set(ids.tenant),
        source_id: Set(ids.source),
        target_id: Set(ids.target),
        dry_run: Set(options.dry_run),
        created: Set(counts.created as i32),
        updated: Set(counts.updated as i32),
        skipped: Set(counts.skipped as i32),
        conflicts: Set(counts.conflicts as i32),
        new_conflicts: Set(Some(counts.new_conflicts as i32)),
        open_conflicts: Set(Some(counts.open_conflicts as i32)),
        kept_edits: Set(Some(counts.kept_edits as i32)),
        merged: Set(counts.merged as i32),
        removed: Set(counts.removed as i32),
        would_remove: Set(Some(would_remove_count as i32)),
        mass_removal_refused: Set(refused),
        warnings: Set(serde_json::Value::Array(warnings)),
        actor: Set(options.actor.label()),
        started_at: Set(started_at),
        finished_at: Set(audit::finished_at(started_at, clock)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.publish_after_commit(crate::events::sync_finished(&log, changed));
    txn.commit().await?;
    if refused && !options.dry_run {
        return Err(Error::MassRemoval(Box::new(MassRemoval {
            operation: "this sync",
            owner: "target",
            would_remove,
            live,
            max_percent,
            record_id: SyncLogId(log.id).to_global(),
        })));
    }
    let duration = clock.elapsed();
    let millis = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    tracing::info!(
        created = counts.created,
        updated = counts.updated,
        skipped = counts.skipped,
        removed = counts.removed,
        conflicts = counts.conflicts,
        new_conflicts = counts.new_conflicts,
        kept_edits = counts.kept_edits,
        merged = counts.merged,
        lock_ms = millis(lock_time),
        count_ms = millis(count_time),
        write_ms = millis(write_time),
        duration_ms = millis(duration),
        "sync committed"
    );
    let figure = |n: i64| u64::try_from(n).unwrap_or(0);
    crate::telemetry::with_metrics(|metrics| {
        metrics.sync(crate::metrics::SyncFigures {
            dry_run: options.dry_run,
            created: figure(counts.created),
            updated: figure(counts.updated),
            skipped: figure(counts.skipped),
            removed: figure(counts.removed),
            conflicts: figure(counts.conflicts),
            new_conflicts: figure(counts.new_conflicts),
            duration,
        });
    });
    Ok(log)
}

/// The hand-edited listings whose source changed and that are not flagged yet: what the
/// `MERGE` policy merges or flags.
async fn merge_candidates(txn: &DatabaseTransaction, ids: SyncPair) -> Result<Vec<i64>, Error> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(statements::merge_candidates(backend, ids))
        .await?;
    rows.into_iter()
        .map(|row| Ok(row.try_get::<i64>("", "id")?))
        .collect()
}

/// What the sync will do, counted in one statement: each listing's category, and whether it
/// is flagged as a conflict already. `merged` listings of a `MERGE` sync are not conflicts.
async fn count(
    txn: &DatabaseTransaction,
    ids: SyncPair,
    policy: ConflictPolicy,
    merged: i64,
) -> Result<Counts, Error> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(statements::count_categories(backend, ids))
        .await?;
    let mut counts = Counts::default();
    for row in rows {
        let category: String = row.try_get("", "category")?;
        let flagged: i32 = row.try_get("", "flagged")?;
        let n: i64 = row.try_get("", "n")?;
        let flagged = flagged != 0;
        if flagged {
            counts.open_conflicts += n;
        }
        match category.as_str() {
            "created" => counts.created += n,
            "updated" => counts.updated += n,
            "skipped" => counts.skipped += n,
            "conflict" => {
                counts.conflicts += n;
                match (flagged, policy) {
                    (true, _) => {}
                    (false, ConflictPolicy::Flag | ConflictPolicy::Merge) => {
                        counts.new_conflicts += n;
                    }
                    (false, ConflictPolicy::KeepTarget) => counts.kept_edits += n,
                }
            }
            "removed" => counts.removed += n,
            _ => {}
        }
    }
    if policy == ConflictPolicy::Merge {
        counts.merged = merged;
        counts.new_conflicts -= merged;
    }
    counts.open_conflicts += counts.new_conflicts;
    Ok(counts)
}

/// The target's live (not removed) listings that this source feeds: what the mass-removal
/// guard measures a sync's removals against.
async fn live_on_target(txn: &DatabaseTransaction, ids: SyncPair) -> Result<u64, Error> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(statements::count_live_on_target(backend, ids))
        .await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One warning for each hand-edited listing whose source changed.
async fn conflict_warnings(
    txn: &DatabaseTransaction,
    ids: SyncPair,
    policy: ConflictPolicy,
) -> Result<Vec<serde_json::Value>, Error> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(statements::edited_and_changed(backend, ids))
        .await?;
    let message = match policy {
        ConflictPolicy::Flag => {
            "edited by hand on the target and changed at the source: kept the target version and flagged a conflict"
        }
        ConflictPolicy::KeepTarget => {
            "edited by hand on the target and changed at the source: kept the target version (policy KEEP_TARGET)"
        }
        ConflictPolicy::Merge => {
            "edited by hand on the target and changed at the source: merged field by field (policy MERGE)"
        }
    };
    rows.into_iter()
        .map(|row| {
            let id: i64 = row.try_get("", "id")?;
            let external_id: String = row.try_get("", "external_id")?;
            Ok(json!({
                "externalId": external_id,
                "targetPropertyId": TargetPropertyId(id).to_global(),
                "message": message,
            }))
        })
        .collect()
}

/// The set-based writes of a sync. `merge_conflicts`: under `MERGE`, the listings to flag.
async fn write(
    txn: &DatabaseTransaction,
    ids: SyncPair,
    policy: ConflictPolicy,
    merge_conflicts: &[i64],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    // 1. Snapshot the target versions about to be replaced.
    txn.execute_raw(statements::snapshot_target_listings_to_update(
        backend, ids, now,
    ))
    .await?;
    // 2. Update them from the source.
    txn.execute_raw(statements::update_target_listings_from_source(
        backend, ids, now,
    ))
    .await?;
    // 3. Create what the target lacks.
    txn.execute_raw(statements::create_missing_target_listings(
        backend, ids, now,
    ))
    .await?;
    // 4. Flag hand-edited listings whose source changed (they point at that source listing);
    //    under `MERGE`, only those with a field changed on both sides differently.
    let restrictions: Vec<&[i64]> = match policy {
        ConflictPolicy::Flag => vec![&[]],
        ConflictPolicy::Merge => merge_conflicts.chunks(locks::CHUNK_IDS).collect(),
        ConflictPolicy::KeepTarget => Vec::new(),
    };
    for only in restrictions {
        txn.execute_raw(statements::flag_conflicts(backend, ids, only, now))
            .await?;
    }
    // 5. Mark what the source removed.
    txn.execute_raw(statements::mark_target_listings_removed(backend, ids, now))
        .await?;
    Ok(())
}
