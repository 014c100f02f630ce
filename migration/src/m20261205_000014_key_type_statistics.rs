//! PostgreSQL: statistics of the JSON type of every stored key column of an indexed path
//! (`sync-manager index-path add` creates them with the key column from now on). A filtered
//! page checks its key's type (`jsonb_typeof("sm_key:price") = 'number'`); without
//! statistics of that expression the planner took it to hold for one row in 200 and planned
//! every filtered page again instead of keeping one plan. The key columns are analysed once
//! here, so the statistics hold something before autovacuum's next `ANALYZE`. SQLite has no
//! key columns.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, what the statistics' names start with)
const TABLES: &[(&str, &str)] = &[
    ("source_properties", "sm_type_sp:"),
    ("target_properties", "sm_type_tp:"),
];

/// The stored key columns of `table` (`sm_key:price`), by name.
async fn key_columns(db: &SchemaManagerConnection<'_>, table: &str) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT a.attname::text AS name FROM pg_attribute a \
                 JOIN pg_class c ON c.oid = a.attrelid \
                 WHERE c.relname = '{table}' AND c.relnamespace = current_schema()::regnamespace \
                 AND a.attnum > 0 AND NOT a.attisdropped AND left(a.attname, 7) = 'sm_key:' \
                 ORDER BY 1"
            ),
        ))
        .await?;
    rows.iter().map(|row| row.try_get("", "name")).collect()
}

/// `name` as a quoted identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, prefix) in TABLES {
            let columns = key_columns(db, table).await?;
            for column in &columns {
                let path = column.trim_start_matches("sm_key:");
                db.execute_unprepared(&format!(
                    "CREATE STATISTICS IF NOT EXISTS {} ON (jsonb_typeof({})) FROM {table}",
                    quoted(&format!("{prefix}{path}")),
                    quoted(column),
                ))
                .await?;
            }
            if !columns.is_empty() {
                let analysed: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
                db.execute_unprepared(&format!("ANALYZE {table} ({})", analysed.join(", ")))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, prefix) in TABLES {
            for column in key_columns(db, table).await? {
                let path = column.trim_start_matches("sm_key:");
                db.execute_unprepared(&format!(
                    "DROP STATISTICS IF EXISTS {}",
                    quoted(&format!("{prefix}{path}"))
                ))
                .await?;
            }
        }
        Ok(())
    }
}
