//! `sources`, `sync` and `watch`: the session folders of other tools, kept
//! in step with the store.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::args::Command;
use super::{open_search, progress_bar, write_json};
use crate::config::Config;
use crate::jobs::JobControl;
use crate::search::Search;
use crate::store::Store;
use crate::sync::{SourceStatus, SyncLock, SyncReport, sources, status};

/// Runs `sources`, `sync` or `watch`. `db` is the database file (none for
/// the in-memory demo store), beside which syncs take turns on a lock.
pub(super) fn run(
    config: &Config,
    store: &Store,
    command: &Command,
    json: bool,
    db: Option<&Path>,
) -> Result<()> {
    let found = sources(&config.sync);
    let mut out = io::stdout().lock();
    match command {
        Command::Sources { .. } => {
            let st = status(store, &found)?;
            if json {
                write_json(&mut out, &st)?;
            } else {
                write!(out, "{}", sources_table(&st))?;
            }
        }
        Command::Sync { .. } => {
            let _lock = locked(db)?;
            let mut search = open_search(store, config)?;
            let report = pass(&mut search, &found, None, true)?;
            if json {
                write_json(&mut out, &report)?;
            } else {
                write!(out, "{}", crate::sanitize::message(&summary(&report)))?;
                writeln!(out)?;
            }
            let failed = report.import.failed.len();
            if failed > 0 {
                // Named above (or in the report): the exit code says it.
                out.flush()?;
                anyhow::bail!(
                    "{failed} file{} could not be synced; the rest was",
                    if failed == 1 { "" } else { "s" }
                );
            }
        }
        Command::Watch { .. } => watch(config, store, &found, json, db, &mut out)?,
        _ => {}
    }
    out.flush()?;
    Ok(())
}

/// The lock of the store's syncs (none for a store in memory): a sync
/// pass, and the opening of the index before the first, hold it.
fn locked(db: Option<&Path>) -> crate::error::Result<Option<SyncLock>> {
    db.map(|db| {
        SyncLock::acquire(db, || {
            eprintln!("scrollback: another sync of this store is running; waiting for it");
        })
    })
    .transpose()
}

/// One sync pass, over every source or over `files`; the caller holds the lock.
fn pass(
    search: &mut Search,
    found: &[crate::sync::Source],
    files: Option<&[std::path::PathBuf]>,
    bar: bool,
) -> crate::error::Result<SyncReport> {
    let bar = progress_bar("syncing", bar);
    let progress = |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let control = JobControl::new();
    let import = &mut |r: &crate::import::ImportRequest<'_>| search.import(r);
    let report = match files {
        None => crate::sync::sync(import, found, &progress, &control),
        Some(files) => crate::sync::sync_paths(import, files, &progress, &control),
    };
    bar.finish_and_clear();
    report
}

/// `watch`: a sync, then a pass over what changed, each time it changes.
fn watch(
    config: &Config,
    store: &Store,
    found: &[crate::sync::Source],
    json: bool,
    db: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    use crate::sync::watch::Change;
    let poll = Duration::from_secs(config.sync.poll_secs);
    let mut found = found.to_vec();
    let mut w = follow(&found, poll)?;
    let lock = locked(db)?;
    let mut search = open_search(store, config)?;
    drop(lock);
    let mut change = Some(Change::Everything);
    let mut retention = Retention::new(config, store)?;
    loop {
        if let Some(c) = change.take() {
            let files = match &c {
                Change::Everything => None,
                Change::Files(f) => Some(f.as_slice()),
            };
            let first = files.is_none();
            let report = match locked(db).and_then(|_lock| pass(&mut search, &found, files, first))
            {
                Ok(r) => r,
                Err(e) if first => return Err(e.into()),
                // The store busy for long (a large import elsewhere), the
                // disk full: said, and the next change tries again, with
                // everything since, so nothing is missed.
                Err(e) => {
                    eprintln!(
                        "scrollback: warning: {}",
                        crate::sanitize::message(&format!(
                            "a sync pass failed: {e}; the next change syncs everything again"
                        ))
                    );
                    change = w.next(Duration::from_hours(1)).map(|_| Change::Everything);
                    continue;
                }
            };
            let worth = first
                || report.import.sessions_added + report.import.messages_added > 0
                || !report.import.failed.is_empty();
            if worth {
                if json {
                    serde_json::to_writer(&mut *out, &report)?;
                    writeln!(out)?;
                } else {
                    let at = jiff::Zoned::now().strftime("%H:%M:%S");
                    let line = crate::sanitize::message(&summary(&report));
                    writeln!(out, "{at} {line}")?;
                }
                out.flush()?;
            }
        }
        retention.when_due(config, json, out)?;
        change = w.next(LOOK_FOR_SOURCES);
        if change.is_none() {
            // A tool used for the first time makes its folder: followed
            // from then on, and synced whole.
            let now = sources(&config.sync);
            if now != found {
                found = now;
                w = follow(&found, poll)?;
                change = Some(Change::Everything);
            }
        }
    }
}

