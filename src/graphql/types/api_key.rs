//! `ApiKey`: a credential of the tenant, as it may be shown (never the key itself).

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::api_keys::ApiKeyScope;
use crate::entity::api_key;
use crate::graphql::connection::connection_types;
use crate::graphql::fast::scalar_fields;
use crate::ids::ApiKeyId;

/// An API key of your tenant. The key itself is shown once, when it is created; after that
/// only its prefix identifies it.
#[derive(Clone, Debug, SimpleObject)]
pub struct ApiKey {
    /// Opaque global id.
    #[graphql(owned)]
    pub id: ID,
    /// What the key is for.
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    /// What the key allows.
    pub scopes: Vec<ApiKeyScope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked key no longer authenticates.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(model: api_key::Model) -> Self {
        Self {
            id: ID(ApiKeyId(model.id).to_global()),
            scopes: ApiKeyScope::of(&model),
            name: model.name,
            prefix: model.prefix,
            created_at: model.created_at,
            last_used_at: model.last_used_at,
            revoked_at: model.revoked_at,
        }
    }
}

connection_types!(ApiKeyConnection, ApiKeyEdge, ApiKey, "API keys");

scalar_fields!(ApiKey {
    "id" => id,
    "name" => name,
    "prefix" => prefix,
    "scopes" => scopes,
    "createdAt" => created_at,
    "lastUsedAt" => last_used_at,
    "revokedAt" => revoked_at,
});
