//! Tenants: creating them (with their first API key) and naming them on the CLI.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use crate::db;
use crate::domain::api_keys::{self, ApiKeyScope, CreatedApiKey, NewApiKey};
use crate::domain::validate;
use crate::entity::tenant;
use crate::error::Error;
use crate::ids::TenantId;
use crate::store::scope::TenantScope;

/// What a new tenant needs.
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// Display name.
    pub name: String,
    /// URL-safe handle; derived from the name when absent.
    pub slug: Option<String>,
}

/// A tenant just created, with its first API key.
#[derive(Debug)]
pub struct CreatedTenant {
    /// The tenant.
    pub(crate) tenant: tenant::Model,
    /// Its first key (the plain key is shown this once).
    pub(crate) api_key: CreatedApiKey,
    /// The new tenant's own scope: what is read back about the new tenant (its keys) is read
    /// in it, never in the scope of whoever created it.
    pub scope: TenantScope,
}

/// Lower-case letters, digits and single dashes, from any name.
fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn valid_slug(raw: &str) -> Result<String, Error> {
    let ok = !raw.is_empty()
        && raw.len() <= 63
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !raw.starts_with('-')
        && !raw.ends_with('-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            "input.slug",
            format!(
                "`{raw}` is not a slug: use 1 to 63 lower-case letters, digits and inner dashes"
            ),
        ))
    }
}

/// Creates a tenant and its first read-write API key, in one transaction.
pub async fn create_tenant(
    db: &DatabaseConnection,
    new: NewTenant,
) -> Result<CreatedTenant, Error> {
    let name = validate::name("input.name", &new.name)?;
    let slug = match new.slug {
        Some(slug) => valid_slug(slug.trim())?,
        None => valid_slug(&slugify(&name)).map_err(|_| {
            Error::invalid("input.slug", "cannot be derived from the name; give one")
        })?,
    };
    let txn = db::begin_write(db).await?;
    let tenant = tenant::ActiveModel {
        name: Set(name),
        slug: Set(slug.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| Error::on_unique(e, || format!("a tenant with slug `{slug}` already exists")))?;
    let scope = TenantScope::full(TenantId(tenant.id));
    let api_key = api_keys::insert_api_key(
        &txn,
        &scope,
        NewApiKey {
            name: "default".into(),
            scopes: vec![ApiKeyScope::Read, ApiKeyScope::Write],
            ..NewApiKey::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedTenant {
        tenant,
        api_key,
        scope,
    })
}

/// The scope's own tenant (GraphQL `viewer`).
pub(crate) async fn viewer(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<tenant::Model, Error> {
    let id = scope.tenant_id();
    tenant::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("Tenant", id))
}

/// Finds a tenant named on the command line by its slug, its global id (as `--json` prints
/// it), or its numeric id, in that order.
pub(crate) async fn find_for_cli(
    db: &DatabaseConnection,
    reference: &str,
) -> Result<tenant::Model, Error> {
    if let Some(found) = tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(reference))
        .one(db)
        .await?
    {
        return Ok(found);
    }
    let by_id = match TenantId::from_global(reference, "TENANT") {
        Ok(id) => Some(id.0),
        Err(_) => reference.parse::<i64>().ok(),
    };
    let found = match by_id {
        Some(id) => tenant::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    found.ok_or_else(|| Error::not_found("Tenant", reference))
}

/// The tenant [`create_tenant`] would have made from `name` without a slug: the one whose
/// slug is derived from `name`, if there is one.
pub(crate) async fn find_by_name(
    db: &DatabaseConnection,
    name: &str,
) -> Result<Option<tenant::Model>, Error> {
    let slug = slugify(name);
    if slug.is_empty() {
        return Ok(None);
    }
    Ok(tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// A read-write scope for a tenant named on the command line (the operator owns the database).
pub async fn scope_for_cli(db: &DatabaseConnection, reference: &str) -> Result<TenantScope, Error> {
    let tenant = find_for_cli(db, reference).await?;
    Ok(TenantScope::full(TenantId(tenant.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(slugify("  Acme Homes & Co. "), "acme-homes-co");
        assert_eq!(slugify("Ünïcode"), "n-code");
        assert!(valid_slug("Bad Slug").is_err());
        assert!(valid_slug("-x").is_err());
        assert_eq!(valid_slug("ok-1").ok().as_deref(), Some("ok-1"));
    }
}
