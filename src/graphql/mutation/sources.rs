//! `createSource`, `updateSource`, `deleteSource`.

use crate::graphql::json::Json;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use serde_json::Value;

use crate::domain::sources::{self, NewSource};
use crate::entity::source;
use crate::error::ApiResult;
use crate::graphql::catalog::{self, CatalogChanges};
use crate::graphql::context;
use crate::graphql::types::Source;
use crate::graphql::types::enums::SourceKind;
use crate::ids::SourceId;

/// A new source.
#[derive(InputObject)]
pub struct CreateSourceInput {
    /// Name, unique in your tenant.
    pub name: String,
    /// How its listings arrive.
    pub kind: SourceKind,
    /// Whether it accepts imports and syncs.
    #[graphql(default = true)]
    pub active: bool,
    /// Settings, a JSON object. `id_field` (default `"id"`) names the field that identifies a listing.
    pub config: Option<Json<Value>>,
}

/// Changes to a source; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateSourceInput {
    /// Global id of the source.
    pub id: ID,
    #[graphql(flatten)]
    pub changes: CatalogChanges<SourceKind>,
}

/// The source to delete.
#[derive(InputObject)]
pub struct DeleteSourceInput {
    /// Global id of the source.
    pub id: ID,
}

/// The created or changed source.
#[derive(SimpleObject)]
pub struct SourcePayload {
    /// The source as it is now.
    pub source: Source,
}

/// What was deleted.
#[derive(SimpleObject)]
pub struct DeleteSourcePayload {
    /// Global id of the deleted source.
    pub deleted_source_id: ID,
}

#[derive(Default)]
pub struct SourceMutation;

#[Object]
impl SourceMutation {
    /// Creates a source.
    async fn create_source(
        &self,
        ctx: &Context<'_>,
        input: CreateSourceInput,
    ) -> async_graphql::Result<SourcePayload> {
        let scope = context::scope(ctx)?;
        let new = NewSource {
            name: input.name,
            kind: input.kind.into(),
            active: input.active,
            config: input
                .config
                .map_or_else(|| Value::Object(Default::default()), |j| j.0),
        };
        let model = sources::create_source(context::db(ctx), &scope, new)
            .await
            .api()?;
        Ok(SourcePayload {
            source: model.into(),
        })
    }

    /// Changes a source.
    async fn update_source(
        &self,
        ctx: &Context<'_>,
        input: UpdateSourceInput,
    ) -> async_graphql::Result<SourcePayload> {
        let scope = context::scope(ctx)?;
        let id = SourceId::from_global(&input.id, "input.id").api()?;
        let patch = input.changes.into_fields();
        let model = sources::update_source(context::db(ctx), &scope, id, patch)
            .await
            .api()?;
        Ok(SourcePayload {
            source: model.into(),
        })
    }

    /// Deletes a source with all its listings, their snapshots, and its import history.
    async fn delete_source(
        &self,
        ctx: &Context<'_>,
        input: DeleteSourceInput,
    ) -> async_graphql::Result<DeleteSourcePayload> {
        let deleted_source_id = catalog::delete_entry::<source::Entity>(ctx, &input.id).await?;
        Ok(DeleteSourcePayload { deleted_source_id })
    }
}
