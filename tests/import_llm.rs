//! Importing llm's logs.db: the older tables, the newer ones (threads,
//! turns, messages, parts) with a fork, a file upgraded from one to the
//! other, and the files that must be refused (damaged, another program's,
//! locked), all with the real binary. The databases are built here.

mod common;

use std::path::Path;

use rusqlite::{Connection, params};
use serde_json::{Value, json};

const OLD_SCHEMA: &str = r#"
CREATE TABLE "conversations" ("id" TEXT PRIMARY KEY, "name" TEXT, "model" TEXT);
CREATE TABLE "responses" (
  "id" TEXT PRIMARY KEY, "model" TEXT, "prompt" TEXT, "system" TEXT, "prompt_json" TEXT,
  "options_json" TEXT, "response" TEXT, "response_json" TEXT,
  "conversation_id" TEXT REFERENCES "conversations"("id"), "duration_ms" INTEGER,
  "datetime_utc" TEXT, "input_tokens" INTEGER, "output_tokens" INTEGER, "token_details" TEXT,
  "schema_id" TEXT, "resolved_model" TEXT, "reasoning" TEXT);
CREATE TABLE "attachments" ("id" TEXT PRIMARY KEY, "type" TEXT, "path" TEXT, "url" TEXT, "content" BLOB);
CREATE TABLE "prompt_attachments" ("response_id" TEXT, "attachment_id" TEXT, "order" INTEGER,
  PRIMARY KEY ("response_id", "attachment_id"));
CREATE TABLE "fragments" ("id" INTEGER PRIMARY KEY, "hash" TEXT, "content" TEXT, "datetime_utc" TEXT, "source" TEXT);
CREATE TABLE "prompt_fragments" ("response_id" TEXT, "fragment_id" INTEGER, "order" INTEGER,
  PRIMARY KEY ("response_id", "fragment_id", "order"));
CREATE TABLE "system_fragments" ("response_id" TEXT, "fragment_id" INTEGER, "order" INTEGER,
  PRIMARY KEY ("response_id", "fragment_id", "order"));
CREATE TABLE "tools" ("id" INTEGER PRIMARY KEY, "hash" TEXT, "name" TEXT, "description" TEXT,
  "input_schema" TEXT, "plugin" TEXT);
CREATE TABLE "tool_calls" ("id" INTEGER PRIMARY KEY, "response_id" TEXT, "tool_id" INTEGER,
  "name" TEXT, "arguments" TEXT, "tool_call_id" TEXT);
CREATE TABLE "tool_results" ("id" INTEGER PRIMARY KEY, "response_id" TEXT, "tool_id" INTEGER,
  "name" TEXT, "output" TEXT, "tool_call_id" TEXT, "instance_id" INTEGER, "exception" TEXT);
"#;

/// The newer tables as llm's documentation gives them (`tool_name` and a
/// JSON `payload` beside `text`).
const NEW_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS "attachments" ("id" TEXT PRIMARY KEY, "type" TEXT, "path" TEXT, "url" TEXT, "content" BLOB);
CREATE TABLE IF NOT EXISTS "fragments" ("id" INTEGER PRIMARY KEY, "hash" TEXT, "content" TEXT, "datetime_utc" TEXT, "source" TEXT);
CREATE TABLE "messages" ("hash" TEXT PRIMARY KEY, "parent_hash" TEXT, "role" TEXT, "provider_metadata" TEXT);
CREATE TABLE "parts" ("id" INTEGER PRIMARY KEY, "message_hash" TEXT, "position" INTEGER, "type" TEXT,
  "tool_name" TEXT, "text" TEXT, "payload" TEXT);
CREATE TABLE "part_attachments" ("part_id" INTEGER, "attachment_id" TEXT, "order" INTEGER,
  PRIMARY KEY ("part_id", "attachment_id"));
CREATE TABLE "threads" ("id" TEXT PRIMARY KEY, "name" TEXT, "tip_message_hash" TEXT,
  "forked_from" TEXT, "datetime_utc" TEXT);
CREATE TABLE "turns" ("id" TEXT PRIMARY KEY, "thread_id" TEXT, "parent_message_hash" TEXT,
  "tip_message_hash" TEXT, "model" TEXT, "resolved_model" TEXT, "options_json" TEXT,
  "schema_id" TEXT, "input_tokens" INTEGER, "output_tokens" INTEGER, "token_details" TEXT,
  "duration_ms" INTEGER, "datetime_utc" TEXT);
