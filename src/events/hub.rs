//! The receiving end of the event bus: [`EventHub`], one per server, that subscriptions
//! subscribe to.
//!
//! On PostgreSQL a task holds a `LISTEN` on [`super::CHANNEL`] (sqlx's `PgListener`, on a
//! connection of its own, made with the options of the pool SeaORM wraps) and forwards each notification to the
//! hub's subscribers; it reconnects when the connection drops (events sent while it was down are
//! lost, as PostgreSQL does not keep them) and stops with the last clone of the hub. On SQLite
//! the hub is an in-process channel shared by every pool on the same database file.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{broadcast, oneshot, watch};

use super::{CHANNEL, Event};

/// Events a subscriber may fall behind by before it is dropped as too slow (each of its
/// subscriptions then ends with an error).
pub const BUS_CAPACITY: usize = 1_024;

/// How long a failed `LISTEN` connection waits before it tries again.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// The in-process channels of SQLite databases, by file.
static LOCAL: LazyLock<Mutex<HashMap<PathBuf, broadcast::Sender<Arc<Event>>>>> =
    LazyLock::new(Default::default);

/// The in-process channel of `db`'s SQLite file (`None` on other databases).
fn local_channel(db: &DatabaseConnection) -> Option<broadcast::Sender<Arc<Event>>> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    let mut channels = LOCAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(
        channels
            .entry(file)
            .or_insert_with(|| broadcast::channel(BUS_CAPACITY).0)
            .clone(),
    )
}

/// Sends `event` on the in-process channel of `db` (SQLite).
pub(super) fn publish_local(db: &DatabaseConnection, event: Event) {
    if let Some(channel) = local_channel(db) {
        // No subscriber is not an error: nobody is watching.
        let _ = channel.send(Arc::new(event));
    }
}

/// Where a server's subscriptions get their events from. Cheap to clone.
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<Arc<Event>>,
    /// Whether events from other processes are being received (the `LISTEN` is in place).
    ready: watch::Receiver<bool>,
    /// Dropped with the hub: stops the listening task.
    _stop: Option<oneshot::Sender<()>>,
}

impl EventHub {
    /// The hub of a server over `db`. On PostgreSQL it starts the listening task, so it must
    /// be called inside a Tokio runtime.
    pub fn start(db: &DatabaseConnection) -> Self {
        if let Some(sender) = local_channel(db) {
            let (_, ready) = watch::channel(true);
            return Self::of(sender, ready, None);
        }
        let (sender, _) = broadcast::channel(BUS_CAPACITY);
        let (ready_tx, ready) = watch::channel(false);
        let (stop, stopped) = oneshot::channel();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            // A pool of one of its own: a `PgListener` keeps its connection for good, which
            // must not take a place of the pool that serves requests.
            let options = db.get_postgres_connection_pool().connect_options();
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy_with((*options).clone());
            let forward = sender.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = stopped => {}
                    () = listen(pool, forward, ready_tx) => {}
                }
            });
        }
        Self::of(sender, ready, Some(stop))
    }

    fn of(
        sender: broadcast::Sender<Arc<Event>>,
        ready: watch::Receiver<bool>,
        stop: Option<oneshot::Sender<()>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                sender,
                ready,
                _stop: stop,
            }),
        }
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.sender.subscribe()
    }

    /// Waits up to `limit` until events of other processes are received; whether they are.
    pub async fn ready(&self, limit: Duration) -> bool {
        let mut ready = self.inner.ready.clone();
        tokio::time::timeout(limit, ready.wait_for(|ready| *ready))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }
}

/// Forwards every notification of [`CHANNEL`] to `sender`, for as long as the pool is open.
async fn listen(
    pool: sea_orm::sqlx::PgPool,
    sender: broadcast::Sender<Arc<Event>>,
    ready: watch::Sender<bool>,
) {
    use sea_orm::sqlx::Error as SqlxError;
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(SqlxError::PoolClosed) => return,
            Err(err) => {
                tracing::warn!(error = %err, "event listener cannot connect; retrying");
                tokio::time::sleep(RECONNECT_DELAY).await;
                continue;
            }
        };
        if let Err(err) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %err, "event listener cannot LISTEN; retrying");
            tokio::time::sleep(RECONNECT_DELAY).await;
            continue;
        }
        ready.send_replace(true);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    match serde_json::from_str::<Event>(notification.payload()) {
                        Ok(event) => {
                            let _ = sender.send(Arc::new(event));
                        }
                        Err(err) => tracing::warn!(error = %err, "unreadable event ignored"),
                    }
                }
                // The connection dropped; the next call reconnects and listens again.
                Ok(None) => {
                    tracing::warn!(
                        "event listener lost its connection; reconnecting (events sent meanwhile are lost)"
                    );
                }
                Err(SqlxError::PoolClosed) => return,
                Err(err) => {
                    tracing::warn!(error = %err, "event listener failed; reconnecting");
                    tokio::time::sleep(RECONNECT_DELAY).await;
                    break;
                }
            }
        }
    }
}
