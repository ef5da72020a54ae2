//! Full-text search over every session: a tantivy index kept in step with
//! the store through the store's outbox.
//!
//! ```
//! use scrollback::search::{Limit, Search};
//! use scrollback::{NewMessage, NewSession, Role, Store};
//!
//! let mut store = Store::open_in_memory()?;
//! let s = store.create_session(&NewSession::named("cafe-notes"))?;
//! store.add_message(s.id, NewMessage::new(Role::User, "Where is the best Café in Zürich?"))?;
//! let mut search = Search::open(&store, &|_, _| {})?;
//! let results = search.query("cafe zurich", Limit::default())?;
//! assert_eq!(results.hits[0].session.name, "cafe-notes");
//! # Ok::<(), scrollback::Error>(())
//! ```

mod across;
mod build;
mod collect;
mod folder;
pub mod index;
pub mod query;
pub mod snippet;
pub mod tokenizer;
mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

pub use index::{Rebuilt, SearchIndex, SyncReport, index_dir};

use collect::{SegmentColumns, SessionFilter, SessionSet, SessionTopK};
use tantivy::indexer::UserOperation;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;

use crate::domain::{Role, SessionId, Uid, now, ts_to_ms};
use crate::error::{Error, Result};
use crate::import::ImportRequest;
use crate::jobs::ProgressFn;
use crate::store::{ImportReport, Store};

/// Memory given to the index writer, in bytes (as `search.writer_memory_mb`
/// in the default config).
pub const DEFAULT_WRITER_MEMORY: usize = 48 * 1024 * 1024;

/// Which page of results, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Sessions per page.
    pub limit: usize,
    /// Sessions to skip.
    pub offset: usize,
    /// Include archived sessions.
    pub archived: bool,
    /// Compute snippets (off to measure ranking alone).
    pub snippets: bool,
}

impl Default for Limit {
    fn default() -> Self {
        Limit {
            limit: 20,
            offset: 0,
            archived: false,
            snippets: true,
        }
    }
}

/// The session of a hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HitSession {
    /// Public id.
    pub uid: Uid,
    /// Name.
    pub name: String,
    /// Title.
    pub title: String,
    /// Origin.
    pub source: String,
    /// Origin's id.
    pub source_ref: Option<String>,
}

/// The message of a hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HitMessage {
    /// Position in the session.
    pub seq: u64,
    /// Who wrote it.
    pub role: Role,
    /// When.
    pub created_at: Timestamp,
}

/// One session in the results, with its best message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The session.
    pub session: HitSession,
    /// Its best matching message (when the query's clauses are matched by
    /// different messages: the one that matches the most, then the best
    /// scored); `None` when the session's name, title or tags matched
    /// rather than a message.
    pub message: Option<HitMessage>,
    /// Text around the match, on one line.
    pub snippet: String,
    /// Byte ranges of the words `message` matched in `snippet`.
    pub highlights: Vec<[usize; 2]>,
    /// Relevance (BM25 with a mild boost for recent messages). A session
    /// whose clauses are matched by different messages scores the sum of
    /// each clause's best message score, and ranks after every session
    /// with one message that matches them all, whatever the scores.
    pub score: f32,
    /// Other matching messages of this session among the best results (for
    /// a phrase, among those checked: at most 16).
    pub other_hits: usize,
    #[serde(skip)]
    /// Internal id of the session.
    pub session_id: SessionId,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    /// Sessions, best first.
    pub hits: Vec<Hit>,
    /// Sessions with a match among the best results looked at.
    pub sessions: usize,
}

/// The search index of a store, with its own connection to that store.
pub struct Search {
    store: Store,
    index: SearchIndex,
    /// The store's data version when the index last caught up.
    synced_at: Option<i64>,
    /// Session sets (hidden sessions, `tag:`/`source:`/`session:` filters)
    /// as of one data version of the store.
    sets: SetCache,
    /// Fast-field columns of each segment, as of one searcher generation.
    columns: Option<(u64, Arc<Vec<SegmentColumns>>)>,
    /// Sessions' runs of documents in each segment (with its deleted
    /// documents, by their number), while it lives.
    runs: HashMap<(tantivy::index::SegmentId, u32), Arc<across::Runs>>,
    /// Why the index was last built anew, at open or since.
    rebuilt: Rebuilt,
}

