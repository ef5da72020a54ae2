//! The tantivy index: its schema, where it lives, opening (and rebuilding
//! when missing, damaged or of an old schema), and applying the store's
//! outbox to it. The index is derived data: it can always be rebuilt from the
//! store, and nothing here ever changes the store's sessions: it asks the
//! outbox to re-read everything before it throws an index away, and clears
//! outbox rows only once the index has committed what they ask.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use tantivy::indexer::UserOperation;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};

use super::folder::{self, VERSION_FILE};
use super::tokenizer::{ANALYZER, analyzer};
use crate::domain::{Role, Session, SessionId, ts_to_ms};
use crate::error::{Error, Result};
use crate::jobs::ProgressFn;
use crate::store::{OutboxOp, Store};

/// Schema version of the index; a different one on disk means a rebuild.
pub const INDEX_VERSION: &str = "4";

/// How an index error names an index that lives in memory (or whose folder
/// the code that met the error did not know).
pub const IN_MEMORY: &str = "(in memory)";

/// Document kinds.
pub const KIND_MESSAGE: u64 = 0;
/// A session's name, title and tags.
pub const KIND_SESSION: u64 = 1;

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub kind: Field,
    pub session: Field,
    pub seq: Field,
    pub role: Field,
    pub model: Field,
    pub created: Field,
    /// A message's text; a session document's name, title and tags.
    pub content: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    // Only the text is scored: nothing else needs field norms. `seq` and
    // `created` are only ever read or compared in range, which tantivy does
    // on their columns, so they have no postings.
    let term = || NumericOptions::default().set_indexed().set_fast();
    let model = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        kind: b.add_u64_field("kind", term()),
        session: b.add_u64_field("session", term()),
        seq: b.add_u64_field("seq", FAST),
        role: b.add_u64_field("role", term()),
        model: b.add_text_field("model", model),
        created: b.add_i64_field("created", FAST),
        content: b.add_text_field("content", text),
    };
    (b.build(), fields)
}

/// Where the index of a database file lives: beside it, `<file>-index/`.
pub fn index_dir(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push("-index");
    db.with_file_name(name)
}

/// Why an index had to be built from scratch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebuilt {
    /// It was there and usable.
    No,
    /// There was none.
    Missing,
    /// It was damaged (it could not be opened or read, or a file of it was
    /// missing or failed its checksum), or had another schema version.
    Replaced(String),
}

/// The open index with a reader (always) and a writer (taken per batch).
pub struct SearchIndex {
    pub(super) index: Index,
    pub(super) reader: IndexReader,
    pub(super) fields: Fields,
    dir: Option<PathBuf>,
    writer_memory: usize,
}

/// What applying the outbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Outbox rows applied.
    pub rows: u64,
    /// Sessions re-read.
    pub sessions: u64,
    /// Another process held the index writer: nothing was applied now.
    pub busy: bool,
}

impl SearchIndex {
    /// Opens the index in `dir` (a RAM index when `None`). When it is
    /// missing, damaged or of another schema version, builds it anew (see
    /// [`rebuild`](Self::rebuild)); the store's outbox then holds the work.
    /// A folder in the index's place that is not scrollback's is refused
    /// ([`Error::NotAnIndex`]) and left as it is.
    pub fn open(
        dir: Option<&Path>,
        writer_memory: usize,
        store: &mut Store,
    ) -> Result<(SearchIndex, Rebuilt)> {
        let Some(dir) = dir else {
            return Ok((Self::build(None, writer_memory, store)?, Rebuilt::Missing));
        };
        folder::claim(dir)?;
        let usable = |(index, reader)| {
            (
                Self::wrap(index, reader, Some(dir), writer_memory),
                Rebuilt::No,
            )
        };
        let why = match inspect(dir, false, &|_, _| {}) {
            Ok(found) => return Ok(usable(found)),
            Err(why) => why,
        };
        // Rebuilt under the writer's lock, so by one process at a time;
        // while another holds it, it may be rebuilding: look again.
        let start = std::time::Instant::now();
        let lock = loop {
            if let Some(lock) = folder::try_lock(dir)? {
                break lock;
            }
            if start.elapsed() > folder::LOCK_WAIT {
                return Err(folder::busy(dir));
            }
            std::thread::sleep(folder::POLL);
            if let Ok(found) = inspect(dir, false, &|_, _| {}) {
                return Ok(usable(found));
            }
        };
        if let Ok(found) = inspect(dir, false, &|_, _| {}) {
            return Ok(usable(found));
        }
        let index = Self::build(Some(dir), writer_memory, store)?;
        drop(lock);
        Ok((index, why))
    }

