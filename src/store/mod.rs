//! The SQLite store: the source of truth for sessions and messages.
//!
//! Every mutation is one IMMEDIATE transaction, so no operation is ever left
//! half done. SQL is always parameterised. This module knows nothing of the
//! CLI or the TUI; both call the same methods.

mod archived;
mod chars;
mod cleanup;
mod compress;
mod doctor;
mod import;
mod lineage;
mod messages;
mod outbox;
mod retention;
mod rows;
pub mod schema;
mod sessions;
mod stats;
mod turns;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use crate::domain::{Session, SessionId};
use crate::error::{Error, Result};

pub use compress::CompressReport;
pub(crate) use compress::Damaged;
pub use doctor::DoctorReport;
pub use import::{
    Added, FileReport, FileState, ImportBatch, ImportOptions, ImportReport, OutboxSpan, Skipped,
};
pub use outbox::{OutboxOp, OutboxRow};
pub use retention::{RetentionLog, RetentionPlan, RetentionPolicy, RetentionRun, Trim};
pub use sessions::SessionPatch;
pub use stats::{CompressedStats, Count, RoleStats, SessionStats, StoreStats};

/// Limits and behaviour of a store, from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Largest message content accepted, in bytes.
    pub max_message_bytes: usize,
    /// Message contents of at least this many bytes are stored
    /// zstd-compressed; `None` stores every content as text. Reading does
    /// not depend on it: a store may hold both.
    pub compress_min_bytes: Option<usize>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_message_bytes: 32 * 1024 * 1024,
            compress_min_bytes: None,
        }
    }
}

