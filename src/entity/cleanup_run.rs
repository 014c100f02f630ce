//! `cleanup_runs`: the audit record of one snapshot cleanup.

use sea_orm::entity::prelude::*;

/// One row of `cleanup_runs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cleanup_runs")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The age limit asked for, in days.
    pub older_than_days: i32,
    /// Snapshots created before this instant were deleted (unless pinned).
    pub cutoff: DateTimeUtc,
    /// A dry run deleted nothing; the counts say what it would delete.
    pub dry_run: bool,
    /// Source snapshots deleted.
    pub source_snapshots_deleted: i64,
    /// Target snapshots deleted.
    pub target_snapshots_deleted: i64,
    /// Snapshots older than the cutoff kept because they are pinned.
    pub kept_pinned: i64,
    /// Who ran it: an API key or the CLI.
    pub actor: String,
    /// Start.
    pub started_at: DateTimeUtc,
    /// End.
    pub finished_at: DateTimeUtc,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
