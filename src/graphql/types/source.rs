//! `Source`: where listings come from.

use crate::graphql::json::Json;
// `OutputType` in scope: `#[ComplexObject]` calls its `create_type_info` on the flattened field.
use async_graphql::{ComplexObject, Context, ID, OutputType as _, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::entity::source;
use crate::error::ApiResult;
use crate::graphql::args::{SourceListingStatus, child_args};
use crate::graphql::catalog::catalog_listings;
use crate::graphql::connection::connection_types;
use crate::graphql::connection_lists::scalar_fields;
use crate::graphql::context;
use crate::graphql::loaders::child_page;
use crate::graphql::types::enums::SourceKind;
use crate::graphql::types::{ImportRunConnection, SourcePropertyConnection};
use crate::ids::SourceId;

/// A place listings come from: a scraper, a JSON feed, or people entering them. Listings are
/// imported into a source, then synced from it into targets.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
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
    #[graphql(skip)]
    pub(crate) key: SourceId,
}

impl From<source::Model> for Source {
    fn from(model: source::Model) -> Self {
        Self {
            id: ID(SourceId(model.id).to_global()),
            key: SourceId(model.id),
            kind: model.kind.into(),
            name: model.name,
            active: model.active,
            config: Json(model.config),
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

#[ComplexObject]
impl Source {
    #[graphql(flatten)]
    async fn properties(&self) -> SourceListings {
        SourceListings(self.key.0)
    }

    /// The imports into this source, oldest first.
    #[graphql(complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)")]
    async fn import_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N import runs.")] first: Option<i32>,
        #[graphql(desc = "Return import runs after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N import runs.")] last: Option<i32>,
        #[graphql(desc = "Return import runs before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ImportRunConnection> {
        let loaders = context::loaders(ctx)?;
        let args = child_args(ctx, first, after, last, before, None).api()?;
        let page = child_page(&loaders.import_run_pages, self.key.0, args).await?;
        Ok(ImportRunConnection::from_page(page))
    }
}

connection_types!(SourceConnection, SourceEdge, Source, "sources");

scalar_fields!(Source {
    "id" => id,
    "name" => name,
    "kind" => kind,
    "active" => active,
    "createdAt" => created_at,
    "updatedAt" => updated_at,
});

catalog_listings! {
    /// The source's listings (removed ones included, with `removedAt` set), oldest first
    /// unless `orderBy` says otherwise. Filter by ids, state, date and values in the JSON.
    SourceListings { properties: SourceListingStatus => SourcePropertyConnection, source_property_pages }
}
