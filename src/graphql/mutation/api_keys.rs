//! `createApiKey`, `revokeApiKey`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::domain::api_keys::{self, ApiKeyScope, NewApiKey};
use crate::error::ApiResult;
use crate::graphql::context;
use crate::graphql::types::ApiKey;
use crate::ids::ApiKeyId;

/// A new API key for your tenant.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// What the key is for, e.g. `nightly scraper`.
    pub name: String,
    /// What it allows. `READ` is always granted; add `WRITE` for mutations.
    #[graphql(default_with = "vec![ApiKeyScope::Read, ApiKeyScope::Write]")]
    pub scopes: Vec<ApiKeyScope>,
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
    /// Creates an API key for your tenant.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let scope = context::scope(ctx)?;
        let created = api_keys::create_api_key(
            context::db(ctx),
            &scope,
            NewApiKey {
                name: input.name,
                scopes: input.scopes,
            },
        )
        .await
        .api()?;
        Ok(CreateApiKeyPayload {
            api_key: created.model.into(),
            key: created.key,
        })
    }

    /// Revokes one of your API keys: it stops authenticating at once. Revoking twice is harmless.
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
