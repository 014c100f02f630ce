//! API keys: made from the operating system's CSPRNG, shown once, stored as a SHA-256 hash
//! with a short visible prefix; resolving a key into a [`TenantScope`] is the HTTP door's
//! authentication.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DeriveActiveEnum, EntityTrait, EnumIter, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
    Set,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db;
use crate::domain::validate;
use crate::entity::{api_key, source, target};
use crate::error::Error;
use crate::ids::{ApiKeyId, SourceId, TargetId, TenantId};
use crate::store::pager::{self, Page, PageLimits, PageRequest};
use crate::store::scope::{ObjectLimit, Permission, Permissions, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// Every key starts with this, so a leaked one is easy to recognise.
const KEY_PREFIX: &str = "smk_";
/// How many characters of a key are stored and shown as its prefix.
const VISIBLE_PREFIX_LEN: usize = 12;
/// `last_used_at` is refreshed at most this often, to keep reads free of writes.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// What a key allows. Every key may read (within its object limits); the other scopes each
/// allow one kind of change.
// Each scope is stored in the `api_keys.scopes` JSON array as its `string_value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ApiKeyScope {
    /// Queries, within the key's sources and targets. Always granted.
    #[sea_orm(string_value = "read")]
    Read,
    /// `importProperties` into the key's sources.
    #[sea_orm(string_value = "import")]
    Import,
    /// `syncSource` between the key's sources and targets.
    #[sea_orm(string_value = "sync")]
    Sync,
    /// Hand edits of target listings, resolving conflicts, restoring and pinning snapshots.
    #[sea_orm(string_value = "edit")]
    Edit,
    /// Creating, changing and deleting sources and targets, managing API keys, cleaning up
    /// snapshots.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Every change: `IMPORT`, `SYNC`, `EDIT` and `ADMIN` (what keys made before the finer
    /// scopes existed hold).
    #[sea_orm(string_value = "write")]
    Write,
}

impl ApiKeyScope {
    /// The permissions the scope grants.
    pub(crate) fn permissions(self) -> Permissions {
        match self {
            Self::Read => Permissions::default(),
            Self::Import => Permissions::from_iter([Permission::Import]),
            Self::Sync => Permissions::from_iter([Permission::Sync]),
            Self::Edit => Permissions::from_iter([Permission::Edit]),
            Self::Admin => Permissions::from_iter([Permission::Admin]),
            Self::Write => Permissions::all(),
        }
    }

    /// The scopes stored in a key's row; a value this version does not know is an error,
    /// never a guess.
    pub fn of(model: &api_key::Model) -> Result<Vec<Self>, Error> {
        let broken = |what: String| {
            Error::Internal(sea_orm::DbErr::Custom(format!(
                "API key `{}` has {what} in api_keys.scopes",
                model.prefix
            )))
        };
        let items = model
            .scopes
            .as_array()
            .ok_or_else(|| broken(format!("`{}`, not an array", model.scopes)))?;
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .and_then(|raw| Self::try_from_value(&raw.to_owned()).ok())
                    .ok_or_else(|| broken(format!("the unknown scope {item}")))
            })
            .collect()
    }
}

/// The ids stored in a limit column (`None`: all).
fn stored_ids(model: &api_key::Model, column: &Option<Value>) -> Result<ObjectLimit, Error> {
    let Some(column) = column else {
        return Ok(None);
    };
    let ids = column.as_array().and_then(|items| {
        items
            .iter()
            .map(Value::as_i64)
            .collect::<Option<Vec<i64>>>()
    });
    match ids {
        Some(ids) => Ok(Some(ids.into())),
        None => Err(Error::Internal(sea_orm::DbErr::Custom(format!(
            "API key `{}` has `{column}` as an object limit, not an array of ids",
            model.prefix
        )))),
    }
}

/// The sources and targets a key is limited to, as stored.
pub fn limits_of(model: &api_key::Model) -> Result<(ObjectLimit, ObjectLimit), Error> {
    Ok((
        stored_ids(model, &model.source_ids)?,
        stored_ids(model, &model.target_ids)?,
    ))
}

/// The scope a key's row grants.
fn scope_of(model: &api_key::Model) -> Result<TenantScope, Error> {
    let permissions = ApiKeyScope::of(model)?
        .into_iter()
        .map(ApiKeyScope::permissions)
        .collect();
    let (sources, targets) = limits_of(model)?;
    Ok(TenantScope::limited(
        TenantId(model.tenant_id),
        permissions,
        sources,
        targets,
        model.expires_at,
    ))
}

