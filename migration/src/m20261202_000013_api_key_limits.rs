//! Least-privilege API keys: a key may be limited to some sources and targets (JSON arrays of
//! ids; NULL means all of them) and may expire. Existing keys keep their stored scopes
//! (`read`, `write`) and get no limits and no expiry.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::tables::{ApiKeys, utc_null};

/// The new columns of `api_keys`.
#[derive(DeriveIden)]
enum Limits {
    SourceIds,
    TargetIds,
    ExpiresAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            json_binary_null(Limits::SourceIds),
            json_binary_null(Limits::TargetIds),
            utc_null(Limits::ExpiresAt),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .add_column(&mut column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Limits::SourceIds, Limits::TargetIds, Limits::ExpiresAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
