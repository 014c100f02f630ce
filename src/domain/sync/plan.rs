//! What a sync will do, found out under its locks before it writes: the counts of each
//! category, the warnings, the `MERGE` plan and the mass-removal guard's verdict.

use sea_orm::ConnectionTrait;
use serde_json::json;

use super::SyncOptions;
use super::merge_policy::{self, MergePlan};
use crate::domain::removal_guard;
use crate::domain::targets::ConflictPolicy;
use crate::entity::target;
use crate::error::{Error, MassRemoval};
use crate::events::{Progress, RunPhase};
use crate::ids::{SyncLogId, TargetPropertyId};
use crate::store::scope::TenantScope;
use crate::store::statements::sync::{self as statements, SyncPair};
use crate::store::tenant_write::TenantWrite;

/// What a sync will do.
pub(super) struct SyncPlan {
    /// The listings of each category.
    pub counts: Counts,
    /// One warning per hand-edited listing whose source changed.
    pub warnings: Vec<serde_json::Value>,
    /// Under `MERGE`, the listings merged and those flagged.
    pub merge: MergePlan,
    /// The mass-removal guard's verdict.
    pub removal: RemovalCheck,
}

/// What the mass-removal guard measured, and whether it refuses the sync.
pub(super) struct RemovalCheck {
    /// Live listings the sync would mark removed.
    pub would_remove: i64,
    /// The target's live listings this source feeds.
    pub live: u64,
    /// The target's `config.max_removal_percent`.
    pub max_percent: u64,
    /// The sync removes too many and was not told it may.
    pub refused: bool,
}

impl RemovalCheck {
    /// The error of a refused sync, naming the log it left.
    pub fn error(&self, log_id: i64) -> Error {
        Error::MassRemoval(Box::new(MassRemoval {
            operation: "this sync",
            owner: "target",
            would_remove: u64::try_from(self.would_remove).unwrap_or(0),
            live: self.live,
            max_percent: self.max_percent,
            record_id: SyncLogId(log_id).to_global(),
        }))
    }
}

impl SyncPlan {
    /// Plans the sync of `ids` into `target` (the pair is locked by `txn`).
    pub async fn make(
        txn: &TenantWrite,
        scope: &TenantScope,
        ids: SyncPair,
        target: &target::Model,
        options: &SyncOptions,
    ) -> Result<Self, Error> {
        let policy = target.conflict_policy;
        let merge = match policy {
            ConflictPolicy::Merge => {
                let candidates = merge_candidates(txn, ids).await?;
                merge_policy::plan(txn, scope, &candidates).await?
            }
            _ => MergePlan::default(),
        };
        let counts = count(txn, ids, policy, merge.merged.len() as i64).await?;
        let warnings = match policy {
            ConflictPolicy::Merge => merge.warnings(),
            _ => conflict_warnings(txn, ids, policy).await?,
        };
        let live = live_on_target(txn, ids).await?;
        let max_percent = removal_guard::max_removal_percent(&target.config);
        let would_remove = u64::try_from(counts.removed).unwrap_or(0);
        let removal = RemovalCheck {
            would_remove: counts.removed,
            live,
            max_percent,
            refused: !options.allow_mass_removal
                && removal_guard::refuses(would_remove, live, max_percent),
        };
        Ok(Self {
            counts,
            warnings,
            merge,
            removal,
        })
    }
}

/// The listings of each category a sync finds.
#[derive(Debug, Default)]
pub(super) struct Counts {
    pub(super) created: i64,
    pub(super) updated: i64,
    pub(super) skipped: i64,
    /// Hand-edited listings whose source changed, whatever became of them (the old count).
    pub(super) conflicts: i64,
    /// Conflicts this sync flags.
    pub(super) new_conflicts: i64,
    /// Conflicts of the pair flagged after this sync (those before it, plus the new ones).
    pub(super) open_conflicts: i64,
    /// Hand edits over a changed source kept by the `KEEP_TARGET` policy, without a flag.
    pub(super) kept_edits: i64,
    /// Hand-edited listings merged field by field by the `MERGE` policy.
    pub(super) merged: i64,
    pub(super) removed: i64,
}

impl Counts {
    /// The progress event of `phase`: nothing done yet when it starts, everything once it
    /// writes.
    pub(super) fn progress(&self, phase: RunPhase) -> Progress {
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

/// The hand-edited listings whose source changed and that are not flagged yet: what the
/// `MERGE` policy merges or flags.
async fn merge_candidates(txn: &TenantWrite, ids: SyncPair) -> Result<Vec<i64>, Error> {
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
    txn: &TenantWrite,
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
async fn live_on_target(txn: &TenantWrite, ids: SyncPair) -> Result<u64, Error> {
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
    txn: &TenantWrite,
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
