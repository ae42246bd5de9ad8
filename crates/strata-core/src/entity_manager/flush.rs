//! `flush`: the unit of work written in one transaction.
//!
//! ```text
//! collect (unit of work locked, entity locks only tried: change sets, hooks run) ─► plan (the
//! borrowed entities waited for, batches grouped) ─► render ─► BEGIN / SAVEPOINT ─► pipelined
//! set-based statements ─► COMMIT
//! ─► write back generated values (entities) ─► apply (unit of work locked)
//! ```

use super::EntityManager;
use crate::error::{Error, Result};
use crate::unit_of_work::persister;

impl EntityManager {
    /// Writes every pending change in one transaction. With nothing to do, sends nothing.
    ///
    /// On failure the transaction is rolled back and the EntityManager keeps every pending
    /// change (no generated key is written back), so the caller can fix the cause and flush
    /// again, or `clear`. A row that another writer deleted since it was loaded fails the flush
    /// with [`crate::ErrorKind::RowGone`] (or, for a versioned entity,
    /// [`crate::ErrorKind::OptimisticLock`]).
    ///
    /// Changes made while the flush runs (from another task holding a clone of this
    /// EntityManager) are not lost: the flush applies only what it wrote, and the rest is
    /// written by the next flush.
    pub async fn flush(&self) -> Result<()> {
        let _serial = self.inner.flush_lock.lock().await;
        let planner = self.inner.uow.lock().collect()?;
        let Some(planner) = planner else { return Ok(()) };
        let uow = &self.inner.uow;
        let Some(mut plan) = planner.plan(|h| uow.lock().tracks(h))? else { return Ok(()) };
        let orm = &self.inner.orm;
        let mut session = self.session().await?;
        let in_tx = session.is_transaction();
        if in_tx {
            session.savepoint("strata_flush").await?;
        } else {
            session.begin().await?;
        }
        let executed =
            persister::execute(&mut session, &mut plan, orm.dialect(), orm.default_schema());
        let executed = match executed.await {
            Ok(executed) => executed,
            Err(e) => {
                // The original error matters; a failed rollback (connection gone) is implied.
                let _ = if in_tx {
                    session.rollback_to_savepoint("strata_flush").await
                } else {
                    session.rollback().await
                };
                return Err(e);
            }
        };
        if in_tx {
            session.release_savepoint("strata_flush").await?;
        } else {
            session.commit().await?;
        }
        drop(session);
        let (undo, borrowed) = plan.write_back(executed.returned, &executed.keys, in_tx);
        let tasks = self.inner.uow.lock().apply(plan, undo);
        // Outside the unit-of-work lock: these lock entities.
        for task in tasks {
            task();
        }
        match borrowed {
            None => Ok(()),
            Some(e) => Err(Error::usage(format!(
                "the flush was committed, but an instance could not be updated with its \
                 generated values: {}",
                e.message()
            ))),
        }
    }
}
