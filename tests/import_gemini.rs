//! Import of Gemini CLI session files, through the real binary: the JSONL
//! log replayed (records replacing messages, `$set`, rewinds, resumed
//! sessions rewriting history), the older single JSON file, subagents,
//! rewinds kept as branch sessions, what is skipped and why, re-imports,
//! logs that grew (records replacing earlier ones among them), and bad
//! files leaving the store as it was.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tempfile::TempDir;

const BASIC: &str = "session-2025-10-01T09-00-7f3c2a10.jsonl";
const BASIC_ID: &str = "7f3c2a10-5b6d-4e8f-9a0b-1c2d3e4f5a6b";
const REWIND: &str = "session-2025-10-02T10-00-1a2b3c4d.jsonl";
const REWIND_ID: &str = "1a2b3c4d-0000-4000-8000-000000000002";
const RESUMED: &str = "session-2025-10-03T11-00-9e8d7c6b.jsonl";
const LEGACY: &str = "session-2025-08-01T08-00-4c4c4c4c.json";
const PROJECT_HASH: &str = "5f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f60718293a4b5c6d7e8f90";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/gemini")
        .join(name)
}

use common::import::{
    import, import_fails, list, message_source_ids as source_ids, message_triples as triples,
    ok_json, reread, run, t,
};

fn names(dir: &TempDir) -> Vec<String> {
    let mut n: Vec<String> = list(dir)
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_string())
        .collect();
    n.sort();
    n
}

fn session(dir: &TempDir, name: &str) -> Value {
    list(dir)
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no session {name}"))
}

