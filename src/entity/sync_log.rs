//! `sync_logs`: the audit record of one sync.

super::run_record_entity!("sync_logs" {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The source.
    pub source_id: i64,
    /// The target.
    pub target_id: i64,
    /// A dry run wrote nothing else.
    pub dry_run: bool,
    /// Listings created.
    pub created: i32,
    /// Listings updated.
    pub updated: i32,
    /// Listings skipped as unchanged.
    pub skipped: i32,
    /// Hand-edited listings whose source changed (new, already open, or kept by policy).
    pub conflicts: i32,
    /// Conflicts this sync raised (null on logs from before it was recorded).
    pub new_conflicts: Option<i32>,
    /// Conflicts of the pair still unresolved after this sync (null on older logs).
    pub open_conflicts: Option<i32>,
    /// Hand edits kept by a `KEEP_TARGET` policy over a changed source (null on older logs).
    pub kept_edits: Option<i32>,
    /// Hand-edited listings merged field by field (`MERGE` policy).
    pub merged: i32,
});
