//! What a finished sync leaves behind: its sync log (the audit record), a log line with its
//! counts and timings, and its figures in the metrics.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, Set};

use super::SyncOptions;
use super::plan::{Counts, SyncPlan};
use crate::domain::audit;
use crate::entity::sync_log;
use crate::error::Error;
use crate::store::statements::sync::SyncPair;
use crate::store::tenant_write::TenantWrite;

/// How long each phase of a sync took.
pub(super) struct Timings {
    /// Waiting for the pair's locks.
    pub lock: Duration,
    /// Counting and planning.
    pub count: Duration,
    /// Writing.
    pub write: Duration,
}

/// Writes the sync log of a sync that started at `started`.
pub(super) async fn write_log(
    txn: &TenantWrite,
    ids: SyncPair,
    options: &SyncOptions,
    plan: &SyncPlan,
    (started_at, clock): (DateTime<Utc>, Instant),
) -> Result<sync_log::Model, Error> {
    let counts = &plan.counts;
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
        would_remove: Set(Some(plan.removal.would_remove as i32)),
        mass_removal_refused: Set(plan.removal.refused),
        warnings: Set(serde_json::Value::Array(plan.warnings.clone())),
        actor: Set(options.actor.label()),
        started_at: Set(started_at),
        finished_at: Set(audit::finished_at(started_at, clock)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(log)
}

/// Logs a committed sync and counts it in the metrics.
pub(super) fn report(counts: &Counts, timings: &Timings, dry_run: bool, duration: Duration) {
    let millis = |d: Duration| d.as_secs_f64() * 1000.0;
    tracing::info!(
        created = counts.created,
        updated = counts.updated,
        skipped = counts.skipped,
        removed = counts.removed,
        conflicts = counts.conflicts,
        new_conflicts = counts.new_conflicts,
        kept_edits = counts.kept_edits,
        merged = counts.merged,
        lock_ms = millis(timings.lock),
        count_ms = millis(timings.count),
        write_ms = millis(timings.write),
        duration_ms = millis(duration),
        "sync committed"
    );
    let figure = |n: i64| u64::try_from(n).unwrap_or(0);
    crate::telemetry::with_metrics(|metrics| {
        metrics.sync(crate::metrics::SyncFigures {
            dry_run,
            created: figure(counts.created),
            updated: figure(counts.updated),
            skipped: figure(counts.skipped),
            removed: figure(counts.removed),
            conflicts: figure(counts.conflicts),
            new_conflicts: figure(counts.new_conflicts),
            duration,
        });
    });
}
