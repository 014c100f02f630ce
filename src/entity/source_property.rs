//! `source_properties`: one listing as a source last saw it.

use sea_orm::entity::prelude::*;

/// One row of `source_properties`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "source_properties")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The source.
    pub source_id: i64,
    /// The listing's id at the source.
    pub external_id: String,
    /// The listing.
    #[sea_orm(column_type = "JsonBinary")]
    pub data: Json,
    /// Hex SHA-256 of the canonical JSON.
    pub content_hash: String,
    /// When a full import last missed it.
    pub removed_at: Option<DateTimeUtc>,
    /// First seen.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
