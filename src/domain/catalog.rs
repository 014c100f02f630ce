//! What sources and targets, the tenant's two catalogs, do alike: saving a change under a
//! name unique in the tenant, and deleting one with everything under it.

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter,
};

use crate::error::Error;
use crate::store::scope::{Permission, TenantOwned, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// Saves a changed source or target in a write of its own; a name another one of the tenant
/// holds already is a conflict with the message `duplicate`.
pub(crate) async fn save_change<A>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    active: A,
    duplicate: impl FnOnce() -> String,
) -> Result<<A::Entity as EntityTrait>::Model, Error>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let updated = active
        .update(&txn)
        .await
        .map_err(|e| Error::on_unique(e, duplicate))?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes one of the tenant's sources or targets (table `E`) with its listings, snapshots
/// and audit rows (the foreign keys cascade). Needs the admin permission; one of another
/// tenant is not found.
pub(crate) async fn delete<E: TenantOwned>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: i64,
) -> Result<(), Error> {
    scope.require(Permission::Admin)?;
    scope.get::<E, _>(db, id).await?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    E::delete_many()
        .filter(E::tenant_column().eq(scope.tenant_id().0))
        .filter(E::id_column().eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
