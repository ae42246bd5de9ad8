//! What a run tells its caller: [`Progress`] as it goes (lock waits, each migration started and
//! finished), and [`MigrationStatus`] lines for `status`. The CLI prints them; a service logs
//! them.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// Where one migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationState {
    /// Applied at this time.
    Executed(DateTime<Utc>),
    /// Not applied yet.
    Pending,
    /// Applied at this time, but its file is not in the source.
    Missing(DateTime<Utc>),
}

/// One line of [`Migrator::status`](super::Migrator::status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The migration id.
    pub name: String,
    /// Applied, pending or missing.
    pub state: MigrationState,
}

impl MigrationStatus {
    /// When it was applied, if it was.
    pub fn executed_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            MigrationState::Executed(at) | MigrationState::Missing(at) => Some(at),
            MigrationState::Pending => None,
        }
    }
}

/// What the migrator is doing, for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Another process holds the migration lock; waiting for it.
    WaitingForLock,
    /// An applied migration has no file in the source.
    Missing {
        /// The migration id.
        id: &'a str,
    },
    /// Dropped an object (`fresh`), such as `table public.post_entity`.
    Dropped {
        /// What was dropped.
        object: &'a str,
    },
    /// Starting to apply a migration (`index` counts from 1 up to `total`).
    Applying {
        /// The migration id.
        id: &'a str,
        /// Its position in this run, from 1.
        index: usize,
        /// How many this run applies.
        total: usize,
    },
    /// A migration was applied and recorded.
    Applied {
        /// The migration id.
        id: &'a str,
        /// How long it took.
        elapsed: Duration,
    },
    /// Starting to revert a migration.
    Reverting {
        /// The migration id.
        id: &'a str,
        /// Its position in this run, from 1.
        index: usize,
        /// How many this run reverts.
        total: usize,
    },
    /// A migration was reverted and its record deleted.
    Reverted {
        /// The migration id.
        id: &'a str,
        /// How long it took.
        elapsed: Duration,
    },
}

/// A callback that receives [`Progress`].
type ProgressFn = dyn Fn(&Progress<'_>) + Send + Sync;

/// Where a [`Migrator`](super::Migrator) sends its [`Progress`]: a callback, or nowhere.
#[derive(Clone, Default)]
pub(crate) struct Reporter(Option<Arc<ProgressFn>>);

impl Reporter {
    /// Reports to `f`.
    pub(crate) fn to(f: impl Fn(&Progress<'_>) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    /// Reports one step.
    pub(crate) fn report(&self, p: &Progress<'_>) {
        if let Some(f) = &self.0 {
            f(p);
        }
    }
}
