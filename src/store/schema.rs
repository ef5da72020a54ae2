//! The schema and its migrations, keyed on `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] takes the database from version `i` to
//! `i + 1`. Entries are never edited once released: a change is a new entry.

/// Schema version this build writes.
#[allow(clippy::cast_possible_wrap)] // a handful of migrations
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// What scrollback writes into SQLite's `application_id` ("SBK1"): a
/// database without it, and not empty, is another program's.
pub const APPLICATION_ID: i64 = 0x5342_4B31;

/// SQL of each migration, in order.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

const V1: &str = "
CREATE TABLE session (
    id            INTEGER PRIMARY KEY,
    uid           TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    archived_at   INTEGER,
    trashed_at    INTEGER,
    parent_uid    TEXT,
    fork_seq      INTEGER,
    source        TEXT NOT NULL DEFAULT 'scrollback',
    source_ref    TEXT,
    message_count INTEGER NOT NULL DEFAULT 0,
    char_count    INTEGER NOT NULL DEFAULT 0,
    metadata      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX session_updated ON session(updated_at);
CREATE INDEX session_created ON session(created_at);
CREATE INDEX session_size ON session(message_count);
CREATE INDEX session_parent ON session(parent_uid) WHERE parent_uid IS NOT NULL;
CREATE UNIQUE INDEX session_source_ref ON session(source, source_ref) WHERE source_ref IS NOT NULL;

CREATE TABLE message (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES session(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    model       TEXT,
    tokens_in   INTEGER,
    tokens_out  INTEGER,
    metadata    TEXT,
    source_id   TEXT
);
CREATE UNIQUE INDEX message_seq ON message(session_id, seq);

CREATE TABLE tag (
    session_id INTEGER NOT NULL REFERENCES session(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
) WITHOUT ROWID;
CREATE INDEX tag_by_name ON tag(tag, session_id);
";

/// The search index outbox: every change that the index must follow writes a
/// row here in the same transaction; the indexer applies rows in order and
/// deletes them once the index has committed them.
const V2: &str = "
CREATE TABLE index_outbox (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('messages', 'session', 'purge')),
    from_seq   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO index_outbox (session_id, op, from_seq) SELECT id, 'messages', 0 FROM session;
INSERT INTO index_outbox (session_id, op) SELECT id, 'session' FROM session;
";

/// Message kinds (text, thinking, tool calls and results, injected context,
/// summaries, images), and what an import remembers of each file it read
/// (identity, size, modification time) so that the next import of an
/// unchanged file does not read it.
const V3: &str = "
ALTER TABLE message ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'thinking', 'tool_call', 'tool_result', 'context', 'summary', 'image'));
CREATE TABLE import_file (
    path        TEXT PRIMARY KEY,
    format      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    file_id     TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);
";

/// How many sessions each file gave on its last read, and where the last read of an append-only log stopped (the byte after its
/// last complete line, a hash of what precedes it, and what the format needs
/// to go on from there), so that a log that grew is read from there on.
const V4: &str = "
ALTER TABLE import_file ADD COLUMN tail TEXT;
ALTER TABLE import_file ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0;
";

/// The log of retention runs: when, what ran it, and what each did.
const V5: &str = "
CREATE TABLE retention_run (
    id               INTEGER PRIMARY KEY,
    ran_at           INTEGER NOT NULL,
    trigger          TEXT NOT NULL,
    archived         INTEGER NOT NULL DEFAULT 0,
    trashed          INTEGER NOT NULL DEFAULT 0,
    purged           INTEGER NOT NULL DEFAULT 0,
    trimmed          INTEGER NOT NULL DEFAULT 0,
    messages_removed INTEGER NOT NULL DEFAULT 0
);
";

/// A message's content may be a BLOB holding a zstd frame of its text
/// (`storage.compress_messages`) as well as TEXT. No data changes: the new
/// version is what keeps a build from before, which would read a frame as
/// text, from opening a store that may hold one (it refuses a newer schema).
const V6: &str = "-- message.content: TEXT, or a BLOB holding a zstd frame of the text";

/// Sessions moved out of the store into an archive file (`archive --to`):
/// which file holds each uid, so that a branch left behind can say where
/// its parent went.
const V7: &str = "
CREATE TABLE archived_session (
    uid         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    archive     TEXT NOT NULL,
    archived_at INTEGER NOT NULL
);
";

/// The value checks of `message.role`, `message.kind` and `index_outbox.op`
/// say the same thing with `=` and `OR` instead of `IN (...)`. SQLite builds
/// a temporary b-tree for an `IN` list of more than two values each time it
/// checks a row, which made every message written cost about 4 µs more than
/// it does now (500,000 single-row inserts: 2.6 s against 0.6 s). The stored
/// data satisfies both forms alike, so only the schema's text changes, in
/// place, by SQLite's documented procedure for changing a CHECK constraint;
/// `Store::migrate` bumps `schema_version` after it, so that every
/// connection reads the new text.
const V8: &str = "
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(replace(sql,
    'role IN (''system'', ''user'', ''assistant'', ''tool'')',
    'role = ''system'' OR role = ''user'' OR role = ''assistant'' OR role = ''tool'''),
    'kind IN (''text'', ''thinking'', ''tool_call'', ''tool_result'', ''context'', ''summary'', ''image'')',
    'kind = ''text'' OR kind = ''thinking'' OR kind = ''tool_call'' OR kind = ''tool_result''
        OR kind = ''context'' OR kind = ''summary'' OR kind = ''image''')
WHERE type = 'table' AND name = 'message';
UPDATE sqlite_schema SET sql = replace(sql,
    'op IN (''messages'', ''session'', ''purge'')',
    'op = ''messages'' OR op = ''session'' OR op = ''purge''')
WHERE type = 'table' AND name = 'index_outbox';
PRAGMA writable_schema = OFF;
";
