//! Idempotency keys: a mutation sent again with the key it was first sent with returns the
//! first answer instead of doing the work twice (a scraper whose connection dropped after
//! the server committed can simply retry).
//!
//! The key lives in the database (`idempotency_keys`, unique per tenant, operation and key),
//! written in the *same transaction* as the work: [`once`] hands a claim to the first
//! [`TenantWrite`] the work begins, which inserts the key row before anything else, and the
//! work's commit is held back until the answer is stored in that row too. So a mutation that
//! fails or rolls back leaves no key (the retry does the work), and a concurrent second call
//! with the key waits on the unique index (PostgreSQL) or the write lock (SQLite) until the
//! first commits, then finds its row and returns its answer, across server replicas too.
//!
//! The same key with a different input (its canonical JSON hashed, variables resolved and
//! defaults applied) is `IDEMPOTENCY_KEY_REUSED`. Keys are kept `SYNC_IDEMPOTENCY_KEY_HOURS`
//! (default 24); older ones no longer match and are deleted by the next keyed write of their
//! tenant.

use std::cell::RefCell;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, SqlErr,
};
use serde_json::{Value, json};

use crate::entity::{
    idempotency_key, import_run, source_property, source_snapshot, sync_log, target_property,
    target_snapshot,
};
use crate::error::Error;
use crate::hashing::content_hash;
use crate::ids::TenantId;
use crate::store::scope::{Permission, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// How long keys are kept by default, in hours.
pub const DEFAULT_KEY_HOURS: u32 = 24;

/// A mutation sent with an idempotency key: what [`once`] needs to find or record it.
#[derive(Clone, Debug)]
pub struct KeyedRequest {
    operation: &'static str,
    key: String,
    request_hash: String,
    permission: Permission,
    keep_hours: u32,
}

impl KeyedRequest {
    /// The request of `operation` (its GraphQL name, e.g. `importProperties`) with `key` over
    /// `input` (its canonical JSON without the key itself), which needs `permission`. `field`
    /// names the key in errors. A key is 1 to 255 visible ASCII characters (a UUID fits).
    pub fn new(
        operation: &'static str,
        key: &str,
        field: &str,
        input: &Value,
        permission: Permission,
        keep_hours: u32,
    ) -> Result<Self, Error> {
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(Error::invalid(
                field,
                format!("must be 1 to {MAX_KEY_CHARS} characters long"),
            ));
        }
        if let Some(bad) = key.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(Error::invalid(
                field,
                format!(
                    "may hold visible ASCII characters only (letters, digits, `-`, `_`…), not {bad:?}"
                ),
            ));
        }
        Ok(Self {
            operation,
            key: key.to_owned(),
            request_hash: content_hash(input),
            permission,
            keep_hours,
        })
    }

    fn cutoff(&self) -> DateTime<Utc> {
        Utc::now() - Duration::hours(i64::from(self.keep_hours))
    }
}

/// A result [`once`] can store and return again: its id is stored, and a repeat reads the
/// object again by that id (in the caller's scope).
pub trait Replay: Sized {
    /// What is stored of the result.
    fn record(&self) -> Value;
    /// The result again, from what [`Replay::record`] stored.
    fn replay(
        db: &DatabaseConnection,
        scope: &TenantScope,
        record: &Value,
    ) -> impl Future<Output = Result<Self, Error>> + Send;
}

/// Implements [`Replay`] for the model of each entity named: stored as `{"id": …}`.
macro_rules! replay_by_id {
    ($($module:ident),+ $(,)?) => {
        $(
            impl Replay for $module::Model {
                fn record(&self) -> Value {
                    json!({ "id": self.id })
                }

                async fn replay(
                    db: &DatabaseConnection,
                    scope: &TenantScope,
                    record: &Value,
                ) -> Result<Self, Error> {
                    let id = record.get("id").and_then(Value::as_i64).ok_or_else(|| {
                        Error::Internal(DbErr::Custom(format!(
                            "idempotency_keys.result `{record}` names no id"
                        )))
                    })?;
                    scope.get::<$module::Entity, _>(db, id).await
                }
            }
        )+
    };
}

