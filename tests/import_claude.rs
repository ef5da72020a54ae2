//! Claude Code transcripts imported through the real binary: chains, rewind
//! branches, replies split over lines, parallel tool results, resumed files,
//! compaction, subagents (sidechain lines and agent files in a project
//! folder), unknown lines and blocks, nulls, huge lines, broken files, and
//! imports of a file that did not change or grew.
//!
//! The fixtures under `tests/fixtures/import/claude-code/` are hand-made in
//! the shapes Claude Code writes; every expected value below is written out
//! by hand from them.

mod common;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/claude-code")
        .join(name)
}

/// A store in a temporary directory, driven through the binary.
struct Store {
    dir: TempDir,
}

impl Store {
    fn new() -> Self {
        Store {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("scrollback.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        common::scrollback_on(self.dir.path(), &self.db())
            .args(args)
            .output()
            .expect("run scrollback")
    }

    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "scrollback {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }

    /// Imports and returns the `--json` report.
    fn import(&self, path: &Path) -> Value {
        self.ok(&["import", path.to_str().expect("utf-8 path"), "--json"])
    }

    /// `import --reread`: read even if unchanged since its last import.
    fn reread(&self, path: &Path) -> Value {
        self.ok(&[
            "import",
            "--reread",
            path.to_str().expect("utf-8 path"),
            "--json",
        ])
    }

    fn list(&self) -> Vec<Value> {
        let v = self.ok(&["list", "--json", "--all"]);
        v.as_array().expect("an array").clone()
    }

    fn show(&self, name: &str) -> Value {
        self.ok(&["show", name, "--json"])
    }

    /// The listed session with this source reference.
    fn by_ref(&self, source_ref: &str) -> Value {
        self.list()
            .into_iter()
            .find(|s| s["source_ref"] == source_ref)
            .unwrap_or_else(|| panic!("no session with source_ref {source_ref}"))
    }

    /// Every session's name and message count, sorted: what a failed import
    /// must leave alone.
    fn snapshot(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .list()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().expect("name").to_string(),
                    s["message_count"].as_u64().expect("count"),
                )
            })
            .collect();
        v.sort();
        v
    }
}

/// (role, kind, content) of every message of a `show --json`.
fn messages(show: &Value) -> Vec<(String, String, String)> {
    show["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().expect("role").to_string(),
                m["kind"].as_str().expect("kind").to_string(),
                m["content"].as_str().expect("content").to_string(),
            )
        })
        .collect()
}

fn m(role: &str, kind: &str, content: &str) -> (String, String, String) {
    (role.to_string(), kind.to_string(), content.to_string())
}

fn source_ids(show: &Value) -> Vec<String> {
    show["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["source_id"].as_str().expect("source_id").to_string())
        .collect()
}

/// The report's skipped items as (what, reason, count), sorted.
fn skipped(report: &Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<(String, String, u64)> = report["skipped_items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            (
                s["what"].as_str().expect("what").to_string(),
                s["reason"].as_str().expect("reason").to_string(),
                s["count"].as_u64().expect("count"),
            )
        })
        .collect();
    v.sort();
    v
}

fn skip(what: &str, reason: &str, count: u64) -> (String, String, u64) {
    (what.to_string(), reason.to_string(), count)
}

const CHAIN: &str = "c0ffee01-0000-4000-8000-000000000001";

