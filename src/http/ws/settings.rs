//! The WebSocket settings of a server, and the count of the subscriptions each API key runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::ServerConfig;

/// The WebSocket settings of a server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WsSettings {
    /// How often the server pings (`None`: never).
    pub(super) ping: Option<Duration>,
    /// How long a connection may wait before `connection_init`.
    pub(super) init_timeout: Duration,
    /// How often the key is checked again.
    pub(super) recheck: Duration,
    /// Most subscriptions of one connection.
    pub(super) per_connection: usize,
    /// Most subscriptions of one key on this server.
    pub(super) per_key: usize,
    /// Most messages waiting for a client before it is dropped.
    pub(super) send_buffer: usize,
}

impl WsSettings {
    /// The settings `config` gives.
    pub(crate) fn of(config: &ServerConfig) -> Self {
        Self {
            ping: (config.ws_ping_secs > 0).then(|| Duration::from_secs(config.ws_ping_secs)),
            init_timeout: Duration::from_secs(config.ws_init_timeout_secs.max(1)),
            recheck: Duration::from_secs(config.ws_auth_recheck_secs.max(1)),
            per_connection: config.ws_max_subscriptions_per_connection,
            per_key: config.ws_max_subscriptions_per_key,
            send_buffer: config.ws_send_buffer.max(1),
        }
    }
}

/// The subscriptions each API key runs on this server.
#[derive(Clone, Default)]
pub(crate) struct KeySubscriptions(Arc<Mutex<HashMap<i64, usize>>>);

impl KeySubscriptions {
    /// A slot for one more subscription of `key`, if it has fewer than `limit`.
    pub(super) fn take(&self, key: i64, limit: usize) -> Option<KeySlot> {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(key).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(KeySlot {
            owner: self.clone(),
            key,
        })
    }
}

/// One subscription of a key, given back when dropped.
pub(super) struct KeySlot {
    owner: KeySubscriptions,
    key: i64,
}

impl Drop for KeySlot {
    fn drop(&mut self) {
        let mut counts = self
            .owner
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}
