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

mod build;
pub mod index;
pub mod query;
pub mod snippet;
pub mod tokenizer;

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::{DocAddress, Score};

pub use index::{Rebuilt, SearchIndex, SyncReport, index_dir};

use crate::domain::{Role, SessionId, Uid, now, ts_to_ms};
use crate::error::{Error, Result};
use crate::import::ImportRequest;
use crate::jobs::ProgressFn;
use crate::store::{ImportReport, Store};

/// Memory given to the index writer, in bytes.
pub const DEFAULT_WRITER_MEMORY: usize = 128 * 1024 * 1024;

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
    /// Its best matching message; `None` when the session's name, title or
    /// tags matched rather than a message.
    pub message: Option<HitMessage>,
    /// Text around the match, on one line.
    pub snippet: String,
    /// Byte ranges of the matched words in `snippet`.
    pub highlights: Vec<[usize; 2]>,
    /// Relevance (BM25 with a mild boost for recent messages).
    pub score: f32,
    /// Other matching messages of this session among the best results.
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
    /// Sessions left out of results, by "archived too", as of a data version.
    hidden: Option<(i64, bool, Vec<SessionId>)>,
}

impl Search {
    /// Opens the index beside the store (in memory for an in-memory store),
    /// rebuilding it when missing, damaged or of another version, and applies
    /// any changes the store has not yet given to the index. `progress` sees
    /// (rows done, rows) while it catches up.
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
        let (index, rebuilt) = SearchIndex::open(dir.as_deref(), writer_memory)?;
        if rebuilt != Rebuilt::No {
            own.outbox_everything()?;
        }
        let mut search = Search {
            store: own,
            index,
            synced_at: None,
            hidden: None,
        };
        search.sync(progress)?;
        Ok((search, rebuilt))
    }

    /// Applies pending changes from the store. Another process holding the
    /// index writer is not an error: the changes wait for the next call.
    pub fn sync(&mut self, progress: &ProgressFn<'_>) -> Result<SyncReport> {
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

    /// Sessions a query leaves out (trashed; archived unless asked for),
    /// read again only when the store changed.
    fn hidden(&mut self, archived: bool) -> Result<Vec<SessionId>> {
        let version = self.store.data_version()?;
        match &self.hidden {
            Some((v, a, ids)) if *v == version && *a == archived => Ok(ids.clone()),
            _ => {
                let ids = self.store.hidden_ids(archived)?;
                self.hidden = Some((version, archived, ids.clone()));
                Ok(ids)
            }
        }
    }

    /// Imports files into the store and indexes them as they are read, in one
    /// go: the store's transaction and the index's commit both happen at the
    /// end, and the outbox covers a crash between the two. When another
    /// process holds the index writer, the import goes on without indexing
    /// and the index catches up later.
    pub fn import(&mut self, req: &ImportRequest<'_>) -> Result<ImportReport> {
        let Some(mut writer) = self.index.try_writer()? else {
            return crate::import::import_paths(&mut self.store, req);
        };
        // Start from an index that holds everything committed before.
        self.index.drain(&mut writer, &mut self.store, &|_, _| {})?;
        let index = &self.index;
        let w = &writer;
        let outcome = (|| {
            let mut batch = self.store.begin_import(req.options)?;
            crate::import::read_into(&mut batch, req, &mut |batch, added| {
                if added.new_session {
                    let s = batch.session(added.id)?;
                    w.add_document(index.session_doc(&s))
                        .map_err(|e| index::index_error(None, &e))?;
                }
                for (i, m) in added.messages.iter().enumerate() {
                    let doc = index.message_doc(
                        added.id,
                        added.first_seq + i as u64,
                        m.role,
                        m.model.as_deref(),
                        m.created_at.map_or(0, ts_to_ms),
                        &m.content,
                    );
                    w.add_document(doc)
                        .map_err(|e| index::index_error(None, &e))?;
                }
                Ok(())
            })?;
            batch.commit_with_span()
        })();
        let (report, span) = match outcome {
            Ok(x) => x,
            Err(e) => {
                let _ = writer.rollback();
                return Err(e);
            }
        };
        writer.commit().map_err(|e| index::index_error(None, &e))?;
        self.store.outbox_done_span(span)?;
        self.index.finish(writer)?;
        Ok(report)
    }

    /// Throws the index away and builds it again from the store.
    pub fn rebuild(&mut self, progress: &ProgressFn<'_>) -> Result<SyncReport> {
        self.store.outbox_everything()?;
        self.synced_at = None;
        {
            let mut w: tantivy::IndexWriter<tantivy::TantivyDocument> = self
                .index
                .index
                .writer_with_num_threads(1, DEFAULT_WRITER_MEMORY)
                .map_err(|e| index::index_error(None, &e))?;
            w.delete_all_documents()
                .map_err(|e| index::index_error(None, &e))?;
            w.commit().map_err(|e| index::index_error(None, &e))?;
        }
        self.index.sync(&mut self.store, progress)
    }

    /// The index itself (sizes, counts).
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Compares the store and the index, and queues every session that
    /// differs (missing, extra or with another message count) for
    /// reindexing, then applies the queue. Returns how many differed.
    pub fn repair(&mut self, progress: &ProgressFn<'_>) -> Result<usize> {
        self.sync(progress)?;
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
            self.sync(progress)?;
        }
        Ok(drift.len())
    }

    /// Seqs of every message of one session that matches a query, in order
    /// (for stepping through the hits of an opened session).
    pub fn session_hits(&mut self, text: &str, id: SessionId) -> Result<Vec<u64>> {
        self.sync(&|_, _| {})?;
        let parsed = query::parse(text, now())
            .map_err(|e| Error::Query(format!("{e}\n{}", e.pointer(text))))?;
        let built = build::build(&parsed, &self.index.fields, &self.store, &[])?;
        let f = &self.index.fields;
        let q = tantivy::query::BooleanQuery::new(vec![
            (tantivy::query::Occur::Must, built.query),
            (
                tantivy::query::Occur::Must,
                Box::new(tantivy::query::TermQuery::new(
                    tantivy::Term::from_field_u64(f.session, index::id_u64(id)),
                    tantivy::schema::IndexRecordOption::Basic,
                )),
            ),
            (
                tantivy::query::Occur::Must,
                Box::new(tantivy::query::TermQuery::new(
                    tantivy::Term::from_field_u64(f.kind, index::KIND_MESSAGE),
                    tantivy::schema::IndexRecordOption::Basic,
                )),
            ),
        ]);
        let searcher = self.index.reader.searcher();
        let docs = searcher
            .search(&q, &tantivy::collector::DocSetCollector)
            .map_err(|e| index::index_error(None, &e))?;
        let mut seqs = Vec::with_capacity(docs.len());
        for addr in docs {
            let col = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("seq")
                .map_err(|e| index::index_error(None, &e))?
                .first_or_default_col(0);
            seqs.push(col.get_val(addr.doc_id));
        }
        seqs.sort_unstable();
        seqs.dedup();
        Ok(seqs)
    }

    /// Runs a query in the query language (see [`query::parse`]) and returns
    /// a page of sessions, best first. Pending store changes are applied first.
    pub fn query(&mut self, text: &str, limit: Limit) -> Result<Results> {
        self.sync(&|_, _| {})?;
        let parsed = query::parse(text, now())
            .map_err(|e| Error::Query(format!("{e}\n{}", e.pointer(text))))?;
        let hidden = self.hidden(limit.archived)?;
        let built = build::build(&parsed, &self.index.fields, &self.store, &hidden)?;
        let searcher = self.index.reader.searcher();
        let want = limit.offset + limit.limit;
        let mut k = (want * 8).max(200);
        let now_ms = ts_to_ms(now());
        let (groups, order) = loop {
            // BM25 top-k (block-max WAND skips most of a common word's
            // documents), then the mild recency boost within them.
            let mut top = searcher
                .search(&built.query, &TopDocs::with_limit(k).order_by_score())
                .map_err(|e| index::index_error(None, &e))?;
            boost_recent(&searcher, &mut top, now_ms)?;
            let (groups, order) = group(&searcher, &top)?;
            if order.len() >= want || top.len() < k {
                break (groups, order);
            }
            k *= 8;
        };
        let mut hits = Vec::new();
        for key in order.iter().skip(limit.offset).take(limit.limit) {
            let g = &groups[key];
            let id = SessionId(i64::try_from(*key).unwrap_or(0));
            let Ok(session) = self.store.session_by_id(id) else {
                continue;
            };
            let message = if g.kind != index::KIND_MESSAGE {
                None
            } else if limit.snippets {
                self.store.messages(id, g.seq, 1)?.into_iter().next()
            } else {
                // Role and time are enough: the text is not read.
                self.store
                    .message_header(id, g.seq)?
                    .map(|(role, created_at)| crate::domain::Message {
                        seq: g.seq,
                        role,
                        content: String::new(),
                        created_at,
                        model: None,
                        tokens: None,
                        metadata: serde_json::Map::new(),
                        source_id: None,
                    })
            };
            let (snippet, highlights) = if limit.snippets {
                let text = message.as_ref().map_or_else(
                    || {
                        format!(
                            "{} {} {}",
                            session.name,
                            session.title,
                            session.tags.join(" ")
                        )
                    },
                    |m| m.content.clone(),
                );
                snippet::snippet(&text, &built.marks, 160)
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
                message: message.map(|m| HitMessage {
                    seq: m.seq,
                    role: m.role,
                    created_at: m.created_at,
                }),
                snippet,
                highlights,
                score: g.score,
                other_hits: g.count - 1,
                session_id: id,
            });
        }
        Ok(Results {
            hits,
            sessions: order.len(),
        })
    }
}

