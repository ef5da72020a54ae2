//! Import of Codex CLI rollout files, through the real binary: both
//! generations of the file, what each line becomes (roles, kinds, texts,
//! metadata), lineage of forks and spawned subagents, what is skipped and
//! why, re-imports, files that grew, and bad files leaving the store as it was.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tempfile::TempDir;

const NEWER_ID: &str = "0199a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/codex")
        .join(name)
}

use common::import::{
    import, import_fails, list, message_source_ids as source_ids, message_triples as triples,
    ok_json, reread, run, t,
};

fn session(dir: &TempDir, name: &str) -> Value {
    list(dir)
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no session {name}"))
}

fn show(dir: &TempDir, name: &str) -> Value {
    ok_json(dir, &["show", name, "--json"])
}

fn messages(dir: &TempDir, name: &str) -> Vec<Value> {
    show(dir, name)["messages"]
        .as_array()
        .expect("messages")
        .clone()
}
fn skipped(report: &Value) -> Vec<(String, String, u64)> {
    report["skipped_items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["what"].as_str().expect("what").to_string(),
                        i["reason"].as_str().expect("reason").to_string(),
                        i["count"].as_u64().expect("count"),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn snapshot(dir: &TempDir) -> String {
    let out = run(dir, &["export", "--all"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The first `n` lines of a file (with their newlines), or `bytes` of it.
fn head(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).expect("fixture");
    text.split_inclusive('\n').take(n).collect()
}

#[test]
fn newer_rollout_maps_every_kind_of_line() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture("newer.jsonl"));
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(report["messages_added"], 20);
    let repeats = "repeats the text of a response item";
    let noted = |w: &str, r: &str| (w.to_string(), r.to_string(), 1);
    assert_eq!(
        skipped(&report),
        vec![
            noted("event \"token_count\"", "it carries no token usage"),
            noted("event \"agent_reasoning\"", repeats),
            noted("event \"agent_message\"", repeats),
            noted(
                "content part \"annotation_x\"",
                "not a kind of content scrollback reads"
            ),
            noted(
                "compacted replacement_history",
                "copies of messages already imported"
            ),
            noted(
                "event \"context_compacted\"",
                "an event of the tool's interface, not part of the conversation"
            ),
            noted(
                "line type \"ghost_line\"",
                "not a kind of line scrollback reads"
            ),
            noted(
                "response item \"ghost_snapshot\"",
                "not a kind of item scrollback reads"
            ),
            noted("message", "it has no content"),
            noted(
                "line type \"response_item\"",
                "its payload is not an object"
            ),
            noted(
                "reasoning",
                "it holds no readable text (only encrypted content)"
            ),
            noted("event \"user_message\"", "it has no message text"),
        ]
    );
    assert_eq!(report["skipped"], 12);

    let s = session(&dir, "codex-0199a2b3");
    assert_eq!(s["title"], "Fix the failing test in parser.rs");
    assert_eq!(s["source"], "codex");
    assert_eq!(s["source_ref"], NEWER_ID);
    assert_eq!(s["parent"], Value::Null);
    assert_eq!(s["fork_seq"], Value::Null);
    assert_eq!(s["created_at"], "2025-09-10T10:00:00Z");
    assert_eq!(s["updated_at"], "2025-09-10T10:03:01Z");
    assert_eq!(
        s["metadata"],
        json!({
            "cwd": "/home/ana/proj",
            "git_branch": "main",
            "git_commit": "abc123",
            "repository": "git@github.com:ana/proj.git",
            "version": "0.39.0",
            "originator": "codex_cli_rs",
            "model_provider": "openai",
            "model": "gpt-5-codex",
            "resume_command": format!("codex resume {NEWER_ID}"),
            "session_source": "cli",
        })
    );

    let msgs = messages(&dir, "codex-0199a2b3");
    assert_eq!(
        triples(&msgs),
        vec![
            t(
                "system",
                "context",
                "<permissions instructions>\nsandbox: workspace-write\n</permissions instructions>"
            ),
            t(
                "system",
                "context",
                "<user_instructions>\n\nAlways run the tests.\n\n</user_instructions>"
            ),
            t(
                "system",
                "context",
                "<environment_context>\n  <cwd>/home/ana/proj</cwd>\n</environment_context>"
            ),
            t("user", "text", "Fix the failing test in parser.rs"),
            t(
                "assistant",
                "thinking",
                "**Looking at the parser**\n\nThe test fails on empty input."
            ),
            t("assistant", "tool_call", "shell: cargo test parser"),
            t("tool", "tool_result", "test parser::empty ... FAILED\n"),
            t(
                "assistant",
                "tool_call",
                "apply_patch: Update File: src/parser.rs"
            ),
            t(
                "tool",
                "tool_result",
                "Success. Updated the following files:\nM src/parser.rs\n"
            ),
            t("assistant", "tool_call", "local_shell: cargo test"),
            t("tool", "tool_result", "test result: ok. 12 passed"),
            t("assistant", "tool_call", "web_search: rust slice first"),
            t(
                "assistant",
                "text",
                "Fixed: `parse` no longer indexes an empty slice."
            ),
            // The prompt split around its images is the text the person typed.
            t("user", "text", "Does the header match this mockup?"),
            t("user", "image", "[image: image/png, 8 B]"),
            t("user", "image", "[image: image/jpeg, 10 B]"),
            t("assistant", "text", "Mostly; the logo is 4px lower."),
            t(
                "system",
                "summary",
                "Summary: fixed the parser test; compared the header with the mockup."
            ),
            t("user", "text", "Now run clippy"),
            // The session ends on a call that never got its output.
            t("assistant", "tool_call", "shell: cargo clippy"),
        ]
    );
    // The developer message says where it came from.
    assert_eq!(msgs[0]["metadata"]["role"], "developer");
    // Tool calls: name, call id, full input.
    assert_eq!(
        msgs[5]["metadata"],
        json!({"tool": "shell", "call_id": "call_1",
               "input": {"command": ["bash", "-lc", "cargo test parser"], "workdir": "/home/ana/proj"}})
    );
    assert_eq!(msgs[7]["metadata"]["tool"], "apply_patch");
    assert_eq!(msgs[7]["metadata"]["call_id"], "call_2");
    assert!(
        msgs[7]["metadata"]["input"]
            .as_str()
            .is_some_and(|i| i.contains("s.first()?"))
    );
    assert_eq!(
        msgs[9]["metadata"]["input"],
        json!({"type": "exec", "command": ["cargo", "test"], "timeout_ms": 60000})
    );
    assert_eq!(msgs[11]["metadata"]["call_id"], "ws_1");
    // Results: the call they answer, and failure.
    assert_eq!(
        msgs[6]["metadata"],
        json!({"call_id": "call_1", "exit_code": 101, "is_error": true})
    );
    assert_eq!(msgs[8]["metadata"], json!({"call_id": "call_2"}));
    assert_eq!(msgs[10]["metadata"], json!({"call_id": "call_3"}));
    // Models from turn_context; tokens from the token_count events.
    for (i, model) in [
        (4, "gpt-5-codex"),
        (5, "gpt-5-codex"),
        (12, "gpt-5-codex"),
        (16, "gpt-5"),
        (19, "gpt-5"),
    ] {
        assert_eq!(msgs[i]["model"], model, "message {i}");
    }
    assert_eq!(msgs[3]["model"], Value::Null);
    assert_eq!(msgs[12]["tokens"], json!({"input": 5000, "output": 300}));
    assert_eq!(
        msgs[12]["metadata"],
        json!({"cache_read_tokens": 4000, "reasoning_tokens": 100})
    );
    assert_eq!(msgs[16]["tokens"], json!({"input": 6000, "output": 50}));
    assert_eq!(msgs[4]["tokens"], Value::Null);
    // Image placeholders: type and size, never the bytes.
    assert_eq!(
        msgs[14]["metadata"],
        json!({"media_type": "image/png", "bytes": 8})
    );
    // Times of the lines.
    assert_eq!(msgs[3]["created_at"], "2025-09-10T10:00:02Z");
    assert_eq!(msgs[19]["created_at"], "2025-09-10T10:03:01Z");
    // Source ids: unique, and several messages of one line share its id.
    let ids = source_ids(&msgs);
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids[13].starts_with("22:"), "{ids:?}");
    assert_eq!(ids[14], format!("{}/1", ids[13]));
    assert_eq!(ids[15], format!("{}/2", ids[13]));
}

#[test]
fn older_rollout_with_state_records_and_bare_items() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture("older.jsonl"));
    assert_eq!(report["messages_added"], 10);
    assert_eq!(
        skipped(&report),
        vec![(
            "record_type \"state\"".to_string(),
            "state of the older format, not part of the conversation".to_string(),
            2
        )]
    );
    let s = session(&dir, "codex-5973b6c0");
    assert_eq!(s["source_ref"], "5973b6c0-94b8-487b-a530-2aeb6098ae0e");
    assert_eq!(s["title"], "List the files");
    assert_eq!(s["created_at"], "2025-04-18T09:00:00Z");
    assert_eq!(
        s["metadata"],
        json!({
            "git_branch": "feature/x",
            "git_commit": "def456",
            "repository": "https://github.com/ana/old.git",
            "instructions": "Be terse.",
            "resume_command": "codex resume 5973b6c0-94b8-487b-a530-2aeb6098ae0e",
        })
    );
    let msgs = messages(&dir, "codex-5973b6c0");
    assert_eq!(
        triples(&msgs),
        vec![
            t(
                "system",
                "context",
                "<environment_context>\nCurrent working directory: /home/ana/old\n</environment_context>"
            ),
            t("user", "text", "List the files"),
            t("assistant", "thinking", "Listing files."),
            t("assistant", "tool_call", "shell: ls -la"),
            t("tool", "tool_result", "total 8\nREADME.md"),
            t("assistant", "text", "There is one file: README.md."),
            t("user", "text", "Delete it"),
            t("assistant", "tool_call", "shell: rm README.md"),
            t("tool", "tool_result", "rm: permission denied"),
            t("assistant", "text", "I could not delete it."),
        ]
    );
    assert_eq!(msgs[4]["metadata"], json!({"call_id": "call_a"}));
    assert_eq!(
        msgs[8]["metadata"],
        json!({"call_id": "call_b", "is_error": true})
    );
    // No times in the older format: every message takes the session's.
    assert!(
        msgs.iter()
            .all(|m| m["created_at"] == "2025-04-18T09:00:00Z")
    );
}

