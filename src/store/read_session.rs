//! A request's reads on one pooled connection.
//!
//! Through the pool, each statement takes a connection and gives it back, and sqlx checks
//! every connection it is given back with a round trip to the database: a nested query's
//! three statements (the API key, the sources, their listings) cost six round trips. A
//! [`ReadSession`] on PostgreSQL takes one connection at its first statement and keeps it
//! until the request is answered: three statements, three round trips and one check.
//!
//! A held connection is one the rest of the server cannot use, so at most half the pool is
//! held at once ([`ReadSessions::begin`]); a request that finds every turn taken reads
//! through the pool as before. A query's statements all go through its session but two, which
//! take a connection from the half never held for a request: the refresh of its key's
//! `lastUsedAt` (a write, at most once a minute a key) and the look-up of a table's key
//! columns ([`crate::store::key_columns`], once per process and after a column is dropped).
//! SQLite reads through the pool.
//!
//! Only reads go through a session: a mutation's writes take their own transaction.

use std::sync::Arc;
use std::time::Instant;

use sea_orm::entity::prelude::async_trait;
use sea_orm::metric::Info;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{PgConnection, PgPool, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use super::pg_write::{acquire_err, execute, execute_unprepared, query_all, query_one};

/// What reads a request's rows: the pool itself, or a [`ReadSession`]. Gives the pool too,
/// for what is kept per database ([`crate::store::key_columns`]).
pub(crate) trait Reads: ConnectionTrait + Sync {
    /// The pool the statements come from.
    fn pool(&self) -> &DatabaseConnection;
}

impl Reads for DatabaseConnection {
    fn pool(&self) -> &DatabaseConnection {
        self
    }
}

/// What is told of each statement a session runs on its connection: what the pool's metric
/// callback is told of the statements it runs itself (SeaORM does not lend its callback).
pub type StatementObserver = Arc<dyn Fn(&Info<'_>) + Send + Sync>;

/// Hands out [`ReadSession`]s over one pool, holding at most half its connections.
#[derive(Clone)]
pub struct ReadSessions {
    pool: DatabaseConnection,
    /// One permit per connection a session may hold; `None` when sessions hold none (SQLite).
    turns: Option<Arc<Semaphore>>,
    observer: StatementObserver,
}

impl ReadSessions {
    /// Sessions over `pool`, their statements counted for the request log like the pool's
    /// ([`crate::telemetry::on_statement`]).
    pub fn new(pool: &DatabaseConnection) -> Self {
        Self::observed(pool, Arc::new(crate::telemetry::on_statement))
    }

    /// Sessions over `pool` that tell `observer` of each statement run on a held connection.
    pub fn observed(pool: &DatabaseConnection, observer: StatementObserver) -> Self {
        let turns = match pool.get_database_backend() {
            DbBackend::Postgres => {
                let size = pool
                    .get_postgres_connection_pool()
                    .options()
                    .get_max_connections();
                Some(Arc::new(Semaphore::new(
                    usize::try_from(size / 2).unwrap_or(0),
                )))
            }
            _ => None,
        };
        Self {
            pool: pool.clone(),
            turns,
            observer,
        }
    }

    /// A session for one request: holding a connection from its first statement on when a
    /// turn is free, reading through the pool otherwise.
    pub fn begin(&self) -> ReadSession {
        let turn = self
            .turns
            .as_ref()
            .and_then(|turns| turns.clone().try_acquire_owned().ok());
        ReadSession {
            pool: self.pool.clone(),
            held: turn.map(|turn| {
                Arc::new(Held {
                    connection: Mutex::new(None),
                    observer: self.observer.clone(),
                    _turn: turn,
                })
            }),
        }
    }
}

/// The reads of one request (clones share its connection). Dropped, it gives the connection
/// back to the pool.
#[derive(Clone)]
pub struct ReadSession {
    pool: DatabaseConnection,
    held: Option<Arc<Held>>,
}

struct Held {
    /// Taken at the first statement; dropped after a statement that lost it.
    connection: Mutex<Option<PoolConnection<Postgres>>>,
    observer: StatementObserver,
    _turn: OwnedSemaphorePermit,
}

impl ReadSession {
    /// Reads through `pool`, a connection a statement.
    pub fn pooled(pool: DatabaseConnection) -> Self {
        Self { pool, held: None }
    }

    /// The same reads through the pool, its connection (if any) given back now.
    #[must_use]
    pub fn unheld(self) -> Self {
        Self::pooled(self.pool)
    }

    /// Whether its statements share one connection.
    pub fn holds(&self) -> bool {
        self.held.is_some()
    }

    fn pg(&self) -> &PgPool {
        self.pool.get_postgres_connection_pool()
    }
}

impl Held {
    /// Runs `statement` with `work` on the held connection (taken from `pool` if there is none
    /// yet), told to the observer. A connection the statement found broken is closed, and the
    /// next statement takes another.
    async fn run<T, W>(&self, pool: &PgPool, statement: &Statement, work: W) -> Result<T, DbErr>
    where
        W: AsyncFnOnce(&mut PgConnection) -> Result<T, DbErr>,
    {
        let started = Instant::now();
        let result = self.run_unobserved(pool, work).await;
        (self.observer)(&Info {
            elapsed: started.elapsed(),
            statement,
            failed: result.is_err(),
        });
        result
    }

    async fn run_unobserved<T, W>(&self, pool: &PgPool, work: W) -> Result<T, DbErr>
    where
        W: AsyncFnOnce(&mut PgConnection) -> Result<T, DbErr>,
    {
        let mut slot = self.connection.lock().await;
        let connection = match slot.take() {
            Some(connection) => connection,
            None => pool.acquire().await.map_err(acquire_err)?,
        };
        let connection = slot.insert(connection);
        let result = work(&mut **connection).await;
        if let Err(err) = &result
            && crate::error::is_unavailable(err)
            && let Some(mut lost) = slot.take()
        {
            lost.close_on_drop();
        }
        result
    }
}

impl Reads for ReadSession {
    fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for ReadSession {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.held {
            None => self.pool.execute_raw(stmt).await,
            Some(held) => {
                held.run(self.pg(), &stmt, async |c| execute(c, &stmt).await)
                    .await
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let Some(held) = &self.held else {
            return self.pool.execute_unprepared(sql).await;
        };
        let stmt = Statement::from_string(DbBackend::Postgres, sql);
        held.run(self.pg(), &stmt, async |c| execute_unprepared(c, sql).await)
            .await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.held {
            None => self.pool.query_one_raw(stmt).await,
            Some(held) => {
                held.run(self.pg(), &stmt, async |c| query_one(c, &stmt).await)
                    .await
            }
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.held {
            None => self.pool.query_all_raw(stmt).await,
            Some(held) => {
                held.run(self.pg(), &stmt, async |c| query_all(c, &stmt).await)
                    .await
            }
        }
    }

    fn support_returning(&self) -> bool {
        self.pool.support_returning()
    }
}
