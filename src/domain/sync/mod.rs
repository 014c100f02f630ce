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
//! The work stays in the database: one statement joins the source's listings with the
//! target's into a temporary table of the pairs that need a look (see [`plan`]), and each rule
//! is then one SQL statement over that table.
//! The source and target locks (see [`locks::lock`]) keep two syncs of a pair, and an import
//! into the source, from interleaving, also across server replicas.

pub(crate) mod merge_policy;
mod plan;
mod record;

use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tracing::instrument;

use self::plan::{Counts, SyncPlan};
use crate::domain::audit::Actor;
use crate::domain::sources::get_source;
use crate::domain::targets::{ConflictPolicy, get_target};
use crate::entity::{sync_log, target};
use crate::error::Error;
use crate::events::{ChangeKind, RunPhase};
use crate::ids::{SourceId, TargetId};
use crate::store::locks::{self, LockKind};
use crate::store::scope::{Permission, TenantScope};
use crate::store::statements::sync::{self as statements, Batch, Category, SyncPair};
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
    /// Listings per write statement ([`statements::BATCH_ROWS`] unless a test says otherwise):
    /// larger syncs write in batches.
    pub batch_rows: u32,
}

impl SyncOptions {
    /// A sync by `actor` that writes, within the removal guard, in batches of the default
    /// size.
    pub fn new(actor: Actor) -> Self {
        Self {
            dry_run: false,
            allow_mass_removal: false,
            actor,
            batch_rows: statements::BATCH_ROWS,
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
    let started = (Utc::now(), Instant::now());
    let (ids, target) = active_pair(db, scope, source_id, target_id).await?;
    let phase = Instant::now();
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    lock_pair(&txn, ids).await?;
    locks::give_sync_memory(&txn).await?;
    let lock_time = phase.elapsed();
    let mut plan = SyncPlan::make(&txn, scope, ids, &target, &options).await?;
    let count_time = phase.elapsed() - lock_time;
    progress(db, ids, &plan.counts, RunPhase::Started).await;
    let refused = plan.removal.refused && !options.dry_run;
    let mut changed = Vec::new();
    if refused {
        // Nothing but the log: its counts are zero, `would_remove` says why.
        plan.counts = Counts::default();
        plan.warnings.clear();
    } else if !options.dry_run {
        changed = write_plan(
            &txn,
            ids,
            target.conflict_policy,
            options.batch_rows,
            &mut plan,
        )
        .await?;
    }
    plan::drop_work_table(&txn).await?;
    progress(db, ids, &plan.counts, RunPhase::Writing).await;
    let timings = record::Timings {
        lock: lock_time,
        count: count_time,
        write: phase.elapsed() - lock_time - count_time,
    };
    let log = record::write_log(&txn, ids, &options, &plan, started).await?;
    txn.publish_after_commit(crate::events::sync_finished(&log, changed));
    txn.commit().await?;
    if refused {
        return Err(plan.removal.error(log.id));
    }
    record::report(&plan.counts, &timings, options.dry_run, started.1.elapsed());
    Ok(log)
}

/// The source and the target of a sync, both of the scope's tenant and both active.
async fn active_pair(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_id: SourceId,
    target_id: TargetId,
) -> Result<(SyncPair, target::Model), Error> {
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
    let ids = SyncPair {
        tenant: scope.tenant_id().0,
        source: source.id,
        target: target.id,
    };
    Ok((ids, target))
}

/// Locks the pair: source first, then target, the order every writer takes them in.
async fn lock_pair(txn: &TenantWrite, ids: SyncPair) -> Result<(), Error> {
    locks::lock(txn, LockKind::Source, ids.source).await?;
    locks::lock(txn, LockKind::Target, ids.target).await?;
    Ok(())
}

/// Reports the sync's progress to subscribers.
async fn progress(db: &DatabaseConnection, ids: SyncPair, counts: &Counts, phase: RunPhase) {
    crate::events::sync_progress(
        db,
        ids.tenant,
        (ids.source, ids.target),
        counts.progress(phase),
    )
    .await;
}

/// Writes what the plan says; returns the target listings changed, by id, for
/// `listingChanges`.
async fn write_plan(
    txn: &TenantWrite,
    ids: SyncPair,
    policy: ConflictPolicy,
    batch_rows: u32,
    plan: &mut SyncPlan,
) -> Result<Vec<(i64, ChangeKind)>, Error> {
    let now = Utc::now();
    let conflicts = plan.merge.conflict_ids();
    let batches = plan::Batches::new(txn, &plan.counts, batch_rows).await?;
    let mut changed = write(txn, ids, &batches, policy, &conflicts, &plan.counts, now).await?;
    let merge = std::mem::take(&mut plan.merge);
    changed.extend(merge.merged_ids().map(|id| (id, ChangeKind::Updated)));
    merge_policy::write_merged(txn, merge, now).await?;
    changed.sort_unstable_by_key(|(id, _)| *id);
    Ok(changed)
}

/// The set-based writes of a sync, each returning the target listings it changed, in
/// `batches`. `merge_conflicts`: under `MERGE`, the listings to flag; `counts`: the plan's.
async fn write(
    txn: &TenantWrite,
    ids: SyncPair,
    batches: &plan::Batches,
    policy: ConflictPolicy,
    merge_conflicts: &[i64],
    counts: &Counts,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, ChangeKind)>, Error> {
    let backend = txn.get_database_backend();
    let mut changed = Vec::new();
    for batch in batches.of(txn, Category::Updated, counts.updated).await? {
        // 1. Snapshot the target versions about to be replaced.
        let snapshot = statements::snapshot_target_listings_to_update(backend, batch, now);
        txn.execute_raw(snapshot).await?;
        // 2. Update them from the source.
        let update = statements::update_target_listings_from_source(backend, batch, now);
        returned(txn, update, ChangeKind::Updated, &mut changed).await?;
    }
    // 3. Create what the target lacks.
    for batch in batches.of(txn, Category::Created, counts.created).await? {
        let create = statements::create_missing_target_listings(backend, ids, batch, now);
        returned(txn, create, ChangeKind::Created, &mut changed).await?;
    }
    // 4. Flag hand-edited listings whose source changed (they point at that source listing);
    //    under `MERGE`, only those with a field changed on both sides differently.
    let restrictions: Vec<(Batch, &[i64])> = match policy {
        ConflictPolicy::Flag => batches
            .of(txn, Category::Conflict, counts.conflicts)
            .await?
            .into_iter()
            .map(|batch| (batch, &[][..]))
            .collect(),
        ConflictPolicy::Merge => merge_conflicts
            .chunks(locks::CHUNK_IDS)
            .map(|only| (Batch::ALL, only))
            .collect(),
        ConflictPolicy::KeepTarget => Vec::new(),
    };
    for (batch, only) in restrictions {
        let flag = statements::flag_conflicts(backend, batch, only, now);
        returned(txn, flag, ChangeKind::Conflict, &mut changed).await?;
    }
    // 5. Mark what the source removed.
    for batch in batches.of(txn, Category::Removed, counts.removed).await? {
        let remove = statements::mark_target_listings_removed(backend, batch, now);
        returned(txn, remove, ChangeKind::Removed, &mut changed).await?;
    }
    Ok(changed)
}

/// Runs a write that returns the `id` of each listing it changed; adds them to `changed` as
/// `kind`.
async fn returned(
    txn: &TenantWrite,
    write: sea_orm::Statement,
    kind: ChangeKind,
    changed: &mut Vec<(i64, ChangeKind)>,
) -> Result<(), Error> {
    for row in txn.query_all_raw(write).await? {
        changed.push((row.try_get::<i64>("", "id")?, kind));
    }
    Ok(())
}
