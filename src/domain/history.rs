//! Restoring and pinning snapshots (the history of a listing).
//!
//! `restore_snapshot` makes a snapshot's data current again and leaves a snapshot of the
//! version it replaces (reason `restore`). On a target listing it is a hand edit, through the
//! same path as [`edits::update_target_property`]: the listing becomes `manually_modified`
//! and its `version` increases; `expected_version` guards it the same way. On a source listing
//! the content hash is recomputed, so the next sync carries the restored data to the targets.
//! Restoring the data a listing has already changes nothing and leaves no snapshot.
//!
//! `pin_snapshot` marks a snapshot to be kept by every cleanup, whatever its age.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::domain::edits::{self, change_by_hand, locked_target_property};
use crate::domain::listings::get_source_property;
use crate::domain::merge;
use crate::entity::SnapshotReason;
use crate::entity::{source_property, source_snapshot, target_property, target_snapshot};
use crate::error::Error;
use crate::hashing::content_hash;
use crate::ids::{SourcePropertyId, SourceSnapshotId, TargetPropertyId, TargetSnapshotId};
use crate::store::idempotency::Replay;
use crate::store::locks::{self, LockKind};
use crate::store::scope::{Permission, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// A snapshot of either kind, as a global id names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotRef {
    /// A snapshot of a source listing.
    Source(SourceSnapshotId),
    /// A snapshot of a target listing.
    Target(TargetSnapshotId),
}

impl SnapshotRef {
    /// Parses the global id of a source or target snapshot; `field` names the input.
    pub fn from_global(global: &str, field: &str) -> Result<Self, Error> {
        let (type_name, id) = crate::ids::decode_global(global, field)?;
        match type_name.as_str() {
            SourceSnapshotId::TYPE_NAME => Ok(Self::Source(SourceSnapshotId(id))),
            TargetSnapshotId::TYPE_NAME => Ok(Self::Target(TargetSnapshotId(id))),
            other => Err(Error::invalid(
                field,
                format!(
                    "expected the id of a SourceSnapshot or a TargetSnapshot, got the id of a {other}"
                ),
            )),
        }
    }
}

/// The listing after a restore.
#[derive(Clone, Debug)]
pub enum RestoredListing {
    /// A source listing.
    Source(source_property::Model),
    /// A target listing.
    Target(target_property::Model),
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct Restore {
    /// The listing as it is now.
    pub listing: RestoredListing,
    /// Whether its data changed: false when it already had the snapshot's data (nothing was
    /// written, no snapshot left).
    pub restored: bool,
}

/// A restore is stored as its listing's side and id, and whether it changed the data.
impl Replay for Restore {
    fn record(&self) -> Value {
        let (side, id) = match &self.listing {
            RestoredListing::Source(model) => ("source", model.id),
            RestoredListing::Target(model) => ("target", model.id),
        };
        json!({ "side": side, "id": id, "restored": self.restored })
    }

    async fn replay(
        db: &DatabaseConnection,
        scope: &TenantScope,
        record: &Value,
    ) -> Result<Self, Error> {
        let listing = match record.get("side").and_then(Value::as_str) {
            Some("source") => {
                RestoredListing::Source(source_property::Model::replay(db, scope, record).await?)
            }
            _ => RestoredListing::Target(target_property::Model::replay(db, scope, record).await?),
        };
        Ok(Self {
            listing,
            restored: record.get("restored").and_then(Value::as_bool) == Some(true),
        })
    }
}

/// Makes a snapshot's data current again on its listing, of the scope's tenant. With
/// `expected_version` (target listings only), a listing at another version is refused with
/// [`Error::StaleVersion`].
pub async fn restore_snapshot(
    db: &DatabaseConnection,
    scope: &TenantScope,
    snapshot: SnapshotRef,
    expected_version: Option<i64>,
) -> Result<Restore, Error> {
    scope.require(Permission::Edit)?;
    match snapshot {
        SnapshotRef::Target(id) => restore_target(db, scope, id, expected_version).await,
        SnapshotRef::Source(id) => {
            if expected_version.is_some() {
                return Err(Error::invalid(
                    "input.expectedVersion",
                    "source listings have no version (only target listings do); leave \
                     expectedVersion out when restoring a SourceSnapshot",
                ));
            }
            restore_source(db, scope, id).await
        }
    }
}

async fn restore_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetSnapshotId,
    expected_version: Option<i64>,
) -> Result<Restore, Error> {
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let snapshot = scope.get::<target_snapshot::Entity, _>(&txn, id.0).await?;
    let listing = TargetPropertyId(snapshot.target_property_id);
    let current = locked_target_property(&txn, scope, listing, expected_version).await?;
    let id_field = edits::id_field_of(&txn, scope, &current).await?;
    edits::keep_id_field(
        "snapshot data",
        &id_field,
        &current,
        snapshot.data.get(&id_field),
    )?;
    // The fields the restore changes count as edited by hand, as a patch's would.
    let touched = merge::paths_differing(&current.data, &snapshot.data);
    let changed = change_by_hand(
        &txn,
        scope,
        current.clone(),
        snapshot.data,
        touched,
        SnapshotReason::Restore,
    )
    .await?;
    let (listing, restored) = match changed {
        Some(updated) => {
            txn.commit().await?;
            (updated, true)
        }
        None => (current, false),
    };
    Ok(Restore {
        listing: RestoredListing::Target(listing),
        restored,
    })
}

