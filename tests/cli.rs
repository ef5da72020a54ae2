//! End-to-end tests of the `scrollback` command line: every subcommand's
//! normal path checked through `show --json` / `list --json`, the JSON shapes,
//! list filters, error paths (exit code, message, store unchanged), imports
//! of the seed formats, `--demo` and file permissions.
//!
//! Every command runs with `--db` inside a temporary directory and with HOME
//! and the XDG directories pointing there too, so no file of the person
//! running the tests is read or written.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The database every test uses: in a directory scrollback has to create.
fn db(dir: &TempDir) -> PathBuf {
    dir.path().join("x").join("scrollback.db")
}

/// `scrollback` with HOME and the XDG directories inside `dir` and no
/// scrollback variables from the environment; no `--db`.
fn sb_isolated(dir: &TempDir) -> Command {
    Command::from_std(common::scrollback(dir.path()))
}

/// `scrollback --db <dir>/x/scrollback.db`, isolated from the user's files.
fn sb(dir: &TempDir) -> Command {
    let mut c = sb_isolated(dir);
    c.arg("--db").arg(db(dir));
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cli")
        .join(name)
}

/// Runs the command, asserts exit 0, returns stdout.
fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "command failed ({:?})\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ok(dir: &TempDir, args: &[&str]) -> String {
    run_ok(sb(dir).args(args))
}

fn ok_json(dir: &TempDir, args: &[&str]) -> Value {
    let out = ok(dir, args);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {out}"))
}

/// Runs the command, asserts the exit code, returns stderr.
fn run_fail(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}\nstdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// Runs, asserts the exit code and that stderr is exactly one
/// `scrollback: error: ` line; returns that line.
fn fail(dir: &TempDir, args: &[&str], code: i32) -> String {
    error_line(&run_fail(sb(dir).args(args), code))
}

fn error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got: {stderr}");
    assert!(
        lines[0].starts_with("scrollback: error: "),
        "not an error line: {stderr}"
    );
    lines[0].to_string()
}

fn show(dir: &TempDir, name: &str) -> Value {
    ok_json(dir, &["show", name, "--json"])
}

fn list(dir: &TempDir, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    match ok_json(dir, &args) {
        Value::Array(a) => a,
        other => panic!("list --json is not an array: {other}"),
    }
}

fn names(sessions: &[Value]) -> Vec<String> {
    sessions
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn list_names(dir: &TempDir, extra: &[&str]) -> Vec<String> {
    names(&list(dir, extra))
}

fn contents(session: &Value) -> Vec<String> {
    session["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

fn seqs(session: &Value) -> Vec<u64> {
    session["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

/// Everything in the store, as `export --all` writes it.
fn snapshot(dir: &TempDir) -> Value {
    ok_json(dir, &["export", "--all"])
}

fn new_session(dir: &TempDir, name: &str) {
    ok(dir, &["new", name]);
}

fn add(dir: &TempDir, name: &str, role: &str, text: &str) {
    ok(dir, &["add", name, "--role", role, text]);
}

/// A session `name` with messages m0..m{n-1}, alternating user/assistant.
fn session_with(dir: &TempDir, name: &str, n: usize) {
    new_session(dir, name);
    for i in 0..n {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        add(dir, name, role, &format!("{name} m{i}"));
    }
}

fn import(dir: &TempDir, path: &Path) -> Value {
    ok_json(dir, &["import", "--json", path.to_str().unwrap()])
}

fn write(dir: &TempDir, file: &str, text: &str) -> PathBuf {
    let p = dir.path().join(file);
    fs::write(&p, text).unwrap();
    p
}

fn write_json(dir: &TempDir, file: &str, v: &Value) -> PathBuf {
    write(dir, file, &serde_json::to_string_pretty(v).unwrap())
}

fn is_rfc3339(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.contains('T') && s.ends_with('Z') && s.parse::<jiff::Timestamp>().is_ok()
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Old sessions with tags, metadata and sources, for filters and cleanup:
///
/// | name          | created    | tags              | metadata                              | source     | msgs |
/// |---------------|------------|-------------------|---------------------------------------|------------|------|
/// | alpha-notes   | 2020-01-01 | draft, work       | project=apollo stage=alpha priority=2 | chatgpt    | 3    |
/// | beta-notes    | 2020-02-01 | work              | project=apollo stage=beta             | scrollback | 1    |
/// | Gamma-plans   | 2020-03-01 | draft             | project=hermes stage=alpha            | chatgpt    | 5    |
/// | delta-kept    | 2020-04-01 | draft, keep, work | project=apollo                        | chatgpt    | 0    |
/// | epsilon-empty | 2020-05-01 |                   |                                       | scrollback | 0    |
fn library(dir: &TempDir) -> PathBuf {
    let msgs = |n: usize, day: &str| -> Value {
        (0..n)
            .map(|i| {
                json!({"role": if i % 2 == 0 { "user" } else { "assistant" },
                       "content": format!("message {i}"),
                       "created_at": format!("{day}T10:0{i}:00Z")})
            })
            .collect()
    };
    let doc = json!([
        {"uid": "lib-0001", "name": "alpha-notes", "title": "Alpha", "created_at": "2020-01-01T09:00:00Z",
         "updated_at": "2020-01-05T00:00:00Z", "tags": ["work", "draft"],
         "metadata": {"project": "apollo", "stage": "alpha", "priority": 2}, "source": "chatgpt",
         "messages": msgs(3, "2020-01-01")},
        {"uid": "lib-0002", "name": "beta-notes", "created_at": "2020-02-01T09:00:00Z",
         "updated_at": "2020-02-03T00:00:00Z", "tags": ["work"],
         "metadata": {"project": "apollo", "stage": "beta"}, "source": "scrollback",
         "messages": msgs(1, "2020-02-01")},
        {"uid": "lib-0003", "name": "Gamma-plans", "created_at": "2020-03-01T09:00:00Z",
         "updated_at": "2020-03-02T00:00:00Z", "tags": ["draft"],
         "metadata": {"project": "hermes", "stage": "alpha"}, "source": "chatgpt",
         "messages": msgs(5, "2020-03-01")},
        {"uid": "lib-0004", "name": "delta-kept", "created_at": "2020-04-01T09:00:00Z",
         "updated_at": "2020-04-01T09:00:00Z", "tags": ["keep", "work", "draft"],
         "metadata": {"project": "apollo"}, "source": "chatgpt", "messages": []},
        {"uid": "lib-0005", "name": "epsilon-empty", "created_at": "2020-05-01T09:00:00Z",
         "updated_at": "2020-05-01T09:00:00Z", "messages": []}
    ]);
    let path = write_json(dir, "library.json", &doc);
    import(dir, &path);
    path
}

const SESSION_KEYS: [&str; 14] = [
    "uid",
    "name",
    "title",
    "created_at",
    "updated_at",
    "message_count",
    "tags",
    "metadata",
    "source",
    "source_ref",
    "parent",
    "fork_seq",
    "archived",
    "trashed",
];

// ---------------------------------------------------------------------------
// One test per subcommand
// ---------------------------------------------------------------------------

#[test]
fn new_with_title_tags_and_metadata() {
    let dir = TempDir::new().unwrap();
    let out = ok(
        &dir,
        &[
            "new",
            "project-planning",
            "--title",
            "Q3 roadmap",
            "--tag",
            "work",
            "--tag",
            "planning",
            "--meta",
            "owner=ana",
            "--meta",
            "priority:=2",
        ],
    );
    assert!(out.starts_with("created project-planning ("), "{out}");
    let all = list(&dir, &[]);
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s["name"], "project-planning");
    assert_eq!(s["title"], "Q3 roadmap");
    assert_eq!(s["tags"], json!(["planning", "work"]));
    assert_eq!(s["metadata"], json!({"owner": "ana", "priority": 2}));
    assert_eq!(s["source"], "scrollback");
    assert_eq!(s["message_count"], 0);
    assert_eq!(s["archived"], false);
    assert_eq!(s["trashed"], false);
    assert!(s["parent"].is_null());
    // The uid printed is the one stored.
    assert!(out.contains(s["uid"].as_str().unwrap()), "{out}");
}

#[test]
fn new_from_template_copies_messages_tags_and_metadata() {
    let dir = TempDir::new().unwrap();
    ok(
        &dir,
        &[
            "new",
            "tpl",
            "--title",
            "Code review",
            "--tag",
            "template",
            "--tag",
            "review",
            "--meta",
            "lang=rust",
        ],
    );
    add(&dir, "tpl", "system", "You review Rust code.");
    ok(
        &dir,
        &["new", "review-1", "--template", "tpl", "--tag", "today"],
    );
    let s = show(&dir, "review-1");
    assert_eq!(s["title"], "Code review");
    assert_eq!(
        s["tags"],
        json!(["review", "today"]),
        "the template tag itself is not copied"
    );
    assert_eq!(s["metadata"], json!({"lang": "rust"}));
    assert_eq!(contents(&s), ["You review Rust code."]);
    assert_eq!(s["messages"][0]["role"], "system");
}

#[test]
fn add_from_argument_and_from_stdin() {
    let dir = TempDir::new().unwrap();
    new_session(&dir, "chat");
    let out = ok(&dir, &["add", "chat", "--role", "user", "What is a monad?"]);
    assert_eq!(out, "added message 0 to chat\n");
    run_ok(
        sb(&dir)
            .args(["add", "chat", "--role", "assistant", "--model", "gpt-4o"])
            .write_stdin("A monoid in\nthe category of endofunctors.\n"),
    );
    run_ok(
        sb(&dir)
            .args(["add", "chat", "--role", "tool", "-"])
            .write_stdin("{\"ok\": true}"),
    );
    let s = show(&dir, "chat");
    assert_eq!(s["message_count"], 3);
    assert_eq!(seqs(&s), [0, 1, 2]);
    assert_eq!(
        contents(&s),
        [
            "What is a monad?",
            "A monoid in\nthe category of endofunctors.\n",
            "{\"ok\": true}"
        ]
    );
    let roles: Vec<&str> = s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool"]);
    assert_eq!(s["messages"][1]["model"], "gpt-4o");
    assert!(s["messages"][0]["model"].is_null());
    let chars: usize = contents(&s).iter().map(|c| c.chars().count()).sum();
    assert_eq!(s["char_count"], chars);
}

#[test]
fn add_with_unknown_role_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    new_session(&dir, "chat");
    run_fail(sb(&dir).args(["add", "chat", "--role", "wizard", "hi"]), 2);
    assert_eq!(show(&dir, "chat")["message_count"], 0);
}

#[test]
fn show_selects_messages_with_last_from_and_limit() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "long", 6);
    assert_eq!(seqs(&show(&dir, "long")), [0, 1, 2, 3, 4, 5]);
    assert_eq!(
        seqs(&ok_json(&dir, &["show", "long", "--json", "--last", "2"])),
        [4, 5]
    );
    assert_eq!(
        seqs(&ok_json(&dir, &["show", "long", "--json", "--last", "10"])),
        [0, 1, 2, 3, 4, 5]
    );
    assert_eq!(
        seqs(&ok_json(&dir, &["show", "long", "--json", "--from", "3"])),
        [3, 4, 5]
    );
    assert_eq!(
        seqs(&ok_json(
            &dir,
            &["show", "long", "--json", "--from", "1", "--limit", "2"]
        )),
        [1, 2]
    );
    assert_eq!(
        seqs(&ok_json(&dir, &["show", "long", "--json", "--limit", "1"])),
        [0]
    );
    assert_eq!(
        seqs(&ok_json(&dir, &["show", "long", "--json", "--from", "9"])),
        Vec::<u64>::new()
    );
    let v = ok_json(&dir, &["show", "long", "--json", "--last", "2"]);
    assert_eq!(contents(&v), ["long m4", "long m5"]);
    // The session's own count is the whole session, whatever is shown.
    assert_eq!(v["message_count"], 6);
    // --last and --from conflict.
    run_fail(
        sb(&dir).args(["show", "long", "--last", "1", "--from", "1"]),
        2,
    );
}

#[test]
fn show_without_json_prints_header_and_messages() {
    let dir = TempDir::new().unwrap();
    ok(
        &dir,
        &["new", "chat", "--title", "About tides", "--tag", "sea"],
    );
    add(&dir, "chat", "user", "Why are there two tides a day?");
    let out = ok(&dir, &["show", "chat"]);
    assert!(out.starts_with("chat: About tides\n"), "{out}");
    assert!(out.contains("tags: sea"), "{out}");
    assert!(out.contains("[0] user"), "{out}");
    assert!(out.contains("  Why are there two tides a day?"), "{out}");
}

#[test]
fn list_json_shape() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "one", "--tag", "t", "--meta", "k=v"]);
    add(&dir, "one", "user", "hello");
    new_session(&dir, "two");
    let all = list(&dir, &[]);
    assert_eq!(all.len(), 2);
    for s in &all {
        let obj = s.as_object().unwrap();
        for key in SESSION_KEYS {
            assert!(obj.contains_key(key), "missing {key} in {s}");
        }
        assert!(
            !obj.contains_key("messages"),
            "list does not include messages: {s}"
        );
        assert!(is_rfc3339(&s["created_at"]), "{}", s["created_at"]);
        assert!(is_rfc3339(&s["updated_at"]), "{}", s["updated_at"]);
        assert!(s["uid"].as_str().unwrap().len() >= 32);
        assert!(s["tags"].is_array());
        assert!(s["metadata"].is_object());
        assert!(s["message_count"].is_u64());
        assert!(s["archived"].is_boolean() && s["trashed"].is_boolean());
    }
    // Default order: most recently updated first.
    assert_eq!(names(&all), ["two", "one"]);
    assert_eq!(all[1]["message_count"], 1);
    assert_eq!(all[1]["tags"], json!(["t"]));
    assert_eq!(all[1]["metadata"], json!({"k": "v"}));
}