#[test]
fn a_chain_with_a_split_reply_is_one_session() {
    let s = Store::new();
    let report = s.import(&fixture("chain.jsonl"));
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(report["messages_added"], 6);
    assert_eq!(
        skipped(&report),
        [skip(
            "line type \"file-history-snapshot\"",
            "backups of edited files, for undo",
            1
        )]
    );
    let list = s.list();
    assert_eq!(list.len(), 1);
    let show = s.show("claude-c0ffee01");
    assert_eq!(show["source"], "claude-code");
    assert_eq!(show["source_ref"], CHAIN);
    assert_eq!(show["title"], "Listing the files");
    assert_eq!(show["parent"], Value::Null);
    assert_eq!(
        show["metadata"],
        json!({
            "cwd": "/home/ana/proj",
            "git_branch": "main",
            "version": "2.1.3",
            "model": "claude-sonnet-4-5",
            "resume_command": format!("claude --resume {CHAIN}"),
            "ai_title": "Listing the files",
        })
    );
    // Three lines of one API reply (thinking, text, tool_use): one thinking
    // message, one reply, one tool call.
    assert_eq!(
        messages(&show),
        [
            m("user", "text", "List the files\nin this folder"),
            m("assistant", "thinking", "The user wants a listing."),
            m("assistant", "text", "I'll list them."),
            m("assistant", "tool_call", "Bash: ls"),
            m("tool", "tool_result", "a.txt\nb.txt"),
            m("assistant", "text", "There are two files: a.txt and b.txt."),
        ]
    );
    assert_eq!(
        source_ids(&show),
        [
            "chain-u1", "chain-a1", "chain-a2", "chain-a3", "chain-r1", "chain-a4"
        ]
    );
    let msgs = show["messages"].as_array().expect("messages");
    // The reply's tokens (the largest counts its lines give) and model.
    assert_eq!(msgs[2]["tokens"], json!({"input": 100, "output": 42}));
    assert_eq!(msgs[2]["model"], "claude-sonnet-4-5");
    assert_eq!(
        msgs[2]["metadata"],
        json!({"cache_read_tokens": 300, "cache_creation_tokens": 20})
    );
    assert_eq!(msgs[1]["tokens"], Value::Null);
    assert_eq!(msgs[0]["model"], Value::Null);
    assert_eq!(
        msgs[3]["metadata"],
        json!({
            "tool": "Bash",
            "call_id": "toolu_chain_1",
            "input": {"command": "ls", "description": "List files"},
        })
    );
    assert_eq!(
        msgs[4]["metadata"],
        json!({"call_id": "toolu_chain_1", "tool": "Bash"})
    );
    assert_eq!(msgs[0]["created_at"], "2026-03-01T10:00:01Z");
    assert_eq!(msgs[5]["created_at"], "2026-03-01T10:00:06Z");
}

#[test]
fn a_rewind_is_a_branch_forked_at_the_last_shared_message() {
    let s = Store::new();
    let report = s.import(&fixture("rewind.jsonl"));
    assert_eq!(report["sessions_added"], 2);
    assert_eq!(report["skipped"], 0);
    let main = s.show("claude-c0ffee02");
    let branch = s.show("claude-c0ffee02~2");
    // The path to the last line is the session.
    assert_eq!(
        messages(&main),
        [
            m("user", "text", "Write a haiku about rust"),
            m("assistant", "text", "Orange bloom on steel"),
            m("user", "text", "Make it funnier"),
            m(
                "assistant",
                "text",
                "A crab in a shell / segfaults? Not on my watch"
            ),
        ]
    );
    assert_eq!(main["parent"], Value::Null);
    assert_eq!(main["fork_seq"], Value::Null);
    assert_eq!(main["source_ref"], "c0ffee02-0000-4000-8000-000000000002");
    // The path the person left is a branch of it, forked after message 1.
    assert_eq!(
        messages(&branch),
        [
            m("user", "text", "Write a haiku about rust"),
            m("assistant", "text", "Orange bloom on steel"),
            m("user", "text", "Make it about the language"),
            m("assistant", "text", "Borrowed, never owned"),
            m("user", "text", "Shorter please"),
            m("assistant", "text", "Borrow. Check. Compile."),
        ]
    );
    assert_eq!(branch["parent"], main["uid"]);
    assert_eq!(branch["fork_seq"], 1);
    assert_eq!(
        branch["source_ref"],
        "c0ffee02-0000-4000-8000-000000000002@rew-u2"
    );
    assert_eq!(branch["title"], "Write a haiku about rust");
}

