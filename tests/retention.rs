//! Retention policies through the real binary: `cleanup --policy` plans
//! and applies the `[retention]` rules of the config (age, count, turns and
//! size per session), protected tags win, and each run is logged in
//! `stats`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use serde_json::{Value, json};

struct Store {
    dir: tempfile::TempDir,
    db: PathBuf,
}

fn session(name: &str, updated: &str, tags: &[&str], turns: usize, system: bool) -> Value {
    let mut messages = Vec::new();
    if system {
        messages.push(json!({"role": "system", "content": "Be brief.", "created_at": updated}));
    }
    for t in 0..turns {
        messages.push(json!({"role": "user", "content": format!("question {t} of {name}"), "created_at": updated}));
        messages.push(
            json!({"role": "assistant", "content": format!("answer {t}"), "created_at": updated}),
        );
    }
    json!({"name": name, "created_at": updated, "updated_at": updated, "tags": tags, "messages": messages})
}

impl Store {
    fn new(sessions: &[Value], retention: &str) -> Store {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("store.db");
        let file = dir.path().join("sessions.json");
        std::fs::write(&file, Value::Array(sessions.to_vec()).to_string()).unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            format!("[retention]\n{retention}\n"),
        )
        .unwrap();
        let s = Store { dir, db };
        let out = s.cmd().arg("import").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        s
    }

    fn cmd(&self) -> std::process::Command {
        let mut c = common::scrollback_on(self.dir.path(), &self.db);
        c.arg("--config").arg(self.dir.path().join("config.toml"));
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// (name, state, message count) of every session, sorted by name.
    fn states(&self) -> Vec<(String, String, u64)> {
        let mut v: Vec<(String, String, u64)> = self
            .json(&["list", "--json", "--all"])
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let state = if !s["trashed_at"].is_null() {
                    "trash"
                } else if !s["archived_at"].is_null() {
                    "archive"
                } else {
                    "live"
                };
                (
                    s["name"].as_str().unwrap().to_string(),
                    state.to_string(),
                    s["message_count"].as_u64().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    fn contents(&self, name: &str) -> Vec<String> {
        self.json(&["show", "--json", name])["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    }
}

fn names(plan: &Value, key: &str) -> Vec<String> {
    plan[key]["sessions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn t(name: &str, state: &str, n: u64) -> (String, String, u64) {
    (name.into(), state.into(), n)
}

#[test]
fn age_and_count_rules_take_the_oldest_and_protected_tags_win() {
    let s = Store::new(
        &[
            session("old", "2025-01-01T10:00:00Z", &[], 1, false),
            session("old-kept", "2025-01-01T10:00:00Z", &["keep"], 1, false),
            session("mid", "2099-06-01T10:00:00Z", &[], 1, false),
            session("new-a", "2099-11-30T10:00:00Z", &[], 1, false),
            session("new-b", "2099-11-30T11:00:00Z", &[], 1, false),
            session("newest", "2099-11-30T12:00:00Z", &[], 1, false),
        ],
        "max_age = \"180d\"\nmax_age_action = \"trash\"\nmax_sessions = 3\nmax_sessions_action = \"archive\"",
    );
    let before = s.states();
    let plan = s.json(&["cleanup", "--policy", "--dry-run", "--json"]);
    assert_eq!(names(&plan, "by_age"), ["old"]);
    // Five live after the age rule (the protected one counts, and stays):
    // the two oldest of the others go.
    assert_eq!(names(&plan, "by_count"), ["mid", "new-a"]);
    assert_eq!(s.states(), before, "a dry run changes nothing");
    let run = s.json(&["cleanup", "--policy", "--yes", "--json"]);
    assert_eq!(
        (run["trashed"].as_u64(), run["archived"].as_u64()),
        (Some(1), Some(2)),
        "{run}"
    );
    assert_eq!(
        s.states(),
        [
            t("mid", "archive", 2),
            t("new-a", "archive", 2),
            t("new-b", "live", 2),
            t("newest", "live", 2),
            t("old", "trash", 2),
            t("old-kept", "live", 2),
        ]
    );
    // Within the policy now: nothing more.
    let out = s
        .cmd()
        .args(["cleanup", "--policy", "--yes"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to do"));
    // The run is logged, and shown in stats.
    let stats = s.json(&["stats", "--json"]);
    assert_eq!(stats["retention"]["runs"], 1, "{stats}");
    assert_eq!(stats["retention"]["last"]["trigger"], "cleanup");
    assert_eq!(stats["retention"]["total"]["archived"], 2);
    let text = s.cmd().arg("stats").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("retention runs  1"));
}

#[test]
fn turn_and_size_rules_trim_the_oldest_turns_and_keep_branches_pointing_right() {
    let s = Store::new(
        &[
            session("long", "2099-01-01T10:00:00Z", &[], 5, true),
            session("long-kept", "2099-01-01T10:00:00Z", &["keep"], 5, true),
            session("short", "2099-01-01T10:00:00Z", &[], 2, false),
        ],
        "max_turns = 2",
    );
    // A branch of `long` after its fourth turn (message 8).
    let out = s
        .cmd()
        .args(["branch", "long", "long-b", "--at", "8"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = s.json(&["cleanup", "--policy", "--dry-run", "--json"]);
    let trims: Vec<(&str, u64, u64)> = plan["trims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["from_seq"].as_u64().unwrap(),
                t["to_seq"].as_u64().unwrap(),
            )
        })
        .collect();
    // The branch holds 4 turns too: it is trimmed as well.
    assert_eq!(trims, [("long", 1, 7), ("long-b", 1, 5)]);
    let run = s.json(&["cleanup", "--policy", "--yes", "--json"]);
    assert_eq!(run["trimmed"], 2, "{run}");
    assert_eq!(run["messages_removed"], 10, "{run}");
    assert_eq!(
        s.contents("long"),
        [
            "Be brief.",
            "question 3 of long",
            "answer 3",
            "question 4 of long",
            "answer 4"
        ]
    );
    assert_eq!(s.contents("long-kept").len(), 11, "protected");
    assert_eq!(s.contents("short").len(), 4);
    // The branch left `long` after message 8, now message 2.
    let b = s.json(&["show", "--json", "long-b"]);
    assert_eq!(b["fork_seq"], 2, "{b}");
    // The search index follows: the removed turns are no longer found.
    let found = s.json(&["search", "--json", "question 0 of long"]);
    assert!(!found.to_string().contains("\"long\""), "{found}");
}

#[test]
fn no_rule_is_an_error_and_a_bad_age_names_the_key() {
    let s = Store::new(&[session("a", "2099-01-01T10:00:00Z", &[], 1, false)], "");
    let out = s
        .cmd()
        .args(["cleanup", "--policy", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no retention rule is set"));
    std::fs::write(
        s.dir.path().join("config.toml"),
        "[retention]\nmax_age = \"soon\"\n",
    )
    .unwrap();
    let out = s
        .cmd()
        .args(["cleanup", "--policy", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn watch_applies_the_policy_on_its_schedule() {
    use std::io::BufRead;
    let s = Store::new(
        &[
            session("a", "2099-01-01T10:00:00Z", &[], 1, false),
            session("b", "2099-01-01T11:00:00Z", &[], 1, false),
            session("c", "2099-01-01T12:00:00Z", &[], 1, false),
        ],
        "max_sessions = 2\nevery = \"1h\"",
    );
    let mut child = s
        .cmd()
        .args(["watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut run = Value::Null;
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_mins(1)) {
        let v: Value = serde_json::from_str(&line).unwrap();
        if !v["retention"].is_null() {
            run = v["retention"].clone();
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(run["trigger"], "watch", "{run}");
    assert_eq!(run["archived"], 1, "{run}");
    assert_eq!(
        s.states(),
        [t("a", "archive", 2), t("b", "live", 2), t("c", "live", 2)]
    );
}