fn messages(dir: &TempDir, name: &str) -> Vec<Value> {
    ok_json(dir, &["show", name, "--json"])["messages"]
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

fn s3(what: &str, reason: &str, n: u64) -> (String, String, u64) {
    (what.into(), reason.into(), n)
}

fn snapshot(dir: &TempDir) -> String {
    let out = run(dir, &["export", "--all"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

fn head(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).expect("fixture");
    text.split_inclusive('\n').take(n).collect()
}

/// Writes records as JSON Lines.
fn write_log(path: &Path, records: &[Value]) {
    let text: String = records.iter().map(|r| r.to_string() + "\n").collect();
    fs::write(path, text).expect("write");
}

fn header(id: &str) -> Value {
    json!({"sessionId": id, "projectHash": "p", "startTime": "2025-11-01T00:00:00Z",
           "lastUpdated": "2025-11-01T00:00:00Z", "kind": "main"})
}

fn user(id: &str, text: &str) -> Value {
    json!({"id": id, "timestamp": "2025-11-01T00:00:01Z", "type": "user", "content": text})
}

fn reply(id: &str, text: &str) -> Value {
    json!({"id": id, "timestamp": "2025-11-01T00:00:02Z", "type": "gemini", "content": text,
           "model": "gemini-2.5-flash"})
}

#[test]
fn a_session_log_is_replayed() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture(BASIC));
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(report["messages_added"], 17);
    assert_eq!(
        skipped(&report),
        vec![
            s3(
                "message type \"compression\"",
                "not a kind of message scrollback reads",
                1
            ),
            s3("message", "it has no id", 1),
            s3(
                "record",
                "neither a message, a $set, a $rewindTo nor a session header",
                1
            ),
            s3(
                "content part \"videoMetadata\"",
                "not a kind of content scrollback reads",
                1
            ),
        ]
    );
    let s = session(&dir, "gemini-7f3c2a10");
    // The summary a $set gave is the title.
    assert_eq!(s["title"], "Fix the TypeScript build");
    assert_eq!(s["source"], "gemini");
    assert_eq!(s["source_ref"], BASIC_ID);
    assert_eq!(s["parent"], Value::Null);
    assert_eq!(s["created_at"], "2025-10-01T09:00:00Z");
    assert_eq!(s["updated_at"], "2025-10-01T09:02:02Z");
    assert_eq!(
        s["metadata"],
        json!({
            "project_hash": PROJECT_HASH,
            "model": "gemini-2.5-pro",
            "kind": "main",
            "resume_command": format!("gemini --resume {BASIC_ID}"),
        })
    );
    let msgs = messages(&dir, "gemini-7f3c2a10");
    assert_eq!(
        triples(&msgs),
        vec![
            t("user", "text", "Why does the build fail?"),
            // g1, written three times: thoughts, then its call, then the result.
            t(
                "assistant",
                "thinking",
                "**Checking the build**\nI should run the build."
            ),
            t("assistant", "tool_call", "run_shell_command: npm run build"),
            t(
                "tool",
                "tool_result",
                "error TS2304: Cannot find name 'foo'."
            ),
            t(
                "assistant",
                "text",
                "The build fails because `foo` is not declared."
            ),
            t("system", "context", "Request cancelled."),
            t("user", "text", "Show me the file"),
            t("user", "image", "[image: image/png, 8 B]"),
            t("assistant", "text", "Reading it."),
            t("assistant", "tool_call", "read_file: /p/src/a.ts"),
            t("assistant", "tool_call", "glob: **/*.ts"),
            t("tool", "tool_result", "export const a = foo;"),
            t("tool", "tool_result", "bad pattern"),
            t("system", "context", "Approaching context limit."),
            t("system", "context", "API error 500"),
            t("assistant", "text", "Done."),
            t("user", "text", "thanks"),
        ]
    );
    assert_eq!(
        source_ids(&msgs),
        [
            "u1", "g1", "g1/1", "g1/2", "g2", "i1", "u2", "u2/1", "g3", "g3/1", "g3/2", "g3/3",
            "g3/4", "w1", "e1", "g4", "u4"
        ]
    );
    assert_eq!(
        msgs[2]["metadata"],
        json!({"tool": "run_shell_command", "call_id": "run_shell_command-1",
               "input": {"command": "npm run build"}, "status": "success", "display_name": "Shell"})
    );
    assert_eq!(
        msgs[3]["metadata"],
        json!({"call_id": "run_shell_command-1", "tool": "run_shell_command"})
    );
    assert_eq!(
        msgs[12]["metadata"],
        json!({"call_id": "glob-3", "tool": "glob", "is_error": true})
    );
    // Tokens: on the reply's text, or its first message when it has none.
    assert_eq!(msgs[1]["tokens"], json!({"input": 1200, "output": 40}));
    assert_eq!(
        msgs[1]["metadata"],
        json!({"cache_read_tokens": 800, "thoughts_tokens": 30})
    );
    assert_eq!(msgs[4]["tokens"], json!({"input": 1500, "output": 20}));
    assert_eq!(msgs[2]["tokens"], Value::Null);
    assert_eq!(msgs[5]["metadata"], json!({"level": "info"}));
    assert_eq!(msgs[13]["metadata"], json!({"level": "warning"}));
    assert_eq!(msgs[14]["metadata"], json!({"level": "error"}));
    assert_eq!(
        msgs[7]["metadata"],
        json!({"media_type": "image/png", "bytes": 8})
    );
    assert_eq!(msgs[15]["model"], "gemini-2.5-flash");
    assert_eq!(msgs[4]["model"], "gemini-2.5-pro");
    assert_eq!(msgs[0]["model"], Value::Null);
    // Times: the thought's, the tool call's, the record's; none: the one before.
    assert_eq!(msgs[1]["created_at"], "2025-10-01T09:00:09Z");
    assert_eq!(msgs[2]["created_at"], "2025-10-01T09:00:11Z");
    assert_eq!(msgs[4]["created_at"], "2025-10-01T09:00:20Z");
    assert_eq!(msgs[16]["created_at"], "2025-10-01T09:02:02Z");
}

#[test]
fn a_rewind_keeps_the_dropped_history_as_a_branch() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture(REWIND));
    assert_eq!(report["sessions_added"], 2);
    assert_eq!(names(&dir), ["gemini-1a2b3c4d", "gemini-1a2b3c4d~2"]);
    let main = session(&dir, "gemini-1a2b3c4d");
    let branch = session(&dir, "gemini-1a2b3c4d~2");
    assert_eq!(main["source_ref"], REWIND_ID);
    assert_eq!(main["parent"], Value::Null);
    assert_eq!(
        triples(&messages(&dir, "gemini-1a2b3c4d")),
        vec![
            t("user", "text", "Write a haiku about rust"),
            t("assistant", "text", "Iron oxide blooms"),
            t(
                "user",
                "text",
                "Make it about the programming language Rust"
            ),
            t("assistant", "text", "Ownership is clear"),
        ]
    );
    assert_eq!(branch["source_ref"], format!("{REWIND_ID}@c"));
    assert_eq!(branch["parent"], main["uid"]);
    assert_eq!(branch["fork_seq"], 1);
    assert_eq!(branch["source"], "gemini");
    assert_eq!(
        triples(&messages(&dir, "gemini-1a2b3c4d~2")),
        vec![
            t("user", "text", "Write a haiku about rust"),
            t("assistant", "text", "Iron oxide blooms"),
            t("user", "text", "Make it about the language"),
            t("assistant", "text", "Borrow checker hums"),
        ]
    );
}