#[test]
fn show_json_shape() {
    let dir = TempDir::new().unwrap();
    new_session(&dir, "chat");
    add(&dir, "chat", "user", "hello");
    ok(
        &dir,
        &["add", "chat", "--role", "assistant", "--model", "m-1", "hi"],
    );
    let s = show(&dir, "chat");
    let obj = s.as_object().unwrap();
    for key in SESSION_KEYS {
        assert!(obj.contains_key(key), "missing {key} in {s}");
    }
    let msgs = s["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    for m in msgs {
        let m = m.as_object().unwrap();
        for key in ["seq", "role", "content", "created_at", "model"] {
            assert!(m.contains_key(key), "missing {key} in {m:?}");
        }
        assert!(is_rfc3339(&m["created_at"]));
    }
    assert_eq!(msgs[1]["model"], "m-1");
    assert_eq!(msgs[1]["role"], "assistant");
    // Messages are stamped in order, and the session's update time is the last one.
    let t0: jiff::Timestamp = msgs[0]["created_at"].as_str().unwrap().parse().unwrap();
    let t1: jiff::Timestamp = msgs[1]["created_at"].as_str().unwrap().parse().unwrap();
    let updated: jiff::Timestamp = s["updated_at"].as_str().unwrap().parse().unwrap();
    assert!(t0 <= t1 && t1 <= updated);
}

#[test]
fn rename_moves_the_name() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "old-name", 2);
    let uid = show(&dir, "old-name")["uid"].clone();
    assert_eq!(
        ok(&dir, &["rename", "old-name", "new-name"]),
        "renamed old-name to new-name\n"
    );
    let s = show(&dir, "new-name");
    assert_eq!(s["uid"], uid);
    assert_eq!(s["message_count"], 2);
    let e = fail(&dir, &["show", "old-name"], 3);
    assert!(e.contains("\"old-name\""), "{e}");
    assert_eq!(list_names(&dir, &[]), ["new-name"]);
}

#[test]
fn rename_by_uid_prefix() {
    let dir = TempDir::new().unwrap();
    new_session(&dir, "first");
    let uid = show(&dir, "first")["uid"].as_str().unwrap().to_string();
    ok(&dir, &["rename", &uid[..8], "second"]);
    assert_eq!(show(&dir, "second")["uid"], uid.as_str());
    // The full uid works as well.
    assert_eq!(show(&dir, &uid)["name"], "second");
}

#[test]
fn retitle_sets_the_title() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "chat", "--title", "Before"]);
    ok(&dir, &["retitle", "chat", "After the rewrite"]);
    assert_eq!(show(&dir, "chat")["title"], "After the rewrite");
    ok(&dir, &["retitle", "chat", ""]);
    assert_eq!(show(&dir, "chat")["title"], "");
}

#[test]
fn tag_adds_and_removes() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "chat", "--tag", "a", "--tag", "b"]);
    let out = ok(&dir, &["tag", "chat", "+c", "-b", "d"]);
    assert_eq!(out, "chat: tags a, c, d\n");
    assert_eq!(show(&dir, "chat")["tags"], json!(["a", "c", "d"]));
    // Adding a present tag and removing an absent one are no-ops.
    ok(&dir, &["tag", "chat", "+a", "-zzz"]);
    assert_eq!(show(&dir, "chat")["tags"], json!(["a", "c", "d"]));
    // A bad tag is refused and changes nothing.
    let e = fail(&dir, &["tag", "chat", "+x", "two words"], 1);
    assert!(e.contains("invalid tag"), "{e}");
    assert_eq!(show(&dir, "chat")["tags"], json!(["a", "c", "d"]));
}

#[test]
fn meta_sets_json_and_removes() {
    let dir = TempDir::new().unwrap();
    ok(
        &dir,
        &["new", "chat", "--meta", "stage=draft", "--meta", "owner=bo"],
    );
    ok(
        &dir,
        &[
            "meta",
            "chat",
            "owner=ana",
            "count:=3",
            "flags:=[1,true]",
            "stage=",
        ],
    );
    let m = &show(&dir, "chat")["metadata"];
    assert_eq!(m, &json!({"owner": "ana", "count": 3, "flags": [1, true]}));
    assert!(m["count"].is_u64(), "K:=JSON stores a number, not a string");
    // K:=JSON with bad JSON is refused and nothing changes.
    let e = fail(&dir, &["meta", "chat", "owner=zed", "count:=nope"], 1);
    assert!(e.contains("count:=nope"), "{e}");
    assert_eq!(show(&dir, "chat")["metadata"]["owner"], "ana");
    // No `=` at all.
    let e = fail(&dir, &["meta", "chat", "justakey"], 1);
    assert!(e.contains("justakey"), "{e}");
}

#[test]
fn branch_at_a_message() {
    let dir = TempDir::new().unwrap();
    ok(
        &dir,
        &[
            "new", "parent", "--title", "Trunk", "--tag", "idea", "--meta", "k=v",
        ],
    );
    for (role, text) in [
        ("user", "q1"),
        ("assistant", "a1"),
        ("user", "q2"),
        ("assistant", "a2"),
    ] {
        add(&dir, "parent", role, text);
    }
    let out = ok(&dir, &["branch", "parent", "alt", "--at", "1"]);
    assert!(
        out.contains("branched alt from parent after message 1 (2 messages)"),
        "{out}"
    );
    let p = show(&dir, "parent");
    let b = show(&dir, "alt");
    assert_eq!(b["parent"], p["uid"]);
    assert_eq!(b["fork_seq"], 1);
    assert_ne!(b["uid"], p["uid"]);
    assert_eq!(b["message_count"], 2);
    assert_eq!(b["title"], "Trunk");
    assert_eq!(b["tags"], json!(["idea"]));
    assert_eq!(b["metadata"], json!({"k": "v"}));
    let pm = p["messages"].as_array().unwrap();
    let bm = b["messages"].as_array().unwrap();
    assert_eq!(bm.len(), 2);
    for (x, y) in pm[..2].iter().zip(bm) {
        for key in ["seq", "role", "content", "created_at", "model"] {
            assert_eq!(x[key], y[key], "{key}");
        }
    }
    // The parent is untouched.
    assert_eq!(p["message_count"], 4);
    // Without --at: every message, forked after the last.
    ok(&dir, &["branch", "parent", "full"]);
    let f = show(&dir, "full");
    assert_eq!(f["fork_seq"], 3);
    assert_eq!(contents(&f), ["q1", "a1", "q2", "a2"]);
}

#[test]
fn branch_past_the_end_is_refused() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "parent", 2);
    let before = snapshot(&dir);
    let e = fail(&dir, &["branch", "parent", "alt", "--at", "2"], 1);
    assert!(e.contains("fork point") && e.contains("from 0 to 1"), "{e}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn copy_has_no_lineage() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "src", "--title", "Original", "--tag", "x"]);
    add(&dir, "src", "user", "one");
    add(&dir, "src", "assistant", "two");
    let out = ok(&dir, &["copy", "src", "dup"]);
    assert_eq!(out, "copied src to dup (2 messages)\n");
    let s = show(&dir, "src");
    let c = show(&dir, "dup");
    assert!(c["parent"].is_null());
    assert!(c["fork_seq"].is_null());
    assert_ne!(c["uid"], s["uid"]);
    assert_eq!(c["title"], "Original");
    assert_eq!(c["tags"], json!(["x"]));
    assert_eq!(c["messages"], s["messages"]);
    // The copy is independent.
    add(&dir, "dup", "user", "three");
    assert_eq!(show(&dir, "src")["message_count"], 2);
}

/// Two sessions whose messages interleave in time: left at :00 and :02,
/// right at :01 and :03.
fn merge_inputs(dir: &TempDir) {
    let doc = json!([
        {"uid": "left-0000", "name": "left", "tags": ["l"], "metadata": {"side": "left", "a": 1},
         "messages": [
            {"role": "user", "content": "L0", "created_at": "2026-01-01T10:00:00Z"},
            {"role": "assistant", "content": "L1", "created_at": "2026-01-01T10:02:00Z"}]},
        {"uid": "right-0000", "name": "right", "tags": ["r"], "metadata": {"side": "right"},
         "messages": [
            {"role": "user", "content": "R0", "created_at": "2026-01-01T10:01:00Z"},
            {"role": "assistant", "content": "R1", "created_at": "2026-01-01T10:03:00Z", "model": "m"}]}
    ]);
    import(dir, &write_json(dir, "merge.json", &doc));
}

