//! Bulk import: many sessions in one transaction, committed only when every
//! session of it was written (an import of several files commits one batch
//! per file). Dropping an [`ImportBatch`] without committing leaves the
//! store exactly as it was.

use std::fmt::Write as _;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::Store;
use super::messages::insert_message;
use super::outbox::{OutboxOp, enqueue, enqueue_whole};
use super::rows::{MESSAGE_COLUMNS, message_from_row, to_i64, to_u64};
use super::sessions::{SessionRow, insert_session, name_taken};
use crate::domain::{
    MessageDoc, NewMessage, SessionDoc, SessionId, Uid, now, ts_from_ms, ts_to_ms, validate_name,
};
use crate::error::{Error, Result};
use crate::import::PathNote;

/// How an import treats ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Give every imported session a fresh uid and no source reference, so it
    /// is imported as a new session even if it was imported before.
    pub new_id: bool,
    /// Read every file, even one unchanged since its last import.
    pub reread: bool,
}

/// A name that was taken, and the one the imported session got instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renamed {
    /// Name in the input.
    pub from: String,
    /// Name in the store.
    pub to: String,
}

/// Items of one kind an import left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// What they are: `line type "progress"`, `content block "document"`.
    pub what: String,
    /// Why they were left out.
    pub reason: String,
    /// How many.
    pub count: u64,
}

/// What an import remembers of a file it read: when the file is met again
/// with the same identity, size and modification time, it is not read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// The file's canonical path.
    pub path: String,
    /// The format it was read as.
    pub format: String,
    /// Its size when read.
    pub size: u64,
    /// Its modification time when read, in nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// What the file is beside its path (device and inode, and for a SQLite
    /// file the state of its write-ahead log).
    pub file_id: String,
    /// For an append-only log: where its last read stopped and what the
    /// importer needs to read on from there (the importer's own JSON).
    pub tail: Option<String>,
    /// Sessions (branches and child sessions included) the file gave.
    pub sessions: u64,
}

/// What an import did with one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The file, as met.
    pub path: String,
    /// The format found (or given).
    pub format: String,
    /// True when the file had not changed since it was last imported, and
    /// was not read.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unchanged_file: bool,
    /// New sessions (branches and child sessions included).
    pub sessions_new: u64,
    /// Of the new sessions, branches and child sessions (those with a parent).
    pub branches: u64,
    /// Sessions that gained messages.
    pub sessions_grown: u64,
    /// Sessions already there and unchanged.
    pub sessions_unchanged: u64,
    /// Messages written.
    pub messages: u64,
    /// What was left out, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Files imported.
    pub files: u64,
    /// New sessions.
    pub sessions_added: u64,
    /// Of the new sessions, branches and child sessions (those with a parent).
    pub branches_added: u64,
    /// Files not read because they had not changed since the last import.
    pub files_unchanged: u64,
    /// Logs that only grew, read on from where their last read stopped
    /// rather than whole.
    #[serde(skip_serializing_if = "is_zero")]
    pub read_on: u64,
    /// Bytes read from the files (nothing for a file not read; what was
    /// added for a log read on).
    pub bytes_read: u64,
    /// Sessions already present that gained messages (the input grew).
    pub sessions_grown: u64,
    /// Sessions already present and unchanged.
    pub sessions_unchanged: u64,
    /// Messages written.
    pub messages_added: u64,
    /// Lines or items of unknown kinds that were skipped.
    pub skipped: u64,
    /// What was skipped, by what it was and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_items: Vec<Skipped>,
    /// Sessions whose name was taken.
    pub renamed: Vec<Renamed>,
    /// With `--partial`: where a truncated file was cut (what was imported
    /// is everything complete before that point).
    pub truncated: Option<String>,
    /// Empty files found in folders (skipped; also in `skipped_files`).
    /// Like the next two, left out of the JSON when there is none.
    #[serde(skip_serializing_if = "is_zero")]
    pub empty_files: u64,
    /// What was found in folders but not read: empty files, symlink loops,
    /// a second path to a file or folder already read, special files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_files: Vec<PathNote>,
    /// Files that could not be imported, with the reason; nothing of them is
    /// in the store, and the other files were imported.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<PathNote>,
    /// What each file brought, in the order read.
    pub per_file: Vec<FileReport>,
}

