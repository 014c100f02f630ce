//! Request throttling, after authentication: per API key, a bound on the requests running at
//! once and on the requests per second; per client address, a bound on failed
//! authentications.
//!
//! - **Concurrency.** At most `SYNC_KEY_MAX_CONCURRENT` requests of one key run at once, so one
//!   client cannot take every database connection from the others. As many again may wait up
//!   to `SYNC_KEY_QUEUE_MS` for a turn; past that, or when the queue is full, the request is
//!   answered `429` with `Retry-After` and the code `RATE_LIMITED`.
//! - **Rate.** `SYNC_KEY_REQUESTS_PER_SECOND` per key, with bursts of as many, kept by a
//!   [`governor`] keyed limiter (GCRA): a request past it is answered `429` at once.
//! - **Failed authentications.** Each unknown or revoked key a client address sends uses one
//!   of its `SYNC_AUTH_FAILURES_PER_MINUTE`; once they are used up, that address's unknown
//!   keys are answered `429` until the budget refills. A valid key is never refused here:
//!   it is checked like any other and passes, so a client that mistyped a key once is not
//!   locked out, while a key scanner gets one answer now and then instead of hundreds a
//!   second. Without the connection's address (a router called in-process, as tests do),
//!   every request counts as one anonymous address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::answer::error_response;
use crate::config::ServerConfig;
use crate::error::code;
use crate::graphql::context::TenantAuth;

/// How many keys (or addresses) the limiters remember before they forget the idle ones.
const FORGET_PAST: usize = 10_000;

/// The throttles of a server.
pub(super) struct Throttle {
    max_concurrent: usize,
    queue: Duration,
    slots: Mutex<HashMap<i64, Slots>>,
    rate: Option<(u32, DefaultKeyedRateLimiter<i64>)>,
    auth_failures: Option<(u32, DefaultKeyedRateLimiter<IpAddr>)>,
}

/// The running and waiting turns of one key.
#[derive(Clone)]
struct Slots {
    running: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
}

impl Slots {
    /// Whether no request holds or waits for a turn of this key.
    fn idle(&self) -> bool {
        Arc::strong_count(&self.running) == 1 && Arc::strong_count(&self.waiting) == 1
    }
}

/// A request's turn: the key's concurrency slot is given back when it is dropped.
pub(super) struct Turn {
    _running: Option<OwnedSemaphorePermit>,
}

/// A request refused by a throttle.
#[derive(Debug)]
pub(super) struct Limited {
    /// When the client may try again.
    retry_after: Duration,
    /// What was exceeded, with the limit.
    message: String,
}

impl Limited {
    /// The `429` answer, with `Retry-After` in whole seconds (at least 1).
    pub(super) fn response(&self, media: &'static str) -> Response {
        let mut response = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            media,
            code::RATE_LIMITED,
            self.message.clone(),
        );
        let wait = &self.retry_after;
        let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    }
}

impl Throttle {
    /// The throttles `config` asks for.
    pub(super) fn new(config: &ServerConfig) -> Self {
        let rate = NonZeroU32::new(config.key_requests_per_second).map(|n| {
            (
                n.get(),
                RateLimiter::keyed(Quota::per_second(n).allow_burst(n)),
            )
        });
        let auth_failures = NonZeroU32::new(config.auth_failures_per_minute).map(|n| {
            (
                n.get(),
                RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)),
            )
        });
        Self {
            max_concurrent: config.key_max_concurrent,
            queue: Duration::from_millis(config.key_queue_ms),
            slots: Mutex::new(HashMap::new()),
            rate,
            auth_failures,
        }
    }

    /// Admits a request authenticated as `tenant` from `client` (`None`: address unknown),
    /// waiting for its key's turn when needed; the turn lasts as long as the returned value.
    pub(super) async fn admit(
        &self,
        tenant: &TenantAuth,
        client: Option<IpAddr>,
    ) -> Result<Turn, Limited> {
        match tenant {
            TenantAuth::Granted(granted) => self.admit_key(granted.key_id.0).await,
            TenantAuth::Refused(_) => {
                self.auth_failed(client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))?;
                Ok(Turn { _running: None })
            }
            TenantAuth::Missing => Ok(Turn { _running: None }),
        }
    }

    async fn admit_key(&self, key: i64) -> Result<Turn, Limited> {
        if let Some((per_second, limiter)) = &self.rate {
            forget_idle(limiter);
            if let Err(not_until) = limiter.check_key(&key) {
                return Err(Limited {
                    retry_after: not_until.wait_time_from(limiter.clock().now()),
                    message: format!(
                        "too many requests: this API key sent more than {per_second} requests \
                         in a second; retry after the time in `Retry-After`"
                    ),
                });
            }
        }
        if self.max_concurrent == 0 {
            return Ok(Turn { _running: None });
        }
        let slots = self.slots_of(key);
        if let Ok(permit) = slots.running.clone().try_acquire_owned() {
            return Ok(Turn {
                _running: Some(permit),
            });
        }
        let busy = || Limited {
            retry_after: Duration::from_secs(1),
            message: format!(
                "too many requests at once: this API key already runs {} requests, the most \
                 allowed, and others are waiting; retry after the time in `Retry-After`",
                self.max_concurrent
            ),
        };
        let Ok(_waiting) = slots.waiting.clone().try_acquire_owned() else {
            return Err(busy());
        };
        match tokio::time::timeout(self.queue, slots.running.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Turn {
                _running: Some(permit),
            }),
            _ => Err(busy()),
        }
    }

    /// The turns of `key`, made on its first request; idle keys are forgotten when many are
    /// remembered.
    fn slots_of(&self, key: i64) -> Slots {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.len() > FORGET_PAST {
            slots.retain(|_, s| !s.idle());
        }
        slots
            .entry(key)
            .or_insert_with(|| Slots {
                running: Arc::new(Semaphore::new(self.max_concurrent)),
                waiting: Arc::new(Semaphore::new(self.max_concurrent)),
            })
            .clone()
    }

    /// Counts a failed authentication from `client`; `Err` once its budget is used up.
    fn auth_failed(&self, client: IpAddr) -> Result<(), Limited> {
        let Some((per_minute, limiter)) = &self.auth_failures else {
            return Ok(());
        };
        forget_idle(limiter);
        limiter.check_key(&client).map_err(|not_until| Limited {
            retry_after: not_until.wait_time_from(limiter.clock().now()),
            message: format!(
                "too many failed authentications: more than {per_minute} unknown or revoked API \
                 keys from this address in a minute; retry after the time in `Retry-After`"
            ),
        })
    }
}

/// Lets `limiter` forget the keys whose budget is full again, once it remembers many.
fn forget_idle<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>) {
    if limiter.len() > FORGET_PAST {
        limiter.retain_recent();
    }
}
