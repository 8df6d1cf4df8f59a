//! Durable state in SQLite. A mutation runs in one transaction and commits before its response is written,
//! so a `kill -9` after a 200 loses nothing. WAL with `synchronous=NORMAL` survives process crashes (the
//! committed WAL frames are in the OS already); only power loss could drop the last commits.

mod associations;
mod db;
pub mod model;
mod schema;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rusqlite::Connection;

pub use associations::AssociationFilter;
pub use db::{Cleared, Db, Page};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored record is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error(transparent)]
    Schema(#[from] schema::TooNew),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

pub struct Store {
    conn: Mutex<Connection>,
    /// Counts committed writes, so callers can tell whether what they read is still current.
    generation: AtomicU64,
}

impl Store {
    /// `None` keeps everything in memory (`--ephemeral`).
    pub fn open(path: Option<&Path>) -> Result<Store, StoreError> {
        let mut conn = match path {
            Some(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                // Reads through the page cache without a copy per page: at 100,000 roles the database
                // outgrows SQLite's own cache and GetRole would otherwise pay a pread per B-tree page.
                conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            generation: AtomicU64::new(0),
        })
    }

    /// Runs `f` with the connection. `f`'s error type is the caller's: a handler's domain error wraps
    /// [`StoreError`], and the store knows nothing of it. Blocks: call it from the blocking pool ([`blocking`]).
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.lock();
        f(&Db::new(&conn))
    }

    /// Runs `f` in a transaction committed only when it returns `Ok`: a failed request changes nothing.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(StoreError::from)?;
        let value = f(&Db::new(&tx))?;
        tx.commit().map_err(StoreError::from)?;
        self.generation.fetch_add(1, Ordering::Release);
        Ok(value)
    }

    /// Changes with every committed write. Read it before reading the store: a value read while it was `g`
    /// is still current as long as it is `g`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written transaction (it rolls back on drop),
        // so the connection is still sound.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The one rule for blocking work: SQLite calls block the thread (the lock, and the disk for writes), so a
/// request's store work runs here, on tokio's blocking pool, and never on a runtime thread where it would stall
/// every other connection that thread serves. One hop per request: a handler gathers all its store work into one
/// closure. A panic in it answers as an internal error instead of taking the connection down.
pub async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<Panicked> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|join_error| {
            tracing::error!(error = %join_error, "handler panicked");
            Err(E::from(Panicked))
        })
}

/// Work handed to [`blocking`] panicked.
#[derive(Debug, thiserror::Error)]
#[error("the emulator failed while handling this request")]
pub struct Panicked;
