//! The `serve --demo` data set: a tenant with sources, targets and listings to explore.

use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::domain::api_keys::{self, ApiKeyScope, NewApiKey};
use crate::domain::audit::Actor;
use crate::domain::import::{self, ImportMode, ImportOptions};
use crate::domain::pagination::{PageLimits, PageRequest};
use crate::domain::scope::TenantScope;
use crate::domain::sources::{self, NewSource, SourceKind};
use crate::domain::sync::{self, SyncOptions};
use crate::domain::targets::{self, ConflictPolicy, NewTarget, TargetKind};
use crate::domain::tenants::{self, NewTenant};
use crate::domain::{edits, properties};
use crate::error::Error;
use crate::ids::{SourceId, TargetId, TargetPropertyId};

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
    let scrape = sources::create_source(
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
    let mut website = None;
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
        let target = targets::create_target(
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
        website.get_or_insert(target.id);
    }
    let (source, target) = (SourceId(scrape.id), TargetId(website.unwrap_or_default()));
    seed_history(db, scope, source, target).await
}

/// A day of history: an import and a sync, a hand edit on the website, then a changed import
/// and a sync that flags that edit as a conflict.
async fn seed_history(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source: SourceId,
    target: TargetId,
) -> Result<(), Error> {
    let label = |i: usize| format!("demo listing {i}");
    let import = |prices: [i64; 6]| {
        let items = demo_listings(prices);
        import::import_listings(
            db,
            scope,
            source,
            items,
            &label,
            ImportOptions {
                mode: ImportMode::Full,
                dry_run: false,
                actor: Actor::Cli,
            },
        )
    };
    let sync = || {
        sync::sync_source_to_target(
            db,
            scope,
            source,
            target,
            SyncOptions {
                dry_run: false,
                actor: Actor::Cli,
            },
        )
    };
    import([385_000, 540_000, 1_250, 219_000, 760_000, 1_890]).await?;
    sync().await?;
    let page = properties::list_target_properties(
        db,
        scope,
        target,
        PageRequest::default(),
        PageLimits::default(),
    )
    .await?;
    if let Some(loft) = page.items.iter().find(|p| p.external_id == "demo-3") {
        edits::update_target_property(
            db,
            scope,
            TargetPropertyId(loft.id),
            json!({ "price": 1_190, "badge": "Price drop!" }),
        )
        .await?;
    }
    import([379_000, 540_000, 1_290, 219_000, 749_000, 1_890]).await?;
    sync().await?;
    Ok(())
}

/// Six listings of the demo scrape, with the given prices.
fn demo_listings(prices: [i64; 6]) -> Vec<serde_json::Value> {
    let homes = [
        (
            "Bright two-bedroom flat near the canal",
            "Amsterdam",
            "sale",
            2,
            68,
        ),
        ("Family house with garden", "Utrecht", "sale", 4, 142),
        (
            "Furnished loft in the old harbour",
            "Rotterdam",
            "rent",
            1,
            55,
        ),
        ("Studio close to the university", "Leiden", "sale", 1, 31),
        (
            "Villa with a view of the dunes",
            "Bloemendaal",
            "sale",
            5,
            260,
        ),
        ("Penthouse with roof terrace", "The Hague", "rent", 3, 118),
    ];
    homes
        .iter()
        .zip(prices)
        .enumerate()
        .map(|(i, ((title, city, deal, bedrooms, area), price))| {
            json!({
                "id": format!("demo-{}", i + 1),
                "title": title,
                "deal": deal,
                "price": price,
                "currency": "EUR",
                "address": { "city": city, "country": "NL" },
                "bedrooms": bedrooms,
                "area_m2": area,
                "features": ["balcony", "bike storage"],
                "images": [format!("https://img.example/demo-{}/1.jpg", i + 1)],
            })
        })
        .collect()
}