fn file_state_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileState> {
    Ok(FileState {
        path: r.get(0)?,
        format: r.get(1)?,
        size: to_u64(r.get(2)?),
        mtime_ns: r.get(3)?,
        file_id: r.get(4)?,
        tail: r.get(5)?,
        sessions: to_u64(r.get(6)?),
    })
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ImportReport {
    /// Adds what another part of the same import did (one file's batch).
    pub fn merge(&mut self, other: ImportReport) {
        self.files += other.files;
        self.sessions_added += other.sessions_added;
        self.branches_added += other.branches_added;
        self.files_unchanged += other.files_unchanged;
        self.read_on += other.read_on;
        self.bytes_read += other.bytes_read;
        self.sessions_grown += other.sessions_grown;
        self.sessions_unchanged += other.sessions_unchanged;
        self.messages_added += other.messages_added;
        for item in other.skipped_items {
            self.skip(&item.what, &item.reason, item.count);
        }
        self.renamed.extend(other.renamed);
        if other.truncated.is_some() {
            self.truncated = other.truncated;
        }
        self.empty_files += other.empty_files;
        self.skipped_files.extend(other.skipped_files);
        self.failed.extend(other.failed);
        self.per_file.extend(other.per_file);
    }

    /// Counts `n` items left out.
    pub fn skip(&mut self, what: &str, reason: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.skipped += n;
        match self
            .skipped_items
            .iter_mut()
            .find(|s| s.what == what && s.reason == reason)
        {
            Some(s) => s.count += n,
            None => self.skipped_items.push(Skipped {
                what: what.to_string(),
                reason: reason.to_string(),
                count: n,
            }),
        }
    }

    /// The report of an import where some files failed, as one message: how
    /// many failed, what the others brought, then one line per failure.
    pub fn failure_summary(&self) -> String {
        let failed = self.failed.len();
        let total = self.files + failed as u64;
        let mut out = if self.files == 0 {
            format!("none of the {total} files could be imported")
        } else {
            format!(
                "{failed} of {total} files could not be imported; the other {} were: \
                 {} new sessions ({} messages), {} grew, {} unchanged",
                self.files,
                self.sessions_added,
                self.messages_added,
                self.sessions_grown,
                self.sessions_unchanged
            )
        };
        if self.empty_files > 0 {
            let _ = write!(out, "; {} empty files skipped", self.empty_files);
        }
        let other = (self.skipped_files.len() as u64).saturating_sub(self.empty_files);
        if other > 0 {
            let _ = write!(
                out,
                "; {other} paths skipped (not session files, symlink loops, files met twice)"
            );
        }
        for f in &self.failed {
            let _ = write!(out, "\n  {}", f.reason);
        }
        out
    }
}

/// An import under way: one open write transaction.
pub struct ImportBatch<'a> {
    tx: Transaction<'a>,
    options: ImportOptions,
    /// The store's options: the size limit and compression of messages.
    store: super::StoreOptions,
    now: i64,
    report: ImportReport,
    /// Last outbox row written before this import began.
    outbox_before: i64,
}

/// What one [`ImportBatch::add`] wrote: for a caller that indexes as it imports.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// The session.
    pub id: SessionId,
    /// Seq of the first message written (0 for a new session).
    pub first_seq: u64,
    /// The messages written, every one with its time.
    pub messages: Vec<NewMessage>,
    /// True when the session itself is new.
    pub new_session: bool,
}

/// The outbox rows an import wrote: ids in `(after, upto]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxSpan {
    /// Last row before the import.
    pub after: i64,
    /// Last row of the import.
    pub upto: i64,
}

