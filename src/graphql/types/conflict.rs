//! `Conflict`: a hand-edited target listing whose source changed, with the versions to compare.

use async_graphql::{ID, Json, SimpleObject};
use serde_json::Value;

use crate::domain::conflicts;
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
    /// The data at the last sync, before the hand edit (null if retention removed it).
    pub base_data: Option<Json<Value>>,
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
