//! Field-level three-way merge (issue 11, section 2).
//!
//! `target_properties.edited_paths`: the dotted paths of the fields a person edited on the
//! listing (a JSON array of strings, sorted), so a merge knows which values are the person's.
//! Existing listings start with none recorded (`[]`).
//!
//! `sync_logs.merged`: how many hand-edited listings a sync merged field by field under a
//! target's `MERGE` conflict policy (0 on older logs, which merged none).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TargetProperties {
    Table,
    EditedPaths,
}

#[derive(DeriveIden)]
enum SyncLogs {
    Table,
    Merged,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TargetProperties::Table)
                    .add_column(
                        json_binary(TargetProperties::EditedPaths).default(Expr::cust("'[]'")),
                    )
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SyncLogs::Table)
                    .add_column(integer(SyncLogs::Merged).default(0))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SyncLogs::Table)
                    .drop_column(SyncLogs::Merged)
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TargetProperties::Table)
                    .drop_column(TargetProperties::EditedPaths)
                    .take(),
            )
            .await
    }
}