#[test]
fn forks_and_spawned_subagents_name_their_parent() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture("fork.jsonl"));
    // The parent's header, copied into the fork's file, is not the fork's.
    assert_eq!(
        skipped(&report),
        vec![(
            "line type \"session_meta\"".to_string(),
            "a second session header (copied from the session this one was forked from)"
                .to_string(),
            1
        )]
    );
    import(&dir, &fixture("newer.jsonl"));
    import(&dir, &fixture("subagent.jsonl"));
    let parent = session(&dir, "codex-0199a2b3");
    let fork = session(&dir, "codex-0199b000");
    assert_eq!(fork["parent"], parent["uid"]);
    assert_eq!(fork["fork_seq"], Value::Null);
    assert_eq!(fork["metadata"]["relation"], "fork");
    assert_eq!(fork["metadata"]["forked_from"], NEWER_ID);
    assert_eq!(fork["metadata"]["cwd"], "/home/ana/proj");
    assert_eq!(fork["metadata"]["git_branch"], "try-2");
    assert_eq!(fork["metadata"]["version"], "0.40.0");
    assert_eq!(
        triples(&messages(&dir, "codex-0199b000")),
        vec![
            t("user", "text", "Fix the failing test in parser.rs"),
            t(
                "assistant",
                "text",
                "Fixed: `parse` no longer indexes an empty slice."
            ),
            t("user", "text", "Try a different approach instead"),
            t("assistant", "text", "Using `get(0)` instead."),
        ]
    );
    let sub = session(&dir, "codex-0199c111");
    assert_eq!(sub["parent"], parent["uid"]);
    assert_eq!(sub["fork_seq"], Value::Null);
    assert_eq!(sub["metadata"]["relation"], "subagent");
    assert_eq!(sub["metadata"]["spawned_by"], NEWER_ID);
    assert_eq!(parent["parent"], Value::Null);
}