replay_by_id!(
    import_run,
    sync_log,
    source_property,
    target_property,
    source_snapshot,
    target_snapshot,
);

/// The claim [`once`] hands to the work's first [`TenantWrite`], and what comes back.
struct Pending {
    tenant: TenantId,
    claim: Option<KeyedRequest>,
    /// The work's write, committed by [`once`] once the answer is stored in it.
    held: Option<TenantWrite>,
    /// Another call holds the key: the work failed on the key's unique index.
    raced: bool,
}

tokio::task_local! {
    static PENDING: RefCell<Pending>;
}

/// Runs `work` once per key: with `request`, a repeat of an earlier call with the same key and
/// input returns that call's result without running `work`, and the same key with another
/// input is `IDEMPOTENCY_KEY_REUSED`. Without `request`, just runs `work`.
///
/// `work` must do its writes in one [`TenantWrite`] (every domain write does): that write
/// stores the key, and is committed here after the result is stored with it.
pub async fn once<T, F>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    request: Option<KeyedRequest>,
    work: F,
) -> Result<T, Error>
where
    T: Replay,
    F: Future<Output = Result<T, Error>>,
{
    let Some(request) = request else {
        return work.await;
    };
    scope.require(request.permission)?;
    if let Some(earlier) = find(db, scope, &request).await? {
        return answer_again(db, scope, &request, earlier).await;
    }
    let pending = RefCell::new(Pending {
        tenant: scope.tenant_id(),
        claim: Some(request.clone()),
        held: None,
        raced: false,
    });
    let (outcome, pending) = PENDING
        .scope(pending, async {
            let outcome = work.await;
            let pending = PENDING.with(|p| {
                let mut p = p.borrow_mut();
                (p.held.take(), p.raced)
            });
            (outcome, pending)
        })
        .await;
    match (outcome, pending) {
        (Ok(result), (Some(held), _)) => {
            store_answer(&held, scope, &request, &result.record()).await?;
            held.commit().await?;
            Ok(result)
        }
        // The work wrote nothing to keep (it changed nothing): the key is stored on its own.
        (Ok(result), (None, _)) => {
            let write = TenantWrite::begin(db, scope.tenant_id()).await?;
            match claim_on(&write, scope.tenant_id(), &request).await {
                Ok(()) => {
                    store_answer(&write, scope, &request, &result.record()).await?;
                    write.commit().await?;
                    Ok(result)
                }
                Err(err) if is_unique_violation(&err) => {
                    drop(write);
                    replay_stored(db, scope, &request).await
                }
                Err(err) => Err(err.into()),
            }
        }
        // Another call with the key committed first: its answer is this one's.
        (Err(_), (_, true)) => replay_stored(db, scope, &request).await,
        // The work committed and still failed (a refused mass removal keeps its record): its
        // writes stay, the key does not, so a retry runs the work again.
        (Err(err), (Some(held), false)) => {
            release(&held, scope, &request).await?;
            held.commit().await?;
            Err(err)
        }
        (Err(err), _) => Err(err),
    }
}

/// The stored row of `request`'s key, if it is still kept.
async fn find(
    db: &DatabaseConnection,
    scope: &TenantScope,
    request: &KeyedRequest,
) -> Result<Option<idempotency_key::Model>, Error> {
    Ok(scope
        .select::<idempotency_key::Entity>()
        .filter(idempotency_key::Column::Operation.eq(request.operation))
        .filter(idempotency_key::Column::Key.eq(request.key.as_str()))
        .filter(idempotency_key::Column::CreatedAt.gte(request.cutoff()))
        .one(db)
        .await?)
}