impl Store {
    /// What the last import of the file at `path` (canonical) remembered.
    pub fn import_file_state(&self, path: &str) -> Result<Option<FileState>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT path, format, size, mtime_ns, file_id, tail, sessions FROM import_file WHERE path = ?1",
            )?
            .query_row([path], file_state_row)
            .optional()?)
    }

    /// What imports remember of every file, by canonical path.
    pub fn import_file_states(&self) -> Result<std::collections::HashMap<String, FileState>> {
        let mut stmt = self.conn.prepare(
            "SELECT path, format, size, mtime_ns, file_id, tail, sessions FROM import_file",
        )?;
        let rows = stmt.query_map([], file_state_row)?;
        let mut out = std::collections::HashMap::new();
        for r in rows {
            let r = r?;
            out.insert(r.path.clone(), r);
        }
        Ok(out)
    }

    /// Remembers a file an import looked at but did not import (it holds
    /// no sessions), so that the next import does not open it again.
    pub fn remember_file(&mut self, state: &FileState) -> Result<()> {
        let mut batch = self.begin_import(ImportOptions::default())?;
        batch.remember_file(state)?;
        batch.commit().map(|_| ())
    }

    /// Starts an import. Add sessions with [`ImportBatch::add`], then
    /// [`ImportBatch::commit`]; nothing is visible to others before that.
    pub fn begin_import(&mut self, options: ImportOptions) -> Result<ImportBatch<'_>> {
        let store = self.options;
        let tx = self.write()?;
        let outbox_before = max_outbox_id(&tx)?;
        Ok(ImportBatch {
            tx,
            options,
            store,
            now: ts_to_ms(now()),
            report: ImportReport::default(),
            outbox_before,
        })
    }

    /// Imports documents in one transaction (a convenience over [`ImportBatch`]).
    pub fn import_docs(
        &mut self,
        docs: impl IntoIterator<Item = SessionDoc>,
        options: ImportOptions,
    ) -> Result<ImportReport> {
        let mut batch = self.begin_import(options)?;
        for doc in docs {
            batch.add(doc)?;
        }
        batch.commit()
    }
}

