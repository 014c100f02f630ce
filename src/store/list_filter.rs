//! Filters of the top-level list screens: sources, targets and sync logs.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use crate::entity::sync_log;
use crate::ids::{SourceId, TargetId};

/// An optional time window, both ends inclusive.
#[derive(Clone, Copy, Debug, Default)]
pub struct DateRange {
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// At or before.
    pub to: Option<DateTime<Utc>>,
}

impl DateRange {
    fn apply<E: EntityTrait>(&self, select: Select<E>, column: E::Column) -> Select<E> {
        let mut select = select;
        if let Some(from) = self.from {
            select = select.filter(column.gte(from));
        }
        if let Some(to) = self.to {
            select = select.filter(column.lte(to));
        }
        select
    }
}

/// Filters of `sources` and `targets`: `K` is their kind, the domain's `SourceKind` or
/// `TargetKind` (any value a `kind` column binds).
#[derive(Clone, Debug, Default)]
pub struct CatalogFilter<K> {
    /// Only this kind.
    pub kind: Option<K>,
    /// Only active or only inactive ones.
    pub active: Option<bool>,
    /// Created within this window.
    pub created: DateRange,
}

impl<K: Copy + Into<sea_orm::Value>> CatalogFilter<K> {
    /// Applies the filter to a select of sources or targets, through their `kind`, `active`
    /// and `created_at` columns.
    pub fn apply<E: EntityTrait>(
        &self,
        select: Select<E>,
        kind: E::Column,
        active: E::Column,
        created_at: E::Column,
    ) -> Select<E> {
        let mut select = self.created.apply(select, created_at);
        if let Some(value) = self.kind {
            select = select.filter(kind.eq(value));
        }
        if let Some(value) = self.active {
            select = select.filter(active.eq(value));
        }
        select
    }
}

/// Filters of `syncLogs`.
#[derive(Clone, Debug, Default)]
pub struct SyncLogFilter {
    /// Only syncs from this source.
    pub source_id: Option<SourceId>,
    /// Only syncs into this target.
    pub target_id: Option<TargetId>,
    /// Only syncs with (or without) warnings.
    pub has_warnings: Option<bool>,
    /// Only dry runs (or only real ones).
    pub dry_run: Option<bool>,
    /// Started within this window.
    pub started: DateRange,
}

impl SyncLogFilter {
    /// Applies the filter to a select of sync logs.
    pub fn apply(&self, select: Select<sync_log::Entity>) -> Select<sync_log::Entity> {
        let mut select = self.started.apply(select, sync_log::Column::StartedAt);
        if let Some(source_id) = self.source_id {
            select = select.filter(sync_log::Column::SourceId.eq(source_id.0));
        }
        if let Some(target_id) = self.target_id {
            select = select.filter(sync_log::Column::TargetId.eq(target_id.0));
        }
        // Every warning names a conflicting listing, so warnings ⇔ conflicts > 0.
        match self.has_warnings {
            Some(true) => select = select.filter(sync_log::Column::Conflicts.gt(0)),
            Some(false) => select = select.filter(sync_log::Column::Conflicts.eq(0)),
            None => {}
        }
        if let Some(dry_run) = self.dry_run {
            select = select.filter(sync_log::Column::DryRun.eq(dry_run));
        }
        select
    }
}
