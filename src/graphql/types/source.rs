//! `Source`: where listings come from.

use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::sources::SourceKind;
use crate::domain::{audit, properties};
use crate::entity::source;
use crate::error::ApiResult;
use crate::graphql::connection::{connection_types, page_request};
use crate::graphql::context;
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
            kind: SourceKind::of(&model),
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
    /// The source's listings, oldest first (removed ones included, with `removedAt` set).
    async fn properties(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N listings.")] first: Option<i32>,
        #[graphql(desc = "Return listings after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N listings.")] last: Option<i32>,
        #[graphql(desc = "Return listings before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<SourcePropertyConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request(first, after, last, before).api()?;
        let page = properties::list_source_properties(
            context::db(ctx),
            &scope,
            self.key,
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(SourcePropertyConnection::from_page(page, |m| m.id))
    }

    /// The imports into this source, oldest first.
    async fn import_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N import runs.")] first: Option<i32>,
        #[graphql(desc = "Return import runs after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N import runs.")] last: Option<i32>,
        #[graphql(desc = "Return import runs before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ImportRunConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request(first, after, last, before).api()?;
        let page = audit::list_import_runs(
            context::db(ctx),
            &scope,
            Some(self.key),
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(ImportRunConnection::from_page(page, |m| m.id))
    }
}

connection_types!(SourceConnection, SourceEdge, Source, "sources");
