//! `idempotency_keys`: the first answer of a mutation sent with an idempotency key, so a
//! retry with the same key gets it again instead of doing the work twice. The row is written
//! in the mutation's own transaction: a rolled-back mutation leaves no key, and the unique
//! index makes a concurrent second writer wait for the first and then find its row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{index, tenant_column, utc};

/// `idempotency_keys`
#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    Operation,
    Key,
    RequestHash,
    Result,
    CreatedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut keys = Table::create()
            .table(IdempotencyKeys::Table)
            .col(big_pk_auto(IdempotencyKeys::Id))
            .take();
        tenant_column(IdempotencyKeys::Table, &mut keys);
        keys.col(string(IdempotencyKeys::Operation))
            .col(string(IdempotencyKeys::Key))
            .col(string(IdempotencyKeys::RequestHash))
            .col(json_binary_null(IdempotencyKeys::Result))
            .col(utc(IdempotencyKeys::CreatedAt));
        manager.create_table(keys).await?;
        manager
            .create_index(index(
                "ux_idempotency_keys_tenant_operation_key",
                IdempotencyKeys::Table,
                &["tenant_id", "operation", "key"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_idempotency_keys_tenant_created",
                IdempotencyKeys::Table,
                &["tenant_id", "created_at"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).take())
            .await
    }
}