"#;

fn sql(db: &Connection, q: &str, p: impl rusqlite::Params) {
    db.execute(q, p).expect(q);
}

fn response(db: &Connection, r: [Option<&str>; 5], conv: Option<&str>, time: Option<&str>) {
    sql(
        db,
        "INSERT INTO responses (id, model, prompt, system, response, conversation_id, duration_ms, \
         datetime_utc, input_tokens, output_tokens, options_json) VALUES (?1,?2,?3,?4,?5,?6,1500,?7,8,3,'{}')",
        params![r[0], r[1], r[2], r[3], r[4], conv, time],
    );
}

/// An older logs.db: a conversation with a system prompt said twice, a
/// fragment, an attachment, a tool call and its result; a conversation
/// with no responses; a response without a conversation; a conversation
/// whose only response is empty.
fn old_db(path: &Path) {
    let db = Connection::open(path).expect("open");
    db.execute_batch(OLD_SCHEMA).expect("schema");
    sql(
        &db,
        "INSERT INTO conversations VALUES ('01hzold1aaaaaaaaaaaaaaaaaa', 'Pelican names', 'gpt-4o-mini'), \
         ('01hzold2bbbbbbbbbbbbbbbbbb', 'Never used', 'gpt-4o-mini'), \
         ('01hzold3cccccccccccccccccc', NULL, NULL)",
        [],
    );
    let c1 = Some("01hzold1aaaaaaaaaaaaaaaaaa");
    response(
        &db,
        [
            Some("01hzr1"),
            Some("gpt-4o-mini"),
            Some("Name a pet pelican"),
            Some("Be brief"),
            Some("Percy."),
        ],
        c1,
        Some("2024-05-01T10:00:00.000000"),
    );
    response(
        &db,
        [
            Some("01hzr2"),
            Some("gpt-4o-mini"),
            Some("Another, for this photo"),
            Some("Be brief"),
            Some("Pete."),
        ],
        c1,
        Some("2024-05-01T10:01:00.000000"),
    );
    response(
        &db,
        [
            Some("01hzr3"),
            Some("gpt-4o-mini"),
            Some("Weather for the pelican?"),
            None,
            Some(""),
        ],
        c1,
        Some("2024-05-01T10:02:00.000000"),
    );
    response(
        &db,
        [
            Some("01hzr4"),
            Some("gpt-4o-mini"),
            None,
            None,
            Some("It rains in Oslo."),
        ],
        c1,
        Some("2024-05-01T10:03:00.000000"),
    );
    sql(
        &db,
        "UPDATE responses SET reasoning = 'Pelicans like fish names' WHERE id = '01hzr2'",
        [],
    );
    sql(
        &db,
        "INSERT INTO attachments VALUES ('att1', 'image/png', '/tmp/p.png', NULL, zeroblob(2048))",
        [],
    );
    sql(
        &db,
        "INSERT INTO prompt_attachments VALUES ('01hzr2', 'att1', 0)",
        [],
    );
    sql(
        &db,
        "INSERT INTO fragments VALUES (1, 'fh1', 'Pelican facts: big beaks.', NULL, 'facts.txt')",
        [],
    );
    sql(
        &db,
        "INSERT INTO prompt_fragments VALUES ('01hzr2', 1, 0)",
        [],
    );
    sql(
        &db,
        "INSERT INTO tool_calls VALUES (1, '01hzr3', NULL, 'get_weather', '{\"city\": \"Oslo\"}', 'call1')",
        [],
    );
    sql(
        &db,
        "INSERT INTO tool_results VALUES (1, '01hzr4', NULL, 'get_weather', 'rain', 'call1', NULL, NULL)",
        [],
    );
    // A response without a conversation, with null times and model.
    response(
        &db,
        [
            Some("01hzlone"),
            None,
            Some("A lone prompt\nwith two lines"),
            None,
            Some("A lone reply."),
        ],
        None,
        None,
    );
    // A conversation whose only response says nothing.
    response(
        &db,
        [Some("01hzempty"), Some("m"), None, None, None],
        Some("01hzold3cccccccccccccccccc"),
        Some("2024-05-02T00:00:00"),
    );
}

