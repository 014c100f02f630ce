//! When a request's batched loads start: at the end of the pass that asked for them.
//!
//! async-graphql resolves the items of a list together: one poll of the execution walks every
//! item as far as it can go, and each item that needs a nested page asks its DataLoader for
//! it on the way. Those keys belong in one statement. By default a DataLoader waits 1 ms on a
//! timer thread for them to arrive, which on a nested read is most of a level's wall time.
//! [`Passes`] ends the wait when the pass does, as JavaScript's DataLoader waits for the end
//! of the tick: [`Passes::drive`] counts the execution's polls, and a load started during
//! pass `n` runs once pass `n` has ended, with every key that pass asked for.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;

use tokio::sync::watch;

/// A DataLoader's load, as it hands it to its spawner.
type Load = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The passes of one request's execution.
#[derive(Clone, Debug)]
pub struct Passes {
    ended: Arc<watch::Sender<u64>>,
}

impl Default for Passes {
    fn default() -> Self {
        Self::new()
    }
}

impl Passes {
    /// No pass ended yet.
    pub fn new() -> Self {
        Self {
            ended: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Runs `execution`; each poll of it that does not finish ends a pass.
    pub async fn drive<F: Future>(&self, execution: F) -> F::Output {
        let mut execution = pin!(execution);
        poll_fn(|cx| {
            let polled = execution.as_mut().poll(cx);
            if polled.is_pending() {
                self.ended.send_modify(|passes| *passes += 1);
            }
            polled
        })
        .await
    }

    /// A DataLoader spawner (with no delay of its own) whose loads start once the pass they
    /// were asked for in has ended. Only for loaders of an execution run by [`Passes::drive`]
    /// (any other would wait for the request to end), and only for loads asked for by the
    /// execution itself: a loader's own `load` must not wait on another loader of these
    /// passes, which would wait for a pass that never ends (none does today).
    pub fn spawner(&self) -> impl Fn(Load) + Send + Sync + 'static {
        let ended = Arc::clone(&self.ended);
        move |load| {
            let mut passes = ended.subscribe();
            let asked_in = *passes.borrow_and_update();
            crate::telemetry::spawn(async move {
                // An error: the request is gone, and nobody waits for the load.
                if passes.wait_for(|ended| *ended > asked_in).await.is_ok() {
                    load.await;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Loads asked for in one pass start after it, together; a load asked for in the next
    /// pass waits for that one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_load_starts_when_its_pass_ends() {
        let passes = Passes::new();
        let spawn = passes.spawner();
        let started = Arc::new(AtomicUsize::new(0));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let seen = Arc::clone(&started);
        let execution = async move {
            let first = Arc::clone(&seen);
            spawn(Box::pin(async move {
                first.fetch_add(1, Ordering::SeqCst);
                let _ = done_tx.send(());
            }));
            // Still within the first pass: nothing has started, however long it takes.
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(seen.load(Ordering::SeqCst), 0);
            done_rx.await.expect("the load ran");
            seen.load(Ordering::SeqCst)
        };
        assert_eq!(passes.drive(execution).await, 1);
        assert_eq!(started.load(Ordering::SeqCst), 1);
    }
}
