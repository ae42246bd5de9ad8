//! The connection pool and the write lock.
//!
//! rusqlite connections are synchronous, so each one sits behind a mutex and every call runs on
//! tokio's blocking threads (`spawn_blocking`); the async side never blocks. The pool keeps
//! idle connections open for good (an in-memory database lives exactly as long as its one
//! connection) and caps how many are handed out with a semaphore.
//!
//! SQLite in WAL mode lets any number of readers run beside ONE writer. Rather than let writers
//! collide and poll (`SQLITE_BUSY`, "database is locked"), every driver of the same database
//! file in this process shares one write lock, an async semaphore taken in FIFO order: by a
//! transaction when it opens (it then runs `BEGIN IMMEDIATE`) until it ends, and by each write
//! outside a transaction for that statement. Reads never take it. Other processes are kept
//! apart by SQLite's own locking with the busy timeout.
//!
//! A connection handle (`SqliteConnection`) takes its pooled connection with its first
//! statement, and a writer takes the write lock before that connection. Writers queueing for the
//! lock therefore hold no connection: when another process holds SQLite's write lock, the one
//! writer of this process that waits for it in SQLite (up to [`BUSY_TIMEOUT`]) holds one
//! connection and the others hold none, so reads keep being served by the rest of the pool. (A
//! handle that reads and then writes outside a transaction keeps its connection while it waits
//! for the lock; the ORM never does that, a flush opens its transaction first.)

use crate::error;
use crate::location::{Location, Mode};
use parking_lot::Mutex;
use rusqlite::OpenFlags;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use strata_core::{Error, ErrorKind, Result};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a statement waits for another process's lock, and a writer for the write lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements cached per connection.
const STATEMENT_CACHE: usize = 64;

/// One connection, shared with the blocking thread that runs its statements.
pub(crate) type Shared = Arc<Mutex<rusqlite::Connection>>;

/// The connections of one driver.
pub(crate) struct Pool {
    location: Location,
    size: usize,
    idle: Mutex<Vec<Shared>>,
    slots: Arc<Semaphore>,
    writer: Arc<Semaphore>,
    wait_timeout: Duration,
}

impl Pool {
    /// Opens the first connection (creating the file when the mode allows) and the pool around
    /// it. An in-memory database gets exactly one connection.
    pub(crate) async fn open(location: Location, size: usize, wait: Duration) -> Result<Pool> {
        let size = match location {
            Location::Memory => 1,
            Location::File { .. } => size.max(1),
        };
        let first = {
            let location = location.clone();
            blocking(move || connect(&location)).await??
        };
        let writer = match &location {
            Location::Memory => Arc::new(Semaphore::new(1)),
            Location::File { path, .. } => write_lock_of(path),
        };
        Ok(Pool {
            location,
            size,
            idle: Mutex::new(vec![Arc::new(Mutex::new(first))]),
            slots: Arc::new(Semaphore::new(size)),
            writer,
            wait_timeout: wait,
        })
    }

    /// The database, for messages.
    pub(crate) fn describe(&self) -> String {
        self.location.describe()
    }

    /// The most connections handed out at once.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Takes an idle connection, or opens one, waiting for a free slot.
    pub(crate) async fn get(&self) -> Result<(Shared, OwnedSemaphorePermit)> {
        let slot = tokio::time::timeout(self.wait_timeout, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Connection,
                    format!(
                        "timed out after {:?} waiting for a connection to the SQLite database \
                         {}: all {} are in use; raise STRATA_POOL_SIZE or keep transactions short",
                        self.wait_timeout,
                        self.describe(),
                        self.size
                    ),
                )
            })?
            .map_err(|_| Error::new(ErrorKind::Connection, "the SQLite pool is closed"))?;
        if let Some(conn) = self.idle.lock().pop() {
            return Ok((conn, slot));
        }
        let location = self.location.clone();
        let conn = blocking(move || connect(&location)).await??;
        Ok((Arc::new(Mutex::new(conn)), slot))
    }

    /// Returns a connection that is outside any transaction.
    pub(crate) fn put(&self, conn: Shared) {
        self.idle.lock().push(conn);
    }

    /// Waits (at most [`BUSY_TIMEOUT`]) for the write lock of the database.
    pub(crate) async fn write_lock(&self) -> Result<OwnedSemaphorePermit> {
        tokio::time::timeout(BUSY_TIMEOUT, self.writer.clone().acquire_owned())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::SerializationFailure,
                    format!(
                        "timed out after {BUSY_TIMEOUT:?} waiting to write to the SQLite \
                         database {}: another transaction of this process holds it; retry, and \
                         keep transactions short (a transaction that waits for a write outside \
                         itself waits for itself)",
                        self.describe()
                    ),
                )
            })?
            .map_err(|_| Error::new(ErrorKind::Connection, "the SQLite pool is closed"))
    }
}

/// Runs `f` on a blocking thread.
pub(crate) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        Error::new(ErrorKind::Database, format!("the SQLite worker thread failed: {e}"))
    })
}

/// The write lock shared by every driver of the file at `path` in this process.
fn write_lock_of(path: &std::path::Path) -> Arc<Semaphore> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Weak<Semaphore>>>> = OnceLock::new();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut locks = LOCKS.get_or_init(Default::default).lock();
    locks.retain(|_, lock| lock.strong_count() > 0);
    if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
        return lock;
    }
    let lock = Arc::new(Semaphore::new(1));
    locks.insert(key, Arc::downgrade(&lock));
    lock
}

/// Opens one connection: creates the directory when allowed, then WAL mode, the busy timeout
/// and foreign keys.
fn connect(location: &Location) -> Result<rusqlite::Connection> {
    let described = location.describe();
    let fail = |e| error::open(e, &described);
    let conn = match location {
        Location::Memory => rusqlite::Connection::open_in_memory().map_err(fail)?,
        Location::File { path, mode } => {
            let flags = match mode {
                Mode::Create => {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            Error::new(
                                ErrorKind::Connection,
                                format!(
                                    "cannot create the directory {} for the SQLite database \
                                     {described}: {e}; create it, or point DATABASE_URL at \
                                     another file",
                                    dir.display()
                                ),
                            )
                            .with_source(e)
                        })?;
                    }
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
                }
                Mode::Existing => OpenFlags::SQLITE_OPEN_READ_WRITE,
                Mode::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            };
            rusqlite::Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(fail)?
        }
    };
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    if matches!(location, Location::File { mode: Mode::Create | Mode::Existing, .. }) {
        // Readers and the writer then never block each other. The mode is kept in the file.
        let journal: String =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(fail)?;
        if !journal.eq_ignore_ascii_case("wal") {
            tracing::warn!(database = %described, journal, "SQLite did not switch to WAL mode");
        }
    }
    // NORMAL is safe in WAL mode: a power loss may lose the last commits, never consistency.
    // LIKE is case-sensitive, as on PostgreSQL, so the same filter matches the same rows on
    // both (`ilike` is rendered with lower() on both sides).
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;",
    )
    .map_err(fail)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}