fn message(db: &Connection, hash: &str, parent: Option<&str>, role: &str) {
    sql(
        db,
        "INSERT INTO messages (hash, parent_hash, role) VALUES (?1, ?2, ?3)",
        params![hash, parent, role],
    );
}

fn part(
    db: &Connection,
    hash: &str,
    pos: i64,
    ty: &str,
    text: Option<&str>,
    tool: Option<&str>,
    payload: Option<Value>,
) -> i64 {
    sql(
        db,
        "INSERT INTO parts (message_hash, position, type, tool_name, text, payload) VALUES (?1,?2,?3,?4,?5,?6)",
        params![hash, pos, ty, tool, text, payload.map(|p| p.to_string())],
    );
    db.last_insert_rowid()
}

fn turn(db: &Connection, id: &str, thread: &str, parent: &str, tip: &str, model: &str, time: &str) {
    sql(
        db,
        "INSERT INTO turns (id, thread_id, parent_message_hash, tip_message_hash, model, input_tokens, \
         output_tokens, duration_ms, datetime_utc) VALUES (?1,?2,?3,?4,?5,10,5,2000,?6)",
        params![id, thread, parent, tip, model, time],
    );
}

/// A newer logs.db: a thread with a system prompt, reasoning, a fragment
/// by reference, an attachment, a tool call and result and an unknown part;
/// a fork of it; a thread with no tip.
fn new_tables(db: &Connection) {
    db.execute_batch(NEW_SCHEMA).expect("schema");
    message(db, "b2:m0", None, "system");
    part(
        db,
        "b2:m0",
        0,
        "text",
        Some("You are a zoo keeper."),
        None,
        None,
    );
    message(db, "b2:m1", Some("b2:m0"), "user");
    part(
        db,
        "b2:m1",
        0,
        "text",
        Some("Suggest a name for a pet walrus"),
        None,
        None,
    );
    message(db, "b2:m2", Some("b2:m1"), "assistant");
    part(
        db,
        "b2:m2",
        0,
        "reasoning",
        Some("Walruses are big."),
        None,
        None,
    );
    part(db, "b2:m2", 1, "text", Some("Wallace."), None, None);
    message(db, "b2:m3", Some("b2:m2"), "user");
    sql(
        db,
        "INSERT OR IGNORE INTO fragments VALUES (7, 'fh7', 'Walrus facts: tusks.', NULL, 'walrus.txt')",
        [],
    );
    part(
        db,
        "b2:m3",
        0,
        "text",
        None,
        None,
        Some(json!({"text_ref": [{"fragment": 7}, {"literal": "\nSummarise this and the photo"}]})),
    );
    let p = part(db, "b2:m3", 1, "attachment", None, None, None);
    sql(
        db,
        "INSERT OR IGNORE INTO attachments VALUES ('att9', 'image/jpeg', NULL, 'https://example.com/w.jpg', zeroblob(4096))",
        [],
    );
    sql(
        db,
        "INSERT INTO part_attachments VALUES (?1, 'att9', 0)",
        [p],
    );
    message(db, "b2:m4", Some("b2:m3"), "assistant");
    part(
        db,
        "b2:m4",
        0,
        "tool_call",
        None,
        Some("search"),
        Some(json!({"arguments": {"q": "walrus"}, "tool_call_id": "tc1"})),
    );
    message(db, "b2:m5", Some("b2:m4"), "user");
    part(
        db,
        "b2:m5",
        0,
        "tool_result",
        None,
        Some("search"),
        Some(json!({"output": "Walruses eat clams.", "tool_call_id": "tc1"})),
    );
    message(db, "b2:m6", Some("b2:m5"), "assistant");
    part(
        db,
        "b2:m6",
        0,
        "text",
        Some("They eat clams, and love tusks."),
        None,
        None,
    );
    part(
        db,
        "b2:m6",
        1,
        "citation",
        None,
        None,
        Some(json!({"url": "x"})),
    );
    // The fork: from the first reply, another question.
    message(db, "b2:m7", Some("b2:m2"), "user");
    part(db, "b2:m7", 0, "text", Some("And a seal?"), None, None);
    message(db, "b2:m8", Some("b2:m7"), "assistant");
    part(db, "b2:m8", 0, "text", Some("Sammy."), None, None);
    sql(
        db,
        "INSERT INTO threads VALUES ('01jnewthread1aaaaaaaaaaaaa', 'Walrus names', 'b2:m6', NULL, '2025-03-01 10:00:00.000000+00:00'), \
         ('01jnewfork1bbbbbbbbbbbbbbb', NULL, 'b2:m8', '01jnewthread1aaaaaaaaaaaaa', '2025-03-01 11:00:00.000000+00:00'), \
         ('01jnewempty1ccccccccccccccc', 'Nothing yet', NULL, NULL, '2025-03-01 12:00:00+00:00')",
        [],
    );
    let t1 = "01jnewthread1aaaaaaaaaaaaa";
    turn(
        db,
        "01jt1",
        t1,
        "b2:m1",
        "b2:m2",
        "claude-3-haiku",
        "2025-03-01 10:00:01.000000+00:00",
    );
    turn(
        db,
        "01jt2",
        t1,
        "b2:m3",
        "b2:m4",
        "claude-3-haiku",
        "2025-03-01 10:01:00.000000+00:00",
    );
    turn(
        db,
        "01jt3",
        t1,
        "b2:m5",
        "b2:m6",
        "claude-3-haiku",
        "2025-03-01 10:02:00.000000+00:00",
    );
    turn(
        db,
        "01jt4",
        "01jnewfork1bbbbbbbbbbbbbbb",
        "b2:m7",
        "b2:m8",
        "gpt-4o",
        "2025-03-01 11:00:01.000000+00:00",
    );
}

