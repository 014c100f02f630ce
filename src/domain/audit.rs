//! The audit trail: who ran an import or sync, and reading the records back.

use std::collections::HashMap;

use sea_orm::DatabaseConnection;

use crate::domain::children::{ChildArgs, ChildPage, ChildQuery, pages_under_parents};
use crate::domain::list_filter::SyncLogFilter;
use crate::domain::pagination::{Page, PageLimits, PageRequest, paginate};
use crate::domain::scope::TenantScope;
use crate::entity::{import_run, sync_log};
use crate::error::Error;
use crate::ids::ApiKeyId;

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
    pub fn label(&self) -> String {
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
pub async fn list_sync_logs(
    db: &DatabaseConnection,
    scope: &TenantScope,
    filter: &SyncLogFilter,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<sync_log::Model>, Error> {
    let select = filter.apply(scope.select::<sync_log::Entity>());
    paginate(db, select, sync_log::Column::Id, request, limits).await
}

/// One page of import runs under each of many sources, in one statement.
pub(crate) async fn import_run_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<import_run::Model>>, Error> {
    let query = ChildQuery::<import_run::Entity> {
        parent_col: import_run::Column::SourceId,
        parent_of: |m| Some(m.source_id),
        filter: sea_orm::Condition::all(),
        sort: &args.sort,
        request: &args.request,
        with_total: args.with_total,
        skip_data: false,
    };
    pages_under_parents(db, scope, query, source_ids, limits).await
}

/// One page of sync logs under each of many targets, in one statement.
pub(crate) async fn sync_log_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    target_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<sync_log::Model>>, Error> {
    let query = ChildQuery::<sync_log::Entity> {
        parent_col: sync_log::Column::TargetId,
        parent_of: |m| Some(m.target_id),
        filter: sea_orm::Condition::all(),
        sort: &args.sort,
        request: &args.request,
        with_total: args.with_total,
        skip_data: false,
    };
    pages_under_parents(db, scope, query, target_ids, limits).await
}