#[test]
fn rewinds_at_the_end_to_unknown_ids_and_ids_that_come_back() {
    let dir = TempDir::new().expect("tempdir");
    // A rewind the log ends on: the session stops before the dropped part.
    let end = dir.path().join("end.jsonl");
    write_log(
        &end,
        &[
            header("e0000001"),
            user("a", "one"),
            reply("b", "two"),
            user("c", "three"),
            json!({"$rewindTo": "c"}),
        ],
    );
    import(&dir, &end);
    assert_eq!(
        triples(&messages(&dir, "gemini-e0000001")),
        vec![t("user", "text", "one"), t("assistant", "text", "two")]
    );
    assert_eq!(
        triples(&messages(&dir, "gemini-e0000001~2")),
        vec![
            t("user", "text", "one"),
            t("assistant", "text", "two"),
            t("user", "text", "three")
        ]
    );
    assert_eq!(session(&dir, "gemini-e0000001~2")["fork_seq"], 1);

    // A rewind to an id the conversation lacks empties it (as Gemini does);
    // a dropped id that comes back is a new message.
    let unknown = dir.path().join("unknown.jsonl");
    write_log(
        &unknown,
        &[
            header("u0000001"),
            user("a", "first try"),
            reply("b", "answer"),
            json!({"$rewindTo": "nope"}),
            user("a", "second try"),
            reply("x", "other answer"),
        ],
    );
    import(&dir, &unknown);
    let main = messages(&dir, "gemini-u0000001");
    assert_eq!(
        triples(&main),
        vec![
            t("user", "text", "second try"),
            t("assistant", "text", "other answer")
        ]
    );
    assert_eq!(source_ids(&main), ["a#2", "x"]);
    let branch = session(&dir, "gemini-u0000001~2");
    assert_eq!(branch["parent"], session(&dir, "gemini-u0000001")["uid"]);
    // Nothing shared: no fork point.
    assert_eq!(branch["fork_seq"], Value::Null);
    assert_eq!(
        triples(&messages(&dir, "gemini-u0000001~2")),
        vec![
            t("user", "text", "first try"),
            t("assistant", "text", "answer")
        ]
    );
}

#[test]
fn a_resumed_session_rewrites_history_without_doubling_it() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture(RESUMED));
    assert_eq!(
        skipped(&report),
        vec![
            s3("thought part", "repeats a thought of the same message", 1),
            s3(
                "content part \"functionCall\"",
                "repeats its toolCalls entry",
                1
            ),
            s3(
                "content part \"functionResponse\"",
                "repeats the result of its toolCalls entry",
                1
            ),
        ]
    );
    // One session: the rewrite is not a branch.
    assert_eq!(names(&dir), ["gemini-9e8d7c6b"]);
    let s = session(&dir, "gemini-9e8d7c6b");
    // The second header does not move the start; the last update counts.
    assert_eq!(s["created_at"], "2025-10-03T11:00:00Z");
    assert_eq!(s["updated_at"], "2025-10-03T11:30:06Z");
    let msgs = messages(&dir, "gemini-9e8d7c6b");
    assert_eq!(
        triples(&msgs),
        vec![
            t("user", "text", "List the TODOs"),
            t("assistant", "thinking", "**Searching**\nGrep for TODO."),
            t("assistant", "tool_call", "search_file_content: TODO"),
            t("tool", "tool_result", "src/a.ts:3: TODO fix"),
            t("assistant", "text", "One TODO, in src/a.ts line 3."),
            t("user", "text", "Fix it"),
            // A thought that comes back as a content part flagged `thought`.
            t("assistant", "thinking", "Let me think."),
            t("assistant", "text", "Fixed."),
        ]
    );
    assert_eq!(
        source_ids(&msgs),
        ["q1", "r1", "r1/1", "r1/2", "r2", "q2", "r3", "r3/1"]
    );
}