fn new_db(path: &Path) {
    let db = Connection::open(path).expect("open");
    new_tables(&db);
}

use common::import::{Env, skipped, source_ids, t, triples};

fn hash_file(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read")
}

#[test]
fn the_older_tables_give_one_session_per_conversation() {
    let env = Env::new();
    let logs = env.file("logs.db");
    old_db(&logs);
    let before = hash_file(&logs);
    let (ok, report, err) = env.import(&[], &[&logs]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 2, "{report}");
    assert_eq!(report["messages_added"], 14, "{report}");
    assert_eq!(
        skipped(&report),
        vec![
            ("llm conversation".into(), "no messages in it".into(), 1),
            ("llm conversation".into(), "no responses in it".into(), 1),
            (
                "llm response".into(),
                "no prompt and no reply in it".into(),
                1
            ),
        ]
    );
    // Read-only: the file is as it was, and no journal was left beside it.
    assert_eq!(hash_file(&logs), before);
    let names: Vec<String> = std::fs::read_dir(&env.home)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["logs.db"]);

    let s = env.show("llm-01hzold1");
    assert_eq!(s["title"], "Pelican names");
    assert_eq!(s["source"], "llm");
    assert_eq!(s["source_ref"], "01hzold1aaaaaaaaaaaaaaaaaa");
    assert_eq!(
        s["metadata"],
        json!({"model": "gpt-4o-mini", "resume_command": "llm chat --cid 01hzold1aaaaaaaaaaaaaaaaaa"})
    );
    assert_eq!(
        triples(&s),
        vec![
            t("system", "context", "Be brief"),
            t("user", "text", "Name a pet pelican"),
            t("assistant", "text", "Percy."),
            t("user", "context", "Pelican facts: big beaks."),
            t("user", "text", "Another, for this photo"),
            t("user", "image", "[image: image/png, 2 KB]"),
            t("assistant", "thinking", "Pelicans like fish names"),
            t("assistant", "text", "Pete."),
            t("user", "text", "Weather for the pelican?"),
            t("assistant", "tool_call", "get_weather: {\"city\":\"Oslo\"}"),
            t("tool", "tool_result", "rain"),
            t("assistant", "text", "It rains in Oslo."),
        ]
    );
    assert_eq!(
        source_ids(&s),
        [
            "01hzr1", "01hzr1/1", "01hzr1/2", "01hzr2", "01hzr2/1", "01hzr2/2", "01hzr2/3",
            "01hzr2/4", "01hzr3", "01hzr3/1", "01hzr4", "01hzr4/1"
        ]
    );
    let m = &s["messages"];
    assert_eq!(m[2]["model"], "gpt-4o-mini");
    assert_eq!(m[2]["tokens"], json!({"input": 8, "output": 3}));
    assert_eq!(m[2]["metadata"]["duration_ms"], 1500);
    assert_eq!(m[1]["created_at"], "2024-05-01T10:00:00Z");
    assert_eq!(m[2]["created_at"], "2024-05-01T10:00:01.5Z");
    assert_eq!(m[3]["metadata"]["fragment_source"], "facts.txt");
    assert_eq!(m[5]["metadata"]["bytes"], 2048);
    assert_eq!(m[5]["metadata"]["media_type"], "image/png");
    // A tool call with no reply text carries the response's tokens.
    assert_eq!(
        m[9]["metadata"],
        json!({"tool": "get_weather", "call_id": "call1", "input": {"city": "Oslo"}})
    );
    assert_eq!(m[9]["tokens"], json!({"input": 8, "output": 3}));
    assert_eq!(
        m[10]["metadata"],
        json!({"call_id": "call1", "tool": "get_weather"})
    );

    // The response without a conversation: its own session, titled by its prompt.
    let lone = env.show("llm-01hzlone");
    assert_eq!(lone["title"], "A lone prompt");
    assert_eq!(lone["source_ref"], "01hzlone");
    assert_eq!(
        triples(&lone),
        vec![
            t("user", "text", "A lone prompt\nwith two lines"),
            t("assistant", "text", "A lone reply."),
        ]
    );
    assert!(lone["messages"][1]["model"].is_null());

    // Again: nothing new.
    let (ok, again, err) = env.import(&[], &[&logs]);
    assert!(ok, "{err}");
    assert_eq!(again["sessions_added"], 0);
    assert_eq!(again["messages_added"], 0);
    assert_eq!(again["sessions_unchanged"], 2);

    // llm goes on with the conversation: only the new exchange is added.
    let db = Connection::open(&logs).expect("open");
    response(
        &db,
        [
            Some("01hzr5"),
            Some("gpt-4o-mini"),
            Some("Thanks"),
            Some("Be brief"),
            Some("You're welcome."),
        ],
        Some("01hzold1aaaaaaaaaaaaaaaaaa"),
        Some("2024-05-01T10:04:00"),
    );
    drop(db);
    let (ok, grew, err) = env.import(&[], &[&logs]);
    assert!(ok, "{err}");
    assert_eq!(grew["sessions_grown"], 1, "{grew}");
    assert_eq!(grew["messages_added"], 2, "{grew}");
    let s = env.show("llm-01hzold1");
    assert_eq!(
        triples(&s)[12..],
        [
            t("user", "text", "Thanks"),
            t("assistant", "text", "You're welcome.")
        ]
    );
}

