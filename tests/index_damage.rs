//! Damage to the search index, and folders that are not the index's.
//!
//! - Every kind of damage to the index folder (a segment file emptied,
//!   truncated or deleted, a term dictionary scrambled, `meta.json` deleted
//!   or garbage) is healed by the next command that needs the index, which
//!   then answers as before; `doctor` finds and repairs it; `import` and
//!   `reindex` work through it.
//! - A folder that merely has the index's name is refused and never changed;
//!   an index made before the folder carried scrollback's marker is adopted.
//! - A `reindex` killed at any moment (also while another process holds the
//!   index writer, and with purged sessions waiting in the outbox) leaves a
//!   state from which the next command catches up to exactly the store.
//!
//! Commands run the real binary with `--db` in a temporary directory and
//! HOME and the XDG directories pointing there too.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use scrollback::domain::MessageDoc;
use scrollback::search::{Search, index_dir};
use scrollback::store::ImportOptions;
use scrollback::{ListQuery, Role, SessionDoc, Store};
use serde_json::{Value, json};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn db(dir: &Path) -> PathBuf {
    dir.join("ud").join("mine.db")
}

fn index(dir: &Path) -> PathBuf {
    index_dir(&db(dir))
}

/// `scrollback --db <dir>/ud/mine.db`, isolated from the user's files.
fn sb(dir: &Path) -> Command {
    common::scrollback_on(dir, &db(dir))
}

fn run(dir: &Path, args: &[&str]) -> Output {
    sb(dir).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs, asserts success, returns the output.
fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// Names of the sessions `search WORD` finds (all of them), with the
/// command's stderr.
fn search(dir: &Path, word: &str) -> (BTreeSet<String>, String) {
    let out = ok(dir, &["search", word, "--json", "--limit", "100000"]);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("search {word}: not JSON ({e}): {}", text(&out.stdout)));
    let names = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["session"]["name"].as_str().unwrap().to_string())
        .collect();
    (names, text(&out.stderr))
}

fn hits(dir: &Path, word: &str) -> BTreeSet<String> {
    search(dir, word).0
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn millis(&mut self, upto: Duration) -> Duration {
        let ms = u64::try_from(upto.as_millis()).unwrap().max(1);
        Duration::from_millis(self.below(ms))
    }
}

const WORDS: &[&str] = &[
    "the", "and", "index", "session", "model", "answer", "question", "python", "tokio", "server",
    "client", "error", "thread", "buffer", "socket", "parser", "vector", "matrix", "cursor",
    "window", "kernel", "module", "schema", "branch", "commit", "merge", "rebase", "cache",
    "queue", "stream", "future", "closure", "lifetime", "borrow", "macro", "trait", "tensor",
    "gradient", "epoch", "batch", "curlew", "heron", "osprey", "plover", "kestrel", "avocet",
    "dunlin", "godwit", "shrike", "wryneck", "bittern", "garganey", "smew", "twite", "chough",
];

/// Words the checks look for: frequent to rare.
const PROBES: &[&str] = &["the", "tokio", "kernel", "heron", "godwit", "dunlin"];