/// What a new key needs.
#[derive(Clone, Debug, Default)]
pub struct NewApiKey {
    /// What the key is for.
    pub name: String,
    /// What it allows; `READ` is always included.
    pub scopes: Vec<ApiKeyScope>,
    /// The only sources it may see and change; empty for all.
    pub source_ids: Vec<SourceId>,
    /// The only targets it may see and change; empty for all.
    pub target_ids: Vec<TargetId>,
    /// When it stops authenticating; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
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
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The key's tenant and access.
    pub scope: TenantScope,
    /// The key used.
    pub key_id: ApiKeyId,
    /// The tenant's `data_version` when the key was checked (see [`crate::store::tenant_write`]).
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

/// Inserts a key for the scope's tenant on `conn` (a transaction or the pool). Its limits
/// must already be checked ([`create_api_key`] does).
pub(crate) async fn insert_api_key<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    new: NewApiKey,
) -> Result<CreatedApiKey, Error> {
    let name = validate::name("input.name", &new.name)?;
    let mut scopes = vec![ApiKeyScope::Read];
    for scope in new.scopes {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    let ids = |ids: Vec<i64>| (!ids.is_empty()).then(|| Value::from(ids));
    let key = generate_key()?;
    let model = api_key::ActiveModel {
        tenant_id: Set(scope.tenant_id().0),
        name: Set(name),
        prefix: Set(key[..VISIBLE_PREFIX_LEN].to_owned()),
        key_hash: Set(hash_key(&key)),
        scopes: Set(Value::from(
            scopes.iter().map(ActiveEnum::to_value).collect::<Vec<_>>(),
        )),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        source_ids: Set(ids(new.source_ids.iter().map(|id| id.0).collect())),
        target_ids: Set(ids(new.target_ids.iter().map(|id| id.0).collect())),
        expires_at: Set(new.expires_at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(CreatedApiKey { model, key })
}

/// Checks a new key's limits: its sources and targets exist and the creator sees them
/// (`NOT_FOUND` naming the entry otherwise), its expiry lies ahead, and it allows nothing the
/// creator's scope does not (`FORBIDDEN`).
async fn check_new_key(
    db: &DatabaseConnection,
    scope: &TenantScope,
    new: &NewApiKey,
) -> Result<(), Error> {
    let sources: Vec<i64> = new.source_ids.iter().map(|id| id.0).collect();
    let found = scope.get_many::<source::Entity, _>(db, &sources).await?;
    if let Some((i, id)) = new
        .source_ids
        .iter()
        .enumerate()
        .find(|(_, id)| !found.iter().any(|m| m.id == id.0))
    {
        return Err(Error::not_found(
            "Source",
            format!("{} (input.sourceIds[{i}])", id.to_global()),
        ));
    }
    let targets: Vec<i64> = new.target_ids.iter().map(|id| id.0).collect();
    let found = scope.get_many::<target::Entity, _>(db, &targets).await?;
    if let Some((i, id)) = new
        .target_ids
        .iter()
        .enumerate()
        .find(|(_, id)| !found.iter().any(|m| m.id == id.0))
    {
        return Err(Error::not_found(
            "Target",
            format!("{} (input.targetIds[{i}])", id.to_global()),
        ));
    }
    if let Some(at) = new.expires_at
        && at <= Utc::now()
    {
        return Err(Error::invalid(
            "input.expiresAt",
            format!("{} is not in the future", at.to_rfc3339()),
        ));
    }
    let permissions: Permissions = new.scopes.iter().map(|s| s.permissions()).collect();
    let limit = |ids: Vec<i64>| (!ids.is_empty()).then(|| ids.into());
    if !scope.covers(
        permissions,
        &limit(sources),
        &limit(targets),
        new.expires_at,
    ) {
        return Err(Error::Forbidden(
            "a key cannot make a key with more rights than its own: more scopes, more sources \
             or targets, or a later expiry"
                .into(),
        ));
    }
    Ok(())
}

/// Creates an API key for the scope's tenant (needs `ADMIN`, and gives no more than the
/// creator has).
pub async fn create_api_key(
    db: &DatabaseConnection,
    scope: &TenantScope,
    new: NewApiKey,
) -> Result<CreatedApiKey, Error> {
    scope.require(Permission::Admin)?;
    check_new_key(db, scope, &new).await?;
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
    scope.require(Permission::Admin)?;
    let model = get_api_key(db, scope, id).await?;
    let theirs = scope_of(&model)?;
    if !scope.covers(
        theirs.permissions(),
        theirs.source_limit(),
        theirs.target_limit(),
        model.expires_at,
    ) {
        return Err(Error::Forbidden(format!(
            "API key `{}` has rights this key lacks; revoke it with a key that has them all",
            model.prefix
        )));
    }
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
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<api_key::Model>, Error> {
    let select = scope.select::<api_key::Entity>();
    pager::page(db, select, &request, limits).await
}

/// Resolves a presented key into its tenant scope; unknown, revoked and expired keys are
/// refused. The key's `lastUsedAt` is refreshed (at most once a minute) through `touch`,
/// which on SQLite should not wait for the write lock ([`db::without_waiting_for_writes`]):
/// while another write holds it (a long import), the refresh is left for a later request
/// rather than holding this one up.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    touch: &DatabaseConnection,
    key: &str,
) -> Result<Authenticated, Error> {
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
    let now = Utc::now();
    if let Some(expired) = model.expires_at.filter(|at| *at <= now) {
        return Err(Error::Unauthenticated(format!(
            "API key `{}` expired at {}",
            model.prefix,
            expired.to_rfc3339()
        )));
    }
    let scope = scope_of(&model)?;
    if model
        .last_used_at
        .is_none_or(|t| now - t > Duration::seconds(LAST_USED_RESOLUTION_SECS))
    {
        match touch_last_used(touch, &model, now).await {
            Err(Error::Internal(err) | Error::Unavailable(err)) if db::is_busy(&err) => {
                tracing::debug!(key = %model.prefix, "lastUsedAt left for later: another write holds the lock");
            }
            other => other?,
        }
    }
    Ok(Authenticated {
        scope,
        key_id: ApiKeyId(model.id),
        data_version,
    })
}

/// Sets the key's `lastUsedAt` to `now` unless another request did within the resolution.
async fn touch_last_used(
    db: &DatabaseConnection,
    model: &api_key::Model,
    now: DateTime<Utc>,
) -> Result<(), Error> {
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
    Ok(())
}
