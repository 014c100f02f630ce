//! The `serve --demo` data set: a tenant with sources, targets and listings to explore.

use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::domain::api_keys::{self, ApiKeyScope, NewApiKey};
use crate::domain::scope::TenantScope;
use crate::domain::sources::{self, NewSource, SourceKind};
use crate::domain::targets::{self, ConflictPolicy, NewTarget, TargetKind};
use crate::domain::tenants::{self, NewTenant};
use crate::error::Error;

/// Slug of the demo tenant.
pub const DEMO_SLUG: &str = "demo";

/// The demo tenant, ready to explore.
#[derive(Debug)]
pub struct Demo {
    /// A fresh API key of the demo tenant (keys are shown once, so each start makes one).
    pub api_key: String,
}

/// Creates the demo tenant and its data on first use; later calls only add a new key.
pub async fn seed(db: &DatabaseConnection) -> Result<Demo, Error> {
    match tenants::scope_for_cli(db, DEMO_SLUG).await {
        Ok(scope) => {
            let created = api_keys::create_api_key(
                db,
                &scope,
                NewApiKey {
                    name: "serve --demo".into(),
                    scopes: vec![ApiKeyScope::Read, ApiKeyScope::Write],
                },
            )
            .await?;
            Ok(Demo {
                api_key: created.key,
            })
        }
        Err(Error::NotFound { .. }) => {
            let created = tenants::create_tenant(
                db,
                NewTenant {
                    name: "Demo Agency".into(),
                    slug: Some(DEMO_SLUG.into()),
                },
            )
            .await?;
            let scope = tenants::scope_for_cli(db, DEMO_SLUG).await?;
            seed_catalog(db, &scope).await?;
            Ok(Demo {
                api_key: created.api_key.key,
            })
        }
        Err(err) => Err(err),
    }
}

async fn seed_catalog(db: &DatabaseConnection, scope: &TenantScope) -> Result<(), Error> {
    sources::create_source(
        db,
        scope,
        NewSource {
            name: "Nightly portal scrape".into(),
            kind: SourceKind::Scraped,
            active: true,
            config: json!({ "id_field": "id", "schedule": "0 3 * * *" }),
        },
    )
    .await?;
    sources::create_source(
        db,
        scope,
        NewSource {
            name: "Partner JSON feed".into(),
            kind: SourceKind::Json,
            active: true,
            config: json!({ "id_field": "ref" }),
        },
    )
    .await?;
    for (name, kind, config) in [
        (
            "Agency website",
            TargetKind::Website,
            json!({ "url": "https://demo-agency.example" }),
        ),
        (
            "Partner API",
            TargetKind::Api,
            json!({ "endpoint": "https://partner.example/api" }),
        ),
    ] {
        targets::create_target(
            db,
            scope,
            NewTarget {
                name: name.into(),
                kind,
                active: true,
                config,
                conflict_policy: ConflictPolicy::Flag,
            },
        )
        .await?;
    }
    Ok(())
}
