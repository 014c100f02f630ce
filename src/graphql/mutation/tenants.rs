//! `createTenant`.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::domain::tenants::{self, NewTenant};
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::types::{ApiKey, Tenant};

/// A new tenant.
#[derive(InputObject)]
pub struct CreateTenantInput {
    /// Display name.
    pub name: String,
    /// URL-safe handle (lower-case letters, digits, dashes); derived from the name when absent.
    pub slug: Option<String>,
}

/// The new tenant and its first API key.
#[derive(SimpleObject)]
pub struct CreateTenantPayload {
    /// The tenant.
    pub tenant: Tenant,
    /// Its first API key (read and write).
    pub api_key: ApiKey,
    /// The key itself. It is shown only this once: store it now.
    pub key: String,
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Creates a tenant with a first API key. Needs the admin token (`X-Admin-Token`), and
    /// the server must have been started with `SYNC_ADMIN_TOKEN`.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        input: CreateTenantInput,
    ) -> async_graphql::Result<CreateTenantPayload> {
        context::require_admin(ctx)?;
        let created = tenants::create_tenant(
            context::db(ctx),
            NewTenant {
                name: input.name,
                slug: input.slug,
            },
        )
        .await
        .api()?;
        Ok(CreateTenantPayload {
            tenant: Tenant::new(created.tenant, created.scope),
            api_key: created.api_key.model.into(),
            key: created.api_key.key,
        })
    }
}
