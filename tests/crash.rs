//! Crash safety of `import`: a large import killed with SIGKILL while it is
//! writing leaves the store exactly as it was before (one transaction), and
//! the same import left to finish brings every session in.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

const SESSIONS: usize = 3_000;
const MESSAGES: usize = 100;
/// The WAL must grow past this before the import is killed.
const WAL_BYTES: u64 = 1 << 20;

fn sb(dir: &TempDir, db: &Path) -> Command {
    common::scrollback_on(dir.path(), db)
}

fn run(dir: &TempDir, db: &Path, args: &[&str]) -> Output {
    let out = sb(dir, db).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run_json(dir: &TempDir, db: &Path, args: &[&str]) -> Value {
    serde_json::from_slice(&run(dir, db, args).stdout).unwrap()
}

/// A scrollback JSONL file of `sessions` sessions of `MESSAGES` messages of
/// about 300 characters each.
fn generate(path: &Path, sessions: usize) {
    let mut w = BufWriter::new(File::create(path).unwrap());
    let filler =
        "The quick brown fox jumps over the lazy dog while the importer keeps writing. ".repeat(4);
    for s in 0..sessions {
        let messages: Vec<Value> = (0..MESSAGES)
            .map(|m| {
                json!({
                    "role": if m % 2 == 0 { "user" } else { "assistant" },
                    "content": format!("session {s} message {m}: {}", &filler[..280]),
                    "created_at": "2026-01-01T00:00:00Z",
                })
            })
            .collect();
        let doc = json!({
            "uid": format!("bulk-{s:06}-0000-4000-8000-000000000000"),
            "name": format!("bulk-{s:06}"),
            "messages": messages,
        });
        serde_json::to_writer(&mut w, &doc).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
}

/// A store with one session `resident` of three messages.
fn store_with_resident(dir: &TempDir) -> PathBuf {
    let db = dir.path().join("x").join("scrollback.db");
    run(
        dir,
        &db,
        &[
            "new",
            "resident",
            "--title",
            "Before the import",
            "--tag",
            "keep",
        ],
    );
    for (role, text) in [
        ("user", "first"),
        ("assistant", "second"),
        ("user", "third"),
    ] {
        run(dir, &db, &["add", "resident", "--role", role, text]);
    }
    db
}

fn wal_of(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap().to_os_string();
    name.push("-wal");
    db.with_file_name(name)
}

#[test]
fn import_killed_mid_transaction_leaves_the_store_as_it_was() {
    let dir = TempDir::new().unwrap();
    let db = store_with_resident(&dir);
    let before = run_json(&dir, &db, &["show", "resident", "--json"]);
    let input = dir.path().join("bulk.jsonl");
    generate(&input, SESSIONS);

    let mut child = sb(&dir, &db)
        .args(["import", input.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wal = wal_of(&db);
    let start = Instant::now();
    loop {
        if fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_BYTES) {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the import finished ({status}) before its WAL grew past {WAL_BYTES} bytes; \
                 make the input larger so that it can be killed mid-transaction"
            );
        }
        if start.elapsed() > Duration::from_mins(1) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the WAL did not grow past {WAL_BYTES} bytes within 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the import was killed, not finished: {status}"
    );
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
    }

    let doctor = String::from_utf8(run(&dir, &db, &["doctor"]).stdout).unwrap();
    assert!(doctor.contains("integrity: ok"), "{doctor}");
    assert!(
        doctor.contains("sessions: 1 live, 0 archived, 0 in the trash"),
        "{doctor}"
    );
    assert!(
        !doctor.contains("repaired") && !doctor.contains("renumbered"),
        "{doctor}"
    );

    let all = run_json(&dir, &db, &["list", "--json", "--all"]);
    let all = all.as_array().unwrap();
    assert_eq!(
        all.len(),
        1,
        "only the resident session: {:?}",
        all.iter().map(|s| &s["name"]).collect::<Vec<_>>()
    );
    assert_eq!(all[0]["name"], "resident");
    assert_eq!(all[0]["message_count"], 3);
    assert_eq!(run_json(&dir, &db, &["show", "resident", "--json"]), before);
    let store = run_json(&dir, &db, &["stats", "--json"]);
    assert_eq!(store["sessions"], 1);
    assert_eq!(store["messages"], 3);

    // The store still works, and the same import can be run again in full.
    let report = run_json(&dir, &db, &["import", "--json", input.to_str().unwrap()]);
    assert_eq!(report["sessions_added"], SESSIONS);
    assert_eq!(
        run_json(&dir, &db, &["stats", "--json"])["sessions"],
        SESSIONS + 1
    );
}

#[test]
fn the_same_import_left_to_finish_brings_everything_in() {
    let dir = TempDir::new().unwrap();
    let db = store_with_resident(&dir);
    let input = dir.path().join("bulk.jsonl");
    generate(&input, SESSIONS);
    let report = run_json(&dir, &db, &["import", "--json", input.to_str().unwrap()]);
    assert_eq!(report["files"], 1);
    assert_eq!(report["sessions_added"], SESSIONS);
    assert_eq!(report["messages_added"], SESSIONS * MESSAGES);

    let all = run_json(&dir, &db, &["list", "--json", "--sort", "name"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), SESSIONS + 1);
    assert!(
        all.iter()
            .filter(|s| s["name"] != "resident")
            .all(|s| s["message_count"] == MESSAGES)
    );
    assert_eq!(all[0]["name"], "bulk-000000");
    assert_eq!(
        all[SESSIONS - 1]["name"],
        format!("bulk-{:06}", SESSIONS - 1)
    );
    let stats = run_json(&dir, &db, &["stats", "--json"]);
    assert_eq!(stats["messages"], SESSIONS * MESSAGES + 3);
    let last = run_json(
        &dir,
        &db,
        &[
            "show",
            &format!("bulk-{:06}", SESSIONS - 1),
            "--json",
            "--last",
            "1",
        ],
    );
    let content = last["messages"][0]["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!(
            "session {} message {}: ",
            SESSIONS - 1,
            MESSAGES - 1
        )),
        "{content}"
    );
    let doctor = String::from_utf8(run(&dir, &db, &["doctor"]).stdout).unwrap();
    assert!(doctor.contains("integrity: ok"), "{doctor}");
}
