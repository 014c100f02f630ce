//! `ImportRun` and `SyncLog`: the audit trail.

use crate::graphql::json::Json;
use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::entity::{cleanup_run, import_run, sync_log};
use crate::graphql::connection::connection_types;
use crate::graphql::connection_lists::scalar_fields;
use crate::graphql::context;
use crate::graphql::loaders::one_by_id;
use crate::graphql::types::enums::ImportMode;
use crate::graphql::types::{Source, Target};
use crate::ids::{CleanupRunId, ImportRunId, SourceId, SyncLogId, TargetId};

/// Declares the object of a run record (an import or a sync): its own fields, then the ones
/// every run ends with (who ran it, when, for how long) and the key of its source.
macro_rules! run_record_type {
    ($(#[doc = $doc:tt])* $record:ident { $($fields:tt)* }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, SimpleObject)]
        #[graphql(complex)]
        pub struct $record {
            $($fields)*
            /// Who ran it: `api_key:<id>` or `cli`.
            pub actor: String,
            /// When it started.
            pub started_at: DateTime<Utc>,
            /// When it finished.
            pub finished_at: DateTime<Utc>,
            /// How long it took, in milliseconds.
            pub duration_ms: i64,
            #[graphql(skip)]
            pub(crate) source_key: i64,
        }
    };
}

run_record_type! {
    /// The record of one import into a source.
    ImportRun {
        /// Opaque global id.
        #[graphql(owned)]
        pub id: ID,
        /// Global id of the source.
        pub source_id: ID,
        /// Incremental or full.
        pub mode: ImportMode,
        /// A dry run: the counts say what would have happened; nothing else was written.
        pub dry_run: bool,
        /// Listings created.
        pub created: i32,
        /// Listings updated (changed, or back after a removal).
        pub updated: i32,
        /// Listings with the same content hash: nothing written.
        pub unchanged: i32,
        /// Listings marked removed (full imports).
        pub removed: i32,
        /// Live listings a `FULL` import would mark removed, counted before the mass-removal guard
        /// decides; null for incremental imports (and imports recorded before it was kept).
        pub would_remove: Option<i32>,
        /// The mass-removal guard refused this `FULL` import: it would have removed more than the
        /// source's `config.max_removal_percent` of the live listings (or all of them), so nothing
        /// was written but this record (its counts are 0; `wouldRemove` says how many). On a dry
        /// run: the guard would refuse the same import without `allowMassRemoval`.
        pub mass_removal_refused: bool,
        /// Warnings, a JSON array.
        pub warnings: Json<Value>,
    }
}

impl From<import_run::Model> for ImportRun {
    fn from(model: import_run::Model) -> Self {
        Self {
            id: ID(ImportRunId(model.id).to_global()),
            source_id: ID(SourceId(model.source_id).to_global()),
            source_key: model.source_id,
            mode: model.mode.into(),
            dry_run: model.dry_run,
            created: model.created,
            updated: model.updated,
            unchanged: model.unchanged,
            removed: model.removed,
            would_remove: model.would_remove,
            mass_removal_refused: model.mass_removal_refused,
            warnings: Json(model.warnings),
            actor: model.actor,
            duration_ms: (model.finished_at - model.started_at).num_milliseconds(),
            started_at: model.started_at,
            finished_at: model.finished_at,
        }
    }
}

/// A warning of a sync, naming one listing.
#[derive(Clone, Debug, SimpleObject)]
pub struct SyncWarning {
    /// The listing's external id.
    pub external_id: String,
    /// Global id of the target listing.
    pub target_property_id: Option<ID>,
    /// What happened.
    pub message: String,
}

run_record_type! {
    /// The record of one sync of a source into a target.
    SyncLog {
        /// Opaque global id.
        #[graphql(owned)]
        pub id: ID,
        /// Global id of the source.
        pub source_id: ID,
        /// Global id of the target.
        pub target_id: ID,
        /// A dry run: the counts say what would have happened; nothing else was written.
        pub dry_run: bool,
        /// Listings created on the target.
        pub created: i32,
        /// Listings updated from the source.
        pub updated: i32,
        /// Listings skipped: the source did not change since the last sync.
        pub skipped: i32,
        /// Hand-edited listings whose source changed, whatever this sync did with them: those it
        /// flagged, those flagged by an earlier sync and still open, and those a `KEEP_TARGET`
        /// policy kept, all named in `warnings`. It counts an unresolved conflict again at every
        /// sync; read `newConflicts`, `openConflicts` and `keptEdits` instead.
        #[graphql(
            deprecation = "Mixes three counts. Use `newConflicts` (raised by this sync), `openConflicts` (still unresolved) and `keptEdits` (kept by a KEEP_TARGET policy)."
        )]
        pub conflicts: i32,
        /// Conflicts this sync raised: hand-edited listings whose source changed, now flagged for
        /// a person to resolve (listed by the `conflicts` query). Null on logs written before this count
        /// was recorded.
        pub new_conflicts: Option<i32>,
        /// Conflicts of this source and target still unresolved after this sync: the new ones
        /// and those raised earlier. Null on logs written before this count was recorded.
        pub open_conflicts: Option<i32>,
        /// Hand edits kept over a changed source because the target's `conflictPolicy` is
        /// `KEEP_TARGET` (no conflict is raised; each is named in `warnings`). Null on logs
        /// written before this count was recorded.
        pub kept_edits: Option<i32>,
        /// Hand-edited listings whose source changed that this sync merged field by field,
        /// because the target's `conflictPolicy` is `MERGE` and no field changed on both sides
        /// differently: the source's changes were applied and the person's edits kept. 0 on logs
        /// written before merging existed.
        pub merged: i32,
        /// Listings marked removed because the source removed them.
        pub removed: i32,
        /// Live target listings the sync would mark removed, counted before the mass-removal
        /// guard decides; null on logs recorded before it was kept.
        pub would_remove: Option<i32>,
        /// The mass-removal guard refused this sync: it would have removed more than the target's
        /// `config.max_removal_percent` of the live listings this source feeds it (or all of them),
        /// so nothing was written but this log (its counts are 0). On a dry run: the guard would
        /// refuse the same sync without `allowMassRemoval`.
        pub mass_removal_refused: bool,
        /// One warning per listing that needs a person's attention.
        pub warnings: Vec<SyncWarning>,
        #[graphql(skip)]
        pub(crate) target_key: i64,
    }
}

