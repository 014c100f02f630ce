//! `init` (and `init --import`), `create-tenant`, `create-api-key`.

use secrecy::ExposeSecret as _;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::cli::{discover, migrate, output};
use crate::config::Config;
use crate::db::{self, Prepared};
use crate::domain::api_keys::{self, ApiKeyScope, NewApiKey};
use crate::domain::catalog;
use crate::domain::import::ImportMode;
use crate::domain::sources::{self, NewSource, SourceKind};
use crate::domain::tenants::{self, NewTenant};
use crate::entity::{source, target};
use crate::error::Error;
use crate::ids::{ApiKeyId, SourceId, TargetId, TenantId};
use crate::store::scope::TenantScope;

/// Arguments of `init`.
#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// Then import the `*.json`, `*.ndjson` and `*.jsonl` files found under DIR (as
    /// `migrate-json --auto DIR` does) into SOURCE of TENANT, creating the tenant (named
    /// TENANT, its API key printed once) and the source (kind `json`) if they do not exist.
    /// Safe to repeat: an existing tenant (by slug, id, or the name it was created with) and
    /// source are reused, with no new key.
    #[arg(long, num_args = 3, value_names = ["DIR", "TENANT", "SOURCE"])]
    import: Option<Vec<String>>,
}

/// Arguments of `create-tenant`.
#[derive(Args, Debug)]
pub(crate) struct CreateTenantArgs {
    /// Display name of the tenant.
    name: String,
    /// URL-safe handle; derived from the name when absent.
    #[arg(long)]
    slug: Option<String>,
    /// Print one JSON object, as GraphQL's `createTenant` answers: `tenant`, `apiKey`, `key`.
    #[arg(long)]
    pub(super) json: bool,
}

/// Arguments of `create-api-key`.
#[derive(Args, Debug)]
pub(crate) struct CreateApiKeyArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// What the key is for.
    #[arg(long, default_value = "cli")]
    name: String,
    /// Make a read-only key (queries only); the same as `--scope read`.
    #[arg(long, conflicts_with = "scope")]
    read_only: bool,
    /// A scope the key gets (repeat for several): read, import, sync, edit, admin, or write
    /// (all changes). Default: read and write. `read` is always granted.
    #[arg(long = "scope", value_enum, value_name = "SCOPE")]
    scope: Vec<CliScope>,
    /// Limit the key to this source (its name, global id or numeric id; repeat for several).
    #[arg(long = "source", value_name = "SOURCE")]
    source: Vec<String>,
    /// Limit the key to this target (its name, global id or numeric id; repeat for several).
    #[arg(long = "target", value_name = "TARGET")]
    target: Vec<String>,
    /// When the key stops authenticating, RFC 3339 (e.g. `2027-01-31T00:00:00Z`).
    #[arg(long, value_name = "TIME")]
    expires_at: Option<DateTime<Utc>>,
    /// Print one JSON object, as GraphQL's `createApiKey` answers: `apiKey`, `key`.
    #[arg(long)]
    pub(super) json: bool,
}

/// A scope as `--scope` spells it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum CliScope {
    Read,
    Import,
    Sync,
    Edit,
    Admin,
    Write,
}

impl From<CliScope> for ApiKeyScope {
    fn from(scope: CliScope) -> Self {
        match scope {
            CliScope::Read => Self::Read,
            CliScope::Import => Self::Import,
            CliScope::Sync => Self::Sync,
            CliScope::Edit => Self::Edit,
            CliScope::Admin => Self::Admin,
            CliScope::Write => Self::Write,
        }
    }
}

/// Creates or migrates the database; with `--import`, then imports a folder of files.
/// Running it again is harmless: an existing database, tenant and source are reused, and
/// listings that did not change are left alone.
pub(crate) async fn init(config: &Config, args: InitArgs) -> anyhow::Result<()> {
    let (db, prepared) = db::create_and_migrate(
        config.database_url.expose_secret(),
        &config.session_limits(),
    )
    .await?;
    let url = config.database_url.redacted();
    match prepared {
        Prepared::Created => println!("database created and ready: {url}"),
        Prepared::Existing => println!("database ready: {url}"),
    }
    let Some(import) = args.import else {
        return Ok(());
    };
    let [dir, tenant, source] = import.as_slice() else {
        return Err(Error::invalid("--import", "takes DIR TENANT SOURCE").into());
    };
    // Find the files first, so a wrong folder creates nothing.
    let files = discover::discover(&[PathBuf::from(dir)])?;
    let scope = tenant_for_import(&db, tenant).await?;
    let source = source_for_import(&db, &scope, source).await?;
    migrate::run(
        &db,
        migrate::Migration {
            scope: &scope,
            source: &source,
            files,
            mode: ImportMode::Incremental,
            dry_run: false,
            allow_mass_removal: false,
            json: false,
        },
    )
    .await
}

