//! `SourceProperty` and `TargetProperty`: one listing as a source saw it and as a target holds it.

use crate::graphql::json::Json;
use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::merge;
use crate::entity::{source_property, target_property};
use crate::error::ApiResult;
use crate::graphql::args::child_args;
use crate::graphql::connection::connection_types;
use crate::graphql::connection_lists::{GlobalId, scalar_fields};
use crate::graphql::context;
use crate::graphql::loaders::{child_page, one_by_id};
use crate::graphql::types::{ResolutionRecord, SourceSnapshotConnection, TargetSnapshotConnection};
use crate::ids::{SourceId, SourcePropertyId, TargetId, TargetPropertyId};
use crate::store::json_path::JsonPath;

/// A listing as its source last saw it.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct SourceProperty {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: GlobalId,
    /// The listing's id at the source (the value of the source's `id_field`).
    pub external_id: String,
    /// SHA-256 (hex) of the listing's canonical JSON (RFC 8785, with numbers a double would
    /// round written exactly: see the README).
    pub content_hash: String,
    /// When a full import last missed it; null while the source lists it.
    pub removed_at: Option<DateTime<Utc>>,
    /// First imported.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Global id of its source.
    pub source_id: GlobalId,
    #[graphql(skip)]
    pub(crate) key: i64,
    #[graphql(skip)]
    pub(crate) data: Value,
}

