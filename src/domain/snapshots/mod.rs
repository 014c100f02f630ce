//! Snapshots: every replaced version of a listing, recorded when it is replaced, paged under
//! its listing, and compared with what replaced it. Their retention (rule 6) is in
//! [`retention`]; the version a target listing had at its last sync in [`base_version`].

mod base_version;
mod retention;

pub(crate) use base_version::data_at_last_sync_of;
pub(crate) use retention::{DEFAULT_RETENTION_DAYS, cleanup_snapshots, list_cleanup_runs};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;

use crate::entity::{
    SnapshotReason, source_property, source_snapshot, target_property, target_snapshot,
};
use crate::error::Error;
use crate::store::pager::{self, ChildArgs, Page, PageLimits};
use crate::store::scope::{TenantOwned, TenantScope};

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

/// One page of snapshots under each of many source listings, in one statement.
pub(crate) async fn source_snapshot_pages(
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
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
    db: &impl ConnectionTrait,
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
    for chunk in listings.chunks(crate::store::locks::CHUNK_IDS) {
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
