//! `Target`: where listings go.

use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::targets::{ConflictPolicy, TargetKind};
use crate::domain::{audit, properties};
use crate::entity::target;
use crate::error::ApiResult;
use crate::graphql::connection::{connection_types, page_request};
use crate::graphql::context;
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

#[ComplexObject]
impl Target {
    /// The target's listings, oldest first.
    async fn properties(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N listings.")] first: Option<i32>,
        #[graphql(desc = "Return listings after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N listings.")] last: Option<i32>,
        #[graphql(desc = "Return listings before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<TargetPropertyConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request(first, after, last, before).api()?;
        let page = properties::list_target_properties(
            context::db(ctx),
            &scope,
            self.key,
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(TargetPropertyConnection::from_page(page, |m| m.id))
    }

    /// The syncs into this target, oldest first.
    async fn sync_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N sync logs.")] first: Option<i32>,
        #[graphql(desc = "Return sync logs after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N sync logs.")] last: Option<i32>,
        #[graphql(desc = "Return sync logs before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<SyncLogConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request(first, after, last, before).api()?;
        let page = audit::list_sync_logs(
            context::db(ctx),
            &scope,
            None,
            Some(self.key),
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(SyncLogConnection::from_page(page, |m| m.id))
    }
}

connection_types!(TargetConnection, TargetEdge, Target, "targets");
