//! Carries out commands away from the UI thread: one worker owns a store
//! connection (lists, pages, mutations), another owns the search index
//! (queries, catching up after changes). Each answers with events. A burst
//! of requests of one kind (list windows, pages, searches) runs only the
//! latest, so holding `j` or typing fast never queues stale work.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;

use super::command::{Command, Mutation};
use super::event::{Event, MetaInfo};
use crate::domain::{ListQuery, NewMessage, NewSession, Sort, StateFilter};
use crate::error::Result;
use crate::import::ImportRequest;
use crate::jobs::JobControl;
use crate::search::{Limit, Search};
use crate::store::{ImportOptions, Store};

/// Handles to the workers.
pub struct Runtime {
    store: Sender<Command>,
    search: Sender<Command>,
}

/// What the search worker needs to know.
pub struct SearchSetup {
    pub writer_memory: usize,
}

impl Runtime {
    /// Starts the workers on a store; events go to `events`.
    pub fn start(
        store: Store,
        events: &Sender<Event>,
        protected_tags: Vec<String>,
        setup: SearchSetup,
    ) -> Result<Runtime> {
        let search_store = store.reopen()?;
        let (store_tx, store_rx) = channel();
        let (search_tx, search_rx) = channel();
        {
            let events = events.clone();
            let search_tx = search_tx.clone();
            thread::Builder::new()
                .name("scrollback-store".into())
                .spawn(move || store_worker(store, &store_rx, &events, &search_tx, &protected_tags))
                .map_err(|e| crate::Error::io("thread", e))?;
        }
        {
            let events = events.clone();
            thread::Builder::new()
                .name("scrollback-search".into())
                .spawn(move || search_worker(&search_store, &search_rx, &events, &setup))
                .map_err(|e| crate::Error::io("thread", e))?;
        }
        Ok(Runtime {
            store: store_tx,
            search: search_tx,
        })
    }

    /// Sends a command to the worker that handles it.
    pub fn send(&self, c: Command) {
        let to = match c {
            Command::Search { .. } | Command::SessionHits { .. } => &self.search,
            _ => &self.store,
        };
        let _ = to.send(c);
    }
}

/// Takes everything waiting, keeping only the last of each kind that is
/// superseded by a newer one.
fn drain(first: Command, rx: &Receiver<Command>) -> Vec<Command> {
    let mut all = vec![first];
    all.extend(rx.try_iter());
    let kind = |c: &Command| match c {
        Command::LoadList { .. } => 1,
        Command::LoadHistory { .. } => 2,
        Command::LoadMeta { .. } => 3,
        Command::Search { .. } => 4,
        Command::PreviewCleanup { .. } => 5,
        Command::PreviewMerge { .. } => 6,
        _ => 0,
    };
    let mut keep = Vec::with_capacity(all.len());
    for (i, c) in all.iter().enumerate() {
        let k = kind(c);
        if k == 0 || !all[i + 1..].iter().any(|later| kind(later) == k) {
            keep.push(c.clone());
        }
    }
    keep
}

fn store_worker(
    mut store: Store,
    rx: &Receiver<Command>,
    events: &Sender<Event>,
    search: &Sender<Command>,
    protected: &[String],
) {
    while let Ok(first) = rx.recv() {
        for c in drain(first, rx) {
            let mutation = matches!(c, Command::Mutate(_));
            let event = match run_store(&mut store, c, protected, events) {
                Ok(e) => e,
                Err(e) => Event::Failed(e.to_string()),
            };
            if mutation {
                // The index follows the change through the outbox.
                let _ = search.send(Command::SyncIndex);
            }
            if events.send(event).is_err() {
                return;
            }
        }
    }
}

