//! Snapshots: every replaced version of a listing, kept for the retention period.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{
    SourceProperties, SourceSnapshots, TargetProperties, TargetSnapshots, cascade_to, index,
    tenant_column, utc,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut source_snaps = Table::create()
            .table(SourceSnapshots::Table)
            .col(big_pk_auto(SourceSnapshots::Id))
            .take();
        tenant_column(SourceSnapshots::Table, &mut source_snaps);
        source_snaps
            .col(big_integer(SourceSnapshots::SourcePropertyId))
            .col(json_binary(SourceSnapshots::Data))
            .col(string_len(SourceSnapshots::ContentHash, 64))
            .col(string(SourceSnapshots::Reason))
            .col(utc(SourceSnapshots::CreatedAt))
            .foreign_key(&mut cascade_to(
                SourceSnapshots::Table,
                SourceSnapshots::SourcePropertyId,
                SourceProperties::Table,
                SourceProperties::Id,
            ));
        manager.create_table(source_snaps).await?;

        let mut target_snaps = Table::create()
            .table(TargetSnapshots::Table)
            .col(big_pk_auto(TargetSnapshots::Id))
            .take();
        tenant_column(TargetSnapshots::Table, &mut target_snaps);
        target_snaps
            .col(big_integer(TargetSnapshots::TargetPropertyId))
            .col(json_binary(TargetSnapshots::Data))
            .col(string_len(TargetSnapshots::ContentHash, 64))
            .col(string(TargetSnapshots::Reason))
            .col(utc(TargetSnapshots::CreatedAt))
            .foreign_key(&mut cascade_to(
                TargetSnapshots::Table,
                TargetSnapshots::TargetPropertyId,
                TargetProperties::Table,
                TargetProperties::Id,
            ));
        manager.create_table(target_snaps).await?;

        // Per listing, newest first; and per tenant by age, for retention cleanup.
        for (name, table, cols) in [
            (
                "idx_source_snapshots_property",
                "source_snapshots",
                &["tenant_id", "source_property_id", "id"][..],
            ),
            (
                "idx_source_snapshots_created_at",
                "source_snapshots",
                &["tenant_id", "created_at"][..],
            ),
            (
                "idx_target_snapshots_property",
                "target_snapshots",
                &["tenant_id", "target_property_id", "id"][..],
            ),
            (
                "idx_target_snapshots_created_at",
                "target_snapshots",
                &["tenant_id", "created_at"][..],
            ),
        ] {
            manager
                .create_index(index(name, Alias::new(table), cols, false))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TargetSnapshots::Table).take())
            .await?;
        manager
            .drop_table(Table::drop().table(SourceSnapshots::Table).take())
            .await
    }
}