#[test]
fn parallel_tool_results_and_split_replies_are_not_branches() {
    let s = Store::new();
    let report = s.import(&fixture("parallel.jsonl"));
    // One result hangs off the line of its own call, the other off a
    // progress line, and a reply's second call was written after the first
    // call's result: still one session.
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(
        skipped(&report),
        [skip(
            "line type \"progress\"",
            "progress of a running tool or hook",
            1
        )]
    );
    let show = s.show("claude-c0ffee03");
    assert_eq!(show["title"], "Read both files");
    assert_eq!(
        messages(&show),
        [
            m("user", "text", "Read both files"),
            m("assistant", "text", "Reading both."),
            m("assistant", "tool_call", "Read: /home/ana/proj/a.rs"),
            m("assistant", "tool_call", "Read: /home/ana/proj/b.rs"),
            m("tool", "tool_result", "fn a() {}"),
            m("tool", "tool_result", "fn b() {}"),
            m("assistant", "text", "Both are one-liners."),
            m("user", "text", "And the tests?"),
            m("assistant", "tool_call", "Grep: #\\[test\\]"),
            m("assistant", "tool_call", "Glob: tests/**/*.rs"),
            m("tool", "tool_result", "No matches found"),
            m("tool", "tool_result", "No files found"),
            m("assistant", "text", "There are no tests yet."),
        ]
    );
    let msgs = show["messages"].as_array().expect("messages");
    assert_eq!(
        msgs[11]["metadata"],
        json!({"call_id": "toolu_par_4", "tool": "Glob", "is_error": true})
    );
    // A reply of calls only carries its tokens on its first call.
    assert_eq!(msgs[8]["tokens"], json!({"input": 10, "output": 5}));
    assert_eq!(msgs[9]["tokens"], Value::Null);
}

#[test]
fn a_resumed_file_repeats_history_under_a_new_session_id() {
    let s = Store::new();
    let dir = tempfile::tempdir().expect("tempdir");
    // The session that was resumed, as its own file (its first two lines).
    let old = "c0ffeea1-0000-4000-8000-0000000000a1";
    let new = "c0ffeeb2-0000-4000-8000-0000000000b2";
    let text = fs::read_to_string(fixture(&format!("{new}.jsonl"))).expect("read");
    let first_two = text.lines().take(2).collect::<Vec<_>>().join("\n") + "\n";
    assert!(first_two.contains(old));
    fs::write(dir.path().join(format!("{old}.jsonl")), first_two).expect("write");
    s.import(&dir.path().join(format!("{old}.jsonl")));

    let report = s.import(&fixture(&format!("{new}.jsonl")));
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(report["messages_added"], 4);
    assert_eq!(
        skipped(&report),
        [
            skip(
                "repeated assistant line",
                "a resumed session repeats lines it already holds (same uuid)",
                1
            ),
            skip(
                "repeated user line",
                "a resumed session repeats lines it already holds (same uuid)",
                1
            ),
        ]
    );
    let old_session = s.by_ref(old);
    let resumed = s.show("claude-c0ffeeb2");
    assert_eq!(resumed["source_ref"], new);
    assert_eq!(
        messages(&resumed),
        [
            m("user", "text", "Start the server"),
            m("assistant", "text", "Started on port 8080."),
            m("user", "text", "Now stop it"),
            m("assistant", "text", "Stopped."),
        ]
    );
    // It continues the session it resumed, from its last message.
    assert_eq!(resumed["parent"], old_session["uid"]);
    assert_eq!(resumed["fork_seq"], 1);
    assert_eq!(resumed["metadata"]["relation"], "resume");
    assert_eq!(resumed["metadata"]["resumed_from"], old);
    assert_eq!(resumed["metadata"]["session_ids"], json!([old, new]));
    assert_eq!(
        resumed["metadata"]["resume_command"],
        format!("claude --resume {new}")
    );
    assert_eq!(old_session["parent"], Value::Null);
}

#[test]
fn a_compaction_keeps_the_chain_and_marks_the_summary() {
    let s = Store::new();
    let report = s.import(&fixture("compact.jsonl"));
    assert_eq!(
        skipped(&report),
        [skip(
            "line type \"custom-title\"",
            "an earlier one, replaced by a later one",
            1
        )]
    );
    let show = s.show("claude-c0ffee04");
    // The custom title wins over the AI one.
    assert_eq!(show["title"], "Parser refactor");
    assert_eq!(show["metadata"]["ai_title"], "Parser work");
    assert_eq!(show["metadata"]["custom_title"], "Parser refactor");
    assert_eq!(
        messages(&show),
        [
            m("user", "text", "Refactor the parser"),
            m("assistant", "text", "Done: the parser is split in three."),
            m(
                "system",
                "context",
                "Caveat: The messages below were generated by the user while running local commands. DO NOT respond to these messages."
            ),
            m("user", "text", "/compact keep the API notes"),
            m("system", "context", "Conversation compacted"),
            m(
                "system",
                "summary",
                "This session is being continued from a previous conversation that ran out of context. Summary: the parser was split."
            ),
            m(
                "system",
                "context",
                "<local-command-stdout>Compacted (ctrl+o to see full summary)</local-command-stdout>"
            ),
            m("user", "text", "Now add tests"),
            m("assistant", "text", "Added four tests."),
        ]
    );
    let msgs = show["messages"].as_array().expect("messages");
    assert_eq!(
        msgs[3]["metadata"],
        json!({"command": "/compact", "args": "keep the API notes"})
    );
    assert_eq!(
        msgs[4]["metadata"],
        json!({"trigger": "manual", "pre_tokens": 51234, "subtype": "compact_boundary", "level": "info"})
    );
    assert_eq!(msgs[2]["metadata"], json!({"meta": true}));
    assert_eq!(s.list().len(), 1, "the boundary's null parent is no branch");
}

