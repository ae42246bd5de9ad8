//! `transactional`, and the connection an open transaction holds.
//!
//! While `transactional` runs, the EntityManager **and every clone of it** are in the
//! transaction (MikroORM propagates its transaction context the same way): queries and flushes
//! made through the closure's argument or through the outer handle run on the transaction's
//! connection, and everything the unit of work holds is flushed before the commit. Nested calls
//! are savepoints.
//!
//! When the transaction rolls back (the closure returned `Err`, the final flush or the commit
//! failed, or the future was dropped), the EntityManager returns to the state it had when the
//! transaction began: what was pending then is pending again, what was created, loaded or
//! flushed inside is forgotten, and keys and versions that flushes inside wrote into live
//! instances are put back. Values changed in memory stay changed (`refresh` or `clear` them).

use super::EntityManager;
use crate::driver::Connection;
use crate::error::{Error, Result};
use crate::session::{Session, Slot};
use crate::unit_of_work::Saved;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

type SharedConnection = Arc<tokio::sync::Mutex<Option<Box<dyn Connection>>>>;

/// An open transaction (or savepoint) of `transactional`.
pub(crate) struct TxState {
    conn: SharedConnection,
    depth: u32,
    finished: AtomicBool,
    /// A nested transaction was abandoned (its future dropped) without rolling back to its
    /// savepoint: what it wrote is still in this transaction, which must therefore not commit.
    poisoned: AtomicBool,
    /// Held by a nested transaction while it runs: a transaction takes it before finishing, so
    /// it never commits under a savepoint that another task still has open.
    nested: Arc<tokio::sync::Mutex<()>>,
}

impl EntityManager {
    /// The innermost open transaction.
    fn current_tx(&self) -> Option<Arc<TxState>> {
        self.inner.tx.lock().clone()
    }