#[test]
fn a_prompt_event_before_its_item_or_without_one() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture("event-first.jsonl"));
    assert_eq!(
        skipped(&report),
        vec![(
            "user message".to_string(),
            "repeats the user_message event just before it".to_string(),
            1
        )]
    );
    let msgs = messages(&dir, "codex-0199d222");
    assert_eq!(
        triples(&msgs),
        vec![
            t("user", "text", "Explain the build"),
            t("assistant", "text", "It uses cargo."),
            t("user", "text", "And the tests?"),
            t("user", "image", "[image: image/gif, 14 B]"),
            t("assistant", "text", "They run with cargo test."),
        ]
    );
}

#[test]
fn reimport_adds_nothing() {
    let dir = TempDir::new().expect("tempdir");
    for f in ["newer.jsonl", "older.jsonl", "fork.jsonl"] {
        import(&dir, &fixture(f));
    }
    let before = snapshot(&dir);
    for f in ["newer.jsonl", "older.jsonl", "fork.jsonl"] {
        // Unchanged since its import: not read at all, or read and
        // recognised (a file written in the last two seconds is read again).
        let plain = import(&dir, &fixture(f));
        assert_eq!(plain["messages_added"], 0, "{f}");
        assert_eq!(plain["sessions_added"], 0, "{f}");
        // Read again on purpose: every session is recognised.
        let again = reread(&dir, &fixture(f));
        assert_eq!(again["sessions_added"], 0, "{f}");
        assert_eq!(again["sessions_grown"], 0, "{f}");
        assert_eq!(again["sessions_unchanged"], 1, "{f}");
        assert_eq!(again["messages_added"], 0, "{f}");
    }
    assert_eq!(snapshot(&dir), before);
}

