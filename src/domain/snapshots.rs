//! Snapshots (every replaced version of a listing) and their retention (rule 6): a cleanup
//! deletes old snapshots except pinned ones, and records what it did in `cleanup_runs`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DeriveActiveEnum,
    EntityTrait, EnumIter, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::Value;
use tracing::instrument;

use crate::domain::audit::{self, Actor};
use crate::domain::pager::{self, ChildArgs, Page, PageLimits, PageRequest};
use crate::domain::scope::{Permission, TenantOwned, TenantScope};
use crate::domain::tenant_write::TenantWrite;
use crate::entity::{
    cleanup_run, source_property, source_snapshot, target_property, target_snapshot,
};
use crate::error::Error;

/// How long snapshots are kept unless told otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

/// Why a version was replaced.
// Stored in `source_snapshots.reason` and `target_snapshots.reason` as the `string_value`; a
// stored value this version does not know fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SnapshotReason {
    /// An import brought a new version of the source listing.
    #[sea_orm(string_value = "import")]
    Import,
    /// A sync brought the source's version to the target.
    #[sea_orm(string_value = "sync")]
    Sync,
    /// A person edited the target listing.
    #[sea_orm(string_value = "manual_edit")]
    ManualEdit,
    /// A conflict was resolved.
    #[sea_orm(string_value = "resolve")]
    Resolve,
    /// An older version was restored.
    #[sea_orm(string_value = "restore")]
    Restore,
}

