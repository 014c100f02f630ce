//! `SourceSnapshot` and `TargetSnapshot`: replaced versions of a listing.

use crate::graphql::json::Json;
use async_graphql::{ComplexObject, Context, ErrorExtensions, ID, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::diff;
use crate::entity::{source_snapshot, target_snapshot};
use crate::graphql::connection::connection_types;
use crate::graphql::connection_lists::scalar_fields;
use crate::graphql::context;
use crate::graphql::types::enums::{ChangeKind, SnapshotReason};
use crate::ids::{SourceSnapshotId, TargetSnapshotId};

/// One field that changed between two versions of a listing. Values are compared in their
/// canonical form (RFC 8785, as the content hash is): `1.0` and `1` are the same value.
#[derive(Clone, Debug, SimpleObject)]
pub struct FieldChange {
    /// Dotted path of the value (`price`, `address.city`); arrays are compared whole.
    pub path: String,
    /// Whether the field was added, removed or changed. Tells a field that went from absent
    /// to `null` (`ADDED`, `before` null) from one whose value changed.
    pub kind: ChangeKind,
    /// The value before; null when the field was absent (see `kind`).
    pub before: Option<Json<Value>>,
    /// The value after; null when the field was removed (see `kind`).
    pub after: Option<Json<Value>>,
}

impl From<diff::FieldChange> for FieldChange {
    fn from(change: diff::FieldChange) -> Self {
        Self {
            path: change.path,
            kind: change.kind.into(),
            before: change.before.map(Json),
            after: change.after.map(Json),
        }
    }
}

/// Declares a snapshot type of one side (`$listing` names the column of its listing): the
/// object, its conversion from the entity, its `changes` (read through the `$replacements`
/// loader), its connection, and its plain fields. Only the documentation differs by side.
macro_rules! snapshot_type {
    (
        $(#[doc = $doc:tt])*
        $snapshot:ident from $entity:ident ($id:ident, $listing:ident),
        replaced through $replacements:ident,
        $connection:ident, $edge:ident, $what:literal
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, SimpleObject)]
        #[graphql(complex)]
        pub struct $snapshot {
            /// Opaque global id.
            #[graphql(owned)]
            pub id: ID,
            /// The listing as it was.
            pub data: Json<Value>,
            /// Its content hash.
            pub content_hash: String,
            /// Why it was replaced.
            pub reason: SnapshotReason,
            /// When it was replaced.
            pub created_at: DateTime<Utc>,
            /// Kept by every cleanup whatever its age (`pinSnapshot`); `cleanupSnapshots` counts it in
            /// `keptPinned` once it is older than the cutoff.
            pub pinned: bool,
            #[graphql(skip)]
            pub(crate) key: (i64, i64),
        }

        impl From<$entity::Model> for $snapshot {
            fn from(model: $entity::Model) -> Self {
                Self {
                    key: (model.id, model.$listing),
                    id: ID($id(model.id).to_global()),
                    reason: model.reason.into(),
                    data: Json(model.data),
                    content_hash: model.content_hash,
                    created_at: model.created_at,
                    pinned: model.pinned,
                }
            }
        }

        #[ComplexObject]
        impl $snapshot {
            /// What changed when this version was replaced: each field whose value differs in the
            /// version that replaced it (the next snapshot, or the listing as it is now).
            async fn changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FieldChange>> {
                let loaders = context::loaders(ctx)?;
                let next = loaders
                    .$replacements
                    .load_one(self.key)
                    .await
                    .map_err(|e| e.extend())?;
                Ok(next
                    .map(|next| {
                        diff::changes(&self.data.0, &next)
                            .into_iter()
                            .map(FieldChange::from)
                            .collect()
                    })
                    .unwrap_or_default())
            }
        }

        connection_types!($connection, $edge, $snapshot, $what);

        scalar_fields!($snapshot {
            "id" => id,
            "contentHash" => content_hash,
            "reason" => reason,
            "createdAt" => created_at,
            "pinned" => pinned,
        });
    };
}

snapshot_type! {
    /// A version of a source listing that an import replaced. Kept for the retention period
    /// (30 days unless `cleanupSnapshots` is told otherwise).
    SourceSnapshot from source_snapshot (SourceSnapshotId, source_property_id),
    replaced through source_replacements,
    SourceSnapshotConnection, SourceSnapshotEdge, "source snapshots"
}

snapshot_type! {
    /// A version of a target listing that a sync, a hand edit or a conflict resolution replaced.
    TargetSnapshot from target_snapshot (TargetSnapshotId, target_property_id),
    replaced through target_replacements,
    TargetSnapshotConnection, TargetSnapshotEdge, "target snapshots"
}
