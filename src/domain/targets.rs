//! Targets: where listings go, and what a sync does with listings edited there by hand.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, DeriveActiveEnum, EnumIter, Set};
use serde_json::Value;

use crate::domain::{catalog, removal_guard, validate};
use crate::entity::target;
use crate::error::Error;
use crate::ids::TargetId;
use crate::store::list_filter::CatalogFilter;
use crate::store::pager::{self, Page, PageLimits, PageRequest};
use crate::store::scope::{Permission, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// What a target is.
// Stored in `targets.kind` as the `string_value`; a stored value this version does not know
// fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum TargetKind {
    /// A website that shows the listings.
    #[sea_orm(string_value = "website")]
    Website,
    /// A partner API that receives them.
    #[sea_orm(string_value = "api")]
    Api,
    /// Anything else.
    #[sea_orm(string_value = "other")]
    Other,
}

/// What a sync does with a target listing edited by hand when its source listing changes.
// Stored in `targets.conflict_policy` as the `string_value`; a stored value this version does
// not know fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ConflictPolicy {
    /// Keep the hand edit and flag a conflict for a person to resolve (the default).
    #[default]
    #[sea_orm(string_value = "flag")]
    Flag,
    /// Keep the hand edit without flagging; the source change is only logged as a warning.
    #[sea_orm(string_value = "keep_target")]
    KeepTarget,
    /// Merge field by field: the source's changes to fields the person did not edit are
    /// applied, the person's edits are kept, and only a field changed on both sides
    /// differently flags a conflict. E.g. a person fixed `title`, the scraper changed
    /// `price`: the listing gets the new price and keeps the fixed title.
    #[sea_orm(string_value = "merge")]
    Merge,
}

/// What a new target needs.
#[derive(Clone, Debug)]
pub struct NewTarget {
    /// Name, unique in the tenant.
    pub name: String,
    /// What it is.
    pub kind: TargetKind,
    /// Whether it accepts syncs.
    pub active: bool,
    /// Free-form settings (a JSON object).
    pub config: Value,
    /// What a sync does with hand-edited listings.
    pub conflict_policy: ConflictPolicy,
}

/// A change to a target; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TargetPatch {
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<TargetKind>,
    /// New active flag.
    pub active: Option<bool>,
    /// New settings (replaces the old ones).
    pub config: Option<Value>,
    /// New conflict policy.
    pub conflict_policy: Option<ConflictPolicy>,
}

fn validate_config(config: Value) -> Result<Value, Error> {
    let config = validate::object("input.config", config)?;
    removal_guard::validate_config(&config)?;
    Ok(config)
}

fn duplicate_name(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("a target named `{name}` already exists")
}

/// Creates a target.
pub async fn create_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    new: NewTarget,
) -> Result<target::Model, Error> {
    scope.require_unlimited(Permission::Admin, "creating a target")?;
    let name = validate::name("input.name", &new.name)?;
    let config = validate_config(new.config)?;
    let now = Utc::now();
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let created = target::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        kind: Set(new.kind),
        name: Set(name.clone()),
        active: Set(new.active),
        config: Set(config),
        conflict_policy: Set(new.conflict_policy),
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

/// Changes a target.
pub async fn update_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetId,
    patch: TargetPatch,
) -> Result<target::Model, Error> {
    scope.require(Permission::Admin)?;
    let model = get_target(db, scope, id).await?;
    let mut active: target::ActiveModel = model.into();
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
    if let Some(policy) = patch.conflict_policy {
        active.conflict_policy = Set(policy);
    }
    active.updated_at = Set(Utc::now());
    catalog::save_change(db, scope, active, duplicate_name(&name)).await
}

/// Deletes a target with its listings, snapshots and sync logs.
pub async fn delete_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetId,
) -> Result<TargetId, Error> {
    catalog::delete::<target::Entity>(db, scope, id.0).await?;
    Ok(id)
}

/// One of the tenant's targets.
pub async fn get_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetId,
) -> Result<target::Model, Error> {
    scope.get::<target::Entity, _>(db, id.0).await
}

/// A page of the tenant's targets.
pub async fn list_targets(
    db: &DatabaseConnection,
    scope: &TenantScope,
    filter: &CatalogFilter<TargetKind>,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<target::Model>, Error> {
    let select = filter.targets(scope.select::<target::Entity>());
    pager::page(db, select, &request, limits).await
}

/// Finds a target named on the command line by its name, its global id (as `--json` prints
/// it), or its numeric id, in that order.
pub async fn find_for_cli(
    db: &DatabaseConnection,
    scope: &TenantScope,
    reference: &str,
) -> Result<target::Model, Error> {
    scope
        .find_for_cli::<target::Entity, _>(db, target::Column::Name, reference)
        .await
}

/// The tenant's targets with these ids (for batched loading); unknown ids are skipped.
pub async fn targets_by_ids(
    db: &DatabaseConnection,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<Vec<target::Model>, Error> {
    scope.get_many::<target::Entity, _>(db, ids).await
}