#[test]
fn sidechain_lines_in_the_main_file_are_a_child_session() {
    let s = Store::new();
    let report = s.import(&fixture("sidechain.jsonl"));
    assert_eq!(report["sessions_added"], 2);
    let main = s.show("claude-c0ffee05");
    assert_eq!(
        messages(&main),
        [
            m("user", "text", "Find the config loader"),
            m("assistant", "tool_call", "Task: Search config"),
            m("tool", "tool_result", "It is in src/config.rs."),
            m(
                "assistant",
                "text",
                "The loader is in src/config.rs, line 12."
            ),
        ]
    );
    let child = s.by_ref("c0ffee05-0000-4000-8000-000000000005/sidechain-side-s1");
    let child = s.show(child["name"].as_str().expect("name"));
    assert_eq!(child["parent"], main["uid"]);
    assert_eq!(child["fork_seq"], Value::Null);
    assert_eq!(child["metadata"]["relation"], "subagent");
    assert_eq!(child["title"], "Find where the config is loaded");
    // The subagent's prompt was written by the agent that started it.
    assert_eq!(
        messages(&child),
        [
            m("assistant", "text", "Find where the config is loaded"),
            m("assistant", "tool_call", "Grep: load_config"),
            m("tool", "tool_result", "src/config.rs:12"),
            m("assistant", "text", "It is in src/config.rs."),
        ]
    );
    assert_eq!(
        child["messages"][0]["metadata"],
        json!({"from": "parent agent"})
    );
    assert_eq!(main["metadata"]["version"], "1.0.30");
}

const P1: &str = "d00dfeed-0000-4000-8000-000000000001";
const P2: &str = "d00dfee2-0000-4000-8000-000000000002";

#[test]
fn a_project_folder_gives_sessions_and_their_subagents() {
    let s = Store::new();
    let report = s.import(&fixture("project"));
    assert_eq!(report["files"], 7);
    assert_eq!(report["sessions_added"], 4);
    assert_eq!(report["messages_added"], 12);
    assert_eq!(
        skipped(&report),
        [
            skip(
                "file \"agent-<id>.meta.json\"",
                "a subagent's description, read with the transcript beside it",
                1
            ),
            skip(
                "file \"sessions-index.json\"",
                "an index of the sessions beside it, which are read themselves",
                1
            ),
            skip(
                "line type \"summary\"",
                "no conversation of the session in this file",
                1
            ),
        ]
    );
    let main = s.show("claude-d00dfeed");
    assert_eq!(main["title"], "Module map");
    assert_eq!(main["source_ref"], P1);
    assert_eq!(
        messages(&main),
        [
            m("user", "text", "Map the modules for me"),
            m("assistant", "tool_call", "Task: Map the modules"),
            m("tool", "tool_result", "Three modules: cli, store, search."),
            m(
                "assistant",
                "text",
                "There are three modules: cli, store and search."
            ),
        ]
    );
    // <session>/subagents/agent-<id>.jsonl, with its meta file beside it.
    let agent = s.show("claude-d00dfeed-agent-a1b2c3d");
    assert_eq!(agent["source_ref"], format!("{P1}/agent-a1b2c3d"));
    assert_eq!(agent["parent"], main["uid"]);
    assert_eq!(agent["fork_seq"], Value::Null);
    assert_eq!(agent["title"], "Map the modules");
    assert_eq!(
        agent["metadata"],
        json!({
            "cwd": "/home/ana/proj",
            "git_branch": "main",
            "version": "2.1.20",
            "model": "claude-sonnet-4-5",
            "agent_id": "a1b2c3d",
            "agent_type": "Explore",
            "description": "Map the modules",
            "call_id": "toolu_p1_1",
            "parent_session_id": P1,
            "relation": "subagent",
        })
    );
    assert_eq!(
        messages(&agent),
        [
            m("assistant", "text", "List every module and what it does"),
            m("assistant", "tool_call", "Glob: src/*/mod.rs"),
            m(
                "tool",
                "tool_result",
                "src/cli/mod.rs\nsrc/store/mod.rs\nsrc/search/mod.rs"
            ),
            m("assistant", "text", "Three modules: cli, store, search."),
        ]
    );
    // The older layout: agent-<id>.jsonl beside the sessions.
    let second = s.show("claude-d00dfee2");
    let warmup = s.show("claude-d00dfee2-agent-e5f6a7b");
    assert_eq!(warmup["parent"], second["uid"]);
    assert_eq!(warmup["source_ref"], format!("{P2}/agent-e5f6a7b"));
    assert_eq!(
        messages(&warmup),
        [
            m("assistant", "text", "Warmup"),
            m("assistant", "text", "Ready."),
        ]
    );

    // Importing the folder again adds nothing: its files are not even read.
    let plain = s.import(&fixture("project"));
    assert_eq!(plain["messages_added"], 0);
    assert_eq!(plain["sessions_added"], 0);
    // Read again on purpose, every session is recognised.
    let again = s.reread(&fixture("project"));
    assert_eq!(again["sessions_added"], 0);
    assert_eq!(again["messages_added"], 0);
    assert_eq!(again["sessions_unchanged"], 4);
}

