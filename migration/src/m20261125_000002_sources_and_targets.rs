//! Sources (where listings come from) and targets (where they go).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{Sources, Targets, index, tenant_column, utc};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sources = Table::create()
            .table(Sources::Table)
            .col(big_pk_auto(Sources::Id))
            .take();
        tenant_column(Sources::Table, &mut sources);
        sources
            .col(string(Sources::Kind))
            .col(string(Sources::Name))
            .col(boolean(Sources::Active))
            .col(json_binary(Sources::Config))
            .col(utc(Sources::CreatedAt))
            .col(utc(Sources::UpdatedAt));
        manager.create_table(sources).await?;
        manager
            .create_index(index(
                "uq_sources_tenant_name",
                Sources::Table,
                &["tenant_id", "name"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_sources_tenant_id",
                Sources::Table,
                &["tenant_id", "id"],
                false,
            ))
            .await?;

        let mut targets = Table::create()
            .table(Targets::Table)
            .col(big_pk_auto(Targets::Id))
            .take();
        tenant_column(Targets::Table, &mut targets);
        targets
            .col(string(Targets::Kind))
            .col(string(Targets::Name))
            .col(boolean(Targets::Active))
            .col(json_binary(Targets::Config))
            .col(string(Targets::ConflictPolicy))
            .col(utc(Targets::CreatedAt))
            .col(utc(Targets::UpdatedAt));
        manager.create_table(targets).await?;
        manager
            .create_index(index(
                "uq_targets_tenant_name",
                Targets::Table,
                &["tenant_id", "name"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_targets_tenant_id",
                Targets::Table,
                &["tenant_id", "id"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Targets::Table).take())
            .await?;
        manager
            .drop_table(Table::drop().table(Sources::Table).take())
            .await
    }
}
