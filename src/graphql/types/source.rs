//! `Source`: where listings come from.

use async_graphql::{ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::sources::SourceKind;
use crate::entity::source;
use crate::graphql::connection::connection_types;
use crate::ids::SourceId;

/// A place listings come from: a scraper, a JSON feed, or people entering them. Listings are
/// imported into a source, then synced from it into targets.
#[derive(Clone, Debug, SimpleObject)]
pub struct Source {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: ID,
    /// Name, unique in your tenant.
    pub name: String,
    /// How its listings arrive.
    pub kind: SourceKind,
    /// Inactive sources refuse imports and syncs.
    pub active: bool,
    /// Settings. `id_field` (default `"id"`) names the listing field that identifies a listing.
    pub config: Json<Value>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<source::Model> for Source {
    fn from(model: source::Model) -> Self {
        Self {
            id: ID(SourceId(model.id).to_global()),
            kind: SourceKind::of(&model),
            name: model.name,
            active: model.active,
            config: Json(model.config),
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

connection_types!(SourceConnection, SourceEdge, Source, "sources");
