//! `updateTargetProperty`, `resolveConflict`, `cleanupSnapshots`.

use crate::graphql::json::Json;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::conflicts;
use crate::domain::edits;
use crate::domain::merge::Choice;
use crate::domain::snapshots;
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::idempotency::keyed;
use crate::graphql::types::enums::{MergeTake, Resolution};
use crate::graphql::types::{CleanupRun, TargetProperty};
use crate::ids::TargetPropertyId;
use crate::store::idempotency::once;
use crate::store::scope::Permission;

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
    /// The listing's `version` you read (e.g. `3`): if it has changed since (another edit,
    /// a sync), the edit is refused with `STALE_VERSION` and `extensions.currentVersion`, and
    /// nothing changes. Without it the edit applies to whatever version is current.
    pub expected_version: Option<i64>,
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

/// What to take for one field changed on both sides differently, in a `MERGE` resolution.
/// E.g. `{ path: "price", take: SOURCE }` or `{ path: "address.city", take: VALUE, value: "Lyon" }`.
#[derive(InputObject)]
pub struct MergeChoiceInput {
    /// Dotted path of the field, as `Conflict.fields` names it (`price`, `address.city`); it
    /// must be a `BOTH_DIFFERENT` field.
    pub path: String,
    /// The source's value, the person's value, or `value`.
    pub take: MergeTake,
    /// The value to use, with `take: VALUE` only (`null` sets the field to JSON null). It is
    /// checked as imported JSON is (no NUL character, numbers in range).
    pub value: MaybeUndefined<Json<Value>>,
}

/// How to resolve one conflict.
#[derive(InputObject)]
pub struct ResolveConflictInput {
    /// Global id of the conflicting target listing.
    pub id: ID,
    /// Keep the target version, accept the source version, use `data`, or merge field by
    /// field with `choices`.
    pub resolution: Resolution,
    /// The merged listing, with `USE_DATA` only. It keeps the listing's id field (the
    /// source's `config.id_field`) at its value; another value, or none, is `BAD_USER_INPUT`
    /// naming it (`input.data.id`).
    pub data: Option<Json<Value>>,
    /// The listing's `version` you read: if it has changed since, the resolution is refused
    /// with `STALE_VERSION` and `extensions.currentVersion`, and nothing changes.
    pub expected_version: Option<i64>,
    /// With `MERGE` only: one choice for each field of `Conflict.fields` whose status is
    /// `BOTH_DIFFERENT`, and none for other fields. A missing choice, or one for another path,
    /// is `BAD_USER_INPUT` naming the path. E.g.
    /// `resolveConflict(input: { id: "…", resolution: MERGE, choices: [{ path: "price", take: SOURCE }] })`.
    #[graphql(default)]
    pub choices: Vec<MergeChoiceInput>,
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
    /// Snapshots older than the cutoff kept because they are pinned (`pinSnapshot`).
    pub kept_pinned: i64,
    /// Nothing was deleted; the counts say what would be.
    pub dry_run: bool,
    /// The audit record this cleanup left (also listed by `cleanupRuns`).
    pub cleanup_run: CleanupRun,
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
        let edit =
            edits::update_target_property(db, &scope, id, input.patch.0, input.expected_version);
        let model = once(db, &scope, keyed, edit).await.api()?;
        Ok(UpdateTargetPropertyPayload {
            target_property: model.into(),
        })
    }

    /// Resolves a conflict: clears the flag and records the resolution on the listing
    /// (`lastResolution`). A resolution that replaces the listing's data keeps the replaced
    /// version as a snapshot; `KEEP_TARGET` (or the same data again) changes no data and leaves
    /// no snapshot. After `KEEP_TARGET` the listing stays protected until it is edited again or
    /// resolved otherwise. `MERGE` merges field by field (see `Conflict.fields`) with one
    /// choice per `BOTH_DIFFERENT` field; the listing's `editedPaths` become the fields where
    /// the result differs from the source, and it stays protected for those.
    async fn resolve_conflict(
        &self,
        ctx: &Context<'_>,
        input: ResolveConflictInput,
    ) -> async_graphql::Result<ResolveConflictPayload> {
        let scope = context::scope(ctx)?;
        let key = input.idempotency_key.as_deref();
        let keyed = keyed(ctx, "resolveConflict", Permission::Edit, &input, key)?;
        let id = TargetPropertyId::from_global(&input.id, "input.id").api()?;
        let choices = input
            .choices
            .into_iter()
            .enumerate()
            .map(|(index, choice)| {
                let value = match choice.value {
                    MaybeUndefined::Undefined => None,
                    MaybeUndefined::Null => Some(Value::Null),
                    MaybeUndefined::Value(value) => Some(value.0),
                };
                Choice::new(
                    &format!("input.choices[{index}]"),
                    choice.path,
                    choice.take.into(),
                    value,
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .api()?;
        let db = context::db(ctx);
        let resolve = conflicts::resolve_conflict(
            db,
            &scope,
            id,
            input.resolution.into(),
            input.data.map(|d| d.0),
            choices,
            context::actor(ctx),
            input.expected_version,
        );
        let model = once(db, &scope, keyed, resolve).await.api()?;
        Ok(ResolveConflictPayload {
            target_property: model.into(),
        })
    }

    /// Deletes your snapshots older than `olderThanDays` (default 30), except pinned ones
    /// (`pinSnapshot`), which it counts in `keptPinned`. Every cleanup, dry runs included,
    /// leaves a record (`cleanupRun`, listed by `cleanupRuns`).
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
            context::actor(ctx),
        )
        .await
        .api()?;
        Ok(CleanupSnapshotsPayload {
            cutoff: report.cutoff,
            source_snapshots_deleted: report.run.source_snapshots_deleted,
            target_snapshots_deleted: report.run.target_snapshots_deleted,
            kept_pinned: report.run.kept_pinned,
            dry_run: report.dry_run,
            cleanup_run: report.run.into(),
        })
    }
}