/// The tenant `init --import` names: found by its slug or id as every command finds it, or
/// as the tenant that name created (its slug derived from the name); else created with that
/// name, and its first API key printed, once. An existing tenant gets no new key.
async fn tenant_for_import(
    db: &DatabaseConnection,
    reference: &str,
) -> anyhow::Result<TenantScope> {
    let existing = match tenants::find_for_cli(db, reference).await {
        Ok(found) => Some(found),
        Err(Error::NotFound { .. }) => tenants::find_by_name(db, reference).await?,
        Err(err) => return Err(err.into()),
    };
    if let Some(found) = existing {
        println!(
            "tenant `{}` exists (slug `{}`, id {}): using it; no new API key was created \
             (`sync-manager create-api-key {}` makes one)",
            found.name,
            found.slug,
            TenantId(found.id).to_global(),
            found.slug
        );
        return Ok(tenants::scope_for_cli(db, &found.slug).await?);
    }
    let created = tenants::create_tenant(
        db,
        NewTenant {
            name: reference.to_owned(),
            slug: None,
        },
    )
    .await?;
    println!(
        "created tenant `{}` (slug `{}`, id {})\nAPI key (shown once, store it now): {}",
        created.tenant.name,
        created.tenant.slug,
        TenantId(created.tenant.id).to_global(),
        created.api_key.key
    );
    Ok(tenants::scope_for_cli(db, &created.tenant.slug).await?)
}

/// The source `init --import` names: found as every command finds it, else created.
async fn source_for_import(
    db: &DatabaseConnection,
    scope: &TenantScope,
    reference: &str,
) -> anyhow::Result<source::Model> {
    match catalog::find_for_cli::<source::Entity>(db, scope, reference).await {
        Ok(found) => {
            println!(
                "source `{}` exists (id {}): importing into it",
                found.name,
                SourceId(found.id).to_global()
            );
            return Ok(found);
        }
        Err(Error::NotFound { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    let created = sources::create_source(
        db,
        scope,
        NewSource {
            name: reference.to_owned(),
            kind: SourceKind::Json,
            active: true,
            config: json!({}),
        },
    )
    .await?;
    println!(
        "created source `{}` (id {})",
        created.name,
        SourceId(created.id).to_global()
    );
    Ok(created)
}

/// Creates a tenant with its first API key.
pub(crate) async fn create_tenant(config: &Config, args: CreateTenantArgs) -> anyhow::Result<()> {
    let db = config.open_database().await?;
    let created = tenants::create_tenant(
        &db,
        NewTenant {
            name: args.name,
            slug: args.slug,
        },
    )
    .await?;
    let id = TenantId(created.tenant.id).to_global();
    output::print(
        args.json,
        &json!({
            "tenant": output::tenant_json(&created.tenant),
            "apiKey": output::api_key_json(&created.api_key.model),
            "key": created.api_key.key,
        }),
        &format!(
            "created tenant `{}` (slug `{}`, id {id})\nAPI key (shown once, store it now): {}",
            created.tenant.name, created.tenant.slug, created.api_key.key
        ),
    );
    Ok(())
}

/// Creates an API key for a tenant.
pub(crate) async fn create_api_key(config: &Config, args: CreateApiKeyArgs) -> anyhow::Result<()> {
    let (db, scope) = super::open_tenant(config, &args.tenant).await?;
    let scopes = if args.read_only {
        vec![ApiKeyScope::Read]
    } else if args.scope.is_empty() {
        vec![ApiKeyScope::Read, ApiKeyScope::Write]
    } else {
        args.scope.into_iter().map(ApiKeyScope::from).collect()
    };
    let mut source_ids = Vec::new();
    for reference in &args.source {
        source_ids.push(SourceId(
            catalog::find_for_cli::<source::Entity>(&db, &scope, reference)
                .await?
                .id,
        ));
    }
    let mut target_ids = Vec::new();
    for reference in &args.target {
        target_ids.push(TargetId(
            catalog::find_for_cli::<target::Entity>(&db, &scope, reference)
                .await?
                .id,
        ));
    }
    let created = api_keys::create_api_key(
        &db,
        &scope,
        NewApiKey {
            name: args.name,
            scopes,
            source_ids,
            target_ids,
            expires_at: args.expires_at,
        },
    )
    .await?;
    let id = ApiKeyId(created.model.id).to_global();
    output::print(
        args.json,
        &json!({
            "apiKey": output::api_key_json(&created.model),
            "key": created.key,
        }),
        &format!(
            "created API key `{}` ({id})\nkey (shown once, store it now): {}",
            created.model.name, created.key
        ),
    );
    Ok(())
}
