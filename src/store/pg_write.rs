//! A PostgreSQL write transaction held on sqlx itself rather than on SeaORM's
//! `DatabaseTransaction`, which does not lend its connection: an import streams its rows into
//! it with `COPY … FROM STDIN` ([`PgWrite::copy_in`]), and every other statement runs on it
//! through [`ConnectionTrait`], as on SeaORM's transaction. It takes its connection from the
//! pool SeaORM opened, so the session settings and limits are the same.

use std::ops::DerefMut;

use sea_orm::entity::prelude::async_trait;
use sea_orm::sqlx::{self, PgConnection, Postgres};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement, Values,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;

/// An open transaction on one pooled PostgreSQL connection. Dropped without
/// [`PgWrite::commit`], it rolls back (sqlx does so when the connection goes back).
pub(crate) struct PgWrite {
    txn: Mutex<sqlx::Transaction<'static, Postgres>>,
}

impl PgWrite {
    /// Takes a connection from `db`'s pool and begins a transaction on it.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let txn = db
            .get_postgres_connection_pool()
            .begin()
            .await
            .map_err(acquire_err)?;
        Ok(Self {
            txn: Mutex::new(txn),
        })
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.into_inner().commit().await.map_err(exec_err)
    }

    /// Rolls back now.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.into_inner().rollback().await.map_err(exec_err)
    }

    /// Runs `statement` (a `COPY … FROM STDIN`) and sends it `chunks` one after another, in
    /// COPY's format for that statement (each made only when the previous one is sent);
    /// returns the number of rows copied.
    pub async fn copy_in(
        &self,
        statement: &str,
        chunks: impl Iterator<Item = Vec<u8>>,
    ) -> Result<u64, DbErr> {
        let mut txn = self.txn.lock().await;
        let connection: &mut PgConnection = txn.deref_mut();
        let mut copy = connection.copy_in_raw(statement).await.map_err(exec_err)?;
        for chunk in chunks {
            if let Err(err) = copy.send(chunk).await {
                // The transaction is lost either way; the error worth reporting is the send's.
                let _ = copy.abort("the data could not be sent").await;
                return Err(exec_err(err));
            }
        }
        copy.finish().await.map_err(exec_err)
    }
}

pub(super) fn acquire_err(err: sqlx::Error) -> DbErr {
    match err {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}

fn exec_err(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(err.into()))
}

fn query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(err.into()))
}

/// `stmt` as an sqlx query with its values bound.
fn bound(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

#[async_trait::async_trait]
impl ConnectionTrait for PgWrite {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        execute(&mut **self.txn.lock().await, &stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        execute_unprepared(&mut **self.txn.lock().await, sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        query_one(&mut **self.txn.lock().await, &stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        query_all(&mut **self.txn.lock().await, &stmt).await
    }

    fn support_returning(&self) -> bool {
        true
    }
}

// What SeaORM's connection does with a statement, on a connection of our own: for
// [`PgWrite`] and [`super::read_session::ReadSession`].

/// Runs `stmt` on `conn`.
pub(super) async fn execute(
    conn: &mut PgConnection,
    stmt: &Statement,
) -> Result<ExecResult, DbErr> {
    let done = bound(stmt).execute(conn).await.map_err(exec_err)?;
    Ok(done.into())
}

/// Runs `sql`, without parameters, on `conn`.
pub(super) async fn execute_unprepared(
    conn: &mut PgConnection,
    sql: &str,
) -> Result<ExecResult, DbErr> {
    let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map_err(exec_err)?;
    Ok(done.into())
}

/// The first row of `stmt` on `conn`, if any.
pub(super) async fn query_one(
    conn: &mut PgConnection,
    stmt: &Statement,
) -> Result<Option<QueryResult>, DbErr> {
    let row = bound(stmt).fetch_optional(conn).await.map_err(query_err)?;
    Ok(row.map(Into::into))
}

/// Every row of `stmt` on `conn`.
pub(super) async fn query_all(
    conn: &mut PgConnection,
    stmt: &Statement,
) -> Result<Vec<QueryResult>, DbErr> {
    let rows = bound(stmt).fetch_all(conn).await.map_err(query_err)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
