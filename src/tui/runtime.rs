//! Carries out commands away from the UI thread: one worker owns a store
//! connection (lists, pages, mutations), one reads the details pane (whose
//! statistics scan a whole session, so pages never wait behind them), and
//! one owns the search index (queries, catching up after changes). Each
//! answers with events. A burst of requests of one kind (list windows,
//! pages, searches) runs only the latest, so holding `j` or typing fast
//! never queues stale work. The store worker also watches SQLite's data
//! version, and says when another process changed the store.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread;
use std::time::Duration;

use super::command::{Command, Mutation};
use super::event::{Event, HistoryPage, MetaInfo};
use crate::domain::{ListQuery, NewMessage, NewSession, Sort, StateFilter};
use crate::error::Result;
use crate::import::ImportRequest;
use crate::jobs::JobControl;
use crate::search::{Limit, Search};
use crate::store::{ImportOptions, Store};

/// Handles to the workers.
pub struct Runtime {
    store: Sender<Command>,
    meta: Sender<Command>,
    search: Sender<Command>,
    sync: Option<SyncHandle>,
}

/// The sync worker: a request to sync, and the control of the pass running.
struct SyncHandle {
    run: Sender<()>,
    control: std::sync::Arc<std::sync::Mutex<JobControl>>,
}

/// What the sync worker needs to know.
pub struct SyncSetup {
    /// The tools' session folders.
    pub sources: Vec<crate::sync::Source>,
    /// Where they were found (looked at again now and then while
    /// following them: a tool used for the first time makes its folder).
    pub config: crate::config::SyncConfig,
    /// Follow them while the TUI runs (as `scrollback watch`).
    pub watch: bool,
    /// Sync them once when the TUI starts.
    pub on_start: bool,
    /// Where notifications are unavailable: how often to look.
    pub poll: Duration,
}

/// How often an idle store worker looks for changes made by other processes.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// Workers run with a large stack: a deeply nested input file is an error
/// for its parser to report, never a stack overflow that kills the process.
const WORKER_STACK: usize = 64 << 20;

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
        let mut meta_store = store.reopen()?;
        let (store_tx, store_rx) = channel();
        let (meta_tx, meta_rx) = channel();
        let (search_tx, search_rx) = channel();
        let fault = Fault::from_env();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            thread::Builder::new()
                .name(name.into())
                .stack_size(WORKER_STACK)
                .spawn(f)
                .map(drop)
                .map_err(|e| crate::Error::io("thread", e))
        };
        {
            let events = events.clone();
            let search_tx = search_tx.clone();
            spawn(
                "scrollback-store",
                Box::new(move || {
                    store_worker(
                        store,
                        &store_rx,
                        &events,
                        &search_tx,
                        &protected_tags,
                        fault,
                    );
                }),
            )?;
        }
        {
            let events = events.clone();
            spawn(
                "scrollback-meta",
                Box::new(move || {
                    while let Ok(first) = meta_rx.recv() {
                        for c in drain(first, &meta_rx) {
                            let event = run_store(&mut meta_store, c, &[], &events)
                                .unwrap_or_else(|e| Event::Failed(e.to_string()));
                            if events.send(event).is_err() {
                                return;
                            }
                        }
                    }
                }),
            )?;
        }
        {
            let events = events.clone();
            spawn(
                "scrollback-search",
                Box::new(move || search_worker(&search_store, &search_rx, &events, &setup)),
            )?;
        }
        Ok(Runtime {
            store: store_tx,
            meta: meta_tx,
            search: search_tx,
            sync: None,
        })
    }

    /// Starts the sync worker on a connection of its own: syncs run there,
    /// so lists, pages and searches never wait behind them. The index
    /// follows what a pass wrote through the outbox, like any change.
    pub fn start_sync(
        &mut self,
        store: Store,
        setup: SyncSetup,
        events: &Sender<Event>,
    ) -> Result<()> {
        let (run_tx, run_rx) = channel();
        let control = std::sync::Arc::new(std::sync::Mutex::new(JobControl::new()));
        let events = events.clone();
        let search = self.search.clone();
        let shared = control.clone();
        if setup.on_start {
            let _ = run_tx.send(());
        }
        thread::Builder::new()
            .name("scrollback-sync".into())
            .stack_size(WORKER_STACK)
            .spawn(move || sync_worker(store, setup, &run_rx, &shared, &events, &search))
            .map_err(|e| crate::Error::io("thread", e))?;
        self.sync = Some(SyncHandle {
            run: run_tx,
            control,
        });
        Ok(())
    }

    /// Asks for a sync of every source; false when there is no sync worker.
    pub fn sync_now(&self) -> bool {
        self.sync.as_ref().is_some_and(|s| s.run.send(()).is_ok())
    }

    /// Stops the sync pass running, if one is.
    pub fn cancel_sync(&self) {
        if let Some(s) = &self.sync {
            s.control
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .cancel();
        }
    }

    /// Asks every worker for `Event::Barrier(n)` after what it has now:
    /// when all three answered, all commands sent before are done.
    pub fn barrier(&self, n: u64) {
        for w in [&self.store, &self.meta, &self.search] {
            let _ = w.send(Command::Barrier(n));
        }
    }

    /// Workers that answer `barrier`.
    pub const WORKERS: usize = 3;

    /// Sends a command to the worker that handles it.
    pub fn send(&self, c: Command) {
        let to = match c {
            Command::Search { .. } | Command::SessionHits { .. } => &self.search,
            Command::LoadMeta { .. } | Command::LoadStats => &self.meta,
            _ => &self.store,
        };
        let _ = to.send(c);
    }
}