/// A scrollback store: one SQLite database.
///
/// ```
/// use scrollback::{Store, NewSession, NewMessage, Role};
///
/// let mut store = Store::open_in_memory()?;
/// let s = store.create_session(&NewSession::named("demo"))?;
/// store.add_message(s.id, NewMessage::new(Role::User, "hello"))?;
/// assert_eq!(store.session("demo")?.message_count, 1);
/// # Ok::<(), scrollback::Error>(())
/// ```
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    /// For an in-memory store: the shared-cache URI other connections use.
    memory_uri: Option<String>,
    options: StoreOptions,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` with default options.
    /// A missing directory is created with mode 0700 and the file with 0600.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens the store at `path` with the given options.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        crate::paths::prepare_private_file(&path)?;
        let corrupt = |e: &rusqlite::Error| Error::Corrupt {
            path: path.clone(),
            detail: e.to_string(),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| map_open(e, &path))?;
        let mut store = Store {
            conn,
            path: Some(path.clone()),
            memory_uri: None,
            options,
        };
        store.init().map_err(|e| match e {
            Error::Sqlite(ref s) if is_corruption(s) => corrupt(s),
            other => other,
        })?;
        Ok(store)
    }

    /// A store that lives in memory and vanishes when dropped.
    pub fn open_in_memory() -> Result<Self> {
        Self::open_in_memory_with(StoreOptions::default())
    }

    /// An in-memory store with the given options.
    pub fn open_in_memory_with(options: StoreOptions) -> Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let uri = format!(
            "file:scrollback-memory-{}-{}?mode=memory&cache=shared",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut store = Store {
            conn: Connection::open_with_flags(&uri, memory_flags())?,
            path: None,
            memory_uri: Some(uri),
            options,
        };
        store.init()?;
        Ok(store)
    }

    /// A second connection to the same store, for work on another thread
    /// (the search indexer, a background job). An in-memory store is shared
    /// while any of its connections is open.
    pub fn reopen(&self) -> Result<Store> {
        match (&self.path, &self.memory_uri) {
            (Some(path), _) => Store::open_with(path, self.options),
            (None, Some(uri)) => {
                let mut store = Store {
                    conn: Connection::open_with_flags(uri, memory_flags())?,
                    path: None,
                    memory_uri: Some(uri.clone()),
                    options: self.options,
                };
                store.init()?;
                Ok(store)
            }
            (None, None) => Err(Error::invalid(
                "store",
                "unnamed",
                "a file or shared in-memory store",
            )),
        }
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The options this store was opened with.
    pub fn options(&self) -> StoreOptions {
        self.options
    }

    /// SQLite's data version: it changes when another connection commits,
    /// so a cache built from this connection's reads knows when to refresh.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    /// Schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn init(&mut self) -> Result<()> {
        chars::register(&self.conn)?;
        let c = &self.conn;
        c.busy_timeout(Duration::from_secs(crate::error::BUSY_TIMEOUT_SECS))?;
        // One snapshot for the version, the id and the tables: another
        // process may be creating the same new store right now.
        let (version, unclaimed) = {
            let tx = c.unchecked_transaction()?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let unclaimed = self.claim(version)?;
            tx.commit()?;
            (version, unclaimed)
        };
        let c = &self.conn;
        if version > schema::CURRENT_VERSION {
            return Err(Error::TooNew {
                path: self.path.clone().unwrap_or_default(),
                found: version,
                known: schema::CURRENT_VERSION,
            });
        }
        if version == 0 {
            // Only takes effect before the first table exists.
            c.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; PRAGMA page_size = 16384;")?;
        }
        if self.path.is_some() {
            // WAL lets readers (a TUI) go on while a writer (an import) works.
            wal(c)?;
        }
        c.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;",
        )?;
        self.migrate(version, unclaimed)?;
        if unclaimed {
            self.conn
                .pragma_update(None, "application_id", schema::APPLICATION_ID)?;
        }
        Ok(())
    }
}

/// Puts the database in WAL mode. SQLite answers "busy" at once, without
/// waiting, while another connection is setting up the same new file: the
/// change is tried again until the busy timeout.
fn wal(c: &Connection) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < Duration::from_secs(crate::error::BUSY_TIMEOUT_SECS) =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

impl Store {
    /// Makes sure the database is scrollback's before anything is written to
    /// it: one that carries SQLite's `application_id` is ours; an empty one,
    /// or one made by a scrollback from before the id (its tables, a known
    /// schema version), is ours to claim (returns true: `init` writes the id
    /// once the schema is there, so that a new file still gets its page size).
    /// Anything else belongs to another program and is refused, left byte
    /// for byte as it was.
    fn claim(&self, version: i64) -> Result<bool> {
        let c = &self.conn;
        let id: i64 = c.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        if id == schema::APPLICATION_ID {
            return Ok(false);
        }
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let empty = tables.is_empty() && version == 0;
        let ours_before_the_id = id == 0
            && (1..=schema::CURRENT_VERSION).contains(&version)
            && ["session", "message", "tag"]
                .iter()
                .all(|t| tables.iter().any(|n| n == t));
        if !(empty || ours_before_the_id) {
            return Err(Error::Foreign {
                path: self.path.clone().unwrap_or_default(),
                found: if id == 0 {
                    format!("{} tables of its own", tables.len())
                } else {
                    format!("application id {id:#x}")
                },
            });
        }
        Ok(true)
    }

    /// Brings the schema up to date; a store being claimed gets its id in
    /// the same transaction, so that no other process ever sees its tables
    /// without it.
    fn migrate(&mut self, from: i64, claim: bool) -> Result<()> {
        if from == schema::CURRENT_VERSION {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in schema::MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(now).unwrap_or(0))
        {
            tx.execute_batch(sql)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )?;
        }
        if now < schema::CURRENT_VERSION {
            // A migration may change the schema's text in place (v8 does):
            // a new schema cookie makes every connection read it again.
            let cookie: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
            tx.pragma_update(None, "schema_version", cookie + 1)?;
        }
        if claim {
            tx.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Begins a write transaction that takes the write lock at once.
    fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Finds a session by exact name, exact uid, or unique uid prefix (at
    /// least 4 characters). Trashed and archived sessions are found too.
    pub fn session(&self, selector: &str) -> Result<Session> {
        rows::resolve(&self.conn, selector)
    }

    /// Finds a session by exact name or exact uid, never by a prefix: for
    /// programs, whose own ids must not land on another session whose uid
    /// happens to start with them.
    pub fn session_exact(&self, selector: &str) -> Result<Session> {
        rows::resolve_with(&self.conn, selector, false)
    }

    /// How long a write waits for another writer before giving up with
    /// [`Error::Busy`] (default [`BUSY_TIMEOUT_SECS`](crate::error::BUSY_TIMEOUT_SECS)).
    pub fn set_busy_timeout(&self, wait: Duration) -> Result<()> {
        Ok(self.conn.busy_timeout(wait)?)
    }

    /// A session by internal id.
    pub fn session_by_id(&self, id: SessionId) -> Result<Session> {
        rows::session_by_id(&self.conn, id)
    }

    /// Uid, name, title, source and source ref of the sessions of `ids`
    /// that exist, in one query (in no set order).
    pub fn session_heads(&self, ids: &[SessionId]) -> Result<Vec<SessionHead>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(|id| id.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT id, uid, name, title, source, source_ref FROM session WHERE id IN ({list})"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for row in rows {
            let (id, uid, name, title, source, source_ref) = row?;
            out.push(SessionHead {
                id: SessionId(id),
                uid: crate::domain::Uid(uid),
                name,
                title,
                source,
                source_ref,
            });
        }
        Ok(out)
    }
}

/// What a search result shows of its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionHead {
    pub id: SessionId,
    pub uid: crate::domain::Uid,
    pub name: String,
    pub title: String,
    pub source: String,
    pub source_ref: Option<String>,
}

fn memory_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

fn map_open(e: rusqlite::Error, path: &Path) -> Error {
    if is_corruption(&e) {
        Error::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }
    } else {
        Error::Sqlite(e)
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}
