//! `importProperties`, `syncSource`.

use crate::graphql::json::Json;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use serde_json::Value;

use crate::domain::import::batch::items_of;
use crate::domain::import::{self, ImportOptions};
use crate::domain::sync::{self, SyncOptions};
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::idempotency::keyed;
use crate::graphql::types::enums::ImportMode;
use crate::graphql::types::{ImportRun, SyncLog};
use crate::ids::{SourceId, TargetId};
use crate::store::idempotency::once;
use crate::store::scope::Permission;

/// Listings to import into a source.
#[derive(InputObject)]
pub struct ImportPropertiesInput {
    /// Global id of the source.
    pub source_id: ID,
    /// One listing (a JSON object) or an array of them. Each needs the source's id field
    /// (`config.id_field`, default `id`), a string or a number, unique in the batch.
    pub items: Json<Value>,
    /// `INCREMENTAL` (default) adds and changes; `FULL` also marks listings the batch lacks as removed.
    #[graphql(default)]
    pub mode: ImportMode,
    /// Check and count only: nothing is written but the import run. A `FULL` dry run also
    /// says what it would remove (`importRun.wouldRemove`) and whether the mass-removal guard
    /// would refuse it (`importRun.massRemovalRefused`).
    #[graphql(default)]
    pub dry_run: bool,
    /// Let a `FULL` import mark more than the source's `config.max_removal_percent` (default
    /// 20) of its live listings removed, or all of them. Without it such an import is refused
    /// with `MASS_REMOVAL` (e.g. `this FULL import would remove 120 of 150 live listings
    /// (80%)…`), and writes nothing but its import run (`massRemovalRefused: true`, counts 0),
    /// whose id is in `extensions.recordId`.
    #[graphql(default)]
    pub allow_mass_removal: bool,
    /// Send the same key again to retry safely: a repeat with the same input returns the
    /// first answer without doing the work again; the same key with another input is
    /// `IDEMPOTENCY_KEY_REUSED`. 1 to 255 visible ASCII characters, e.g. a UUID
    /// `"9b2f6c1e-5d7a-4e0b-8f3a-2c1d4e5f6a7b"`; kept 24 hours (`SYNC_IDEMPOTENCY_KEY_HOURS`),
    /// per tenant and mutation. The `Idempotency-Key` HTTP header does the same.
    pub idempotency_key: Option<String>,
}

/// What an import did.
#[derive(SimpleObject)]
pub struct ImportPropertiesPayload {
    /// The import's record: created, updated, unchanged, removed, duration.
    pub import_run: ImportRun,
}

/// A source and target to sync.
#[derive(InputObject)]
pub struct SyncSourceInput {
    /// Global id of the source.
    pub source_id: ID,
    /// Global id of the target.
    pub target_id: ID,
    /// Count and report only: nothing is written but the sync log.
    #[graphql(default)]
    pub dry_run: bool,
    /// Let the sync mark more than the target's `config.max_removal_percent` (default 20) of
    /// the live target listings this source feeds removed, or all of them. Without it such a
    /// sync is refused with `MASS_REMOVAL` and writes nothing but its sync log
    /// (`massRemovalRefused: true`, counts 0).
    #[graphql(default)]
    pub allow_mass_removal: bool,
    /// Send the same key again to retry safely: a repeat with the same input returns the
    /// first answer without doing the work again; the same key with another input is
    /// `IDEMPOTENCY_KEY_REUSED`. 1 to 255 visible ASCII characters, e.g. a UUID
    /// `"9b2f6c1e-5d7a-4e0b-8f3a-2c1d4e5f6a7b"`; kept 24 hours (`SYNC_IDEMPOTENCY_KEY_HOURS`),
    /// per tenant and mutation. The `Idempotency-Key` HTTP header does the same.
    pub idempotency_key: Option<String>,
}

/// What a sync did.
#[derive(SimpleObject)]
pub struct SyncSourcePayload {
    /// The sync's record: created, updated, skipped, removed, and the conflict counts
    /// `newConflicts`, `openConflicts` and `keptEdits` (with a warning per listing).
    pub sync_log: SyncLog,
}

#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Imports listings into a source, in one transaction: new ones are created, unchanged
    /// ones (same content hash) are left alone, changed ones are snapshotted and updated.
    /// A bad item fails the whole import with an error naming its index; nothing is written.
    async fn import_properties(
        &self,
        ctx: &Context<'_>,
        input: ImportPropertiesInput,
    ) -> async_graphql::Result<ImportPropertiesPayload> {
        let scope = context::scope(ctx)?;
        let key = input.idempotency_key.as_deref();
        let keyed = keyed(ctx, "importProperties", Permission::Import, &input, key)?;
        let source_id = SourceId::from_global(&input.source_id, "input.sourceId").api()?;
        let label = |i: usize| format!("input.items[{i}]");
        let db = context::db(ctx);
        let import = import::import_listings(
            db,
            &scope,
            source_id,
            items_of(input.items.0),
            &label,
            ImportOptions {
                mode: input.mode.into(),
                dry_run: input.dry_run,
                allow_mass_removal: input.allow_mass_removal,
                actor: context::actor(ctx),
            },
        );
        let run = once(db, &scope, keyed, import).await.api()?;
        Ok(ImportPropertiesPayload {
            import_run: run.into(),
        })
    }

    /// Syncs every listing of a source into a target: creates what is missing, updates what
    /// changed, skips what did not, never overwrites a listing edited by hand on the target
    /// (it becomes a conflict, named in a warning), and marks removals.
    async fn sync_source(
        &self,
        ctx: &Context<'_>,
        input: SyncSourceInput,
    ) -> async_graphql::Result<SyncSourcePayload> {
        let scope = context::scope(ctx)?;
        let key = input.idempotency_key.as_deref();
        let keyed = keyed(ctx, "syncSource", Permission::Sync, &input, key)?;
        let source_id = SourceId::from_global(&input.source_id, "input.sourceId").api()?;
        let target_id = TargetId::from_global(&input.target_id, "input.targetId").api()?;
        let db = context::db(ctx);
        let sync = sync::sync_source_to_target(
            db,
            &scope,
            source_id,
            target_id,
            SyncOptions {
                dry_run: input.dry_run,
                allow_mass_removal: input.allow_mass_removal,
                ..SyncOptions::new(context::actor(ctx))
            },
        );
        let log = once(db, &scope, keyed, sync).await.api()?;
        Ok(SyncSourcePayload {
            sync_log: log.into(),
        })
    }
}
