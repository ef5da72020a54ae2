//! A Claude Code transcript that grew is read on from where its last read
//! stopped, and the store must end up exactly as when the whole file is
//! read again. Every fixture is cut after each of its lines: the first
//! part is imported, the rest appended, and the file imported again,
//! once reading on and once (`reread`) whole.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use scrollback::Store;
use scrollback::domain::{ListQuery, MessageDoc, StateFilter};
use scrollback::import::{ImportRequest, import_paths};
use scrollback::jobs::JobControl;
use scrollback::store::{ImportOptions, ImportReport};
use serde_json::{Value, json};

const STEM: &str = "7a11ed00-0000-4000-8000-000000000001";

fn import(store: &mut Store, dir: &Path, reread: bool) -> ImportReport {
    import_paths(
        store,
        &ImportRequest {
            paths: &[dir.to_path_buf()],
            format: None,
            options: ImportOptions {
                reread,
                ..ImportOptions::default()
            },
            partial: false,
            found: false,
            progress: &|_, _| {},
            control: &JobControl::new(),
        },
    )
    .unwrap()
}

/// Everything the store holds, in a stable order.
fn dump(store: &Store) -> Vec<Value> {
    let mut all = store
        .list(&ListQuery {
            state: StateFilter::All,
            ..ListQuery::default()
        })
        .unwrap();
    all.sort_by(|a, b| a.uid.0.cmp(&b.uid.0));
    all.into_iter()
        .map(|s| {
            let messages: Vec<Value> = store
                .all_messages(s.id)
                .unwrap()
                .into_iter()
                .map(|m| serde_json::to_value(MessageDoc::from(m)).unwrap())
                .collect();
            json!({
                "uid": s.uid.0, "name": s.name, "title": s.title, "parent": s.parent.map(|p| p.0),
                "fork_seq": s.fork_seq, "source_ref": s.source_ref, "metadata": s.metadata,
                "count": s.message_count, "chars": s.char_count, "messages": messages,
            })
        })
        .collect()
}

fn write(path: &Path, lines: &[&str]) {
    let mut f = std::fs::File::create(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

/// Cuts `lines` after each line; returns how many cuts were read on.
fn every_cut_reads_on_as_a_whole_read_would(file_name: &str, lines: &[&str]) -> usize {
    let mut read_on = 0;
    for k in 1..lines.len() {
        let mut results = Vec::new();
        for reread in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let logs = dir.path().join("project");
            std::fs::create_dir(&logs).unwrap();
            let file = logs.join(file_name);
            write(&file, &lines[..k]);
            let mut store = Store::open(dir.path().join("s.db")).unwrap();
            let first = import(&mut store, &logs, false);
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&file)
                .unwrap();
            for l in &lines[k..] {
                writeln!(f, "{l}").unwrap();
            }
            drop(f);
            let second = import(&mut store, &logs, reread);
            if reread {
                assert_eq!(second.read_on, 0);
            } else if second.read_on == 1 {
                read_on += 1;
                let appended: usize = lines[k..].iter().map(|l| l.len() + 1).sum();
                assert_eq!(second.bytes_read, appended as u64, "cut after line {k}");
            }
            assert!(first.bytes_read > 0);
            // Nothing new: the file is not read again.
            let third = import(&mut store, &logs, false);
            assert_eq!(third.messages_added, 0, "cut after line {k}");
            results.push(dump(&store));
        }
        assert_eq!(
            results[0], results[1],
            "cut after line {k}: reading on differs from reading the whole file"
        );
    }
    read_on
}