async fn restore_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SourceSnapshotId,
) -> Result<Restore, Error> {
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let snapshot = scope.get::<source_snapshot::Entity, _>(&txn, id.0).await?;
    let listing = SourcePropertyId(snapshot.source_property_id);
    let current = get_source_property(&txn, scope, listing).await?;
    // The source's lock, as an import takes it: no import interleaves with the restore.
    locks::lock(&txn, LockKind::Source, current.source_id).await?;
    let current = get_source_property(&txn, scope, listing).await?;
    // Recomputed, not copied: the snapshot may predate a change of the hash's rules.
    let hash = content_hash(&snapshot.data);
    if hash == current.content_hash {
        return Ok(Restore {
            listing: RestoredListing::Source(current),
            restored: false,
        });
    }
    let now = Utc::now();
    source_snapshot::ActiveModel {
        tenant_id: Set(current.tenant_id),
        source_property_id: Set(current.id),
        data: Set(current.data.clone()),
        content_hash: Set(current.content_hash.clone()),
        reason: Set(SnapshotReason::Restore),
        created_at: Set(now),
        pinned: Set(false),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut active: source_property::ActiveModel = current.into();
    active.data = Set(snapshot.data);
    active.content_hash = Set(hash);
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(Restore {
        listing: RestoredListing::Source(updated),
        restored: true,
    })
}

/// A snapshot after pinning or unpinning.
#[derive(Clone, Debug)]
pub enum PinnedSnapshot {
    /// A snapshot of a source listing.
    Source(source_snapshot::Model),
    /// A snapshot of a target listing.
    Target(target_snapshot::Model),
}

/// Pins a snapshot of the scope's tenant (cleanup keeps it whatever its age) or unpins it.
pub async fn pin_snapshot(
    db: &DatabaseConnection,
    scope: &TenantScope,
    snapshot: SnapshotRef,
    pinned: bool,
) -> Result<PinnedSnapshot, Error> {
    scope.require(Permission::Edit)?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let tenant = scope.tenant_id().0;
    let result = match snapshot {
        SnapshotRef::Source(id) => {
            scope.get::<source_snapshot::Entity, _>(&txn, id.0).await?;
            source_snapshot::Entity::update_many()
                .col_expr(source_snapshot::Column::Pinned, pinned.into())
                .filter(source_snapshot::Column::TenantId.eq(tenant))
                .filter(source_snapshot::Column::Id.eq(id.0))
                .exec(&txn)
                .await?;
            PinnedSnapshot::Source(scope.get::<source_snapshot::Entity, _>(&txn, id.0).await?)
        }
        SnapshotRef::Target(id) => {
            scope.get::<target_snapshot::Entity, _>(&txn, id.0).await?;
            target_snapshot::Entity::update_many()
                .col_expr(target_snapshot::Column::Pinned, pinned.into())
                .filter(target_snapshot::Column::TenantId.eq(tenant))
                .filter(target_snapshot::Column::Id.eq(id.0))
                .exec(&txn)
                .await?;
            PinnedSnapshot::Target(scope.get::<target_snapshot::Entity, _>(&txn, id.0).await?)
        }
    };
    txn.commit().await?;
    Ok(result)
}