#[test]
fn unknown_lines_and_blocks_are_counted_and_images_are_placeholders() {
    let s = Store::new();
    let report = s.import(&fixture("noise.jsonl"));
    let unknown_block = "not a kind of block this importer knows";
    assert_eq!(
        skipped(&report),
        [
            skip(
                "attachment \"todo\"",
                "a file, hook output or reminder attached for the model",
                1
            ),
            skip("content block \"future_block\"", unknown_block, 1),
            skip("content block \"hologram\"", unknown_block, 1),
            skip(
                "content block \"redacted_thinking\"",
                "encrypted reasoning, nothing readable",
                1
            ),
            skip(
                "line type \"future-line-type\"",
                "not a kind of line this importer knows",
                1
            ),
            skip(
                "line type \"last-prompt\"",
                "repeats a prompt already imported",
                1
            ),
            skip("line type \"mode\"", "a setting of the tool", 1),
            skip("line type \"permission-mode\"", "a setting of the tool", 1),
            skip(
                "line type \"queue-operation\"",
                "the queue of prompts typed while the model worked (each comes again as a user line or a queued command)",
                2
            ),
            skip(
                "line type \"summary\"",
                "summarises a conversation that is not in this file",
                1
            ),
            skip(
                "system line \"api_error\"",
                "a failed call to the model's API (the tool tries again)",
                1
            ),
            skip(
                "system line \"turn_duration\"",
                "no text (the tool's bookkeeping)",
                1
            ),
        ]
    );
    assert_eq!(report["skipped"], 13);
    assert_eq!(s.list().len(), 1);
    let show = s.show("claude-c0ffee06");
    // The summary whose leaf is in this file is the title.
    assert_eq!(show["title"], "Reading a screenshot and a spec");
    assert_eq!(show["metadata"]["agent_name"], "screenshot-reader");
    assert_eq!(
        show["metadata"]["pr_url"],
        "https://example.com/acme/app/pull/42"
    );
    assert_eq!(show["metadata"]["pr_number"], 42);
    assert_eq!(
        messages(&show),
        [
            m("user", "text", "What is in this screenshot?"),
            m("user", "image", "[image: image/png, 2 KB]"),
            m("assistant", "text", "A login form."),
            m("assistant", "tool_call", "Read: /home/ana/shot.png"),
            m("tool", "tool_result", ""),
            m("tool", "image", "[image: image/jpeg, 3 KB]"),
            // Typed while the model worked: it comes as an attachment only.
            m("user", "text", "also check the title bar"),
            m(
                "system",
                "context",
                "[Request interrupted by user for tool use]"
            ),
            m("system", "context", "No response requested."),
            m("user", "text", "Here is the spec"),
            m("user", "image", "[document: application/pdf, 2 KB]"),
            m("assistant", "text", "The spec asks for SSO."),
            m(
                "system",
                "context",
                "<task-notification><task-id>b1</task-id><status>completed</status></task-notification>"
            ),
            m("system", "context", "Stop hook ran: lint ok"),
        ]
    );
    let msgs = show["messages"].as_array().expect("messages");
    // 2733 base64 characters, one of them padding: 2048 bytes.
    assert_eq!(
        msgs[1]["metadata"],
        json!({"bytes": 2048, "media_type": "image/png"})
    );
    assert_eq!(
        msgs[5]["metadata"],
        json!({"bytes": 3075, "media_type": "image/jpeg", "call_id": "toolu_noi_1"})
    );
    assert_eq!(
        msgs[10]["metadata"],
        json!({"bytes": 1536, "media_type": "application/pdf", "title": "spec.pdf"})
    );
    assert_eq!(msgs[6]["metadata"], json!({"queued": true}));
    assert_eq!(msgs[8]["metadata"], json!({"synthetic": true}));
    assert_eq!(msgs[8]["model"], Value::Null);
    assert_eq!(msgs[7]["metadata"], json!({"marker": "interrupted"}));
    assert_eq!(
        msgs[12]["metadata"],
        json!({"command_mode": "task-notification", "queued": true})
    );
    assert_eq!(
        source_ids(&show),
        [
            "noi-u1", "noi-u1/1", "noi-a1", "noi-a1/1", "noi-r1", "noi-r1/1", "noi-q1", "noi-i1",
            "noi-y1", "noi-u2", "noi-u2/1", "noi-a2", "noi-q2", "noi-x2"
        ]
    );
    // No blob reaches the store.
    let all = serde_json::to_string(&show).expect("json");
    assert!(!all.contains("AAAAAAAAAAAA"));
}