/// The answer of the call that stored `request`'s key (after a lost race).
async fn replay_stored<T: Replay>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    request: &KeyedRequest,
) -> Result<T, Error> {
    let earlier = find(db, scope, request).await?.ok_or_else(|| {
        Error::Conflict(format!(
            "another request with idempotency key `{}` was running; retry",
            request.key
        ))
    })?;
    answer_again(db, scope, request, earlier).await
}

/// The earlier answer, when the input is the same.
async fn answer_again<T: Replay>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    request: &KeyedRequest,
    earlier: idempotency_key::Model,
) -> Result<T, Error> {
    if earlier.request_hash != request.request_hash {
        return Err(Error::IdempotencyKeyReused(format!(
            "idempotency key `{}` was used for {} at {} with a different input; send a new key \
             for a new request",
            request.key,
            request.operation,
            earlier.created_at.to_rfc3339()
        )));
    }
    let record = earlier.result.unwrap_or(Value::Null);
    T::replay(db, scope, &record).await
}

/// Deletes the tenant's expired keys and inserts `request`'s, with no answer yet, on `conn`.
async fn claim_on<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    request: &KeyedRequest,
) -> Result<(), DbErr> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::TenantId.eq(tenant.0))
        .filter(idempotency_key::Column::CreatedAt.lt(request.cutoff()))
        .exec(conn)
        .await?;
    idempotency_key::ActiveModel {
        tenant_id: Set(tenant.0),
        operation: Set(request.operation.to_owned()),
        key: Set(request.key.clone()),
        request_hash: Set(request.request_hash.clone()),
        result: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Stores the answer in the key's row, inside the write that claimed it.
async fn store_answer(
    write: &TenantWrite,
    scope: &TenantScope,
    request: &KeyedRequest,
    record: &Value,
) -> Result<(), Error> {
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::Result,
            sea_orm::sea_query::Expr::value(record.clone()),
        )
        .filter(key_row(scope, request))
        .exec(write)
        .await?;
    Ok(())
}

/// The row of `request`'s key.
fn key_row(scope: &TenantScope, request: &KeyedRequest) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(idempotency_key::Column::TenantId.eq(scope.tenant_id().0))
        .add(idempotency_key::Column::Operation.eq(request.operation))
        .add(idempotency_key::Column::Key.eq(request.key.as_str()))
}

/// Deletes the key's row again, inside the write that claimed it.
async fn release(
    write: &TenantWrite,
    scope: &TenantScope,
    request: &KeyedRequest,
) -> Result<(), Error> {
    idempotency_key::Entity::delete_many()
        .filter(key_row(scope, request))
        .exec(write)
        .await?;
    Ok(())
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Called by [`TenantWrite::begin`] on `tenant`: inside a [`once`] that still holds its
/// claim, stores the key in `write` (the claim is used once). A concurrent call's key makes
/// it fail, and [`once`] then answers with that call's result.
pub(crate) async fn claim_in(write: &TenantWrite, tenant: TenantId) -> Result<bool, DbErr> {
    let claim = PENDING
        .try_with(|p| {
            let mut p = p.borrow_mut();
            if p.tenant == tenant {
                p.claim.take()
            } else {
                None
            }
        })
        .ok()
        .flatten();
    let Some(request) = claim else {
        return Ok(false);
    };
    match claim_on(write, tenant, &request).await {
        Ok(()) => Ok(true),
        Err(err) => {
            if is_unique_violation(&err) {
                let _ = PENDING.try_with(|p| p.borrow_mut().raced = true);
            }
            Err(err)
        }
    }
}

/// Called by [`TenantWrite::commit`] on a write that stored a key: keeps it for [`once`] to
/// commit with the answer. Gives it back when there is no [`once`] to keep it.
pub(crate) fn hold(write: TenantWrite) -> Option<TenantWrite> {
    let mut write = Some(write);
    let _ = PENDING.try_with(|p| p.borrow_mut().held = write.take());
    write
}