impl ImportBatch<'_> {
    /// The report so far, for counters kept by the caller (files, skipped).
    pub fn report_mut(&mut self) -> &mut ImportReport {
        &mut self.report
    }

    /// Adds one session. A session already in the store (same uid, or same
    /// source and source reference) only gains the messages it lacks.
    ///
    /// Messages that carry source ids (those of the agent tools) are matched
    /// by them: a session whose stored messages begin the document's gains
    /// the rest; a document that is a beginning of what is stored changes
    /// nothing; and a document that parts from what is stored (a
    /// conversation rewound and taken elsewhere since the last import) keeps
    /// what is stored and brings the new path in as a branch of it. A
    /// branch whose path its parent already holds is not stored twice.
    pub fn add(&mut self, doc: SessionDoc) -> Result<Option<Added>> {
        self.add_at(doc, 0)
    }

    fn add_at(&mut self, doc: SessionDoc, depth: u32) -> Result<Option<Added>> {
        if let Some(found) = self.existing(&doc)? {
            return self.grow_or_fork(found, doc, depth);
        }
        if let Some(found) = self.held_by_parent(&doc)? {
            return self.grow_or_fork(found, doc, depth);
        }
        let SessionDoc {
            uid,
            name,
            title,
            created_at,
            updated_at,
            archived_at,
            trashed_at,
            tags,
            metadata,
            source,
            source_ref,
            parent,
            fork_seq,
            messages,
        } = doc;
        let uid = match uid {
            Some(u) if !self.options.new_id => u,
            _ => Uid::new_random(),
        };
        let source_ref = source_ref.filter(|_| !self.options.new_id);
        let wanted = name.unwrap_or_else(|| uid.0.clone());
        validate_name(&wanted)?;
        let name = self.free_name(&wanted)?;
        if name != wanted {
            self.report.renamed.push(Renamed {
                from: wanted,
                to: name.clone(),
            });
        }
        let first = messages.iter().find_map(|m| m.created_at);
        let last = messages.iter().rev().find_map(|m| m.created_at);
        let created = created_at.or(first).map_or(self.now, ts_to_ms);
        // Never before its creation nor before its last message.
        let updated = updated_at
            .map_or(created, ts_to_ms)
            .max(created)
            .max(last.map_or(created, ts_to_ms));
        let mut tags = tags;
        tags.sort();
        tags.dedup();
        let id = insert_session(
            &self.tx,
            &SessionRow {
                uid: uid.as_str(),
                name: &name,
                title: &title,
                created_at: created,
                updated_at: updated,
                archived_at: archived_at.map(ts_to_ms),
                trashed_at: trashed_at.map(ts_to_ms),
                parent: parent.as_ref().map(Uid::as_str),
                fork_seq,
                source: source.as_deref().unwrap_or("scrollback"),
                source_ref: source_ref.as_deref(),
                metadata: &metadata,
                tags: &tags,
            },
        )?;
        let messages = doc_messages(messages, created)?;
        self.insert_messages(id, 0, &messages)?;
        enqueue_whole(&self.tx, id)?;
        self.report.sessions_added += 1;
        if parent.is_some() {
            self.report.branches_added += 1;
        }
        Ok(Some(Added {
            id,
            first_seq: 0,
            messages,
            new_session: true,
        }))
    }

    /// Makes the import visible, all of it at once.
    pub fn commit(self) -> Result<ImportReport> {
        self.commit_with_span().map(|(r, _)| r)
    }

    /// Commits, and tells which outbox rows the import wrote (so that a
    /// caller that indexed as it imported can clear exactly those).
    pub fn commit_with_span(self) -> Result<(ImportReport, OutboxSpan)> {
        let upto = max_outbox_id(&self.tx)?;
        let after = self.outbox_before;
        self.tx.commit()?;
        Ok((self.report, OutboxSpan { after, upto }))
    }

    /// Remembers what was read of a file, in the import's transaction: the
    /// next import of the file, unchanged, will not read it.
    pub fn remember_file(&mut self, state: &FileState) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO import_file (path, format, size, mtime_ns, file_id, imported_at, tail, sessions) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (path) DO UPDATE SET \
                 format = excluded.format, size = excluded.size, mtime_ns = excluded.mtime_ns, \
                 file_id = excluded.file_id, imported_at = excluded.imported_at, tail = excluded.tail, \
                 sessions = excluded.sessions",
            )?
            .execute(params![
                state.path,
                state.format,
                to_i64(state.size),
                state.mtime_ns,
                state.file_id,
                self.now,
                state.tail,
                to_i64(state.sessions),
            ])?;
        Ok(())
    }

    /// Appends the messages of `doc` to the stored session it continues (the
    /// messages a log gained since it was last read), when that session's
    /// last message has source id `after`. `None` when it does not (the
    /// session changed since, or is not there): nothing is written, and
    /// the caller reads the whole file instead.
    pub fn append_after(&mut self, doc: &SessionDoc, after: &str) -> Result<Option<Option<Added>>> {
        let Some(Stored { id, count }) = self.existing(doc)? else {
            return Ok(None);
        };
        if count == 0 || self.source_id_at(id, count - 1)?.as_deref() != Some(after) {
            return Ok(None);
        }
        if doc.messages.is_empty() {
            self.report.sessions_unchanged += 1;
            return Ok(Some(None));
        }
        Ok(Some(self.grow_by(id, count, &doc.messages)?))
    }

    /// A session as this import sees it (inside its transaction).
    pub fn session(&self, id: SessionId) -> Result<crate::domain::Session> {
        super::rows::session_by_id(&self.tx, id)
    }

    /// What to do with a document whose session is stored.
    fn grow_or_fork(
        &mut self,
        found: Stored,
        doc: SessionDoc,
        depth: u32,
    ) -> Result<Option<Added>> {
        let Stored { id, count } = found;
        let have = usize::try_from(count).unwrap_or(usize::MAX);
        let keyed = !doc.messages.is_empty() && doc.messages.iter().all(|m| m.source_id.is_some());
        if !keyed || have == 0 {
            return self.grow(id, count, &doc);
        }
        // The common case, a log that grew: the last stored message is where
        // the document has it.
        if doc.messages.len() >= have
            && self.source_id_at(id, count - 1)? == doc.messages[have - 1].source_id
        {
            return self.grow(id, count, &doc);
        }
        // And a beginning of it (the first slices of a large file read
        // again): its last message is where the store has it.
        let len = doc.messages.len();
        if len < have && self.source_id_at(id, len as u64 - 1)? == doc.messages[len - 1].source_id {
            return self.grow(id, count, &doc);
        }
        let stored = self.source_ids(id)?;
        let common = stored
            .iter()
            .zip(&doc.messages)
            .take_while(|(s, m)| s.is_some() && **s == m.source_id)
            .count();
        if common == doc.messages.len() || common == stored.len() || depth >= MAX_FORKS {
            // A beginning of what is stored, or what is stored begins it (the
            // ids before were not all there: grow by position), or forks
            // too deep to be anything but hostile input.
            return self.grow(id, count, &doc);
        }
        let (uid, source_ref): (Uid, Option<String>) = self.tx.query_row(
            "SELECT uid, source_ref FROM session WHERE id = ?1",
            [id.0],
            |r| Ok((Uid(r.get(0)?), r.get(1)?)),
        )?;
        let source = doc.source.clone().unwrap_or_else(|| "scrollback".into());
        let at = doc.messages[common].source_id.clone().unwrap_or_default();
        let fork_ref = format!("{}@{at}", source_ref.unwrap_or_else(|| uid.0.clone()));
        let mut doc = doc;
        if doc.messages[..common].iter().any(|m| m.stash.is_some()) {
            // The shared part came as stand-ins (a large file delivered in
            // slices): it is the stored session's, word for word.
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM message WHERE session_id = ?1 AND seq < ?2 ORDER BY seq"
            );
            let mut stmt = self.tx.prepare_cached(&sql)?;
            let shared = stmt
                .query_map(params![id.0, to_i64(common as u64)], message_from_row)?
                .map(|m| m.map(crate::domain::MessageDoc::from))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            doc.messages.splice(..common, shared);
        }
        let fork = SessionDoc {
            uid: Some(crate::import::ids::uid_for(&source, &fork_ref)),
            source_ref: Some(fork_ref),
            parent: Some(uid),
            fork_seq: (common as u64).checked_sub(1),
            ..doc
        };
        self.add_at(fork, depth + 1)
    }

    /// The stored parent of a branch document, when the parent already
    /// holds the branch's first own message where the branch has it.
    fn held_by_parent(&self, doc: &SessionDoc) -> Result<Option<Stored>> {
        let (Some(parent), false) = (&doc.parent, self.options.new_id) else {
            return Ok(None);
        };
        let at = doc.fork_seq.map_or(0, |f| f + 1);
        let Some(first_own) = usize::try_from(at)
            .ok()
            .and_then(|i| doc.messages.get(i))
            .and_then(|m| m.source_id.as_deref())
        else {
            return Ok(None);
        };
        let found = self
            .tx
            .prepare_cached("SELECT id, message_count FROM session WHERE uid = ?1")?
            .query_row([parent.as_str()], |r| {
                Ok((SessionId(r.get(0)?), to_u64(r.get(1)?)))
            })
            .optional()?;
        match found {
            Some((id, count))
                if count > at && self.source_id_at(id, at)?.as_deref() == Some(first_own) =>
            {
                Ok(Some(Stored { id, count }))
            }
            _ => Ok(None),
        }
    }

    fn source_id_at(&self, id: SessionId, seq: u64) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT source_id FROM message WHERE session_id = ?1 AND seq = ?2")?
            .query_row(params![id.0, to_i64(seq)], |r| r.get(0))
            .optional()?
            .flatten())
    }

    fn source_ids(&self, id: SessionId) -> Result<Vec<Option<String>>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT source_id FROM message WHERE session_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([id.0], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn existing(&self, doc: &SessionDoc) -> Result<Option<Stored>> {
        if self.options.new_id {
            return Ok(None);
        }
        let row = |r: &rusqlite::Row<'_>| {
            Ok(Stored {
                id: SessionId(r.get(0)?),
                count: to_u64(r.get(1)?),
            })
        };
        if let Some(uid) = &doc.uid {
            let found = self
                .tx
                .prepare_cached("SELECT id, message_count FROM session WHERE uid = ?1")?
                .query_row([uid.as_str()], row)
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        if let Some(r) = &doc.source_ref {
            let source = doc.source.as_deref().unwrap_or("scrollback");
            return Ok(self
                .tx
                .prepare_cached(
                    "SELECT id, message_count FROM session WHERE source = ?1 AND source_ref = ?2",
                )?
                .query_row(params![source, r], row)
                .optional()?);
        }
        Ok(None)
    }

    fn grow(&mut self, id: SessionId, count: u64, doc: &SessionDoc) -> Result<Option<Added>> {
        let have = usize::try_from(count).unwrap_or(usize::MAX);
        if doc.messages.len() <= have {
            self.report.sessions_unchanged += 1;
            return Ok(None);
        }
        self.grow_by(id, count, &doc.messages[have..])
    }

    /// Appends `new` to session `id`, which holds `count` messages.
    fn grow_by(&mut self, id: SessionId, count: u64, new: &[MessageDoc]) -> Result<Option<Added>> {
        let prev: i64 = self.tx.query_row(
            "SELECT coalesce((SELECT created_at FROM message WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1), \
             (SELECT created_at FROM session WHERE id = ?1))",
            [id.0],
            |r| r.get(0),
        )?;
        let new = doc_messages(new.to_vec(), prev)?;
        self.insert_messages(id, count, &new)?;
        enqueue(&self.tx, id, OutboxOp::Messages { from_seq: count })?;
        self.report.sessions_grown += 1;
        Ok(Some(Added {
            id,
            first_seq: count,
            messages: new,
            new_session: false,
        }))
    }

    /// Inserts messages whose times are all set (see [`doc_messages`]).
    fn insert_messages(&mut self, id: SessionId, first: u64, msgs: &[NewMessage]) -> Result<()> {
        let mut chars = 0;
        let mut last = None;
        for (i, m) in msgs.iter().enumerate() {
            chars += insert_message(&self.tx, id, first + i as u64, m, self.now, self.store)?;
            last = m.created_at.map(ts_to_ms).or(last);
        }
        self.tx
            .prepare_cached(
                "UPDATE session SET message_count = message_count + ?2, char_count = char_count + ?3, \
                 updated_at = max(updated_at, ?4) WHERE id = ?1",
            )?
            .execute(params![id.0, to_i64(msgs.len() as u64), to_i64(chars), last.unwrap_or(0)])?;
        self.report.messages_added += msgs.len() as u64;
        Ok(())
    }

    fn free_name(&self, wanted: &str) -> Result<String> {
        if !name_taken(&self.tx, wanted)? {
            return Ok(wanted.to_string());
        }
        for n in 2.. {
            let candidate = format!("{wanted}-{n}");
            if !name_taken(&self.tx, &candidate)? {
                return Ok(candidate);
            }
        }
        unreachable!("some suffix is free")
    }
}