impl From<sync_log::Model> for SyncLog {
    fn from(model: sync_log::Model) -> Self {
        let warnings = model
            .warnings
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|w| SyncWarning {
                        external_id: w["externalId"].as_str().unwrap_or_default().to_owned(),
                        target_property_id: w["targetPropertyId"]
                            .as_str()
                            .map(|s| ID(s.to_owned())),
                        message: w["message"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            id: ID(SyncLogId(model.id).to_global()),
            source_id: ID(SourceId(model.source_id).to_global()),
            target_id: ID(TargetId(model.target_id).to_global()),
            source_key: model.source_id,
            target_key: model.target_id,
            dry_run: model.dry_run,
            created: model.created,
            updated: model.updated,
            skipped: model.skipped,
            conflicts: model.conflicts,
            new_conflicts: model.new_conflicts,
            open_conflicts: model.open_conflicts,
            kept_edits: model.kept_edits,
            merged: model.merged,
            removed: model.removed,
            would_remove: model.would_remove,
            mass_removal_refused: model.mass_removal_refused,
            warnings,
            actor: model.actor,
            duration_ms: (model.finished_at - model.started_at).num_milliseconds(),
            started_at: model.started_at,
            finished_at: model.finished_at,
        }
    }
}

#[ComplexObject]
impl ImportRun {
    /// The source imported into (null if it has been deleted since).
    async fn source(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Source>> {
        one_by_id(&context::loaders(ctx)?.sources, self.source_key).await
    }
}

#[ComplexObject]
impl SyncLog {
    /// The source synced from.
    async fn source(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Source>> {
        one_by_id(&context::loaders(ctx)?.sources, self.source_key).await
    }

    /// The target synced into.
    async fn target(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Target>> {
        one_by_id(&context::loaders(ctx)?.targets, self.target_key).await
    }
}

/// The record of one snapshot cleanup (`cleanupSnapshots` or the CLI's `cleanup`), dry runs
/// included: what it deleted, what it kept because it is pinned, and who ran it.
#[derive(Clone, Debug, SimpleObject)]
pub struct CleanupRun {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: ID,
    /// The age limit asked for: snapshots older than this many days.
    pub older_than_days: i32,
    /// Snapshots created before this instant were deleted, unless pinned.
    pub cutoff: DateTime<Utc>,
    /// A dry run: nothing was deleted; the counts say what would have been.
    pub dry_run: bool,
    /// Source snapshots deleted (or, in a dry run, that would be).
    pub source_snapshots_deleted: i64,
    /// Target snapshots deleted (or, in a dry run, that would be).
    pub target_snapshots_deleted: i64,
    /// Snapshots older than the cutoff kept because they are pinned (`pinSnapshot`).
    pub kept_pinned: i64,
    /// Who ran it: `api_key:<id>` or `cli`.
    pub actor: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
}

impl From<cleanup_run::Model> for CleanupRun {
    fn from(model: cleanup_run::Model) -> Self {
        Self {
            id: ID(CleanupRunId(model.id).to_global()),
            older_than_days: model.older_than_days,
            cutoff: model.cutoff,
            dry_run: model.dry_run,
            source_snapshots_deleted: model.source_snapshots_deleted,
            target_snapshots_deleted: model.target_snapshots_deleted,
            kept_pinned: model.kept_pinned,
            actor: model.actor,
            started_at: model.started_at,
            finished_at: model.finished_at,
        }
    }
}

connection_types!(
    CleanupRunConnection,
    CleanupRunEdge,
    CleanupRun,
    "cleanup runs"
);
connection_types!(ImportRunConnection, ImportRunEdge, ImportRun, "import runs");
connection_types!(SyncLogConnection, SyncLogEdge, SyncLog, "sync logs");

scalar_fields!(ImportRun {
    "id" => id,
    "sourceId" => source_id,
    "mode" => mode,
    "dryRun" => dry_run,
    "created" => created,
    "updated" => updated,
    "unchanged" => unchanged,
    "removed" => removed,
    "wouldRemove" => would_remove,
    "massRemovalRefused" => mass_removal_refused,
    "actor" => actor,
    "startedAt" => started_at,
    "finishedAt" => finished_at,
    "durationMs" => duration_ms,
});

scalar_fields!(CleanupRun {
    "id" => id,
    "olderThanDays" => older_than_days,
    "cutoff" => cutoff,
    "dryRun" => dry_run,
    "sourceSnapshotsDeleted" => source_snapshots_deleted,
    "targetSnapshotsDeleted" => target_snapshots_deleted,
    "keptPinned" => kept_pinned,
    "actor" => actor,
    "startedAt" => started_at,
    "finishedAt" => finished_at,
});

scalar_fields!(SyncLog {
    "id" => id,
    "sourceId" => source_id,
    "targetId" => target_id,
    "dryRun" => dry_run,
    "created" => created,
    "updated" => updated,
    "skipped" => skipped,
    "conflicts" => conflicts,
    "newConflicts" => new_conflicts,
    "openConflicts" => open_conflicts,
    "keptEdits" => kept_edits,
    "merged" => merged,
    "removed" => removed,
    "wouldRemove" => would_remove,
    "massRemovalRefused" => mass_removal_refused,
    "actor" => actor,
    "startedAt" => started_at,
    "finishedAt" => finished_at,
    "durationMs" => duration_ms,
});
