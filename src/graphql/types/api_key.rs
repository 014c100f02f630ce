//! `ApiKey`: a credential of the tenant, as it may be shown (never the key itself).

use async_graphql::{ComplexObject, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::api_keys;
use crate::entity::api_key;
use crate::error::ApiResult;
use crate::graphql::connection::connection_types;
use crate::graphql::connection_lists::scalar_fields;
use crate::graphql::types::enums::ApiKeyScope;
use crate::ids::{ApiKeyId, SourceId, TargetId};

/// An API key of your tenant. The key itself is shown once, when it is created; after that
/// only its prefix identifies it.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct ApiKey {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: ID,
    /// What the key is for.
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    /// The row, for the fields read from it.
    #[graphql(skip)]
    pub model: api_key::Model,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked key no longer authenticates.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it stops authenticating (as if revoked); null for never.
    pub expires_at: Option<DateTime<Utc>>,
}

#[ComplexObject]
impl ApiKey {
    /// What the key allows, e.g. `[READ, IMPORT]` for a scraper's key. `READ` is always there.
    async fn scopes(&self) -> async_graphql::Result<Vec<ApiKeyScope>> {
        let scopes = api_keys::ApiKeyScope::of(&self.model).api()?;
        Ok(scopes.into_iter().map(Into::into).collect())
    }

    /// The only sources the key sees and changes, e.g. `["U291cmNlOjE="]`; null when it is
    /// not limited to some sources.
    async fn source_ids(&self) -> async_graphql::Result<Option<Vec<ID>>> {
        let (sources, _) = api_keys::limits_of(&self.model).api()?;
        Ok(sources.map(|ids| ids.iter().map(|id| ID(SourceId(*id).to_global())).collect()))
    }

    /// The only targets the key sees and changes; null when it is not limited to some targets.
    async fn target_ids(&self) -> async_graphql::Result<Option<Vec<ID>>> {
        let (_, targets) = api_keys::limits_of(&self.model).api()?;
        Ok(targets.map(|ids| ids.iter().map(|id| ID(TargetId(*id).to_global())).collect()))
    }
}

impl From<api_key::Model> for ApiKey {
    fn from(model: api_key::Model) -> Self {
        Self {
            id: ID(ApiKeyId(model.id).to_global()),
            name: model.name.clone(),
            prefix: model.prefix.clone(),
            created_at: model.created_at,
            last_used_at: model.last_used_at,
            revoked_at: model.revoked_at,
            expires_at: model.expires_at,
            model,
        }
    }
}

connection_types!(ApiKeyConnection, ApiKeyEdge, ApiKey, "API keys");

scalar_fields!(ApiKey {
    "id" => id,
    "name" => name,
    "prefix" => prefix,
    "createdAt" => created_at,
    "lastUsedAt" => last_used_at,
    "revokedAt" => revoked_at,
    "expiresAt" => expires_at,
});
