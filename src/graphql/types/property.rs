//! `SourceProperty` and `TargetProperty`: one listing as a source saw it and as a target holds it.

use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::snapshots;
use crate::entity::{source_property, target_property};
use crate::error::{ApiResult, Error};
use crate::graphql::connection::{connection_types, page_request};
use crate::graphql::context;
use crate::graphql::types::{SourceSnapshotConnection, TargetSnapshotConnection};
use crate::ids::{SourceId, SourcePropertyId, TargetId, TargetPropertyId};

/// A listing as its source last saw it.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct SourceProperty {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: ID,
    /// The listing's id at the source (the value of the source's `id_field`).
    pub external_id: String,
    /// The listing as imported.
    pub data: Json<Value>,
    /// SHA-256 (hex) of the listing's canonical JSON (RFC 8785).
    pub content_hash: String,
    /// When a full import last missed it; null while the source lists it.
    pub removed_at: Option<DateTime<Utc>>,
    /// First imported.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Global id of its source.
    pub source_id: ID,
    #[graphql(skip)]
    pub(crate) key: i64,
}

impl From<source_property::Model> for SourceProperty {
    fn from(model: source_property::Model) -> Self {
        Self {
            id: ID(SourcePropertyId(model.id).to_global()),
            key: model.id,
            source_id: ID(SourceId(model.source_id).to_global()),
            external_id: model.external_id,
            data: Json(model.data),
            content_hash: model.content_hash,
            removed_at: model.removed_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

#[ComplexObject]
impl SourceProperty {
    /// Versions this listing had before an import replaced them, oldest first.
    async fn snapshots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N snapshots.")] first: Option<i32>,
        #[graphql(desc = "Return snapshots after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N snapshots.")] last: Option<i32>,
        #[graphql(desc = "Return snapshots before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<SourceSnapshotConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request(first, after, last, before).api()?;
        let page = snapshots::list_source_snapshots(
            context::db(ctx),
            &scope,
            SourcePropertyId(self.key),
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(SourceSnapshotConnection::from_page(page, |m| m.id))
    }
}

/// A listing as a target holds it.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct TargetProperty {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: ID,
    /// The listing's id (the same as at the source).
    pub external_id: String,
    /// The listing as the target holds it (hand edits included).
    pub data: Json<Value>,
    /// SHA-256 (hex) of `data`'s canonical JSON.
    pub content_hash: String,
    /// The source's content hash at the last sync: when the source's hash differs, the source
    /// changed since.
    pub base_hash: Option<String>,
    /// Edited by hand: syncs do not overwrite it.
    pub manually_modified: bool,
    /// When it was last edited by hand.
    pub manual_changed_at: Option<DateTime<Utc>>,
    /// The source changed after a hand edit: a person should resolve it (`resolveConflict`).
    pub has_conflict: bool,
    /// When the source removed it; null while it is listed.
    pub removed_at: Option<DateTime<Utc>>,
    /// When a sync last wrote it.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// First synced.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Global id of its target.
    pub target_id: ID,
    #[graphql(skip)]
    pub(crate) key: i64,
    #[graphql(skip)]
    pub(crate) source_key: Option<i64>,
}

impl From<target_property::Model> for TargetProperty {
    fn from(model: target_property::Model) -> Self {
        Self {
            id: ID(TargetPropertyId(model.id).to_global()),
            key: model.id,
            source_key: model.source_property_id,
            target_id: ID(TargetId(model.target_id).to_global()),
            external_id: model.external_id,
            data: Json(model.data),
            content_hash: model.content_hash,
            base_hash: model.base_hash,
            manually_modified: model.manually_modified,
            manual_changed_at: model.manual_changed_at,
            has_conflict: model.conflict,
            removed_at: model.removed_at,
            last_synced_at: model.last_synced_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

#[ComplexObject]
impl TargetProperty {
    /// The source listing it was last synced from (batched).
    async fn source_property(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<SourceProperty>> {
        let Some(key) = self.source_key else {
            return Ok(None);
        };
        let loaders = context::loaders(ctx)?;
        let found =
            loaders.source_properties.load_one(key).await.map_err(
                |err: std::sync::Arc<Error>| async_graphql::ErrorExtensions::extend(&*err),
            )?;
        Ok(found.map(SourceProperty::from))
    }

    /// Versions this listing had before a sync, a hand edit or a resolution replaced them,
    /// oldest first.
    async fn snapshots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N snapshots.")] first: Option<i32>,
        #[graphql(desc = "Return snapshots after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N snapshots.")] last: Option<i32>,
        #[graphql(desc = "Return snapshots before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<TargetSnapshotConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request(first, after, last, before).api()?;
        let page = snapshots::list_target_snapshots(
            context::db(ctx),
            &scope,
            TargetPropertyId(self.key),
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(TargetSnapshotConnection::from_page(page, |m| m.id))
    }
}

connection_types!(
    SourcePropertyConnection,
    SourcePropertyEdge,
    SourceProperty,
    "source listings"
);
connection_types!(
    TargetPropertyConnection,
    TargetPropertyEdge,
    TargetProperty,
    "target listings"
);
