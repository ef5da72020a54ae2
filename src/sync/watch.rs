//! Following the sources as they change: the system's notifications of
//! file changes (inotify on Linux, FSEvents on macOS), gathered for a
//! moment so that a burst of writes makes one pass; a slow poll of the
//! files' sizes and times only where notifications are unavailable.
//!
//! Idle, nothing runs: the thread waits on a channel. A change names the
//! files that changed, and only those are looked at (a sync of a source
//! would stat all of its files). A change that comes while a pass runs
//! waits in the channel for the next one, so nothing written during a pass
//! is missed.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{Event, EventKind, RecursiveMode, Watcher};

use super::Source;
use crate::error::{Error, Result};

/// How long a burst of writes is gathered: until this long passes without
/// a new one...
const QUIET: Duration = Duration::from_millis(100);
/// ...or this long after its first, so that a session written to without
/// a pause still shows within a second.
const AT_MOST: Duration = Duration::from_millis(400);

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The system lost track (its queue overflowed): every source is synced.
    Everything,
    /// These files (or new folders) were written to.
    Files(Vec<PathBuf>),
}

/// The sources being followed.
pub struct Watch {
    rx: Receiver<notify::Result<Event>>,
    /// Held for as long as the sources are followed.
    watchers: Vec<Box<dyn Watcher + Send>>,
    /// The sources that are files (a SQLite database): a change to its
    /// journal is a change to it.
    files: Vec<PathBuf>,
    /// Sources followed by polling, with why notifications were not used.
    pub polled: Vec<(PathBuf, String)>,
    /// Sources that could not be followed at all, and why.
    pub failed: Vec<(PathBuf, String)>,
}

impl Watch {
    /// Starts following `sources` (those that exist). Where the system
    /// refuses notifications for a source (too many folders watched, a
    /// file system without them), that source is polled every `poll`.
    pub fn start(sources: &[Source], poll: Duration) -> Result<Watch> {
        let (tx, rx) = channel();
        let mut native: Option<Box<dyn Watcher + Send>> = {
            let tx = tx.clone();
            notify::recommended_watcher(move |e| {
                let _ = tx.send(e);
            })
            .ok()
            .map(|w| Box::new(w) as Box<dyn Watcher + Send>)
        };
        let mut poller: Option<Box<dyn Watcher + Send>> = None;
        let mut w = Watch {
            rx,
            watchers: Vec::new(),
            files: Vec::new(),
            polled: Vec::new(),
            failed: Vec::new(),
        };
        for s in sources {
            let (target, mode) = if s.path.is_file() {
                w.files.push(s.path.clone());
                match s.path.parent() {
                    Some(dir) => (dir.to_path_buf(), RecursiveMode::NonRecursive),
                    None => continue,
                }
            } else if s.path.is_dir() {
                (s.path.clone(), RecursiveMode::Recursive)
            } else {
                continue;
            };
            let refused = match native.as_mut() {
                Some(n) => match n.watch(&target, mode) {
                    Ok(()) => continue,
                    Err(e) => e.to_string(),
                },
                None => "this system gives no notifications of file changes".to_string(),
            };
            if poller.is_none() {
                let tx = tx.clone();
                let config = notify::Config::default().with_poll_interval(poll);
                poller = Some(Box::new(
                    notify::PollWatcher::new(
                        move |e| {
                            let _ = tx.send(e);
                        },
                        config,
                    )
                    .map_err(|e| watch_error(&target, &e))?,
                ));
            }
            if let Some(p) = poller.as_mut() {
                match p.watch(&target, mode) {
                    Ok(()) => w.polled.push((s.path.clone(), refused)),
                    Err(e) => w.failed.push((s.path.clone(), e.to_string())),
                }
            }
        }
        w.watchers.extend(native);
        w.watchers.extend(poller);
        Ok(w)
    }