#[test]
fn the_newer_tables_give_threads_and_forks_as_branches() {
    let env = Env::new();
    let logs = env.file("logs.db");
    new_db(&logs);
    let (ok, report, err) = env.import(&[], &[&logs]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 2, "{report}");
    assert_eq!(
        skipped(&report),
        vec![
            (
                "llm part type \"citation\"".into(),
                "not a kind of content scrollback knows".into(),
                1
            ),
            ("llm thread".into(), "no messages in it".into(), 1),
        ]
    );
    let main = env.show("llm-01jnewth");
    assert_eq!(main["title"], "Walrus names");
    assert_eq!(main["source_ref"], "01jnewthread1aaaaaaaaaaaaa");
    assert_eq!(
        triples(&main),
        vec![
            t("system", "context", "You are a zoo keeper."),
            t("user", "text", "Suggest a name for a pet walrus"),
            t("assistant", "thinking", "Walruses are big."),
            t("assistant", "text", "Wallace."),
            t("user", "context", "Walrus facts: tusks."),
            t("user", "text", "Summarise this and the photo"),
            t("user", "image", "[image: image/jpeg, 4 KB]"),
            t("assistant", "tool_call", "search: {\"q\":\"walrus\"}"),
            t("tool", "tool_result", "Walruses eat clams."),
            t("assistant", "text", "They eat clams, and love tusks."),
        ]
    );
    assert_eq!(
        source_ids(&main),
        [
            "b2:m0", "b2:m1", "b2:m2", "b2:m2/1", "b2:m3", "b2:m3/1", "b2:m3/2", "b2:m4", "b2:m5",
            "b2:m6"
        ]
    );
    let m = &main["messages"];
    assert_eq!(m[1]["created_at"], "2025-03-01T10:00:01Z");
    assert_eq!(m[3]["model"], "claude-3-haiku");
    assert_eq!(m[3]["created_at"], "2025-03-01T10:00:03Z");
    assert_eq!(m[3]["tokens"], json!({"input": 10, "output": 5}));
    assert!(
        m[2]["tokens"].is_null(),
        "tokens go to the reply's last message"
    );
    assert_eq!(m[6]["metadata"]["url"], "https://example.com/w.jpg");
    assert_eq!(m[7]["metadata"]["call_id"], "tc1");
    assert_eq!(m[7]["metadata"]["input"], json!({"q": "walrus"}));
    assert_eq!(
        m[8]["metadata"],
        json!({"call_id": "tc1", "tool": "search"})
    );
    assert_eq!(
        main["metadata"]["resume_command"],
        "llm chat --cid 01jnewthread1aaaaaaaaaaaaa"
    );

    let fork = env.show("llm-01jnewfo");
    assert_eq!(fork["parent"], main["uid"]);
    // m0, m1 and m2 (two messages) are shared: seqs 0 to 3.
    assert_eq!(fork["fork_seq"], 3);
    assert_eq!(fork["metadata"]["relation"], "fork");
    assert_eq!(fork["title"], "Suggest a name for a pet walrus");
    assert_eq!(
        triples(&fork)[4..],
        [
            t("user", "text", "And a seal?"),
            t("assistant", "text", "Sammy.")
        ]
    );
    assert_eq!(fork["messages"][5]["model"], "gpt-4o");

    let (ok, again, err) = env.import(&[], &[&logs]);
    assert!(ok, "{err}");
    assert_eq!(again["sessions_unchanged"], 2);
    assert_eq!(again["messages_added"], 0);
}

