//! `scrollback import` against hostile input and damage, through the real
//! binary: symlink loops, nesting deeper than any parser should follow,
//! empty files, objects that are not sessions, another tool's file forced
//! through `--format jsonl`, a writer working beside a long import, and a
//! multi-file import with one broken file.
//!
//! Every command runs with `--db` inside a temporary directory and with
//! HOME and the XDG directories pointing there too. `SCROLLBACK_TEST_BIN`
//! runs the same tests against another build (a baseline).

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Longest any command here may run before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(20);

fn bin() -> PathBuf {
    std::env::var_os("SCROLLBACK_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_scrollback")),
        PathBuf::from,
    )
}

fn db(dir: &TempDir) -> PathBuf {
    dir.path().join("x").join("scrollback.db")
}

/// `scrollback --db <dir>/x/scrollback.db`, isolated from the user's files.
fn sb(dir: &TempDir) -> Command {
    let mut c = Command::new(bin());
    c.env_remove("SCROLLBACK_CONFIG")
        .env_remove("SCROLLBACK_DB")
        .env_remove("SCROLLBACK_DATA_DIR")
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .arg("--db")
        .arg(db(dir))
        .stdin(Stdio::null());
    c
}

/// Runs `scrollback ARGS` with a watchdog: a run longer than `limit` is
/// killed and fails the test. Output goes through files, so a command that
/// writes much cannot block on a full pipe.
fn run_within(dir: &TempDir, args: &[&str], limit: Duration) -> Output {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out_path = dir.path().join(format!("out-{n}"));
    let err_path = dir.path().join(format!("err-{n}"));
    let mut child = sb(dir)
        .args(args)
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "scrollback {args:?} still ran after {limit:?}: killed (stderr: {})",
                fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: fs::read(&out_path).unwrap(),
        stderr: fs::read(&err_path).unwrap(),
    }
}