    /// A connection for one operation that may write: the open transaction's, or one of the
    /// primary's from the pool. Reads that follow go to the primary too.
    pub(crate) async fn session(&self) -> Result<Session<'_>> {
        self.inner.wrote.store(true, Ordering::Relaxed);
        self.tx_or(self.inner.orm.session()).await
    }

    /// A connection for a read: the open transaction's; else the primary's when `primary` is
    /// asked for or this EntityManager has written; else a read replica's, when the driver
    /// has any (the primary's otherwise).
    pub(crate) async fn read_session(&self, primary: bool) -> Result<Session<'_>> {
        let orm = &self.inner.orm;
        if primary || self.inner.wrote.load(Ordering::Relaxed) {
            self.tx_or(orm.session()).await
        } else {
            self.tx_or(orm.read_session()).await
        }
    }

    /// The open transaction's session, else `outside`'s.
    async fn tx_or<'a>(
        &'a self,
        outside: impl std::future::Future<Output = Result<Session<'a>>>,
    ) -> Result<Session<'a>> {
        loop {
            let Some(tx) = self.current_tx() else { return outside.await };
            let guard = Arc::clone(&tx.conn).lock_owned().await;
            if !tx.finished.load(Ordering::SeqCst) && guard.is_some() {
                return Ok(Session::new(Slot::Shared(guard), self.inner.orm.query_log()));
            }
            // It finished while we waited for its connection: use what is open now.
        }
    }

    /// Runs `work` in a transaction and commits it, flushing the unit of work first. `work`
    /// receives a clone of this EntityManager; this EntityManager and all its clones are in the
    /// transaction until it ends, so changes made through any of them join it. On `Err` (or a
    /// failed flush or commit, or when the future is dropped) the transaction rolls back and this
    /// EntityManager returns to the state it had before the call: what was pending then is
    /// pending again, what was created, loaded or flushed inside is forgotten, and keys and
    /// versions written into live instances inside are put back (values changed in memory stay
    /// changed: `refresh` or `clear` them). Nested calls use savepoints.
    ///
    /// ```text
    /// BEGIN; … the closure's statements …; SAVEPOINT strata_flush; INSERT …;
    /// RELEASE SAVEPOINT strata_flush; COMMIT
    /// ```
    pub async fn transactional<F, Fut, R, E>(&self, work: F) -> Result<R, E>
    where
        F: FnOnce(EntityManager) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        E: From<Error>,
    {
        let parent = self.current_tx();
        let log = self.inner.orm.query_log();
        // An outermost transaction holds the gate; a nested one holds its parent's lock.
        let (_gate, _nested, tx, savepoint) = match &parent {
            Some(parent) => {
                let nested = Arc::clone(&parent.nested).lock_owned().await;
                let depth = parent.depth + 1;
                let name = format!("strata_tx_{depth}");
                self.session().await?.savepoint(&name).await?;
                let tx = TxState {
                    conn: Arc::clone(&parent.conn),
                    depth,
                    finished: AtomicBool::new(false),
                    poisoned: AtomicBool::new(false),
                    nested: Arc::new(tokio::sync::Mutex::new(())),
                };
                (None, Some(nested), Arc::new(tx), Some(name))
            }
            None => {
                let gate = self.inner.tx_gate.lock().await;
                let conn = self.inner.orm.driver().acquire().await?;
                let conn: SharedConnection = Arc::new(tokio::sync::Mutex::new(Some(conn)));
                Session::new(Slot::Shared(Arc::clone(&conn).lock_owned().await), log)
                    .begin()
                    .await?;
                let tx = TxState {
                    conn,
                    depth: 0,
                    finished: AtomicBool::new(false),
                    poisoned: AtomicBool::new(false),
                    nested: Arc::new(tokio::sync::Mutex::new(())),
                };
                (Some(gate), None, Arc::new(tx), None)
            }
        };
        let saved = self.inner.uow.lock().save();
        *self.inner.tx.lock() = Some(Arc::clone(&tx));
        let mut open = OpenTx { em: self, tx: Arc::clone(&tx), parent, saved: Some(saved) };

        let mut result = work(self.clone()).await;
        // Nested transactions that other tasks opened meanwhile finish first.
        let _no_nested = tx.nested.lock().await;
        if result.is_ok() && tx.poisoned.load(Ordering::SeqCst) {
            result = Err(E::from(Error::usage(
                "a nested transactional() was cancelled before it finished, so what it wrote \
                 could not be rolled back to its savepoint; the whole transaction was rolled \
                 back instead",
            )));
        }
        if result.is_ok()
            && let Err(e) = self.flush().await
        {
            result = Err(E::from(e));
        }
        let mut session = Session::new(Slot::Shared(Arc::clone(&tx.conn).lock_owned().await), log);
        let finish = match (&result, &savepoint) {
            (Ok(_), Some(name)) => session.release_savepoint(name).await,
            (Ok(_), None) => session.commit().await,
            (Err(_), Some(name)) => session.rollback_to_savepoint(name).await,
            (Err(_), None) => session.rollback().await,
        };
        drop(session);
        let committed = result.is_ok() && finish.is_ok();
        open.end(committed);
        match result {
            Ok(value) => {
                finish?;
                Ok(value)
            }
            Err(e) => Err(e),
        }
    }
}

/// A transaction of `transactional` between its start and its end. Dropped without `end` (the
/// future was cancelled, or the closure panicked), it ends as a rollback: the database rolls
/// back when the connection, discarded mid-transaction, closes.
struct OpenTx<'a> {
    em: &'a EntityManager,
    tx: Arc<TxState>,
    parent: Option<Arc<TxState>>,
    saved: Option<Saved>,
}

impl OpenTx<'_> {
    fn end(&mut self, committed: bool) {
        let Some(saved) = self.saved.take() else { return };
        self.tx.finished.store(true, Ordering::SeqCst);
        *self.em.inner.tx.lock() = self.parent.clone();
        let outermost = self.parent.is_none();
        if outermost {
            // Return the connection to the pool even if a clone of the EntityManager lives on
            // (a connection still in a transaction is discarded by the driver instead).
            if let Ok(mut conn) = self.tx.conn.try_lock() {
                conn.take();
            }
        }
        let undo = {
            let mut uow = self.em.inner.uow.lock();
            if committed {
                uow.committed(outermost);
                return;
            }
            uow.rolled_back(saved, outermost)
        };
        // Outside the unit-of-work lock: undoing locks entities.
        for step in undo {
            step();
        }
    }
}

impl Drop for OpenTx<'_> {
    fn drop(&mut self) {
        if self.saved.is_some()
            && let Some(parent) = &self.parent
        {
            parent.poisoned.store(true, Ordering::SeqCst);
        }
        self.end(false);
    }
}