    /// Throws away whatever the folder `dir` holds of an index (missing,
    /// damaged, half written or whole) and starts an empty one, with the
    /// store's outbox asked to re-read every session: applying the outbox
    /// (see [`sync`](Self::sync)) fills it.
    pub fn rebuild(
        dir: Option<&Path>,
        writer_memory: usize,
        store: &mut Store,
    ) -> Result<SearchIndex> {
        let Some(dir) = dir else {
            return Self::build(None, writer_memory, store);
        };
        folder::claim(dir)?;
        let _lock = folder::lock(dir)?;
        Self::build(Some(dir), writer_memory, store)
    }

    /// Builds an empty index, with the writer's lock held (for a folder).
    fn build(dir: Option<&Path>, writer_memory: usize, store: &mut Store) -> Result<SearchIndex> {
        // First what must happen, in the store, where it survives a kill:
        // forget every document, re-read every session. Only then is the
        // old index removed.
        store.outbox_everything()?;
        let (schema, _) = schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => {
                folder::clear(dir)?;
                let index =
                    Index::create_in_dir(dir, schema).map_err(|e| index_error(Some(dir), &e))?;
                let version = dir.join(VERSION_FILE);
                std::fs::write(&version, INDEX_VERSION).map_err(|e| Error::io(version, e))?;
                index
            }
        };
        let reader = reader(&index).map_err(|e| index_error(dir, &e))?;
        Ok(Self::wrap(index, reader, dir, writer_memory))
    }

    fn wrap(
        index: Index,
        reader: IndexReader,
        dir: Option<&Path>,
        writer_memory: usize,
    ) -> SearchIndex {
        SearchIndex {
            index,
            reader,
            fields: schema().1,
            dir: dir.map(Path::to_path_buf),
            writer_memory: writer_memory.max(15_000_000),
        }
    }

    /// Where the index lives (`None` in memory).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub(super) fn writer_memory(&self) -> usize {
        self.writer_memory
    }

    /// Checks every file of the index on disk (all of them, whether checked
    /// before or not) and that it opens; returns what is wrong, or `None`.
    /// `progress` sees bytes read.
    pub fn verify(&self, progress: &ProgressFn<'_>) -> Option<String> {
        let dir = self.dir.as_deref()?;
        inspect(dir, true, progress).err().map(|why| match why {
            Rebuilt::Replaced(why) => why,
            Rebuilt::Missing | Rebuilt::No => "its files are gone".to_string(),
        })
    }

    /// A tantivy error as the library's error, naming this index's folder.
    pub(super) fn error(&self, e: &TantivyError) -> Error {
        index_error(self.dir.as_deref(), e)
    }

    /// Applies the store's outbox in batches: each batch is committed to the
    /// index, then its rows are removed from the outbox. If another process
    /// holds the writer, nothing happens and `busy` is set.
    pub fn sync(&mut self, store: &mut Store, progress: &ProgressFn<'_>) -> Result<SyncReport> {
        if store.outbox_len()? == 0 {
            // Another process may have committed to the index: look again.
            self.reader.reload().map_err(|e| self.error(&e))?;
            return Ok(SyncReport::default());
        }
        let Some(mut writer) = self.try_writer()? else {
            return Ok(SyncReport {
                busy: true,
                ..SyncReport::default()
            });
        };
        let report = self.drain(&mut writer, store, progress)?;
        self.finish(writer)?;
        Ok(report)
    }

    /// The index writer, or `None` when another process holds it.
    pub(super) fn try_writer(&self) -> Result<Option<IndexWriter<TantivyDocument>>> {
        // tantivy wants at least 15 MB per indexing thread.
        let threads = (self.writer_memory / 15_000_000).clamp(1, 2);
        match self
            .index
            .writer_with_num_threads(threads, self.writer_memory)
        {
            Ok(w) => Ok(Some(w)),
            Err(TantivyError::LockFailure(..)) => Ok(None),
            Err(e) => Err(self.error(&e)),
        }
    }

    /// Lets merges finish, releases the writer, and shows the new state to searches.
    pub(super) fn finish(&self, writer: IndexWriter<TantivyDocument>) -> Result<()> {
        writer.wait_merging_threads().map_err(|e| self.error(&e))?;
        self.reader.reload().map_err(|e| self.error(&e))
    }

    /// Applies the whole outbox with `writer`, committing batch by batch.
    pub(super) fn drain(
        &self,
        writer: &mut IndexWriter<TantivyDocument>,
        store: &mut Store,
        progress: &ProgressFn<'_>,
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let total = store.outbox_len()?;
        // Rows before the last reset are void: start there.
        let mut from = store.outbox_last_reset()?.unwrap_or(0);
        loop {
            let rows = store.outbox_batch_from(from, 50_000)?;
            let Some(last) = rows.last().map(|r| r.id) else {
                break;
            };
            let mut rows = &rows[..];
            if let Some(at) = rows.iter().rposition(|r| r.op == OutboxOp::Reset) {
                // At the start of a batch: everything before is committed.
                writer.delete_all_documents().map_err(|e| self.error(&e))?;
                rows = &rows[at + 1..];
            }
            let mut plans: BTreeMap<SessionId, Plan> = BTreeMap::new();
            for r in rows {
                plans.entry(r.session).or_default().add(r.op);
            }
            for (&id, plan) in &plans {
                self.apply(writer, store, id, plan)?;
            }
            writer.commit().map_err(|e| self.error(&e))?;
            // Only now that the index holds them (and the void rows before
            // a reset) are the rows done.
            report.rows += store.outbox_done(last)?;
            report.sessions += plans.len() as u64;
            progress(report.rows.min(total), total);
            // The void rows went with the first batch; a row written since
            // to an emptied outbox may have a lower id: read from the start.
            from = 0;
        }
        Ok(report)
    }

    fn apply(
        &self,
        w: &IndexWriter<TantivyDocument>,
        store: &Store,
        id: SessionId,
        plan: &Plan,
    ) -> Result<()> {
        let f = &self.fields;
        let session = match store.session_by_id(id) {
            Ok(s) => Some(s),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let from = if plan.whole {
            w.delete_term(Term::from_field_u64(f.session, id_u64(id)));
            Some(0)
        } else {
            if let Some(from) = plan.from_seq {
                w.delete_query(Box::new(BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        term_query(Term::from_field_u64(f.session, id_u64(id))),
                    ),
                    (
                        Occur::Must,
                        term_query(Term::from_field_u64(f.kind, KIND_MESSAGE)),
                    ),
                    (
                        Occur::Must,
                        Box::new(RangeQuery::new(
                            Bound::Included(Term::from_field_u64(f.seq, from)),
                            Bound::Unbounded,
                        )),
                    ),
                ])))
                .map_err(|e| self.error(&e))?;
            }
            if plan.session_doc {
                w.delete_query(Box::new(BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        term_query(Term::from_field_u64(f.session, id_u64(id))),
                    ),
                    (
                        Occur::Must,
                        term_query(Term::from_field_u64(f.kind, KIND_SESSION)),
                    ),
                ])))
                .map_err(|e| self.error(&e))?;
            }
            plan.from_seq
        };
        let Some(session) = session else {
            return Ok(());
        };
        if plan.whole || plan.session_doc {
            w.add_document(self.session_doc(&session))
                .map_err(|e| self.error(&e))?;
        }
        if let Some(mut seq) = from {
            loop {
                let page = store.messages(id, seq, 512)?;
                // One batch a page: the writer's threads take a page in one
                // hand-over instead of one per message.
                let docs: Vec<UserOperation> = page
                    .iter()
                    .map(|m| {
                        UserOperation::Add(self.message_doc(
                            id,
                            m.seq,
                            m.role,
                            m.model.as_deref(),
                            ts_to_ms(m.created_at),
                            &m.content,
                        ))
                    })
                    .collect();
                w.run(docs).map_err(|e| self.error(&e))?;
                match page.last() {
                    Some(m) if page.len() == 512 => seq = m.seq + 1,
                    _ => break,
                }
            }
        }
        Ok(())
    }

    pub(super) fn message_doc(
        &self,
        id: SessionId,
        seq: u64,
        role: Role,
        model: Option<&str>,
        created_ms: i64,
        content: &str,
    ) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.kind, KIND_MESSAGE);
        d.add_u64(f.session, id_u64(id));
        d.add_u64(f.seq, seq);
        d.add_u64(f.role, role_code(role));
        if let Some(model) = model {
            d.add_text(f.model, model.to_lowercase());
        }
        d.add_i64(f.created, created_ms);
        d.add_text(f.content, content);
        d
    }

    pub(super) fn session_doc(&self, s: &Session) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.kind, KIND_SESSION);
        d.add_u64(f.session, id_u64(s.id));
        d.add_u64(f.seq, 0);
        d.add_i64(f.created, ts_to_ms(s.updated_at));
        d.add_text(f.content, session_text(s));
        d
    }

    /// Number of message documents per session, read from the index.
    pub fn message_counts(&self) -> Result<BTreeMap<u64, u64>> {
        let searcher = self.reader.searcher();
        let mut counts = BTreeMap::new();
        for seg in searcher.segment_readers() {
            let ff = seg.fast_fields();
            let kind = ff
                .u64("kind")
                .map_err(|e| self.error(&e))?
                .first_or_default_col(0);
            let session = ff
                .u64("session")
                .map_err(|e| self.error(&e))?
                .first_or_default_col(0);
            for doc in seg.doc_ids_alive() {
                let entry = counts.entry(session.get_val(doc)).or_insert(0);
                if kind.get_val(doc) == KIND_MESSAGE {
                    *entry += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Disk used by the index, in bytes (0 for a RAM index).
    pub fn size_on_disk(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            std::fs::read_dir(p).map_or(0, |rd| {
                rd.filter_map(std::result::Result::ok)
                    .map(|e| match e.metadata() {
                        Ok(m) if m.is_dir() => walk(&e.path()),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    })
                    .sum()
            })
        }
        self.dir.as_deref().map_or(0, walk)
    }
}

/// What to do for one session, from all its outbox rows in a batch.
#[derive(Debug, Default)]
struct Plan {
    whole: bool,
    from_seq: Option<u64>,
    session_doc: bool,
}

impl Plan {
    fn add(&mut self, op: OutboxOp) {
        match op {
            OutboxOp::Purge | OutboxOp::Messages { from_seq: 0 } => self.whole = true,
            OutboxOp::Messages { from_seq } => {
                self.from_seq = Some(self.from_seq.map_or(from_seq, |f| f.min(from_seq)));
            }
            OutboxOp::Session => self.session_doc = true,
            // Handled by the drain, before the batch's sessions.
            OutboxOp::Reset => {}
        }
    }
}

fn term_query(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::Basic))
}

