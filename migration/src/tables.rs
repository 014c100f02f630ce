//! Table and column names shared by the migrations, and the helpers every tenant table uses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// `tenants`; every other table carries `tenant_id`, added by [`tenant_column`].
#[derive(DeriveIden)]
pub enum Tenants {
    Table,
    Id,
    Name,
    Slug,
    CreatedAt,
    DataVersion,
}

/// `api_keys`
#[derive(DeriveIden)]
pub enum ApiKeys {
    Table,
    Id,
    Name,
    Prefix,
    KeyHash,
    Scopes,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

/// `sources`
#[derive(DeriveIden)]
pub enum Sources {
    Table,
    Id,
    Kind,
    Name,
    Active,
    Config,
    CreatedAt,
    UpdatedAt,
}

/// `targets`
#[derive(DeriveIden)]
pub enum Targets {
    Table,
    Id,
    Kind,
    Name,
    Active,
    Config,
    ConflictPolicy,
    CreatedAt,
    UpdatedAt,
}

/// `source_properties`
#[derive(DeriveIden)]
pub enum SourceProperties {
    Table,
    Id,
    SourceId,
    ExternalId,
    Data,
    ContentHash,
    RemovedAt,
    CreatedAt,
    UpdatedAt,
}

/// `target_properties`
#[derive(DeriveIden)]
pub enum TargetProperties {
    Table,
    Id,
    TargetId,
    SourcePropertyId,
    ExternalId,
    Data,
    ContentHash,
    BaseHash,
    ManuallyModified,
    ManualChangedAt,
    Conflict,
    RemovedAt,
    LastSyncedAt,
    CreatedAt,
    UpdatedAt,
}

/// `source_snapshots`
#[derive(DeriveIden)]
pub enum SourceSnapshots {
    Table,
    Id,
    SourcePropertyId,
    Data,
    ContentHash,
    Reason,
    CreatedAt,
}

/// `target_snapshots`
#[derive(DeriveIden)]
pub enum TargetSnapshots {
    Table,
    Id,
    TargetPropertyId,
    Data,
    ContentHash,
    Reason,
    CreatedAt,
}

/// `import_runs`
#[derive(DeriveIden)]
pub enum ImportRuns {
    Table,
    Id,
    SourceId,
    Mode,
    DryRun,
    Created,
    Updated,
    Unchanged,
    Removed,
    Warnings,
    Actor,
    StartedAt,
    FinishedAt,
}

/// `sync_logs`
#[derive(DeriveIden)]
pub enum SyncLogs {
    Table,
    Id,
    SourceId,
    TargetId,
    DryRun,
    Created,
    Updated,
    Skipped,
    Conflicts,
    Removed,
    Warnings,
    Actor,
    StartedAt,
    FinishedAt,
}

/// A UTC timestamp column (`timestamptz` on PostgreSQL, RFC 3339 text on SQLite).
pub fn utc(col: impl IntoIden) -> ColumnDef {
    timestamp_with_time_zone(col)
}

/// A nullable UTC timestamp column.
pub fn utc_null(col: impl IntoIden) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

/// The `tenant_id` column with its cascading foreign key: every tenant table starts with it.
pub fn tenant_column(table: impl IntoIden, stmt: &mut TableCreateStatement) {
    stmt.col(big_integer(Alias::new("tenant_id"))).foreign_key(
        ForeignKey::create()
            .from(table, Alias::new("tenant_id"))
            .to(Tenants::Table, Tenants::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
}

/// A foreign key to `parent.id` that cascades on delete.
pub fn cascade_to(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    parent: impl IntoIden,
    parent_id: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(parent, parent_id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// An index on `table` named `name` over `cols`, in order (the first is always `tenant_id`).
pub fn index(
    name: &str,
    table: impl IntoIden,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    stmt.take()
}