/// The retention policy a watch applies every `[retention] every`.
struct Retention {
    every: Option<Duration>,
    last: Option<std::time::Instant>,
    store: Option<Store>,
}

impl Retention {
    fn new(config: &Config, store: &Store) -> Result<Retention> {
        let now = crate::domain::now();
        let rules = !config.retention.policy(now)?.is_empty();
        let every = config.retention.every.trim();
        let every = if rules && !every.is_empty() {
            let since = crate::domain::parse_before(every, now)?;
            Some(Duration::from_millis(
                u64::try_from(now.as_millisecond() - since.as_millisecond()).unwrap_or(0),
            ))
        } else {
            None
        };
        let store = every.map(|_| store.reopen()).transpose()?;
        Ok(Retention {
            every,
            last: None,
            store,
        })
    }

    /// Applies the policy when it is due (at once, then every `every`).
    fn when_due(&mut self, config: &Config, json: bool, out: &mut dyn Write) -> Result<()> {
        let (Some(every), Some(store)) = (self.every, self.store.as_mut()) else {
            return Ok(());
        };
        if self.last.is_some_and(|l| l.elapsed() < every) {
            return Ok(());
        }
        self.last = Some(std::time::Instant::now());
        let policy = config.retention.policy(crate::domain::now())?;
        let plan = store.retention_plan(&policy, &config.cleanup.protected_tags)?;
        if plan.is_empty() {
            return Ok(());
        }
        let run = store.apply_retention(&plan, "watch")?;
        if json {
            serde_json::to_writer(&mut *out, &serde_json::json!({ "retention": run }))?;
            writeln!(out)?;
        } else {
            let at = jiff::Zoned::now().strftime("%H:%M:%S");
            writeln!(out, "{at} {}", super::print::retention_run(&run))?;
        }
        out.flush()?;
        Ok(())
    }
}

/// How often a watch looks for sources that were not there before.
const LOOK_FOR_SOURCES: Duration = Duration::from_mins(1);

/// Starts following `found`, saying on stderr what cannot be followed.
fn follow(
    found: &[crate::sync::Source],
    poll: Duration,
) -> crate::error::Result<crate::sync::watch::Watch> {
    let w = crate::sync::watch::Watch::start(found, poll)?;
    for (p, why) in &w.polled {
        eprintln!(
            "scrollback: {}",
            crate::sanitize::message(&format!(
                "{}: no notifications ({why}); looked at every {} s",
                p.display(),
                poll.as_secs()
            ))
        );
    }
    for (p, why) in &w.failed {
        eprintln!(
            "scrollback: warning: {}",
            crate::sanitize::message(&format!("{}: cannot be followed: {why}", p.display()))
        );
    }
    eprintln!(
        "scrollback: following {} sources (ctrl-c stops)",
        found.iter().filter(|s| s.path.exists()).count()
    );
    Ok(w)
}

/// What a sync did, in a few lines.
fn summary(r: &SyncReport) -> String {
    let i = &r.import;
    let read = i.per_file.iter().filter(|f| !f.unchanged_file).count();
    let mut s = format!(
        "{} new sessions, {} grew, {} messages added; {} files read",
        i.sessions_added, i.sessions_grown, i.messages_added, read
    );
    if i.read_on > 0 {
        s.push_str(&format!(
            " ({} from where the last read stopped)",
            i.read_on
        ));
    }
    s.push_str(&format!(", {} unchanged and not read", i.files_unchanged));
    if !r.sources.is_empty() {
        s.push_str(&format!(" ({} sources)", r.sources.len()));
    }
    for f in &i.failed {
        s.push_str(&format!("\n  failed: {}", f.reason));
    }
    for g in &r.gone {
        s.push_str(&format!(
            "\n  gone while syncing (what the store has of it is kept): {}",
            g.path
        ));
    }
    if let Some(t) = &i.truncated {
        s.push_str(&format!(
            "\n  a line still being written is left for the next sync: {t}"
        ));
    }
    s
}

fn sources_table(st: &[SourceStatus]) -> String {
    if st.is_empty() {
        return "no session folders of other tools found (add some with [sync] paths in the config)\n"
            .into();
    }
    let mut out = String::new();
    for s in st {
        let path = crate::sanitize::message(&s.path.display().to_string());
        if !s.exists {
            out.push_str(&format!("{:<12} {path}  (not there)\n", s.tool));
            continue;
        }
        let mut pending = Vec::new();
        if s.new > 0 {
            pending.push(format!("{} new", s.new));
        }
        if s.changed > 0 {
            pending.push(format!("{} changed", s.changed));
        }
        let pending = if pending.is_empty() {
            "in step".to_string()
        } else {
            format!("{} since the last sync", pending.join(", "))
        };
        out.push_str(&format!(
            "{:<12} {path}\n             {} files, {}, {} sessions; {pending}\n",
            s.tool,
            s.files,
            super::print::size(s.bytes),
            s.sessions
        ));
    }
    out
}