/// A message of `n` words, frequent words far more often than rare ones.
fn sentence(rng: &mut Rng, n: usize) -> String {
    let k = WORDS.len() as u64;
    (0..n)
        .map(|_| WORDS[usize::try_from(rng.below(k) * rng.below(k) / k).unwrap()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds `sessions` sessions named `prefix-NNNNN` to the store through the
/// library (no index is touched).
fn fill(db: &Path, prefix: &str, sessions: usize, messages: usize, words: usize, seed: u64) {
    let mut store = Store::open(db).unwrap();
    let mut rng = Rng(seed);
    for start in (0..sessions).step_by(500) {
        let mut batch = store.begin_import(ImportOptions::default()).unwrap();
        for i in start..(start + 500).min(sessions) {
            let messages = (0..messages)
                .map(|j| MessageDoc {
                    role: Some(if j % 2 == 0 {
                        Role::User
                    } else {
                        Role::Assistant
                    }),
                    content: sentence(&mut rng, words),
                    ..MessageDoc::default()
                })
                .collect();
            batch
                .add(SessionDoc {
                    name: Some(format!("{prefix}-{i:05}")),
                    messages,
                    ..SessionDoc::default()
                })
                .unwrap();
        }
        batch.commit().unwrap();
    }
}

/// For each word, the sessions whose messages hold it, by reading every
/// message of the store.
fn brute_force(db: &Path, words: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let store = Store::open(db).unwrap();
    let mut found: BTreeMap<String, BTreeSet<String>> = words
        .iter()
        .map(|w| ((*w).to_string(), BTreeSet::new()))
        .collect();
    for s in store.list(&ListQuery::default()).unwrap() {
        for m in store.messages(s.id, 0, u64::MAX >> 1).unwrap() {
            for w in m.content.split_whitespace() {
                if let Some(sessions) = found.get_mut(w) {
                    sessions.insert(s.name.clone());
                }
            }
        }
    }
    found
}

/// Messages per session, as the store has them and as the index has them
/// (after it caught up, as any command would).
fn counts(db: &Path) -> (BTreeMap<u64, u64>, BTreeMap<u64, u64>) {
    let store = Store::open(db).unwrap();
    let search = Search::open(&store, &|_, _| {}).unwrap();
    let indexed = search.index().message_counts().unwrap();
    let stored = store
        .list(&ListQuery {
            state: scrollback::domain::StateFilter::All,
            ..ListQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| (u64::try_from(s.id.0).unwrap(), s.message_count))
        .collect();
    (stored, indexed)
}

/// Every file under `dir` with its bytes (`/` after a folder's name).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, at: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(at).unwrap() {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if e.file_type().unwrap().is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &e.path(), out);
            } else {
                out.insert(rel, fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A native JSONL file of one session whose only message holds `word`.
fn one_session_file(dir: &Path, name: &str, word: &str) -> PathBuf {
    let path = dir.join(format!("{name}.jsonl"));
    let line = json!({
        "name": name,
        "messages": [{"role": "user", "content": format!("only {word} here")}],
    });
    fs::write(&path, format!("{line}\n")).unwrap();
    path
}

// ---------------------------------------------------------------------------
// Damage
// ---------------------------------------------------------------------------

/// A store of 60 sessions with an index of two segments, a copy of both to
/// start each case from, and what `search` answered for each probe.
struct Fixture {
    dir: TempDir,
    pristine: PathBuf,
    answers: BTreeMap<&'static str, BTreeSet<String>>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = TempDir::new().unwrap();
        let d = dir.path();
        fill(&db(d), "first", 50, 6, 14, 7);
        ok(d, &["search", "anything"]);
        fill(&db(d), "second", 10, 6, 14, 8);
        let mut answers = BTreeMap::new();
        let truth = brute_force(&db(d), PROBES);
        for &w in PROBES {
            let found = hits(d, w);
            assert_eq!(found, truth[w], "{w}");
            answers.insert(w, found);
        }
        assert!(answers.values().all(|a| !a.is_empty()), "{answers:?}");
        let pristine = d.join("pristine");
        copy_dir(&d.join("ud"), &pristine);
        Fixture {
            dir,
            pristine,
            answers,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Back to the store and index as they were, then `damage` the index.
    fn damaged(&self, damage: &dyn Fn(&Path)) {
        let ud = self.path().join("ud");
        fs::remove_dir_all(&ud).unwrap();
        copy_dir(&self.pristine, &ud);
        damage(&index(self.path()));
    }

    fn answers_as_before(&self, case: &str) {
        for (w, want) in &self.answers {
            assert_eq!(&hits(self.path(), w), want, "{case}: search {w}");
        }
    }

    /// The four checks of one kind of damage.
    fn check(&self, case: &str, damage: &dyn Fn(&Path)) {
        let d = self.path();

        // The next search heals it, says so, and answers as before.
        self.damaged(damage);
        let (first, stderr) = search(d, PROBES[0]);
        assert_eq!(&first, &self.answers[PROBES[0]], "{case}: first search");
        assert!(
            stderr.contains("the search index was rebuilt from the store"),
            "{case}: the rebuild is not announced: {stderr}"
        );
        self.answers_as_before(case);

        // doctor finds it and repairs it; a second doctor finds nothing.
        self.damaged(damage);
        let out = ok(d, &["doctor"]);
        let report = text(&out.stdout);
        assert!(
            report.contains("search index: damaged") && report.contains("rebuilt from the store"),
            "{case}: doctor does not report the damage:\n{report}"
        );
        let out = ok(d, &["doctor"]);
        let report = text(&out.stdout);
        assert!(
            !report.contains("damaged") && report.contains("in step"),
            "{case}: the second doctor:\n{report}"
        );
        self.answers_as_before(case);

        // import works and indexes what it brings.
        self.damaged(damage);
        let file = one_session_file(d, "brought-in", "zebrafinch");
        ok(d, &["import", file.to_str().unwrap()]);
        assert_eq!(
            hits(d, "zebrafinch"),
            BTreeSet::from(["brought-in".to_string()]),
            "{case}: import"
        );
        self.answers_as_before(case);

        // reindex works.
        self.damaged(damage);
        let out = ok(d, &["reindex"]);
        assert!(
            text(&out.stdout).starts_with("reindexed 60 sessions"),
            "{case}: {}",
            text(&out.stdout)
        );
        self.answers_as_before(case);
    }
}

/// The segment files of the index, largest segment first.
fn segment(index: &Path, ext: &str) -> PathBuf {
    let mut files: Vec<(u64, PathBuf)> = fs::read_dir(index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| (fs::metadata(&p).unwrap().len(), p))
        .collect();
    files.sort();
    files
        .pop()
        .unwrap_or_else(|| panic!("no .{ext} file in {}", index.display()))
        .1
}

const SEGMENT_FILES: &[&str] = &["idx", "term", "store", "fast", "fieldnorm"];

#[test]
fn an_emptied_segment_file_is_healed() {
    let fx = Fixture::new();
    for ext in SEGMENT_FILES {
        fx.check(&format!("empty .{ext}"), &|index| {
            fs::write(segment(index, ext), b"").unwrap();
        });
    }
}

#[test]
fn a_truncated_segment_file_is_healed() {
    let fx = Fixture::new();
    for ext in SEGMENT_FILES {
        fx.check(&format!("truncated .{ext}"), &|index| {
            let f = segment(index, ext);
            let len = fs::metadata(&f).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(&f)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        });
    }
}

#[test]
fn a_deleted_segment_file_is_healed() {
    let fx = Fixture::new();
    for ext in SEGMENT_FILES {
        fx.check(&format!("deleted .{ext}"), &|index| {
            fs::remove_file(segment(index, ext)).unwrap();
        });
    }
}

#[test]
fn a_scrambled_term_dictionary_is_healed() {
    let fx = Fixture::new();
    for seed in [1u64, 2, 3] {
        fx.check(&format!("scrambled .term (seed {seed})"), &|index| {
            let f = segment(index, "term");
            let mut bytes = fs::read(&f).unwrap();
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let (from, to) = (bytes.len() / 4, bytes.len() * 3 / 4);
            for b in &mut bytes[from..to] {
                *b ^= u8::try_from(rng.below(255)).unwrap() + 1;
            }
            fs::write(&f, bytes).unwrap();
        });
    }
}

#[test]
fn a_deleted_meta_json_is_healed() {
    let fx = Fixture::new();
    fx.check("deleted meta.json", &|index| {
        fs::remove_file(index.join("meta.json")).unwrap();
    });
}

#[test]
fn a_garbage_meta_json_is_healed() {
    let fx = Fixture::new();
    fx.check("garbage meta.json", &|index| {
        fs::write(index.join("meta.json"), "{ \"segments\": [ garbage").unwrap();
    });
}

// ---------------------------------------------------------------------------
// Folders that are not the index's
// ---------------------------------------------------------------------------

fn refused(dir: &Path, args: &[&str], folder: &Path) {
    let out = run(dir, args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
    assert!(
        stderr.contains(&format!(
            "{} exists and is not a scrollback index: move it away or pass another --db",
            folder.display()
        )),
        "{args:?}: {stderr}"
    );
}

#[test]
fn a_folder_that_merely_has_the_index_name_is_refused_and_left_alone() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fill(&db(d), "mine", 5, 2, 8, 3);
    let folder = index(d);
    fs::create_dir_all(folder.join("photos")).unwrap();
    fs::write(folder.join("photos").join("a.jpg"), "x\n").unwrap();
    fs::write(folder.join("notes.txt"), "my notes\n").unwrap();
    let file = one_session_file(d, "brought-in", "zebrafinch");
    let file = file.to_str().unwrap();

    let before = snapshot(&folder);
    for args in [
        &["search", "hello"][..],
        &["import", file],
        &["reindex"],
        &["doctor"],
    ] {
        refused(d, args, &folder);
        assert_eq!(snapshot(&folder), before, "{args:?} changed the folder");
    }

    // Files that look like an index's beside the foreign ones change nothing.
    fs::write(folder.join("meta.json"), "{}").unwrap();
    fs::write(folder.join("scrollback-index-version"), "4").unwrap();
    let before = snapshot(&folder);
    refused(d, &["search", "hello"], &folder);
    assert_eq!(snapshot(&folder), before);

    // Nor does a file in the folder's place.
    fs::remove_dir_all(&folder).unwrap();
    fs::write(&folder, "not a folder\n").unwrap();
    refused(d, &["search", "hello"], &folder);
    assert_eq!(fs::read(&folder).unwrap(), b"not a folder\n");

    // An empty folder is taken, marked, and becomes the index.
    fs::remove_file(&folder).unwrap();
    fs::create_dir(&folder).unwrap();
    assert_eq!(hits(d, "the"), brute_force(&db(d), &["the"])["the"]);
    assert!(folder.join(".scrollback-index").is_file());
}

#[test]
fn an_index_made_before_the_marker_is_adopted_only_when_all_its_files_are_the_indexs() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fill(&db(d), "mine", 20, 4, 10, 5);
    let want = brute_force(&db(d), &["heron"])["heron"].clone();
    assert_eq!(hits(d, "heron"), want);
    let folder = index(d);
    // As the versions before the marker left it.
    let old = |folder: &Path| {
        for e in fs::read_dir(folder).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with(".scrollback-") {
                fs::remove_file(folder.join(name)).unwrap();
            }
        }
    };

    // Adopted as it is: no rebuild, and marked.
    old(&folder);
    let (found, stderr) = search(d, "heron");
    assert_eq!(found, want);
    assert!(!stderr.contains("rebuilt"), "{stderr}");
    assert!(folder.join(".scrollback-index").is_file());

    // With anything else in it, refused and left alone.
    old(&folder);
    fs::write(folder.join("notes.txt"), "my notes\n").unwrap();
    let before = snapshot(&folder);
    refused(d, &["search", "heron"], &folder);
    assert_eq!(snapshot(&folder), before);
    fs::remove_file(folder.join("notes.txt")).unwrap();

    // Once marked, a stray file survives a rebuild after damage.
    assert_eq!(hits(d, "heron"), want);
    assert!(folder.join(".scrollback-index").is_file());
    fs::create_dir(folder.join("keep")).unwrap();
    fs::write(folder.join("keep").join("a.jpg"), "x\n").unwrap();
    fs::write(folder.join("notes.txt"), "my notes\n").unwrap();
    fs::remove_file(segment(&folder, "idx")).unwrap();
    let (found, stderr) = search(d, "heron");
    assert_eq!(found, want);
    assert!(stderr.contains("rebuilt"), "{stderr}");
    assert_eq!(fs::read(folder.join("notes.txt")).unwrap(), b"my notes\n");
    assert_eq!(fs::read(folder.join("keep").join("a.jpg")).unwrap(), b"x\n");
    let out = ok(d, &["reindex"]);
    assert!(text(&out.stdout).starts_with("reindexed 20 sessions"));
    assert_eq!(fs::read(folder.join("notes.txt")).unwrap(), b"my notes\n");
    assert_eq!(fs::read(folder.join("keep").join("a.jpg")).unwrap(), b"x\n");
    assert_eq!(hits(d, "heron"), want);
}

// ---------------------------------------------------------------------------
// A reindex killed at any moment
// ---------------------------------------------------------------------------

/// Search answers exactly what the store holds, and the index holds a
/// document for exactly every message of the store.
fn caught_up(dir: &Path, when: &str) {
    let truth = brute_force(&db(dir), PROBES);
    for w in PROBES {
        assert_eq!(hits(dir, w), truth[*w], "{when}: search {w}");
    }
    let (stored, indexed) = counts(&db(dir));
    let stale: Vec<_> = indexed.keys().filter(|k| !stored.contains_key(k)).collect();
    assert!(
        stale.is_empty(),
        "{when}: the index still holds sessions that are gone from the store: {stale:?}"
    );
    assert_eq!(stored, indexed, "{when}: messages per session");
}

/// What a reindex does first (queue every session again), with purges
/// waiting in the outbox, and then nothing more, as when it is killed before
/// the index's first commit: the next command still forgets the purged.
#[test]
fn a_rebuild_queued_over_waiting_purges_keeps_them() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fill(&db(d), "mine", 12, 3, 10, 21);
    ok(d, &["search", "the"]);
    ok(
        d,
        &["purge", "--yes", "mine-00003", "mine-00007", "mine-00011"],
    );
    Store::open(db(d)).unwrap().outbox_everything().unwrap();
    caught_up(d, "a rebuild queued over waiting purges");
}

#[test]
fn a_reindex_killed_at_any_moment_leaves_a_state_the_next_search_completes() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fill(&db(d), "bulk", 2_000, 8, 24, 11);
    ok(d, &["search", "anything"]);

    // How long a whole reindex takes here.
    let start = Instant::now();
    ok(d, &["reindex"]);
    let full = start.elapsed();
    caught_up(d, "after a whole reindex");

    let mut rng = Rng(0x5eed_cafe);
    let mut purged = BTreeSet::new();
    for round in 0..6u64 {
        // Sessions purged (and one added) just before: their outbox rows
        // wait for the index.
        let mut names = Vec::new();
        while names.len() < 3 {
            let name = format!("bulk-{:05}", rng.below(2_000));
            if purged.insert(name.clone()) {
                names.push(name);
            }
        }
        let mut args = vec!["purge", "--yes"];
        args.extend(names.iter().map(String::as_str));
        ok(d, &args);
        fill(&db(d), &format!("added{round}"), 1, 3, 24, 100 + round);

        // Every other round, another process holds the index writer when
        // the reindex starts, and lets it go a little later.
        let held = (round % 2 == 1).then(|| {
            let index = tantivy::Index::open_in_dir(index(d)).unwrap();
            let writer = index
                .writer::<tantivy::TantivyDocument>(50_000_000)
                .unwrap();
            (index, writer)
        });
        let mut child = sb(d)
            .arg("reindex")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut held_for = Duration::ZERO;
        if let Some(held) = held {
            held_for = rng.millis(full / 2);
            std::thread::sleep(held_for);
            drop(held);
        }
        let delay = rng.millis(full + full / 5);
        std::thread::sleep(delay);
        let killed = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        child.wait().unwrap();
        let when = format!(
            "round {round}: writer held {held_for:?}, then {} after {delay:?} \
             (a whole reindex takes {full:?})",
            if killed { "killed" } else { "ended by itself" }
        );
        eprintln!("{when}");
        caught_up(d, &when);
    }
}
