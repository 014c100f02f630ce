//! Tenants and the API keys that authenticate them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{ApiKeys, Tenants, index, tenant_column, utc, utc_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(big_pk_auto(Tenants::Id))
                    .col(string(Tenants::Name))
                    .col(string_uniq(Tenants::Slug))
                    .col(utc(Tenants::CreatedAt))
                    .take(),
            )
            .await?;

        let mut keys = Table::create()
            .table(ApiKeys::Table)
            .col(big_pk_auto(ApiKeys::Id))
            .take();
        tenant_column(ApiKeys::Table, &mut keys);
        keys.col(string(ApiKeys::Name))
            .col(string(ApiKeys::Prefix))
            // The SHA-256 of the key: the key itself is never stored.
            .col(string_uniq(ApiKeys::KeyHash))
            .col(json_binary(ApiKeys::Scopes))
            .col(utc(ApiKeys::CreatedAt))
            .col(utc_null(ApiKeys::LastUsedAt))
            .col(utc_null(ApiKeys::RevokedAt));
        manager.create_table(keys).await?;
        manager
            .create_index(index(
                "idx_api_keys_tenant",
                ApiKeys::Table,
                &["tenant_id", "id"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).take())
            .await?;
        manager
            .drop_table(Table::drop().table(Tenants::Table).take())
            .await
    }
}
