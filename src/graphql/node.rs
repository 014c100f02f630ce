//! The Relay `Node` interface and `node(id)` resolution.

use async_graphql::{Context, ID, Interface};

use crate::domain::{api_keys, sources, targets, tenants};
use crate::error::{ApiResult, Error};
use crate::graphql::context;
use crate::graphql::types::{ApiKey, Source, Target, Tenant};
use crate::ids::{self, ApiKeyId, SourceId, TargetId, TenantId};

/// An object with a stable, opaque global id that `node(id)` can fetch again.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    /// A tenant.
    Tenant(Tenant),
    /// An API key.
    ApiKey(ApiKey),
    /// A source.
    Source(Source),
    /// A target.
    Target(Target),
}

/// Fetches the object named by a global id within the caller's tenant; `None` when it does not
/// exist there (objects of other tenants do not exist for the caller).
pub async fn resolve_node(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let scope = context::scope(ctx)?;
    let db = context::db(ctx);
    let (type_name, key) = ids::decode_global(id, "id").api()?;
    let found = match type_name.as_str() {
        TenantId::TYPE_NAME if key == scope.tenant_id().0 => tenants::viewer(db, &scope)
            .await
            .map(|m| Node::Tenant(m.into())),
        ApiKeyId::TYPE_NAME => api_keys::get_api_key(db, &scope, ApiKeyId(key))
            .await
            .map(|m| Node::ApiKey(m.into())),
        SourceId::TYPE_NAME => sources::get_source(db, &scope, SourceId(key))
            .await
            .map(|m| Node::Source(m.into())),
        TargetId::TYPE_NAME => targets::get_target(db, &scope, TargetId(key))
            .await
            .map(|m| Node::Target(m.into())),
        _ => return Ok(None),
    };
    match found {
        Ok(node) => Ok(Some(node)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(err) => Err(err).api(),
    }
}
