//! `import_runs`: the audit record of one import.

super::run_record_entity!("import_runs" {
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
});