#[test]
fn merge_by_time_and_in_given_order() {
    let dir = TempDir::new().unwrap();
    merge_inputs(&dir);
    let out = ok(&dir, &["merge", "left", "right", "--into", "by-time"]);
    assert_eq!(out, "merged 2 sessions into by-time (4 messages)\n");
    let t = show(&dir, "by-time");
    assert_eq!(contents(&t), ["L0", "R0", "L1", "R1"]);
    assert_eq!(seqs(&t), [0, 1, 2, 3]);
    assert_eq!(t["tags"], json!(["l", "r"]));
    assert_eq!(t["metadata"]["side"], "right", "later sessions win");
    assert_eq!(t["metadata"]["a"], 1);
    assert_eq!(
        t["metadata"]["merged_from"],
        json!(["left-0000", "right-0000"])
    );
    assert!(t["parent"].is_null());
    assert_eq!(t["messages"][3]["model"], "m");
    assert_eq!(t["messages"][3]["created_at"], "2026-01-01T10:03:00Z");

    ok(
        &dir,
        &[
            "merge", "right", "left", "--into", "given", "--order", "given",
        ],
    );
    assert_eq!(contents(&show(&dir, "given")), ["R0", "R1", "L0", "L1"]);
    // The inputs are untouched.
    assert_eq!(contents(&show(&dir, "left")), ["L0", "L1"]);
    assert_eq!(contents(&show(&dir, "right")), ["R0", "R1"]);
}

#[test]
fn merge_dry_run_creates_nothing() {
    let dir = TempDir::new().unwrap();
    merge_inputs(&dir);
    let before = snapshot(&dir);
    let out = ok(
        &dir,
        &["merge", "left", "right", "--into", "preview", "--dry-run"],
    );
    assert_eq!(out, "would merge 2 sessions into preview (4 messages)\n");
    assert_eq!(snapshot(&dir), before);
    fail(&dir, &["show", "preview"], 3);
}

#[test]
fn merge_of_a_branch_keeps_the_shared_prefix_once() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "trunk", 3);
    ok(&dir, &["branch", "trunk", "twig", "--at", "1"]);
    add(&dir, "twig", "user", "twig only");
    ok(
        &dir,
        &[
            "merge", "trunk", "twig", "--into", "both", "--order", "given",
        ],
    );
    assert_eq!(
        contents(&show(&dir, "both")),
        ["trunk m0", "trunk m1", "trunk m2", "twig only"]
    );
}

#[test]
fn truncate_keeps_the_last_messages() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "chat", 4);
    let out = ok(&dir, &["truncate", "chat", "--keep", "2", "--dry-run"]);
    assert_eq!(out, "would remove 2 of 4 messages from chat\n");
    assert_eq!(show(&dir, "chat")["message_count"], 4);
    assert_eq!(
        ok(&dir, &["truncate", "chat", "--keep", "2"]),
        "removed 2 messages from chat\n"
    );
    let s = show(&dir, "chat");
    assert_eq!(s["message_count"], 2);
    assert_eq!(contents(&s), ["chat m2", "chat m3"]);
    assert_eq!(seqs(&s), [0, 1], "the kept messages are renumbered");
    // Keeping more than there are removes nothing.
    assert_eq!(
        ok(&dir, &["truncate", "chat", "--keep", "10"]),
        "removed 0 messages from chat\n"
    );
    assert_eq!(show(&dir, "chat")["message_count"], 2);
    // New messages continue the numbering.
    add(&dir, "chat", "user", "after");
    assert_eq!(seqs(&show(&dir, "chat")), [0, 1, 2]);
}

#[test]
fn clear_needs_yes() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "chat", 3);
    let e = fail(&dir, &["clear", "chat"], 1);
    assert!(e.contains("--yes"), "{e}");
    assert_eq!(show(&dir, "chat")["message_count"], 3);
    assert_eq!(
        ok(&dir, &["clear", "chat", "--yes"]),
        "removed 3 messages from chat\n"
    );
    let s = show(&dir, "chat");
    assert_eq!(s["message_count"], 0);
    assert_eq!(s["char_count"], 0);
    assert_eq!(s["messages"], json!([]));
    // The session itself remains.
    assert_eq!(list_names(&dir, &[]), ["chat"]);
}

#[test]
fn rm_and_restore() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 1);
    session_with(&dir, "b", 1);
    session_with(&dir, "c", 1);
    ok(&dir, &["rm", "a", "b"]);
    assert_eq!(list_names(&dir, &[]), ["c"]);
    let trashed = list(&dir, &["--trashed"]);
    let mut t = names(&trashed);
    t.sort();
    assert_eq!(t, ["a", "b"]);
    assert!(trashed.iter().all(|s| s["trashed"] == true));
    // Trashed sessions can still be shown.
    assert_eq!(show(&dir, "a")["trashed"], true);
    assert_eq!(
        ok(&dir, &["restore", "a"]),
        "restored 1 sessions from the trash\n"
    );
    let mut live = list_names(&dir, &[]);
    live.sort();
    assert_eq!(live, ["a", "c"]);
    assert_eq!(show(&dir, "a")["trashed"], false);
    assert_eq!(show(&dir, "a")["message_count"], 1);
    assert_eq!(list_names(&dir, &["--trashed"]), ["b"]);
}

#[test]
fn rm_with_one_unknown_name_changes_nothing() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 1);
    let before = snapshot(&dir);
    let e = fail(&dir, &["rm", "a", "ghost"], 3);
    assert!(e.contains("ghost"), "{e}");
    assert_eq!(snapshot(&dir), before);
    assert_eq!(list_names(&dir, &[]), ["a"]);
}

#[test]
fn purge_needs_yes_and_deletes_for_good() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "doomed", 2);
    session_with(&dir, "other", 1);
    let before = snapshot(&dir);
    let e = fail(&dir, &["purge", "doomed"], 1);
    assert!(e.contains("--yes"), "{e}");
    assert_eq!(snapshot(&dir), before);
    assert_eq!(
        ok(&dir, &["purge", "doomed", "--dry-run"]),
        "would delete 1 sessions for good\n"
    );
    assert_eq!(snapshot(&dir), before);
    assert_eq!(
        ok(&dir, &["purge", "doomed", "--yes"]),
        "deleted 1 sessions for good\n"
    );
    fail(&dir, &["show", "doomed"], 3);
    assert_eq!(list_names(&dir, &["--all"]), ["other"]);
    assert_eq!(ok_json(&dir, &["stats", "--json"])["messages"], 1);
}

#[test]
fn purge_trashed_empties_the_trash_only() {
    let dir = TempDir::new().unwrap();
    for n in ["a", "b", "c"] {
        session_with(&dir, n, 1);
    }
    ok(&dir, &["rm", "a", "b"]);
    ok(&dir, &["purge", "--trashed", "--yes"]);
    assert_eq!(list_names(&dir, &["--all"]), ["c"]);
    assert_eq!(list(&dir, &["--trashed"]), Vec::<Value>::new());
    fail(&dir, &["show", "a"], 3);
    fail(&dir, &["show", "b"], 3);
    // Without --yes it is refused.
    ok(&dir, &["rm", "c"]);
    fail(&dir, &["purge", "--trashed"], 1);
    assert_eq!(list_names(&dir, &["--trashed"]), ["c"]);
}

#[test]
fn archive_and_unarchive() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "old", 1);
    session_with(&dir, "current", 1);
    assert_eq!(ok(&dir, &["archive", "old"]), "archived 1 sessions\n");
    assert_eq!(list_names(&dir, &[]), ["current"]);
    let archived = list(&dir, &["--archived"]);
    assert_eq!(names(&archived), ["old"]);
    assert_eq!(archived[0]["archived"], true);
    assert!(is_rfc3339(&archived[0]["archived_at"]));
    assert_eq!(list(&dir, &["--all"]).len(), 2);
    // Archiving again changes nothing.
    assert_eq!(ok(&dir, &["archive", "old"]), "archived 0 sessions\n");
    assert_eq!(ok(&dir, &["unarchive", "old"]), "unarchived 1 sessions\n");
    assert_eq!(list(&dir, &["--archived"]), Vec::<Value>::new());
    let live = list(&dir, &[]);
    assert_eq!(live.len(), 2);
    assert!(
        live.iter()
            .all(|s| s["archived"] == false && s["archived_at"].is_null())
    );
}

#[test]
fn cleanup_dry_run_json_plan() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    new_session(&dir, "fresh");
    let before = snapshot(&dir);
    let plan = ok_json(
        &dir,
        &[
            "cleanup",
            "--older-than",
            "30d",
            "--trash",
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(plan["action"], "trash");
    let sessions = plan["sessions"].as_array().unwrap();
    // Oldest first; delta-kept carries the protected tag `keep`; fresh is new.
    assert_eq!(
        names(sessions),
        ["alpha-notes", "beta-notes", "Gamma-plans", "epsilon-empty"]
    );
    for s in sessions {
        assert!(
            s["uid"].is_string() && s["name"].is_string() && s["message_count"].is_u64(),
            "{s}"
        );
    }
    assert_eq!(sessions[0]["uid"], "lib-0001");
    assert_eq!(sessions[0]["message_count"], 3);
    assert_eq!(sessions[2]["message_count"], 5);
    assert!(strings(&plan["protected_tags"]).contains(&"keep".to_string()));
    assert_eq!(snapshot(&dir), before, "a dry run changes nothing");
}

#[test]
fn cleanup_empty_trash_yes() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    new_session(&dir, "fresh");
    session_with(&dir, "busy", 1);
    let out = ok(&dir, &["cleanup", "--empty", "--trash", "--yes"]);
    assert_eq!(out, "cleaned up 2 sessions\n");
    let mut trashed = list_names(&dir, &["--trashed"]);
    trashed.sort();
    assert_eq!(trashed, ["epsilon-empty", "fresh"]);
    // delta-kept is empty too, but tagged keep.
    assert!(list_names(&dir, &[]).contains(&"delta-kept".to_string()));
}

#[test]
fn cleanup_never_touches_protected_sessions() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    ok(
        &dir,
        &["cleanup", "--older-than", "2021-01-01", "--purge", "--yes"],
    );
    assert_eq!(list_names(&dir, &["--all"]), ["delta-kept"]);
    // Even when the criterion is the protected tag itself.
    let plan = ok_json(
        &dir,
        &["cleanup", "--tag", "keep", "--purge", "--dry-run", "--json"],
    );
    assert_eq!(plan["sessions"], json!([]));
    assert_eq!(
        ok(&dir, &["cleanup", "--tag", "keep", "--archive", "--yes"]),
        "nothing to clean up\n"
    );
    assert_eq!(show(&dir, "delta-kept")["archived"], false);
}

