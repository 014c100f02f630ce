//! The audit trail: one row per import and one per sync.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{
    ImportRuns, Sources, SyncLogs, Targets, cascade_to, index, tenant_column, utc,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut runs = Table::create()
            .table(ImportRuns::Table)
            .col(big_pk_auto(ImportRuns::Id))
            .take();
        tenant_column(ImportRuns::Table, &mut runs);
        runs.col(big_integer(ImportRuns::SourceId))
            .col(string(ImportRuns::Mode))
            .col(boolean(ImportRuns::DryRun))
            .col(integer(ImportRuns::Created))
            .col(integer(ImportRuns::Updated))
            .col(integer(ImportRuns::Unchanged))
            .col(integer(ImportRuns::Removed))
            .col(json_binary(ImportRuns::Warnings))
            .col(string(ImportRuns::Actor))
            .col(utc(ImportRuns::StartedAt))
            .col(utc(ImportRuns::FinishedAt))
            .foreign_key(&mut cascade_to(
                ImportRuns::Table,
                ImportRuns::SourceId,
                Sources::Table,
                Sources::Id,
            ));
        manager.create_table(runs).await?;

        let mut logs = Table::create()
            .table(SyncLogs::Table)
            .col(big_pk_auto(SyncLogs::Id))
            .take();
        tenant_column(SyncLogs::Table, &mut logs);
        logs.col(big_integer(SyncLogs::SourceId))
            .col(big_integer(SyncLogs::TargetId))
            .col(boolean(SyncLogs::DryRun))
            .col(integer(SyncLogs::Created))
            .col(integer(SyncLogs::Updated))
            .col(integer(SyncLogs::Skipped))
            .col(integer(SyncLogs::Conflicts))
            .col(integer(SyncLogs::Removed))
            .col(json_binary(SyncLogs::Warnings))
            .col(string(SyncLogs::Actor))
            .col(utc(SyncLogs::StartedAt))
            .col(utc(SyncLogs::FinishedAt))
            .foreign_key(&mut cascade_to(
                SyncLogs::Table,
                SyncLogs::SourceId,
                Sources::Table,
                Sources::Id,
            ))
            .foreign_key(&mut cascade_to(
                SyncLogs::Table,
                SyncLogs::TargetId,
                Targets::Table,
                Targets::Id,
            ));
        manager.create_table(logs).await?;

        for (name, table, cols) in [
            (
                "idx_import_runs_source",
                "import_runs",
                &["tenant_id", "source_id", "id"][..],
            ),
            (
                "idx_sync_logs_target",
                "sync_logs",
                &["tenant_id", "target_id", "id"][..],
            ),
            (
                "idx_sync_logs_source",
                "sync_logs",
                &["tenant_id", "source_id", "id"][..],
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
            .drop_table(Table::drop().table(SyncLogs::Table).take())
            .await?;
        manager
            .drop_table(Table::drop().table(ImportRuns::Table).take())
            .await
    }
}
