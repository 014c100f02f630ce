//! Fetching any record by its global id (`node(id)`, `nodes(ids)`): every kind of record a
//! global id can name, read within the caller's tenant, one statement per kind named.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, EntityTrait, ModelTrait};

use crate::domain::tenants;
use crate::entity::{
    api_key, cleanup_run, import_run, source, source_property, source_snapshot, sync_log, target,
    target_property, target_snapshot, tenant,
};
use crate::error::Error;
use crate::ids::{
    ApiKeyId, CleanupRunId, ImportRunId, SourceId, SourcePropertyId, SourceSnapshotId, SyncLogId,
    TargetId, TargetPropertyId, TargetSnapshotId, TenantId,
};
use crate::store::scope::{TenantOwned, TenantScope};

/// A record a global id names.
#[derive(Clone, Debug)]
pub enum NodeRecord {
    /// The caller's tenant.
    Tenant(tenant::Model),
    /// An API key.
    ApiKey(api_key::Model),
    /// A source.
    Source(source::Model),
    /// A target.
    Target(target::Model),
    /// A source listing.
    SourceProperty(source_property::Model),
    /// A target listing.
    TargetProperty(target_property::Model),
    /// A snapshot of a source listing.
    SourceSnapshot(source_snapshot::Model),
    /// A snapshot of a target listing.
    TargetSnapshot(target_snapshot::Model),
    /// An import run.
    ImportRun(import_run::Model),
    /// A sync log.
    SyncLog(sync_log::Model),
    /// The record of a snapshot cleanup.
    CleanupRun(cleanup_run::Model),
}

/// Records found, by type name and primary key.
type Found = HashMap<(String, i64), NodeRecord>;

/// Fetches the tenant's `E` rows with primary keys `keys` in one statement into `found`.
async fn fetch<E>(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    keys: &[i64],
    wrap: fn(E::Model) -> NodeRecord,
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

/// Fetches the caller's own tenant into `found` when `keys` name it; other tenants do not
/// exist for the caller.
async fn fetch_own_tenant(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    keys: &[i64],
    found: &mut Found,
) -> Result<(), Error> {
    let own = scope.tenant_id();
    if keys.contains(&own.0) {
        let tenant = tenants::viewer(db, scope).await?;
        found.insert(
            (TenantId::TYPE_NAME.to_owned(), own.0),
            NodeRecord::Tenant(tenant),
        );
    }
    Ok(())
}

/// Fetches the records named by decoded global ids (type name, primary key) within the
/// caller's tenant, in order (`None` for each that does not exist there, or names no kind of
/// record): one statement per type named, whatever the number of ids.
pub async fn fetch_nodes(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    ids: &[(String, i64)],
) -> Result<Vec<Option<NodeRecord>>, Error> {
    let mut wanted: HashMap<&str, Vec<i64>> = HashMap::new();
    for (type_name, key) in ids {
        wanted.entry(type_name.as_str()).or_default().push(*key);
    }
    let mut found = Found::new();
    for (type_name, keys) in wanted {
        macro_rules! fetch {
            ($entity:ident, $variant:ident) => {
                fetch::<$entity::Entity>(db, scope, &keys, NodeRecord::$variant, &mut found).await
            };
        }
        match type_name {
            TenantId::TYPE_NAME => fetch_own_tenant(db, scope, &keys, &mut found).await,
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
        }?;
    }
    Ok(ids.iter().map(|key| found.get(key).cloned()).collect())
}