#[test]
fn cleanup_archive_by_source_and_size() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    let out = ok_json(
        &dir,
        &[
            "cleanup",
            "--source",
            "chatgpt",
            "--larger-than",
            "3",
            "--archive",
            "--yes",
            "--json",
        ],
    );
    assert_eq!(out, json!({"action": "archive", "sessions": 1}));
    assert_eq!(list_names(&dir, &["--archived"]), ["Gamma-plans"]);
    ok(
        &dir,
        &["cleanup", "--without-tag", "work", "--trash", "--yes"],
    );
    // Gamma-plans (archived, no work tag) and epsilon-empty go to the trash.
    let mut t = list_names(&dir, &["--trashed"]);
    t.sort();
    assert_eq!(t, ["Gamma-plans", "epsilon-empty"]);
}

#[test]
fn cleanup_without_yes_is_refused() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    let before = snapshot(&dir);
    let stderr = run_fail(sb(&dir).args(["cleanup", "--empty", "--purge"]), 1);
    assert!(
        stderr.contains("epsilon-empty"),
        "the plan is shown: {stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("scrollback: error: "),
        "{stderr}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn cleanup_needs_a_criterion_and_an_action() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    let before = snapshot(&dir);
    let e = fail(&dir, &["cleanup", "--trash", "--yes"], 1);
    assert!(e.contains("criterion"), "{e}");
    let stderr = run_fail(sb(&dir).args(["cleanup", "--older-than", "1d"]), 2);
    assert!(stderr.contains("--archive"), "{stderr}");
    run_fail(
        sb(&dir).args(["cleanup", "--empty", "--trash", "--purge"]),
        2,
    );
    let e = fail(
        &dir,
        &["cleanup", "--older-than", "soon", "--trash", "--dry-run"],
        1,
    );
    assert!(e.contains("invalid time \"soon\""), "{e}");
    assert_eq!(snapshot(&dir), before);
}

/// A store holding a bit of everything: tags, metadata, a branch, archived
/// and trashed sessions, models, seed imports with source references.
fn rich_store(dir: &TempDir) {
    ok(
        dir,
        &[
            "new", "plan", "--title", "The plan", "--tag", "work", "--meta", "n:=1.5", "--meta",
            "who=ana",
        ],
    );
    add(dir, "plan", "system", "Be brief.");
    add(dir, "plan", "user", "Ünïcode and \"quotes\"\nand lines");
    ok(
        dir,
        &[
            "add",
            "plan",
            "--role",
            "assistant",
            "--model",
            "gpt-4o",
            "Sure.",
        ],
    );
    ok(dir, &["branch", "plan", "plan-b", "--at", "1"]);
    session_with(dir, "archived-one", 1);
    ok(dir, &["archive", "archived-one"]);
    session_with(dir, "trashed-one", 2);
    ok(dir, &["rm", "trashed-one"]);
    new_session(dir, "empty");
    let diary = json!({"messages": [
        {"role": "system", "content": "Keep a diary.", "timestamp": "2026-05-01T08:00:00Z"},
        {"role": "user", "content": "Rained all day.", "timestamp": "2026-05-01T20:00:00Z", "mood": "grey"},
        {"role": "assistant", "content": "Noted.", "timestamp": "2026-05-01T20:00:02Z", "model": "gpt-4o"}
    ], "metadata": {"kind": "diary"}});
    import(dir, &write_json(dir, "diary.json", &diary));
    import(dir, &fixture("weekly-sync.json"));
    import(dir, &fixture("tabular.toon"));
}

#[test]
fn export_import_round_trip() {
    let dir = TempDir::new().unwrap();
    rich_store(&dir);
    let file = dir.path().join("all.json");
    let stderr = run_fail(
        sb(&dir).args(["export", "--all", "-o", file.to_str().unwrap()]),
        0,
    );
    assert!(stderr.contains("wrote 8 sessions"), "{stderr}");
    let first: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(first.as_array().unwrap().len(), 8);

    let fresh = TempDir::new().unwrap();
    let report = import(&fresh, &file);
    assert_eq!(report["sessions_added"], 8);
    assert_eq!(report["messages_added"], 3 + 2 + 1 + 2 + 3 + 2 + 2);
    let second = snapshot(&fresh);
    assert_eq!(second, first);
    // States survive: one archived, one trashed, the branch keeps its parent.
    assert_eq!(list_names(&fresh, &["--archived"]), ["archived-one"]);
    assert_eq!(list_names(&fresh, &["--trashed"]), ["trashed-one"]);
    assert_eq!(
        show(&fresh, "plan-b")["parent"],
        show(&fresh, "plan")["uid"]
    );
    // Importing the same file again adds nothing.
    let again = import(&fresh, &file);
    assert_eq!(again["sessions_added"], 0);
    assert_eq!(again["sessions_unchanged"], 8);
    assert_eq!(snapshot(&fresh), first);
}

#[test]
fn seed_import_with_untimed_messages_round_trips_exactly() {
    let dir = TempDir::new().unwrap();
    import(&dir, &fixture("research-notes.json"));
    let s = show(&dir, "research-notes");
    let time = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let updated = time(&s["updated_at"]);
    assert!(
        updated >= time(&s["created_at"]),
        "updated {} before created {}",
        s["updated_at"],
        s["created_at"]
    );
    for m in s["messages"].as_array().unwrap() {
        assert!(
            time(&m["created_at"]) <= updated,
            "message at {} after updated {}",
            m["created_at"],
            s["updated_at"]
        );
    }
    let file = write(&dir, "all.json", &ok(&dir, &["export", "--all"]));
    let fresh = TempDir::new().unwrap();
    import(&fresh, &file);
    assert_eq!(snapshot(&fresh), snapshot(&dir));
}

#[test]
fn export_jsonl_round_trip() {
    let dir = TempDir::new().unwrap();
    rich_store(&dir);
    let out = ok(&dir, &["export", "--all", "--format", "jsonl"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8, "one line per session");
    let docs: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        docs.iter()
            .all(|d| d["name"].is_string() && d["messages"].is_array())
    );
    assert_eq!(Value::Array(docs), snapshot(&dir));
    let file = write(&dir, "all.jsonl", &out);
    let fresh = TempDir::new().unwrap();
    assert_eq!(import(&fresh, &file)["sessions_added"], 8);
    assert_eq!(snapshot(&fresh), snapshot(&dir));
}

#[test]
fn export_named_sessions_to_stdout() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 1);
    session_with(&dir, "b", 2);
    session_with(&dir, "c", 3);
    let v = ok_json(&dir, &["export", "c", "a"]);
    assert_eq!(
        names(v.as_array().unwrap()),
        ["c", "a"],
        "in the order given"
    );
    assert_eq!(v[0]["messages"].as_array().unwrap().len(), 3);
    assert_eq!(v[0]["messages"][2]["content"], "c m2");
    fail(&dir, &["export", "a", "nope"], 3);
}

#[test]
fn export_markdown() {
    let dir = TempDir::new().unwrap();
    ok(
        &dir,
        &["new", "tides", "--title", "Why two tides", "--tag", "sea"],
    );
    add(&dir, "tides", "user", "Why are there two high tides a day?");
    ok(
        &dir,
        &[
            "add",
            "tides",
            "--role",
            "assistant",
            "--model",
            "gpt-4o",
            "Because the Earth is pulled on both sides.",
        ],
    );
    new_session(&dir, "untitled");
    let out = ok(&dir, &["export", "tides", "untitled", "--format", "md"]);
    // YAML front matter first, then the title as a heading.
    assert!(
        out.starts_with("---\ntitle: \"Why two tides\"\nname: \"tides\"\n"),
        "{out}"
    );
    assert!(out.contains("\nsource: \"scrollback\"\n"), "{out}");
    assert!(out.contains("\ntags: [\"sea\"]\n"), "{out}");
    assert!(
        out.contains("\nmessages: 2\n---\n\n# Why two tides\n"),
        "{out}"
    );
    assert!(out.contains("\ncreated: 20"), "{out}");
    assert!(out.contains("\n## user · "), "{out}");
    assert!(out.contains("\n## assistant · gpt-4o · "), "{out}");
    assert!(out.contains("Why are there two high tides a day?"), "{out}");
    assert!(
        out.contains("Because the Earth is pulled on both sides."),
        "{out}"
    );
    assert!(
        out.contains("\n# untitled\n"),
        "a session without title is headed by its name: {out}"
    );
}

#[test]
fn export_markdown_shows_kinds_readably() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("agent.jsonl");
    let doc = json!({"name": "agent", "title": "Fix the build", "metadata": {"cwd": "/src/app"},
    "messages": [
        {"role": "user", "content": "the build fails"},
        {"role": "assistant", "kind": "thinking", "content": "maybe a missing feature\nlet me run it"},
        {"role": "assistant", "kind": "tool_call", "content": "Bash: cargo build",
         "metadata": {"tool": "Bash", "input": {"command": "cargo build"}}},
        {"role": "tool", "kind": "tool_result", "content": "error: ```x``` not found"},
        {"role": "assistant", "content": "Fixed."}
    ]});
    fs::write(&file, format!("{doc}\n")).unwrap();
    ok(&dir, &["import", file.to_str().unwrap()]);
    let shown: Value = serde_json::from_str(&ok(&dir, &["show", "agent", "--json"])).unwrap();
    let kinds: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["text", "thinking", "tool_call", "tool_result", "text"]
    );
    let out = ok(&dir, &["export", "agent", "--format", "md"]);
    assert!(
        out.contains("\nmetadata:\n  \"cwd\": \"/src/app\"\n---\n"),
        "{out}"
    );
    assert!(out.contains("\n## assistant · thinking · "), "{out}");
    assert!(
        out.contains("\n> maybe a missing feature\n> let me run it\n"),
        "{out}"
    );
    assert!(out.contains("\n## assistant · tool call · "), "{out}");
    assert!(
        out.contains("`Bash: cargo build`\n\n```json\n{\n  \"command\": \"cargo build\"\n}\n```\n"),
        "{out}"
    );
    // A fence longer than the backticks inside the output.
    assert!(
        out.contains("\n````text\nerror: ```x``` not found\n````\n"),
        "{out}"
    );
}

#[test]
fn export_to_a_file_and_failure_leaves_no_file() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 1);
    let target = dir.path().join("out.md");
    run_ok(sb(&dir).args([
        "export",
        "a",
        "--format",
        "md",
        "-o",
        target.to_str().unwrap(),
    ]));
    assert!(fs::read_to_string(&target).unwrap().contains("a m0"));
    let missing = dir.path().join("no-such-dir").join("out.json");
    run_fail(
        sb(&dir).args(["export", "a", "-o", missing.to_str().unwrap()]),
        1,
    );
    assert!(!missing.exists());
}