fn run_store(
    store: &mut Store,
    c: Command,
    protected: &[String],
    events: &Sender<Event>,
) -> Result<Event> {
    Ok(match c {
        Command::LoadList {
            generation,
            query,
            offset,
            limit,
        } => {
            let total = store.count(&query)?;
            let offset = offset.min(total.saturating_sub(1));
            let rows = store.list(&ListQuery {
                limit: Some(limit),
                offset,
                ..query
            })?;
            Event::ListLoaded {
                generation,
                total,
                offset,
                rows,
            }
        }
        Command::LoadHistory { id, from, limit } => {
            let session = store.session_by_id(id)?;
            let messages = store.messages(id, from, limit)?;
            Event::HistoryLoaded {
                session,
                from,
                messages,
            }
        }
        Command::LoadMeta { id } => {
            let session = store.session_by_id(id)?;
            let stats = store.session_stats(id)?;
            let parent = match &session.parent {
                Some(p) => store.session(&p.0).ok(),
                None => None,
            };
            let branches = store.branches_of(&session.uid)?;
            Event::MetaLoaded(Box::new(MetaInfo {
                session,
                stats,
                parent,
                branches,
            }))
        }
        Command::LoadStats => {
            let stats = store.store_stats()?;
            let largest = store.list(&ListQuery {
                sort: Sort::Size,
                limit: Some(10),
                state: StateFilter::All,
                ..ListQuery::default()
            })?;
            Event::StatsLoaded(Box::new(stats), largest)
        }
        Command::LoadTags => Event::TagsLoaded(store.tag_names()?),
        Command::PreviewCleanup { criteria, action } => Event::CleanupPreview(
            store
                .cleanup_plan(&criteria, action, protected)
                .map_err(|e| e.to_string()),
        ),
        Command::PreviewMerge { ids, order } => {
            Event::MergePreview(store.merge_preview(&ids, order).map_err(|e| e.to_string()))
        }
        Command::Mutate(m) => mutate(store, m, events)?,
        // Terminal and search commands never reach this worker.
        other => Event::Failed(format!("internal: misrouted command {other:?}")),
    })
}

fn mutate(store: &mut Store, m: Mutation, events: &Sender<Event>) -> Result<Event> {
    let done = |message: String, select| Event::Done {
        message,
        select,
        trashed: Vec::new(),
    };
    Ok(match m {
        Mutation::Rename { id, name } => {
            let s = store.rename(id, &name)?;
            done(format!("renamed to {}", s.name), Some(id))
        }
        Mutation::Tags { id, add, remove } => {
            let s = store.update_tags(id, &add, &remove)?;
            done(
                format!(
                    "tags: {}",
                    if s.tags.is_empty() {
                        "(none)".into()
                    } else {
                        s.tags.join(", ")
                    }
                ),
                None,
            )
        }
        Mutation::Metadata { id, metadata } => {
            let current = store.session_by_id(id)?.metadata;
            let mut changes: Vec<(String, Option<serde_json::Value>)> = current
                .keys()
                .filter(|k| !metadata.contains_key(*k))
                .map(|k| (k.clone(), None))
                .collect();
            changes.extend(metadata.into_iter().map(|(k, v)| (k, Some(v))));
            store.update_metadata(id, &changes)?;
            done("metadata saved".into(), None)
        }
        Mutation::Branch { id, name, at } => {
            let b = store.branch(id, &name, Some(at))?;
            done(
                format!(
                    "branched {} at message {at} ({} messages)",
                    b.name, b.message_count
                ),
                Some(b.id),
            )
        }
        Mutation::Merge { ids, name, order } => {
            let m = store.merge(&ids, &name, order)?;
            done(
                format!(
                    "merged {} sessions into {} ({} messages)",
                    ids.len(),
                    m.name,
                    m.message_count
                ),
                Some(m.id),
            )
        }
        Mutation::Cleanup { plan } => {
            let n = store.apply_cleanup(&plan)?;
            let verb = match plan.action {
                crate::domain::CleanupAction::Archive => "archived",
                crate::domain::CleanupAction::Trash => "moved to the trash",
                crate::domain::CleanupAction::Purge => "deleted for good",
            };
            done(format!("{verb} {n} sessions"), None)
        }
        Mutation::Trash { ids } => {
            let n = store.trash(&ids)?;
            Event::Done {
                message: format!("moved {n} sessions to the trash (u undoes)"),
                select: None,
                trashed: ids,
            }
        }
        Mutation::Restore { ids } => {
            let n = store.restore(&ids)?;
            done(format!("restored {n} sessions"), ids.first().copied())
        }
        Mutation::Compose { id, role, text } => {
            let m = store.add_message(id, NewMessage::new(role, text))?;
            done(
                format!("added message {} (G goes to the end)", m.seq),
                Some(id),
            )
        }
        Mutation::New { name, template } => {
            let s = store.create_session(&NewSession {
                name,
                template,
                ..NewSession::default()
            })?;
            done(format!("created {}", s.name), Some(s.id))
        }
        Mutation::Export { ids, format, path } => {
            let file = std::fs::File::create(&path).map_err(|e| crate::Error::io(&path, e))?;
            let mut w = std::io::BufWriter::new(file);
            let total = ids.len() as u64;
            crate::export::export(
                store,
                &ids,
                format,
                &mut w,
                &|d, t| {
                    let _ = events.send(Event::Progress {
                        label: "exporting".into(),
                        done: d,
                        total: t,
                    });
                },
                &JobControl::new(),
            )?;
            done(
                format!("exported {total} sessions to {}", path.display()),
                None,
            )
        }
        Mutation::Import { path, format } => {
            let report = crate::import::import_paths(
                store,
                &ImportRequest {
                    paths: &[path],
                    format,
                    partial: false,
                    options: ImportOptions::default(),
                    progress: &|d, t| {
                        let _ = events.send(Event::Progress {
                            label: "importing".into(),
                            done: d,
                            total: t,
                        });
                    },
                    control: &JobControl::new(),
                },
            )?;
            let _ = events.send(Event::Progress {
                label: String::new(),
                done: 1,
                total: 1,
            });
            done(
                format!(
                    "imported {} new sessions ({} messages), {} grew",
                    report.sessions_added, report.messages_added, report.sessions_grown
                ),
                None,
            )
        }
    })
}

