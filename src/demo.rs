//! The `serve --demo` data set: a tenant with sources, targets and listings to explore.

use std::path::Path;

use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::domain::api_keys::{self, ApiKeyScope, NewApiKey};
use crate::domain::audit::Actor;
use crate::domain::import::{self, ImportMode, ImportOptions};
use crate::domain::sources::{self, NewSource, SourceKind};
use crate::domain::sync::{self, SyncOptions};
use crate::domain::targets::{self, ConflictPolicy, NewTarget, TargetKind};
use crate::domain::tenants::{self, NewTenant};
use crate::domain::{edits, listings};
use crate::error::Error;
use crate::ids::{SourceId, TargetId, TargetPropertyId};
use crate::store::pager::{PageLimits, PageRequest};
use crate::store::scope::TenantScope;

/// Slug of the demo tenant.
pub(crate) const DEMO_SLUG: &str = "demo";

/// Where `serve --demo` keeps its key between starts, in the working directory: only the
/// key's SHA-256 is in the database, so the key itself must be kept somewhere to be reused.
pub(crate) const DEMO_KEY_FILE: &str = "sync-manager-demo.key";

/// The demo tenant, ready to explore.
#[derive(Debug)]
pub struct Demo {
    /// A read-write API key of the demo tenant.
    pub api_key: String,
    /// Whether the key was made by this start (else it was read back from the key file).
    pub(crate) new_key: bool,
    /// Why the key could not be kept in the key file, if it could not.
    pub(crate) not_kept: Option<String>,
}

/// Creates the demo tenant and its data on first use; later calls add a new key.
pub async fn seed(db: &DatabaseConnection) -> Result<Demo, Error> {
    seed_with(db, None).await
}

/// Creates the demo tenant and its data on first use, and keeps its key in `key_file`
/// (mode 0600). Later starts reuse the key found there while it still opens the demo
/// tenant; only when it does not (the file is gone, the database is another) is a new key
/// made and the file rewritten.
pub(crate) async fn seed_keeping_key(
    db: &DatabaseConnection,
    key_file: &Path,
) -> Result<Demo, Error> {
    seed_with(db, Some(key_file)).await
}

async fn seed_with(db: &DatabaseConnection, key_file: Option<&Path>) -> Result<Demo, Error> {
    let key = match tenants::scope_for_cli(db, DEMO_SLUG).await {
        Ok(scope) => {
            let kept = match key_file {
                Some(key_file) => kept_key(db, &scope, key_file).await?,
                None => None,
            };
            if let Some(key) = kept {
                return Ok(Demo {
                    api_key: key,
                    new_key: false,
                    not_kept: None,
                });
            }
            api_keys::create_api_key(
                db,
                &scope,
                NewApiKey {
                    name: "serve --demo".into(),
                    scopes: vec![ApiKeyScope::Read, ApiKeyScope::Write],
                    ..NewApiKey::default()
                },
            )
            .await?
            .key
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
            created.api_key.key
        }
        Err(err) => return Err(err),
    };
    let not_kept = key_file.and_then(|key_file| {
        keep_key(key_file, &key)
            .err()
            .map(|e| format!("cannot write {}: {e}", key_file.display()))
    });
    Ok(Demo {
        api_key: key,
        new_key: true,
        not_kept,
    })
}

/// The key in `key_file`, when it is a live key of the demo tenant.
async fn kept_key(
    db: &DatabaseConnection,
    scope: &TenantScope,
    key_file: &Path,
) -> Result<Option<String>, Error> {
    let Ok(text) = std::fs::read_to_string(key_file) else {
        return Ok(None);
    };
    let key = text.trim();
    if key.is_empty() {
        return Ok(None);
    }
    match api_keys::authenticate(db, db, key).await {
        Ok(found) if found.scope.tenant_id() == scope.tenant_id() => Ok(Some(key.to_owned())),
        Ok(_) | Err(Error::Unauthenticated(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Writes `key` to `key_file`, readable by its owner only.
fn keep_key(key_file: &Path, key: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        // `mode` applies to a new file only; an existing one is narrowed too.
        if key_file.exists() {
            std::fs::set_permissions(key_file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options.open(key_file)?;
    writeln!(file, "{key}")
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
                allow_mass_removal: false,
                actor: Actor::Cli,
            },
        )
    };
    let sync =
        || sync::sync_source_to_target(db, scope, source, target, SyncOptions::new(Actor::Cli));
    import([385_000, 540_000, 1_250, 219_000, 760_000, 1_890]).await?;
    sync().await?;
    let page = listings::list_target_properties(
        db,
        scope,
        target,
        PageRequest::default(),
        PageLimits::default(),
    )
    .await?;
    if let Some(loft) = page.rows().find(|p| p.external_id == "demo-3") {
        edits::update_target_property(
            db,
            scope,
            TargetPropertyId(loft.id),
            json!({ "price": 1_190, "badge": "Price drop!" }),
            None,
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
