//! `target_snapshots`: a replaced version of a target listing.

use sea_orm::entity::prelude::*;

/// One row of `target_snapshots`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "target_snapshots")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The listing.
    pub target_property_id: i64,
    /// The replaced data.
    #[sea_orm(column_type = "JsonBinary")]
    pub data: Json,
    /// Its hash.
    pub content_hash: String,
    /// Why it was replaced (text; an unknown value fails the read).
    pub reason: crate::domain::snapshots::SnapshotReason,
    /// When.
    pub created_at: DateTimeUtc,
    /// Kept by cleanup whatever its age.
    pub pinned: bool,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
