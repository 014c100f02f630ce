//! `target_properties`: one listing as a target holds it.

use sea_orm::entity::prelude::*;

/// One row of `target_properties`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "target_properties")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The target.
    pub target_id: i64,
    /// The source listing it was synced from.
    pub source_property_id: Option<i64>,
    /// The listing's id.
    pub external_id: String,
    /// The listing as the target holds it.
    #[sea_orm(column_type = "JsonBinary")]
    pub data: Json,
    /// Hash of `data`.
    pub content_hash: String,
    /// The source hash at the last sync.
    pub base_hash: Option<String>,
    /// Edited by hand since the last sync.
    pub manually_modified: bool,
    /// When it was last edited by hand.
    pub manual_changed_at: Option<DateTimeUtc>,
    /// The source changed after a hand edit.
    pub conflict: bool,
    /// Removed at the source.
    pub removed_at: Option<DateTimeUtc>,
    /// Last written by a sync.
    pub last_synced_at: Option<DateTimeUtc>,
    /// First synced.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
    /// How its last conflict was resolved (`keep_target`, `accept_source`, `use_data`,
    /// `merge`; text, an unknown value fails the read).
    pub resolution: Option<crate::domain::conflicts::Resolution>,
    /// When its last conflict was resolved.
    pub resolved_at: Option<DateTimeUtc>,
    /// Who resolved its last conflict (`api_key:<id>` or `cli`).
    pub resolved_by: Option<String>,
    /// Increments on every change of the row (hand edit, sync, removal, conflict flag or
    /// resolution); starts at 1.
    pub version: i64,
    /// Dotted paths of the fields edited by hand (a sorted JSON array of strings): the values
    /// a merge keeps as the person's.
    #[sea_orm(column_type = "JsonBinary")]
    pub edited_paths: Json,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
