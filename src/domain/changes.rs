//! Listing changes as `listingChanges` reports them (a sync returns the listings it changed
//! from its writes, published after it commits): the changes of a target since
//! a time (derived from the listings' timestamps), and the records events point at.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder};

use crate::entity::{import_run, sync_log, target_property};
use crate::error::Error;
use crate::events::{ChangeCause, ChangeKind};
use crate::ids::{ImportRunId, SyncLogId, TargetId};
use crate::store::scope::TenantScope;

/// A change of a target listing derived from its timestamps (see [`changes_since`]).
#[derive(Clone, Debug)]
pub struct PastChange {
    /// The listing as it is now.
    pub listing: target_property::Model,
    /// Its latest change after the time asked for.
    pub kind: ChangeKind,
    /// What made that change.
    pub cause: ChangeCause,
}

/// The listings of a target of the scope's tenant changed after `since`, oldest change first,
/// each once with its latest change: removed, in conflict, resolved, created or updated (in
/// that order of precedence), by a hand edit, a resolution or a sync as its timestamps say.
/// Sync logs are not linked to listings, so a replayed change names no sync log.
pub async fn changes_since(
    db: &DatabaseConnection,
    scope: &TenantScope,
    target: TargetId,
    since: DateTime<Utc>,
) -> Result<Vec<PastChange>, Error> {
    let listings = scope
        .select::<target_property::Entity>()
        .filter(target_property::Column::TargetId.eq(target.0))
        .filter(target_property::Column::UpdatedAt.gt(since))
        .order_by_asc(target_property::Column::UpdatedAt)
        .order_by_asc(target_property::Column::Id)
        .all(db)
        .await?;
    Ok(listings
        .into_iter()
        .map(|listing| {
            let after = |at: Option<DateTime<Utc>>| at.is_some_and(|at| at > since);
            let kind = if after(listing.removed_at) {
                ChangeKind::Removed
            } else if listing.conflict {
                ChangeKind::Conflict
            } else if after(listing.resolved_at) {
                ChangeKind::Resolved
            } else if listing.created_at > since {
                ChangeKind::Created
            } else {
                ChangeKind::Updated
            };
            let cause = if kind == ChangeKind::Resolved {
                ChangeCause::ConflictResolution
            } else if kind == ChangeKind::Updated
                && listing.manual_changed_at == Some(listing.updated_at)
            {
                ChangeCause::ManualEdit
            } else {
                ChangeCause::Sync
            };
            PastChange {
                listing,
                kind,
                cause,
            }
        })
        .collect())
}

/// The target listings of the scope's tenant with these ids (unknown ids are skipped).
pub async fn listings_by_ids<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<Vec<target_property::Model>, Error> {
    scope.get_many::<target_property::Entity, _>(db, ids).await
}

/// An import run of the scope's tenant.
pub async fn import_run(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: ImportRunId,
) -> Result<import_run::Model, Error> {
    scope.get::<import_run::Entity, _>(db, id.0).await
}

/// A sync log of the scope's tenant.
pub async fn sync_log(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SyncLogId,
) -> Result<sync_log::Model, Error> {
    scope.get::<sync_log::Entity, _>(db, id.0).await
}
