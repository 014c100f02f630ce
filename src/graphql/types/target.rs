//! `Target`: where listings go.

use crate::graphql::json::Json;
use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::entity::target;
use crate::error::ApiResult;
use crate::graphql::args::{
    ListingArgs, ListingOrder, TargetListingStatus, WhereCondition, child_args,
};
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
    /// The target's listings, oldest first unless `orderBy` says otherwise. Filter by ids,
    /// state (synced, modified by hand, in conflict, removed), date and values in the JSON.
    #[graphql(complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)")]
    async fn properties(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N listings.")] first: Option<i32>,
        #[graphql(desc = "Return listings after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N listings.")] last: Option<i32>,
        #[graphql(desc = "Return listings before this cursor.")] before: Option<String>,
        #[graphql(desc = "Only listings with these external ids.")] external_ids: Option<
            Vec<String>,
        >,
        #[graphql(desc = "Only listings in this state.")] status: Option<TargetListingStatus>,
        #[graphql(desc = "Only listings changed at or after this instant.")] updated_since: Option<
            DateTime<Utc>,
        >,
        #[graphql(
            name = "where",
            desc = "Conditions on values inside the listing JSON; all must hold."
        )]
        conditions: Option<Vec<WhereCondition>>,
        #[graphql(desc = "Order (default: oldest first).")] order_by: Option<ListingOrder>,
    ) -> async_graphql::Result<TargetPropertyConnection> {
        let loaders = context::loaders(ctx)?;
        let args = child_args(
            ctx,
            first,
            after,
            last,
            before,
            Some(ListingArgs {
                external_ids,
                status: status.map(Into::into),
                updated_since,
                conditions,
                order_by,
            }),
        )
        .api()?;
        let page = child_page(&loaders.target_property_pages, self.key.0, args).await?;
        Ok(TargetPropertyConnection::from_page(page))
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
