//! The audit trail: who ran an import or sync, and reading the records back.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::entity::{import_run, sync_log};
use crate::error::Error;
use crate::ids::ApiKeyId;
use crate::store::list_filter::SyncLogFilter;
use crate::store::pager::{self, ChildArgs, Page, PageLimits, PageRequest};
use crate::store::scope::TenantScope;

/// Who started an operation.
#[derive(Clone, Copy, Debug)]
pub enum Actor {
    /// A GraphQL request with this API key.
    ApiKey(ApiKeyId),
    /// The command line.
    Cli,
}

impl Actor {
    /// How the audit trail records it: `api_key:<global id>` or `cli`.
    pub(crate) fn label(&self) -> String {
        match self {
            Self::ApiKey(id) => format!("api_key:{}", id.to_global()),
            Self::Cli => "cli".to_owned(),
        }
    }
}

/// When an operation that started at `started_at` and has been timed by `clock` since
/// finishes: now, on the monotonic clock (the wall clock may step meanwhile).
pub(crate) fn finished_at(
    started_at: chrono::DateTime<chrono::Utc>,
    clock: std::time::Instant,
) -> chrono::DateTime<chrono::Utc> {
    started_at + chrono::Duration::from_std(clock.elapsed()).unwrap_or_default()
}

/// A page of sync logs, oldest first, filtered.
pub(crate) async fn list_sync_logs(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    filter: &SyncLogFilter,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<sync_log::Model>, Error> {
    let select = filter.apply(scope.select::<sync_log::Entity>());
    pager::page(db, select, &request, limits).await
}

/// One page of import runs under each of many sources, in one statement.
pub(crate) async fn import_run_pages(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    source_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<import_run::Model>>, Error> {
    let parent = (
        import_run::Column::SourceId,
        (|m: &import_run::Model| Some(m.source_id)) as fn(&_) -> _,
    );
    pager::child_pages::<import_run::Entity, _>(db, scope, parent, source_ids, args, limits).await
}

/// One page of sync logs under each of many targets, in one statement.
pub(crate) async fn sync_log_pages(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    target_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<sync_log::Model>>, Error> {
    let parent = (
        sync_log::Column::TargetId,
        (|m: &sync_log::Model| Some(m.target_id)) as fn(&_) -> _,
    );
    pager::child_pages::<sync_log::Entity, _>(db, scope, parent, target_ids, args, limits).await
}