impl From<source_property::Model> for SourceProperty {
    fn from(model: source_property::Model) -> Self {
        Self {
            id: GlobalId::new(SourcePropertyId::TYPE_NAME, model.id),
            key: model.id,
            source_id: GlobalId::new(SourceId::TYPE_NAME, model.source_id),
            external_id: model.external_id,
            data: model.data,
            content_hash: model.content_hash,
            removed_at: model.removed_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

/// `value` with only the top-level `fields` (all of it when `None`).
fn project(value: &Value, fields: Option<&[String]>) -> Value {
    match (value, fields) {
        (Value::Object(map), Some(fields)) => Value::Object(
            fields
                .iter()
                .filter_map(|f| map.get(f).map(|v| (f.clone(), v.clone())))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// The value at a dotted path of `value`.
fn value_at(value: &Value, path: &str) -> async_graphql::Result<Option<Json<Value>>> {
    let path = JsonPath::parse("path", path).api()?;
    Ok(path.get(value).cloned().map(Json))
}

/// Declares the `#[ComplexObject]` impl of a listing type: the JSON resolvers both sides share
/// (`data`, `field`), then the side's own resolvers, then its nested connections, each read
/// through a child-page loader (with the descriptions of `first`, `after`, `last`, `before`).
/// Only documentation and names differ by side.
macro_rules! listing_resolvers {
    (
        $listing:ident;
        data: $(#[doc = $data:tt])*
        field: $(#[doc = $field:tt])*
        own: { $($own:tt)* }
        connections: {$(
            $(#[doc = $doc:tt])*
            $name:ident: $connection:ident from $pages:ident,
            [$first:tt, $after:tt, $last:tt, $before:tt];
        )*}
    ) => {
        #[ComplexObject]
        impl $listing {
            $(#[doc = $data])*
            async fn data(
                &self,
                #[graphql(desc = "Top-level keys to return; all when absent.")]
                fields: Option<Vec<String>>,
            ) -> Json<Value> {
                Json(project(&self.data, fields.as_deref()))
            }

            $(#[doc = $field])*
            async fn field(
                &self,
                #[graphql(desc = "Dotted path of the value.")] path: String,
            ) -> async_graphql::Result<Option<Json<Value>>> {
                value_at(&self.data, &path)
            }

            $($own)*

            $(
                $(#[doc = $doc])*
                #[graphql(
                    complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)"
                )]
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    #[graphql(desc = $first)] first: Option<i32>,
                    #[graphql(desc = $after)] after: Option<String>,
                    #[graphql(desc = $last)] last: Option<i32>,
                    #[graphql(desc = $before)] before: Option<String>,
                ) -> async_graphql::Result<$connection> {
                    let args = child_args(ctx, first, after, last, before, None).api()?;
                    let page = child_page(&context::loaders(ctx)?.$pages, self.key, args).await?;
                    Ok($connection::from_page(page))
                }
            )*
        }
    };
}

listing_resolvers! {
    SourceProperty;
    data:
    /// The listing JSON. With `fields`, only those top-level keys (missing ones are left out).
    field:
    /// One value of the listing JSON by dotted path (`price`, `address.city`, `images.0`);
    /// null when absent.
    own: {}
    connections: {
        /// Versions this listing had before an import replaced them, oldest first.
        snapshots: SourceSnapshotConnection from source_snapshot_pages, [
            "Return the first N snapshots.",
            "Return snapshots after this cursor.",
            "Return the last N snapshots.",
            "Return snapshots before this cursor."
        ];
        /// The target listings synced from this listing, oldest first.
        target_properties: TargetPropertyConnection from target_properties_of_source, [
            "Return the first N target listings.",
            "Return target listings after this cursor.",
            "Return the last N target listings.",
            "Return target listings before this cursor."
        ];
    }
}

/// A listing as a target holds it.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct TargetProperty {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: GlobalId,
    /// The listing's id (the same as at the source).
    pub external_id: String,
    /// SHA-256 (hex) of the listing's canonical JSON.
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
    pub target_id: GlobalId,
    /// How its last conflict was resolved, when and by whom; null if it never had one
    /// resolved. A resolution that keeps the data (`KEEP_TARGET`) leaves no snapshot, so this
    /// is its record.
    pub last_resolution: Option<ResolutionRecord>,
    /// Increases by one on every change of the listing: a hand edit, a sync update, a removal
    /// mark, a conflict flag or resolution, a restored snapshot. Send the version you read as
    /// `expectedVersion` to `updateTargetProperty`, `resolveConflict` or `restoreSnapshot`:
    /// if someone changed the listing since, you get `STALE_VERSION` (with
    /// `extensions.currentVersion`) instead of overwriting their change. Starts at 1.
    pub version: i64,
    /// Dotted paths of the fields edited by hand (`["address.city", "title"]`), sorted: the
    /// paths each `updateTargetProperty` patch touched (a `null` that removes a field
    /// included; an array is one path), added up since the listing last followed its source.
    /// A conflict resolution sets them to the fields where the listing differs from the
    /// source (none after `ACCEPT_SOURCE`); a `MERGE` keeps the person's values there.
    pub edited_paths: Vec<String>,
    #[graphql(skip)]
    pub(crate) key: i64,
    #[graphql(skip)]
    pub(crate) source_key: Option<i64>,
    #[graphql(skip)]
    pub(crate) data: Value,
}

impl From<target_property::Model> for TargetProperty {
    fn from(model: target_property::Model) -> Self {
        Self {
            id: GlobalId::new(TargetPropertyId::TYPE_NAME, model.id),
            key: model.id,
            source_key: model.source_property_id,
            target_id: GlobalId::new(TargetId::TYPE_NAME, model.target_id),
            external_id: model.external_id,
            edited_paths: merge::stored_paths(&model.edited_paths),
            data: model.data,
            content_hash: model.content_hash,
            base_hash: model.base_hash,
            manually_modified: model.manually_modified,
            manual_changed_at: model.manual_changed_at,
            has_conflict: model.conflict,
            removed_at: model.removed_at,
            last_synced_at: model.last_synced_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
            version: model.version,
            last_resolution: ResolutionRecord::of(
                model.resolution.map(Into::into),
                model.resolved_at,
                model.resolved_by,
            ),
        }
    }
}

listing_resolvers! {
    TargetProperty;
    data:
    /// The listing JSON as the target holds it (hand edits included). With `fields`, only
    /// those top-level keys.
    field:
    /// One value of the listing JSON by dotted path; null when absent.
    own: {
        /// The source listing it was last synced from.
        async fn source_property(
            &self,
            ctx: &Context<'_>,
        ) -> async_graphql::Result<Option<SourceProperty>> {
            let Some(key) = self.source_key else {
                return Ok(None);
            };
            one_by_id(&context::loaders(ctx)?.source_properties, key).await
        }
    }
    connections: {
        /// Versions this listing had before a sync, a hand edit or a resolution replaced them,
        /// oldest first.
        snapshots: TargetSnapshotConnection from target_snapshot_pages, [
            "Return the first N snapshots.",
            "Return snapshots after this cursor.",
            "Return the last N snapshots.",
            "Return snapshots before this cursor."
        ];
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

scalar_fields!(SourceProperty {
    "id" => id,
    "externalId" => external_id,
    "contentHash" => content_hash,
    "removedAt" => removed_at,
    "createdAt" => created_at,
    "updatedAt" => updated_at,
    "sourceId" => source_id,
});

scalar_fields!(TargetProperty {
    "id" => id,
    "externalId" => external_id,
    "contentHash" => content_hash,
    "baseHash" => base_hash,
    "manuallyModified" => manually_modified,
    "manualChangedAt" => manual_changed_at,
    "hasConflict" => has_conflict,
    "removedAt" => removed_at,
    "lastSyncedAt" => last_synced_at,
    "createdAt" => created_at,
    "updatedAt" => updated_at,
    "targetId" => target_id,
    "version" => version,
    "editedPaths" => edited_paths,
});
