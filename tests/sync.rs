//! `sources`, `sync` and `watch` through the real binary, on a home of the
//! test's own holding every tool's session folder: a first sync, a sync
//! with nothing new (no file opened), live files that grow, files
//! rewritten, cut short and deleted, a source folder removed, a file that
//! cannot be read, two syncs at once, and `watch` picking up a line a tool
//! appends.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

const CLAUDE_SID: &str = "5c5c5c5c-0000-4000-8000-000000000001";
const CODEX_ID: &str = "0199a1b2-0000-7000-8000-0000000000c1";

struct Machine {
    _dir: tempfile::TempDir,
    home: PathBuf,
    db: PathBuf,
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(rel)
}

/// A Claude Code line of the live session.
fn claude_line(uuid: &str, parent: Option<&str>, kind: &str, text: &str, n: i64) -> String {
    let message = if kind == "user" {
        json!({"role": "user", "content": text})
    } else {
        json!({"id": format!("msg_{uuid}"), "model": "claude-sonnet-4-5", "role": "assistant",
               "content": [{"type": "text", "text": text}]})
    };
    json!({"parentUuid": parent, "isSidechain": false, "type": kind, "sessionId": CLAUDE_SID,
           "cwd": "/home/dev/app", "version": "2.1.0", "gitBranch": "main", "uuid": uuid,
           "message": message,
           "timestamp": jiff::Timestamp::from_second(1_760_000_000 + n).unwrap().to_string()})
    .to_string()
}