#[test]
fn stats_of_store_and_session() {
    let dir = TempDir::new().unwrap();
    ok(&dir, &["new", "s1", "--tag", "t"]);
    add(&dir, "s1", "system", "sys");
    add(&dir, "s1", "user", "hello");
    add(&dir, "s1", "user", "again");
    ok(
        &dir,
        &[
            "add",
            "s1",
            "--role",
            "assistant",
            "--model",
            "gpt-4o",
            "hi!",
        ],
    );
    session_with(&dir, "s2", 2);
    ok(&dir, &["archive", "s2"]);
    new_session(&dir, "s3");
    ok(&dir, &["rm", "s3"]);

    let st = ok_json(&dir, &["stats", "--json"]);
    assert_eq!(st["sessions"], 3);
    assert_eq!(st["live"], 1);
    assert_eq!(st["archived"], 1);
    assert_eq!(st["trashed"], 1);
    assert_eq!(st["messages"], 6);
    assert_eq!(st["chars"], 3 + 5 + 5 + 3 + 5 + 5);
    assert_eq!(st["sources"], json!([{"name": "scrollback", "count": 3}]));
    assert_eq!(st["tags"], json!([{"name": "t", "count": 1}]));
    assert_eq!(st["models"], json!([{"name": "gpt-4o", "count": 1}]));
    assert_eq!(
        st["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["count"].as_u64().unwrap())
            .sum::<u64>(),
        6
    );

    let s = ok_json(&dir, &["stats", "s1", "--json"]);
    assert_eq!(s["messages"], 4);
    assert_eq!(s["chars"], 16);
    assert_eq!(s["avg_chars"], 4);
    assert_eq!(
        s["roles"],
        json!([
            {"role": "system", "messages": 1, "chars": 3, "avg_chars": 3},
            {"role": "user", "messages": 2, "chars": 10, "avg_chars": 5},
            {"role": "assistant", "messages": 1, "chars": 3, "avg_chars": 3}
        ])
    );
    assert_eq!(s["models"], json!([{"name": "gpt-4o", "count": 1}]));
    assert!(is_rfc3339(&s["first_activity"]) && is_rfc3339(&s["last_activity"]));
    // Human output too.
    let out = ok(&dir, &["stats", "s1"]);
    assert!(
        out.starts_with("s1: 4 messages, 16 characters (avg 4)\n"),
        "{out}"
    );
    let out = ok(&dir, &["stats"]);
    assert!(
        out.starts_with("3 sessions (1 live, 1 archived, 1 in the trash), 6 messages"),
        "{out}"
    );
}

#[test]
fn stats_of_an_empty_session() {
    let dir = TempDir::new().unwrap();
    new_session(&dir, "empty");
    let s = ok_json(&dir, &["stats", "empty", "--json"]);
    assert_eq!(s["messages"], 0);
    assert_eq!(s["roles"], json!([]));
    assert!(s["first_activity"].is_null());
}

#[test]
fn doctor_on_a_fresh_db() {
    let dir = TempDir::new().unwrap();
    let out = ok(&dir, &["doctor"]);
    assert!(out.contains("integrity: ok"), "{out}");
    assert!(
        out.contains("sessions: 0 live, 0 archived, 0 in the trash"),
        "{out}"
    );
    session_with(&dir, "a", 2);
    let out = ok(&dir, &["doctor"]);
    assert!(
        out.contains(&format!(
            "schema version {}",
            scrollback::store::schema::CURRENT_VERSION
        )),
        "{out}"
    );
    assert!(
        out.contains("search index: in step with the store"),
        "{out}"
    );
    assert!(out.contains("sessions: 1 live"), "{out}");
    assert!(!out.contains("repaired"), "nothing to repair: {out}");
}

#[test]
fn doctor_repairs_stale_counts() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 3);
    {
        let conn = rusqlite::Connection::open(db(&dir)).unwrap();
        conn.execute("UPDATE session SET message_count = 99 WHERE name = 'a'", [])
            .unwrap();
    }
    assert_eq!(show(&dir, "a")["message_count"], 99);
    let out = ok(&dir, &["doctor"]);
    assert!(
        out.contains("repaired the message counts of 1 sessions"),
        "{out}"
    );
    assert_eq!(show(&dir, "a")["message_count"], 3);
}

#[test]
fn completions_for_each_shell() {
    let dir = TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = ok(&dir, &["completions", shell]);
        assert!(out.len() > 200, "{shell}: {out}");
        assert!(out.contains("scrollback"), "{shell}");
        assert!(
            out.contains("cleanup"),
            "{shell}: subcommands are completed"
        );
    }
    run_fail(sb(&dir).args(["completions", "tcsh"]), 2);
    assert!(!db(&dir).exists(), "completions do not open the database");
}

#[test]
fn no_subcommand_without_a_terminal_points_at_the_subcommands() {
    // Bare `scrollback` opens the TUI; with no terminal it says what to do instead.
    let dir = TempDir::new().unwrap();
    let out = sb(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(err.contains("scrollback --help"), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        !dir.path().join("x").join("scrollback.db").exists(),
        "nothing is created"
    );
}

// ---------------------------------------------------------------------------
// List filters
// ---------------------------------------------------------------------------

#[test]
fn list_filter_by_tags_anded() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    let mut got = list_names(&dir, &["--tag", "draft", "--tag", "work"]);
    got.sort();
    assert_eq!(got, ["alpha-notes", "delta-kept"]);
    let mut got = list_names(&dir, &["--tag", "work"]);
    got.sort();
    assert_eq!(got, ["alpha-notes", "beta-notes", "delta-kept"]);
    assert_eq!(
        list(&dir, &["--tag", "draft", "--tag", "nope"]),
        Vec::<Value>::new()
    );
}

#[test]
fn list_filter_by_metadata_anded() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    assert_eq!(
        list_names(
            &dir,
            &["--where", "project=apollo", "--where", "stage=alpha"]
        ),
        ["alpha-notes"]
    );
    let mut got = list_names(&dir, &["--where", "stage=alpha"]);
    got.sort();
    assert_eq!(got, ["Gamma-plans", "alpha-notes"]);
    // Numbers compare as text.
    assert_eq!(
        list_names(&dir, &["--where", "priority=2"]),
        ["alpha-notes"]
    );
    assert_eq!(
        list(&dir, &["--where", "project=zeus"]),
        Vec::<Value>::new()
    );
    let e = fail(&dir, &["list", "--where", "novalue"], 1);
    assert!(e.contains("novalue"), "{e}");
}

#[test]
fn list_filter_by_source() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    let mut got = list_names(&dir, &["--source", "chatgpt"]);
    got.sort();
    assert_eq!(got, ["Gamma-plans", "alpha-notes", "delta-kept"]);
    let mut got = list_names(&dir, &["--source", "scrollback"]);
    got.sort();
    assert_eq!(got, ["beta-notes", "epsilon-empty"]);
}

#[test]
fn list_filter_older_than() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    new_session(&dir, "fresh");
    let old = list_names(&dir, &["--older-than", "30d"]);
    assert_eq!(old.len(), 5);
    assert!(!old.contains(&"fresh".to_string()));
    let mut early = list_names(&dir, &["--older-than", "2020-02-15"]);
    early.sort();
    assert_eq!(early, ["alpha-notes", "beta-notes"]);
    let e = fail(&dir, &["list", "--older-than", "3 parsecs"], 1);
    assert!(e.contains("span"), "{e}");
}

