//! Read replicas: reads outside a transaction spread across streaming standbys.
//!
//! Each replica of `read_replicas` gets a pool like the primary's. [`Replicas::pick`] takes the
//! next replica in turn (round robin) and a connection from its pool; a replica whose pool
//! cannot give one (the server is down, refuses, or is out of connections until the connect
//! timeout) is skipped, rests for [`REST`] so that reads do not wait on it again and again,
//! and is logged once as down (and once as back); when none answers, the caller reads from the
//! primary. Writes, flushes and everything inside a transaction never come here.

use crate::error;
use crate::reset::CancelTarget;
use deadpool_postgres::{Object, Pool};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a replica that did not answer is left out before it is tried again.
pub(crate) const REST: Duration = Duration::from_secs(5);

/// One read replica.
pub(crate) struct Replica {
    pub(crate) pool: Pool,
    /// Its URL, password hidden.
    pub(crate) target: Arc<str>,
    pub(crate) cancel_target: Arc<CancelTarget>,
    /// Until when it is left out after failing.
    resting_until: Mutex<Option<Instant>>,
}

impl Replica {
    fn resting(&self) -> MutexGuard<'_, Option<Instant>> {
        self.resting_until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn new(pool: Pool, target: Arc<str>, cancel_target: Arc<CancelTarget>) -> Self {
        Self { pool, target, cancel_target, resting_until: Mutex::new(None) }
    }
}

/// The read replicas of a driver.
#[derive(Default)]
pub(crate) struct Replicas {
    all: Vec<Replica>,
    next: AtomicUsize,
}

impl Replicas {
    pub(crate) fn new(all: Vec<Replica>) -> Self {
        Self { all, next: AtomicUsize::new(0) }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// A connection of the next replica that gives one, with the replica's index; `None` when
    /// none does.
    pub(crate) async fn pick(&self) -> Option<(usize, &Replica, Object)> {
        let n = self.all.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let index = (start + i) % n;
            let replica = &self.all[index];
            let resting = *replica.resting();
            if resting.is_some_and(|until| Instant::now() < until) {
                continue;
            }
            match replica.pool.get().await {
                Ok(client) => {
                    if replica.resting().take().is_some() {
                        tracing::info!(
                            target: "strata::postgres",
                            replica = index,
                            url = %replica.target,
                            "read replica answers again; reads go to it"
                        );
                    }
                    return Some((index, replica, client));
                }
                Err(e) => {
                    let was_resting = replica.resting().replace(Instant::now() + REST);
                    if was_resting.is_none() {
                        tracing::warn!(
                            target: "strata::postgres",
                            replica = index,
                            error = %error::pool(e, &replica.target),
                            "read replica does not answer; its reads go to another replica or \
                             the primary, and it is tried again in {} s",
                            REST.as_secs()
                        );
                    }
                }
            }
        }
        None
    }
}