fn fixture_lines(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_fixture_cut_anywhere_reads_on_as_a_whole_read() {
    let mut read_on = 0;
    for name in [
        "chain.jsonl",
        "compact.jsonl",
        "noise.jsonl",
        "c0ffeeb2-0000-4000-8000-0000000000b2.jsonl",
        "parallel.jsonl",
        "sidechain.jsonl",
        "nulls.jsonl",
        "rewind.jsonl",
        "project/-home-ana-proj/d00dfeed-0000-4000-8000-000000000001.jsonl",
        "project/-home-ana-proj/d00dfee2-0000-4000-8000-000000000002.jsonl",
        "project/-home-ana-proj/d00dfee3-0000-4000-8000-000000000003.jsonl",
    ] {
        let text = fixture_lines(&format!("claude-code/{name}"));
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        // Named after the session, as Claude Code names its files.
        let stem = Path::new(name).file_stem().unwrap().to_string_lossy();
        let stem = if stem.len() == 36 {
            stem.into_owned()
        } else {
            lines
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find_map(|v| v["sessionId"].as_str().map(str::to_string))
                .unwrap()
        };
        read_on += every_cut_reads_on_as_a_whole_read_would(&format!("{stem}.jsonl"), &lines);
    }
    // The fast path is taken, not only the whole read.
    assert!(read_on >= 10, "only {read_on} cuts were read on");
}

#[test]
fn every_codex_rollout_cut_anywhere_reads_on_as_a_whole_read() {
    let mut read_on = 0;
    for name in [
        "newer.jsonl",
        "older.jsonl",
        "event-first.jsonl",
        "fork.jsonl",
        "subagent.jsonl",
    ] {
        let text = fixture_lines(&format!("codex/{name}"));
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let file = format!(
            "rollout-2025-10-01T10-00-00-0199a1b2-0000-7000-8000-00000000{:04}.jsonl",
            lines.len()
        );
        read_on += every_cut_reads_on_as_a_whole_read_would(&file, &lines);
    }
    assert!(read_on >= 20, "only {read_on} cuts were read on");
}

/// A live session: prompts, replies over several lines, parallel calls and
/// their results, progress lines between, as Claude Code appends them.
///
/// With `side_lines`, as Claude Code 2.x writes them: the progress line and
/// each tool result hang off their call's line rather than the line before.
fn live_session(exchanges: usize, side_lines: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut parent: Option<String> = None;
    let mut n = 0u64;
    let mut line = |kind: &str, message: Value, extra: Value, parent: &mut Option<String>| {
        n += 1;
        let uuid = format!("00000000-0000-4000-8000-{n:012}");
        let mut v = json!({
            "parentUuid": parent, "isSidechain": false, "type": kind, "sessionId": STEM,
            "cwd": "/home/dev/app", "version": "2.1.0", "gitBranch": "main", "uuid": uuid,
            "timestamp": jiff::Timestamp::from_second(1_760_000_000 + i64::try_from(n).unwrap()).unwrap().to_string(),
        });
        if !message.is_null() {
            v["message"] = message;
        }
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        *parent = Some(uuid);
        v.to_string()
    };
    for i in 0..exchanges {
        out.push(line(
            "user",
            json!({"role": "user", "content": format!("step {i}: fix the test")}),
            json!({}),
            &mut parent,
        ));
        let api = format!("msg_{i}");
        out.push(line(
            "assistant",
            json!({"id": api, "model": "claude-opus-4-5", "role": "assistant",
            "content": [{"type": "thinking", "thinking": format!("plan {i}")}]}),
            json!({}),
            &mut parent,
        ));
        out.push(line(
            "assistant",
            json!({"id": api, "model": "claude-opus-4-5", "role": "assistant",
            "content": [{"type": "text", "text": format!("Looking at step {i}.")}],
            "usage": {"input_tokens": 10, "output_tokens": 5}}),
            json!({}),
            &mut parent,
        ));
        let mut calls = Vec::new();
        for c in 0..2 {
            out.push(line(
                "assistant",
                json!({"id": api, "model": "claude-opus-4-5", "role": "assistant",
                "content": [{"type": "tool_use", "id": format!("toolu_{i}_{c}"), "name": "Bash",
                "input": {"command": format!("cargo test t{i}_{c}")}}]}),
                json!({}),
                &mut parent,
            ));
            calls.push(parent.clone());
        }
        let off = |c: usize, parent: &Option<String>| {
            if side_lines {
                calls[c].clone()
            } else {
                parent.clone()
            }
        };
        let mut at = off(0, &parent);
        out.push(line(
            "progress",
            Value::Null,
            json!({"data": {"type": "bash_progress"}}),
            &mut at,
        ));
        if !side_lines {
            parent = at;
        }
        for c in 0..2 {
            let mut at = off(c, &parent);
            out.push(line("user", json!({"role": "user", "content": [{"type": "tool_result",
                "tool_use_id": format!("toolu_{i}_{c}"), "content": format!("ok {i} {c}\u{1b}[31m")}]}),
                json!({}), &mut at));
            parent = at;
        }
        out.push(line(
            "assistant",
            json!({"id": format!("msg_{i}_end"), "model": "claude-opus-4-5",
            "role": "assistant", "content": [{"type": "text", "text": "Done. 完了"}]}),
            json!({}),
            &mut parent,
        ));
        out.push(line(
            "system",
            Value::Null,
            json!({"subtype": "turn_duration", "durationMs": 1200}),
            &mut parent,
        ));
    }
    out
}

#[test]
fn a_live_session_cut_anywhere_reads_on_as_a_whole_read() {
    for side_lines in [false, true] {
        let lines = live_session(3, side_lines);
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let read_on = every_cut_reads_on_as_a_whole_read_would(&format!("{STEM}.jsonl"), &lines);
        // Cuts inside a reply are read whole; the others are read on.
        assert!(
            read_on * 2 >= lines.len(),
            "side lines {side_lines}: {read_on} of {} cuts read on",
            lines.len()
        );
    }
}
