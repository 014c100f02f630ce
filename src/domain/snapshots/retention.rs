//! Retention (rule 6): a cleanup deletes a tenant's snapshots older than a number of days,
//! except pinned ones, and records what it did in `cleanup_runs`.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, PaginatorTrait,
    QueryFilter, Set,
};
use tracing::instrument;

use crate::domain::audit::{self, Actor};
use crate::entity::{cleanup_run, source_snapshot, target_snapshot};
use crate::error::Error;
use crate::store::pager::{self, Page, PageLimits, PageRequest};
use crate::store::scope::{Permission, TenantOwned, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// How long snapshots are kept unless told otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

/// What a cleanup deleted (or, in a dry run, would delete).
#[derive(Clone, Debug)]
pub struct CleanupReport {
    /// Snapshots older than this were deleted (unless pinned).
    pub cutoff: DateTime<Utc>,
    /// Source snapshots deleted.
    pub source_snapshots: u64,
    /// Target snapshots deleted.
    pub target_snapshots: u64,
    /// Snapshots older than the cutoff kept because they are pinned.
    pub kept_pinned: u64,
    /// Nothing was deleted; the counts say what would be.
    pub dry_run: bool,
    /// The audit record of this cleanup.
    pub run: cleanup_run::Model,
}

/// Deletes the tenant's unpinned snapshots older than `older_than_days` days, on behalf of
/// `actor`. Every cleanup, dry runs included, leaves a `cleanup_runs` record with its counts.
#[instrument(name = "cleanup", skip_all, fields(
    tenant = scope.tenant_id().0,
    older_than_days = older_than_days,
    dry_run = dry_run,
))]
pub async fn cleanup_snapshots(
    db: &DatabaseConnection,
    scope: &TenantScope,
    older_than_days: i64,
    dry_run: bool,
    actor: Actor,
) -> Result<CleanupReport, Error> {
    scope.require_unlimited(
        Permission::Admin,
        "cleaning up every snapshot of the tenant",
    )?;
    let days = retention_days(older_than_days)?;
    let started_at = Utc::now();
    let clock = Instant::now();
    let cutoff = started_at - Duration::days(older_than_days);
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let old = OldSnapshots { cutoff, dry_run };
    let sources = old
        .sweep::<source_snapshot::Entity>(
            &txn,
            scope,
            source_snapshot::Column::CreatedAt,
            source_snapshot::Column::Pinned,
        )
        .await?;
    let targets = old
        .sweep::<target_snapshot::Entity>(
            &txn,
            scope,
            target_snapshot::Column::CreatedAt,
            target_snapshot::Column::Pinned,
        )
        .await?;
    let run = record_run(
        &txn,
        scope,
        days,
        &old,
        [&sources, &targets],
        actor,
        (started_at, clock),
    )
    .await?;
    let report = CleanupReport {
        cutoff,
        source_snapshots: sources.removed,
        target_snapshots: targets.removed,
        kept_pinned: sources.kept_pinned + targets.kept_pinned,
        dry_run,
        run,
    };
    txn.commit().await?;
    log_cleanup(&report, clock.elapsed());
    if !dry_run {
        crate::telemetry::with_metrics(|metrics| {
            metrics.snapshots_removed(report.source_snapshots, report.target_snapshots);
        });
    }
    Ok(report)
}

/// The days a cleanup keeps, checked: 0 to 36,500.
fn retention_days(older_than_days: i64) -> Result<i32, Error> {
    match i32::try_from(older_than_days) {
        Ok(days) if (0..=36_500).contains(&days) => Ok(days),
        _ => Err(days_out_of_range()),
    }
}

/// The snapshots a cleanup removes: older than `cutoff`, unless pinned; a dry run only
/// counts them.
struct OldSnapshots {
    cutoff: DateTime<Utc>,
    dry_run: bool,
}

/// What a cleanup did to one snapshot table.
struct Swept {
    /// Snapshots deleted (or, in a dry run, that would be).
    removed: u64,
    /// Old snapshots kept because they are pinned.
    kept_pinned: u64,
}

impl OldSnapshots {
    /// Counts the tenant's old pinned snapshots of table `E` and deletes (or counts) the old
    /// unpinned ones.
    async fn sweep<E>(
        &self,
        txn: &TenantWrite,
        scope: &TenantScope,
        created_at: E::Column,
        pinned: E::Column,
    ) -> Result<Swept, Error>
    where
        E: TenantOwned,
        E::Model: Sync,
    {
        let old = || scope.select::<E>().filter(created_at.lt(self.cutoff));
        let kept_pinned = old().filter(pinned.eq(true)).count(txn).await?;
        let removed = if self.dry_run {
            old().filter(pinned.eq(false)).count(txn).await?
        } else {
            E::delete_many()
                .filter(E::tenant_column().eq(scope.tenant_id().0))
                .filter(created_at.lt(self.cutoff))
                .filter(pinned.eq(false))
                .exec(txn)
                .await?
                .rows_affected
        };
        Ok(Swept {
            removed,
            kept_pinned,
        })
    }
}

/// Writes the `cleanup_runs` record of a cleanup that started at `started`, with what it did
/// to the source and the target snapshots.
async fn record_run(
    txn: &TenantWrite,
    scope: &TenantScope,
    days: i32,
    old: &OldSnapshots,
    [sources, targets]: [&Swept; 2],
    actor: Actor,
    (started_at, clock): (DateTime<Utc>, Instant),
) -> Result<cleanup_run::Model, Error> {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let run = cleanup_run::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        older_than_days: Set(days),
        cutoff: Set(old.cutoff),
        dry_run: Set(old.dry_run),
        source_snapshots_deleted: Set(count(sources.removed)),
        target_snapshots_deleted: Set(count(targets.removed)),
        kept_pinned: Set(count(sources.kept_pinned + targets.kept_pinned)),
        actor: Set(actor.label()),
        started_at: Set(started_at),
        finished_at: Set(audit::finished_at(started_at, clock)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(run)
}

fn days_out_of_range() -> Error {
    Error::invalid("input.olderThanDays", "must be between 0 and 36500 days")
}

/// A page of the tenant's cleanup records, oldest first.
pub async fn list_cleanup_runs(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<cleanup_run::Model>, Error> {
    let select = scope.select::<cleanup_run::Entity>();
    pager::page(db, select, &request, limits).await
}

fn log_cleanup(report: &CleanupReport, duration: std::time::Duration) {
    tracing::info!(
        source_snapshots = report.source_snapshots,
        target_snapshots = report.target_snapshots,
        kept_pinned = report.kept_pinned,
        cutoff = %report.cutoff.to_rfc3339(),
        duration_ms = duration.as_secs_f64() * 1000.0,
        "cleanup finished"
    );
}
