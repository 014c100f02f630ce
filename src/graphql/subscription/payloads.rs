//! What the subscriptions send: the progress of an import or a sync and the change of a
//! listing, made from an event and what it names (fetched in the subscriber's scope).

use async_graphql::{ErrorExtensions, ID, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::domain::changes;
use crate::events::{ChangeCause, ChangeKind, Progress};
use crate::graphql::types::enums::{ListingChangeCause, ListingChangeKind, RunPhase};
use crate::graphql::types::{ImportRun, SyncLog, TargetProperty};
use crate::ids::{SourceId, SyncLogId, TargetId, TargetPropertyId};
use crate::store::scope::TenantScope;

/// Progress of an import into a source.
#[derive(Clone, Debug, SimpleObject)]
pub struct ImportProgress {
    /// Global id of the source.
    pub source_id: ID,
    /// `WRITING` after each part of the import (a GraphQL import is one part per 10,000
    /// listings, a CLI import one per batch), `FINISHED` once committed.
    pub phase: RunPhase,
    /// Listings handled so far.
    pub processed: i32,
    /// Listings in the whole import: known when it has finished.
    pub total: Option<i32>,
    /// Listings created so far.
    pub created: i32,
    /// Listings updated so far.
    pub updated: i32,
    /// Listings left as they were so far.
    pub unchanged: i32,
    /// Listings marked removed (a `FULL` import, known when it finishes).
    pub removed: i32,
    /// The finished import's record, on the `FINISHED` event only.
    pub import_run: Option<ImportRun>,
}

/// Progress of a sync of a source into a target.
#[derive(Clone, Debug, SimpleObject)]
pub struct SyncProgress {
    /// Global id of the source.
    pub source_id: ID,
    /// Global id of the target.
    pub target_id: ID,
    /// `STARTED` once the sync holds its locks and has counted what it will do (`total`),
    /// `WRITING` when its changes are written (not committed yet), `FINISHED` once committed.
    pub phase: RunPhase,
    /// Listings handled so far.
    pub processed: i32,
    /// Source listings the sync handles.
    pub total: Option<i32>,
    /// Listings created so far.
    pub created: i32,
    /// Listings updated so far.
    pub updated: i32,
    /// Listings skipped (unchanged since the last sync) so far.
    pub skipped: i32,
    /// Hand-edited listings whose source changed, so far.
    pub conflicts: i32,
    /// Listings marked removed so far.
    pub removed: i32,
    /// The finished sync's record, on the `FINISHED` event only.
    pub sync_log: Option<SyncLog>,
}

/// One committed change of one target listing.
#[derive(Clone, Debug, SimpleObject)]
pub struct ListingChange {
    /// Global id of the target listing (a `TargetProperty`).
    pub listing_id: ID,
    /// The listing's external id.
    pub external_id: String,
    /// What became of it.
    pub kind: ListingChangeKind,
    /// What made the change.
    pub cause: ListingChangeCause,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// The sync that made it (when `cause` is `SYNC` and the event is live, not replayed).
    pub sync_log: Option<SyncLog>,
    /// The listing as it is when the event is sent (its latest data).
    pub listing: TargetProperty,
}

/// The event of an import's progress.
pub(super) fn import_progress(
    source: SourceId,
    progress: &Progress,
    import_run: Option<ImportRun>,
) -> ImportProgress {
    ImportProgress {
        source_id: ID(source.to_global()),
        phase: progress.phase.into(),
        processed: int(progress.processed),
        total: progress.total.map(int),
        created: int(progress.created),
        updated: int(progress.updated),
        unchanged: int(progress.unchanged),
        removed: int(progress.removed),
        import_run,
    }
}

/// The event of a sync's progress.
pub(super) fn sync_progress(
    source: SourceId,
    target: TargetId,
    progress: &Progress,
    log: Option<crate::entity::sync_log::Model>,
) -> SyncProgress {
    SyncProgress {
        source_id: ID(source.to_global()),
        target_id: ID(target.to_global()),
        phase: progress.phase.into(),
        processed: int(progress.processed),
        total: progress.total.map(int),
        created: int(progress.created),
        updated: int(progress.updated),
        skipped: int(progress.unchanged),
        conflicts: int(progress.conflicts),
        removed: int(progress.removed),
        sync_log: log.map(SyncLog::from),
    }
}

/// The events of one notification of listing changes, in its order.
pub(super) async fn listing_changes(
    db: &DatabaseConnection,
    scope: &TenantScope,
    cause: ChangeCause,
    log: Option<i64>,
    changed: &[(i64, ChangeKind)],
) -> Vec<async_graphql::Result<ListingChange>> {
    let ids: Vec<i64> = changed.iter().map(|(id, _)| *id).collect();
    let listings = match changes::listings_by_ids(db, scope, &ids).await {
        Ok(listings) => listings,
        Err(err) => return vec![Err(err.extend())],
    };
    let sync_log = match log {
        Some(log) => match changes::sync_log(db, scope, SyncLogId(log)).await {
            Ok(log) => Some(SyncLog::from(log)),
            Err(err) => return vec![Err(err.extend())],
        },
        None => None,
    };
    let mut by_id: std::collections::HashMap<i64, _> = listings
        .into_iter()
        .map(|listing| (listing.id, listing))
        .collect();
    changed
        .iter()
        // A listing deleted since (its target or source deleted) has nothing left to show.
        .filter_map(|(id, kind)| {
            let listing = by_id.remove(id)?;
            Some(Ok(listing_change(listing, *kind, cause, sync_log.clone())))
        })
        .collect()
}

/// The event of one listing change.
pub(super) fn listing_change(
    listing: crate::entity::target_property::Model,
    kind: ChangeKind,
    cause: ChangeCause,
    sync_log: Option<SyncLog>,
) -> ListingChange {
    ListingChange {
        listing_id: ID(TargetPropertyId(listing.id).to_global()),
        external_id: listing.external_id.clone(),
        kind: kind.into(),
        cause: cause.into(),
        at: listing.updated_at,
        sync_log,
        listing: TargetProperty::from(listing),
    }
}

/// A count as a GraphQL `Int` (32-bit), saturated.
fn int(count: u64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}
