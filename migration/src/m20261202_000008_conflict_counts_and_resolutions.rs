//! Conflict counts that mean one thing each, and the audit of a conflict resolution.
//!
//! `sync_logs` gets `new_conflicts` (conflicts this sync raised), `open_conflicts` (unresolved
//! after it, for the pair) and `kept_edits` (hand edits a `KEEP_TARGET` policy kept). They are
//! nullable: a log written before this migration did not record them, and its old `conflicts`
//! count cannot be split after the fact.
//!
//! `target_properties` gets `resolution`, `resolved_at` and `resolved_by`: the last conflict
//! resolution of the listing, which a resolution that changes nothing records instead of a
//! snapshot. On PostgreSQL the covering page index of target listings (see migration 7) is
//! rebuilt to include them, so a page of target listings stays an index-only scan.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncLogs {
    Table,
    NewConflicts,
    OpenConflicts,
    KeptEdits,
}

#[derive(DeriveIden)]
enum TargetProperties {
    Table,
    Resolution,
    ResolvedAt,
    ResolvedBy,
}

/// The covering index of migration 7, with the columns this migration adds (or without).
const PAGE_INDEX: &str = "idx_target_properties_target_id";
const PAGE_INDEX_INCLUDE: &str = "source_property_id, external_id, content_hash, base_hash, \
     manually_modified, manual_changed_at, conflict, removed_at, last_synced_at, created_at, \
     updated_at";

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            SyncLogs::NewConflicts,
            SyncLogs::OpenConflicts,
            SyncLogs::KeptEdits,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SyncLogs::Table)
                        .add_column(integer_null(column))
                        .take(),
                )
                .await?;
        }
        for column in [
            string_null(TargetProperties::Resolution),
            timestamp_with_time_zone_null(TargetProperties::ResolvedAt),
            string_null(TargetProperties::ResolvedBy),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TargetProperties::Table)
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        rebuild_page_index(manager, ", resolution, resolved_at, resolved_by").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild_page_index(manager, "").await?;
        for column in [
            TargetProperties::Resolution,
            TargetProperties::ResolvedAt,
            TargetProperties::ResolvedBy,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TargetProperties::Table)
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        for column in [
            SyncLogs::NewConflicts,
            SyncLogs::OpenConflicts,
            SyncLogs::KeptEdits,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SyncLogs::Table)
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
