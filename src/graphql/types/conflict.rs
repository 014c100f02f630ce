//! `Conflict`: a hand-edited target listing whose source changed, with the versions to compare.

use crate::graphql::json::Json;
use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::conflicts::{self, Resolution};
use crate::graphql::connection::connection_types;
use crate::graphql::fast::scalar_fields;
use crate::graphql::types::{SourceProperty, TargetProperty};
use crate::ids::TargetPropertyId;

/// A listing edited by hand on a target whose source changed afterwards. Resolve it with
/// `resolveConflict`: keep the target version, accept the source version, or supply merged data.
#[derive(Clone, Debug, SimpleObject)]
pub struct Conflict {
    /// Global id of the target listing (pass it to `resolveConflict`).
    pub id: ID,
    /// The listing's external id.
    pub external_id: String,
    /// The target listing.
    pub target_property: TargetProperty,
    /// The source listing, as it is now.
    pub source_property: Option<SourceProperty>,
    /// The target's current (hand-edited) data.
    pub target_data: Json<Value>,
    /// The source's new data.
    pub source_data: Option<Json<Value>>,
    /// The common ancestor for a three-way merge: the source's version at the last sync or
    /// resolution (its content hash is the target listing's `baseHash`). Null only when
    /// retention (`cleanupSnapshots`) removed that version.
    pub base_data: Option<Json<Value>>,
}

/// The record of a conflict resolution (`resolveConflict`), kept on the listing.
#[derive(Clone, Debug, SimpleObject)]
pub struct ResolutionRecord {
    /// How it was resolved.
    pub resolution: Resolution,
    /// When it was resolved.
    pub resolved_at: DateTime<Utc>,
    /// Who resolved it: `api_key:<id>` or `cli`.
    pub resolved_by: String,
}

impl ResolutionRecord {
    /// The record from a listing's stored columns (none if it was never resolved).
    pub fn of(
        resolution: Option<&str>,
        resolved_at: Option<DateTime<Utc>>,
        resolved_by: Option<String>,
    ) -> Option<Self> {
        Some(Self {
            resolution: Resolution::parse(resolution?)?,
            resolved_at: resolved_at?,
            resolved_by: resolved_by.unwrap_or_default(),
        })
    }
}

impl From<conflicts::Conflict> for Conflict {
    fn from(conflict: conflicts::Conflict) -> Self {
        Self {
            id: ID(TargetPropertyId(conflict.target.id).to_global()),
            external_id: conflict.target.external_id.clone(),
            target_data: Json(conflict.target.data.clone()),
            source_data: conflict.source.as_ref().map(|s| Json(s.data.clone())),
            base_data: conflict.base_data.map(Json),
            source_property: conflict.source.map(SourceProperty::from),
            target_property: conflict.target.into(),
        }
    }
}

connection_types!(ConflictConnection, ConflictEdge, Conflict, "conflicts");

scalar_fields!(Conflict {
    "id" => id,
    "externalId" => external_id,
});
