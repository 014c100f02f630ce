//! Filters of the top-level list screens: sources, targets and sync logs.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use crate::domain::sources::SourceKind;
use crate::domain::targets::TargetKind;
use crate::entity::{source, sync_log, target};
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

/// Filters of `sources` (`K` is [`SourceKind`]) and `targets` (`K` is [`TargetKind`]).
#[derive(Clone, Debug, Default)]
pub struct CatalogFilter<K> {
    /// Only this kind.
    pub kind: Option<K>,
    /// Only active or only inactive ones.
    pub active: Option<bool>,
    /// Created within this window.
    pub created: DateRange,
}

impl CatalogFilter<SourceKind> {
    /// Applies the filter to a select of sources.
    pub fn sources(&self, select: Select<source::Entity>) -> Select<source::Entity> {
        let mut select = self.created.apply(select, source::Column::CreatedAt);
        if let Some(kind) = self.kind {
            select = select.filter(source::Column::Kind.eq(kind));
        }
        if let Some(active) = self.active {
            select = select.filter(source::Column::Active.eq(active));
        }
        select
    }
}

impl CatalogFilter<TargetKind> {
    /// Applies the filter to a select of targets.
    pub fn targets(&self, select: Select<target::Entity>) -> Select<target::Entity> {
        let mut select = self.created.apply(select, target::Column::CreatedAt);
        if let Some(kind) = self.kind {
            select = select.filter(target::Column::Kind.eq(kind));
        }
        if let Some(active) = self.active {
            select = select.filter(target::Column::Active.eq(active));
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
