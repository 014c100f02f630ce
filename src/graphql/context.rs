//! What a resolver knows about its request: who is calling, and the shared handles.

use async_graphql::{Context, ErrorExtensions};
use sea_orm::DatabaseConnection;

use crate::domain::api_keys::Authenticated;
use crate::domain::audit::Actor;
use crate::error::Error;
use crate::graphql::loaders::Loaders;
use crate::store::pager::PageLimits;
use crate::store::read_session::ReadSession;
use crate::store::scope::TenantScope;

/// The credentials of one request, resolved once by the HTTP layer.
#[derive(Clone, Debug, Default)]
pub struct RequestAuth {
    /// The API key's tenant, or why there is none.
    pub tenant: TenantAuth,
    /// Whether the request may create tenants.
    pub admin: AdminAuth,
}

/// The tenant side of a request's credentials.
#[derive(Clone, Debug, Default)]
pub enum TenantAuth {
    /// No API key was sent.
    #[default]
    Missing,
    /// A key was sent and refused, for this reason.
    Refused(String),
    /// A valid key.
    Granted(Authenticated),
}

/// The admin side of a request's credentials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdminAuth {
    /// The server has no admin token: tenants are made with the CLI only.
    #[default]
    Disabled,
    /// No or a wrong admin token was sent.
    Refused,
    /// The right admin token was sent.
    Granted,
}

/// The caller's tenant scope, or `UNAUTHENTICATED`.
pub fn scope(ctx: &Context<'_>) -> async_graphql::Result<TenantScope> {
    let auth = ctx.data_opt::<RequestAuth>();
    match auth.map(|a| &a.tenant) {
        Some(TenantAuth::Granted(authenticated)) => Ok(authenticated.scope.clone()),
        Some(TenantAuth::Refused(reason)) => Err(Error::Unauthenticated(reason.clone()).extend()),
        _ => Err(Error::Unauthenticated(
            "an API key is required: send it in the `X-API-Key` header (or `Authorization: Bearer`)"
                .into(),
        )
        .extend()),
    }
}

/// `Ok` when the request carries the admin token.
pub fn require_admin(ctx: &Context<'_>) -> async_graphql::Result<()> {
    let admin = ctx
        .data_opt::<RequestAuth>()
        .map(|a| a.admin)
        .unwrap_or_default();
    match admin {
        AdminAuth::Granted => Ok(()),
        AdminAuth::Refused => Err(Error::Unauthenticated(
            "creating tenants needs the admin token in the `X-Admin-Token` header".into(),
        )
        .extend()),
        AdminAuth::Disabled => Err(Error::Unauthenticated(
            "creating tenants over GraphQL is disabled because SYNC_ADMIN_TOKEN is not set; \
             use `sync-manager create-tenant`"
                .into(),
        )
        .extend()),
    }
}

/// Who is calling, for the audit trail.
pub fn actor(ctx: &Context<'_>) -> Actor {
    match ctx.data_opt::<RequestAuth>().map(|a| &a.tenant) {
        Some(TenantAuth::Granted(authenticated)) => Actor::ApiKey(authenticated.key_id),
        _ => Actor::Cli,
    }
}

/// The request's DataLoaders (present whenever a tenant is authenticated).
pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    scope(ctx)?;
    ctx.data::<Loaders>()
}

/// The database pool.
pub fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

/// Where the request's reads run: on one held connection for an HTTP query
/// ([`crate::store::read_session`]), through the pool otherwise.
pub fn reads<'a>(ctx: &Context<'a>) -> &'a ReadSession {
    ctx.data_unchecked::<ReadSession>()
}

/// The paging limits.
pub fn page_limits(ctx: &Context<'_>) -> PageLimits {
    ctx.data_opt::<PageLimits>().copied().unwrap_or_default()
}
