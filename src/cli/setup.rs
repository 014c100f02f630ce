//! `init`, `create-tenant`, `create-api-key`.

use clap::Args;
use serde_json::json;

use crate::cli::output;
use crate::config::Config;
use crate::db;
use crate::domain::api_keys::{self, ApiKeyScope, NewApiKey};
use crate::domain::tenants::{self, NewTenant};
use crate::ids::{ApiKeyId, TenantId};

/// Arguments of `create-tenant`.
#[derive(Args, Debug)]
pub struct CreateTenantArgs {
    /// Display name of the tenant.
    name: String,
    /// URL-safe handle; derived from the name when absent.
    #[arg(long)]
    slug: Option<String>,
    /// Print one JSON object (`id`, `name`, `slug`, `apiKey`, `apiKeyId`).
    #[arg(long)]
    json: bool,
}

/// Arguments of `create-api-key`.
#[derive(Args, Debug)]
pub struct CreateApiKeyArgs {
    /// The tenant: its id as `--json` printed it, its numeric id, or its slug.
    tenant: String,
    /// What the key is for.
    #[arg(long, default_value = "cli")]
    name: String,
    /// Make a read-only key (queries only).
    #[arg(long)]
    read_only: bool,
    /// Print one JSON object (`id`, `tenantId`, `name`, `prefix`, `key`).
    #[arg(long)]
    json: bool,
}

/// Creates or migrates the database.
pub async fn init(config: &Config) -> anyhow::Result<()> {
    db::connect_and_migrate(&config.database_url).await?;
    println!("database ready: {}", config.database_url);
    Ok(())
}

/// Creates a tenant with its first API key.
pub async fn create_tenant(config: &Config, args: CreateTenantArgs) -> anyhow::Result<()> {
    let db = db::connect_and_migrate(&config.database_url).await?;
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
            "id": id,
            "name": created.tenant.name,
            "slug": created.tenant.slug,
            "apiKey": created.api_key.key,
            "apiKeyId": ApiKeyId(created.api_key.model.id).to_global(),
        }),
        &format!(
            "created tenant `{}` (slug `{}`, id {id})\nAPI key (shown once, store it now): {}",
            created.tenant.name, created.tenant.slug, created.api_key.key
        ),
    );
    Ok(())
}

/// Creates an API key for a tenant.
pub async fn create_api_key(config: &Config, args: CreateApiKeyArgs) -> anyhow::Result<()> {
    let db = db::connect_and_migrate(&config.database_url).await?;
    let scope = tenants::scope_for_cli(&db, &args.tenant).await?;
    let scopes = if args.read_only {
        vec![ApiKeyScope::Read]
    } else {
        vec![ApiKeyScope::Read, ApiKeyScope::Write]
    };
    let created = api_keys::create_api_key(
        &db,
        &scope,
        NewApiKey {
            name: args.name,
            scopes,
        },
    )
    .await?;
    let id = ApiKeyId(created.model.id).to_global();
    output::print(
        args.json,
        &json!({
            "id": id,
            "tenantId": scope.tenant_id().to_global(),
            "name": created.model.name,
            "prefix": created.model.prefix,
            "key": created.key,
        }),
        &format!(
            "created API key `{}` ({id})\nkey (shown once, store it now): {}",
            created.model.name, created.key
        ),
    );
    Ok(())
}
