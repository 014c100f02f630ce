//! `targets`: where listings go.

use sea_orm::entity::prelude::*;

/// One row of `targets`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "targets")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// `website`, `api` or `other` (text; an unknown value fails the read).
    pub kind: crate::domain::targets::TargetKind,
    /// Name, unique per tenant.
    pub name: String,
    /// Inactive targets refuse syncs.
    pub active: bool,
    /// Free-form settings.
    #[sea_orm(column_type = "JsonBinary")]
    pub config: Json,
    /// What a sync does with a listing edited by hand: `flag`, `keep_target` or `merge` (text;
    /// an unknown value fails the read).
    pub conflict_policy: crate::domain::targets::ConflictPolicy,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
