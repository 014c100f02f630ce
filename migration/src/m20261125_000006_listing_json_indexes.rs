//! GIN indexes on the listing JSON (PostgreSQL only), so `where` filters on values inside
//! listings (`EQ` is also sent as a containment test) do not scan every listing.
//! SQLite has no such index type; its filters scan the parent's listings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["source_properties", "target_properties"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for table in TABLES {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX IF NOT EXISTS idx_{table}_data ON {table} USING GIN (data jsonb_path_ops)"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for table in TABLES {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX IF EXISTS idx_{table}_data"))
                .await?;
        }
        Ok(())
    }
}
