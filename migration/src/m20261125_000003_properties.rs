//! Listings as a source last saw them and as a target holds them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{
    SourceProperties, Sources, TargetProperties, Targets, cascade_to, index, tenant_column, utc,
    utc_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut source_props = Table::create()
            .table(SourceProperties::Table)
            .col(big_pk_auto(SourceProperties::Id))
            .take();
        tenant_column(SourceProperties::Table, &mut source_props);
        source_props
            .col(big_integer(SourceProperties::SourceId))
            .col(string(SourceProperties::ExternalId))
            .col(json_binary(SourceProperties::Data))
            .col(string_len(SourceProperties::ContentHash, 64))
            .col(utc_null(SourceProperties::RemovedAt))
            .col(utc(SourceProperties::CreatedAt))
            .col(utc(SourceProperties::UpdatedAt))
            .foreign_key(&mut cascade_to(
                SourceProperties::Table,
                SourceProperties::SourceId,
                Sources::Table,
                Sources::Id,
            ));
        manager.create_table(source_props).await?;
        manager
            .create_index(index(
                "uq_source_properties_external_id",
                SourceProperties::Table,
                &["tenant_id", "source_id", "external_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_source_properties_source_id",
                SourceProperties::Table,
                &["tenant_id", "source_id", "id"],
                false,
            ))
            .await?;

        let mut target_props = Table::create()
            .table(TargetProperties::Table)
            .col(big_pk_auto(TargetProperties::Id))
            .take();
        tenant_column(TargetProperties::Table, &mut target_props);
        target_props
            .col(big_integer(TargetProperties::TargetId))
            .col(big_integer_null(TargetProperties::SourcePropertyId))
            .col(string(TargetProperties::ExternalId))
            .col(json_binary(TargetProperties::Data))
            .col(string_len(TargetProperties::ContentHash, 64))
            .col(string_len_null(TargetProperties::BaseHash, 64))
            .col(boolean(TargetProperties::ManuallyModified))
            .col(utc_null(TargetProperties::ManualChangedAt))
            .col(boolean(TargetProperties::Conflict))
            .col(utc_null(TargetProperties::RemovedAt))
            .col(utc_null(TargetProperties::LastSyncedAt))
            .col(utc(TargetProperties::CreatedAt))
            .col(utc(TargetProperties::UpdatedAt))
            .foreign_key(&mut cascade_to(
                TargetProperties::Table,
                TargetProperties::TargetId,
                Targets::Table,
                Targets::Id,
            ))
            .foreign_key(
                // A target keeps its copy when the source listing goes away.
                ForeignKey::create()
                    .from(TargetProperties::Table, TargetProperties::SourcePropertyId)
                    .to(SourceProperties::Table, SourceProperties::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            );
        manager.create_table(target_props).await?;
        for (name, cols, unique) in [
            (
                "uq_target_properties_external_id",
                &["tenant_id", "target_id", "external_id"][..],
                true,
            ),
            (
                "idx_target_properties_target_id",
                &["tenant_id", "target_id", "id"][..],
                false,
            ),
            (
                "idx_target_properties_source_property",
                &["tenant_id", "source_property_id"][..],
                false,
            ),
            (
                "idx_target_properties_conflict",
                &["tenant_id", "conflict", "id"][..],
                false,
            ),
        ] {
            manager
                .create_index(index(name, TargetProperties::Table, cols, unique))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TargetProperties::Table).take())
            .await?;
        manager
            .drop_table(Table::drop().table(SourceProperties::Table).take())
            .await
    }
}
