//! Sources: where listings come from.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, DeriveActiveEnum, EnumIter, Set};
use serde_json::Value;

use crate::domain::{catalog, removal_guard, validate};
use crate::entity::source;
use crate::error::Error;
use crate::ids::SourceId;
use crate::store::list_filter::CatalogFilter;
use crate::store::pager::{self, Page, PageLimits, PageRequest};
use crate::store::scope::{Permission, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// How a source's listings arrive.
// Stored in `sources.kind` as the `string_value`; a stored value this version does not know
// fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SourceKind {
    /// JSON pushed by a client or read from files.
    #[sea_orm(string_value = "json")]
    Json,
    /// Listings a scraper collected.
    #[sea_orm(string_value = "scraped")]
    Scraped,
    /// Listings entered by people.
    #[sea_orm(string_value = "manual")]
    Manual,
}

/// What a new source needs.
#[derive(Clone, Debug)]
pub struct NewSource {
    /// Name, unique in the tenant.
    pub name: String,
    /// How listings arrive.
    pub kind: SourceKind,
    /// Whether it accepts imports and syncs.
    pub active: bool,
    /// Settings; `id_field` (default `"id"`) names the listing field that identifies a listing.
    pub config: Value,
}

/// A change to a source; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct SourcePatch {
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<SourceKind>,
    /// New active flag.
    pub active: Option<bool>,
    /// New settings (replaces the old ones).
    pub config: Option<Value>,
}

fn validate_config(config: Value) -> Result<Value, Error> {
    let config = validate::object("input.config", config)?;
    match config.get("id_field") {
        None => {}
        Some(Value::String(field)) if !field.trim().is_empty() => {}
        Some(_) => {
            return Err(Error::invalid(
                "input.config.id_field",
                "must be a non-empty string naming the listing field that holds its id",
            ));
        }
    }
    removal_guard::validate_config(&config)?;
    Ok(config)
}

fn duplicate_name(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a source named `{name}` already exists")
}

/// Creates a source.
pub async fn create_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    new: NewSource,
) -> Result<source::Model, Error> {
    scope.require_unlimited(Permission::Admin, "creating a source")?;
    let name = validate::name("input.name", &new.name)?;
    let config = validate_config(new.config)?;
    let now = Utc::now();
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let created = source::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        kind: Set(new.kind),
        name: Set(name.clone()),
        active: Set(new.active),
        config: Set(config),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| Error::on_unique(e, duplicate_name(&name)))?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a source.
pub async fn update_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SourceId,
    patch: SourcePatch,
) -> Result<source::Model, Error> {
    scope.require(Permission::Admin)?;
    let model = get_source(db, scope, id).await?;
    let mut active: source::ActiveModel = model.into();
    let mut name = String::new();
    if let Some(raw) = patch.name {
        name = validate::name("input.name", &raw)?;
        active.name = Set(name.clone());
    }
    if let Some(kind) = patch.kind {
        active.kind = Set(kind);
    }
    if let Some(flag) = patch.active {
        active.active = Set(flag);
    }
    if let Some(config) = patch.config {
        active.config = Set(validate_config(config)?);
    }
    active.updated_at = Set(Utc::now());
    catalog::save_change(db, scope, active, duplicate_name(&name)).await
}

/// Deletes a source with its listings, snapshots and audit rows.
pub async fn delete_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SourceId,
) -> Result<SourceId, Error> {
    catalog::delete::<source::Entity>(db, scope, id.0).await?;
    Ok(id)
}

/// One of the tenant's sources.
pub async fn get_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SourceId,
) -> Result<source::Model, Error> {
    scope.get::<source::Entity, _>(db, id.0).await
}

/// A page of the tenant's sources.
pub async fn list_sources(
    db: &DatabaseConnection,
    scope: &TenantScope,
    filter: &CatalogFilter<SourceKind>,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<source::Model>, Error> {
    let select = filter.sources(scope.select::<source::Entity>());
    pager::page(db, select, &request, limits).await
}

/// Finds a source named on the command line by its name, its global id (as `--json` prints
/// it), or its numeric id, in that order.
pub async fn find_for_cli(
    db: &DatabaseConnection,
    scope: &TenantScope,
    reference: &str,
) -> Result<source::Model, Error> {
    scope
        .find_for_cli::<source::Entity, _>(db, source::Column::Name, reference)
        .await
}

/// The tenant's sources with these ids (for batched loading); unknown ids are skipped.
pub async fn sources_by_ids(
    db: &DatabaseConnection,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<Vec<source::Model>, Error> {
    scope.get_many::<source::Entity, _>(db, ids).await
}
