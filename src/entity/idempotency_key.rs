//! `idempotency_keys`: the first answer of a mutation sent with an idempotency key.

use sea_orm::entity::prelude::*;

/// One row of `idempotency_keys`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The mutation, e.g. `importProperties`.
    pub operation: String,
    /// The key the client sent.
    pub key: String,
    /// Hex SHA-256 of the canonical input the key was first used with.
    pub request_hash: String,
    /// What the mutation answered (the ids of its payload); NULL only inside the transaction
    /// that claims the key.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub result: Option<Json>,
    /// When the key was first used.
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