#[test]
fn nulls_where_values_are_expected_are_tolerated() {
    let s = Store::new();
    let report = s.import(&fixture("nulls.jsonl"));
    assert_eq!(
        skipped(&report),
        [
            skip("assistant line", "no message in it", 1),
            skip("content block \"text\"", "empty", 1),
            skip(
                "content block without a type",
                "not a kind of block this importer knows",
                1
            ),
            skip("line type \"custom-title\"", "no title", 1),
            skip("line without a type", "nothing says what it is", 1),
            skip("user line", "no message content", 1),
        ]
    );
    let show = s.show("claude-c0ffee07");
    assert_eq!(show["title"], "Hello");
    assert_eq!(
        messages(&show),
        [
            m("user", "text", "Hello"),
            m("assistant", "tool_call", "Bash"),
            m("tool", "tool_result", ""),
            m("assistant", "text", "Hi there."),
            m("user", "text", "Still there?"),
        ]
    );
    let msgs = show["messages"].as_array().expect("messages");
    assert_eq!(
        msgs[1]["metadata"],
        json!({"tool": "Bash", "call_id": "toolu_nul_1", "input": {}})
    );
    assert_eq!(msgs[3]["tokens"], json!({"input": 0, "output": 3}));
    // No time on the line: the time of the message before it.
    assert_eq!(msgs[3]["created_at"], msgs[2]["created_at"]);
    // A line without a uuid follows the line before it, named by its place.
    assert_eq!(msgs[4]["source_id"], "line-9");
    assert_eq!(s.list().len(), 1);
}