/// A role as the index stores it (a fast field, read back for results).
pub fn role_code(role: Role) -> u64 {
    Role::ALL.iter().position(|&r| r == role).unwrap_or(0) as u64
}

/// The role of a stored code.
pub fn role_of(code: u64) -> Role {
    usize::try_from(code)
        .ok()
        .and_then(|i| Role::ALL.get(i).copied())
        .unwrap_or(Role::User)
}

/// Session row ids are positive; the index keys them as u64.
pub fn id_u64(id: SessionId) -> u64 {
    u64::try_from(id.0).unwrap_or(0)
}

/// A reader of the index, reloaded by hand.
fn reader(index: &Index) -> tantivy::Result<IndexReader> {
    index.tokenizers().register(ANALYZER, analyzer());
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
}

/// Opens the index in a folder and checks it: its version, its schema, its
/// files (against their checksums: those not checked before unless `all`)
/// and that every segment opens. `Err` tells why it must be rebuilt.
fn inspect(
    dir: &Path,
    all: bool,
    progress: &ProgressFn<'_>,
) -> std::result::Result<(Index, IndexReader), Rebuilt> {
    let version = std::fs::read_to_string(dir.join(VERSION_FILE)).ok();
    match version.as_deref().map(str::trim) {
        None if !dir.join("meta.json").exists() => return Err(Rebuilt::Missing),
        None => return Err(Rebuilt::Replaced("its version file is missing".into())),
        Some(INDEX_VERSION) => {}
        Some(v) => {
            return Err(Rebuilt::Replaced(format!(
                "it has schema version {v}, this version uses {INDEX_VERSION}"
            )));
        }
    }
    let index = Index::open_in_dir(dir)
        .map_err(|e| Rebuilt::Replaced(format!("it could not be opened: {e}")))?;
    if index.schema() != schema().0 {
        return Err(Rebuilt::Replaced(
            "its schema differs from this version's".into(),
        ));
    }
    if let Some(why) = folder::verify(&index, dir, all, progress) {
        return Err(Rebuilt::Replaced(why));
    }
    let reader =
        reader(&index).map_err(|e| Rebuilt::Replaced(format!("it could not be read: {e}")))?;
    Ok((index, reader))
}

