//! The audit trail: who ran an import or sync, and reading the records back.

use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};

use crate::domain::pagination::{Page, PageLimits, PageRequest, paginate};
use crate::domain::scope::TenantScope;
use crate::entity::{import_run, sync_log};
use crate::error::Error;
use crate::ids::{ApiKeyId, ImportRunId, SourceId, SyncLogId, TargetId};

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

/// One of the tenant's import runs.
pub async fn get_import_run(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: ImportRunId,
) -> Result<import_run::Model, Error> {
    scope.get::<import_run::Entity, _>(db, id.0).await
}

/// One of the tenant's sync logs.
pub async fn get_sync_log(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SyncLogId,
) -> Result<sync_log::Model, Error> {
    scope.get::<sync_log::Entity, _>(db, id.0).await
}

/// A page of a source's import runs, oldest first.
pub async fn list_import_runs(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_id: Option<SourceId>,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<import_run::Model>, Error> {
    let mut select = scope.select::<import_run::Entity>();
    if let Some(source_id) = source_id {
        select = select.filter(import_run::Column::SourceId.eq(source_id.0));
    }
    paginate(db, select, import_run::Column::Id, request, limits).await
}

/// A page of sync logs, oldest first, optionally of one source or target.
pub async fn list_sync_logs(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_id: Option<SourceId>,
    target_id: Option<TargetId>,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<sync_log::Model>, Error> {
    let mut select = scope.select::<sync_log::Entity>();
    if let Some(source_id) = source_id {
        select = select.filter(sync_log::Column::SourceId.eq(source_id.0));
    }
    if let Some(target_id) = target_id {
        select = select.filter(sync_log::Column::TargetId.eq(target_id.0));
    }
    paginate(db, select, sync_log::Column::Id, request, limits).await
}