#[test]
fn a_line_of_several_megabytes_imports() {
    let s = Store::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.jsonl");
    let output = "0123456789abcdef".repeat(400_000); // 6.4 MB of tool output
    let image = "A".repeat(4 * 1024 * 1024); // 3 MB once decoded
    let lines = [
        json!({"type": "user", "uuid": "big-u1", "parentUuid": null, "sessionId": "big",
               "timestamp": "2026-03-02T09:00:00Z",
               "message": {"role": "user", "content": [
                   {"type": "text", "text": "Look at this"},
                   {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image}}]}}),
        json!({"type": "assistant", "uuid": "big-a1", "parentUuid": "big-u1", "sessionId": "big",
               "timestamp": "2026-03-02T09:00:01Z",
               "message": {"id": "msg_big", "model": "claude-opus-4-1", "role": "assistant",
                           "content": [{"type": "tool_use", "id": "toolu_big", "name": "Bash", "input": {"command": "cat big.log"}}]}}),
        json!({"type": "user", "uuid": "big-r1", "parentUuid": "big-a1", "sessionId": "big",
               "timestamp": "2026-03-02T09:00:02Z",
               "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_big", "content": output}]}}),
    ];
    let mut f = fs::File::create(&path).expect("create");
    for l in &lines {
        writeln!(f, "{l}").expect("write");
    }
    drop(f);
    assert!(fs::metadata(&path).expect("meta").len() > 10_000_000);
    let report = s.import(&path);
    assert_eq!(report["messages_added"], 4);
    let show = s.show("claude-big");
    let msgs = show["messages"].as_array().expect("messages");
    assert_eq!(msgs[1]["content"], "[image: image/png, 3.0 MB]");
    assert_eq!(msgs[1]["metadata"]["bytes"], 3 * 1024 * 1024);
    assert_eq!(msgs[3]["kind"], "tool_result");
    assert_eq!(msgs[3]["content"].as_str().map(str::len), Some(6_400_000));
    assert_eq!(show["source_ref"], "big");
}

