//! What sources and targets, the tenant's two catalogs, do alike: the fields every entry
//! has (a name unique in the tenant, a kind, an active flag, settings), reading them, and
//! creating, changing and deleting one. `sources` and `targets` keep only what sets them
//! apart: their kinds, what a source's settings must say, a target's conflict policy.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::Value;

use crate::domain::{removal_guard, validate};
use crate::error::Error;
use crate::ids::TypedId;
use crate::store::list_filter::CatalogFilter;
use crate::store::pager::{self, Page, PageLimits, PageRequest, PagedRow};
use crate::store::scope::{Permission, TenantOwned, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// The table of one of the tenant's catalogs (`sources`, `targets`).
pub(crate) trait Catalog: TenantOwned<Model: PagedRow + Send + Sync> {
    /// Its typed id.
    type Id: TypedId;
    /// What its entries can be.
    type Kind: Copy + Into<sea_orm::Value>;
    /// What one entry is called in messages: `source`, `target`.
    const NOUN: &'static str;
    /// The columns every catalog table has.
    const COLUMNS: CatalogColumns<Self::Column>;

    /// Checks settings that are a JSON object already; by default any object will do.
    fn check_config(_config: &Value) -> Result<(), Error> {
        Ok(())
    }
}

/// The columns of a catalog table besides its tenant and id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CatalogColumns<C> {
    /// The name, unique in the tenant.
    pub(crate) name: C,
    /// The kind.
    pub(crate) kind: C,
    /// The active flag.
    pub(crate) active: C,
    /// The settings.
    pub(crate) config: C,
    /// When the entry was created.
    pub(crate) created_at: C,
    /// When it last changed.
    pub(crate) updated_at: C,
}

/// The [`CatalogColumns`] of the entity module `$table`, whose columns bear the same names in
/// every catalog (which no trait can say).
macro_rules! catalog_columns {
    ($table:ident) => {
        $crate::domain::catalog::CatalogColumns {
            name: $crate::entity::$table::Column::Name,
            kind: $crate::entity::$table::Column::Kind,
            active: $crate::entity::$table::Column::Active,
            config: $crate::entity::$table::Column::Config,
            created_at: $crate::entity::$table::Column::CreatedAt,
            updated_at: $crate::entity::$table::Column::UpdatedAt,
        }
    };
}
pub(crate) use catalog_columns;

/// The fields every catalog entry has, as a change (a source's whole patch): `None` leaves
/// one as it is. A new entry has all of them.
#[derive(Clone, Debug)]
pub struct CatalogFields<K> {
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<K>,
    /// New active flag.
    pub active: Option<bool>,
    /// New settings (replaces the old ones).
    pub config: Option<Value>,
}

// Not derived: the derive would ask `K: Default`, and no kind has a default.
impl<K> Default for CatalogFields<K> {
    fn default() -> Self {
        Self {
            name: None,
            kind: None,
            active: None,
            config: None,
        }
    }
}

impl<K> CatalogFields<K> {
    /// Every field, as a new entry has them.
    pub(crate) fn all(name: String, kind: K, active: bool, config: Value) -> Self {
        Self {
            name: Some(name),
            kind: Some(kind),
            active: Some(active),
            config: Some(config),
        }
    }
}

fn duplicate_name<C: Catalog>(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a {} named `{name}` already exists", C::NOUN)
}

/// Checks the fields given (the name, then the settings) and sets them on `row`, with
/// `updated_at` at `now`; returns the new name (empty when it stays).
fn set_fields<C: Catalog>(
    row: &mut C::ActiveModel,
    fields: CatalogFields<C::Kind>,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    let columns = C::COLUMNS;
    let mut name = String::new();
    if let Some(raw) = fields.name {
        name = validate::name("input.name", &raw)?;
        row.try_set(columns.name, name.clone().into())?;
    }
    if let Some(kind) = fields.kind {
        row.try_set(columns.kind, kind.into())?;
    }
    if let Some(active) = fields.active {
        row.try_set(columns.active, active.into())?;
    }
    if let Some(config) = fields.config {
        let config = validate::object("input.config", config)?;
        C::check_config(&config)?;
        removal_guard::validate_config(&config)?;
        row.try_set(columns.config, config.into())?;
    }
    row.try_set(columns.updated_at, now.into())?;
    Ok(name)
}

