//! Data safety: listing versions, pinned snapshots, the mass-removal guard's record, and the
//! audit of cleanups.
//!
//! - `target_properties.version`: increments on every change of the row, so a client can
//!   edit with `expectedVersion` (compare-and-set). Existing rows start at 1. On PostgreSQL the
//!   covering page index of target listings (migrations 7 and 8) is rebuilt to include it, so
//!   a page of target listings stays an index-only scan.
//! - `source_snapshots.pinned`, `target_snapshots.pinned`: a pinned snapshot survives cleanup.
//! - `import_runs` and `sync_logs` get `would_remove` (the removals the run planned) and
//!   `mass_removal_refused` (the guard refused it, or in a dry run would have).
//! - `cleanup_runs`: one row per cleanup, dry runs included.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{index, tenant_column, utc};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TargetProperties {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum SourceSnapshots {
    Table,
    Pinned,
}

#[derive(DeriveIden)]
enum TargetSnapshots {
    Table,
    Pinned,
}

#[derive(DeriveIden)]
enum ImportRuns {
    Table,
    WouldRemove,
    MassRemovalRefused,
}

#[derive(DeriveIden)]
enum SyncLogs {
    Table,
    WouldRemove,
    MassRemovalRefused,
}

#[derive(DeriveIden)]
enum CleanupRuns {
    Table,
    Id,
    OlderThanDays,
    Cutoff,
    DryRun,
    SourceSnapshotsDeleted,
    TargetSnapshotsDeleted,
    KeptPinned,
    Actor,
    StartedAt,
    FinishedAt,
}

/// The covering index of migrations 7 and 8, with the column this migration adds (or without).
const PAGE_INDEX: &str = "idx_target_properties_target_id";
const PAGE_INDEX_INCLUDE: &str = "source_property_id, external_id, content_hash, base_hash, \
     manually_modified, manual_changed_at, conflict, removed_at, last_synced_at, created_at, \
     updated_at, resolution, resolved_at, resolved_by";

async fn rebuild_page_index(manager: &SchemaManager<'_>, extra: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {PAGE_INDEX}"))
        .await?;
    db.execute_unprepared(&format!(
        "CREATE INDEX {PAGE_INDEX} ON target_properties (tenant_id, target_id, id) \
         INCLUDE ({PAGE_INDEX_INCLUDE}{extra})"
    ))
    .await?;
    Ok(())
}

async fn add_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(Table::alter().table(table).add_column(&mut column).take())
        .await
}

async fn drop_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).take())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        add_column(
            manager,
            TargetProperties::Table,
            big_integer(TargetProperties::Version).default(1).take(),
        )
        .await?;
        add_column(
            manager,
            SourceSnapshots::Table,
            boolean(SourceSnapshots::Pinned).default(false).take(),
        )
        .await?;
        add_column(
            manager,
            TargetSnapshots::Table,
            boolean(TargetSnapshots::Pinned).default(false).take(),
        )
        .await?;
        add_column(
            manager,
            ImportRuns::Table,
            integer_null(ImportRuns::WouldRemove),
        )
        .await?;
        add_column(
            manager,
            ImportRuns::Table,
            boolean(ImportRuns::MassRemovalRefused)
                .default(false)
                .take(),
        )
        .await?;
        add_column(
            manager,
            SyncLogs::Table,
            integer_null(SyncLogs::WouldRemove),
        )
        .await?;
        add_column(
            manager,
            SyncLogs::Table,
            boolean(SyncLogs::MassRemovalRefused).default(false).take(),
        )
        .await?;

        let mut runs = Table::create()
            .table(CleanupRuns::Table)
            .col(big_pk_auto(CleanupRuns::Id))
            .take();
        tenant_column(CleanupRuns::Table, &mut runs);
        runs.col(integer(CleanupRuns::OlderThanDays))
            .col(utc(CleanupRuns::Cutoff))
            .col(boolean(CleanupRuns::DryRun))
            .col(big_integer(CleanupRuns::SourceSnapshotsDeleted))
            .col(big_integer(CleanupRuns::TargetSnapshotsDeleted))
            .col(big_integer(CleanupRuns::KeptPinned))
            .col(string(CleanupRuns::Actor))
            .col(utc(CleanupRuns::StartedAt))
            .col(utc(CleanupRuns::FinishedAt));
        manager.create_table(runs).await?;
        manager
            .create_index(index(
                "idx_cleanup_runs_tenant",
                CleanupRuns::Table,
                &["tenant_id", "id"],
                false,
            ))
            .await?;
        rebuild_page_index(manager, ", version").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild_page_index(manager, "").await?;
        manager
            .drop_table(Table::drop().table(CleanupRuns::Table).take())
            .await?;
        drop_column(manager, SyncLogs::Table, SyncLogs::MassRemovalRefused).await?;
        drop_column(manager, SyncLogs::Table, SyncLogs::WouldRemove).await?;
        drop_column(manager, ImportRuns::Table, ImportRuns::MassRemovalRefused).await?;
        drop_column(manager, ImportRuns::Table, ImportRuns::WouldRemove).await?;
        drop_column(manager, TargetSnapshots::Table, TargetSnapshots::Pinned).await?;
        drop_column(manager, SourceSnapshots::Table, SourceSnapshots::Pinned).await?;
        drop_column(manager, TargetProperties::Table, TargetProperties::Version).await
    }
}