    /// Waits up to `timeout` for changes, then gathers the burst they
    /// belong to. `None` when nothing changed in that time.
    pub fn next(&self, timeout: Duration) -> Option<Change> {
        let first = match self.rx.recv_timeout(timeout) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => return None,
            Err(RecvTimeoutError::Disconnected) => {
                // Nothing is followed (no source exists): nothing will come.
                std::thread::sleep(timeout);
                return None;
            }
        };
        let started = Instant::now();
        let mut events = vec![first];
        loop {
            let left = AT_MOST.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            match self.rx.recv_timeout(QUIET.min(left)) {
                Ok(e) => events.push(e),
                Err(_) => break,
            }
        }
        let mut files = Vec::new();
        for e in events {
            let Ok(e) = e else {
                // The watcher's own error (a queue overflow): look again at all.
                return Some(Change::Everything);
            };
            if e.need_rescan() {
                return Some(Change::Everything);
            }
            if !matches!(
                e.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any | EventKind::Other
            ) {
                continue;
            }
            for p in e.paths {
                if let Some(p) = self.worth_reading(p)
                    && !files.contains(&p)
                {
                    files.push(p);
                }
            }
        }
        if files.is_empty() {
            // Only deletions, reads, or files no tool writes its sessions
            // to: nothing to do, and nothing to report.
            return None;
        }
        Some(Change::Files(files))
    }

    /// The file to read for a path that changed: the database for its
    /// journal, the path itself for a session file or a new folder, none
    /// for the rest.
    fn worth_reading(&self, p: PathBuf) -> Option<PathBuf> {
        if let Some(db) = self.files.iter().find(|db| is_part_of(&p, db)) {
            return Some(db.clone());
        }
        if self.files.iter().any(|db| p.parent() == db.parent()) {
            // Beside a database source: another program's file.
            return None;
        }
        let meta = std::fs::metadata(&p).ok()?;
        if meta.is_dir() {
            return Some(p);
        }
        let ext = p.extension()?.to_string_lossy().to_ascii_lowercase();
        matches!(ext.as_str(), "json" | "jsonl" | "toon" | "zip").then_some(p)
    }
}

/// Whether `p` is the database `db` or one of its journals.
fn is_part_of(p: &Path, db: &Path) -> bool {
    if p == db {
        return true;
    }
    let (Some(name), Some(db_name)) = (p.file_name(), db.file_name()) else {
        return false;
    };
    let (name, db_name) = (name.to_string_lossy(), db_name.to_string_lossy());
    p.parent() == db.parent()
        && name
            .strip_prefix(db_name.as_ref())
            .is_some_and(|rest| matches!(rest, "-wal" | "-journal"))
}

fn watch_error(path: &Path, e: &notify::Error) -> Error {
    Error::io(path, std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: Option<Change>) -> Vec<String> {
        match c {
            Some(Change::Files(f)) => f
                .iter()
                .map(|p| {
                    p.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                })
                .collect(),
            other => panic!("expected files, got {other:?}"),
        }
    }

    #[test]
    fn a_burst_of_writes_is_one_change_naming_the_session_files() {
        let dir = tempfile::tempdir().expect("dir");
        let source = Source {
            tool: "config".into(),
            path: dir.path().to_path_buf(),
        };
        let w = Watch::start(&[source], Duration::from_secs(1)).expect("watch");
        let file = dir.path().join("a.jsonl");
        for i in 0..3 {
            let mut text = std::fs::read_to_string(&file).unwrap_or_default();
            text.push_str(&format!("{{\"n\": {i}}}\n"));
            std::fs::write(&file, text).expect("write");
        }
        std::fs::write(dir.path().join("notes.txt"), "not a session").expect("write");
        assert_eq!(names(w.next(Duration::from_secs(20))), ["a.jsonl"]);
        // A new folder is named, so that what is written in it before it
        // is followed is read too.
        std::fs::create_dir(dir.path().join("project")).expect("mkdir");
        std::fs::write(dir.path().join("project/b.jsonl"), "{}\n").expect("write");
        let mut seen = names(w.next(Duration::from_secs(20)));
        while !seen.iter().any(|n| n == "b.jsonl") {
            match w.next(Duration::from_secs(5)) {
                Some(c) => seen.extend(names(Some(c))),
                None => break,
            }
        }
        assert!(seen.iter().any(|n| n == "project"), "{seen:?}");
        // Idle, nothing comes.
        assert_eq!(w.next(Duration::from_millis(300)), None);
    }

    #[test]
    fn a_databases_journals_are_the_database() {
        let db = Path::new("/h/.config/io.datasette.llm/logs.db");
        assert!(is_part_of(db, db));
        assert!(is_part_of(
            Path::new("/h/.config/io.datasette.llm/logs.db-wal"),
            db
        ));
        assert!(is_part_of(
            Path::new("/h/.config/io.datasette.llm/logs.db-journal"),
            db
        ));
        assert!(!is_part_of(
            Path::new("/h/.config/io.datasette.llm/logs.db-shm2"),
            db
        ));
        assert!(!is_part_of(Path::new("/h/other/logs.db-wal"), db));
        assert!(!is_part_of(
            Path::new("/h/.config/io.datasette.llm/keys.json"),
            db
        ));
    }
}