/// Importing the first lines of a file, then the whole file, gives the
/// same messages (same source ids, nothing twice) as importing the whole
/// file at once: whatever line the file had grown to.
#[test]
fn a_file_that_grew_adds_only_its_new_messages() {
    for name in ["newer.jsonl", "event-first.jsonl"] {
        let full_path = fixture(name);
        let whole = TempDir::new().expect("tempdir");
        import(&whole, &full_path);
        let session_name = list(&whole)[0]["name"].as_str().expect("name").to_string();
        let expected = messages(&whole, &session_name);
        let lines = fs::read_to_string(&full_path)
            .expect("fixture")
            .lines()
            .count();
        for n in 1..lines {
            let dir = TempDir::new().expect("tempdir");
            let file = dir.path().join("rollout.jsonl");
            fs::write(&file, head(&full_path, n)).expect("write");
            let first = import(&dir, &file);
            fs::write(&file, head(&full_path, lines)).expect("write");
            let second = import(&dir, &file);
            let have = messages(&dir, &session_name);
            assert_eq!(
                source_ids(&have),
                source_ids(&expected),
                "{name} grown from {n} lines"
            );
            let added = first["messages_added"].as_u64().expect("count")
                + second["messages_added"].as_u64().expect("count");
            assert_eq!(added, expected.len() as u64, "{name} from {n} lines");
            // Roles and kinds are the same; only a prompt waiting for its
            // event may keep the text of its parts.
            let rk = |m: &[Value]| -> Vec<(Value, Value)> {
                m.iter()
                    .map(|x| (x["role"].clone(), x["kind"].clone()))
                    .collect()
            };
            assert_eq!(rk(&have), rk(&expected), "{name} from {n} lines");
        }
    }
    // The usual case, a file that grew by whole turns: the same texts too.
    let dir = TempDir::new().expect("tempdir");
    let file = dir.path().join("rollout.jsonl");
    fs::write(&file, head(&fixture("newer.jsonl"), 20)).expect("write");
    assert_eq!(import(&dir, &file)["messages_added"], 13);
    fs::write(&file, head(&fixture("newer.jsonl"), 36)).expect("write");
    let grown = import(&dir, &file);
    assert_eq!(grown["sessions_grown"], 1);
    assert_eq!(grown["messages_added"], 7);
    let fresh = TempDir::new().expect("tempdir");
    import(&fresh, &fixture("newer.jsonl"));
    assert_eq!(
        messages(&dir, "codex-0199a2b3"),
        messages(&fresh, "codex-0199a2b3")
    );
}