#[test]
fn the_older_single_json_file() {
    let dir = TempDir::new().expect("tempdir");
    let report = import(&dir, &fixture(LEGACY));
    assert_eq!(report["messages_added"], 3);
    let s = session(&dir, "gemini-4c4c4c4c");
    assert_eq!(s["title"], "What is 2+2?");
    assert_eq!(s["created_at"], "2025-08-01T08:00:00Z");
    assert_eq!(s["updated_at"], "2025-08-01T08:05:00Z");
    assert_eq!(s["metadata"]["project_hash"], PROJECT_HASH);
    let msgs = messages(&dir, "gemini-4c4c4c4c");
    assert_eq!(
        triples(&msgs),
        vec![
            t("user", "text", "What is 2+2?"),
            t("assistant", "thinking", "Simple arithmetic."),
            t("assistant", "text", "4"),
        ]
    );
    assert_eq!(msgs[2]["tokens"], json!({"input": 10, "output": 1}));
    assert_eq!(msgs[2]["metadata"], json!({"thoughts_tokens": 5}));
    // Gemini moves an old file to JSONL when the session is resumed: the
    // new file is the same session, and only adds what is new.
    let moved = dir.path().join("session-2025-08-01T08-00-4c4c4c4c.jsonl");
    let old: Value =
        serde_json::from_str(&fs::read_to_string(fixture(LEGACY)).expect("fixture")).expect("JSON");
    let mut records = vec![
        json!({"sessionId": old["sessionId"], "projectHash": old["projectHash"],
                                  "startTime": old["startTime"], "lastUpdated": old["lastUpdated"]}),
    ];
    records.extend(
        old["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .cloned(),
    );
    records.push(user("m3", "And 3+3?"));
    write_log(&moved, &records);
    let grown = import(&dir, &moved);
    assert_eq!(grown["sessions_grown"], 1);
    assert_eq!(grown["messages_added"], 1);
    assert_eq!(
        source_ids(&messages(&dir, "gemini-4c4c4c4c")),
        ["m1", "m2", "m2/1", "m3"]
    );
}

#[test]
fn a_subagent_names_its_session_as_parent() {
    let dir = TempDir::new().expect("tempdir");
    import(&dir, &fixture(BASIC));
    import(
        &dir,
        &fixture(&format!(
            "{BASIC_ID}/5b5b5b5b-0000-4000-8000-000000000005.jsonl"
        )),
    );
    let parent = session(&dir, "gemini-7f3c2a10");
    let sub = session(&dir, "gemini-5b5b5b5b");
    assert_eq!(sub["parent"], parent["uid"]);
    assert_eq!(sub["fork_seq"], Value::Null);
    assert_eq!(sub["metadata"]["relation"], "subagent");
    assert_eq!(sub["metadata"]["kind"], "subagent");
    assert_eq!(sub["metadata"]["spawned_by"], BASIC_ID);
    assert_eq!(sub["metadata"]["directories"], json!(["/p"]));
    assert_eq!(
        triples(&messages(&dir, "gemini-5b5b5b5b")),
        vec![
            t("user", "text", "Find every use of foo"),
            t("assistant", "text", "foo is used once, in src/a.ts."),
        ]
    );
}

#[test]
fn reimport_adds_nothing() {
    let dir = TempDir::new().expect("tempdir");
    let all = [BASIC, REWIND, RESUMED, LEGACY];
    for f in all {
        import(&dir, &fixture(f));
    }
    let before = snapshot(&dir);
    for f in all {
        // Unchanged since its import: not read at all, or read and
        // recognised (a file written in the last two seconds is read again).
        let plain = import(&dir, &fixture(f));
        assert_eq!(plain["messages_added"], 0, "{f}");
        assert_eq!(plain["sessions_added"], 0, "{f}");
        // Read again on purpose: every session is recognised.
        let again = reread(&dir, &fixture(f));
        assert_eq!(again["sessions_added"], 0, "{f}");
        assert_eq!(again["sessions_grown"], 0, "{f}");
        assert_eq!(again["messages_added"], 0, "{f}");
        assert!(again["sessions_unchanged"].as_u64() >= Some(1), "{f}");
    }
    assert_eq!(snapshot(&dir), before);
}

/// A log imported as it grew, record by record, ends with the messages
/// (source ids, roles, kinds) of the whole log imported at once, none twice.
/// Records that rewrite the last reply (its tool calls, then their results)
/// add only their new messages.
#[test]
fn a_log_that_grew_adds_only_its_new_messages() {
    for name in [BASIC, RESUMED] {
        let full = fixture(name);
        let whole = TempDir::new().expect("tempdir");
        import(&whole, &full);
        let session_name = list(&whole)[0]["name"].as_str().expect("name").to_string();
        let expected = messages(&whole, &session_name);
        let lines = fs::read_to_string(&full).expect("fixture").lines().count();
        for n in 2..lines {
            let dir = TempDir::new().expect("tempdir");
            let file = dir.path().join(name);
            fs::write(&file, head(&full, n)).expect("write");
            let first = import(&dir, &file);
            fs::write(&file, head(&full, lines)).expect("write");
            let second = import(&dir, &file);
            let have = messages(&dir, &session_name);
            assert_eq!(source_ids(&have), source_ids(&expected), "{name} from {n}");
            let added = first["messages_added"].as_u64().expect("count")
                + second["messages_added"].as_u64().expect("count");
            assert_eq!(added, expected.len() as u64, "{name} from {n}");
            let rk = |m: &[Value]| -> Vec<(Value, Value)> {
                m.iter()
                    .map(|x| (x["role"].clone(), x["kind"].clone()))
                    .collect()
            };
            assert_eq!(rk(&have), rk(&expected), "{name} from {n}");
        }
    }
    // The reply g1 written with its thoughts only, then rewritten with its
    // call, then with the call's result: each import adds what is new.
    let dir = TempDir::new().expect("tempdir");
    let file = dir.path().join(BASIC);
    fs::write(&file, head(&fixture(BASIC), 4)).expect("write");
    assert_eq!(import(&dir, &file)["messages_added"], 2);
    fs::write(&file, head(&fixture(BASIC), 5)).expect("write");
    assert_eq!(import(&dir, &file)["messages_added"], 1);
    fs::write(&file, head(&fixture(BASIC), 6)).expect("write");
    let third = import(&dir, &file);
    assert_eq!(third["messages_added"], 1);
    assert_eq!(
        triples(&messages(&dir, "gemini-7f3c2a10"))[1..],
        [
            t(
                "assistant",
                "thinking",
                "**Checking the build**\nI should run the build."
            ),
            t("assistant", "tool_call", "run_shell_command: npm run build"),
            t(
                "tool",
                "tool_result",
                "error TS2304: Cannot find name 'foo'."
            ),
        ]
    );
    // What was stored stays as it was: the call keeps its first status and
    // the thinking gets no tokens (they came with a later rewrite).
    let have = messages(&dir, "gemini-7f3c2a10");
    assert_eq!(have[2]["metadata"]["status"], "executing");
    assert_eq!(have[1]["tokens"], Value::Null);
}

/// A record appended later that replaces a message others follow: the
/// store keeps what it had, nothing is doubled, and when the rewrite would
/// change the number of messages, the new version is a branch.
#[test]
fn appending_a_record_that_replaces_an_earlier_message() {
    let dir = TempDir::new().expect("tempdir");
    let file = dir.path().join("log.jsonl");
    let mut log = vec![
        header("r0000001"),
        user("a", "question"),
        reply("b", "first answer"),
        user("c", "thanks"),
        reply("d", "welcome"),
    ];
    write_log(&file, &log);
    import(&dir, &file);

    // b rewritten with the same number of messages: in place.
    log.push(reply("b", "corrected answer"));
    write_log(&file, &log);
    let again = import(&dir, &file);
    assert_eq!(again["sessions_unchanged"], 1);
    assert_eq!(again["messages_added"], 0);
    let stored = messages(&dir, "gemini-r0000001");
    assert_eq!(
        stored[1]["content"], "first answer",
        "the store keeps what it had"
    );
    // Read afresh, the log shows the rewrite in place, as Gemini does.
    let fresh = TempDir::new().expect("tempdir");
    import(&fresh, &file);
    assert_eq!(
        triples(&messages(&fresh, "gemini-r0000001")),
        vec![
            t("user", "text", "question"),
            t("assistant", "text", "corrected answer"),
            t("user", "text", "thanks"),
            t("assistant", "text", "welcome"),
        ]
    );

    // b rewritten with a tool call: more messages in the middle would put
    // the conversation out of order, so the new version is a branch.
    let mut with_call = reply("b", "let me check");
    with_call["toolCalls"] = json!([{"id": "k1", "name": "read_file", "args": {"absolute_path": "/x"},
                                     "status": "success", "result": [{"functionResponse": {"id": "k1", "name": "read_file", "response": {"output": "x!"}}}]}]);
    log.push(with_call);
    write_log(&file, &log);
    let grown = import(&dir, &file);
    assert_eq!(grown["sessions_added"], 1);
    assert_eq!(grown["sessions_grown"], 0);
    assert_eq!(grown["messages_added"], 4);
    let main = messages(&dir, "gemini-r0000001");
    assert_eq!(source_ids(&main), ["a", "b", "c", "d"]);
    assert_eq!(
        triples(&messages(&dir, "gemini-r0000001~2")),
        vec![
            t("user", "text", "question"),
            t("assistant", "text", "let me check"),
            t("assistant", "tool_call", "read_file: /x"),
            t("tool", "tool_result", "x!"),
        ]
    );
    let branch = session(&dir, "gemini-r0000001~2");
    assert_eq!(branch["parent"], session(&dir, "gemini-r0000001")["uid"]);
    assert_eq!(branch["fork_seq"], 0);
    // The same as reading the whole log at once.
    let fresh = TempDir::new().expect("tempdir");
    import(&fresh, &file);
    assert_eq!(
        source_ids(&messages(&fresh, "gemini-r0000001")),
        ["a", "b", "c", "d"]
    );
    assert_eq!(
        source_ids(&messages(&fresh, "gemini-r0000001~2")),
        ["a", "b#2", "b#2/1", "b#2/2"]
    );

    // A rewind appended after an import: the store keeps the session as it
    // had it (now the dropped part, in the log's eyes), and the path taken
    // after the rewind comes in as a branch of it; the dropped part, which
    // the session already holds, is not stored a second time.
    log.push(json!({"$rewindTo": "c"}));
    log.push(user("e", "one more"));
    write_log(&file, &log);
    let rewound = import(&dir, &file);
    assert_eq!(rewound["sessions_added"], 1, "{rewound}");
    assert_eq!(rewound["messages_added"], 3, "{rewound}");
    let all = list(&dir);
    assert!(
        all.iter().all(|s| s["source_ref"] != "r0000001@c"),
        "the dropped part is stored once, in the session"
    );
    let taken = all
        .iter()
        .find(|s| s["source_ref"] == "r0000001@e")
        .expect("the new path as a branch");
    assert_eq!(taken["parent"], session(&dir, "gemini-r0000001")["uid"]);
    assert_eq!(taken["fork_seq"], 1);
    assert_eq!(
        triples(&messages(&dir, taken["name"].as_str().expect("name"))),
        vec![
            t("user", "text", "question"),
            t("assistant", "text", "corrected answer"),
            t("user", "text", "one more"),
        ]
    );
    let main = messages(&dir, "gemini-r0000001");
    assert_eq!(source_ids(&main), ["a", "b", "c", "d"]);
    assert_eq!(main[1]["content"], "first answer");
    // The same import again adds nothing.
    let again = reread(&dir, &file);
    assert_eq!(again["messages_added"], 0, "{again}");
    assert_eq!(again["sessions_added"], 0, "{again}");
    // Read afresh, the session is the conversation after the rewind.
    let fresh = TempDir::new().expect("tempdir");
    import(&fresh, &file);
    assert_eq!(
        triples(&messages(&fresh, "gemini-r0000001")),
        vec![
            t("user", "text", "question"),
            t("assistant", "text", "corrected answer"),
            t("user", "text", "one more"),
        ]
    );
}

#[test]
fn a_malformed_record_fails_naming_file_and_line_and_keeps_the_store() {
    let dir = TempDir::new().expect("tempdir");
    import(&dir, &fixture(LEGACY));
    let before = snapshot(&dir);
    let err = import_fails(&dir, &fixture("malformed.jsonl"));
    assert!(err.contains("malformed.jsonl"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_truncated_log_fails_unless_partial() {
    let dir = TempDir::new().expect("tempdir");
    import(&dir, &fixture(LEGACY));
    let before = snapshot(&dir);
    let text = fs::read_to_string(fixture(BASIC)).expect("fixture");
    let cut = text.trim_end().len() - 20;
    let file = dir.path().join("cut.jsonl");
    fs::write(&file, &text[..cut]).expect("write");
    let err = import_fails(&dir, &file);
    assert!(err.contains("cut.jsonl"), "{err}");
    assert!(err.contains("line 19"), "{err}");
    assert!(err.contains("truncated"), "{err}");
    assert_eq!(snapshot(&dir), before);
    let report = ok_json(
        &dir,
        &[
            "import",
            "--json",
            "--partial",
            file.to_str().expect("utf-8"),
        ],
    );
    // Everything but the cut last record ("thanks").
    assert_eq!(report["messages_added"], 16);
    // A legacy file cut in the middle: nothing of it, and it says where.
    let legacy = fs::read_to_string(fixture(LEGACY)).expect("fixture");
    let cut_json = dir.path().join("cut.json");
    fs::write(&cut_json, &legacy[..legacy.len() / 2]).expect("write");
    let err = import_fails(&dir, &cut_json);
    assert!(
        err.contains("cut.json") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn nulls_and_wrong_types_are_skipped_not_fatal() {
    let dir = TempDir::new().expect("tempdir");
    let file = dir.path().join("odd.jsonl");
    write_log(
        &file,
        &[
            json!({"sessionId": "odd00001", "projectHash": null, "startTime": null, "lastUpdated": 5}),
            json!({"id": "a", "type": "user", "timestamp": null, "content": [null, 5, {"text": null}, {"text": "hi"}]}),
            json!({"id": "b", "type": "gemini", "content": null, "thoughts": null, "tokens": "many",
                   "toolCalls": [null, {"id": null, "name": null, "args": null, "result": null}]}),
            json!({"id": "c", "type": null, "content": "?"}),
            json!({"$rewindTo": 5}),
            json!({"$set": [1]}),
            json!({"$set": {"messages": "all of them"}}),
            json!([1, 2]),
            json!({"id": "d", "type": "gemini", "content": {"text": "one part"}, "toolCalls": "none"}),
        ],
    );
    let report = import(&dir, &file);
    assert_eq!(
        triples(&messages(&dir, "gemini-odd00001")),
        vec![
            t("user", "text", "hi"),
            t("assistant", "tool_call", "tool"),
            t("assistant", "text", "one part"),
        ]
    );
    let whats: Vec<String> = skipped(&report).into_iter().map(|s| s.0).collect();
    assert_eq!(
        whats,
        [
            "content part",
            "content part \"text\"",
            "toolCalls entry",
            "message",
            "$rewindTo record",
            "$set record",
            "$set.messages",
            "record",
            "toolCalls",
        ]
    );
    assert_eq!(report["skipped"], 10);
}

#[test]
fn a_header_alone_is_no_session() {
    let dir = TempDir::new().expect("tempdir");
    let folder = dir.path().join("chats");
    fs::create_dir(&folder).expect("mkdir");
    write_log(&folder.join("session-a.jsonl"), &[header("h0000001")]);
    fs::copy(fixture(LEGACY), folder.join("session-b.json")).expect("copy");
    let report = import(&dir, &folder);
    assert_eq!(report["sessions_added"], 1);
    assert_eq!(
        skipped(&report),
        vec![s3("session", "it holds no messages", 1)]
    );
    assert_eq!(names(&dir), ["gemini-4c4c4c4c"]);
}