#[test]
fn an_upgraded_file_gives_each_conversation_once() {
    let env = Env::new();
    let logs = env.file("logs.db");
    old_db(&logs);
    let db = Connection::open(&logs).expect("open");
    new_tables(&db);
    // The newer tables hold the first old conversation too, under its id.
    sql(
        &db,
        "UPDATE threads SET id = '01hzold1aaaaaaaaaaaaaaaaaa' WHERE id = '01jnewthread1aaaaaaaaaaaaa'",
        [],
    );
    sql(
        &db,
        "UPDATE threads SET forked_from = '01hzold1aaaaaaaaaaaaaaaaaa' WHERE forked_from IS NOT NULL",
        [],
    );
    sql(
        &db,
        "UPDATE turns SET thread_id = '01hzold1aaaaaaaaaaaaaaaaaa' WHERE thread_id = '01jnewthread1aaaaaaaaaaaaa'",
        [],
    );
    drop(db);
    let (ok, report, err) = env.import(&[], &[&logs]);
    assert!(ok, "{err}");
    // The lone response and the thread (from the newer tables) and its fork.
    assert_eq!(report["sessions_added"], 3, "{report}");
    assert!(
        skipped(&report).contains(&(
            "llm response".into(),
            "its conversation is in the newer tables too (imported from there)".into(),
            4
        )),
        "{report}"
    );
    let sessions = env.list(&[]);
    let refs: Vec<&str> = sessions
        .iter()
        .map(|s| s["source_ref"].as_str().expect("ref"))
        .collect();
    assert_eq!(refs.len(), 3, "{refs:?}");
    for r in [
        "01hzold1aaaaaaaaaaaaaaaaaa",
        "01hzlone",
        "01jnewfork1bbbbbbbbbbbbbbb",
    ] {
        assert!(refs.contains(&r), "{refs:?}");
    }
    let s = env.show("llm-01hzold1");
    assert_eq!(s["title"], "Walrus names");
    assert_eq!(s["messages"].as_array().map(Vec::len), Some(10));
    let fork = env.show("llm-01jnewfo");
    assert_eq!(fork["parent"], s["uid"]);
}

