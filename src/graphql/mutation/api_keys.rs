//! `createApiKey`, `revokeApiKey`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::api_keys::{self, NewApiKey};
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::types::ApiKey;
use crate::graphql::types::enums::ApiKeyScope;
use crate::ids::{ApiKeyId, SourceId, TargetId};

/// A new API key for your tenant, with the least rights its user needs. A scraper's key:
/// `{ name: "nightly scraper", scopes: [IMPORT], sourceIds: ["U291cmNlOjE="] }`; a website's
/// read-only key: `{ name: "website", scopes: [READ], targetIds: ["VGFyZ2V0OjE="] }`.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// What the key is for, e.g. `nightly scraper`.
    pub name: String,
    /// What it allows. `READ` is always granted; `IMPORT`, `SYNC`, `EDIT` and `ADMIN` each
    /// allow one kind of change, `WRITE` all of them. A key cannot make a key with a scope it
    /// lacks (`FORBIDDEN`).
    #[graphql(default_with = "vec![ApiKeyScope::Read, ApiKeyScope::Write]")]
    pub scopes: Vec<ApiKeyScope>,
    /// Limit the key to these sources (global ids): others behave as if they did not exist.
    /// Absent or empty: all sources (only for a creating key that is not limited itself).
    pub source_ids: Option<Vec<ID>>,
    /// Limit the key to these targets (global ids). Absent or empty: all targets.
    pub target_ids: Option<Vec<ID>>,
    /// When the key stops authenticating, e.g. `2027-01-31T00:00:00Z`; must lie ahead. Absent:
    /// never (only for a creating key that does not expire itself).
    pub expires_at: Option<DateTime<Utc>>,
}

/// The new key.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The key as it will be listed.
    pub api_key: ApiKey,
    /// The key itself. It is shown only this once: store it now.
    pub key: String,
}

/// The key to revoke.
#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    /// Global id of the key.
    pub id: ID,
}

/// The revoked key.
#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    /// The key, with `revokedAt` set.
    pub api_key: ApiKey,
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates an API key for your tenant. Needs the `ADMIN` scope; the new key gets no more
    /// than the key that creates it (scopes, sources and targets, expiry), else `FORBIDDEN`.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let scope = context::scope(ctx)?;
        let source_ids = input
            .source_ids
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, id)| SourceId::from_global(id, &format!("input.sourceIds[{i}]")))
            .collect::<Result<_, _>>()
            .api()?;
        let target_ids = input
            .target_ids
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, id)| TargetId::from_global(id, &format!("input.targetIds[{i}]")))
            .collect::<Result<_, _>>()
            .api()?;
        let created = api_keys::create_api_key(
            context::db(ctx),
            &scope,
            NewApiKey {
                name: input.name,
                scopes: input.scopes.into_iter().map(Into::into).collect(),
                source_ids,
                target_ids,
                expires_at: input.expires_at,
            },
        )
        .await
        .api()?;
        Ok(CreateApiKeyPayload {
            api_key: created.model.into(),
            key: created.key,
        })
    }

    /// Revokes one of your API keys: it stops authenticating at once. Revoking twice is
    /// harmless. Needs the `ADMIN` scope and every right the revoked key has.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiKeyInput,
    ) -> async_graphql::Result<RevokeApiKeyPayload> {
        let scope = context::scope(ctx)?;
        let id = ApiKeyId::from_global(&input.id, "input.id").api()?;
        let model = api_keys::revoke_api_key(context::db(ctx), &scope, id)
            .await
            .api()?;
        Ok(RevokeApiKeyPayload {
            api_key: model.into(),
        })
    }
}