fn run(dir: &TempDir, args: &[&str]) -> Output {
    run_within(dir, args, WATCHDOG)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs, asserts success, returns stdout.
fn ok(dir: &TempDir, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "scrollback {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn ok_json(dir: &TempDir, args: &[&str]) -> Value {
    let out = ok(dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

/// Runs, asserts exit code 1, returns stderr.
fn fails(dir: &TempDir, args: &[&str]) -> String {
    let out = run(dir, args);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "scrollback {args:?}: expected exit 1\nstdout: {}\nstderr: {stderr}",
        text(&out.stdout)
    );
    assert!(stderr.starts_with("scrollback: error: "), "{stderr}");
    stderr
}

fn import_json(dir: &TempDir, paths: &[&Path]) -> Value {
    let mut args = vec!["import", "--json"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    ok_json(dir, &args)
}

/// Names of every session in the store, sorted.
fn names(dir: &TempDir) -> Vec<String> {
    let list = ok_json(dir, &["list", "--json", "--all"]);
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn session(name: &str, uid: &str, messages: usize) -> Value {
    let messages: Vec<Value> = (0..messages)
        .map(|i| {
            json!({
                "role": if i % 2 == 0 { "user" } else { "assistant" },
                "content": format!("{name} message {i}"),
            })
        })
        .collect();
    json!({"uid": uid, "name": name, "messages": messages})
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> PathBuf {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

fn write_session(path: &Path, name: &str) -> PathBuf {
    write(path, session(name, &format!("uid-{name}"), 2).to_string())
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn skipped_reasons(report: &Value) -> Vec<String> {
    report["skipped_files"]
        .as_array()
        .unwrap_or_else(|| panic!("no skipped_files in the report: {report}"))
        .iter()
        .map(|n| format!("{}: {}", n["path"], n["reason"]))
        .collect()
}

// ---------------------------------------------------------------------------
// 1. Symlink loops
// ---------------------------------------------------------------------------

#[test]
fn a_folder_linking_to_itself_is_read_once() {
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("in");
    write_session(&root.join("a.json"), "a");
    symlink(".", &root.join("self"));
    let report = import_json(&dir, &[&root]);
    assert_eq!(report["files"], 1, "{report}");
    assert_eq!(report["sessions_added"], 1, "{report}");
    assert_eq!(report["sessions_unchanged"], 0, "{report}");
    let skipped = skipped_reasons(&report);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].contains("self") && skipped[0].contains("symlink loop"),
        "{skipped:?}"
    );
    assert_eq!(names(&dir), ["a"]);
}

#[test]
fn a_loop_through_two_folders_is_read_once() {
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("in");
    write_session(&root.join("x/a.json"), "a");
    write_session(&root.join("y/b.jsonl"), "b");
    symlink("../y", &root.join("x/to-y"));
    symlink("../x", &root.join("y/to-x"));
    let report = import_json(&dir, &[&root]);
    assert_eq!(report["files"], 2, "{report}");
    assert_eq!(report["sessions_added"], 2, "{report}");
    assert_eq!(report["sessions_unchanged"], 0, "{report}");
    let skipped = skipped_reasons(&report);
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .all(|s| s.contains("already read") || s.contains("symlink loop")),
        "{skipped:?}"
    );
    assert_eq!(names(&dir), ["a", "b"]);
}

#[test]
fn branching_symlink_loops_end_within_seconds() {
    // Two loops in one folder: 2^40 paths before the OS says "too many
    // levels of symbolic links". A walk that follows them never ends.
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("in");
    write_session(&root.join("a.json"), "a");
    write_session(&root.join("sub/b.json"), "b");
    symlink(".", &root.join("self"));
    symlink("..", &root.join("sub/up"));
    // A file reached twice, through a link, is read once too.
    symlink("a.json", &root.join("same.json"));
    let start = Instant::now();
    let report = import_json(&dir, &[&root]);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(report["files"], 2, "{report}");
    assert_eq!(report["sessions_added"], 2, "{report}");
    assert_eq!(report["sessions_unchanged"], 0, "{report}");
    assert_eq!(skipped_reasons(&report).len(), 3, "{report}");
    assert_eq!(names(&dir), ["a", "b"]);
}

// ---------------------------------------------------------------------------
// 2. Nesting depth
// ---------------------------------------------------------------------------

/// `levels` arrays inside each other.
fn nested(levels: usize) -> String {
    "[".repeat(levels) + &"]".repeat(levels)
}

fn assert_too_deep(stderr: &str, file: &str) {
    assert!(
        stderr.contains(file) && stderr.contains("nested deeper than 128 levels"),
        "{stderr}"
    );
}

#[test]
fn json_nested_16000_deep_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let deep = nested(16_000);
    let doc = format!(
        r#"[{{"name": "deep", "messages": [{{"role": "user", "content": "x", "metadata": {{"a": {deep}}}}}]}}]"#
    );
    let file = write(&dir.path().join("deep.json"), doc);
    let e = fails(&dir, &["import", file.to_str().unwrap()]);
    assert_too_deep(&e, "deep.json");
    // A line of JSON Lines, and each seed format.
    let line = format!(r#"{{"name": "deep", "metadata": {{"a": {deep}}}}}"#);
    let file = write(&dir.path().join("deep.jsonl"), line + "\n");
    let e = fails(&dir, &["import", file.to_str().unwrap()]);
    assert_too_deep(&e, "deep.jsonl");
    for (format, doc) in [
        (
            "session-file",
            format!(r#"{{"messages": [{{"role": "user", "content": {deep}}}]}}"#),
        ),
        (
            "sdk-export",
            format!(r#"{{"id": "d", "messages": [], "metadata": {{"a": {deep}}}}}"#),
        ),
        (
            "sharegpt",
            format!(r#"[{{"conversations": [{{"from": "human", "value": {deep}}}]}}]"#),
        ),
    ] {
        let file = write(&dir.path().join(format!("deep-{format}.json")), doc);
        let e = fails(
            &dir,
            &["import", "--format", format, file.to_str().unwrap()],
        );
        assert_too_deep(&e, &format!("deep-{format}.json"));
    }
    assert!(names(&dir).is_empty());
}

#[test]
fn toon_nested_deep_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    // A .toon file holding JSON, 16,000 levels deep.
    let doc = format!(
        r#"{{"session_id": "t", "messages": [{{"role": "user", "content": {}}}]}}"#,
        nested(16_000)
    );
    let file = write(&dir.path().join("deep-json.toon"), doc);
    let e = fails(&dir, &["import", file.to_str().unwrap()]);
    assert_too_deep(&e, "deep-json.toon");
    // Real TOON nests by indentation, one more space a level: 2,000 levels
    // (16,000 would take 128 MB of spaces).
    let mut toon = String::from("session_id: t\nmessages[0]:\nmeta:\n");
    for level in 1..=2_000 {
        toon.push_str(&" ".repeat(level));
        toon.push_str("a:\n");
    }
    let file = write(&dir.path().join("deep.toon"), toon);
    let e = fails(&dir, &["import", file.to_str().unwrap()]);
    assert_too_deep(&e, "deep.toon");
    assert!(names(&dir).is_empty());
}

// ---------------------------------------------------------------------------
// 3. Empty files, objects that are not sessions
// ---------------------------------------------------------------------------

#[test]
fn an_empty_file_named_is_an_error() {
    let dir = TempDir::new().unwrap();
    for (name, bytes) in [
        ("empty.json", &b""[..]),
        ("blank.jsonl", &b"\n  \n\t\n"[..]),
        ("empty.toon", &b""[..]),
    ] {
        let file = write(&dir.path().join(name), bytes);
        let e = fails(&dir, &["import", file.to_str().unwrap()]);
        assert!(
            e.contains(&format!("{name}: empty: no sessions in it")),
            "{e}"
        );
        // Forced formats too.
        let e = fails(
            &dir,
            &["import", "--format", "jsonl", file.to_str().unwrap()],
        );
        assert!(
            e.contains(&format!("{name}: empty: no sessions in it")),
            "{e}"
        );
    }
    assert!(names(&dir).is_empty());
}

#[test]
fn empty_files_in_a_folder_are_skipped_and_counted() {
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("in");
    write_session(&root.join("a.json"), "a");
    write(&root.join("empty.json"), "");
    write(&root.join("sub/blank.jsonl"), "\n\n");
    let report = import_json(&dir, &[&root]);
    assert_eq!(report["files"], 1, "{report}");
    assert_eq!(report["sessions_added"], 1, "{report}");
    assert_eq!(report["empty_files"], 2, "{report}");
    let skipped = skipped_reasons(&report);
    assert!(
        skipped.iter().any(|s| s.contains("empty.json"))
            && skipped.iter().any(|s| s.contains("blank.jsonl")),
        "{skipped:?}"
    );
    assert_eq!(names(&dir), ["a"]);
}

#[test]
fn an_object_that_is_not_a_session_is_an_error() {
    let dir = TempDir::new().unwrap();
    let file = write(&dir.path().join("foo.jsonl"), "{\"foo\":1}\n");
    let e = fails(
        &dir,
        &["import", "--format", "jsonl", file.to_str().unwrap()],
    );
    assert!(
        e.contains("foo.jsonl") && e.contains("line 1") && e.contains("not a scrollback session"),
        "{e}"
    );
    // The second line this time, after a good one: nothing of the file stays.
    let text = format!("{}\n{{\"foo\":1}}\n", session("good", "g-1", 1));
    let file = write(&dir.path().join("second.jsonl"), text);
    let e = fails(
        &dir,
        &["import", "--format", "jsonl", file.to_str().unwrap()],
    );
    assert!(e.contains("second.jsonl") && e.contains("line 2"), "{e}");
    // In a JSON array.
    let text = format!("[{}, {{\"foo\": 1}}]", session("good", "g-1", 1));
    let file = write(&dir.path().join("array.json"), text);
    let e = fails(
        &dir,
        &["import", "--format", "json", file.to_str().unwrap()],
    );
    assert!(
        e.contains("array.json") && e.contains("not a scrollback session"),
        "{e}"
    );
    assert!(names(&dir).is_empty());
}

/// A Claude Code transcript: a summary line, then user and assistant lines.
fn claude_code_transcript() -> String {
    let lines = [
        json!({"type": "summary", "summary": "Fixing the build", "leafUuid": "u-2"}),
        json!({"type": "user", "uuid": "u-1", "parentUuid": null, "sessionId": "s-1",
               "timestamp": "2026-01-02T03:04:05Z", "version": "2.0.1", "cwd": "/work",
               "gitBranch": "main", "isSidechain": false, "userType": "external",
               "message": {"role": "user", "content": "Why does the build fail?"}}),
        json!({"type": "assistant", "uuid": "u-2", "parentUuid": "u-1", "sessionId": "s-1",
               "timestamp": "2026-01-02T03:04:09Z", "version": "2.0.1", "cwd": "/work",
               "message": {"model": "claude-x", "id": "msg_1", "role": "assistant",
                           "content": [{"type": "text", "text": "A missing feature flag."}],
                           "stop_reason": "end_turn",
                           "usage": {"input_tokens": 10, "output_tokens": 5}}}),
    ];
    lines.iter().map(|l| l.to_string() + "\n").collect()
}

#[test]
fn a_claude_code_file_forced_through_jsonl_is_an_error_every_time() {
    let dir = TempDir::new().unwrap();
    let file = write(&dir.path().join("0b7e.jsonl"), claude_code_transcript());
    for _ in 0..2 {
        let e = fails(
            &dir,
            &["import", "--format", "jsonl", file.to_str().unwrap()],
        );
        assert!(
            e.contains("0b7e.jsonl")
                && e.contains("line 1")
                && e.contains("not a scrollback session"),
            "{e}"
        );
        assert!(names(&dir).is_empty(), "{:?}", names(&dir));
    }
}

// ---------------------------------------------------------------------------
// 4. Other writers during an import; a multi-file import with a broken file
// ---------------------------------------------------------------------------

/// `files` JSONL files of `sessions` sessions of 50 messages of ~1 KB each.
fn bulk(root: &Path, files: usize, sessions: usize) -> Vec<PathBuf> {
    let content = "lorem ipsum dolor sit amet ".repeat(40);
    (0..files)
        .map(|f| {
            let mut text = String::new();
            for s in 0..sessions {
                let messages: Vec<Value> = (0..50)
                    .map(|m| json!({"role": if m % 2 == 0 { "user" } else { "assistant" }, "content": content}))
                    .collect();
                let doc = json!({"uid": format!("bulk-{f}-{s}"), "name": format!("bulk-{f}-{s}"), "messages": messages});
                writeln!(text, "{doc}").unwrap();
            }
            write(&root.join(format!("f{f:02}.jsonl")), text)
        })
        .collect()
}

#[test]
fn a_writer_gets_in_during_a_long_multi_file_import() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "notes"]);
    let root = dir.path().join("bulk");
    bulk(&root, 40, 20);
    let out = fs::File::create(dir.path().join("import.out")).unwrap();
    let err = fs::File::create(dir.path().join("import.err")).unwrap();
    let mut import = sb(&dir)
        .args(["import", root.to_str().unwrap()])
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    // Wait until the import holds the write lock.
    let probe = rusqlite::Connection::open(db(&dir)).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let waiting = Instant::now();
    while probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK").is_ok() {
        assert!(
            import.try_wait().unwrap().is_none(),
            "the import ended before it was seen writing"
        );
        assert!(
            waiting.elapsed() < Duration::from_mins(1),
            "the import took no write lock in 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = probe.execute_batch("ROLLBACK");
    let start = Instant::now();
    let add = run_within(
        &dir,
        &[
            "add",
            "notes",
            "--role",
            "user",
            "written during the import",
        ],
        Duration::from_mins(1),
    );
    let waited = start.elapsed();
    // How much of the import was in when the add was done.
    let sessions_then: i64 = probe
        .query_row("SELECT count(*) FROM session", [], |r| r.get(0))
        .unwrap();
    let import_status = import.wait().unwrap();
    assert!(
        add.status.success(),
        "add during the import failed after {waited:?}: {}",
        text(&add.stderr)
    );
    assert!(
        sessions_then < 40 * 20 + 1,
        "add waited {waited:?}, until the whole import was in: it never got in between two files"
    );
    assert!(
        import_status.success(),
        "{}",
        fs::read_to_string(dir.path().join("import.err")).unwrap()
    );
    let stats = ok_json(&dir, &["stats", "--json"]);
    assert_eq!(stats["sessions"], 40 * 20 + 1, "{stats}");
    let notes = ok_json(&dir, &["show", "notes", "--json"]);
    assert_eq!(notes["messages"][0]["content"], "written during the import");
}

#[test]
fn one_broken_file_does_not_keep_the_others_out() {
    let dir = TempDir::new().unwrap();
    let good = write_session(&dir.path().join("in/good.json"), "good");
    // One whole session, then the file is cut: the whole session was
    // written (and indexed) before the cut was met.
    let broken = write(
        &dir.path().join("in/broken.json"),
        r#"[{"uid": "h-1", "name": "half", "messages": [{"role": "user", "content": "halfword"}]},
            {"name": "broken", "messages": [{"role": "user", "content": "cut"#,
    );
    let also = write(
        &dir.path().join("in/also.jsonl"),
        session("also", "uid-also", 3).to_string() + "\n",
    );
    let args = [
        "import",
        good.to_str().unwrap(),
        broken.to_str().unwrap(),
        also.to_str().unwrap(),
    ];
    let e = fails(&dir, &args);
    assert!(
        e.contains("1 of 3 files could not be imported") && e.contains("broken.json"),
        "{e}"
    );
    assert!(e.contains("truncated"), "the reason is given: {e}");
    assert_eq!(names(&dir), ["also", "good"]);
    // The same through a folder; the imported ones are unchanged, the broken
    // one fails again.
    let e = fails(&dir, &["import", dir.path().join("in").to_str().unwrap()]);
    assert!(
        e.contains("broken.json") && e.contains("2 unchanged"),
        "{e}"
    );
    assert_eq!(names(&dir), ["also", "good"]);
    // The index holds what was imported, and nothing of the broken file.
    let hits = |q: &str| -> Vec<String> {
        ok_json(&dir, &["search", q, "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["session"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(hits("also"), ["also"]);
    assert_eq!(hits("good"), ["good"]);
    assert!(hits("halfword").is_empty());
}

#[test]
fn a_writer_that_finds_the_database_busy_says_so_once() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "notes"]);
    // Another writer holds the write lock for longer than anyone waits.
    let holder = rusqlite::Connection::open(db(&dir)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let start = Instant::now();
    let out = run_within(
        &dir,
        &["add", "notes", "--role", "user", "blocked"],
        Duration::from_mins(1),
    );
    let waited = start.elapsed();
    holder.execute_batch("ROLLBACK").unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "scrollback: error: the database is busy: another scrollback is writing (an import?); tried for 30 s"
    );
    assert!(
        waited >= Duration::from_secs(29),
        "gave up after {waited:?}"
    );
}