/// A fault to inject, for the tests that check what a crash leaves behind
/// (`SCROLLBACK_FAULT=panic-in-worker`: the store worker panics on its next
/// import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    PanicInWorker,
}

impl Fault {
    fn from_env() -> Fault {
        match std::env::var("SCROLLBACK_FAULT").as_deref() {
            Ok("panic-in-worker") => Fault::PanicInWorker,
            _ => Fault::None,
        }
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
    fault: Fault,
) {
    let mut seen = store.data_version().ok();
    loop {
        let first = match rx.recv_timeout(WATCH_EVERY) {
            Ok(c) => Some(c),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // Another process committed since we last looked.
        let now = store.data_version().ok();
        if now != seen {
            seen = now;
            if events.send(Event::StoreChanged).is_err() {
                return;
            }
        }
        let Some(first) = first else { continue };
        for c in drain(first, rx) {
            let mutation = matches!(c, Command::Mutate(_));
            assert!(
                !(fault == Fault::PanicInWorker
                    && matches!(c, Command::Mutate(Mutation::Import { .. }))),
                "injected fault: the store worker panics on import (SCROLLBACK_FAULT)"
            );
            let what = mutation.then(|| format!("{c:?}").chars().take(80).collect::<String>());
            let started = std::time::Instant::now();
            let event = match run_store(&mut store, c, protected, events) {
                Ok(e) => e,
                Err(e) if mutation => Event::MutationFailed(e.to_string()),
                Err(e) => Event::Failed(e.to_string()),
            };
            match (&event, &what) {
                (Event::Failed(e) | Event::MutationFailed(e), _) => tracing::error!("tui: {e}"),
                (Event::Done { message, .. }, Some(what)) => tracing::info!(
                    secs = started.elapsed().as_secs_f64(),
                    "tui: {message} ({what})"
                ),
                _ => {}
            }
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

/// Syncs when asked, and, when set up to, follows the sources: each change
/// a tool makes is synced within a second. Never touches the UI's workers
/// but to tell the search worker to index what a pass wrote.
fn sync_worker(
    mut store: Store,
    mut setup: SyncSetup,
    asked: &Receiver<()>,
    control: &std::sync::Mutex<JobControl>,
    events: &Sender<Event>,
    search: &Sender<Command>,
) {
    use crate::sync::watch::{Change, Watch};
    let mut looked = std::time::Instant::now();
    let mut watch = if setup.watch {
        match Watch::start(&setup.sources, setup.poll) {
            Ok(w) => Some(w),
            Err(e) => {
                let _ = events.send(Event::Synced {
                    message: format!("the sources cannot be followed: {e}"),
                    error: true,
                    quiet: false,
                });
                None
            }
        }
    } else {
        None
    };
    loop {
        // What to sync now, and whether the user asked for it.
        let (change, asked_for) = match &watch {
            Some(w) => match asked.try_recv() {
                Ok(()) => (Change::Everything, true),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    match w.next(Duration::from_millis(250)) {
                        Some(c) => (c, false),
                        None if looked.elapsed() >= Duration::from_mins(1) => {
                            // A tool used for the first time makes its
                            // folder: followed from then on.
                            looked = std::time::Instant::now();
                            let now = crate::sync::sources(&setup.config);
                            if now == setup.sources {
                                continue;
                            }
                            setup.sources = now;
                            match Watch::start(&setup.sources, setup.poll) {
                                Ok(w) => watch = Some(w),
                                Err(_) => continue,
                            }
                            (Change::Everything, false)
                        }
                        None => continue,
                    }
                }
            },
            None => match asked.recv() {
                Ok(()) => (Change::Everything, true),
                Err(_) => return,
            },
        };
        let job = JobControl::new();
        *control
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = job.clone();
        let event = sync_pass(&mut store, &setup, &change, asked_for, &job, events);
        let _ = events.send(Event::Progress {
            label: String::new(),
            done: 1,
            total: 1,
        });
        let _ = search.send(Command::SyncIndex);
        if events.send(event).is_err() {
            return;
        }
    }
}

fn sync_pass(
    store: &mut Store,
    setup: &SyncSetup,
    change: &crate::sync::watch::Change,
    asked_for: bool,
    job: &JobControl,
    events: &Sender<Event>,
) -> Event {
    let _lock = match store
        .path()
        .map(|db| crate::sync::SyncLock::acquire(db, || {}))
    {
        Some(Err(e)) => {
            return Event::Synced {
                message: format!("sync: {e}"),
                error: true,
                quiet: false,
            };
        }
        Some(Ok(l)) => Some(l),
        None => None,
    };
    let progress = |d, t| {
        let _ = events.send(Event::Progress {
            label: "syncing".into(),
            done: d,
            total: t,
        });
    };
    let import = &mut |r: &ImportRequest<'_>| crate::import::import_paths(store, r);
    let report = match change {
        crate::sync::watch::Change::Everything => {
            crate::sync::sync(import, &setup.sources, &progress, job)
        }
        crate::sync::watch::Change::Files(files) => {
            crate::sync::sync_paths(import, files, &progress, job)
        }
    };
    match report {
        Ok(r) => {
            let i = &r.import;
            let failed = i.failed.len();
            let mut message = format!(
                "synced: {} new sessions, {} grew, {} messages added",
                i.sessions_added, i.sessions_grown, i.messages_added
            );
            if failed > 0 {
                message.push_str(&format!("; {failed} files failed: {}", i.failed[0].reason));
            }
            Event::Synced {
                message,
                error: failed > 0,
                quiet: !asked_for && i.sessions_added + i.messages_added == 0 && failed == 0,
            }
        }
        Err(crate::Error::Cancelled) => Event::Synced {
            message: "sync cancelled; what it synced stays".into(),
            error: false,
            quiet: false,
        },
        Err(e) => Event::Synced {
            message: format!("sync: {e}"),
            error: true,
            quiet: false,
        },
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
            locate,
        } => {
            let total = store.count(&query)?;
            let located = match locate {
                Some(id) => store.position(&query, id)?,
                None => None,
            };
            let offset = located
                .map_or(offset, |p| p.saturating_sub(limit / 2))
                .min(total.saturating_sub(1));
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
                located,
            }
        }
        Command::LoadHistory {
            id,
            generation,
            from,
            limit,
        } => {
            let page = store.session_by_id(id).and_then(|session| {
                let messages = store.messages(id, from, limit)?;
                Ok(HistoryPage {
                    session,
                    from,
                    messages,
                })
            });
            Event::HistoryLoaded {
                id,
                generation,
                page: page.map_err(|e| e.to_string()),
            }
        }
        Command::OpenByName { name } => Event::Found(store.session(&name)?),
        Command::PlanResume { id, commands } => {
            let session = store.session_by_id(id)?;
            Event::ResumePlanned {
                plan: crate::resume::plan_in(store, &session, &commands)
                    .map_err(|why| why.to_string()),
                name: session.name,
            }
        }
        Command::Barrier(n) => Event::Barrier(n),
        Command::PrepareSession { id, pager } => prepare_session(store, id, pager)?,
        Command::LoadMeta { id } => {
            let session = store.session_by_id(id)?;
            let stats = store.session_stats(id)?;
            let parent = match &session.parent {
                Some(p) => store.session(&p.0).ok(),
                None => None,
            };
            let branches = store.branches_of(&session.uid)?;
            let archived_parent = match (&session.parent, &parent) {
                (Some(uid), None) => store.archived_in(uid)?,
                _ => None,
            };
            Event::MetaLoaded(Box::new(MetaInfo {
                session,
                stats,
                parent,
                branches,
                archived_parent,
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
            done(format!("renamed to {}", s.name), Some(s))
        }
        Mutation::Retitle { id, title } => {
            let s = store.retitle(id, &title)?;
            done(
                if s.title.is_empty() {
                    "title cleared".into()
                } else {
                    format!("title: {}", s.title)
                },
                None,
            )
        }
        Mutation::Archive { ids } => {
            let n = store.archive(&ids)?;
            done(format!("archived {n} sessions (v shows the archive)"), None)
        }
        Mutation::Unarchive { ids } => {
            let n = store.unarchive(&ids)?;
            done(format!("unarchived {n} sessions"), None)
        }
        Mutation::Purge { ids } => {
            let n = store.purge(&ids)?;
            done(format!("deleted {n} sessions for good"), None)
        }
        Mutation::Clear { id } => {
            let n = store.clear(id)?;
            done(format!("cleared {n} messages"), None)
        }
        Mutation::EditMessage {
            id,
            seq,
            expected,
            content,
        } => {
            let m = store.edit_message(id, seq, &expected, &content)?;
            done(format!("saved message #{}", m.seq), None)
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
                Some(b),
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
                Some(m),
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
            let first = match ids.first() {
                Some(id) => Some(store.session_by_id(*id)?),
                None => None,
            };
            done(format!("restored {n} sessions"), first)
        }
        Mutation::Compose { id, role, text } => {
            let m = store.add_message(id, NewMessage::new(role, text))?;
            done(format!("added message {} (G goes to the end)", m.seq), None)
        }
        Mutation::New { name, template } => {
            let s = store.create_session(&NewSession {
                name,
                template,
                ..NewSession::default()
            })?;
            done(format!("created {}", s.name), Some(s))
        }
        Mutation::Export {
            ids,
            format,
            path,
            overwrite,
        } => {
            if !overwrite && std::fs::symlink_metadata(&path).is_ok() {
                return Ok(Event::ExportExists { path, ids, format });
            }
            let total = ids.len() as u64;
            crate::export::export_to_file(
                store,
                &ids,
                format,
                &path,
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
        Mutation::ArchiveToFile { ids, path } => {
            let report = crate::archive::archive(
                store,
                &ids,
                &path,
                false,
                &|d, t| {
                    let _ = events.send(Event::Progress {
                        label: "archiving".into(),
                        done: d,
                        total: t,
                    });
                },
                &JobControl::new(),
            )?;
            let h = &report.archive.header;
            done(
                format!(
                    "moved {} sessions ({} messages) out to {} ({} KB); the store went from {} to {} KB",
                    h.sessions,
                    h.messages,
                    path.display(),
                    report.archive.file_bytes.div_ceil(1024),
                    report.db_bytes_before.div_ceil(1024),
                    report.db_bytes_after.div_ceil(1024)
                ),
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
                    found: false,
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
            let mutation = matches!(other, Command::Mutate(_));
            run_store(store, other, protected, &tx).unwrap_or_else(|e| {
                if mutation {
                    Event::MutationFailed(e.to_string())
                } else {
                    Event::Failed(e.to_string())
                }
            })
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
        Command::Barrier(n) => Event::Barrier(n),
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

/// Largest session text put on the clipboard (terminals drop far less).
const COPY_LIMIT: u64 = 8 << 20;

/// A whole session as Markdown: into a new private temporary file for the
/// pager, or as text for the clipboard.
fn prepare_session(store: &Store, id: crate::domain::SessionId, pager: bool) -> Result<Event> {
    let session = store.session_by_id(id)?;
    let quiet = |_: u64, _: u64| {};
    let control = JobControl::new();
    if pager {
        let dir = std::env::var_os("TMPDIR").map_or_else(
            || std::path::PathBuf::from("/tmp"),
            std::path::PathBuf::from,
        );
        let path = dir.join(format!("scrollback-{}.md", uuid::Uuid::new_v4().simple()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| crate::Error::io(&path, e))?;
        let mut w = std::io::BufWriter::new(file);
        let written = crate::export::export(
            store,
            &[id],
            crate::export::ExportFormat::Markdown,
            &mut w,
            &quiet,
            &control,
        );
        drop(w);
        if let Err(e) = written {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        return Ok(Event::PagerFile(path));
    }
    if session.char_count > COPY_LIMIT {
        return Ok(Event::Copied(Err(format!(
            "{} is too large to copy ({} characters): x exports it to a file",
            session.name, session.char_count
        ))));
    }
    let mut text = Vec::new();
    crate::export::export(
        store,
        &[id],
        crate::export::ExportFormat::Markdown,
        &mut text,
        &quiet,
        &control,
    )?;
    Ok(Event::SessionText {
        what: format!("session {}", session.name),
        text: String::from_utf8_lossy(&text).into_owned(),
    })
}
