//! A write transaction on one tenant's data. Committing it also increases the tenant's
//! `tenants.data_version`, in the same transaction, so a reader that sees the new version
//! sees the write too. The HTTP response cache ([`crate::http`]) keys on that version; every
//! change of a tenant's data goes through a [`TenantWrite`], so none can leave a cached
//! answer behind.

use sea_orm::entity::prelude::async_trait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement,
};

use crate::db;
use crate::entity::tenant;
use crate::error::Error;
use crate::events::Event;
use crate::ids::TenantId;
use crate::store::idempotency;
use crate::store::pg_write::PgWrite;

/// A write transaction on `tenant`'s data; use it wherever a connection goes. Dropped without
/// [`TenantWrite::commit`], it rolls back and the version stays.
pub struct TenantWrite {
    txn: Txn,
    tenant: TenantId,
    /// It stores an idempotency key ([`idempotency::once`]), which commits it.
    holds_key: bool,
    /// Where the events go once the write commits.
    db: DatabaseConnection,
    /// Events of what the write changed, published only once it has committed (never for a
    /// write rolled back).
    events: std::sync::Mutex<Vec<Event>>,
}

impl TenantWrite {
    /// Begins a write (see [`db::begin_write`]) on `tenant`'s data. Inside
    /// [`idempotency::once`], the first write also stores the request's idempotency key.
    pub async fn begin(db: &DatabaseConnection, tenant: TenantId) -> Result<Self, DbErr> {
        let mut write = Self {
            txn: Txn::begin(db).await?,
            tenant,
            holds_key: false,
            db: db.clone(),
            events: std::sync::Mutex::default(),
        };
        write.holds_key = idempotency::claim_in(&write, tenant).await?;
        Ok(write)
    }

    /// Marks the tenant's data changed and commits. A write that stores an idempotency key is
    /// handed to [`idempotency::once`] instead, which stores the answer in it and commits.
    pub async fn commit(mut self) -> Result<(), Error> {
        if std::mem::take(&mut self.holds_key) {
            match idempotency::hold(self) {
                None => return Ok(()),
                Some(write) => self = write,
            }
        }
        let version = Alias::new("data_version");
        self.execute(
            Query::update()
                .table(tenant::Entity)
                .value(version.clone(), Expr::col(version).add(1))
                .and_where(Expr::col(tenant::Column::Id).eq(self.tenant.0)),
        )
        .await?;
        self.txn.commit().await?;
        let events = std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()));
        crate::events::publish(&self.db, events).await;
        Ok(())
    }

    /// Publishes `events` (see [`crate::events`]) once this write has committed: subscribers
    /// hear of a change only when it is there to be read, and never of one rolled back.
    pub fn publish_after_commit(&self, events: impl IntoIterator<Item = Event>) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(events);
    }
}

impl TenantWrite {
    /// Undoes the write now (dropping it does too, but later): the version stays.
    pub async fn rollback(self) -> Result<(), Error> {
        self.txn.rollback().await?;
        Ok(())
    }
}

impl TenantWrite {
    /// The transaction as PostgreSQL's own, for what SeaORM cannot send (`COPY`); `None` on
    /// SQLite.
    pub(crate) fn postgres(&self) -> Option<&PgWrite> {
        match &self.txn {
            Txn::Postgres(txn) => Some(txn),
            Txn::Orm(_) => None,
        }
    }
}

/// The transaction under a write: held on sqlx on PostgreSQL (so that imports can `COPY`
/// into it), SeaORM's own on SQLite.
enum Txn {
    Orm(DatabaseTransaction),
    Postgres(PgWrite),
}

impl Txn {
    async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        Ok(match db.get_database_backend() {
            DbBackend::Postgres => Self::Postgres(PgWrite::begin(db).await?),
            _ => Self::Orm(db::begin_write(db).await?),
        })
    }

    async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Orm(txn) => txn.commit().await,
            Self::Postgres(txn) => txn.commit().await,
        }
    }

    async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Orm(txn) => txn.rollback().await,
            Self::Postgres(txn) => txn.rollback().await,
        }
    }
}

/// `$call` on whichever transaction `$txn` holds, named `$c` (ConnectionTrait has generic
/// methods, so it cannot be a trait object).
macro_rules! on_txn {
    ($txn:expr, |$c:ident| $call:expr) => {
        match &$txn {
            Txn::Orm($c) => $call,
            Txn::Postgres($c) => $call,
        }
    };
}

#[async_trait::async_trait]
impl ConnectionTrait for TenantWrite {
    fn get_database_backend(&self) -> DbBackend {
        on_txn!(self.txn, |c| c.get_database_backend())
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        on_txn!(self.txn, |c| c.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        on_txn!(self.txn, |c| c.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        on_txn!(self.txn, |c| c.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        on_txn!(self.txn, |c| c.query_all_raw(stmt).await)
    }

    fn support_returning(&self) -> bool {
        on_txn!(self.txn, |c| c.support_returning())
    }
}
