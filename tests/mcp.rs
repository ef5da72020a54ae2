//! `scrollback mcp`: the real binary driven over stdio by a JSON-RPC client
//! written here: initialize, list the tools, call each of them.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use scrollback::{NewMessage, NewSession, Role, Store};
use serde_json::{Value, json};

struct Client {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Client {
    fn start(home: &Path, db: &Path, config: &str) -> Client {
        let config_path = home.join("config.toml");
        std::fs::write(&config_path, config).expect("config");
        let mut child = common::scrollback(home)
            .arg("--db")
            .arg(db)
            .arg("--config")
            .arg(&config_path)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("scrollback mcp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            lines,
            next_id: 1,
        }
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").expect("write");
        self.stdin.flush().expect("flush");
    }

    /// Sends a request and waits (at most a minute) for its answer.
    fn request(&mut self, method: &str, params: &Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_mins(1))
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line}"));
            if v["id"] == id {
                return v;
            }
        }
    }

    fn initialize(&mut self) -> Value {
        let r = self.request(
            "initialize",
            &json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "test-client", "version": "1.0" }
            }),
        );
        self.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
        r
    }

    /// Calls a tool: its parsed JSON answer, or the error text.
    fn call(&mut self, name: &str, arguments: &Value) -> Result<Value, String> {
        let r = self.request(
            "tools/call",
            &json!({ "name": name, "arguments": arguments }),
        );
        let result = &r["result"];
        assert!(result.is_object(), "a tool result: {r}");
        let text = result["content"][0]["text"]
            .as_str()
            .expect("text content")
            .to_string();
        if result["isError"] == true {
            Err(text)
        } else {
            Ok(serde_json::from_str(&text).expect("JSON text"))
        }
    }
}

/// A store with two sessions, one long.
fn store(db: &Path) {
    let mut store = Store::open(db).expect("store");
    let mut new = NewSession::named("auth-design");
    new.title = "Designing the login flow".into();
    new.tags = vec!["work".into()];
    let s = store.create_session(&new).expect("session");
    store
        .add_messages(
            s.id,
            &[
                NewMessage::new(Role::User, "Should we use refresh tokens?"),
                NewMessage::new(
                    Role::Assistant,
                    "Yes: short-lived access tokens with rotating refresh tokens.",
                ),
                NewMessage::new(Role::User, "What did we decide about the session cookie?"),
                NewMessage::new(
                    Role::Assistant,
                    format!("We decided on SameSite=strict. {}", "Details. ".repeat(500)),
                ),
            ],
        )
        .expect("messages");
    let t = store
        .create_session(&NewSession::named("groceries"))
        .expect("session");
    store
        .add_message(t.id, NewMessage::new(Role::User, "milk and eggs"))
        .expect("message");
}

