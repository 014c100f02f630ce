//! API keys: made from the operating system's CSPRNG, shown once, stored as a SHA-256 hash
//! with a short visible prefix; resolving a key into a [`TenantScope`] is the HTTP door's
//! authentication.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, QueryTrait, Set,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::pagination::{Page, PageLimits, PageRequest, paginate};
use crate::domain::scope::{Access, TenantScope};
use crate::domain::tenant_write::TenantWrite;
use crate::domain::validate;
use crate::entity::api_key;
use crate::error::Error;
use crate::ids::{ApiKeyId, TenantId};

/// Every key starts with this, so a leaked one is easy to recognise.
const KEY_PREFIX: &str = "smk_";
/// How many characters of a key are stored and shown as its prefix.
const VISIBLE_PREFIX_LEN: usize = 12;
/// `last_used_at` is refreshed at most this often, to keep reads free of writes.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// What a key allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum ApiKeyScope {
    /// Queries.
    Read,
    /// Mutations.
    Write,
}

impl ApiKeyScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }

    /// The scopes stored in a key's row.
    pub fn of(model: &api_key::Model) -> Vec<Self> {
        model
            .scopes
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| s.as_str().and_then(Self::parse))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a new key needs.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    /// What the key is for.
    pub name: String,
    /// What it allows; `READ` is always included.
    pub scopes: Vec<ApiKeyScope>,
}

/// A key just created: its row and the plain key, which is never shown again.
#[derive(Debug)]
pub struct CreatedApiKey {
    /// The stored row.
    pub model: api_key::Model,
    /// The key itself.
    pub key: String,
}

/// The tenant scope and key behind an authenticated request.
#[derive(Clone, Copy, Debug)]
pub struct Authenticated {
    /// The key's tenant and access.
    pub scope: TenantScope,
    /// The key used.
    pub key_id: ApiKeyId,
    /// The tenant's `data_version` when the key was checked (see [`crate::domain::tenant_write`]).
    pub data_version: i64,
}

/// The part of `key` that is stored and shown as its prefix (safe to log).
pub fn visible_prefix(key: &str) -> &str {
    key.trim().get(..VISIBLE_PREFIX_LEN).unwrap_or("")
}

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn generate_key() -> Result<String, Error> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::Internal(sea_orm::DbErr::Custom(format!(
            "no randomness available: {e}"
        )))
    })?;
    Ok(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

/// Inserts a key for the scope's tenant on `conn` (a transaction or the pool).
pub(crate) async fn insert_api_key<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    new: NewApiKey,
) -> Result<CreatedApiKey, Error> {
    let name = validate::name("input.name", &new.name)?;
    let mut scopes = vec![ApiKeyScope::Read];
    if new.scopes.contains(&ApiKeyScope::Write) {
        scopes.push(ApiKeyScope::Write);
    }
    let key = generate_key()?;
    let model = api_key::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        name: Set(name),
        prefix: Set(key[..VISIBLE_PREFIX_LEN].to_owned()),
        key_hash: Set(hash_key(&key)),
        scopes: Set(Value::from(
            scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        )),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(CreatedApiKey { model, key })
}

/// Creates an API key for the scope's tenant.
pub async fn create_api_key(
    db: &DatabaseConnection,
    scope: &TenantScope,
    new: NewApiKey,
) -> Result<CreatedApiKey, Error> {
    scope.require_write()?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let created = insert_api_key(&txn, scope, new).await?;
    txn.commit().await?;
    Ok(created)
}

/// Revokes one of the tenant's keys; revoking a revoked key changes nothing.
pub async fn revoke_api_key(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: ApiKeyId,
) -> Result<api_key::Model, Error> {
    scope.require_write()?;
    let model = get_api_key(db, scope, id).await?;
    if model.revoked_at.is_some() {
        return Ok(model);
    }
    let mut active: api_key::ActiveModel = model.into();
    active.revoked_at = Set(Some(Utc::now()));
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let revoked = active.update(&txn).await?;
    txn.commit().await?;
    Ok(revoked)
}

/// One of the tenant's keys.
pub async fn get_api_key(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: ApiKeyId,
) -> Result<api_key::Model, Error> {
    scope.get::<api_key::Entity, _>(db, id.0).await
}

/// A page of the tenant's keys.
pub async fn list_api_keys(
    db: &DatabaseConnection,
    scope: &TenantScope,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<api_key::Model>, Error> {
    let select = scope.select::<api_key::Entity>();
    paginate(db, select, api_key::Column::Id, request, limits).await
}

/// Resolves a presented key into its tenant scope; unknown and revoked keys are refused.
pub async fn authenticate(db: &DatabaseConnection, key: &str) -> Result<Authenticated, Error> {
    // The tenant's data version comes with the key, in the same statement.
    let select = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash_key(key.trim())))
        .expr_as(
            Expr::cust(
                r#"(SELECT "data_version" FROM "tenants" WHERE "tenants"."id" = "api_keys"."tenant_id")"#,
            ),
            "data_version",
        )
        .into_query();
    let row = db
        .query_one(&select)
        .await?
        .ok_or_else(|| Error::Unauthenticated("unknown API key".into()))?;
    let model = api_key::Model::from_query_result(&row, "")?;
    let data_version: i64 = row.try_get("", "data_version")?;
    if model.revoked_at.is_some() {
        return Err(Error::Unauthenticated(format!(
            "API key `{}` has been revoked",
            model.prefix
        )));
    }
    let access = if ApiKeyScope::of(&model).contains(&ApiKeyScope::Write) {
        Access::ReadWrite
    } else {
        Access::ReadOnly
    };
    let now = Utc::now();
    if model
        .last_used_at
        .is_none_or(|t| now - t > Duration::seconds(LAST_USED_RESOLUTION_SECS))
    {
        // A conditional write, so concurrent requests with one key update it once.
        let txn = TenantWrite::begin(db, TenantId(model.tenant_id)).await?;
        let touched = api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(model.id))
            .filter(
                Condition::any()
                    .add(api_key::Column::LastUsedAt.is_null())
                    .add(
                        api_key::Column::LastUsedAt
                            .lt(now - Duration::seconds(LAST_USED_RESOLUTION_SECS)),
                    ),
            )
            .exec(&txn)
            .await?
            .rows_affected;
        // `lastUsedAt` is data a query can read: a touch is a change of the tenant's data.
        if touched > 0 {
            txn.commit().await?;
        }
    }
    Ok(Authenticated {
        scope: TenantScope::new(TenantId(model.tenant_id), access),
        key_id: ApiKeyId(model.id),
        data_version,
    })
}
