//! The Relay `Node` interface and `node(id)` resolution.

use std::collections::HashMap;

use async_graphql::{Context, ID, Interface};
use sea_orm::{DatabaseConnection, EntityTrait, ModelTrait};

use crate::domain::tenants;
use crate::entity::{
    api_key, cleanup_run, import_run, source, source_property, source_snapshot, sync_log, target,
    target_property, target_snapshot,
};
use crate::error::{ApiResult, Error};
use crate::graphql::context;
use crate::graphql::types::{
    ApiKey, CleanupRun, ImportRun, Source, SourceProperty, SourceSnapshot, SyncLog, Target,
    TargetProperty, TargetSnapshot, Tenant,
};
use crate::ids::{
    self, ApiKeyId, CleanupRunId, ImportRunId, SourceId, SourcePropertyId, SourceSnapshotId,
    SyncLogId, TargetId, TargetPropertyId, TargetSnapshotId, TenantId,
};
use crate::store::scope::{TenantOwned, TenantScope};

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

/// Nodes found, by type name and primary key.
type Found = HashMap<(String, i64), Node>;

/// Fetches the tenant's `E` rows with primary keys `keys` in one statement into `found`.
async fn fetch<E>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    keys: &[i64],
    wrap: fn(E::Model) -> Node,
    found: &mut Found,
) -> Result<(), Error>
where
    E: TenantOwned,
    <E as EntityTrait>::Model: ModelTrait<Entity = E>,
{
    for model in scope.get_many::<E, _>(db, keys).await? {
        if let sea_orm::Value::BigInt(Some(key)) = model.get(E::id_column()) {
            found.insert((E::TYPE_NAME.to_owned(), key), wrap(model));
        }
    }
    Ok(())
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
    let db = context::db(ctx);
    let decoded = ids
        .iter()
        .map(|id| ids::decode_global(id, field))
        .collect::<Result<Vec<_>, _>>()
        .api()?;
    let mut wanted: HashMap<&str, Vec<i64>> = HashMap::new();
    for (type_name, key) in &decoded {
        wanted.entry(type_name.as_str()).or_default().push(*key);
    }
    let mut found = Found::new();
    for (type_name, keys) in wanted {
        macro_rules! fetch {
            ($entity:ident, $variant:ident) => {
                fetch::<$entity::Entity>(
                    db,
                    &scope,
                    &keys,
                    |m| Node::$variant(m.into()),
                    &mut found,
                )
                .await
            };
        }
        let loaded = match type_name {
            TenantId::TYPE_NAME => {
                let own = scope.tenant_id();
                if keys.contains(&own.0) {
                    let tenant = tenants::viewer(db, &scope).await.api()?;
                    found.insert(
                        (type_name.to_owned(), own.0),
                        Node::Tenant(Tenant::new(tenant, scope.clone())),
                    );
                }
                Ok(())
            }
            ApiKeyId::TYPE_NAME => fetch!(api_key, ApiKey),
            SourceId::TYPE_NAME => fetch!(source, Source),
            TargetId::TYPE_NAME => fetch!(target, Target),
            SourcePropertyId::TYPE_NAME => fetch!(source_property, SourceProperty),
            TargetPropertyId::TYPE_NAME => fetch!(target_property, TargetProperty),
            SourceSnapshotId::TYPE_NAME => fetch!(source_snapshot, SourceSnapshot),
            TargetSnapshotId::TYPE_NAME => fetch!(target_snapshot, TargetSnapshot),
            ImportRunId::TYPE_NAME => fetch!(import_run, ImportRun),
            SyncLogId::TYPE_NAME => fetch!(sync_log, SyncLog),
            CleanupRunId::TYPE_NAME => fetch!(cleanup_run, CleanupRun),
            _ => Ok(()),
        };
        loaded.api()?;
    }
    Ok(decoded
        .into_iter()
        .map(|key| found.get(&key).cloned())
        .collect())
}
