//! `Target`: where listings go.

use async_graphql::{ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::targets::{ConflictPolicy, TargetKind};
use crate::entity::target;
use crate::graphql::connection::connection_types;
use crate::ids::TargetId;

/// A place listings are synced to: a website or a partner API. Listings edited there by hand
/// are never silently overwritten by a sync.
#[derive(Clone, Debug, SimpleObject)]
pub struct Target {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: ID,
    /// Name, unique in your tenant.
    pub name: String,
    /// What the target is.
    pub kind: TargetKind,
    /// Inactive targets refuse syncs.
    pub active: bool,
    /// Free-form settings (a JSON object).
    pub config: Json<Value>,
    /// What a sync does with a listing edited here by hand when its source changes.
    pub conflict_policy: ConflictPolicy,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<target::Model> for Target {
    fn from(model: target::Model) -> Self {
        Self {
            id: ID(TargetId(model.id).to_global()),
            kind: TargetKind::of(&model),
            conflict_policy: ConflictPolicy::of(&model),
            name: model.name,
            active: model.active,
            config: Json(model.config),
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

connection_types!(TargetConnection, TargetEdge, Target, "targets");
