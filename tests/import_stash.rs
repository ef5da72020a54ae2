//! A large transcript imports the same whether its messages are held in
//! memory or set aside on disk and written in slices: the stash's budget is
//! set to nothing (`SCROLLBACK_STASH_BUDGET=0`), and the store must end up
//! exactly as with everything in memory, through a first import, a rewind
//! that makes a branch, lines appended later, and a re-read.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};
use tempfile::TempDir;

const SID: &str = "5e55a1a0-0000-4000-8000-00000000000a";

fn line(uuid: &str, parent: Option<&str>, kind: &str, message: &Value, n: u64) -> String {
    json!({
        "parentUuid": parent, "isSidechain": false, "type": kind, "sessionId": SID,
        "cwd": "/home/dev/app", "version": "2.0.14", "gitBranch": "main",
        "message": message, "uuid": uuid,
        "timestamp": jiff::Timestamp::from_second(1_750_000_000 + i64::try_from(n).unwrap()).unwrap().to_string(),
    })
    .to_string()
}

/// Exchanges `from..to`, each a prompt, a reply split over a text line and
/// a tool call line, and the tool's output of about 100 KB; the first hangs
/// off `parent`. Returns the lines and the last uuid.
fn exchanges(
    from: u64,
    to: u64,
    parent: Option<String>,
    tag: &str,
) -> (Vec<String>, Option<String>) {
    let mut out = Vec::new();
    let mut parent = parent;
    for i in from..to {
        let u = format!("{tag}-u{i}");
        out.push(line(
            &u,
            parent.as_deref(),
            "user",
            &json!({"role": "user", "content": format!("step {i} of {tag}: run the tests")}),
            i * 10,
        ));
        let a1 = format!("{tag}-a{i}");
        let api = format!("msg_{tag}_{i}");
        out.push(line(&a1, Some(&u), "assistant", &json!({"model": "claude-sonnet-4-5", "id": api,
            "role": "assistant", "content": [{"type": "text", "text": format!("Running them ({i}).")}]}), i * 10 + 1));
        let a2 = format!("{tag}-b{i}");
        let call = format!("toolu_{tag}_{i}");
        out.push(line(
            &a2,
            Some(&a1),
            "assistant",
            &json!({"model": "claude-sonnet-4-5", "id": api,
            "role": "assistant", "content": [{"type": "tool_use", "id": call, "name": "Bash",
            "input": {"command": format!("cargo test --test t{i}")}}]}),
            i * 10 + 2,
        ));
        let r = format!("{tag}-r{i}");
        let output = format!("test {i} ... ok\n").repeat(7000);
        out.push(line(
            &r,
            Some(&a2),
            "user",
            &json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call, "content": output, "is_error": false}]}),
            i * 10 + 3,
        ));
        parent = Some(r);
    }
    (out, parent)
}

fn write(path: &Path, lines: &[String]) {
    let mut f = std::fs::File::create(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

fn run(home: &Path, db: &Path, stash_budget: Option<&str>, args: &[&str]) -> String {
    let mut c = common::scrollback_on(home, db);
    if let Some(b) = stash_budget {
        c.env("SCROLLBACK_STASH_BUDGET", b);
    }
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn export(home: &Path, db: &Path) -> Vec<Value> {
    let text = run(home, db, None, &["export", "--all", "--format", "jsonl"]);
    let mut all: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    all.sort_by(|a, b| a["uid"].as_str().cmp(&b["uid"].as_str()));
    all
}

#[test]
fn stashed_and_in_memory_imports_store_the_same() {
    let dir = TempDir::new().unwrap();
    let home = dir.path();
    let file = home.join(format!("{SID}.jsonl"));
    let memory = home.join("memory.db");
    let disk = home.join("disk.db");

    // 40 exchanges (about 4 MB), then a rewind to exchange 10 that goes on for 5.
    let (mut lines, _) = exchanges(0, 40, None, "main");
    let (rewound, last) = exchanges(40, 45, Some("main-r9".into()), "again");
    lines.extend(rewound);
    write(&file, &lines);
    let f = file.to_str().unwrap();
    for (db, budget) in [(&memory, None), (&disk, Some("0"))] {
        let report: Value =
            serde_json::from_str(&run(home, db, budget, &["import", "--json", f])).unwrap();
        assert_eq!(report["sessions_added"], 2, "{report}");
        assert_eq!(report["branches_added"], 1, "{report}");
    }
    let first = export(home, &memory);
    assert_eq!(first.len(), 2);
    assert_eq!(
        export(home, &disk),
        first,
        "the same sessions, messages and metadata"
    );
    let total: usize = first
        .iter()
        .map(|s| s["messages"].as_array().unwrap().len())
        .sum();
    assert!(total > 200, "{total}");

    // The conversation goes on: only the new messages come in.
    let (more, _) = exchanges(45, 50, last, "again");
    lines.extend(more);
    write(&file, &lines);
    for (db, budget) in [(&memory, None), (&disk, Some("0"))] {
        let report: Value =
            serde_json::from_str(&run(home, db, budget, &["import", "--json", f])).unwrap();
        assert_eq!(report["sessions_added"], 0, "{report}");
        assert_eq!(report["sessions_grown"], 1, "{report}");
        assert_eq!(report["messages_added"], 5 * 4, "{report}");
    }
    assert_eq!(export(home, &disk), export(home, &memory));

    // Read again: nothing.
    let report: Value = serde_json::from_str(&run(
        home,
        &disk,
        Some("0"),
        &["import", "--json", "--reread", f],
    ))
    .unwrap();
    assert_eq!(report["messages_added"], 0, "{report}");
    assert_eq!(report["sessions_unchanged"], 2, "{report}");
}
