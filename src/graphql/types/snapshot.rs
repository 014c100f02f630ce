//! `SourceSnapshot` and `TargetSnapshot`: replaced versions of a listing.

use async_graphql::{ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::snapshots::SnapshotReason;
use crate::entity::{source_snapshot, target_snapshot};
use crate::graphql::connection::connection_types;
use crate::ids::{SourceSnapshotId, TargetSnapshotId};

/// A version of a source listing that an import replaced. Kept for the retention period
/// (30 days unless `cleanupSnapshots` is told otherwise).
#[derive(Clone, Debug, SimpleObject)]
pub struct SourceSnapshot {
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
}

impl From<source_snapshot::Model> for SourceSnapshot {
    fn from(model: source_snapshot::Model) -> Self {
        Self {
            id: ID(SourceSnapshotId(model.id).to_global()),
            reason: SnapshotReason::parse(&model.reason),
            data: Json(model.data),
            content_hash: model.content_hash,
            created_at: model.created_at,
        }
    }
}

/// A version of a target listing that a sync, a hand edit or a conflict resolution replaced.
#[derive(Clone, Debug, SimpleObject)]
pub struct TargetSnapshot {
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
}

impl From<target_snapshot::Model> for TargetSnapshot {
    fn from(model: target_snapshot::Model) -> Self {
        Self {
            id: ID(TargetSnapshotId(model.id).to_global()),
            reason: SnapshotReason::parse(&model.reason),
            data: Json(model.data),
            content_hash: model.content_hash,
            created_at: model.created_at,
        }
    }
}

connection_types!(
    SourceSnapshotConnection,
    SourceSnapshotEdge,
    SourceSnapshot,
    "source snapshots"
);
connection_types!(
    TargetSnapshotConnection,
    TargetSnapshotEdge,
    TargetSnapshot,
    "target snapshots"
);
