//! `api_keys`: credentials of a tenant, stored as a SHA-256 hash.

use sea_orm::entity::prelude::*;

/// One row of `api_keys`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// What the key is for.
    pub name: String,
    /// The first characters of the key, safe to show.
    pub prefix: String,
    /// Hex SHA-256 of the whole key.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// Granted scopes, a JSON array of strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: Json,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last authenticated use.
    pub last_used_at: Option<DateTimeUtc>,
    /// Set once revoked; a revoked key never authenticates again.
    pub revoked_at: Option<DateTimeUtc>,
    /// The sources the key is limited to, a JSON array of ids; NULL for all.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub source_ids: Option<Json>,
    /// The targets the key is limited to, a JSON array of ids; NULL for all.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub target_ids: Option<Json>,
    /// When the key stops authenticating; NULL for never.
    pub expires_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
