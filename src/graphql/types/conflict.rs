//! `Conflict`: a hand-edited target listing whose source changed, with the versions to compare.

use crate::graphql::json::Json;
use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::conflicts;
use crate::domain::merge::FieldDiff;
use crate::graphql::connection::connection_types;
use crate::graphql::connection_lists::scalar_fields;
use crate::graphql::types::enums::{ConflictFieldStatus, Resolution};
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
    /// The fields that differ between the base, the source and the target, in path order;
    /// fields equal on all three are left out. Objects are compared key by key (`address.city`),
    /// arrays and other values whole, all in canonical form (`1.0` equals `1`, key order does
    /// not matter). When the base is gone (`baseData` null), every field where source and
    /// target differ is `BOTH_DIFFERENT`. E.g. a person fixed the title and the scraper
    /// changed the price: `[{ path: "price", status: SOURCE_ONLY }, { path: "title",
    /// status: TARGET_ONLY }]`. Empty when the source listing is gone.
    pub fields: Vec<ConflictField>,
}

/// One field of a conflict, in the three versions a merge compares. A JSON `null` and an
/// absent field are different values: `sourcePresent` (and the others) say which it is.
#[derive(Clone, Debug, SimpleObject)]
pub struct ConflictField {
    /// Dotted path of the field (`price`, `address.city`).
    pub path: String,
    /// Its value in the base (the source's version at the last sync); null when absent there
    /// or when the base is gone.
    pub base: Option<Json<Value>>,
    /// The field is in the base (false when absent there or when the base is gone).
    pub base_present: bool,
    /// Its value at the source now; null when absent (see `sourcePresent`).
    pub source: Option<Json<Value>>,
    /// The field is in the source's data (possibly as `null`); false: the source removed it.
    pub source_present: bool,
    /// Its value on the target (the person's version); null when absent.
    pub target: Option<Json<Value>>,
    /// The field is in the target's data (possibly as `null`); false: the person removed it.
    pub target_present: bool,
    /// Which side changed it; `BOTH_DIFFERENT` fields need a choice in a `MERGE` resolution.
    pub status: ConflictFieldStatus,
}

impl From<FieldDiff> for ConflictField {
    fn from(field: FieldDiff) -> Self {
        Self {
            base_present: field.base.is_some(),
            source_present: field.source.is_some(),
            target_present: field.target.is_some(),
            base: field.base.map(Json),
            source: field.source.map(Json),
            target: field.target.map(Json),
            path: field.path,
            status: field.status.into(),
        }
    }
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
        resolution: Option<Resolution>,
        resolved_at: Option<DateTime<Utc>>,
        resolved_by: Option<String>,
    ) -> Option<Self> {
        Some(Self {
            resolution: resolution?,
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
            fields: conflict
                .fields
                .into_iter()
                .map(ConflictField::from)
                .collect(),
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
