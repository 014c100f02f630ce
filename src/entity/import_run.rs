//! `import_runs`: the audit record of one import.

use sea_orm::entity::prelude::*;

/// One row of `import_runs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "import_runs")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The source imported into.
    pub source_id: i64,
    /// `incremental` or `full` (text; an unknown value fails the read).
    pub mode: crate::domain::import::ImportMode,
    /// A dry run wrote nothing else.
    pub dry_run: bool,
    /// Listings created.
    pub created: i32,
    /// Listings updated.
    pub updated: i32,
    /// Listings unchanged.
    pub unchanged: i32,
    /// Listings marked removed.
    pub removed: i32,
    /// Warnings, a JSON array.
    #[sea_orm(column_type = "JsonBinary")]
    pub warnings: Json,
    /// Who ran it: an API key or the CLI.
    pub actor: String,
    /// Start.
    pub started_at: DateTimeUtc,
    /// End.
    pub finished_at: DateTimeUtc,
    /// Listings the run would mark removed (null on records written before this was kept).
    pub would_remove: Option<i32>,
    /// The mass-removal guard refused the run (in a dry run: would have refused it).
    pub mass_removal_refused: bool,
}

/// Relations are followed by explicit scoped queries in the domain, not by joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
