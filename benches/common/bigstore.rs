#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
//! The big generated stores the TUI and serve benchmarks measure against:
//! sessions of seeded text (one of them long), with their search index,
//! built once and reused while their marker file says they are complete.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use scrollback::domain::{MessageDoc, ts_from_ms};
use scrollback::search::{Search, index_dir};
use scrollback::store::ImportOptions;
use scrollback::{Role, SessionDoc, Store, Uid};

/// What a generated store holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub sessions: usize,
    pub messages: u64,
    /// Messages of the one long session (0: none).
    pub big: usize,
    pub seed: u64,
}

impl Spec {
    pub fn marker(&self) -> String {
        format!(
            "v1 sessions={} messages={} big={} seed={}",
            self.sessions, self.messages, self.big, self.seed
        )
    }

    pub fn big_name(&self) -> String {
        format!("big-{}", self.big)
    }

    /// Messages of session `i`: the long one in the middle, the rest spread evenly.
    pub fn count(&self, i: usize) -> usize {
        let others = self.sessions - usize::from(self.big > 0);
        let rest = self.messages as usize - self.big;
        if self.big > 0 && i == self.sessions / 2 {
            return self.big;
        }
        let j = if self.big > 0 && i > self.sessions / 2 {
            i - 1
        } else {
            i
        };
        rest / others + usize::from(j < rest % others)
    }

    pub fn uid(&self, i: usize) -> String {
        format!("tui-{:04x}-{i:09}", self.seed)
    }

    pub fn name(&self, i: usize) -> String {
        if self.big > 0 && i == self.sessions / 2 {
            self.big_name()
        } else {
            format!("s-{i}")
        }
    }
}

pub const TAGS: &[&str] = &["work", "personal", "rust", "python", "research", "ops"];

pub fn remove_store(db: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let _ = std::fs::remove_dir_all(index_dir(db));
    let _ = std::fs::remove_file(marker_path(db));
}

pub fn marker_path(db: &Path) -> PathBuf {
    db.with_extension("complete")
}

/// Builds the store (and its search index) unless a complete one is there.
/// Returns the seconds spent building (0 when reused).
pub fn ensure_store(db: &Path, spec: &Spec) -> f64 {
    if db.exists() && std::fs::read_to_string(marker_path(db)).ok() == Some(spec.marker()) {
        println!("reusing {} ({})", db.display(), spec.marker());
        return 0.0;
    }
    remove_store(db);
    println!("building {} ({}) ...", db.display(), spec.marker());
    let t = Instant::now();
    let mut store = Store::open(db).unwrap();
    let mut rng = super::Rng::new(spec.seed);
    let base_ms: i64 = 1_700_000_000_000; // 2023-11-14
    let chunk = 1_000;
    let mut written = 0u64;
    let mut last_report = Instant::now();
    for start in (0..spec.sessions).step_by(chunk) {
        let mut batch = store.begin_import(ImportOptions::default()).unwrap();
        for i in start..(start + chunk).min(spec.sessions) {
            let n = spec.count(i);
            let created = base_ms + i as i64 * 600_000;
            let messages = (0..n)
                .map(|j| {
                    let len = 30 + rng.below(50);
                    MessageDoc {
                        role: Some(if j % 2 == 0 {
                            Role::User
                        } else {
                            Role::Assistant
                        }),
                        content: super::tui_text(&mut rng, len),
                        created_at: Some(ts_from_ms(created + j as i64 * 10_000)),
                        ..MessageDoc::default()
                    }
                })
                .collect();
            batch
                .add(SessionDoc {
                    uid: Some(Uid(spec.uid(i))),
                    name: Some(spec.name(i)),
                    title: super::tui_text(&mut rng, 20),
                    tags: vec![TAGS[rng.below(TAGS.len())].to_string()],
                    messages,
                    ..SessionDoc::default()
                })
                .unwrap();
            written += n as u64;
        }
        batch.commit().unwrap();
        if last_report.elapsed() > Duration::from_secs(15) {
            last_report = Instant::now();
            eprintln!(
                "  {written} messages in {:.0} s ({:.0}/s)",
                t.elapsed().as_secs_f64(),
                written as f64 / t.elapsed().as_secs_f64()
            );
        }
    }
    let stored = t.elapsed().as_secs_f64();
    println!(
        "  store: {written} messages in {stored:.0} s ({:.0} messages/s)",
        written as f64 / stored
    );
    let ti = Instant::now();
    let last = Mutex::new(Instant::now());
    let search = Search::open(&store, &|d, n| {
        let mut l = last.lock().unwrap();
        if l.elapsed() > Duration::from_secs(15) {
            *l = Instant::now();
            eprintln!("  index: {d} of {n} outbox rows");
        }
    })
    .unwrap();
    drop(search);
    println!("  index: {:.0} s", ti.elapsed().as_secs_f64());
    drop(store);
    std::fs::write(marker_path(db), spec.marker()).unwrap();
    t.elapsed().as_secs_f64()
}

/// Bytes of a store on disk: the database (with its WAL) and the index.
pub fn disk_mb(db: &Path) -> (f64, f64) {
    let file = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let db_bytes: u64 = ["", "-wal"]
        .iter()
        .map(|e| file(Path::new(&format!("{}{e}", db.display()))))
        .sum();
    let mut idx = 0;
    if let Ok(rd) = std::fs::read_dir(index_dir(db)) {
        for e in rd.flatten() {
            idx += e.metadata().map_or(0, |m| m.len());
        }
    }
    (db_bytes as f64 / 1e6, idx as f64 / 1e6)
}