#[test]
fn missing_optional_columns_are_tolerated() {
    // Only the columns the format notes name.
    let env = Env::new();
    let logs = env.file("logs.db");
    let db = Connection::open(&logs).expect("open");
    db.execute_batch(
        "CREATE TABLE threads (id TEXT, name TEXT, tip_message_hash TEXT, forked_from TEXT, datetime_utc TEXT);
         CREATE TABLE turns (id TEXT, thread_id TEXT, parent_message_hash TEXT, tip_message_hash TEXT,
           model TEXT, datetime_utc TEXT, input_tokens INTEGER, output_tokens INTEGER);
         CREATE TABLE messages (hash TEXT, parent_hash TEXT, role TEXT);
         CREATE TABLE parts (id INTEGER PRIMARY KEY, message_hash TEXT, position INTEGER, type TEXT, text TEXT);
         INSERT INTO messages VALUES ('h1', NULL, 'user'), ('h2', 'h1', 'assistant'), ('h3', 'h2', 'critic');
         INSERT INTO parts (message_hash, position, type, text) VALUES
           ('h1', 0, 'text', 'Hi there'), ('h2', 0, 'text', 'Hello.'),
           ('h2', 1, 'tool_call', '{\"q\": 1}'), ('h3', 0, 'text', 'meh');
         INSERT INTO threads VALUES ('01jmini', NULL, 'h3', NULL, NULL);
         INSERT INTO turns VALUES ('01jminiturn', NULL, 'h1', 'h2', 'tiny', NULL, NULL, 7);",
    )
    .expect("schema");
    drop(db);
    let (ok, report, err) = env.import(&[], &[&logs]);
    assert!(ok, "{err}");
    // The thread, and the turn logged without a thread.
    assert_eq!(report["sessions_added"], 2, "{report}");
    assert_eq!(
        skipped(&report),
        vec![(
            "llm message".into(),
            "its role is not user, assistant, system nor tool".into(),
            1
        )]
    );
    let s = env.show("llm-01jmini");
    assert_eq!(s["title"], "Hi there");
    assert_eq!(
        triples(&s),
        vec![
            t("user", "text", "Hi there"),
            t("assistant", "text", "Hello."),
            t("assistant", "tool_call", "tool: {\"q\":1}"),
        ]
    );
    assert_eq!(s["messages"][2]["tokens"], json!({"input": 0, "output": 7}));
    assert_eq!(s["messages"][1]["model"], "tiny");
    let lone = env.show("llm-01jminit");
    assert_eq!(lone["source_ref"], "01jminiturn");
    assert!(lone["metadata"].get("resume_command").is_none());
}

fn assert_refused(env: &Env, path: &Path, wanted: &str) {
    let (ok, _, err) = env.import(&[], &[path]);
    assert!(!ok, "imported {}", path.display());
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains(wanted), "{err}");
}

#[test]
fn damaged_foreign_and_locked_files_are_refused_and_left_alone() {
    let env = Env::new();
    // Something in the store first: a refused file must not change it.
    let good = env.file("good.db");
    old_db(&good);
    let (ok, _, err) = env.import(&[], &[&good]);
    assert!(ok, "{err}");
    let before = env.list(&[]);

    let corrupt = env.file("corrupt.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 8192));
    std::fs::write(&corrupt, &bytes).expect("write");
    assert_refused(&env, &corrupt, "not a SQLite database, or one damaged");
    assert_eq!(std::fs::read(&corrupt).expect("read"), bytes);

    let foreign = env.file("foreign.db");
    let db = Connection::open(&foreign).expect("open");
    db.execute_batch(
        "CREATE TABLE notes (id INTEGER, body TEXT); INSERT INTO notes VALUES (1, 'x');",
    )
    .expect("schema");
    drop(db);
    assert_refused(&env, &foreign, "not llm's logs.db");

    let empty = env.file("empty.db");
    let db = Connection::open(&empty).expect("open");
    db.execute_batch(OLD_SCHEMA).expect("schema");
    drop(db);
    assert_refused(&env, &empty, "no sessions in it");

    let locked = env.file("locked.db");
    old_db(&locked);
    let holder = Connection::open(&locked).expect("open");
    holder
        .execute_batch("BEGIN EXCLUSIVE; UPDATE conversations SET name = name;")
        .expect("lock");
    assert_refused(&env, &locked, "locked by another program");
    holder.execute_batch("ROLLBACK").expect("unlock");

    assert_eq!(env.list(&[]), before);
}