#[test]
fn an_agent_searches_and_reads_its_past_sessions_over_stdio() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("s.db");
    store(&db);
    let mut c = Client::start(dir.path(), &db, "");
    let init = c.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "scrollback", "{init}");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );

    let tools = c.request("tools/list", &json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "search_sessions",
            "read_session",
            "list_sessions",
            "session_stats"
        ]
    );
    for t in tools["result"]["tools"].as_array().expect("tools") {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert!(t["description"].as_str().is_some_and(|d| d.len() > 20));
    }

    // Search: the session, the seq of the best message, a snippet.
    let found = c
        .call("search_sessions", &json!({ "query": "session cookie" }))
        .expect("search");
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["hits"][0];
    assert_eq!(hit["session"], "auth-design");
    assert_eq!(hit["seq"], 2);
    assert!(
        hit["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("cookie")),
        "{hit}"
    );
    let none = c
        .call("search_sessions", &json!({ "query": "kubernetes" }))
        .expect("search");
    assert_eq!(none["total"], 0);
    let bad = c
        .call("search_sessions", &json!({ "query": "\"unclosed" }))
        .expect_err("a bad query is the tool's error");
    assert!(bad.contains("column"), "{bad}");
    let missing = c
        .call("search_sessions", &json!({}))
        .expect_err("query is required");
    assert!(missing.contains("query"), "{missing}");

    // Read around the hit, and the last turn, with the long message cut.
    let page = c
        .call(
            "read_session",
            &json!({ "session": "auth-design", "from": 2, "limit": 1 }),
        )
        .expect("read");
    assert_eq!(page["messages"][0]["seq"], 2);
    assert_eq!(page["next_from"], 3);
    let last = c
        .call(
            "read_session",
            &json!({ "session": "auth-design", "last_turns": 1, "max_chars": 200 }),
        )
        .expect("read");
    assert_eq!(last["turn_count"], 2);
    let messages = last["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    let long = messages[1]["content"].as_str().expect("content");
    assert!(long.starts_with("We decided on SameSite=strict."), "{long}");
    assert!(long.contains("more characters"), "{long}");
    assert!(long.chars().count() < 400, "cut for a model's context");
    let nobody = c
        .call("read_session", &json!({ "session": "nobody" }))
        .expect_err("unknown session");
    assert!(nobody.contains("nobody"), "{nobody}");

    // List, paged.
    let listed = c
        .call("list_sessions", &json!({ "limit": 1 }))
        .expect("list");
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["sessions"].as_array().map(Vec::len), Some(1));
    let cursor = listed["next_cursor"].as_str().expect("cursor").to_string();
    let rest = c
        .call("list_sessions", &json!({ "limit": 1, "cursor": cursor }))
        .expect("list");
    assert_ne!(
        rest["sessions"][0]["session"],
        listed["sessions"][0]["session"]
    );
    assert_eq!(rest["next_cursor"], Value::Null);
    let work = c
        .call("list_sessions", &json!({ "tag": "work" }))
        .expect("list");
    assert_eq!(work["sessions"][0]["session"], "auth-design");

    // Stats.
    let stats = c.call("session_stats", &json!({})).expect("stats");
    assert_eq!(stats["store"]["sessions"], 2);
    assert_eq!(stats["store"]["messages"], 5);
    let one = c
        .call("session_stats", &json!({ "session": "auth-design" }))
        .expect("stats");
    assert_eq!(one["turn_count"], 2);

    // Tagging is off unless the config turns it on.
    let refused = c
        .call(
            "tag_session",
            &json!({ "session": "auth-design", "add": ["x"] }),
        )
        .expect_err("tagging is off");
    assert!(refused.contains("allow_tagging"), "{refused}");
    let after = Store::open(&db).expect("store");
    assert_eq!(
        after.session("auth-design").expect("session").tags,
        ["work"]
    );
}

#[test]
fn tagging_is_a_tool_when_the_config_allows_it() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("s.db");
    store(&db);
    let mut c = Client::start(dir.path(), &db, "[mcp]\nallow_tagging = true\n");
    c.initialize();
    let tools = c.request("tools/list", &json!({}));
    assert!(tools.to_string().contains("tag_session"));
    let tagged = c
        .call(
            "tag_session",
            &json!({ "session": "groceries", "add": ["home", "todo"], "remove": [] }),
        )
        .expect("tag");
    assert_eq!(tagged["tags"], json!(["home", "todo"]));
    let bad = c
        .call(
            "tag_session",
            &json!({ "session": "groceries", "add": ["two words"] }),
        )
        .expect_err("a bad tag");
    assert!(bad.contains("tag"), "{bad}");
    // Written to the store.
    let store = Store::open(&db).expect("store");
    assert_eq!(
        store.session("groceries").expect("session").tags,
        ["home", "todo"]
    );
    // A search by the new tag finds it.
    let found = c
        .call("search_sessions", &json!({ "query": "tag:home milk" }))
        .expect("search");
    assert_eq!(found["hits"][0]["session"], "groceries", "{found}");
}