/// The best document of a session among the results, and how many it had.
struct Group {
    score: Score,
    seq: u64,
    kind: u64,
    count: usize,
}

fn group(
    searcher: &tantivy::Searcher,
    top: &[(Score, DocAddress)],
) -> Result<(HashMap<u64, Group>, Vec<u64>)> {
    let mut groups: HashMap<u64, Group> = HashMap::new();
    let mut order = Vec::new();
    let mut columns = HashMap::new();
    for &(score, addr) in top {
        let cols = match columns.entry(addr.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let ff = searcher.segment_reader(addr.segment_ord).fast_fields();
                let col = |name: &str| {
                    ff.u64(name)
                        .map(|c| c.first_or_default_col(0))
                        .map_err(|e| index::index_error(None, &e))
                };
                v.insert((col("session")?, col("seq")?, col("kind")?))
            }
        };
        let session = cols.0.get_val(addr.doc_id);
        groups
            .entry(session)
            .and_modify(|g| g.count += 1)
            .or_insert_with(|| {
                order.push(session);
                Group {
                    score,
                    seq: cols.1.get_val(addr.doc_id),
                    kind: cols.2.get_val(addr.doc_id),
                    count: 1,
                }
            });
    }
    Ok((groups, order))
}

/// BM25 times a mild boost for recent messages: up to +10% for today,
/// halving every 180 days. Re-sorts `top`, best first.
fn boost_recent(
    searcher: &tantivy::Searcher,
    top: &mut [(Score, DocAddress)],
    now_ms: i64,
) -> Result<()> {
    let mut columns = HashMap::new();
    for (score, addr) in top.iter_mut() {
        let col = match columns.entry(addr.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(
                searcher
                    .segment_reader(addr.segment_ord)
                    .fast_fields()
                    .i64("created")
                    .map_err(|e| index::index_error(None, &e))?
                    .first_or_default_col(0),
            ),
        };
        #[allow(clippy::cast_precision_loss)]
        let age_days = ((now_ms - col.get_val(addr.doc_id)).max(0) as f64) / 86_400_000.0;
        #[allow(clippy::cast_possible_truncation)]
        let boost = (1.0 + 0.1 * 0.5f64.powf(age_days / 180.0)) as f32;
        *score *= boost;
    }
    top.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(())
}
