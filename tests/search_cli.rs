//! End-to-end tests of search through the `scrollback` binary: the JSON
//! shape of `search --json`, paging and `--archived`, the human output,
//! malformed queries, `reindex`, `doctor`'s index repair, automatic rebuilds,
//! imports killed half-way (nothing the store holds is unsearchable after),
//! and `import --partial` of a truncated ShareGPT file.
//!
//! Every command runs with `--db` inside a temporary directory and with HOME
//! and the XDG directories pointing there too, as in tests/cli.rs.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines, clippy::cast_possible_truncation)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use scrollback::Store;
use scrollback::search::index_dir;
use serde_json::{Value, json};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn db(dir: &TempDir) -> PathBuf {
    dir.path().join("x").join("scrollback.db")
}

/// `scrollback --db <dir>/x/scrollback.db`, isolated from the user's files.
fn sb(dir: &TempDir) -> Command {
    let mut c = common::scrollback_on(dir.path(), &db(dir));
    c.env_remove("NO_COLOR");
    c
}

fn output(dir: &TempDir, args: &[&str]) -> Output {
    sb(dir).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// Runs, asserts exit 0, returns stdout.
fn ok(dir: &TempDir, args: &[&str]) -> String {
    let out = output(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text(&out.stdout)
}

fn ok_json(dir: &TempDir, args: &[&str]) -> Value {
    let out = ok(dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

/// `search QUERY --json EXTRA...`: the hits.
fn search(dir: &TempDir, query: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["search", query, "--json"];
    args.extend_from_slice(extra);
    match ok_json(dir, &args) {
        Value::Array(a) => a,
        other => panic!("search --json is not an array: {other}"),
    }
}

fn hit_names(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| h["session"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn found(dir: &TempDir, query: &str) -> BTreeSet<String> {
    hit_names(&search(dir, query, &["--limit", "100000"]))
        .into_iter()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

/// Every session in the store, whatever its state.
fn all_names(dir: &TempDir) -> BTreeSet<String> {
    ok_json(dir, &["list", "--json", "--all"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn session(dir: &TempDir, name: &str, texts: &[&str]) {
    ok(dir, &["new", name]);
    for (i, t) in texts.iter().enumerate() {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        ok(dir, &["add", name, "--role", role, t]);
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Deletes every index document of these sessions behind the store's back.
fn delete_behind_its_back(dir: &TempDir, names: &[&str]) {
    let store = Store::open(db(dir)).unwrap();
    let index = tantivy::Index::open_in_dir(index_dir(&db(dir))).unwrap();
    let field = index.schema().get_field("session").unwrap();
    let mut w = index
        .writer::<tantivy::TantivyDocument>(50_000_000)
        .unwrap();
    for name in names {
        let id = store.session(name).unwrap().id;
        w.delete_term(tantivy::Term::from_field_u64(
            field,
            u64::try_from(id.0).unwrap(),
        ));
    }
    w.commit().unwrap();
    w.wait_merging_threads().unwrap();
}

/// xorshift64, for generated inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------
// search --json, paging, human output
// ---------------------------------------------------------------------------

#[test]
fn search_json_shape() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "notes", "--title", "Bird notes"]);
    for (role, t) in [
        ("user", "the heron waits by the water"),
        ("assistant", "a fish swims"),
        ("user", "Heron again, later"),
    ] {
        ok(&dir, &["add", "notes", "--role", role, t]);
    }
    session(&dir, "other", &["no birds here"]);

    let hits = search(&dir, "heron", &[]);
    assert_eq!(hit_names(&hits), ["notes"]);
    let h = &hits[0];
    assert_eq!(
        keys(h),
        set(&[
            "session",
            "message",
            "snippet",
            "highlights",
            "score",
            "other_hits"
        ])
    );
    assert_eq!(
        keys(&h["session"]),
        set(&["uid", "name", "title", "source", "source_ref"])
    );
    assert_eq!(h["session"]["title"], "Bird notes");
    assert_eq!(h["session"]["source"], "scrollback");
    assert_eq!(h["session"]["source_ref"], Value::Null);
    assert!(h["session"]["uid"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(keys(&h["message"]), set(&["seq", "role", "created_at"]));
    assert!(matches!(h["message"]["seq"].as_u64(), Some(0 | 2)), "{h}");
    assert_eq!(h["message"]["role"], "user");
    assert!(
        h["message"]["created_at"]
            .as_str()
            .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
        "{h}"
    );
    assert!(h["score"].as_f64().is_some_and(|s| s > 0.0), "{h}");
    assert_eq!(h["other_hits"], 1);
    let snippet = h["snippet"].as_str().unwrap();
    let highlights = h["highlights"].as_array().unwrap();
    assert!(!highlights.is_empty());
    for r in highlights {
        let r = r.as_array().unwrap();
        assert_eq!(r.len(), 2, "{h}");
        let (a, b) = (
            r[0].as_u64().unwrap() as usize,
            r[1].as_u64().unwrap() as usize,
        );
        assert!(a < b && b <= snippet.len(), "{h}");
        assert_eq!(snippet[a..b].to_lowercase(), "heron");
    }

    // A title match: no message.
    let hits = search(&dir, "bird", &[]);
    assert_eq!(hit_names(&hits), ["notes"]);
    assert_eq!(hits[0]["message"], Value::Null);
    assert_eq!(keys(&hits[0]).len(), 6);

    // No match: an empty array, exit 0.
    assert_eq!(ok(&dir, &["search", "zzyzx", "--json"]).trim(), "[]");
    assert_eq!(ok(&dir, &["search", "zzyzx"]).trim(), "no matches");
}

#[test]
fn search_limit_offset_and_archived() {
    let dir = TempDir::new().unwrap();
    for i in 0..5 {
        let texts: Vec<String> = (0..=i).map(|j| format!("kestrel {j}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        session(&dir, &format!("k{i}"), &refs);
    }
    let full = hit_names(&search(&dir, "kestrel", &[]));
    assert_eq!(full.len(), 5);
    assert_eq!(
        full.iter().cloned().collect::<BTreeSet<_>>(),
        set(&["k0", "k1", "k2", "k3", "k4"])
    );
    let mut paged = Vec::new();
    for offset in ["0", "2", "4"] {
        let page = hit_names(&search(
            &dir,
            "kestrel",
            &["--limit", "2", "--offset", offset],
        ));
        assert!(page.len() <= 2, "{page:?}");
        paged.extend(page);
    }
    assert_eq!(paged, full, "pages are disjoint and make the whole list");
    assert!(search(&dir, "kestrel", &["--offset", "5"]).is_empty());
    assert_eq!(search(&dir, "kestrel", &["--limit", "1"]).len(), 1);

    ok(&dir, &["archive", "k0"]);
    assert_eq!(found(&dir, "kestrel"), set(&["k1", "k2", "k3", "k4"]));
    let with = hit_names(&search(&dir, "kestrel", &["--archived"]));
    assert_eq!(
        with.into_iter().collect::<BTreeSet<_>>(),
        set(&["k0", "k1", "k2", "k3", "k4"])
    );
    ok(&dir, &["rm", "k1"]);
    let with = hit_names(&search(&dir, "kestrel", &["--archived"]));
    assert_eq!(
        with.into_iter().collect::<BTreeSet<_>>(),
        set(&["k0", "k2", "k3", "k4"]),
        "trashed sessions never show"
    );
}

#[test]
fn human_output_marks_matches_with_brackets() {
    let dir = TempDir::new().unwrap();
    session(
        &dir,
        "notes",
        &["the Heron waits by the water", "and the heron flies"],
    );
    let out = ok(&dir, &["search", "heron"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("notes  #"), "{out}");
    assert!(lines[0].contains("(+1 more)"), "{out}");
    assert!(
        out.contains("[Heron]") || out.contains("[heron]"),
        "matches are marked: {out}"
    );
    assert!(
        !out.contains('\u{1b}'),
        "no escape codes off a terminal: {out}"
    );
}

#[test]
fn malformed_query_exits_1_with_a_caret_under_the_problem() {
    let dir = TempDir::new().unwrap();
    session(&dir, "s", &["some text"]);
    for (q, problem, caret) in [
        ("\"unclosed", "unclosed quote", "^"),
        ("heron OR", "OR needs a term on each side", "      ^^"),
        ("role:robot", "unknown role `robot`", "     ^^^^^"),
        (
            "after:notadate x",
            "invalid time `notadate`",
            "      ^^^^^^^^",
        ),
        ("-only", "not only exclusions", "^^^^^"),
    ] {
        // `--` so that a query starting with `-` is not taken for an option.
        let out = output(&dir, &["search", "--", q]);
        assert_eq!(out.status.code(), Some(1), "{q:?}");
        assert!(out.stdout.is_empty(), "{q:?}");
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines[0].starts_with("scrollback: error: ") && lines[0].contains(problem),
            "{q:?}: {err}"
        );
        assert_eq!(
            lines.iter().filter(|l| l.contains("error")).count(),
            1,
            "one error: {err}"
        );
        assert!(lines.contains(&q), "the query is shown: {err}");
        assert_eq!(lines.last(), Some(&caret), "{q:?}: {err}");
    }
}

// ---------------------------------------------------------------------------
// reindex, doctor, rebuilds
// ---------------------------------------------------------------------------

#[test]
fn reindex_and_doctor_repair_the_index() {
    let dir = TempDir::new().unwrap();
    for n in ["a", "b", "c", "d"] {
        session(&dir, n, &[&format!("the plover {n}"), "other words"]);
    }
    let out = ok(&dir, &["reindex"]);
    assert!(out.starts_with("reindexed 4 sessions"), "{out}");
    assert_eq!(found(&dir, "plover"), set(&["a", "b", "c", "d"]));
    let out = ok(&dir, &["doctor"]);
    assert!(
        out.contains("search index: in step with the store"),
        "{out}"
    );

    delete_behind_its_back(&dir, &["b", "d"]);
    assert_eq!(found(&dir, "plover"), set(&["a", "c"]), "the damage shows");
    let out = ok(&dir, &["doctor"]);
    assert!(
        out.contains("search index: 2 sessions differed from the store"),
        "{out}"
    );
    assert_eq!(found(&dir, "plover"), set(&["a", "b", "c", "d"]));
    let out = ok(&dir, &["doctor"]);
    assert!(
        out.contains("search index: in step with the store"),
        "{out}"
    );

    delete_behind_its_back(&dir, &["a", "b", "c", "d"]);
    assert!(found(&dir, "plover").is_empty());
    let out = ok(&dir, &["reindex"]);
    assert!(out.starts_with("reindexed 4 sessions"), "{out}");
    assert_eq!(found(&dir, "plover"), set(&["a", "b", "c", "d"]));
}

#[test]
fn a_deleted_or_damaged_index_is_rebuilt_by_the_next_search() {
    let dir = TempDir::new().unwrap();
    for n in ["a", "b", "c"] {
        session(&dir, n, &[&format!("the curlew {n}")]);
    }
    assert_eq!(found(&dir, "curlew"), set(&["a", "b", "c"]));
    let index = index_dir(&db(&dir));
    assert!(index.join("meta.json").exists());

    fs::remove_dir_all(&index).unwrap();
    let out = output(&dir, &["search", "curlew", "--json"]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(
        !err.contains("error") && !err.contains("panic"),
        "nothing fatal: {err}"
    );
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 3);

    fs::write(index.join("meta.json"), "{ garbage").unwrap();
    let out = output(&dir, &["search", "curlew", "--json"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("rebuilt"), "{out:?}");
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 3);

    fs::write(index.join("scrollback-index-version"), "0").unwrap();
    let out = output(&dir, &["search", "curlew", "--json"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("rebuilt"), "{out:?}");
    assert_eq!(found(&dir, "curlew"), set(&["a", "b", "c"]));

    // Once rebuilt, quiet again.
    let out = output(&dir, &["search", "curlew"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
}

/// `search.writer_memory_mb` under 30 makes every indexing fail: the index
/// clamps the budget to tantivy's per-thread minimum (15 MB) but opens its
/// writer with two threads.
#[test]
fn a_small_configured_writer_memory_still_searches() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("small.toml");
    fs::write(&config, "[search]\nwriter_memory_mb = 20\n").unwrap();
    session(&dir, "s", &["a thrifty sandpiper"]);
    let out = ok(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "search",
            "sandpiper",
            "--json",
        ],
    );
    let hits: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------
// Imports killed half-way
// ---------------------------------------------------------------------------

const EVERYWHERE: &str = "lanternfish";

/// A scrollback JSONL file of `n` sessions named `{prefix}-NNNNN`, each
/// holding the word `lanternfish`, about `n * 4` KB.
fn jsonl(path: &Path, prefix: &str, n: usize, seed: u64) {
    const WORDS: &[&str] = &[
        "river", "stone", "window", "garden", "lamp", "question", "answer", "bridge", "market",
        "winter", "summer", "paper", "engine", "signal", "harbor", "forest", "copper", "silver",
        "letter", "number", "planet", "orbit", "kernel", "thread", "buffer", "socket", "index",
    ];
    let mut rng = Rng(seed);
    let mut out = String::with_capacity(n * 4200);
    for i in 0..n {
        let messages: Vec<Value> = (0..8)
            .map(|j| {
                let mut t = String::new();
                if j == 0 {
                    t.push_str(EVERYWHERE);
                }
                while t.len() < 480 {
                    t.push(' ');
                    t.push_str(WORDS[rng.below(WORDS.len())]);
                }
                json!({"role": if j % 2 == 0 { "user" } else { "assistant" }, "content": t})
            })
            .collect();
        out.push_str(
            &json!({"name": format!("{prefix}-{i:05}"), "messages": messages}).to_string(),
        );
        out.push('\n');
    }
    fs::write(path, out).unwrap();
}

/// Index segment files (`*.idx`) in the index directory.
fn idx_files(dir: &TempDir) -> BTreeSet<String> {
    fs::read_dir(index_dir(&db(dir)))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Starts `import big`, waits until `ready()` or the process ends, kills it
/// (SIGKILL). Returns whether it was killed while running.
fn import_killed_when(dir: &TempDir, big: &Path, ready: &dyn Fn() -> bool) -> bool {
    let mut child = sb(dir)
        .args(["import", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if ready() {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        assert!(
            start.elapsed() < Duration::from_mins(10),
            "the import neither ended nor got there"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Everything the store holds is found by a word every session has.
fn every_stored_session_is_found(dir: &TempDir, at_least: usize) {
    let stored = all_names(dir);
    assert!(stored.len() >= at_least, "{} sessions", stored.len());
    let found = found(dir, EVERYWHERE);
    let missing: Vec<&String> = stored.difference(&found).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} of {} stored sessions are not found, e.g. {missing:?}",
        stored.difference(&found).count(),
        stored.len()
    );
    assert_eq!(found.len(), stored.len());
}

#[test]
fn an_import_killed_half_way_leaves_everything_stored_searchable() {
    let files = TempDir::new().unwrap();
    let small = files.path().join("small.jsonl");
    let big = files.path().join("big.jsonl");
    jsonl(&small, "pre", 40, 7);
    jsonl(&big, "bulk", 5000, 11);
    assert!(fs::metadata(&big).unwrap().len() > 19_000_000);

    // Killed while the store is being written.
    let dir = TempDir::new().unwrap();
    ok(&dir, &["import", small.to_str().unwrap()]);
    let wal = {
        let mut name = db(&dir).into_os_string();
        name.push("-wal");
        PathBuf::from(name)
    };
    import_killed_when(&dir, &big, &|| {
        fs::metadata(&wal).is_ok_and(|m| m.len() > 1_000_000)
    });
    every_stored_session_is_found(&dir, 40);

    // Killed while the index is being written.
    let dir = TempDir::new().unwrap();
    ok(&dir, &["import", small.to_str().unwrap()]);
    let before = idx_files(&dir);
    import_killed_when(&dir, &big, &|| {
        idx_files(&dir).difference(&before).next().is_some()
    });
    every_stored_session_is_found(&dir, 40);
    // And a second look changes nothing.
    every_stored_session_is_found(&dir, 40);

    // Killed once the store has committed the import, before or while the
    // index commits it: the outbox must cover the gap.
    let dir = TempDir::new().unwrap();
    ok(&dir, &["import", small.to_str().unwrap()]);
    let path = db(&dir);
    import_killed_when(&dir, &big, &|| {
        Store::open(&path)
            .and_then(|s| s.count_sessions())
            .is_ok_and(|(live, _, _)| live > 40)
    });
    every_stored_session_is_found(&dir, 5040);
}

// ---------------------------------------------------------------------------
// A truncated ShareGPT file
// ---------------------------------------------------------------------------

#[test]
fn truncated_sharegpt_import_needs_partial() {
    let files = TempDir::new().unwrap();
    let ids: Vec<Value> = (0..31)
        .map(|i| match i {
            7 | 19 => json!("dup-id"),
            12 => json!(4242),
            _ => json!(format!("conv-{i}")),
        })
        .collect();
    let convs: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            serde_json::to_string_pretty(&json!({
                "id": id,
                "conversations": [
                    {"from": "human", "value": format!("Question {i} about the albatross")},
                    {"from": "gpt", "value": format!("Answer {i}: it glides")},
                ]
            }))
            .unwrap()
        })
        .collect();
    let last = &convs[30];
    let cut = format!(
        "[\n{},\n{}",
        convs[..30].join(",\n"),
        &last[..last.len() / 2]
    );
    let file = files.path().join("sharegpt.json");
    fs::write(&file, cut).unwrap();

    let dir = TempDir::new().unwrap();
    let out = output(&dir, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = text(&out.stderr);
    assert!(err.contains("after 30 complete conversations"), "{err}");
    assert!(err.contains("--partial"), "{err}");
    assert!(all_names(&dir).is_empty(), "nothing imported");

    let out = output(&dir, &["import", "--partial", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let mut expected: BTreeSet<String> = (0..30)
        .filter(|i| ![7, 12, 19].contains(i))
        .map(|i| format!("sharegpt-conv-{i}"))
        .collect();
    expected.extend(set(&["sharegpt-dup-id", "sharegpt-4242"]));
    assert_eq!(expected.len(), 29);
    // The second conversation with the same id, and other content, is told
    // apart by a hash of its content.
    let mut names = all_names(&dir);
    let twin = names
        .iter()
        .find(|n| n.starts_with("sharegpt-dup-id#"))
        .cloned()
        .expect("the second dup-id conversation");
    assert_eq!(twin.len(), "sharegpt-dup-id#".len() + 12, "{twin}");
    names.remove(&twin);
    assert_eq!(names, expected);
    expected.insert(twin);
    let listed = ok_json(&dir, &["list", "--json", "--all"]);
    for s in listed.as_array().unwrap() {
        assert_eq!(s["message_count"], 2, "{s}");
        assert_eq!(s["source"], "sharegpt", "{s}");
    }
    assert_eq!(found(&dir, "albatross"), expected);

    // Importing again adds nothing, and still tells the two apart (read
    // again on purpose: unchanged, the file would not be read at all).
    let out = output(
        &dir,
        &["import", "--partial", "--reread", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(all_names(&dir), expected);
    assert_eq!(found(&dir, "albatross"), expected);
}
