//! `tenants.data_version`: a counter every write to a tenant's data increases, in the same
//! transaction. The server's response cache keys on it, so a cached answer is never served
//! after a write, whichever process or replica made it.

use sea_orm_migration::prelude::*;

use crate::tables::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(
                        ColumnDef::new(Tenants::DataVersion)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::DataVersion)
                    .take(),
            )
            .await
    }
}
