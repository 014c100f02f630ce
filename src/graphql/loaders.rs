//! DataLoaders, made per request for one tenant, so a batch never crosses tenants and no cache
//! outlives the request.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;

use crate::domain::properties::source_properties_by_ids;
use crate::domain::scope::TenantScope;
use crate::entity::source_property;

/// Loads source listings by id, in one query per batch.
pub struct SourcePropertyLoader {
    db: DatabaseConnection,
    scope: TenantScope,
}

impl Loader<i64> for SourcePropertyLoader {
    type Value = source_property::Model;
    type Error = Arc<crate::error::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = source_properties_by_ids(&self.db, &self.scope, keys)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Source listings by id.
    pub source_properties: DataLoader<SourcePropertyLoader>,
}

impl Loaders {
    /// Fresh loaders for one request of `scope`'s tenant.
    pub fn new(db: &DatabaseConnection, scope: TenantScope) -> Self {
        Self {
            source_properties: DataLoader::new(
                SourcePropertyLoader {
                    db: db.clone(),
                    scope,
                },
                tokio::spawn,
            ),
        }
    }
}