#[test]
fn list_sort_and_limit() {
    let dir = TempDir::new().unwrap();
    library(&dir);
    new_session(&dir, "fresh");
    assert_eq!(
        list_names(&dir, &["--sort", "name"]),
        [
            "alpha-notes",
            "beta-notes",
            "delta-kept",
            "epsilon-empty",
            "fresh",
            "Gamma-plans"
        ]
    );
    assert_eq!(
        list_names(&dir, &["--sort", "created"]),
        [
            "fresh",
            "epsilon-empty",
            "delta-kept",
            "Gamma-plans",
            "beta-notes",
            "alpha-notes"
        ]
    );
    let by_size = list(&dir, &["--sort", "size"]);
    assert_eq!(
        names(&by_size[..3]),
        ["Gamma-plans", "alpha-notes", "beta-notes"]
    );
    let counts: Vec<u64> = by_size
        .iter()
        .map(|s| s["message_count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [5, 3, 1, 0, 0, 0]);
    assert_eq!(list_names(&dir, &["--sort", "updated"])[0], "fresh");
    assert_eq!(
        list_names(&dir, &["--sort", "created", "--limit", "2"]),
        ["fresh", "epsilon-empty"]
    );
    assert_eq!(
        list_names(&dir, &["--sort", "name", "--limit", "1"]),
        ["alpha-notes"]
    );
    run_fail(sb(&dir).args(["list", "--sort", "colour"]), 2);
}

#[test]
fn list_human_output() {
    let dir = TempDir::new().unwrap();
    assert_eq!(ok(&dir, &["list"]), "no sessions match\n");
    library(&dir);
    let out = ok(&dir, &["list", "--sort", "name"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(
        lines[0].contains("NAME") && lines[0].contains("MSGS"),
        "{out}"
    );
    assert!(
        lines[1].contains("alpha-notes")
            && lines[1].contains("#draft #work")
            && lines[1].contains("Alpha"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------
// Errors: exit code, message, and the store left as it was
// ---------------------------------------------------------------------------

#[test]
fn unknown_session_exits_3() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "real", 1);
    let before = snapshot(&dir);
    for args in [
        &["show", "ghost"][..],
        &["add", "ghost", "--role", "user", "hi"],
        &["rename", "ghost", "x"],
        &["retitle", "ghost", "t"],
        &["tag", "ghost", "+a"],
        &["meta", "ghost", "k=v"],
        &["branch", "ghost", "x"],
        &["copy", "ghost", "x"],
        &["merge", "real", "ghost", "--into", "x"],
        &["truncate", "ghost", "--keep", "1"],
        &["clear", "ghost", "--yes"],
        &["rm", "ghost"],
        &["restore", "ghost"],
        &["purge", "ghost", "--yes"],
        &["archive", "ghost"],
        &["unarchive", "ghost"],
        &["export", "ghost"],
        &["stats", "ghost"],
        &["new", "x", "--template", "ghost"],
    ] {
        let e = fail(&dir, args, 3);
        assert!(e.contains("\"ghost\""), "{args:?}: {e}");
    }
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn ambiguous_uid_prefix() {
    let dir = TempDir::new().unwrap();
    import(&dir, &fixture("ambiguous.json"));
    let before = snapshot(&dir);
    let e = fail(&dir, &["show", "abcd"], 1);
    assert!(e.contains("ambiguous"), "{e}");
    assert!(e.contains("\"abcd\""), "{e}");
    assert!(e.contains("first-twin") && e.contains("second-twin"), "{e}");
    fail(&dir, &["rm", "abcd"], 1);
    assert_eq!(snapshot(&dir), before);
    // A longer prefix is unique.
    assert_eq!(show(&dir, "abcd1")["name"], "first-twin");
    assert_eq!(show(&dir, "abcd2222")["name"], "second-twin");
    // Under 4 characters a prefix is not looked up at all.
    fail(&dir, &["show", "abc"], 3);
}

#[test]
fn name_already_exists() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "taken", 2);
    session_with(&dir, "other", 1);
    let before = snapshot(&dir);
    for args in [
        &["new", "taken"][..],
        &["rename", "other", "taken"],
        &["branch", "other", "taken"],
        &["copy", "other", "taken"],
        &["merge", "other", "taken", "--into", "taken"],
    ] {
        let e = fail(&dir, args, 1);
        assert!(
            e.contains("\"taken\"") && e.contains("already exists"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(snapshot(&dir), before);
    // Renaming a session to its own name is allowed.
    ok(&dir, &["rename", "taken", "taken"]);
}

#[test]
fn invalid_names_are_refused() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "good", 1);
    let before = snapshot(&dir);
    let long = "x".repeat(201);
    for bad in ["", "   ", "a\u{7}b", "a/b", "tab\there", long.as_str()] {
        for args in [
            &["new", bad][..],
            &["rename", "good", bad],
            &["branch", "good", bad],
            &["copy", "good", bad],
        ] {
            let e = fail(&dir, args, 1);
            assert!(e.contains("invalid name"), "{args:?}: {e}");
        }
    }
    assert_eq!(snapshot(&dir), before);
    // 200 characters is fine.
    ok(&dir, &["new", &"y".repeat(200)]);
}

#[test]
fn invalid_tag_on_new_creates_nothing() {
    let dir = TempDir::new().unwrap();
    let e = fail(&dir, &["new", "s", "--tag", "ok", "--tag", "a,b"], 1);
    assert!(e.contains("invalid tag \"a,b\""), "{e}");
    assert_eq!(list(&dir, &["--all"]), Vec::<Value>::new());
}

#[test]
fn malformed_import_file() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "before", 1);
    let before = snapshot(&dir);
    let e = fail(
        &dir,
        &["import", fixture("malformed.json").to_str().unwrap()],
        1,
    );
    assert!(e.contains("malformed.json"), "{e}");
    assert!(e.contains("line 3"), "{e}");
    assert_eq!(
        snapshot(&dir),
        before,
        "the session before the error is not imported either"
    );
}

#[test]
fn truncated_import_file() {
    let dir = TempDir::new().unwrap();
    for n in ["one", "two", "three"] {
        session_with(&dir, n, 2);
    }
    let full = ok(&dir, &["export", "--all"]);
    // Cut in the middle of the third session.
    let third = full.match_indices("\n{").nth(2).unwrap().0 + 1;
    let cut = third + (full[third..].find('\n').unwrap() / 2);
    let file = write(&dir, "cut.json", &full[..cut]);
    let fresh = TempDir::new().unwrap();
    session_with(&fresh, "resident", 1);
    let before = snapshot(&fresh);
    let e = fail(&fresh, &["import", file.to_str().unwrap()], 1);
    assert!(e.contains("cut.json"), "{e}");
    assert!(e.contains("truncated"), "{e}");
    assert!(e.contains("after 2 complete sessions"), "{e}");
    assert_eq!(snapshot(&fresh), before);
}

#[test]
fn truncated_jsonl_import_file() {
    let dir = TempDir::new().unwrap();
    for n in ["one", "two", "three"] {
        session_with(&dir, n, 2);
    }
    let full = ok(&dir, &["export", "--all", "--format", "jsonl"]);
    let file = write(&dir, "cut.jsonl", &full[..full.len() - 20]);
    let fresh = TempDir::new().unwrap();
    let e = fail(&fresh, &["import", file.to_str().unwrap()], 1);
    assert!(e.contains("cut.jsonl") && e.contains("line 3"), "{e}");
    assert!(e.contains("truncated") && e.contains("2 complete"), "{e}");
    assert_eq!(list(&fresh, &["--all"]), Vec::<Value>::new());
}

#[test]
fn import_with_unknown_format_name() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 1);
    let before = snapshot(&dir);
    let e = fail(
        &dir,
        &[
            "import",
            "--format",
            "nonsense",
            fixture("weekly-sync.json").to_str().unwrap(),
        ],
        1,
    );
    assert!(e.contains("\"nonsense\""), "{e}");
    for known in ["json", "jsonl", "session-file", "sdk-export", "toon"] {
        assert!(e.contains(known), "{known} missing: {e}");
    }
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn import_of_an_undetectable_file() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 1);
    let before = snapshot(&dir);
    let e = fail(&dir, &["import", fixture("notes.txt").to_str().unwrap()], 1);
    assert!(e.contains("notes.txt"), "{e}");
    assert!(e.contains("--format"), "{e}");
    let unknown_keys = write_json(&dir, "odd.json", &json!({"foo": 1, "bar": [1, 2]}));
    let e = fail(&dir, &["import", unknown_keys.to_str().unwrap()], 1);
    assert!(e.contains("odd.json") && e.contains("foo, bar"), "{e}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn import_of_a_missing_file() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nowhere.json");
    let e = fail(&dir, &["import", missing.to_str().unwrap()], 1);
    assert!(e.contains("nowhere.json"), "{e}");
}

