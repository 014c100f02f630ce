//! `createTarget`, `updateTarget`, `deleteTarget`.

use crate::graphql::json::Json;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use serde_json::Value;

use crate::domain::targets::{self, NewTarget, TargetPatch};
use crate::entity::target;
use crate::error::ApiResult;
use crate::graphql::catalog::{self, CatalogChanges};
use crate::graphql::context;
use crate::graphql::types::Target;
use crate::graphql::types::enums::{ConflictPolicy, TargetKind};
use crate::ids::TargetId;

/// A new target.
#[derive(InputObject)]
pub struct CreateTargetInput {
    /// Name, unique in your tenant.
    pub name: String,
    /// What the target is.
    pub kind: TargetKind,
    /// Whether it accepts syncs.
    #[graphql(default = true)]
    pub active: bool,
    /// Free-form settings, a JSON object.
    pub config: Option<Json<Value>>,
    /// What a sync does with listings edited on the target by hand.
    #[graphql(default)]
    pub conflict_policy: ConflictPolicy,
}

/// Changes to a target; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateTargetInput {
    /// Global id of the target.
    pub id: ID,
    #[graphql(flatten)]
    pub changes: CatalogChanges<TargetKind>,
    /// New conflict policy.
    pub conflict_policy: Option<ConflictPolicy>,
}

/// The target to delete.
#[derive(InputObject)]
pub struct DeleteTargetInput {
    /// Global id of the target.
    pub id: ID,
}

/// The created or changed target.
#[derive(SimpleObject)]
pub struct TargetPayload {
    /// The target as it is now.
    pub target: Target,
}

/// What was deleted.
#[derive(SimpleObject)]
pub struct DeleteTargetPayload {
    /// Global id of the deleted target.
    pub deleted_target_id: ID,
}

#[derive(Default)]
pub struct TargetMutation;

#[Object]
impl TargetMutation {
    /// Creates a target.
    async fn create_target(
        &self,
        ctx: &Context<'_>,
        input: CreateTargetInput,
    ) -> async_graphql::Result<TargetPayload> {
        let scope = context::scope(ctx)?;
        let new = NewTarget {
            name: input.name,
            kind: input.kind.into(),
            active: input.active,
            config: input
                .config
                .map_or_else(|| Value::Object(Default::default()), |j| j.0),
            conflict_policy: input.conflict_policy.into(),
        };
        let model = targets::create_target(context::db(ctx), &scope, new)
            .await
            .api()?;
        Ok(TargetPayload {
            target: model.into(),
        })
    }

    /// Changes a target.
    async fn update_target(
        &self,
        ctx: &Context<'_>,
        input: UpdateTargetInput,
    ) -> async_graphql::Result<TargetPayload> {
        let scope = context::scope(ctx)?;
        let id = TargetId::from_global(&input.id, "input.id").api()?;
        let patch = TargetPatch {
            fields: input.changes.into_fields(),
            conflict_policy: input.conflict_policy.map(Into::into),
        };
        let model = targets::update_target(context::db(ctx), &scope, id, patch)
            .await
            .api()?;
        Ok(TargetPayload {
            target: model.into(),
        })
    }

    /// Deletes a target with all its listings, their snapshots, and its sync history.
    async fn delete_target(
        &self,
        ctx: &Context<'_>,
        input: DeleteTargetInput,
    ) -> async_graphql::Result<DeleteTargetPayload> {
        let deleted_target_id = catalog::delete_entry::<target::Entity>(ctx, &input.id).await?;
        Ok(DeleteTargetPayload { deleted_target_id })
    }
}
