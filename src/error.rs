//! The library's typed error. Every message names the thing, the place and
//! what was expected, so the CLI can print it as one line.

use std::path::PathBuf;

use crate::store::ImportReport;

/// How long a writer waits for another one (an import) to let go of the
/// database before giving up with [`Error::Busy`].
pub const BUSY_TIMEOUT_SECS: u64 = 30;

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the store, the importers and the exporters.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No session has this name, uid or uid prefix.
    #[error("no session named {0:?} (and no uid starts with it)")]
    NotFound(String),
    /// A uid prefix names more than one session.
    #[error("{prefix:?} is ambiguous: it starts the uids of {}", candidates.join(", "))]
    Ambiguous {
        /// The prefix as given.
        prefix: String,
        /// Names of (some of) the sessions it matches.
        candidates: Vec<String>,
    },
    /// Another session already has this name.
    #[error("a session named {0:?} already exists; choose another name")]
    NameTaken(String),
    /// A value that breaks a rule: a name, a tag, a span, a role, a seq.
    #[error("invalid {what} {value:?}: {expected}")]
    Invalid {
        /// What kind of value it is ("name", "tag", "span", ...).
        what: &'static str,
        /// The value as given (shortened if long).
        value: String,
        /// What was expected instead.
        expected: String,
    },
    /// A message is larger than `storage.max_message_bytes`.
    #[error(
        "message of {size} bytes is over the limit of {limit} bytes (config key storage.max_message_bytes)"
    )]
    MessageTooLarge {
        /// Size of the message content in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// An input file that cannot be read as the format it claims.
    #[error("{}: {location}: {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where in it: "line 12, column 4", "byte 1024", "session 3".
        location: String,
        /// What was found and what was expected.
        reason: String,
    },
    /// An input file that ends in the middle of a value.
    #[error(
        "{}: {location}: the file ends in the middle of a value (it looks truncated), after {complete} \
         complete {what}; `scrollback import --partial` imports those {complete}",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where it ends.
        location: String,
        /// Complete items before the cut.
        complete: u64,
        /// What the items are ("sessions", "conversations", "lines").
        what: &'static str,
    },
    /// A format name nobody knows, or a file whose format cannot be detected.
    #[error("{0}")]
    UnknownFormat(String),
    /// The database was written by a newer scrollback.
    #[error(
        "{} was written by a newer scrollback (schema version {found}; this build knows up to {known}); \
         upgrade scrollback to open it. The file was not changed.",
        path.display()
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Schema version found in the file.
        found: i64,
        /// Newest schema version this build knows.
        known: i64,
    },
    /// The file is another program's SQLite database.
    #[error(
        "{} is not a scrollback database ({found}): it belongs to another program and was \
         left as it was; give --db the path of a scrollback database, or of a new file",
        path.display()
    )]
    Foreign {
        /// The database file.
        path: PathBuf,
        /// What it holds instead.
        found: String,
    },
    /// The database file is damaged or not a database at all.
    #[error(
        "{} is not a readable scrollback database ({detail}). It was left untouched. \
         To recover: copy it aside, then try `sqlite3 FILE .recover | sqlite3 NEW.db` and open NEW.db \
         with --db, or restore your latest backup.",
        path.display()
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// A message whose stored content cannot be read back: it was stored
    /// compressed (`storage.compress_messages`) and its bytes are damaged.
    #[error(
        "{detail}. The message was left as it is; `scrollback doctor` lists the damaged messages"
    )]
    DamagedMessage {
        /// Which message, when known, and what is wrong with it.
        detail: String,
    },
    /// The search index failed (it can always be rebuilt with `scrollback reindex`).
    #[error("search index {}: {detail} (run `scrollback reindex` to rebuild it from the store)", dir.display())]
    Index {
        /// The index directory.
        dir: PathBuf,
        /// What tantivy said.
        detail: String,
    },
    /// The search index's files are damaged. Search rebuilds a damaged index
    /// from the store by itself; this is seen only when that failed too.
    #[error("search index {} is damaged: {detail} (run `scrollback reindex` to rebuild it from the store)", dir.display())]
    IndexDamaged {
        /// The index directory.
        dir: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The place of the search index holds something that is not one.
    #[error("{} exists and is not a scrollback index: move it away or pass another --db", dir.display())]
    NotAnIndex {
        /// The folder (or file) in the index's place.
        dir: PathBuf,
    },
    /// A search query that cannot be understood.
    #[error("{0}")]
    Query(String),
    /// The operation was cancelled through its cancel flag.
    #[error("cancelled")]
    Cancelled,
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another connection held the write lock for longer than
    /// [`BUSY_TIMEOUT_SECS`] (SQLite's `SQLITE_BUSY`).
    #[error(
        "the database is busy: another scrollback is writing (an import?); tried for {BUSY_TIMEOUT_SECS} s"
    )]
    Busy,
    /// Some files of an import could not be imported; the others were. The
    /// report lists the failures with their reasons.
    #[error("{}", .0.failure_summary())]
    SomeFilesFailed(Box<ImportReport>),
    /// SQLite failed in a way not covered above. (Not a `source`: SQLite's
    /// own text is the whole message, printed once.)
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// JSON (de)serialisation of stored data failed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<rusqlite::Error> for Error {
    /// SQLite's "database is locked" (`SQLITE_BUSY`, after the busy timeout)
    /// becomes [`Error::Busy`]; a damaged compressed content, whether a row
    /// reader or an SQL function met it, [`Error::DamagedMessage`];
    /// everything else is [`Error::Sqlite`].
    fn from(e: rusqlite::Error) -> Self {
        use crate::store::Damaged;
        match e {
            rusqlite::Error::FromSqlConversionFailure(i, t, source) => {
                match source.downcast::<Damaged>() {
                    Ok(d) => Error::DamagedMessage {
                        detail: d.to_string(),
                    },
                    Err(source) => {
                        Error::Sqlite(rusqlite::Error::FromSqlConversionFailure(i, t, source))
                    }
                }
            }
            rusqlite::Error::SqliteFailure(_, Some(ref text))
                if text.starts_with(Damaged::PREFIX) =>
            {
                Error::DamagedMessage {
                    detail: text.clone(),
                }
            }
            e if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Error::Busy,
            e => Error::Sqlite(e),
        }
    }
}

impl Error {
    /// Builds [`Error::Invalid`], shortening long values so the line stays readable.
    pub fn invalid(what: &'static str, value: &str, expected: impl Into<String>) -> Self {
        let mut short: String = value.chars().take(80).collect();
        if short.len() < value.len() {
            short.push('…');
        }
        Error::Invalid {
            what,
            value: short,
            expected: expected.into(),
        }
    }

    /// Builds [`Error::Io`] for a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True for errors that mean "no such session".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }
}
