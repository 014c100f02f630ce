//! `sources`: where listings come from.

use sea_orm::entity::prelude::*;

/// One row of `sources`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sources")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// `json`, `scraped` or `manual` (text; an unknown value fails the read).
    pub kind: crate::domain::sources::SourceKind,
    /// Name, unique per tenant.
    pub name: String,
    /// Inactive sources refuse imports and syncs.
    pub active: bool,
    /// Settings such as `id_field`.
    #[sea_orm(column_type = "JsonBinary")]
    pub config: Json,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