/// Session sets read from the store, kept while its data version holds.
#[derive(Default)]
struct SetCache {
    version: Option<i64>,
    hidden: HashMap<bool, Arc<SessionSet>>,
    terms: HashMap<String, Arc<SessionSet>>,
}

impl SetCache {
    fn at(&mut self, version: i64) -> &mut Self {
        if self.version != Some(version) {
            *self = SetCache {
                version: Some(version),
                ..SetCache::default()
            };
        }
        self
    }

    /// Sessions a query leaves out: trashed, and archived unless asked for.
    fn hidden(&mut self, store: &Store, archived: bool) -> Result<Arc<SessionSet>> {
        if let Some(s) = self.hidden.get(&archived) {
            return Ok(s.clone());
        }
        let ids = store.hidden_ids(archived)?;
        let set = Arc::new(SessionSet::of(ids.into_iter().map(index::id_u64)));
        self.hidden.insert(archived, set.clone());
        Ok(set)
    }

    fn term(&mut self, store: &Store, t: &query::Term) -> Result<Arc<SessionSet>> {
        let key = format!("{t:?}");
        if let Some(s) = self.terms.get(&key) {
            return Ok(s.clone());
        }
        let set = Arc::new(build::session_set(t, store)?);
        self.terms.insert(key, set.clone());
        Ok(set)
    }
}

impl Search {
    /// Opens the index beside the store (in memory for an in-memory store),
    /// rebuilding it when missing, damaged or of another version, and applies
    /// any changes the store has not yet given to the index. `progress` sees
    /// (rows done, rows) while it catches up. Damage found later, while
    /// reading or writing the index, is healed the same way: the index is
    /// rebuilt from the store and the operation goes on (see
    /// [`rebuilt`](Self::rebuilt)). A folder in the index's place that is not
    /// scrollback's is refused with [`Error::NotAnIndex`] and left alone.
    pub fn open(store: &Store, progress: &ProgressFn<'_>) -> Result<Search> {
        Self::open_with(store, DEFAULT_WRITER_MEMORY, progress).map(|(s, _)| s)
    }

    /// As [`open`](Self::open), with a writer memory budget, telling whether
    /// the index was built anew and why.
    pub fn open_with(
        store: &Store,
        writer_memory: usize,
        progress: &ProgressFn<'_>,
    ) -> Result<(Search, Rebuilt)> {
        let mut own = store.reopen()?;
        let dir = store.path().map(index_dir);
        let (index, rebuilt) = SearchIndex::open(dir.as_deref(), writer_memory, &mut own)?;
        let mut search = Search::with(own, index, rebuilt);
        search.sync(progress)?;
        let rebuilt = search.rebuilt.clone();
        Ok((search, rebuilt))
    }

    /// Builds the index of the store anew, whatever state its folder is in
    /// (missing, damaged, half written, or whole), without first catching
    /// up the index it throws away: what `scrollback reindex` does. A kill
    /// at any moment leaves the store's outbox asking for what is not done
    /// yet, and the next open finishes it.
    pub fn reindex(
        store: &Store,
        writer_memory: usize,
        progress: &ProgressFn<'_>,
    ) -> Result<(Search, SyncReport)> {
        let mut own = store.reopen()?;
        let dir = store.path().map(index_dir);
        let index = SearchIndex::rebuild(dir.as_deref(), writer_memory, &mut own)?;
        let mut search = Search::with(own, index, Rebuilt::No);
        let report = search.sync(progress)?;
        Ok((search, report))
    }

    fn with(store: Store, index: SearchIndex, rebuilt: Rebuilt) -> Search {
        Search {
            store,
            index,
            synced_at: None,
            sets: SetCache::default(),
            columns: None,
            runs: HashMap::new(),
            rebuilt,
        }
    }

    /// Why the index was last built anew: at open (missing, damaged, of
    /// another version), or since, when damage turned up while it was read
    /// or written. [`Rebuilt::No`] when it never was.
    pub fn rebuilt(&self) -> &Rebuilt {
        &self.rebuilt
    }

