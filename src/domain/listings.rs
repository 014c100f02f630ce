//! Reading listings: a source's and a target's, one at a time or a page at a time.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::entity::{source_property, target_property};
use crate::error::Error;
use crate::ids::{SourcePropertyId, TargetId, TargetPropertyId};
use crate::store::json_path::JsonPath;
use crate::store::key_columns::{self, KeyColumns};
use crate::store::listing_filter::{ListingSide, SortBy};
use crate::store::pager::{
    self, ChildArgs, Page, PageLimits, PageQuery, PageRequest, PagedEntity, ParentColumn, Parents,
};
use crate::store::read_session::Reads;
use crate::store::scope::TenantScope;

/// One of the tenant's source listings.
pub(crate) async fn get_source_property<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    id: SourcePropertyId,
) -> Result<source_property::Model, Error> {
    scope.get::<source_property::Entity, _>(db, id.0).await
}

/// One of the tenant's target listings.
pub(crate) async fn get_target_property<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    id: TargetPropertyId,
) -> Result<target_property::Model, Error> {
    scope.get::<target_property::Entity, _>(db, id.0).await
}

/// A page of a target's listings, oldest first.
pub(crate) async fn list_target_properties(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    target_id: TargetId,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<target_property::Model>, Error> {
    let select = scope
        .select::<target_property::Entity>()
        .filter(target_property::Column::TargetId.eq(target_id.0));
    pager::page(db, select, &request, limits).await
}

/// The tenant's source listings with these ids (for batched loading); unknown ids are skipped.
pub(crate) async fn source_properties_by_ids(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<Vec<source_property::Model>, Error> {
    scope.get_many::<source_property::Entity, _>(db, ids).await
}

/// One page of listings under each of many sources, in one statement.
pub(crate) async fn source_property_pages(
    db: &impl Reads,
    scope: &TenantScope,
    source_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<source_property::Model>>, Error> {
    listing_pages::<source_property::Entity>(
        db,
        scope,
        source_ids,
        args,
        limits,
        (source_property::Column::SourceId, |m| Some(m.source_id)),
        ListingSide::Source,
    )
    .await
}

/// One page of listings under each of many targets, in one statement.
pub(crate) async fn target_property_pages(
    db: &impl Reads,
    scope: &TenantScope,
    target_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<target_property::Model>>, Error> {
    listing_pages::<target_property::Entity>(
        db,
        scope,
        target_ids,
        args,
        limits,
        (target_property::Column::TargetId, |m| Some(m.target_id)),
        ListingSide::Target,
    )
    .await
}

/// The target listings synced from each of many source listings, in one statement.
pub(crate) async fn target_properties_of_source_properties(
    db: &impl Reads,
    scope: &TenantScope,
    source_property_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<target_property::Model>>, Error> {
    listing_pages::<target_property::Entity>(
        db,
        scope,
        source_property_ids,
        args,
        limits,
        (target_property::Column::SourcePropertyId, |m| {
            m.source_property_id
        }),
        ListingSide::Target,
    )
    .await
}

/// One page of listings of entity `E` under each parent, filtered and ordered as `args` says.
/// On PostgreSQL the paths with a stored key column in the table are read from it
/// ([`key_columns`]); a column dropped since this process last looked is looked up again.
async fn listing_pages<E>(
    db: &impl Reads,
    scope: &TenantScope,
    ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
    parent: ParentColumn<E>,
    side: ListingSide,
) -> Result<HashMap<i64, Page<E::Model>>, Error>
where
    E: crate::store::scope::TenantOwned + PagedEntity,
{
    args.filter.validate()?;
    let read = |keys: Arc<KeyColumns>| async move {
        let stored = |path: &JsonPath| keys.has(side, path);
        let filter = args.filter.reading_key_columns(stored);
        let sort = args.sort.reading_key_columns(stored);
        let query = PageQuery {
            rows: scope
                .select::<E>()
                .filter(filter.condition(db.get_database_backend(), side)),
            parents: Parents::Each {
                column: parent.0,
                of: parent.1,
                ids,
            },
            sort: &sort,
            skip_data: !args.with_data,
            skip_sort_key: args.without_cursors,
            unread: &args.unread,
            keys_present: match &sort.by {
                SortBy::Path(path) => filter.keeps_only_values_at(path),
                _ => false,
            },
        };
        pager::pages(db, &query, &args.request, limits).await
    };
    let pool = db.pool();
    match read(key_columns::of(pool).await?).await {
        Err(err) if key_columns::is_missing_key_column(&err) => {
            key_columns::forget(pool);
            read(key_columns::of(pool).await?).await
        }
        answer => answer,
    }
}
