//! Targets: where listings go, and what a sync does with listings edited there by hand.

use sea_orm::{DatabaseConnection, DeriveActiveEnum, EnumIter, Set};
use serde_json::Value;

use crate::domain::catalog::{self, Catalog, CatalogColumns, CatalogFields, catalog_columns};
use crate::entity::target;
use crate::error::Error;
use crate::ids::TargetId;
use crate::store::scope::TenantScope;

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
    /// What every source and target can change.
    pub fields: CatalogFields<TargetKind>,
    /// New conflict policy.
    pub conflict_policy: Option<ConflictPolicy>,
}

impl Catalog for target::Entity {
    type Id = TargetId;
    type Kind = TargetKind;
    const NOUN: &'static str = "target";
    const COLUMNS: CatalogColumns<target::Column> = catalog_columns!(target);
}

/// Creates a target.
pub async fn create_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    new: NewTarget,
) -> Result<target::Model, Error> {
    let fields = CatalogFields::all(new.name, new.kind, new.active, new.config);
    let row = target::ActiveModel {
        conflict_policy: Set(new.conflict_policy),
        ..Default::default()
    };
    catalog::create::<target::Entity>(db, scope, fields, row).await
}

/// Changes a target.
pub async fn update_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetId,
    patch: TargetPatch,
) -> Result<target::Model, Error> {
    catalog::update::<target::Entity>(db, scope, id, patch.fields, |row| {
        if let Some(policy) = patch.conflict_policy {
            row.conflict_policy = Set(policy);
        }
    })
    .await
}

/// One of the tenant's targets.
pub(crate) async fn get_target(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetId,
) -> Result<target::Model, Error> {
    catalog::get::<target::Entity>(db, scope, id).await
}