    /// Runs `op`; when it finds the index damaged, rebuilds the index from
    /// the store and runs it once more. Index errors name the index folder.
    fn healing<T>(
        &mut self,
        progress: &ProgressFn<'_>,
        mut op: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<T> {
        match op(self).map_err(|e| self.locate(e)) {
            Err(Error::IndexDamaged { detail, .. }) => {
                self.heal(detail, progress)?;
                op(self).map_err(|e| self.locate(e))
            }
            other => other,
        }
    }

    /// An index error made without knowing the folder, made to name it.
    fn locate(&self, e: Error) -> Error {
        let Some(dir) = self.index.dir().map(Path::to_path_buf) else {
            return e;
        };
        let here = |old: PathBuf| {
            if old == Path::new(index::IN_MEMORY) {
                dir.clone()
            } else {
                old
            }
        };
        match e {
            Error::Index { dir, detail } => Error::Index {
                dir: here(dir),
                detail,
            },
            Error::IndexDamaged { dir, detail } => Error::IndexDamaged {
                dir: here(dir),
                detail,
            },
            e => e,
        }
    }

    /// Replaces a damaged index by a new one built from the store.
    fn heal(&mut self, why: String, progress: &ProgressFn<'_>) -> Result<()> {
        self.start_over(progress)?;
        self.rebuilt = Rebuilt::Replaced(why);
        Ok(())
    }

    /// Throws the index away, starts an empty one and fills it from the store.
    fn start_over(&mut self, progress: &ProgressFn<'_>) -> Result<SyncReport> {
        let dir = self.index.dir().map(Path::to_path_buf);
        let memory = self.index.writer_memory();
        self.synced_at = None;
        self.sets = SetCache::default();
        self.columns = None;
        self.runs.clear();
        // The old index stays in place until the new one is there: if the
        // rebuild fails, what it left is the folder's (damaged) index, and
        // the outbox, asking for everything, is drained into that folder.
        self.index = SearchIndex::rebuild(dir.as_deref(), memory, &mut self.store)?;
        self.sync_once(progress).map_err(|e| self.locate(e))
    }

    /// Applies pending changes from the store. Another process holding the
    /// index writer is not an error: the changes wait for the next call.
    pub fn sync(&mut self, progress: &ProgressFn<'_>) -> Result<SyncReport> {
        self.healing(progress, |s| s.sync_once(progress))
    }

    fn sync_once(&mut self, progress: &ProgressFn<'_>) -> Result<SyncReport> {
        // Nothing committed by anyone since the last catch-up: nothing to do.
        let version = self.store.data_version()?;
        if self.synced_at == Some(version) {
            return Ok(SyncReport::default());
        }
        let report = self.index.sync(&mut self.store, progress)?;
        if !report.busy {
            self.synced_at = Some(version);
        }
        Ok(report)
    }

    /// Imports files into the store and indexes them as they are read: each
    /// file is its own store transaction (see [`crate::import::import_paths`]),
    /// the index commits once at the end, and the outbox covers a crash
    /// between the two. When another process holds the index writer, the
    /// import goes on without indexing and the index catches up later.
    ///
    /// Index damage found on the way is healed (the index is rebuilt from
    /// the store, which holds what was imported so far) and the import runs
    /// again: files already in are found unchanged.
    pub fn import(&mut self, req: &ImportRequest<'_>) -> Result<ImportReport> {
        let report = self.healing(&|_, _| {}, |s| s.import_indexing(req));
        // Written through this connection, which the data version does not
        // count: the cached session sets may no longer hold.
        self.sets = SetCache::default();
        report
    }

    fn import_indexing(&mut self, req: &ImportRequest<'_>) -> Result<ImportReport> {
        let Some(mut writer) = self.index.try_writer()? else {
            return crate::import::import_paths(&mut self.store, req);
        };
        // Start from an index that holds everything committed before.
        self.index.drain(&mut writer, &mut self.store, &|_, _| {})?;
        let index = &self.index;
        let w = &writer;
        let outcome = crate::import::import_each(&mut self.store, req, &mut |batch, added| {
            // A session's documents go to the writer's threads in one
            // batch: one hand-over each, not one per message.
            let mut docs = Vec::with_capacity(added.messages.len() + 1);
            if added.new_session {
                let s = batch.session(added.id)?;
                docs.push(UserOperation::Add(index.session_doc(&s)));
            }
            for (i, m) in added.messages.iter().enumerate() {
                docs.push(UserOperation::Add(index.message_doc(
                    added.id,
                    added.first_seq + i as u64,
                    m.role,
                    m.model.as_deref(),
                    m.created_at.map_or(0, ts_to_ms),
                    &m.content,
                )));
            }
            w.run(docs).map_err(|e| index::index_error(None, &e))?;
            Ok(())
        });
        let run = match outcome {
            Ok(run) => run,
            Err(e) => {
                let _ = writer.rollback();
                return Err(e);
            }
        };
        if run.discarded {
            // A file failed after some of its sessions were indexed: drop
            // what was indexed and index the files imported from the outbox.
            writer
                .rollback()
                .map_err(|e| index::index_error(None, &e))?;
            self.index.drain(&mut writer, &mut self.store, &|_, _| {})?;
        } else {
            writer.commit().map_err(|e| index::index_error(None, &e))?;
            for span in &run.spans {
                self.store.outbox_done_span(*span)?;
            }
        }
        self.index.finish(writer)?;
        run.finish()
    }

    /// Throws the index away and builds it again from the store, whatever
    /// state it is in. A kill at any moment leaves the store's outbox asking
    /// for what is not done yet: the next open finishes it.
    pub fn rebuild(&mut self, progress: &ProgressFn<'_>) -> Result<SyncReport> {
        match self.start_over(progress) {
            Err(Error::IndexDamaged { detail, .. }) => {
                self.heal(detail, progress)?;
                Ok(SyncReport::default())
            }
            other => other,
        }
    }

    /// Checks every file of the index against its checksum, and that it
    /// opens (what `doctor` does); when something is wrong, rebuilds it from
    /// the store and tells what was wrong. `progress` sees bytes read, then
    /// rows applied if it rebuilds.
    pub fn verify(&mut self, progress: &ProgressFn<'_>) -> Result<Option<String>> {
        match self.index.verify(progress) {
            None => Ok(None),
            Some(why) => {
                self.heal(why.clone(), progress)?;
                Ok(Some(why))
            }
        }
    }

    /// The index itself (sizes, counts).
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Compares the store and the index, and queues every session that
    /// differs (missing, extra or with another message count) for
    /// reindexing, then applies the queue. Returns how many differed.
    pub fn repair(&mut self, progress: &ProgressFn<'_>) -> Result<usize> {
        self.healing(progress, |s| s.repair_once(progress))
    }

    fn repair_once(&mut self, progress: &ProgressFn<'_>) -> Result<usize> {
        self.sync_once(progress)?;
        // Look at the index as it is on disk, whatever happened to it.
        self.index
            .reader
            .reload()
            .map_err(|e| index::index_error(None, &e))?;
        let indexed = self.index.message_counts()?;
        let mut drift = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let all = self.store.list(&crate::domain::ListQuery {
            state: crate::domain::StateFilter::All,
            ..crate::domain::ListQuery::default()
        })?;
        for s in &all {
            let key = index::id_u64(s.id);
            seen.insert(key);
            if indexed.get(&key).copied() != Some(s.message_count) {
                drift.push(s.id);
            }
        }
        drift.extend(
            indexed
                .keys()
                .filter(|k| !seen.contains(k))
                .map(|&k| SessionId(i64::try_from(k).unwrap_or(0))),
        );
        if !drift.is_empty() {
            self.store.outbox_sessions(&drift)?;
            // Written through this connection: its data version did not move.
            self.synced_at = None;
            self.sync_once(progress)?;
        }
        Ok(drift.len())
    }

    /// Seqs of the messages of one session that a query finds there, in
    /// order (for stepping through the hits of an opened session): those
    /// that match every clause; when none does but each clause is matched by
    /// some document of the session (a hit across messages), those that
    /// match any clause. None when the session is not a hit (a session
    /// filter or an exclusion leaves it out).
    pub fn session_hits(&mut self, text: &str, id: SessionId) -> Result<Vec<u64>> {
        self.healing(&|_, _| {}, |s| s.session_hits_once(text, id))
    }

    fn session_hits_once(&mut self, text: &str, id: SessionId) -> Result<Vec<u64>> {
        self.sync_once(&|_, _| {})?;
        let parsed = parse(text)?;
        let (store, sets) = (&self.store, self.sets.at(self.store.data_version()?));
        let mut built = build::build(&parsed, &self.index.fields, store, &mut |t| {
            sets.term(store, t)
        })?;
        let key = index::id_u64(id);
        if !built.within.iter().all(|s| s.contains(key))
            || built.without.iter().any(|s| s.contains(key))
        {
            return Ok(Vec::new());
        }
        let searcher = self.index.reader.searcher();
        let columns = self.columns_of(&searcher)?;
        let runs = self.runs_of(&searcher, &columns);
        let f = self.index.fields;
        let this = |q: Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, q),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        tantivy::Term::from_field_u64(f.session, key),
                        IndexRecordOption::Basic,
                    )),
                ),
            ]))
        };
        let unscored = EnableScoring::disabled_from_searcher(&searcher);
        let counts = weights(&built.counts, unscored)?;
        let on = across::On {
            readers: searcher.segment_readers(),
            columns: &columns,
            runs: &runs,
            counts: &counts,
            created: built.created.clone(),
        };
        let store = &self.store;
        let mut text_of = |k| doc_text(store, k);
        let (exclusions, said) = exclusion_weights(&built.excluded, &this, unscored)?;
        let one = SessionSet::of([key]);
        let among = across::Among {
            within: Some(&one),
            allowed: &|_| true,
        };
        let (sure, mut excluded) = across::excluded(&on, &exclusions, &said, among)?;
        if sure.contains(key) || excluded.excludes(key, &mut text_of)? {
            return Ok(Vec::new());
        }
        let parts = std::mem::take(&mut built.parts);
        let single = self.messages_matching_all(built, &searcher, id)?;
        if !single.is_empty() || parts.len() < 2 {
            return Ok(single);
        }
        let (parts, checks) = part_weights(&parts, &this, &searcher)?;
        let spread = across::across(
            &on,
            &parts,
            &checks,
            &|s| s == key,
            &mut excluded,
            ts_to_ms(now()),
            &mut across::Reads {
                text: &mut text_of,
                per_session: usize::MAX,
                keys: true,
            },
        )?;
        let mut steps: Vec<u64> = spread
            .iter()
            .flat_map(|s| &s.docs)
            .filter(|d| d.kind == index::KIND_MESSAGE)
            .map(|d| d.seq)
            .collect();
        steps.sort_unstable();
        steps.dedup();
        Ok(steps)
    }

    /// Seqs of the messages of session `id` that match every clause of
    /// `built` (its exclusions aside), in order.
    fn messages_matching_all(
        &self,
        built: build::Built,
        searcher: &tantivy::Searcher,
        id: SessionId,
    ) -> Result<Vec<u64>> {
        let unscored = EnableScoring::disabled_from_searcher(searcher);
        let texts = verify::TextChecks::new(&built.texts, unscored)
            .map_err(|e| index::index_error(None, &e))?;
        let q = built.into_query(&self.index.fields);
        let f = &self.index.fields;
        let q = BooleanQuery::new(vec![
            (Occur::Must, q),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    tantivy::Term::from_field_u64(f.session, index::id_u64(id)),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    tantivy::Term::from_field_u64(f.kind, index::KIND_MESSAGE),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let docs = searcher
            .search(&q, &tantivy::collector::DocSetCollector)
            .map_err(|e| index::index_error(None, &e))?;
        let mut docs: Vec<_> = docs
            .into_iter()
            .map(|a| (a.segment_ord, a.doc_id))
            .collect();
        // In order, segment by segment: the checks only move forward.
        docs.sort_unstable();
        let mut found = Vec::with_capacity(docs.len());
        let mut reader = texts.reader();
        let mut at = None;
        for (segment, doc) in docs {
            if at.as_ref().is_none_or(|(s, _, _)| *s != segment) {
                let reader = searcher.segment_reader(segment);
                let failed = |e: tantivy::TantivyError| index::index_error(None, &e);
                let seq_col = reader
                    .fast_fields()
                    .u64("seq")
                    .map_err(failed)?
                    .first_or_default_col(0);
                at = Some((segment, seq_col, texts.for_segment(reader).map_err(failed)?));
            }
            let Some((_, seq_col, checks)) = &mut at else {
                continue;
            };
            let seq = seq_col.get_val(doc);
            let passes = match checks.decide(doc) {
                verify::Decision::Fails => false,
                verify::Decision::Passes => true,
                verify::Decision::ReadText(read) => {
                    reader.passes(read, self.store.message_text(id, seq)?.as_deref())
                }
            };
            if passes {
                found.push(seq);
            }
        }
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    /// The fast-field columns of each segment of `searcher` (kept while its
    /// generation holds).
    fn columns_of(&mut self, searcher: &tantivy::Searcher) -> Result<Arc<Vec<SegmentColumns>>> {
        let generation = searcher.generation().generation_id();
        if let Some((g, c)) = &self.columns
            && *g == generation
        {
            return Ok(c.clone());
        }
        let c = searcher
            .segment_readers()
            .iter()
            .map(SegmentColumns::open)
            .collect::<tantivy::Result<Vec<_>>>()
            .map_err(|e| index::index_error(None, &e))?;
        let c = Arc::new(c);
        self.columns = Some((generation, c.clone()));
        Ok(c)
    }

    /// The runs of sessions of each segment of `searcher` (made once per
    /// segment, kept while it lives).
    fn runs_of(
        &mut self,
        searcher: &tantivy::Searcher,
        columns: &[SegmentColumns],
    ) -> Vec<Arc<across::Runs>> {
        let readers = searcher.segment_readers();
        let key = |r: &tantivy::SegmentReader| (r.segment_id(), r.num_deleted_docs());
        self.runs
            .retain(|k, _| readers.iter().any(|r| key(r) == *k));
        readers
            .iter()
            .zip(columns)
            .map(|(r, c)| {
                self.runs
                    .entry(key(r))
                    .or_insert_with(|| {
                        Arc::new(across::Runs::of(&*c.session, r.max_doc(), r.alive_bitset()))
                    })
                    .clone()
            })
            .collect()
    }

    /// Runs a query in the query language (see [`query::parse`]) and returns
    /// a page of sessions, best first. Pending store changes are applied first.
    ///
    /// A session matches when each clause of the query is matched by one of
    /// its messages (or its name, title and tags) that passes the message
    /// filters, and no such document says an excluded word. Sessions with
    /// one message that matches every clause come first, by the score of
    /// their best such message; then the sessions whose clauses are matched
    /// by different messages, by the sum of each clause's best score.
    pub fn query(&mut self, text: &str, limit: Limit) -> Result<Results> {
        self.healing(&|_, _| {}, |s| s.query_once(text, limit))
    }

    fn query_once(&mut self, text: &str, limit: Limit) -> Result<Results> {
        self.sync_once(&|_, _| {})?;
        let parsed = parse(text)?;
        let (store, sets) = (&self.store, self.sets.at(self.store.data_version()?));
        let hidden = sets.hidden(store, limit.archived)?;
        let built = build::build(&parsed, &self.index.fields, store, &mut |t| {
            sets.term(store, t)
        })?;
        let searcher = self.index.reader.searcher();
        let columns = self.columns_of(&searcher)?;
        let across_needed = !built.excluded.is_empty() || built.parts.len() > 1;
        let runs = if across_needed {
            self.runs_of(&searcher, &columns)
        } else {
            Vec::new()
        };
        let failed = |e: tantivy::TantivyError| index::index_error(None, &e);
        let unscored = EnableScoring::disabled_from_searcher(&searcher);
        let checks = weights(&built.filters, unscored)?;
        let counts = weights(&built.counts, unscored)?;
        let texts = verify::TextChecks::new(&built.texts, unscored).map_err(failed)?;
        let on = across::On {
            readers: searcher.segment_readers(),
            columns: &columns,
            runs: &runs,
            counts: &counts,
            created: built.created.clone(),
        };
        let base = SessionFilter {
            within: built.within.iter().map(|s| &**s).collect(),
            without: std::iter::once(&*hidden)
                .chain(built.without.iter().map(|s| &**s))
                .collect(),
            created: built.created.clone(),
        };
        let store = &self.store;
        let mut text_of = |key| doc_text(store, key);
        let (exclusions, said) = exclusion_weights(&built.excluded, &|q| q, unscored)?;
        let mut parts = None;
        let mut scope = None;
        let (sure, mut excluded) = if exclusions.is_empty() {
            (SessionSet::default(), across::Excluded::nothing())
        } else {
            // Only the sessions that may match need be looked at.
            let (p, _) = parts.insert(part_weights(&built.parts, &|q| q, &searcher)?);
            let scope = scope.insert(across::scope(&on, p, &|s| base.allows(s))?);
            let among = across::Among {
                within: scope.as_ref(),
                allowed: &|s| base.allows(s),
            };
            across::excluded(&on, &exclusions, &said, among)?
        };
        let mut filter = base.clone();
        filter.without.push(&sure);
        // When exclusions leave few sessions, the first pass goes through
        // theirs alone.
        let only = scope.and_then(|scope| {
            across::ranges(&on, &|s| {
                scope.as_ref().is_none_or(|c| c.contains(s)) && filter.allows(s)
            })
        });
        let now_ms = ts_to_ms(now());
        let k = limit.offset + limit.limit;
        let mut collector = SessionTopK::new(k, now_ms, &filter, &columns, &checks, &texts);
        let weight = built
            .query
            .weight(EnableScoring::enabled_from_searcher(&searcher))
            .map_err(failed)?;
        for (segment, reader) in (0..).zip(searcher.segment_readers()) {
            let ranges = only.as_ref().map(|o| o[segment as usize].as_slice());
            collector.collect_segment(
                &*weight,
                segment,
                reader,
                ranges,
                &mut text_of,
                &mut excluded,
            )?;
        }
        let found = collector.finish(&mut text_of)?;
        // Sessions with one message matching every clause rank first: only
        // when they cannot fill the page (and then they are all known) can
        // sessions matched across messages be on it.
        let spread = if built.parts.len() > 1 && found.top.len() < k {
            let single = SessionSet::of(found.top.iter().map(|(s, _)| *s));
            let (parts, part_checks) = match parts {
                Some(p) => p,
                None => part_weights(&built.parts, &|q| q, &searcher)?,
            };
            across::across(
                &on,
                &parts,
                &part_checks,
                &|s| !single.contains(s) && filter.allows(s),
                &mut excluded,
                now_ms,
                &mut across::Reads {
                    text: &mut text_of,
                    per_session: collect::COUNT_READS,
                    keys: false,
                },
            )?
        } else {
            Vec::new()
        };
        let page: Vec<Ranked> = found
            .top
            .iter()
            .map(|(key, b)| Ranked {
                key: *key,
                score: b.score,
                segment: b.segment,
                doc: b.doc,
                others: b.count - 1,
                parts: None,
            })
            .chain(spread.iter().map(|s| Ranked {
                key: s.session,
                score: s.score,
                segment: s.segment,
                doc: s.doc,
                others: s.count.saturating_sub(1),
                parts: Some(&s.parts),
            }))
            .skip(limit.offset)
            .take(limit.limit)
            .collect();
        let ids: Vec<SessionId> = page
            .iter()
            .map(|r| SessionId(i64::try_from(r.key).unwrap_or(0)))
            .collect();
        let mut sessions: HashMap<SessionId, crate::store::SessionHead> = self
            .store
            .session_heads(&ids)?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let mut hits = Vec::with_capacity(page.len());
        for (r, &id) in page.iter().zip(&ids) {
            let Some(session) = sessions.remove(&id) else {
                continue;
            };
            let cols = &columns[r.segment as usize];
            let doc = r.doc;
            let message = (cols.kind.get_val(doc) == index::KIND_MESSAGE).then(|| HitMessage {
                seq: cols.seq.get_val(doc),
                role: index::role_of(cols.role.get_val(doc)),
                created_at: crate::domain::ts_from_ms(cols.created.get_val(doc)),
            });
            let (snippet, highlights) = if limit.snippets {
                let text = match &message {
                    Some(m) => self
                        .store
                        .messages(id, m.seq, 1)?
                        .into_iter()
                        .next()
                        .map(|m| m.content)
                        .unwrap_or_default(),
                    None => index::session_text(&self.store.session_by_id(id)?),
                };
                let marks = match r.parts {
                    None => std::borrow::Cow::Borrowed(&built.marks),
                    Some(parts) => {
                        // What this message matched, not the other messages.
                        let mut m = snippet::Marks::default();
                        for &p in parts {
                            m.extend(&built.parts[p].marks);
                        }
                        std::borrow::Cow::Owned(m)
                    }
                };
                snippet::snippet(&text, &marks, 160)
            } else {
                (String::new(), Vec::new())
            };
            hits.push(Hit {
                session: HitSession {
                    uid: session.uid,
                    name: session.name,
                    title: session.title,
                    source: session.source,
                    source_ref: session.source_ref,
                },
                message,
                snippet,
                highlights,
                score: r.score,
                other_hits: r.others,
                session_id: id,
            });
        }
        Ok(Results {
            hits,
            sessions: found.sessions + spread.len(),
        })
    }
}

/// A session on the page: its best document and what it matched.
struct Ranked<'a> {
    key: u64,
    score: f32,
    segment: u32,
    doc: u32,
    /// Its other matching documents.
    others: usize,
    /// The parts its best document matches, when not all.
    parts: Option<&'a [usize]>,
}

/// The query as the query language reads it, or an error pointing at the
/// part that is wrong.
fn parse(text: &str) -> Result<query::ParsedQuery> {
    query::parse(text, now()).map_err(|e| Error::Query(format!("{e}\n{}", e.pointer(text))))
}

/// Weights of filters, unscored.
fn weights(
    queries: &[(Occur, Box<dyn Query>)],
    scoring: EnableScoring<'_>,
) -> Result<Vec<(Occur, Box<dyn Weight>)>> {
    queries
        .iter()
        .map(|(occur, q)| Ok((*occur, q.weight(scoring)?)))
        .collect::<tantivy::Result<Vec<_>>>()
        .map_err(|e| index::index_error(None, &e))
}

/// The exclusions of a query, each query passed through `scope`, ready for
/// [`across::excluded`]; with the checks of their phrases.
fn exclusion_weights(
    excluded: &[build::Part],
    scope: &dyn Fn(Box<dyn Query>) -> Box<dyn Query>,
    scoring: EnableScoring<'_>,
) -> Result<(Vec<across::Exclusion>, verify::TextChecks)> {
    let failed = |e: tantivy::TantivyError| index::index_error(None, &e);
    let mut phrases = Vec::new();
    let mut out = Vec::with_capacity(excluded.len());
    for p in excluded {
        let phrase = p.text.as_ref().map(|t| {
            phrases.push(t.clone());
            phrases.len() - 1
        });
        out.push(across::Exclusion {
            weight: scope(p.query.box_clone()).weight(scoring).map_err(failed)?,
            phrase,
        });
    }
    let checks = verify::TextChecks::new(&phrases, scoring).map_err(failed)?;
    Ok((out, checks))
}

/// The parts of a query, each query passed through `scope`, ready for
/// [`across::across`]; with the checks of their phrases.
fn part_weights(
    parts: &[build::Part],
    scope: &dyn Fn(Box<dyn Query>) -> Box<dyn Query>,
    searcher: &tantivy::Searcher,
) -> Result<(Vec<across::PartWeight>, verify::TextChecks)> {
    let failed = |e: tantivy::TantivyError| index::index_error(None, &e);
    let scored = EnableScoring::enabled_from_searcher(searcher);
    let unscored = EnableScoring::disabled_from_searcher(searcher);
    let mut phrases = Vec::new();
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let q = scope(p.query.box_clone());
        let phrase = p.text.as_ref().map(|t| {
            phrases.push(t.clone());
            phrases.len() - 1
        });
        out.push(across::PartWeight {
            scored: q.weight(scored).map_err(failed)?,
            unscored: q.weight(unscored).map_err(failed)?,
            phrase,
        });
    }
    let checks = verify::TextChecks::new(&phrases, unscored).map_err(failed)?;
    Ok((out, checks))
}

/// The text a document of the index was made from, as the store has it now.
fn doc_text(store: &Store, key: collect::DocKey) -> Result<Option<String>> {
    let id = SessionId(i64::try_from(key.session).unwrap_or(0));
    if key.kind == index::KIND_MESSAGE {
        return store.message_text(id, key.seq);
    }
    match store.session_by_id(id) {
        Ok(s) => Ok(Some(index::session_text(&s))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