#[test]
fn a_malformed_line_fails_naming_file_and_line_and_keeps_the_store() {
    let dir = TempDir::new().expect("tempdir");
    import(&dir, &fixture("older.jsonl"));
    let before = snapshot(&dir);
    let err = import_fails(&dir, &fixture("malformed.jsonl"));
    assert!(err.contains("malformed.jsonl"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_truncated_file_fails_unless_partial() {
    let dir = TempDir::new().expect("tempdir");
    import(&dir, &fixture("older.jsonl"));
    let before = snapshot(&dir);
    let text = fs::read_to_string(fixture("newer.jsonl")).expect("fixture");
    let cut = text.trim_end().len() - 30;
    let file = dir.path().join("cut.jsonl");
    fs::write(&file, &text[..cut]).expect("write");
    let err = import_fails(&dir, &file);
    assert!(err.contains("cut.jsonl"), "{err}");
    assert!(err.contains("line 36"), "{err}");
    assert!(err.contains("truncated"), "{err}");
    assert_eq!(snapshot(&dir), before);
    // With --partial the complete lines are imported.
    let report = ok_json(
        &dir,
        &[
            "import",
            "--json",
            "--partial",
            file.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(report["messages_added"], 19);
    assert!(
        report["truncated"]
            .as_str()
            .is_some_and(|t| t.contains("line 36"))
    );
}

#[test]
fn nulls_and_wrong_types_are_skipped_not_fatal() {
    let dir = TempDir::new().expect("tempdir");
    let file = dir.path().join("odd.jsonl");
    let lines = [
        json!({"timestamp": null, "type": "session_meta", "payload": {"id": "odd-1", "cwd": null, "git": null, "cli_version": 7}}),
        json!({"timestamp": "2025-01-01T00:00:00Z", "type": "turn_context", "payload": {"model": null}}),
        json!({"timestamp": "2025-01-01T00:00:01Z", "type": "response_item", "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": null}, {"type": "input_text", "text": "hello"}]}}),
        json!({"timestamp": "2025-01-01T00:00:02Z", "type": "response_item", "payload": {"type": "message", "role": null, "content": [{"type": "output_text", "text": "who?"}]}}),
        json!({"timestamp": "2025-01-01T00:00:03Z", "type": "response_item", "payload": {"type": "function_call", "name": null, "arguments": null, "call_id": null}}),
        json!({"timestamp": "2025-01-01T00:00:04Z", "type": "response_item", "payload": {"type": "function_call_output", "call_id": null, "output": "x"}}),
        json!({"timestamp": "2025-01-01T00:00:05Z", "type": "response_item", "payload": {"type": "function_call_output", "call_id": "c", "output": null}}),
        json!({"timestamp": "2025-01-01T00:00:06Z", "type": "event_msg", "payload": {"type": "token_count", "info": {"last_token_usage": null}}}),
        json!({"timestamp": "2025-01-01T00:00:07Z", "type": "compacted", "payload": {"message": null}}),
        json!([1, 2]),
        json!({"type": null, "payload": {}}),
    ];
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    fs::write(&file, text).expect("write");
    let report = import(&dir, &file);
    assert_eq!(report["messages_added"], 2);
    let msgs = messages(&dir, "codex-odd-1");
    assert_eq!(
        triples(&msgs),
        vec![
            t("user", "text", "hello"),
            t("assistant", "tool_call", "function"),
        ]
    );
    let whats: Vec<String> = skipped(&report).into_iter().map(|s| s.0).collect();
    assert_eq!(
        whats,
        [
            "content part \"input_text\"",
            "message",
            "tool output",
            "tool output",
            "event \"token_count\"",
            "compacted",
            "line",
            "line without a type",
        ]
    );
    assert_eq!(report["skipped"], 8);
}