impl Machine {
    /// Every tool's folder, each with a session or two.
    fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let db = dir.path().join("store.db");
        let h = Machine {
            home: home.clone(),
            db,
            _dir: dir,
        };
        // Claude Code: a project of the fixtures, and a live session.
        let project = home.join(".claude/projects/-home-ana-proj");
        std::fs::create_dir_all(&project).unwrap();
        for f in std::fs::read_dir(fixture("claude-code/project/-home-ana-proj")).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "jsonl") {
                std::fs::copy(&f, project.join(f.file_name().unwrap())).unwrap();
            }
        }
        std::fs::write(
            home.join(".claude/settings.json"),
            "{\"theme\": \"dark\"}\n",
        )
        .unwrap();
        let live = h.live();
        std::fs::create_dir_all(live.parent().unwrap()).unwrap();
        let mut text = String::new();
        text.push_str(&claude_line(
            "live-u1",
            None,
            "user",
            "Where is the config read?",
            1,
        ));
        text.push('\n');
        text.push_str(&claude_line(
            "live-a1",
            Some("live-u1"),
            "assistant",
            "In config.rs.",
            2,
        ));
        text.push('\n');
        std::fs::write(&live, text).unwrap();
        // Codex: a rollout in its dated folder.
        let codex = home.join(".codex/sessions/2025/10/01");
        std::fs::create_dir_all(&codex).unwrap();
        std::fs::copy(
            fixture("codex/newer.jsonl"),
            codex.join(format!("rollout-2025-10-01T10-00-00-{CODEX_ID}.jsonl")),
        )
        .unwrap();
        // Gemini CLI.
        let gemini = home.join(".gemini/tmp/4f1a/chats");
        std::fs::create_dir_all(&gemini).unwrap();
        std::fs::copy(
            fixture("gemini/session-2025-10-01T09-00-7f3c2a10.jsonl"),
            gemini.join("session-2025-10-01T09-00-7f3c2a10.jsonl"),
        )
        .unwrap();
        // llm's logs.db.
        let llm = home.join("config/io.datasette.llm");
        std::fs::create_dir_all(&llm).unwrap();
        let c = rusqlite::Connection::open(llm.join("logs.db")).unwrap();
        c.execute_batch(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY, name TEXT, model TEXT);
             CREATE TABLE responses (id TEXT PRIMARY KEY, model TEXT, prompt TEXT, system TEXT,
               prompt_json TEXT, options_json TEXT, response TEXT, response_json TEXT,
               conversation_id TEXT, duration_ms INTEGER, datetime_utc TEXT,
               input_tokens INTEGER, output_tokens INTEGER, token_details TEXT);
             INSERT INTO conversations VALUES ('01jsync1aaaaaaaaaaaaaaaaaa', 'Pelicans', 'gpt-4o-mini');
             INSERT INTO responses (id, model, prompt, response, conversation_id, datetime_utc)
               VALUES ('01jr1', 'gpt-4o-mini', 'Name a pelican', 'Percy.',
                       '01jsync1aaaaaaaaaaaaaaaaaa', '2025-05-01T10:00:00');",
        )
        .unwrap();
        drop(c);
        h.settle();
        h
    }

    fn live(&self) -> PathBuf {
        self.home
            .join(".claude/projects/-home-dev-app")
            .join(format!("{CLAUDE_SID}.jsonl"))
    }

    /// Every file as if written an hour ago: what a sync remembers of a
    /// file it read just after it was written is looked at again.
    fn settle(&self) {
        let then = SystemTime::now() - Duration::from_hours(1);
        for f in files(&self.home) {
            let file = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
            file.set_modified(then).unwrap();
        }
    }

    fn cmd(&self) -> std::process::Command {
        common::scrollback_on(&self.home, &self.db)
    }

    /// `sync --json`: success, the report, stderr.
    fn sync(&self) -> (bool, Value, String) {
        let out = self.cmd().args(["sync", "--json"]).output().unwrap();
        (
            out.status.success(),
            serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn sync_ok(&self) -> Value {
        let (ok, r, err) = self.sync();
        assert!(ok, "sync failed: {err}\n{r}");
        r
    }

    fn list(&self) -> Vec<Value> {
        let out = self
            .cmd()
            .args(["list", "--json", "--all"])
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// (source, name, message count) of every session, sorted.
    fn shape(&self) -> Vec<(String, String, u64)> {
        let mut v: Vec<(String, String, u64)> = self
            .list()
            .iter()
            .map(|s| {
                (
                    s["source"].as_str().unwrap().to_string(),
                    s["name"].as_str().unwrap().to_string(),
                    s["message_count"].as_u64().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    fn contents(&self, name: &str) -> Vec<String> {
        let out = self.cmd().args(["show", "--json", name]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    }
}

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn live_session_name(h: &Machine) -> String {
    h.list()
        .iter()
        .find(|s| s["source_ref"] == CLAUDE_SID)
        .map(|s| s["name"].as_str().unwrap().to_string())
        .unwrap()
}

/// The tools of `sources --json`, in order.
fn tools_of(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["tool"].as_str().unwrap())
        .collect()
}

#[test]
fn sources_lists_every_tools_folder_with_what_is_new() {
    let h = Machine::new();
    let out = h.cmd().args(["sources", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tools = tools_of(&v);
    assert_eq!(tools, ["claude-code", "codex", "gemini", "llm"]);
    let claude = &v[0];
    // The project's four transcripts and the live session.
    assert_eq!(claude["files"], 5, "{claude}");
    assert_eq!(claude["new"], 5, "{claude}");
    assert_eq!(claude["sessions"], 0);
    h.sync_ok();
    let out = h.cmd().args(["sources", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for s in v.as_array().unwrap() {
        assert_eq!(
            (s["new"].as_u64(), s["changed"].as_u64()),
            (Some(0), Some(0)),
            "{s}"
        );
        assert!(s["sessions"].as_u64().unwrap() >= 1, "{s}");
    }
    // After an append, the live file is the one changed.
    append(
        &h.live(),
        &[claude_line(
            "live-u2",
            Some("live-a1"),
            "user",
            "And the env?",
            3,
        )],
    );
    let out = h.cmd().args(["sources", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["changed"], 1, "{}", v[0]);
    // The text form names the folders.
    let out = h.cmd().arg("sources").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(".codex/sessions") && text.contains("1 changed"),
        "{text}"
    );
    // The config adds a folder and leaves a tool out.
    let extra = h.home.join("agent-logs");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::copy(fixture("codex/older.jsonl"), extra.join("older.jsonl")).unwrap();
    let config = h.home.join("sb.toml");
    std::fs::write(
        &config,
        format!(
            "[sync]\npaths = [{:?}]\nexclude = [\"gemini\"]\n",
            extra.display().to_string()
        ),
    )
    .unwrap();
    let out = h
        .cmd()
        .arg("--config")
        .arg(&config)
        .args(["sources", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tools = tools_of(&v);
    assert_eq!(tools, ["claude-code", "codex", "llm", "config"]);
}

#[test]
fn a_sync_with_nothing_new_opens_no_file() {
    let h = Machine::new();
    let first = h.sync_ok();
    assert!(first["sessions_added"].as_u64().unwrap() >= 6, "{first}");
    assert!(first["bytes_read"].as_u64().unwrap() > 0);
    let shape = h.shape();
    for source in ["claude-code", "codex", "gemini", "llm"] {
        assert!(shape.iter().any(|s| s.0 == source), "{source}: {shape:?}");
    }
    let again = h.sync_ok();
    assert_eq!(again["bytes_read"], 0, "{again}");
    assert_eq!(again["files"], 0, "{again}");
    assert_eq!(again["messages_added"], 0, "{again}");
    assert_eq!(h.shape(), shape);
    // With no file readable, the sync still succeeds: it opened none.
    let all = files(&h.home);
    let sessions: Vec<&PathBuf> = all
        .iter()
        .filter(|p| !p.starts_with(h.home.join("config/scrollback")))
        .collect();
    for p in &sessions {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let unreadable = std::fs::read(sessions[0]).is_err(); // not when run as root
    let (ok, r, err) = h.sync();
    for p in &sessions {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    if unreadable {
        assert!(ok, "{err}\n{r}");
        assert_eq!(r["bytes_read"], 0);
    }
}

#[test]
fn live_files_that_grow_are_read_from_where_the_last_sync_stopped() {
    let h = Machine::new();
    h.sync_ok();
    let name = live_session_name(&h);
    let lines = [
        claude_line(
            "live-u2",
            Some("live-a1"),
            "user",
            "And the environment?",
            3,
        ),
        claude_line(
            "live-a2",
            Some("live-u2"),
            "assistant",
            "SCROLLBACK_CONFIG wins.",
            4,
        ),
    ];
    append(&h.live(), &lines);
    let appended: usize = lines.iter().map(|l| l.len() + 1).sum();
    let r = h.sync_ok();
    assert_eq!(r["read_on"], 1, "{r}");
    assert_eq!(r["bytes_read"], appended as u64, "{r}");
    assert_eq!(r["messages_added"], 2, "{r}");
    assert_eq!(
        h.contents(&name),
        [
            "Where is the config read?",
            "In config.rs.",
            "And the environment?",
            "SCROLLBACK_CONFIG wins."
        ]
    );
    // A line still being written is left for the next sync.
    let next = claude_line("live-u3", Some("live-a2"), "user", "Thanks!", 5);
    let (head, rest) = next.split_at(40);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(h.live())
        .unwrap();
    write!(f, "{head}").unwrap();
    f.flush().unwrap();
    let r = h.sync_ok();
    assert_eq!(r["messages_added"], 0, "{r}");
    writeln!(f, "{rest}").unwrap();
    drop(f);
    let r = h.sync_ok();
    assert_eq!(r["messages_added"], 1, "{r}");
    assert_eq!(h.contents(&name).last().unwrap(), "Thanks!");
    // A Codex rollout grows too: read on from where it stopped.
    let codex = files(&h.home.join(".codex")).pop().unwrap();
    let before = h.shape();
    let line = json!({"timestamp": "2025-10-01T10:09:00.000Z", "type": "response_item",
        "payload": {"type": "message", "role": "user",
        "content": [{"type": "input_text", "text": "one more question"}]}})
    .to_string();
    append(&codex, std::slice::from_ref(&line));
    let r = h.sync_ok();
    assert_eq!(r["messages_added"], 1, "{r}");
    assert_eq!(r["sessions_added"], 0, "{r}");
    // Only the new line is read (the live Claude Code file, just written,
    // is looked at again too, and has nothing new).
    assert_eq!(r["bytes_read"], line.len() as u64 + 1, "{r}");
    let after = h.shape();
    let grown: Vec<_> = before.iter().zip(&after).filter(|(a, b)| a != b).collect();
    assert_eq!(grown.len(), 1, "{grown:?}");
    assert_eq!(grown[0].0.0, "codex");
    assert_eq!(grown[0].1.2, grown[0].0.2 + 1);
}

#[test]
fn rewritten_cut_and_deleted_files_lose_nothing_and_double_nothing() {
    let h = Machine::new();
    h.sync_ok();
    let name = live_session_name(&h);
    let original = std::fs::read(h.live()).unwrap();
    let shape = h.shape();
    // Cut short in place (same file, fewer bytes): the store keeps what it has.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(h.live())
        .unwrap();
    f.set_len(original.len() as u64 / 2).unwrap();
    drop(f);
    let (_, r, _) = h.sync();
    assert_eq!(r["messages_added"], 0, "{r}");
    assert_eq!(h.shape(), shape);
    // Written back whole: nothing doubled.
    std::fs::write(h.live(), &original).unwrap();
    h.sync_ok();
    assert_eq!(h.shape(), shape);
    // Rewritten under a new inode with one line changed in the middle
    // (the tool rewrote its history): the stored session is kept and the
    // new path comes in beside it, never over it.
    let tmp = h.live().with_extension("tmp");
    let text = String::from_utf8(original.clone()).unwrap();
    std::fs::write(&tmp, text.replace("In config.rs.", "In settings.rs.")).unwrap();
    std::fs::rename(&tmp, h.live()).unwrap();
    h.sync_ok();
    assert_eq!(
        h.contents(&name),
        ["Where is the config read?", "In config.rs."]
    );
    // Deleted by its tool: what the store has of it stays.
    std::fs::remove_file(h.live()).unwrap();
    let r = h.sync_ok();
    assert_eq!(r["failed"], Value::Null, "{r}");
    assert_eq!(h.contents(&name).len(), 2);
    // A whole source folder removed: the rest syncs, nothing is lost.
    let before = h.shape();
    std::fs::remove_dir_all(h.home.join(".codex")).unwrap();
    let r = h.sync_ok();
    let sources: Vec<&str> = r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tool"].as_str().unwrap())
        .collect();
    assert!(!sources.contains(&"codex"), "{sources:?}");
    assert_eq!(h.shape(), before);
}

#[test]
fn a_bad_file_is_named_and_the_rest_still_syncs() {
    let h = Machine::new();
    // Not UTF-8 in the middle of a transcript.
    let bad = h
        .home
        .join(".claude/projects/-home-dev-app/5c5c5c5c-0000-4000-8000-0000000000ff.jsonl");
    let mut bytes = claude_line("bad-u1", None, "user", "fine", 1).into_bytes();
    bytes.extend_from_slice(b"\n{\"type\": \"user\", \"uuid\": \"bad-u2\", \"message\": {\"role\": \"user\", \"content\": \"\xff\xfe\"}}\n");
    std::fs::write(&bad, bytes).unwrap();
    let (ok, r, err) = h.sync();
    assert!(!ok, "a bad file is an error of the sync");
    let failed = r["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{r}");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("0000000000ff.jsonl") && reason.contains("line 2"),
        "{reason}"
    );
    assert!(err.contains("1 file could not be synced"), "{err}");
    // Without --json, the summary names it.
    let out = h.cmd().arg("sync").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("failed: ") && text.contains("0000000000ff.jsonl"),
        "{text}"
    );
    // Everything else came in.
    for source in ["claude-code", "codex", "gemini", "llm"] {
        assert!(h.shape().iter().any(|s| s.0 == source), "{source}");
    }
    assert!(live_session_name(&h).starts_with("claude-"));
}

#[test]
fn two_syncs_at_once_take_turns_and_double_nothing() {
    let h = Machine::new();
    let spawn = || {
        h.cmd()
            .args(["sync", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let ra: Value = serde_json::from_slice(&a.stdout).unwrap();
    let rb: Value = serde_json::from_slice(&b.stdout).unwrap();
    let added = ra["sessions_added"].as_u64().unwrap() + rb["sessions_added"].as_u64().unwrap();
    let together = h.shape();
    // The same home synced once, alone.
    let alone = Machine::new();
    alone.sync_ok();
    assert_eq!(together, alone.shape());
    assert_eq!(added, together.len() as u64);
}

/// Lines of a child's stdout, as they come.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_picks_up_a_line_a_tool_appends() {
    let h = Machine::new();
    let mut child = h
        .cmd()
        .args(["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    let _guard = Killed(child);
    // The first pass syncs everything.
    let first: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_mins(1)).unwrap()).unwrap();
    assert!(first["sessions_added"].as_u64().unwrap() >= 6, "{first}");
    let name = live_session_name(&h);
    // A tool appends: the next pass brings it, read on from where it stopped.
    append(
        &h.live(),
        &[claude_line(
            "live-u2",
            Some("live-a1"),
            "user",
            "Is it watched?",
            3,
        )],
    );
    let pass: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_mins(1)).unwrap()).unwrap();
    assert_eq!(pass["messages_added"], 1, "{pass}");
    assert_eq!(pass["read_on"], 1, "{pass}");
    assert_eq!(h.contents(&name).last().unwrap(), "Is it watched?");
    // And it is found by search.
    let out = h
        .cmd()
        .args(["search", "--json", "watched"])
        .output()
        .unwrap();
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(found.to_string().contains(&name), "{found}");
    // A new session file in a new project folder.
    let project = h.home.join(".claude/projects/-home-dev-new");
    std::fs::create_dir_all(&project).unwrap();
    let sid = "5c5c5c5c-0000-4000-8000-000000000002";
    std::fs::write(
        project.join(format!("{sid}.jsonl")),
        format!(
            "{}\n",
            claude_line("new-u1", None, "user", "A new project", 9).replace(CLAUDE_SID, sid)
        ),
    )
    .unwrap();
    let pass: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_mins(1)).unwrap()).unwrap();
    assert_eq!(pass["sessions_added"], 1, "{pass}");
}

/// A sync run through the library, with a progress callback that changes
/// the files once the first one is read: a folder removed, a file cut
/// short, while the sync is under way.
#[test]
fn files_removed_or_cut_while_a_sync_runs_lose_nothing() {
    use scrollback::import::{ImportRequest, import_paths};
    use scrollback::jobs::JobControl;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("projects");
    let transcript = |sid: &str, n: usize| -> String {
        let mut text = String::new();
        let mut parent: Option<String> = None;
        for i in 0..n {
            let uuid = format!("{sid}-{i}");
            let kind = if i % 2 == 0 { "user" } else { "assistant" };
            text.push_str(
                &claude_line(&uuid, parent.as_deref(), kind, &format!("line {i}"), 1)
                    .replace(CLAUDE_SID, sid),
            );
            text.push('\n');
            parent = Some(uuid);
        }
        text
    };
    let sids = [
        "5c5c5c5c-0000-4000-8000-00000000000a",
        "5c5c5c5c-0000-4000-8000-00000000000b",
        "5c5c5c5c-0000-4000-8000-00000000000c",
    ];
    let mut paths = Vec::new();
    for (i, sid) in sids.iter().enumerate() {
        let folder = root.join(format!("p{i}"));
        std::fs::create_dir_all(&folder).unwrap();
        let p = folder.join(format!("{sid}.jsonl"));
        std::fs::write(&p, transcript(sid, 6)).unwrap();
        paths.push(p);
    }
    let mut store = scrollback::Store::open(dir.path().join("s.db")).unwrap();
    let whole = std::fs::read(&paths[1]).unwrap();
    let changed = std::cell::Cell::new(false);
    let progress = |done: u64, _total: u64| {
        if done > 0 && !changed.replace(true) {
            // After the first file: the second is cut in its third line,
            // the third one's folder is removed.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&paths[1])
                .unwrap();
            let cut = whole
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .nth(1)
                .unwrap()
                .0
                + 20;
            f.set_len(cut as u64).unwrap();
            std::fs::remove_dir_all(paths[2].parent().unwrap()).unwrap();
        }
    };
    let control = JobControl::new();
    let import = &mut |r: &ImportRequest<'_>| import_paths(&mut store, r);
    let r = scrollback::sync::sync_paths(import, std::slice::from_ref(&root), &progress, &control)
        .unwrap();
    assert!(changed.get());
    assert!(r.import.failed.is_empty(), "{:?}", r.import.failed);
    assert_eq!(r.gone.len(), 1, "{:?}", r.gone);
    assert!(r.gone[0].path.contains("p2"));
    let count = |store: &scrollback::Store, sid: &str| {
        store
            .list(&scrollback::ListQuery::default())
            .unwrap()
            .into_iter()
            .find(|s| s.source_ref.as_deref() == Some(sid))
            .map(|s| s.message_count)
    };
    assert_eq!(count(&store, sids[0]), Some(6));
    // Cut in its third line: the two complete lines are in.
    assert_eq!(count(&store, sids[1]), Some(2));
    assert_eq!(count(&store, sids[2]), None);
    // The file written back whole: the next sync brings the rest, once.
    std::fs::write(&paths[1], &whole).unwrap();
    for _ in 0..2 {
        let import = &mut |r: &ImportRequest<'_>| import_paths(&mut store, r);
        let r =
            scrollback::sync::sync_paths(import, std::slice::from_ref(&root), &|_, _| {}, &control)
                .unwrap();
        assert!(r.import.failed.is_empty());
        assert_eq!(count(&store, sids[1]), Some(6));
        assert_eq!(count(&store, sids[0]), Some(6));
    }
}

#[test]
fn llm_logs_db_reads_only_the_conversations_that_gained_responses() {
    let h = Machine::new();
    h.sync_ok();
    let logs = h.home.join("config/io.datasette.llm/logs.db");
    let c = rusqlite::Connection::open(&logs).unwrap();
    c.execute_batch(
        "INSERT INTO responses (id, model, prompt, response, conversation_id, datetime_utc)
           VALUES ('01jr2', 'gpt-4o-mini', 'Another one', 'Pete.',
                   '01jsync1aaaaaaaaaaaaaaaaaa', '2025-05-01T10:05:00');
         INSERT INTO conversations VALUES ('01jsync2bbbbbbbbbbbbbbbbbb', 'Herons', 'gpt-4o-mini');
         INSERT INTO responses (id, model, prompt, response, conversation_id, datetime_utc)
           VALUES ('01jr3', 'gpt-4o-mini', 'Name a heron', 'Harold.',
                   '01jsync2bbbbbbbbbbbbbbbbbb', '2025-05-02T10:00:00');",
    )
    .unwrap();
    drop(c);
    let r = h.sync_ok();
    assert_eq!(r["read_on"], 1, "{r}");
    assert_eq!(r["sessions_added"], 1, "{r}");
    assert_eq!(r["sessions_grown"], 1, "{r}");
    assert_eq!(r["messages_added"], 4, "{r}");
    // Nothing new: nothing added, the file not read.
    h.settle();
    h.sync_ok();
    let again = h.sync_ok();
    assert_eq!(again["messages_added"], 0, "{again}");
    // The same as a store that read the file whole, once.
    let other = h.home.join("other.db");
    let out = common::scrollback_on(&h.home, &other)
        .args(["sync", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let llm = |db: &Path| -> Vec<Value> {
        let out = common::scrollback_on(&h.home, db)
            .args(["list", "--json", "--all", "--source", "llm"])
            .output()
            .unwrap();
        let mut v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        v.sort_by_key(|s| s["name"].as_str().unwrap().to_string());
        v.iter()
            .map(|s| {
                let name = s["name"].as_str().unwrap();
                let shown = common::scrollback_on(&h.home, db)
                    .args(["show", "--json", name])
                    .output()
                    .unwrap();
                let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
                json!([name, s["message_count"], shown["messages"]])
            })
            .collect()
    };
    let whole = llm(&other);
    assert_eq!(whole.len(), 2);
    assert_eq!(llm(&h.db), whole);
}
