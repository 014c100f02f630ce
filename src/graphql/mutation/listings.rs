//! `updateTargetProperty`, `resolveConflict`, `cleanupSnapshots`.

use crate::graphql::json::Json;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::conflicts::{self, Resolution};
use crate::domain::edits;
use crate::domain::idempotency::once;
use crate::domain::scope::Permission;
use crate::domain::snapshots;
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::idempotency::keyed;
use crate::graphql::types::TargetProperty;
use crate::ids::TargetPropertyId;

/// A hand edit of a target listing.
#[derive(InputObject)]
pub struct UpdateTargetPropertyInput {
    /// Global id of the target listing.
    pub id: ID,
    /// A JSON Merge Patch (RFC 7386): keys to set, `null` to remove a key, objects merge.
    /// The listing's id field (its source's `config.id_field`, default `id`) cannot be
    /// changed or removed: a patch that tries is `BAD_USER_INPUT` naming it
    /// (`input.patch.id`); setting it to the value it has is allowed.
    pub patch: Json<Value>,
    /// Send the same key again to retry safely: a repeat with the same input returns the
    /// first answer without doing the work again; the same key with another input is
    /// `IDEMPOTENCY_KEY_REUSED`. 1 to 255 visible ASCII characters, e.g. a UUID
    /// `"9b2f6c1e-5d7a-4e0b-8f3a-2c1d4e5f6a7b"`; kept 24 hours (`SYNC_IDEMPOTENCY_KEY_HOURS`),
    /// per tenant and mutation. The `Idempotency-Key` HTTP header does the same.
    pub idempotency_key: Option<String>,
}

/// The edited listing.
#[derive(SimpleObject)]
pub struct UpdateTargetPropertyPayload {
    /// The listing, now marked `manuallyModified`.
    pub target_property: TargetProperty,
}

/// How to resolve one conflict.
#[derive(InputObject)]
pub struct ResolveConflictInput {
    /// Global id of the conflicting target listing.
    pub id: ID,
    /// Keep the target version, accept the source version, or use `data`.
    pub resolution: Resolution,
    /// The merged listing, with `USE_DATA` only. It keeps the listing's id field (the
    /// source's `config.id_field`) at its value; another value, or none, is `BAD_USER_INPUT`
    /// naming it (`input.data.id`).
    pub data: Option<Json<Value>>,
    /// Send the same key again to retry safely: a repeat with the same input returns the
    /// first answer without doing the work again; the same key with another input is
    /// `IDEMPOTENCY_KEY_REUSED`. 1 to 255 visible ASCII characters, e.g. a UUID
    /// `"9b2f6c1e-5d7a-4e0b-8f3a-2c1d4e5f6a7b"`; kept 24 hours (`SYNC_IDEMPOTENCY_KEY_HOURS`),
    /// per tenant and mutation. The `Idempotency-Key` HTTP header does the same.
    pub idempotency_key: Option<String>,
}

/// The resolved listing.
#[derive(SimpleObject)]
pub struct ResolveConflictPayload {
    /// The listing, with `hasConflict` cleared.
    pub target_property: TargetProperty,
}

/// Which snapshots to delete.
#[derive(InputObject)]
pub struct CleanupSnapshotsInput {
    /// Delete snapshots older than this many days.
    #[graphql(default = 30)]
    pub older_than_days: i32,
    /// Count only: delete nothing.
    #[graphql(default)]
    pub dry_run: bool,
}

/// What a cleanup deleted (or would delete, in a dry run).
#[derive(SimpleObject)]
pub struct CleanupSnapshotsPayload {
    /// Snapshots created before this instant were deleted.
    pub cutoff: DateTime<Utc>,
    /// Source snapshots deleted.
    pub source_snapshots_deleted: i64,
    /// Target snapshots deleted.
    pub target_snapshots_deleted: i64,
    /// Nothing was deleted; the counts say what would be.
    pub dry_run: bool,
}

#[derive(Default)]
pub struct ListingMutation;

#[Object]
impl ListingMutation {
    /// Edits a target listing by hand with a JSON Merge Patch. The old version is kept as a
    /// snapshot, and the listing is marked `manuallyModified`: syncs will not overwrite it.
    async fn update_target_property(
        &self,
        ctx: &Context<'_>,
        input: UpdateTargetPropertyInput,
    ) -> async_graphql::Result<UpdateTargetPropertyPayload> {
        let scope = context::scope(ctx)?;
        let key = input.idempotency_key.as_deref();
        let keyed = keyed(ctx, "updateTargetProperty", Permission::Edit, &input, key)?;
        let id = TargetPropertyId::from_global(&input.id, "input.id").api()?;
        let db = context::db(ctx);
        let edit = edits::update_target_property(db, &scope, id, input.patch.0);
        let model = once(db, &scope, keyed, edit).await.api()?;
        Ok(UpdateTargetPropertyPayload {
            target_property: model.into(),
        })
    }

    /// Resolves a conflict: clears the flag and records the resolution on the listing
    /// (`lastResolution`). A resolution that replaces the listing's data keeps the replaced
    /// version as a snapshot; `KEEP_TARGET` (or the same data again) changes no data and leaves
    /// no snapshot. After `KEEP_TARGET` the listing stays protected until it is edited again or
    /// resolved otherwise.
    async fn resolve_conflict(
        &self,
        ctx: &Context<'_>,
        input: ResolveConflictInput,
    ) -> async_graphql::Result<ResolveConflictPayload> {
        let scope = context::scope(ctx)?;
        let key = input.idempotency_key.as_deref();
        let keyed = keyed(ctx, "resolveConflict", Permission::Edit, &input, key)?;
        let id = TargetPropertyId::from_global(&input.id, "input.id").api()?;
        let db = context::db(ctx);
        let resolve = conflicts::resolve_conflict(
            db,
            &scope,
            id,
            input.resolution,
            input.data.map(|d| d.0),
            context::actor(ctx),
        );
        let model = once(db, &scope, keyed, resolve).await.api()?;
        Ok(ResolveConflictPayload {
            target_property: model.into(),
        })
    }

    /// Deletes your snapshots older than `olderThanDays` (default 30).
    async fn cleanup_snapshots(
        &self,
        ctx: &Context<'_>,
        input: CleanupSnapshotsInput,
    ) -> async_graphql::Result<CleanupSnapshotsPayload> {
        let scope = context::scope(ctx)?;
        let report = snapshots::cleanup_snapshots(
            context::db(ctx),
            &scope,
            i64::from(input.older_than_days),
            input.dry_run,
        )
        .await
        .api()?;
        Ok(CleanupSnapshotsPayload {
            cutoff: report.cutoff,
            source_snapshots_deleted: report.source_snapshots as i64,
            target_snapshots_deleted: report.target_snapshots as i64,
            dry_run: report.dry_run,
        })
    }
}
