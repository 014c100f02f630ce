//! `restoreSnapshot`, `pinSnapshot`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::domain::history::{self, PinnedSnapshot, RestoredListing, SnapshotRef};
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::idempotency::keyed;
use crate::graphql::types::{SourceProperty, SourceSnapshot, TargetProperty, TargetSnapshot};
use crate::store::idempotency::once;
use crate::store::scope::Permission;

/// A snapshot to make current again.
#[derive(InputObject)]
pub struct RestoreSnapshotInput {
    /// Global id of a `SourceSnapshot` or a `TargetSnapshot`.
    pub id: ID,
    /// Target snapshots only: the listing's `version` you read. If the listing changed since,
    /// the restore is refused with `STALE_VERSION` (`extensions.currentVersion`) and nothing
    /// changes. Source listings have no version: with a `SourceSnapshot` it is
    /// `BAD_USER_INPUT`.
    pub expected_version: Option<i64>,
    /// Send the same key again to retry safely: a repeat with the same input returns the
    /// first answer without restoring again; the same key with another input is
    /// `IDEMPOTENCY_KEY_REUSED`. 1 to 255 visible ASCII characters, e.g. a UUID; kept 24 hours
    /// (`SYNC_IDEMPOTENCY_KEY_HOURS`), per tenant and mutation. The `Idempotency-Key` HTTP
    /// header does the same.
    pub idempotency_key: Option<String>,
}

/// The listing after a restore.
#[derive(SimpleObject)]
pub struct RestoreSnapshotPayload {
    /// Whether the listing's data changed. False when it already had the snapshot's data:
    /// then nothing was written and no snapshot was left.
    pub restored: bool,
    /// The source listing, when a `SourceSnapshot` was restored.
    pub source_property: Option<SourceProperty>,
    /// The target listing, when a `TargetSnapshot` was restored.
    pub target_property: Option<TargetProperty>,
}

/// A snapshot to pin or unpin.
#[derive(InputObject)]
pub struct PinSnapshotInput {
    /// Global id of a `SourceSnapshot` or a `TargetSnapshot`.
    pub id: ID,
    /// `true` keeps the snapshot through every cleanup, whatever its age; `false` lets cleanup
    /// delete it again once it is old enough.
    pub pinned: bool,
}

/// The snapshot after pinning or unpinning.
#[derive(SimpleObject)]
pub struct PinSnapshotPayload {
    /// The snapshot, when it is a `SourceSnapshot`.
    pub source_snapshot: Option<SourceSnapshot>,
    /// The snapshot, when it is a `TargetSnapshot`.
    pub target_snapshot: Option<TargetSnapshot>,
}

#[derive(Default)]
pub struct HistoryMutation;

#[Object]
impl HistoryMutation {
    /// Makes a snapshot's data current again on its listing, leaving a snapshot of the version
    /// it replaces (reason `RESTORE`). On a target listing it is a hand edit: the listing
    /// becomes `manuallyModified` (syncs will not overwrite it) and its `version` increases.
    /// On a source listing the content hash is recomputed, so the next sync carries the
    /// restored data to the targets. E.g.
    /// `restoreSnapshot(input: { id: "VGFyZ2V0U25hcHNob3Q6Nw", expectedVersion: 4 }) { restored targetProperty { version } }`.
    async fn restore_snapshot(
        &self,
        ctx: &Context<'_>,
        input: RestoreSnapshotInput,
    ) -> async_graphql::Result<RestoreSnapshotPayload> {
        let scope = context::scope(ctx)?;
        let key = input.idempotency_key.as_deref();
        let keyed = keyed(ctx, "restoreSnapshot", Permission::Edit, &input, key)?;
        let snapshot = SnapshotRef::from_global(&input.id, "input.id").api()?;
        let db = context::db(ctx);
        let work = history::restore_snapshot(db, &scope, snapshot, input.expected_version);
        let restore = once(db, &scope, keyed, work).await.api()?;
        let (source_property, target_property) = match restore.listing {
            RestoredListing::Source(model) => (Some(model.into()), None),
            RestoredListing::Target(model) => (None, Some(model.into())),
        };
        Ok(RestoreSnapshotPayload {
            restored: restore.restored,
            source_property,
            target_property,
        })
    }

    /// Pins a snapshot, so `cleanupSnapshots` keeps it whatever its age (it counts it in
    /// `keptPinned`), or unpins it. E.g.
    /// `pinSnapshot(input: { id: "U291cmNlU25hcHNob3Q6Mw", pinned: true }) { sourceSnapshot { pinned } }`.
    async fn pin_snapshot(
        &self,
        ctx: &Context<'_>,
        input: PinSnapshotInput,
    ) -> async_graphql::Result<PinSnapshotPayload> {
        let scope = context::scope(ctx)?;
        let snapshot = SnapshotRef::from_global(&input.id, "input.id").api()?;
        let pinned = history::pin_snapshot(context::db(ctx), &scope, snapshot, input.pinned)
            .await
            .api()?;
        Ok(match pinned {
            PinnedSnapshot::Source(model) => PinSnapshotPayload {
                source_snapshot: Some(model.into()),
                target_snapshot: None,
            },
            PinnedSnapshot::Target(model) => PinSnapshotPayload {
                source_snapshot: None,
                target_snapshot: Some(model.into()),
            },
        })
    }
}
