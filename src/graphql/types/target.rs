//! `Target`: where listings go.

use crate::graphql::json::Json;
// `OutputType` in scope: `#[ComplexObject]` calls its `create_type_info` on the flattened field.
use async_graphql::{ComplexObject, Context, ID, OutputType as _, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::entity::target;
use crate::error::ApiResult;
use crate::graphql::args::{TargetListingStatus, child_args};
use crate::graphql::catalog::catalog_listings;
use crate::graphql::connection::connection_types;
use crate::graphql::connection_lists::scalar_fields;
use crate::graphql::context;
use crate::graphql::loaders::child_page;
use crate::graphql::types::enums::{ConflictPolicy, TargetKind};
use crate::graphql::types::{SyncLogConnection, TargetPropertyConnection};
use crate::ids::TargetId;

/// A place listings are synced to: a website or a partner API. Listings edited there by hand
/// are never silently overwritten by a sync.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
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
    #[graphql(skip)]
    pub(crate) key: TargetId,
}

impl From<target::Model> for Target {
    fn from(model: target::Model) -> Self {
        Self {
            id: ID(TargetId(model.id).to_global()),
            key: TargetId(model.id),
            kind: model.kind.into(),
            conflict_policy: model.conflict_policy.into(),
            name: model.name,
            active: model.active,
            config: Json(model.config),
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

#[ComplexObject]
impl Target {
    #[graphql(flatten)]
    async fn properties(&self) -> TargetListings {
        TargetListings(self.key.0)
    }

    /// The syncs into this target, oldest first.
    #[graphql(complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)")]
    async fn sync_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N sync logs.")] first: Option<i32>,
        #[graphql(desc = "Return sync logs after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N sync logs.")] last: Option<i32>,
        #[graphql(desc = "Return sync logs before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<SyncLogConnection> {
        let loaders = context::loaders(ctx)?;
        let args = child_args(ctx, first, after, last, before, None).api()?;
        let page = child_page(&loaders.sync_log_pages, self.key.0, args).await?;
        Ok(SyncLogConnection::from_page(page))
    }
}

connection_types!(TargetConnection, TargetEdge, Target, "targets");

scalar_fields!(Target {
    "id" => id,
    "name" => name,
    "kind" => kind,
    "active" => active,
    "conflictPolicy" => conflict_policy,
    "createdAt" => created_at,
    "updatedAt" => updated_at,
});

catalog_listings! {
    /// The target's listings, oldest first unless `orderBy` says otherwise. Filter by ids,
    /// state (synced, modified by hand, in conflict, removed), date and values in the JSON.
    TargetListings { properties: TargetListingStatus => TargetPropertyConnection, target_property_pages }
}