/// Creates an entry of the catalog `C` from `fields` (all of them given) over `row`, which
/// holds what only `C` has. Needs the admin permission on a key without object limits.
pub(crate) async fn create<C: Catalog>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    fields: CatalogFields<C::Kind>,
    mut row: C::ActiveModel,
) -> Result<C::Model, Error>
where
    C::ActiveModel: Send,
    C::Model: IntoActiveModel<C::ActiveModel>,
{
    scope.require_unlimited(Permission::Admin, &format!("creating a {}", C::NOUN))?;
    let now = Utc::now();
    let name = set_fields::<C>(&mut row, fields, now)?;
    row.try_set(C::tenant_column(), scope.tenant_id().0.into())?;
    row.try_set(C::COLUMNS.created_at, now.into())?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let created = row
        .insert(&txn)
        .await
        .map_err(|e| Error::on_unique(e, duplicate_name::<C>(&name)))?;
    txn.commit().await?;
    Ok(created)
}

/// Changes one of the tenant's entries of `C`: the `fields` given, then what only `C` has
/// (`change`). Needs the admin permission.
pub(crate) async fn update<C: Catalog>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: C::Id,
    fields: CatalogFields<C::Kind>,
    change: impl FnOnce(&mut C::ActiveModel),
) -> Result<C::Model, Error>
where
    C::ActiveModel: Send,
    C::Model: IntoActiveModel<C::ActiveModel>,
{
    scope.require(Permission::Admin)?;
    let mut row = get::<C>(db, scope, id).await?.into_active_model();
    let name = set_fields::<C>(&mut row, fields, Utc::now())?;
    change(&mut row);
    save_change(db, scope, row, duplicate_name::<C>(&name)).await
}

/// Saves a changed entry in a write of its own; a name another one of the tenant
/// holds already is a conflict with the message `duplicate`.
async fn save_change<A>(
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

/// Deletes one of the tenant's entries of `C` with its listings, snapshots and audit rows
/// (the foreign keys cascade). Needs the admin permission; one of another tenant is not found.
pub(crate) async fn delete<C: Catalog>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: C::Id,
) -> Result<C::Id, Error> {
    scope.require(Permission::Admin)?;
    get::<C>(db, scope, id).await?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    C::delete_many()
        .filter(C::tenant_column().eq(scope.tenant_id().0))
        .filter(C::id_column().eq(id.into()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(id)
}

/// One of the tenant's entries of `C`.
pub(crate) async fn get<C: Catalog>(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: C::Id,
) -> Result<C::Model, Error> {
    scope.get::<C, _>(db, id.into()).await
}

/// A page of the tenant's entries of `C`.
pub(crate) async fn list<C: Catalog>(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    filter: &CatalogFilter<C::Kind>,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<C::Model>, Error> {
    let columns = C::COLUMNS;
    let select = filter.apply(
        scope.select::<C>(),
        columns.kind,
        columns.active,
        columns.created_at,
    );
    pager::page(db, select, &request, limits).await
}

/// Finds an entry of `C` named on the command line by its name, its global id (as `--json`
/// prints it), or its numeric id, in that order.
pub(crate) async fn find_for_cli<C: Catalog>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    reference: &str,
) -> Result<C::Model, Error> {
    scope
        .find_for_cli::<C, _>(db, C::COLUMNS.name, reference)
        .await
}

/// The tenant's entries of `C` with these ids (for batched loading); unknown ids are skipped.
pub(crate) async fn by_ids<C: Catalog>(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<Vec<C::Model>, Error> {
    scope.get_many::<C, _>(db, ids).await
}