#[test]
fn a_malformed_line_fails_naming_the_file_and_line_and_changes_nothing() {
    let s = Store::new();
    s.import(&fixture("chain.jsonl"));
    let before = s.snapshot();
    let path = fixture("malformed.jsonl");
    let out = s.run(&["import", path.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("malformed.jsonl"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert_eq!(s.snapshot(), before);
}

#[test]
fn a_cut_last_line_fails_unless_partial_and_then_keeps_the_complete_lines() {
    let s = Store::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{CHAIN}.jsonl"));
    let text = fs::read_to_string(fixture("chain.jsonl")).expect("read");
    // Cut in the middle of the last reply's line (line 7 of 8).
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines[..6].join("\n");
    cut.push('\n');
    cut.push_str(&lines[6][..lines[6].len() / 2]);
    fs::write(&path, cut).expect("write");

    let out = s.run(&["import", path.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{CHAIN}.jsonl")), "{stderr}");
    assert!(stderr.contains("line 7"), "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
    assert!(s.list().is_empty());

    let report = s.ok(&[
        "import",
        path.to_str().expect("utf-8"),
        "--partial",
        "--json",
    ]);
    assert!(
        report["truncated"]
            .as_str()
            .is_some_and(|t| t.contains("line 7"))
    );
    let show = s.show("claude-c0ffee01");
    assert_eq!(
        messages(&show),
        [
            m("user", "text", "List the files\nin this folder"),
            m("assistant", "thinking", "The user wants a listing."),
            m("assistant", "text", "I'll list them."),
            m("assistant", "tool_call", "Bash: ls"),
            m("tool", "tool_result", "a.txt\nb.txt"),
        ]
    );
}

#[test]
fn importing_again_adds_nothing() {
    let s = Store::new();
    for f in [
        "chain.jsonl",
        "rewind.jsonl",
        "parallel.jsonl",
        "compact.jsonl",
        "sidechain.jsonl",
        "noise.jsonl",
        "nulls.jsonl",
    ] {
        s.import(&fixture(f));
    }
    let before = s.snapshot();
    assert_eq!(before.len(), 9);
    for f in [
        "chain.jsonl",
        "rewind.jsonl",
        "parallel.jsonl",
        "compact.jsonl",
        "sidechain.jsonl",
        "noise.jsonl",
        "nulls.jsonl",
    ] {
        let plain = s.import(&fixture(f));
        assert_eq!(plain["messages_added"], 0, "{f}");
        let again = s.reread(&fixture(f));
        assert_eq!(again["sessions_added"], 0, "{f}");
        assert_eq!(again["sessions_grown"], 0, "{f}");
        assert_eq!(again["messages_added"], 0, "{f}");
        assert!(again["sessions_unchanged"].as_u64() >= Some(1), "{f}");
    }
    assert_eq!(s.snapshot(), before);
}

/// A live session rewound after it was imported: the store keeps the path
/// it had, and the path taken after the rewind comes in as a branch of it,
/// forked at the last shared message; nothing is lost or stored twice.
#[test]
fn a_rewind_after_an_import_keeps_the_stored_path_and_branches() {
    let s = Store::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir
        .path()
        .join("c0ffee02-0000-4000-8000-000000000002.jsonl");
    let text = fs::read_to_string(fixture("rewind.jsonl")).expect("fixture");
    // The first six lines: the conversation before the rewind.
    let before: String = text.lines().take(6).flat_map(|l| [l, "\n"]).collect();
    fs::write(&path, &before).expect("write");
    let first = s.import(&path);
    assert_eq!(
        (
            first["sessions_added"].as_u64(),
            first["messages_added"].as_u64()
        ),
        (Some(1), Some(6))
    );
    // The person rewinds to the first reply and asks something else.
    fs::write(&path, &text).expect("write");
    let second = s.import(&path);
    assert_eq!(second["sessions_added"], 1, "{second}");
    assert_eq!(
        second["messages_added"], 4,
        "the new path, shared part included: {second}"
    );
    let kept = s.show("claude-c0ffee02");
    assert_eq!(messages(&kept).len(), 6, "the stored path is kept whole");
    let taken = s
        .list()
        .into_iter()
        .find(|x| x["source_ref"] == "c0ffee02-0000-4000-8000-000000000002@rew-u4")
        .expect("the path after the rewind, as a branch");
    assert_eq!(taken["parent"], kept["uid"]);
    assert_eq!(taken["fork_seq"], 1);
    let taken = s.show(taken["name"].as_str().expect("name"));
    assert_eq!(
        messages(&taken),
        [
            m("user", "text", "Write a haiku about rust"),
            m("assistant", "text", "Orange bloom on steel"),
            m("user", "text", "Make it funnier"),
            m(
                "assistant",
                "text",
                "A crab in a shell / segfaults? Not on my watch"
            ),
        ]
    );
    // Read again: nothing new.
    let again = s.reread(&path);
    assert_eq!(
        (
            again["sessions_added"].as_u64(),
            again["messages_added"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(s.list().len(), 2);
}

#[test]
fn appended_lines_add_only_the_new_messages() {
    let s = Store::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("{CHAIN}.jsonl"));
    fs::copy(fixture("chain.jsonl"), &path).expect("copy");
    let first = s.import(&path);
    assert_eq!(first["messages_added"], 6);

    // The conversation goes on: a prompt, and a reply over two lines.
    let more = [
        json!({"parentUuid": "chain-a4", "isSidechain": false, "type": "user", "sessionId": CHAIN,
               "cwd": "/home/ana/proj", "message": {"role": "user", "content": "Delete b.txt"},
               "uuid": "chain-u2", "timestamp": "2026-03-01T10:05:00.000Z"}),
        json!({"parentUuid": "chain-u2", "isSidechain": false, "type": "assistant", "sessionId": CHAIN,
               "message": {"id": "msg_chain_3", "model": "claude-sonnet-4-5", "role": "assistant",
                           "content": [{"type": "text", "text": "Deleting it."}]},
               "uuid": "chain-a5", "timestamp": "2026-03-01T10:05:01.000Z"}),
        json!({"parentUuid": "chain-a5", "isSidechain": false, "type": "assistant", "sessionId": CHAIN,
               "message": {"id": "msg_chain_3", "model": "claude-sonnet-4-5", "role": "assistant",
                           "content": [{"type": "tool_use", "id": "toolu_chain_2", "name": "Bash", "input": {"command": "rm b.txt"}}]},
               "uuid": "chain-a6", "timestamp": "2026-03-01T10:05:02.000Z"}),
    ];
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    for l in &more {
        writeln!(f, "{l}").expect("write");
    }
    drop(f);
    let second = s.import(&path);
    assert_eq!(second["sessions_added"], 0);
    assert_eq!(second["sessions_grown"], 1);
    assert_eq!(second["messages_added"], 3);
    let show = s.show("claude-c0ffee01");
    let all = messages(&show);
    assert_eq!(all.len(), 9);
    assert_eq!(
        all[6..],
        [
            m("user", "text", "Delete b.txt"),
            m("assistant", "text", "Deleting it."),
            m("assistant", "tool_call", "Bash: rm b.txt"),
        ]
    );
    assert_eq!(source_ids(&show)[6..], ["chain-u2", "chain-a5", "chain-a6"]);
    // And once more: nothing new.
    let third = s.import(&path);
    assert_eq!(third["messages_added"], 0);
    assert_eq!(third["sessions_unchanged"], 1);
}