#[test]
fn one_bad_file_keeps_only_itself_out() {
    // Each file is one transaction: the good one is in, the bad one is
    // named with its reason, and the exit code says that some failed.
    let dir = TempDir::new().unwrap();
    let e = run_fail(
        sb(&dir).args([
            "import",
            fixture("weekly-sync.json").to_str().unwrap(),
            fixture("malformed.json").to_str().unwrap(),
        ]),
        1,
    );
    assert!(e.contains("1 of 2 files could not be imported"), "{e}");
    assert!(e.contains("malformed.json") && e.contains("line 3"), "{e}");
    assert_eq!(list(&dir, &["--all"]).len(), 1);
    // With --json the report is still the output, with the failure in it.
    let out = sb(&dir)
        .args([
            "import",
            "--json",
            fixture("weekly-sync.json").to_str().unwrap(),
            fixture("malformed.json").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files_unchanged"], 1);
    assert!(
        report["failed"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("malformed.json")
    );
}

fn config(dir: &TempDir, text: &str) -> PathBuf {
    write(dir, "config.toml", text)
}

#[test]
fn message_over_the_configured_size() {
    let dir = TempDir::new().unwrap();
    let cfg = config(&dir, "[storage]\nmax_message_bytes = 10\n");
    let cfg = cfg.to_str().unwrap();
    new_session(&dir, "chat");
    ok(
        &dir,
        &[
            "--config",
            cfg,
            "add",
            "chat",
            "--role",
            "user",
            "0123456789",
        ],
    );
    let e = fail(
        &dir,
        &[
            "--config",
            cfg,
            "add",
            "chat",
            "--role",
            "user",
            "01234567890",
        ],
        1,
    );
    assert!(e.contains("max_message_bytes"), "{e}");
    assert!(e.contains("11 bytes") && e.contains("10 bytes"), "{e}");
    // Through the environment variable too.
    let stderr = run_fail(
        sb(&dir).env("SCROLLBACK_CONFIG", cfg).args([
            "add",
            "chat",
            "--role",
            "user",
            "a longer message",
        ]),
        1,
    );
    assert!(stderr.contains("max_message_bytes"), "{stderr}");
    assert_eq!(contents(&show(&dir, "chat")), ["0123456789"]);
    // An import holding a large message is refused as a whole.
    let before = snapshot(&dir);
    let e = fail(
        &dir,
        &[
            "--config",
            cfg,
            "import",
            fixture("weekly-sync.json").to_str().unwrap(),
        ],
        1,
    );
    assert!(
        e.contains("max_message_bytes") && e.contains("weekly-sync.json"),
        "{e}"
    );
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn config_with_unknown_key_warns_and_goes_on() {
    let dir = TempDir::new().unwrap();
    let cfg = config(
        &dir,
        "[storage]\ncolour = \"red\"\n\n[cleanup]\nprotected_tags = [\"pinned\"]\n",
    );
    session_with(&dir, "a", 1);
    let out = sb(&dir)
        .args(["--config", cfg.to_str().unwrap(), "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("scrollback: warning: "), "{stderr}");
    assert!(stderr.contains("storage.colour"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(names(v.as_array().unwrap()), ["a"]);
    // The known key of the same file is applied: `pinned` now protects, `keep` does not.
    ok(&dir, &["tag", "a", "pinned"]);
    new_session(&dir, "b");
    ok(&dir, &["tag", "b", "keep"]);
    let plan = run_ok(sb(&dir).args([
        "--config",
        cfg.to_str().unwrap(),
        "cleanup",
        "--older-than",
        "2099-01-01",
        "--trash",
        "--dry-run",
        "--json",
    ]));
    let plan: Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(names(plan["sessions"].as_array().unwrap()), ["b"]);
}

#[test]
fn config_given_but_missing_is_an_error() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("absent.toml");
    let e = fail(&dir, &["--config", missing.to_str().unwrap(), "list"], 1);
    assert!(e.contains("absent.toml"), "{e}");
    let bad = config(&dir, "[storage\nmax_message_bytes = 1\n");
    let e = fail(&dir, &["--config", bad.to_str().unwrap(), "list"], 1);
    assert!(e.contains("config.toml") && e.contains("line 1"), "{e}");
}

#[test]
fn database_from_a_newer_version() {
    let dir = TempDir::new().unwrap();
    session_with(&dir, "a", 1);
    {
        let conn = rusqlite::Connection::open(db(&dir)).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    let bytes = fs::read(db(&dir)).unwrap();
    for args in [&["list"][..], &["new", "b"], &["doctor"]] {
        let e = fail(&dir, args, 1);
        assert!(e.contains("newer"), "{e}");
        assert!(e.contains("999"), "{e}");
        assert!(e.contains("scrollback.db"), "{e}");
    }
    assert_eq!(
        fs::read(db(&dir)).unwrap(),
        bytes,
        "the file is not changed"
    );
}

#[test]
fn corrupt_database_is_left_untouched() {
    let dir = TempDir::new().unwrap();
    fs::create_dir_all(db(&dir).parent().unwrap()).unwrap();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| u8::try_from((i * 31 + 7) % 251).unwrap())
        .collect();
    fs::write(db(&dir), &garbage).unwrap();
    for args in [&["list"][..], &["doctor"], &["new", "x"]] {
        let e = fail(&dir, args, 1);
        assert!(e.contains("recover"), "{e}");
        assert!(e.contains("scrollback.db"), "{e}");
    }
    assert!(db(&dir).exists());
    assert_eq!(fs::read(db(&dir)).unwrap(), garbage);
}

// ---------------------------------------------------------------------------
// Seed formats
// ---------------------------------------------------------------------------

#[test]
fn import_session_module_file() {
    let dir = TempDir::new().unwrap();
    let report = import(&dir, &fixture("research-notes.json"));
    assert_eq!(report["files"], 1);
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(report["messages_added"], 3);
    let s = show(&dir, "research-notes");
    assert_eq!(s["source"], "session-file");
    assert_eq!(s["message_count"], 3);
    let roles: Vec<&str> = s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant"],
        "the `function` message is skipped"
    );
    assert_eq!(s["messages"][1]["created_at"], "2026-03-01T10:00:00Z");
    assert_eq!(s["messages"][2]["model"], "gpt-4o");
    assert!(contents(&s)[2].starts_with("Barnacles"));
    assert_eq!(s["metadata"]["topic"], "x");
    assert_eq!(
        report["skipped"], 1,
        "the `function` message is counted as skipped"
    );
    assert!(
        s["source_ref"]
            .as_str()
            .unwrap()
            .ends_with("research-notes.json")
    );

    // Again: nothing new, and the file, unchanged, is not even read.
    let again = import(&dir, &fixture("research-notes.json"));
    assert_eq!(again["sessions_added"], 0);
    assert_eq!(again["messages_added"], 0);
    assert_eq!(again["files_unchanged"], 1);
    let out = ok(
        &dir,
        &["import", fixture("research-notes.json").to_str().unwrap()],
    );
    assert!(
        out.starts_with("imported 0 new sessions (0 messages) from 0 files")
            && out.contains("1 files unchanged since the last import, not read"),
        "{out}"
    );
    assert_eq!(list(&dir, &["--all"]).len(), 1);
}

#[test]
fn reimport_of_a_grown_session_file_adds_only_new_messages() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("diary.json");
    let mut doc = json!({"messages": [{"role": "user", "content": "day one"}], "metadata": {}});
    fs::write(&file, doc.to_string()).unwrap();
    import(&dir, &file);
    doc["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "assistant", "content": "day two"}));
    fs::write(&file, doc.to_string()).unwrap();
    let report = import(&dir, &file);
    assert_eq!(report["sessions_added"], 0);
    assert_eq!(report["sessions_grown"], 1);
    assert_eq!(report["messages_added"], 1);
    assert_eq!(contents(&show(&dir, "diary")), ["day one", "day two"]);
}

#[test]
fn import_sdk_export_and_new_id() {
    let dir = TempDir::new().unwrap();
    import(&dir, &fixture("weekly-sync.json"));
    let s = show(&dir, "sdk-123");
    assert_eq!(s["uid"], "sdk-123");
    assert_eq!(s["name"], "weekly-sync-notes");
    assert_eq!(s["title"], "Weekly Sync Notes");
    assert_eq!(s["source"], "sdk-export");
    assert_eq!(s["source_ref"], "sdk-123");
    assert_eq!(s["created_at"], "2026-02-01T09:00:00Z");
    assert_eq!(s["updated_at"], "2026-02-01T09:00:09Z");
    assert_eq!(s["message_count"], 2);
    assert_eq!(s["messages"][1]["model"], "claude-sonnet");

    assert_eq!(
        import(&dir, &fixture("weekly-sync.json"))["sessions_added"],
        0
    );
    let report = ok_json(
        &dir,
        &[
            "import",
            "--new-id",
            "--json",
            fixture("weekly-sync.json").to_str().unwrap(),
        ],
    );
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(
        report["renamed"],
        json!([{"from": "weekly-sync-notes", "to": "weekly-sync-notes-2"}])
    );
    let all = list(&dir, &["--sort", "name"]);
    assert_eq!(names(&all), ["weekly-sync-notes", "weekly-sync-notes-2"]);
    assert_ne!(all[0]["uid"], all[1]["uid"]);
    assert_ne!(all[1]["uid"], "sdk-123");
    assert!(all[1]["source_ref"].is_null());
    assert_eq!(contents(&show(&dir, "weekly-sync-notes-2")), contents(&s));
}

#[test]
fn import_toon_as_json_and_as_toon() {
    let dir = TempDir::new().unwrap();
    let report = ok_json(
        &dir,
        &[
            "import",
            "--json",
            fixture("greeting.toon").to_str().unwrap(),
            fixture("tabular.toon").to_str().unwrap(),
        ],
    );
    assert_eq!(report["files"], 2);
    assert_eq!(report["sessions_added"], 2);
    assert_eq!(report["messages_added"], 3);

    let g = show(&dir, "greeting");
    assert_eq!(g["source"], "toon");
    assert_eq!(g["source_ref"], "t-1");
    assert_eq!(g["created_at"], "2026-03-15T12:00:00Z");
    assert_eq!(contents(&g), ["hi"]);

    let t = show(&dir, "tabular");
    assert_eq!(t["source_ref"], "t-2");
    assert_eq!(t["created_at"], "2026-04-01T08:00:00Z");
    assert_eq!(contents(&t), ["Hello, TOON", "Hi there"]);
    let roles: Vec<&str> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant"]);
}

#[test]
fn import_toon_with_unknown_role_skips_it() {
    let dir = TempDir::new().unwrap();
    let file = write(
        &dir,
        "tools.toon",
        "session_id: t-3\ncreated_at: 2026-04-02T08:00:00Z\nmessages[3]{role,content}:\n  user,run it\n  function,\"{}\"\n  assistant,done\n",
    );
    let report = import(&dir, &file);
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(report["messages_added"], 2);
    let s = show(&dir, "tools");
    assert_eq!(contents(&s), ["run it", "done"]);
    assert_eq!(report["skipped"], 1);
}

#[test]
fn import_report_counts_skipped_messages() {
    let dir = TempDir::new().unwrap();
    let report = import(&dir, &fixture("research-notes.json"));
    assert_eq!(report["skipped"], 1);
}

#[test]
fn import_toon_with_a_bad_row_names_the_line() {
    let dir = TempDir::new().unwrap();
    let file = write(
        &dir,
        "bad.toon",
        "session_id: t-9\nmessages[2]{role,content}:\n  user,hi\n  assistant\n",
    );
    let e = fail(&dir, &["import", file.to_str().unwrap()], 1);
    assert!(e.contains("bad.toon") && e.contains("line 4"), "{e}");
    assert_eq!(list(&dir, &["--all"]), Vec::<Value>::new());
}

#[test]
fn import_report_json_shape() {
    let dir = TempDir::new().unwrap();
    let report = import(&dir, &fixture("weekly-sync.json"));
    let obj = report.as_object().unwrap();
    for key in [
        "files",
        "sessions_added",
        "sessions_grown",
        "sessions_unchanged",
        "messages_added",
        "skipped",
        "renamed",
    ] {
        assert!(obj.contains_key(key), "missing {key}: {report}");
    }
    assert_eq!(
        report,
        json!({"files": 1, "sessions_added": 1, "branches_added": 0, "files_unchanged": 0,
               "bytes_read": std::fs::metadata(fixture("weekly-sync.json")).unwrap().len(),
               "sessions_grown": 0, "sessions_unchanged": 0,
               "messages_added": 2, "skipped": 0, "renamed": [], "truncated": null,
               "per_file": [{"path": fixture("weekly-sync.json").display().to_string(),
                             "format": "sdk-export", "sessions_new": 1, "branches": 0,
                             "sessions_grown": 0, "sessions_unchanged": 0, "messages": 2}]})
    );
    // The same file again, unchanged, is not read.
    let again = import(&dir, &fixture("weekly-sync.json"));
    assert_eq!(again["files_unchanged"], 1, "{again}");
    assert_eq!(again["files"], 0, "{again}");
    assert_eq!(again["bytes_read"], 0, "{again}");
    assert_eq!(again["per_file"][0]["unchanged_file"], true, "{again}");
}

#[test]
fn a_folder_with_no_session_files_is_an_error() {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("notes");
    fs::create_dir_all(folder.join("deeper")).unwrap();
    fs::write(folder.join("readme.txt"), "not a session").unwrap();
    let e = fail(&dir, &["import", folder.to_str().unwrap()], 1);
    assert!(
        e.contains("notes") && e.contains("no session files in it"),
        "{e}"
    );
    assert_eq!(list(&dir, &["--all"]), Vec::<Value>::new());
}

#[test]
fn files_of_a_tools_folder_that_are_not_sessions_are_left_with_a_note() {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("tool-home");
    fs::create_dir_all(&folder).unwrap();
    fs::write(
        folder.join("settings.json"),
        r#"{"theme": "dark", "editor": "vim"}"#,
    )
    .unwrap();
    // Only files that are not sessions: the folder is refused, naming them.
    let e = fail(&dir, &["import", folder.to_str().unwrap()], 1);
    assert!(
        e.contains("no session files in it") && e.contains("settings.json"),
        "{e}"
    );
    // Beside a session file: the session comes in, the other is noted.
    fs::copy(fixture("weekly-sync.json"), folder.join("weekly-sync.json")).unwrap();
    let out = sb(&dir)
        .args(["import", "--json", folder.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sessions_added"], 1, "{report}");
    let notes = report["skipped_files"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{report}");
    assert!(
        notes[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("settings.json")
    );
    assert!(
        notes[0]["reason"].as_str().unwrap().starts_with(
            "not a session file of a tool scrollback reads (top-level keys: theme, editor)"
        ),
        "{report}"
    );
    // Named, the same file is an error.
    let e = fail(
        &dir,
        &["import", folder.join("settings.json").to_str().unwrap()],
        1,
    );
    assert!(e.contains("cannot tell which tool wrote this file"), "{e}");
}

#[test]
fn import_a_directory_with_explicit_format() {
    let dir = TempDir::new().unwrap();
    let sub = dir.path().join("in");
    fs::create_dir(&sub).unwrap();
    fs::copy(fixture("research-notes.json"), sub.join("a.json")).unwrap();
    fs::copy(fixture("research-notes.json"), sub.join("b.json")).unwrap();
    fs::write(sub.join("ignored.txt"), "not a session").unwrap();
    let report = ok_json(
        &dir,
        &[
            "import",
            "--json",
            "--format",
            "session-file",
            sub.to_str().unwrap(),
        ],
    );
    assert_eq!(report["files"], 2);
    assert_eq!(report["sessions_added"], 2);
    let mut got = list_names(&dir, &[]);
    got.sort();
    assert_eq!(got, ["a", "b"]);
}

#[test]
fn import_name_clash_gets_a_suffix() {
    let dir = TempDir::new().unwrap();
    new_session(&dir, "research-notes");
    let report = import(&dir, &fixture("research-notes.json"));
    assert_eq!(
        report["renamed"],
        json!([{"from": "research-notes", "to": "research-notes-2"}])
    );
    assert_eq!(show(&dir, "research-notes-2")["message_count"], 3);
    assert_eq!(show(&dir, "research-notes")["message_count"], 0);
}

// ---------------------------------------------------------------------------
// --demo and file permissions
// ---------------------------------------------------------------------------

#[test]
fn demo_lists_the_bundled_sessions_and_writes_nothing() {
    let demo_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let mut expected = BTreeSet::new();
    let mut live = 0;
    for entry in fs::read_dir(&demo_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let doc: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
            expected.insert(doc["name"].as_str().unwrap().to_string());
            if doc["archived_at"].is_null() && doc["trashed_at"].is_null() {
                live += 1;
            }
        }
    }
    assert!(
        !expected.is_empty(),
        "no demo files in {}",
        demo_dir.display()
    );

    let dir = TempDir::new().unwrap();
    let all = list(&dir, &["--demo", "--all"]);
    let got: BTreeSet<String> = names(&all).into_iter().collect();
    assert_eq!(got, expected);
    assert_eq!(all.len(), expected.len());
    assert_eq!(list(&dir, &["--demo"]).len(), live);
    // Changes are made in memory only.
    ok(&dir, &["--demo", "new", "scratch"]);
    assert!(!db(&dir).exists(), "--demo wrote {}", db(&dir).display());
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "--demo wrote files: {left:?}");
    assert!(!list_names(&dir, &["--demo", "--all"]).contains(&"scratch".to_string()));
}

#[cfg(unix)]
#[test]
fn database_directory_and_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    new_session(&dir, "secret");
    let path = db(&dir);
    let dir_mode = fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    let file_mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700, "directory mode {dir_mode:o}");
    assert_eq!(file_mode, 0o600, "file mode {file_mode:o}");
}

#[cfg(unix)]
#[test]
fn nested_missing_directories_are_all_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("a").join("b").join("s.db");
    run_ok(sb_isolated(&dir).args(["--db", path.to_str().unwrap(), "new", "x"]));
    for d in [dir.path().join("a"), dir.path().join("a").join("b")] {
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700,
            "{}",
            d.display()
        );
    }
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn db_from_the_environment_and_data_dir() {
    let dir = TempDir::new().unwrap();
    let env_db = dir.path().join("env").join("s.db");
    run_ok(
        sb_isolated(&dir)
            .env("SCROLLBACK_DB", &env_db)
            .args(["new", "via-env"]),
    );
    assert!(env_db.exists());
    let v: Value = serde_json::from_str(&run_ok(
        sb_isolated(&dir)
            .env("SCROLLBACK_DB", &env_db)
            .args(["list", "--json"]),
    ))
    .unwrap();
    assert_eq!(names(v.as_array().unwrap()), ["via-env"]);
    // Without --db or SCROLLBACK_DB, the XDG data directory is used.
    run_ok(sb_isolated(&dir).args(["new", "via-xdg"]));
    assert!(
        dir.path()
            .join("data")
            .join("scrollback")
            .join("scrollback.db")
            .exists()
    );
    // SCROLLBACK_DATA_DIR overrides it.
    let data = dir.path().join("elsewhere");
    run_ok(
        sb_isolated(&dir)
            .env("SCROLLBACK_DATA_DIR", &data)
            .args(["new", "via-data-dir"]),
    );
    assert!(data.join("scrollback.db").exists());
}

// ---------------------------------------------------------------------------
// More import errors, and bugs found while writing these tests
// ---------------------------------------------------------------------------

#[test]
fn import_jsonl_error_names_line_and_session() {
    let dir = TempDir::new().unwrap();
    let text = [
        json!({"uid": "j-1", "name": "fine", "messages": [{"role": "user", "content": "ok"}]}),
        json!({"uid": "j-2", "name": "bad/name", "messages": []}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let file = write(&dir, "two.jsonl", &text);
    let e = fail(&dir, &["import", file.to_str().unwrap()], 1);
    assert!(e.contains("two.jsonl"), "{e}");
    assert!(e.contains("line 2"), "{e}");
    assert!(e.contains("bad/name") && e.contains("invalid name"), "{e}");
    assert_eq!(list(&dir, &["--all"]), Vec::<Value>::new());
}

#[test]
fn import_message_without_role_is_refused() {
    let dir = TempDir::new().unwrap();
    let file = write_json(
        &dir,
        "norole.json",
        &json!([{"uid": "r-1", "name": "norole", "messages": [{"role": "user", "content": "a"}, {"content": "b"}]}]),
    );
    let e = fail(&dir, &["import", file.to_str().unwrap()], 1);
    assert!(
        e.contains("norole.json") && e.contains("#1") && e.contains("role"),
        "{e}"
    );
    assert_eq!(list(&dir, &["--all"]), Vec::<Value>::new());
}

#[test]
fn an_export_of_an_empty_store_is_refused_on_import() {
    // A file named on the command line with no session in it is an error
    // (it is more likely the wrong file than an intended no-op).
    let dir = TempDir::new().unwrap();
    let array_file = write(&dir, "empty.json", &ok(&dir, &["export", "--all"]));
    let lines_file = write(
        &dir,
        "empty.jsonl",
        &ok(&dir, &["export", "--all", "--format", "jsonl"]),
    );
    for file in [array_file, lines_file] {
        let e = fail(&dir, &["import", file.to_str().unwrap()], 1);
        assert!(e.contains("no sessions"), "{e}");
    }
    assert_eq!(list(&dir, &["--all"]), Vec::<Value>::new());
}

#[test]
fn meta_value_containing_colon_equals() {
    let dir = TempDir::new().unwrap();
    new_session(&dir, "s");
    ok(&dir, &["meta", "s", "formula=a:=b+1"]);
    assert_eq!(show(&dir, "s")["metadata"], json!({"formula": "a:=b+1"}));
}

#[test]
fn reimport_of_a_session_file_by_another_path_adds_nothing() {
    let dir = TempDir::new().unwrap();
    import(&dir, &fixture("research-notes.json"));
    let other = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/../fixtures/cli/research-notes.json");
    let report = import(&dir, &other);
    assert_eq!(report["sessions_added"], 0);
    assert_eq!(list(&dir, &["--all"]).len(), 1);
}

#[test]
fn show_never_prints_escape_sequences_from_a_session() {
    let dir = TempDir::new().unwrap();
    sb(&dir)
        .args(["new", "esc", "--title", "t\u{1b}]0;pwned\u{7}"])
        .assert()
        .success();
    sb(&dir)
        .args([
            "add",
            "esc",
            "--role",
            "user",
            "a\u{1b}[2Jb\rc\u{9b}31md\te",
        ])
        .assert()
        .success();
    let out = sb(&dir).args(["show", "esc"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{text:?}"
    );
    assert!(
        text.contains("a\u{FFFD}[2Jb\u{FFFD}c\u{FFFD}31md\te"),
        "{text:?}"
    );
    // JSON keeps the content exactly.
    let s = show(&dir, "esc");
    assert_eq!(s["messages"][0]["content"], "a\u{1b}[2Jb\rc\u{9b}31md\te");
}

#[test]
fn an_error_says_each_cause_once_and_names_the_users_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let e = fail(&dir, &["import", missing.to_str().unwrap()], 1);
    assert_eq!(e.matches("os error 2").count(), 1, "{e}");
    assert!(e.contains("missing.json"), "{e}");
    let to = dir.path().join("no-dir").join("out.json");
    let e = fail(&dir, &["export", "--all", "-o", to.to_str().unwrap()], 1);
    assert_eq!(e.matches("os error 2").count(), 1, "{e}");
    assert!(
        e.contains("no-dir/out.json"),
        "the path given, not a temporary one: {e}"
    );
    assert!(!e.contains("partial"), "{e}");
}

#[test]
fn a_time_without_a_zone_means_the_same_to_list_and_to_search() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("early.json");
    std::fs::write(
        &file,
        r#"[{"name": "early", "created_at": "2026-01-01T05:00:00Z", "updated_at": "2026-01-01T05:00:00Z",
            "messages": [{"role": "user", "content": "quokka", "created_at": "2026-01-01T05:00:00Z"}]}]"#,
    )
    .unwrap();
    ok(&dir, &["import", file.to_str().unwrap()]);
    // 10:00 UTC, not midnight: the session of 05:00 is older than it...
    let older = ok(&dir, &["list", "--older-than", "2026-01-01T10:00:00"]);
    assert!(older.contains("early"), "{older}");
    // ... and its message is not after it, but after 04:00.
    let none = ok(&dir, &["search", "quokka after:2026-01-01T10:00:00"]);
    assert!(!none.contains("early"), "{none}");
    let some = ok(&dir, &["search", "quokka after:2026-01-01T04:00:00"]);
    assert!(some.contains("early"), "{some}");
    let e = fail(&dir, &["list", "--older-than", "2026-01-01Tnoon"], 1);
    assert!(e.contains("invalid time"), "{e}");
    let e = run_fail(sb(&dir).args(["search", "quokka after:2026-01-01Tnoon"]), 1);
    assert!(e.contains("invalid time"), "{e}");
}

#[test]
fn stats_count_messages_per_role_for_the_whole_store() {
    let dir = tempfile::tempdir().unwrap();
    ok(&dir, &["new", "a"]);
    ok(&dir, &["add", "a", "--role", "user", "q"]);
    ok(&dir, &["add", "a", "--role", "assistant", "r"]);
    ok(&dir, &["new", "b"]);
    ok(&dir, &["add", "b", "--role", "user", "q2"]);
    let st = ok_json(&dir, &["stats", "--json"]);
    assert_eq!(
        st["roles"],
        serde_json::json!([{"name": "user", "count": 2}, {"name": "assistant", "count": 1}])
    );
    assert!(ok(&dir, &["stats"]).contains("roles: user (2), assistant (1)"));
}

#[test]
fn errors_and_long_jobs_go_to_the_log_file_not_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = db(&dir).with_file_name("scrollback.log");
    let out = sb(&dir).args(["show", "nothing-here"]).output().unwrap();
    assert!(!out.status.success());
    ok(&dir, &["new", "a"]);
    let file = dir.path().join("d.json");
    ok(
        &dir,
        &["--demo", "export", "--all", "-o", file.to_str().unwrap()],
    );
    ok(&dir, &["import", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("ERROR") && text.contains("nothing-here"),
        "{text}"
    );
    assert!(
        text.contains("import done") && text.contains("sessions_added=12"),
        "{text}"
    );
    assert!(
        text.contains("command=\"import\"") && text.contains("finished"),
        "{text}"
    );
    // Nothing of it on the terminal: stderr has the one error line only.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // log.level = off: no file.
    let quiet = tempfile::tempdir().unwrap();
    let cfg = quiet.path().join("c.toml");
    std::fs::write(&cfg, "[log]\nlevel = \"off\"\n").unwrap();
    let out = sb(&quiet)
        .arg("--config")
        .arg(&cfg)
        .args(["new", "b"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!db(&quiet).with_file_name("scrollback.log").exists());
}

#[test]
fn the_memory_backend_writes_nothing_and_a_named_database_wins() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("memory.toml");
    fs::write(&config, "[storage]\nbackend = \"memory\"\n").unwrap();
    let before: BTreeSet<PathBuf> = walk_files(dir.path());
    // No --db: every command starts from an empty store in memory.
    let out = sb_isolated(&dir)
        .arg("--config")
        .arg(&config)
        .args(["new", "scratch"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("created scratch"));
    let listed = sb_isolated(&dir)
        .arg("--config")
        .arg(&config)
        .args(["list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let listed: Value = serde_json::from_slice(&listed).unwrap();
    assert_eq!(listed, json!([]));
    assert_eq!(walk_files(dir.path()), before, "nothing is written");
    // A database named on the command line is opened all the same.
    let db = dir.path().join("named.db");
    sb_isolated(&dir)
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["new", "kept"])
        .assert()
        .success();
    assert!(db.exists());
}

fn walk_files(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p);
        }
    }
    out
}
