//! What a sync will do, found out under its locks before it writes: the pairs that need work
//! (in the work table, see [`statements::fill_work_table`]), the counts of each category, the
//! warnings, the `MERGE` plan and the mass-removal guard's verdict.

use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::json;

use super::SyncOptions;
use super::merge_policy::{self, MergePlan};
use crate::domain::removal_guard;
use crate::domain::targets::ConflictPolicy;
use crate::entity::target;
use crate::error::{Error, MassRemoval};
use crate::events::{Progress, RunPhase};
use crate::ids::{SyncLogId, TargetPropertyId};
use crate::store::locks;
use crate::store::scope::TenantScope;
use crate::store::statements::sync::{self as statements, Batch, Category, SyncPair};
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
        fill_work_table(txn, ids).await?;
        let merge = match policy {
            ConflictPolicy::Merge => {
                let candidates = merge_candidates(txn).await?;
                merge_policy::plan(txn, scope, &candidates).await?
            }
            _ => MergePlan::default(),
        };
        let (counts, live) = count(txn, ids, policy, merge.merged.len() as i64).await?;
        let warnings = match policy {
            ConflictPolicy::Merge => merge.warnings(),
            _ => conflict_warnings(txn, policy).await?,
        };
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

/// Joins the source's listings with the target's, once, into the work table. The join runs
/// with hash and merge joins only, which scan each side once whatever the statistics say, so a
/// sync right after a large import needs no `ANALYZE` of the listings (measured: 10,000 and
/// 100,000 listings with autovacuum off, `--stats none` in BENCHMARKS.md); the small work
/// table is analyzed, for the statements that reach listings from it by primary key.
async fn fill_work_table(txn: &TenantWrite, ids: SyncPair) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    txn.execute_raw(statements::drop_work_table(backend))
        .await?;
    txn.execute_raw(statements::create_work_table(backend))
        .await?;
    locks::prefer_set_joins(txn, true).await?;
    txn.execute_raw(statements::fill_work_table(backend, ids))
        .await?;
    locks::prefer_set_joins(txn, false).await?;
    if backend == DbBackend::Postgres {
        // Its size and categories, for the statements that join it to the listings.
        txn.execute_unprepared("ANALYZE sync_work").await?;
    }
    Ok(())
}

/// How a sync's writes split the work table's rows: one statement per category while it has
/// at most `rows` rows ([`SyncOptions::batch_rows`]), else ranges of source listing ids of
/// that many rows each.
pub(super) struct Batches {
    /// Rows per batch, at least 1.
    rows: u32,
}

impl Batches {
    /// Indexes the work table when some category of `counts` needs more than one batch of
    /// `rows` rows.
    pub async fn new(txn: &TenantWrite, counts: &Counts, rows: u32) -> Result<Self, Error> {
        let batches = Self { rows: rows.max(1) };
        let categories = [
            counts.created,
            counts.updated,
            counts.conflicts,
            counts.removed,
        ];
        if categories.into_iter().any(|n| batches.splits(n)) {
            let backend = txn.get_database_backend();
            txn.execute_raw(statements::index_work_table(backend))
                .await?;
        }
        Ok(batches)
    }

    /// `rows` rows take more than one batch.
    fn splits(&self, rows: i64) -> bool {
        rows > i64::from(self.rows)
    }

    /// The batches of the `rows` rows of `category`, in source listing id order.
    pub async fn of(
        &self,
        txn: &TenantWrite,
        category: Category,
        rows: i64,
    ) -> Result<Vec<Batch>, Error> {
        if !self.splits(rows) {
            return Ok(vec![Batch::ALL]);
        }
        let backend = txn.get_database_backend();
        let ends = txn
            .query_all_raw(statements::batch_ends(backend, category, self.rows))
            .await?;
        let mut batches = Vec::with_capacity(ends.len() + 1);
        let mut after = i64::MIN;
        for end in ends {
            let last: i64 = end.try_get("", "sp_id")?;
            batches.push(Batch { after, last });
            after = last;
        }
        batches.push(Batch {
            after,
            last: i64::MAX,
        });
        Ok(batches)
    }
}

/// Drops the work table (PostgreSQL would at commit; SQLite keeps it for the connection).
pub(super) async fn drop_work_table(txn: &TenantWrite) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    txn.execute_raw(statements::drop_work_table(backend))
        .await?;
    Ok(())
}

/// The hand-edited listings whose source changed and that are not flagged yet: what the
/// `MERGE` policy merges or flags.
async fn merge_candidates(txn: &TenantWrite) -> Result<Vec<i64>, Error> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(statements::merge_candidates(backend))
        .await?;
    rows.into_iter()
        .map(|row| Ok(row.try_get::<i64>("", "id")?))
        .collect()
}

/// What the sync will do, counted from the work table: each listing's category, and whether
/// it is flagged as a conflict already. `merged` listings of a `MERGE` sync are not conflicts.
/// Also the target's live listings that this source feeds: what the mass-removal guard
/// measures a sync's removals against.
async fn count(
    txn: &TenantWrite,
    ids: SyncPair,
    policy: ConflictPolicy,
    merged: i64,
) -> Result<(Counts, u64), Error> {
    let backend = txn.get_database_backend();
    let rows = txn.query_all_raw(statements::count_work(backend)).await?;
    let mut counts = Counts::default();
    let (mut in_table, mut live) = (0, 0);
    for row in rows {
        let category: String = row.try_get("", "category")?;
        let flagged = row.try_get::<i32>("", "flagged")? != 0;
        let n: i64 = row.try_get("", "n")?;
        in_table += n;
        if row.try_get::<i32>("", "live")? != 0 {
            live += n;
        }
        if flagged {
            counts.open_conflicts += n;
        }
        match Category::parse(&category) {
            Some(Category::Created) => counts.created += n,
            Some(Category::Updated) => counts.updated += n,
            Some(Category::Skipped) => counts.skipped += n,
            Some(Category::Conflict) => {
                counts.conflicts += n;
                match (flagged, policy) {
                    (true, _) => {}
                    (false, ConflictPolicy::Flag | ConflictPolicy::Merge) => {
                        counts.new_conflicts += n;
                    }
                    (false, ConflictPolicy::KeepTarget) => counts.kept_edits += n,
                }
            }
            Some(Category::Removed) => counts.removed += n,
            Some(Category::Gone) | None => {}
        }
    }
    // The pairs the table leaves out: skipped, unflagged and live on the target.
    let row = txn
        .query_one_raw(statements::count_source_listings(backend, ids))
        .await?;
    let all: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    counts.skipped += all - in_table;
    live += all - in_table;
    if policy == ConflictPolicy::Merge {
        counts.merged = merged;
        counts.new_conflicts -= merged;
    }
    counts.open_conflicts += counts.new_conflicts;
    Ok((counts, u64::try_from(live).unwrap_or(0)))
}

/// One warning for each hand-edited listing whose source changed.
async fn conflict_warnings(
    txn: &TenantWrite,
    policy: ConflictPolicy,
) -> Result<Vec<serde_json::Value>, Error> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(statements::edited_and_changed(backend))
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
