//! The Relay `Node` interface and `node(id)` resolution.

use async_graphql::{Context, ID, Interface};

use crate::domain::nodes::{self, NodeRecord};
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::types::{
    ApiKey, CleanupRun, ImportRun, Source, SourceProperty, SourceSnapshot, SyncLog, Target,
    TargetProperty, TargetSnapshot, Tenant,
};
use crate::ids;
use crate::store::scope::TenantScope;

/// An object with a stable, opaque global id that `node(id)` can fetch again.
#[derive(Clone, Interface)]
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
    /// A source listing.
    SourceProperty(SourceProperty),
    /// A target listing.
    TargetProperty(TargetProperty),
    /// A snapshot of a source listing.
    SourceSnapshot(SourceSnapshot),
    /// A snapshot of a target listing.
    TargetSnapshot(TargetSnapshot),
    /// An import run.
    ImportRun(ImportRun),
    /// A sync log.
    SyncLog(SyncLog),
    /// The record of a snapshot cleanup.
    CleanupRun(CleanupRun),
}

/// Fetches the object named by a global id within the caller's tenant; `None` when it does not
/// exist there (objects of other tenants do not exist for the caller).
pub async fn resolve_node(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let mut found = resolve_nodes(ctx, std::slice::from_ref(id), "id").await?;
    Ok(found.pop().flatten())
}

/// Fetches the objects named by global ids within the caller's tenant, in order (`None` for
/// each that does not exist there): one statement per type named, whatever the number of ids.
/// `field` names the argument in the error of a malformed id.
pub async fn resolve_nodes(
    ctx: &Context<'_>,
    ids: &[ID],
    field: &str,
) -> async_graphql::Result<Vec<Option<Node>>> {
    let scope = context::scope(ctx)?;
    let decoded = ids
        .iter()
        .map(|id| ids::decode_global(id, field))
        .collect::<Result<Vec<_>, _>>()
        .api()?;
    let records = nodes::fetch_nodes(context::reads(ctx), &scope, &decoded)
        .await
        .api()?;
    Ok(records
        .into_iter()
        .map(|record| record.map(|record| node(record, &scope)))
        .collect())
}

/// The GraphQL object of a record.
fn node(record: NodeRecord, scope: &TenantScope) -> Node {
    match record {
        NodeRecord::Tenant(model) => Node::Tenant(Tenant::new(model, scope.clone())),
        NodeRecord::ApiKey(model) => Node::ApiKey(model.into()),
        NodeRecord::Source(model) => Node::Source(model.into()),
        NodeRecord::Target(model) => Node::Target(model.into()),
        NodeRecord::SourceProperty(model) => Node::SourceProperty(model.into()),
        NodeRecord::TargetProperty(model) => Node::TargetProperty(model.into()),
        NodeRecord::SourceSnapshot(model) => Node::SourceSnapshot(model.into()),
        NodeRecord::TargetSnapshot(model) => Node::TargetSnapshot(model.into()),
        NodeRecord::ImportRun(model) => Node::ImportRun(model.into()),
        NodeRecord::SyncLog(model) => Node::SyncLog(model.into()),
        NodeRecord::CleanupRun(model) => Node::CleanupRun(model.into()),
    }
}