/// A tantivy error as the library's error, naming the index directory:
/// [`Error::IndexDamaged`] when the index's data could not be read or
/// written as it should (a rebuild is the cure), [`Error::Index`] otherwise.
pub fn index_error(dir: Option<&Path>, e: &TantivyError) -> Error {
    let dir = dir.map_or_else(|| PathBuf::from(IN_MEMORY), Path::to_path_buf);
    let detail = e.to_string();
    if is_damage(e) {
        Error::IndexDamaged { dir, detail }
    } else {
        Error::Index { dir, detail }
    }
}

/// Whether an error says the index's files are not what they should be,
/// rather than that it is busy, that a query is wrong, or that the machine
/// is out of room or rights (which a rebuild would not cure).
fn is_damage(e: &TantivyError) -> bool {
    use std::io::ErrorKind::{
        OutOfMemory, PermissionDenied, QuotaExceeded, ReadOnlyFilesystem, StorageFull,
    };
    use tantivy::directory::error::{OpenReadError, OpenWriteError};
    let io = match e {
        TantivyError::IoError(io)
        | TantivyError::OpenReadError(OpenReadError::IoError { io_error: io, .. })
        | TantivyError::OpenWriteError(OpenWriteError::IoError { io_error: io, .. }) => {
            Some(io.kind())
        }
        _ => None,
    };
    if io.is_some_and(|k| {
        matches!(
            k,
            StorageFull | QuotaExceeded | ReadOnlyFilesystem | PermissionDenied | OutOfMemory
        )
    }) {
        return false;
    }
    !matches!(
        e,
        TantivyError::LockFailure(..)
            | TantivyError::InvalidArgument(_)
            | TantivyError::SystemError(_)
            | TantivyError::AggregationError(_)
            | TantivyError::IndexAlreadyExists
            | TantivyError::Poisoned
            | TantivyError::IndexBuilderMissingArgument(_)
    )
}

/// The text of a session's own document: its name, title and tags.
pub fn session_text(s: &Session) -> String {
    format!("{} {} {}", s.name, s.title, s.tags.join(" "))
}