/// A stored session an import document matched: its row and message count.
#[derive(Clone, Copy)]
struct Stored {
    id: SessionId,
    count: u64,
}

/// How many times an import follows a document that parts from what is
/// stored into a branch of a branch before it stops and keeps what it has.
const MAX_FORKS: u32 = 8;

fn max_outbox_id(tx: &Transaction<'_>) -> Result<i64> {
    Ok(
        tx.query_row("SELECT coalesce(max(id), 0) FROM index_outbox", [], |r| {
            r.get(0)
        })?,
    )
}

/// Messages of a document, each with a time: one without takes the time of
/// the message before it (or `start` for the first).
fn doc_messages(messages: Vec<crate::domain::MessageDoc>, start: i64) -> Result<Vec<NewMessage>> {
    let mut prev = ts_from_ms(start);
    messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let created_at = m.created_at.unwrap_or(prev);
            prev = created_at;
            let role = m.role.ok_or_else(|| {
                Error::invalid(
                    "message",
                    &format!("#{i}"),
                    "a \"role\" of system, user, assistant or tool",
                )
            })?;
            Ok(NewMessage {
                role,
                kind: m.kind,
                content: m.content,
                created_at: Some(created_at),
                model: m.model,
                tokens: m.tokens,
                metadata: m.metadata,
                source_id: m.source_id,
            })
        })
        .collect()
}