/// Snapshots the current version of a target listing, on `conn` (the caller's transaction).
pub(crate) async fn snapshot_target_property<C: ConnectionTrait>(
    conn: &C,
    model: &target_property::Model,
    reason: SnapshotReason,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    target_snapshot::Entity::insert(target_snapshot::ActiveModel {
        tenant_id: Set(model.tenant_id),
        target_property_id: Set(model.id),
        data: Set(model.data.clone()),
        content_hash: Set(model.content_hash.clone()),
        reason: Set(reason),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

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
    let Ok(days) = i32::try_from(older_than_days) else {
        return Err(days_out_of_range());
    };
    if !(0..=36_500).contains(&days) {
        return Err(days_out_of_range());
    }
    let started_at = Utc::now();
    let clock = std::time::Instant::now();
    let cutoff = started_at - Duration::days(older_than_days);
    let tenant = scope.tenant_id().0;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let old_source = || {
        scope
            .select::<source_snapshot::Entity>()
            .filter(source_snapshot::Column::CreatedAt.lt(cutoff))
    };
    let old_target = || {
        scope
            .select::<target_snapshot::Entity>()
            .filter(target_snapshot::Column::CreatedAt.lt(cutoff))
    };
    let kept_pinned = old_source()
        .filter(source_snapshot::Column::Pinned.eq(true))
        .count(&txn)
        .await?
        + old_target()
            .filter(target_snapshot::Column::Pinned.eq(true))
            .count(&txn)
            .await?;
    let (source_snapshots, target_snapshots) = if dry_run {
        (
            old_source()
                .filter(source_snapshot::Column::Pinned.eq(false))
                .count(&txn)
                .await?,
            old_target()
                .filter(target_snapshot::Column::Pinned.eq(false))
                .count(&txn)
                .await?,
        )
    } else {
        (
            source_snapshot::Entity::delete_many()
                .filter(source_snapshot::Column::TenantId.eq(tenant))
                .filter(source_snapshot::Column::CreatedAt.lt(cutoff))
                .filter(source_snapshot::Column::Pinned.eq(false))
                .exec(&txn)
                .await?
                .rows_affected,
            target_snapshot::Entity::delete_many()
                .filter(target_snapshot::Column::TenantId.eq(tenant))
                .filter(target_snapshot::Column::CreatedAt.lt(cutoff))
                .filter(target_snapshot::Column::Pinned.eq(false))
                .exec(&txn)
                .await?
                .rows_affected,
        )
    };
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let run = cleanup_run::ActiveModel {
        tenant_id: Set(tenant),
        older_than_days: Set(days),
        cutoff: Set(cutoff),
        dry_run: Set(dry_run),
        source_snapshots_deleted: Set(count(source_snapshots)),
        target_snapshots_deleted: Set(count(target_snapshots)),
        kept_pinned: Set(count(kept_pinned)),
        actor: Set(actor.label()),
        started_at: Set(started_at),
        finished_at: Set(audit::finished_at(started_at, clock)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let report = CleanupReport {
        cutoff,
        source_snapshots,
        target_snapshots,
        kept_pinned,
        dry_run,
        run,
    };
    log_cleanup(&report, clock.elapsed());
    if !dry_run {
        crate::telemetry::with_metrics(|metrics| {
            metrics.snapshots_removed(source_snapshots, target_snapshots);
        });
    }
    Ok(report)
}

fn days_out_of_range() -> Error {
    Error::invalid("input.olderThanDays", "must be between 0 and 36500 days")
}

/// A page of the tenant's cleanup records, oldest first.
pub async fn list_cleanup_runs(
    db: &DatabaseConnection,
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

/// The data each target listing had at its last sync (its `base_hash`), by listing id: the
/// version of the listing, or of its source listing, whose content hash is `base_hash`. That
/// is the listing's own data when it still matches, else the newest of its snapshots with that
/// hash, else its source listing's current version or newest snapshot with that hash (after a
/// conflict resolution the base is a source version the target never held). Missing only
/// when retention removed that version. At most three statements for the whole batch.
pub(crate) async fn data_at_last_sync_of<'m, C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    models: impl IntoIterator<Item = &'m target_property::Model>,
) -> Result<HashMap<i64, Value>, Error> {
    let models: Vec<&target_property::Model> = models.into_iter().collect();
    let mut found = HashMap::new();
    let mut wanted: HashMap<i64, &str> = HashMap::new();
    for model in &models {
        match &model.base_hash {
            Some(base) if *base == model.content_hash => {
                found.insert(model.id, model.data.clone());
            }
            Some(base) => {
                wanted.insert(model.id, base.as_str());
            }
            None => {}
        }
    }
    if wanted.is_empty() {
        return Ok(found);
    }
    let mut hashes: Vec<String> = wanted.values().map(|h| (*h).to_owned()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let snapshots = scope
        .select::<target_snapshot::Entity>()
        .filter(target_snapshot::Column::TargetPropertyId.is_in(wanted.keys().copied()))
        .filter(target_snapshot::Column::ContentHash.is_in(hashes.iter().cloned()))
        .order_by_asc(target_snapshot::Column::Id)
        .all(conn)
        .await?;
    // Ascending ids: a newer matching snapshot overwrites an older one.
    for snapshot in snapshots {
        if wanted.get(&snapshot.target_property_id) == Some(&snapshot.content_hash.as_str()) {
            found.insert(snapshot.target_property_id, snapshot.data);
        }
    }
    wanted.retain(|id, _| !found.contains_key(id));
    if wanted.is_empty() {
        return Ok(found);
    }

    // The rest from their source listings: target listing id by source listing id.
    let mut by_source: HashMap<i64, Vec<i64>> = HashMap::new();
    for model in models {
        if let (Some(source), true) = (model.source_property_id, wanted.contains_key(&model.id)) {
            by_source.entry(source).or_default().push(model.id);
        }
    }
    if by_source.is_empty() {
        return Ok(found);
    }
    let take = |source: i64, hash: &str, data: &Value, found: &mut HashMap<i64, Value>| {
        for listing in by_source.get(&source).into_iter().flatten() {
            if wanted.get(listing) == Some(&hash) {
                found.insert(*listing, data.clone());
            }
        }
    };
    let sources: Vec<i64> = by_source.keys().copied().collect();
    let snapshots = scope
        .select::<source_snapshot::Entity>()
        .filter(source_snapshot::Column::SourcePropertyId.is_in(sources.iter().copied()))
        .filter(source_snapshot::Column::ContentHash.is_in(hashes.iter().cloned()))
        .order_by_asc(source_snapshot::Column::Id)
        .all(conn)
        .await?;
    for snapshot in &snapshots {
        take(
            snapshot.source_property_id,
            &snapshot.content_hash,
            &snapshot.data,
            &mut found,
        );
    }
    // The source listing as it is now wins over its snapshots (same content, newest form).
    for source in scope
        .get_many::<source_property::Entity, _>(conn, &sources)
        .await?
    {
        take(source.id, &source.content_hash, &source.data, &mut found);
    }
    Ok(found)
}

/// One page of snapshots under each of many source listings, in one statement.
pub(crate) async fn source_snapshot_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    property_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<source_snapshot::Model>>, Error> {
    let parent = (
        source_snapshot::Column::SourcePropertyId,
        (|m: &source_snapshot::Model| Some(m.source_property_id)) as fn(&_) -> _,
    );
    pager::child_pages::<source_snapshot::Entity, _>(db, scope, parent, property_ids, args, limits)
        .await
}

/// One page of snapshots under each of many target listings, in one statement.
pub(crate) async fn target_snapshot_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    property_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<target_snapshot::Model>>, Error> {
    let parent = (
        target_snapshot::Column::TargetPropertyId,
        (|m: &target_snapshot::Model| Some(m.target_property_id)) as fn(&_) -> _,
    );
    pager::child_pages::<target_snapshot::Entity, _>(db, scope, parent, property_ids, args, limits)
        .await
}

/// The version that replaced each source snapshot, by snapshot id: the next snapshot of its
/// listing, or the listing's current data. Two statements for the whole batch.
pub(crate) async fn source_replacements(
    db: &DatabaseConnection,
    scope: &TenantScope,
    snapshots: &[(i64, i64)],
) -> Result<HashMap<i64, Value>, Error> {
    replacements::<source_snapshot::Entity, source_property::Entity>(
        db,
        scope,
        snapshots,
        source_snapshot::Column::SourcePropertyId,
        |s| (s.id, s.source_property_id, s.data),
        |p| (p.id, p.data),
    )
    .await
}

/// The version that replaced each target snapshot, by snapshot id (see [`source_replacements`]).
pub(crate) async fn target_replacements(
    db: &DatabaseConnection,
    scope: &TenantScope,
    snapshots: &[(i64, i64)],
) -> Result<HashMap<i64, Value>, Error> {
    replacements::<target_snapshot::Entity, target_property::Entity>(
        db,
        scope,
        snapshots,
        target_snapshot::Column::TargetPropertyId,
        |s| (s.id, s.target_property_id, s.data),
        |p| (p.id, p.data),
    )
    .await
}

/// What replaced each `(snapshot, listing)` of snapshot table `S` over listing table `P`:
/// the listing's next snapshot, else the listing as it is now.
async fn replacements<S: TenantOwned, P: TenantOwned>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    snapshots: &[(i64, i64)],
    listing_col: S::Column,
    snapshot_parts: fn(S::Model) -> (i64, i64, Value),
    listing_parts: fn(P::Model) -> (i64, Value),
) -> Result<HashMap<i64, Value>, Error> {
    let mut listings: Vec<i64> = snapshots.iter().map(|(_, p)| *p).collect();
    listings.sort_unstable();
    listings.dedup();
    let first = snapshots.iter().map(|(s, _)| *s).min().unwrap_or_default();
    // The later snapshots of each listing, oldest first.
    let mut later: HashMap<i64, Vec<(i64, Value)>> = HashMap::new();
    for chunk in listings.chunks(crate::domain::sql::CHUNK_IDS) {
        let rows = scope
            .select::<S>()
            .filter(listing_col.is_in(chunk.iter().copied()))
            .filter(S::id_column().gt(first))
            .order_by_asc(S::id_column())
            .all(db)
            .await?;
        for (id, listing, data) in rows.into_iter().map(snapshot_parts) {
            later.entry(listing).or_default().push((id, data));
        }
    }
    let current: HashMap<i64, Value> = scope
        .get_many::<P, _>(db, &listings)
        .await?
        .into_iter()
        .map(listing_parts)
        .collect();
    Ok(snapshots
        .iter()
        .filter_map(|(snapshot, listing)| {
            let next = later
                .get(listing)
                .and_then(|versions| {
                    let after = versions.partition_point(|(id, _)| id <= snapshot);
                    versions.get(after).map(|(_, data)| data)
                })
                .or_else(|| current.get(listing));
            next.map(|data| (*snapshot, data.clone()))
        })
        .collect())
}