/// Carries out one command right here, as the workers would, and returns
/// the event they would send (progress events of long jobs are dropped).
/// For tests, benchmarks and scripted use; the TUI itself uses the workers.
pub fn run_now(store: &mut Store, search: &mut Search, c: Command, protected: &[String]) -> Event {
    let (tx, _rx) = channel();
    match c {
        c @ (Command::Search { .. } | Command::SessionHits { .. }) => {
            run_search(search, c, &|_, _| {})
        }
        other => {
            run_store(store, other, protected, &tx).unwrap_or_else(|e| Event::Failed(e.to_string()))
        }
    }
}

/// The search worker's part: queries, hits in a session, catching up.
fn run_search(search: &mut Search, c: Command, progress: &crate::jobs::ProgressFn<'_>) -> Event {
    match c {
        Command::Search {
            generation,
            text,
            archived,
        } => {
            let limit = Limit {
                limit: 100,
                offset: 0,
                archived,
                snippets: true,
            };
            let result = search
                .query(&text, limit)
                .map(|r| r.hits)
                .map_err(|e| e.to_string());
            Event::SearchDone { generation, result }
        }
        Command::SessionHits { id, text } => match search.session_hits(&text, id) {
            Ok(seqs) => Event::SessionHits { id, seqs },
            Err(e) => Event::Failed(e.to_string()),
        },
        // After a change: catch up now, so the next search is instant.
        _ => match search.sync(progress) {
            Ok(_) => Event::Progress {
                label: String::new(),
                done: 1,
                total: 1,
            },
            Err(e) => Event::Failed(e.to_string()),
        },
    }
}

fn search_worker(
    store: &Store,
    rx: &Receiver<Command>,
    events: &Sender<Event>,
    setup: &SearchSetup,
) {
    let progress = |d: u64, t: u64| {
        let _ = events.send(Event::Progress {
            label: "indexing".into(),
            done: d,
            total: t,
        });
    };
    let mut search = match Search::open_with(store, setup.writer_memory, &progress) {
        Ok((s, _)) => s,
        Err(e) => {
            let _ = events.send(Event::Failed(format!("search is unavailable: {e}")));
            return;
        }
    };
    let _ = events.send(Event::Progress {
        label: String::new(),
        done: 1,
        total: 1,
    });
    while let Ok(first) = rx.recv() {
        for c in drain(first, rx) {
            let event = run_search(&mut search, c, &progress);
            if events.send(event).is_err() {
                return;
            }
        }
    }
}
