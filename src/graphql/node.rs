//! The Relay `Node` interface and `node(id)` resolution.

use async_graphql::{Context, ID, Interface};

use crate::domain::{api_keys, audit, properties, snapshots, sources, targets, tenants};
use crate::error::{ApiResult, Error};
use crate::graphql::context;
use crate::graphql::types::{
    ApiKey, ImportRun, Source, SourceProperty, SourceSnapshot, SyncLog, Target, TargetProperty,
    TargetSnapshot, Tenant,
};
use crate::ids::{
    self, ApiKeyId, ImportRunId, SourceId, SourcePropertyId, SourceSnapshotId, SyncLogId, TargetId,
    TargetPropertyId, TargetSnapshotId, TenantId,
};

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
        SourcePropertyId::TYPE_NAME => {
            properties::get_source_property(db, &scope, SourcePropertyId(key))
                .await
                .map(|m| Node::SourceProperty(m.into()))
        }
        TargetPropertyId::TYPE_NAME => {
            properties::get_target_property(db, &scope, TargetPropertyId(key))
                .await
                .map(|m| Node::TargetProperty(m.into()))
        }
        SourceSnapshotId::TYPE_NAME => {
            snapshots::get_source_snapshot(db, &scope, SourceSnapshotId(key))
                .await
                .map(|m| Node::SourceSnapshot(m.into()))
        }
        TargetSnapshotId::TYPE_NAME => {
            snapshots::get_target_snapshot(db, &scope, TargetSnapshotId(key))
                .await
                .map(|m| Node::TargetSnapshot(m.into()))
        }
        ImportRunId::TYPE_NAME => audit::get_import_run(db, &scope, ImportRunId(key))
            .await
            .map(|m| Node::ImportRun(m.into())),
        SyncLogId::TYPE_NAME => audit::get_sync_log(db, &scope, SyncLogId(key))
            .await
            .map(|m| Node::SyncLog(m.into())),
        _ => return Ok(None),
    };
    match found {
        Ok(node) => Ok(Some(node)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(err) => Err(err).api(),
    }
}
