//! `Tenant`: a workspace (`viewer`).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::domain::api_keys;
use crate::entity::tenant;
use crate::error::ApiResult;
use crate::graphql::connection::page_request_for;
use crate::graphql::context;
use crate::graphql::types::ApiKeyConnection;
use crate::ids::TenantId;
use crate::store::scope::TenantScope;

/// A tenant, wrapping its row, with the scope its nested fields are read in: the caller's own
/// for `viewer`, the new tenant's for `createTenant` under the admin token.
#[derive(Clone, Debug)]
pub struct Tenant {
    model: tenant::Model,
    scope: TenantScope,
}

impl Tenant {
    /// The tenant `model`, whose nested fields are read in `scope` (the tenant's own).
    pub fn new(model: tenant::Model, scope: TenantScope) -> Self {
        debug_assert_eq!(scope.tenant_id().0, model.id);
        Self { model, scope }
    }
}

/// A workspace: an agency or company. Everything you can see belongs to your key's tenant.
#[Object]
impl Tenant {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ID(TenantId(self.model.id).to_global())
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// Unique URL-safe handle.
    async fn slug(&self) -> &str {
        &self.model.slug
    }

    /// When the tenant was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// The tenant's API keys (never the keys themselves, only their prefixes).
    #[graphql(complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N keys.")] first: Option<i32>,
        #[graphql(desc = "Return keys after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N keys.")] last: Option<i32>,
        #[graphql(desc = "Return keys before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ApiKeyConnection> {
        let request = page_request_for(ctx, first, after, last, before).api()?;
        let page = api_keys::list_api_keys(
            context::reads(ctx),
            &self.scope,
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(ApiKeyConnection::from_page(page))
    }
}
