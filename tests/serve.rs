//! `scrollback serve`: the real binary on an ephemeral loopback port, driven
//! by an HTTP client, for every endpoint, the seed-style flow of a program
//! that keeps its conversations in sessions, the token off loopback, and
//! each kind of bad input and fault.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use common::scrollback;

/// A server process; killed when dropped.
struct Server {
    child: Child,
    base: String,
    port: u16,
    client: Client,
    token: Option<String>,
    db: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `scrollback serve` with `config` (TOML) and extra arguments, and
/// waits (at most a minute) for the line that says where it listens.
fn start(config: &str, args: &[&str]) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().to_path_buf();
    let db = home.join("s.db");
    let config_path = home.join("config.toml");
    std::fs::write(&config_path, config).expect("config");
    start_in(dir, &db, &config_path, args)
}

fn start_in(dir: tempfile::TempDir, db: &Path, config: &Path, args: &[&str]) -> Server {
    let mut cmd = scrollback(dir.path());
    cmd.arg("--db")
        .arg(db)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !args.contains(&"--listen") {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    let mut child = cmd.spawn().expect("scrollback serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        for _ in lines {}
    });
    let Ok(line) = rx.recv_timeout(Duration::from_mins(1)) else {
        let _ = child.kill();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        panic!("the server did not say where it listens; stderr: {err}");
    };
    let at = line.find("http://").expect("an address in the first line");
    let addr: String = line[at + 7..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let port: u16 = addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        port,
        client: Client::builder()
            .timeout(Duration::from_mins(1))
            .build()
            .expect("client"),
        token: None,
        db: db.to_path_buf(),
        _dir: dir,
    }
}

impl Server {
    fn req(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }
    fn get(&self, path: &str) -> Response {
        self.req(reqwest::Method::GET, path).send().expect("GET")
    }
    fn post(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::POST, path)
            .json(body)
            .send()
            .expect("POST")
    }
    fn patch(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::PATCH, path)
            .json(body)
            .send()
            .expect("PATCH")
    }
    fn delete(&self, path: &str) -> Response {
        self.req(reqwest::Method::DELETE, path)
            .send()
            .expect("DELETE")
    }
    fn raw(&self, method: &str, path: &str, body: &str) -> Response {
        self.req(method.parse().expect("method"), path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .expect("request")
    }
}

/// The status and JSON body of a response.
fn read(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text}"));
    (status, value)
}

/// Asserts an error answer: its status and code.
fn error(r: Response, status: StatusCode, code: &str) -> String {
    let (s, v) = read(r);
    assert_eq!(s, status, "{v}");
    assert_eq!(v["error"]["code"], code, "{v}");
    let message = v["error"]["message"].as_str().expect("a message");
    assert!(!message.is_empty());
    message.to_string()
}

fn turn(i: usize) -> Value {
    json!([
        { "role": "user", "content": format!("question {i}: how do we rotate the keys?") },
        { "role": "assistant", "content": format!("answer {i}: rotate them weekly") }
    ])
}

#[test]
fn a_program_keeps_a_conversation_in_a_session() {
    let s = start("", &[]);
    // Three turns appended to a new session_id, made on first use.
    for i in 1..=3 {
        let (status, v) = read(s.post("/api/sessions/notebook-42/messages?create=true", &turn(i)));
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(v["created"], i == 1);
        assert_eq!(v["turn_count"], i);
        assert_eq!(v["first_seq"], (i - 1) * 2);
    }
    // The last two turns.
    let (status, h) = read(s.get("/api/sessions/notebook-42/history?max_turns=2"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["session_id"], "notebook-42");
    assert_eq!(h["turn_count"], 3);
    let history = h["history"].as_array().expect("history");
    let texts: Vec<(&str, &str)> = history
        .iter()
        .map(|m| {
            (
                m["role"].as_str().expect("role"),
                m["content"].as_str().expect("content"),
            )
        })
        .collect();
    assert_eq!(
        texts,
        [
            ("user", "question 2: how do we rotate the keys?"),
            ("assistant", "answer 2: rotate them weekly"),
            ("user", "question 3: how do we rotate the keys?"),
            ("assistant", "answer 3: rotate them weekly"),
        ]
    );
    assert_eq!(h["next_from"], Value::Null);
    // Info.
    let (status, info) = read(s.get("/api/sessions/notebook-42"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["turn_count"], 3);
    assert_eq!(info["message_count"], 6);
    assert_eq!(info["name"], "notebook-42");
    assert_eq!(info["state"], "live");
    assert!(info["last_activity"].is_string());
    // Delete, then it is gone for the client.
    let (status, d) = read(s.delete("/api/sessions/notebook-42"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["deleted"], "trashed");
    error(
        s.get("/api/sessions/notebook-42"),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    error(
        s.get("/api/sessions/notebook-42/history?max_turns=2"),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Appending again to the id of a trashed session says what to do.
    let m = error(
        s.post("/api/sessions/notebook-42/messages?create=true", &turn(4)),
        StatusCode::CONFLICT,
        "name_taken",
    );
    assert!(m.contains("trash"), "{m}");
    // It is in the trash, and a purge removes it for good.
    let (status, t) = read(s.get("/api/sessions/notebook-42?trashed=true"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["state"], "trashed");
    let (_, d) = read(s.delete("/api/sessions/notebook-42?purge=true"));
    assert_eq!(d["deleted"], "purged");
    error(
        s.get("/api/sessions/notebook-42?trashed=true"),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The id is free again.
    let (status, _) = read(s.post("/api/sessions/notebook-42/messages?create=true", &turn(5)));
    assert_eq!(status, StatusCode::CREATED);
}

#[test]
fn every_endpoint_answers_through_the_real_server() {
    let s = start("", &[]);
    let (status, health) = read(s.get("/healthz"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");

    // Create, with and without a name.
    let (status, a) = read(s.post(
        "/api/sessions",
        &json!({ "name": "alpha", "title": "Key rotation", "tags": ["work", "ops"],
                 "metadata": { "variables": { "user": "ada", "step": 1 } } }),
    ));
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["session_id"], "alpha");
    assert_eq!(a["tags"], json!(["ops", "work"]));
    assert_eq!(a["metadata"]["variables"]["user"], "ada");
    assert_eq!(a["turn_count"], 0);
    let (status, anon) = read(s.post("/api/sessions", &json!({})));
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        anon["session_id"]
            .as_str()
            .is_some_and(|n| n.starts_with("session-"))
    );
    error(
        s.post("/api/sessions", &json!({ "name": "alpha" })),
        StatusCode::CONFLICT,
        "name_taken",
    );

    // Append in the three shapes.
    let (status, v) = read(s.post(
        "/api/sessions/alpha/messages",
        &json!({ "role": "system", "content": "You are terse." }),
    ));
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (_, v) = read(s.post("/api/sessions/alpha/messages", &turn(1)));
    assert_eq!(v["added"], 2);
    let (_, v) = read(s.post(
        "/api/sessions/alpha/messages",
        &json!({ "messages": [
            { "role": "user", "content": "and the database password?", "metadata": { "ip": "10.0.0.1" } },
            { "role": "assistant", "content": "kept in the vault", "model": "m-1",
              "tokens": { "input": 12, "output": 4 }, "created_at": "2026-01-02T03:04:05Z" }
        ] }),
    ));
    assert_eq!(v["message_count"], 5);
    assert_eq!(v["turn_count"], 2);
    error(
        s.post("/api/sessions/nobody/messages", &turn(1)),
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // History: by turns, with the system message put ahead, and by page.
    let (_, h) = read(s.get("/api/sessions/alpha/history?max_turns=1&system=true"));
    let roles: Vec<&str> = h["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|m| m["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["system", "user", "assistant"]);
    assert_eq!(h["from"], 3);
    assert_eq!(h["history"][2]["model"], "m-1");
    assert_eq!(h["history"][2]["tokens"]["input"], 12);
    assert_eq!(h["history"][2]["created_at"], "2026-01-02T03:04:05Z");
    let (_, p1) = read(s.get("/api/sessions/alpha/history?from=0&limit=2"));
    assert_eq!(p1["history"].as_array().map(Vec::len), Some(2));
    assert_eq!(p1["next_from"], 2);
    let (_, p2) = read(s.get("/api/sessions/alpha/history?from=2&limit=10"));
    assert_eq!(p2["history"][0]["seq"], 2);
    assert_eq!(p2["next_from"], Value::Null);
    error(
        s.get("/api/sessions/alpha/history?max_turns=1&from=2"),
        StatusCode::BAD_REQUEST,
        "invalid",
    );

    // Patch: all the changes, or none.
    let (status, p) = read(s.patch(
        "/api/sessions/alpha",
        &json!({ "name": "alpha-2", "title": "Keys", "add_tags": ["done"], "remove_tags": ["ops"],
                 "metadata": { "variables": { "user": "ada", "step": 2 }, "extra": 1 } }),
    ));
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["session_id"], "alpha-2");
    assert_eq!(p["title"], "Keys");
    assert_eq!(p["tags"], json!(["done", "work"]));
    assert_eq!(p["metadata"]["variables"]["step"], 2);
    let anon_name = anon["session_id"].as_str().expect("name").to_string();
    error(
        s.patch(
            "/api/sessions/alpha-2",
            &json!({ "title": "not kept", "name": anon_name }),
        ),
        StatusCode::CONFLICT,
        "name_taken",
    );
    error(
        s.patch("/api/sessions/alpha-2", &json!({ "tags": ["bad tag"] })),
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    let (_, now) = read(s.get("/api/sessions/alpha-2"));
    assert_eq!(now["title"], "Keys", "a refused patch changed nothing");
    assert_eq!(now["tags"], json!(["done", "work"]));
    let (_, p) = read(s.patch(
        "/api/sessions/alpha-2",
        &json!({ "metadata": { "extra": null }, "tags": ["only"] }),
    ));
    assert_eq!(p["tags"], json!(["only"]));
    assert!(p["metadata"].get("extra").is_none());
    // The uid names it too.
    let uid = p["uid"].as_str().expect("uid").to_string();
    let (status, by_uid) = read(s.get(&format!("/api/sessions/{uid}")));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_uid["session_id"], "alpha-2");
    // ... but never a prefix of it.
    error(
        s.get(&format!("/api/sessions/{}", &uid[..8])),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Archive and back.
    let (_, p) = read(s.patch("/api/sessions/alpha-2", &json!({ "state": "archived" })));
    assert_eq!(p["state"], "archived");
    let (_, p) = read(s.patch("/api/sessions/alpha-2", &json!({ "state": "live" })));
    assert_eq!(p["state"], "live");

    // Branch and merge.
    let (status, b) = read(s.post(
        "/api/sessions/alpha-2/branch",
        &json!({ "name": "alpha-b", "at": 2 }),
    ));
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(b["message_count"], 3);
    assert_eq!(b["lineage"]["parent"], uid.as_str());
    let (_, parent) = read(s.get("/api/sessions/alpha-2"));
    assert_eq!(parent["lineage"]["branches"][0]["session_id"], "alpha-b");
    let (status, m) = read(s.post(
        "/api/merge",
        &json!({ "sessions": ["alpha-2", anon_name], "name": "merged", "order": "given" }),
    ));
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["message_count"], 5);
    error(
        s.post(
            "/api/merge",
            &json!({ "sessions": ["alpha-2"], "name": "m2" }),
        ),
        StatusCode::BAD_REQUEST,
        "invalid",
    );

    // Search (the index catches up with the writes).
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        let (status, r) = read(s.get("/api/search?q=vault"));
        assert_eq!(status, StatusCode::OK, "{r}");
        if r["total"].as_u64() >= Some(1) || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        found["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .any(|h| h["session_id"] == "alpha-2" && h["seq"] == 4),
        "{found}"
    );
    let (_, paged) = read(s.get("/api/search?q=rotate&limit=1"));
    assert_eq!(paged["hits"].as_array().map(Vec::len), Some(1));
    assert_eq!(paged["next_offset"], 1);

    // Stats.
    let (status, st) = read(s.get("/api/stats"));
    assert_eq!(status, StatusCode::OK);
    assert!(st["store"]["sessions"].as_u64() >= Some(4), "{st}");
    assert!(st["retention"].is_object());
    let (_, one) = read(s.get("/api/stats?session=alpha-2"));
    assert!(one["session"].is_object(), "{one}");

    // Cleanup: a plan by default, applied when asked.
    let (status, plan) = read(s.post("/api/cleanup", &json!({ "empty": true })));
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["dry_run"], true);
    let planned: Vec<&str> = plan["plan"]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(planned, [anon_name.as_str()]);
    let (_, still) = read(s.get(&format!("/api/sessions/{anon_name}")));
    assert_eq!(still["state"], "live", "a dry run changed nothing");
    let (_, done) = read(s.post(
        "/api/cleanup",
        &json!({ "empty": true, "action": "archive", "dry_run": false }),
    ));
    assert_eq!(done["applied"], 1);
    let (_, after) = read(s.get(&format!("/api/sessions/{anon_name}")));
    assert_eq!(after["state"], "archived");
    error(
        s.post("/api/cleanup", &json!({ "policy": true })),
        StatusCode::BAD_REQUEST,
        "invalid",
    );
}

#[test]
fn listing_pages_with_a_cursor_through_every_session_once() {
    let s = start("", &[]);
    for i in 0..23 {
        let tag = if i % 2 == 0 { "even" } else { "odd" };
        let (status, _) = read(s.post(
            "/api/sessions",
            &json!({ "name": format!("s-{i:02}"), "tags": [tag], "metadata": { "n": i } }),
        ));
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut total = 23;
    for sort in ["updated", "created", "name", "size"] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        let mut pages = 0;
        loop {
            let (status, page) = read(s.get(&format!(
                "/api/sessions?sort={sort}&limit=5&cursor={cursor}"
            )));
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(page["total"], total);
            pages += 1;
            for x in page["sessions"].as_array().expect("sessions") {
                seen.push(x["session_id"].as_str().expect("id").to_string());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
            // A session made meanwhile shifts nothing: keyset paging.
            if pages == 2 && sort == "name" {
                read(s.post("/api/sessions", &json!({ "name": "s-00a" })));
                total += 1;
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort}: a session twice: {seen:?}"
        );
        assert!(seen.len() >= 23, "{sort}: {seen:?}");
        if sort != "name" {
            assert_eq!(seen.len(), total, "{sort}: {seen:?}");
        }
        if sort == "name" {
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(seen, sorted);
            assert!(
                !seen.contains(&"s-00a".to_string()),
                "made behind the cursor"
            );
        }
    }
    let (_, odd) = read(s.get("/api/sessions?tag=odd&limit=100&state=all"));
    assert_eq!(odd["total"], 11);
    let (_, w) = read(s.get("/api/sessions?where=n=7"));
    assert_eq!(w["sessions"][0]["session_id"], "s-07");
    assert_eq!(w["total"], 1);
    // A metadata value may hold a comma; tags may be given comma-separated.
    read(s.patch(
        "/api/sessions/s-03",
        &json!({ "metadata": { "note": "a,b" } }),
    ));
    let (_, c) = read(s.get("/api/sessions?where=note=a%2Cb"));
    assert_eq!(c["total"], 1, "{c}");
    let (_, both) = read(s.get("/api/sessions?tag=odd,even"));
    assert_eq!(both["total"], 0, "no session is both");
    let (_, none) = read(s.get("/api/sessions?older_than=30d"));
    assert_eq!(none["total"], 0);
    error(
        s.get("/api/sessions?cursor=zz"),
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    );
    // A cursor made for another sort is refused.
    let (_, first) = read(s.get("/api/sessions?sort=name&limit=1"));
    let c = first["next_cursor"].as_str().expect("cursor");
    error(
        s.get(&format!("/api/sessions?sort=size&cursor={c}")),
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    );
}

#[test]
fn the_openapi_document_names_what_is_served_and_nothing_else() {
    let s = start("", &[]);
    let (status, doc) = read(s.get("/api/openapi.json"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut named = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if method != "parameters" {
                named.insert((method.clone(), path.clone()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = scrollback::serve::openapi::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_string(), (*p).to_string()))
        .collect();
    assert_eq!(named, served);
    // Each route is there: never "no route" nor "method not allowed".
    for (method, path) in &served {
        let path = path.replace("{id}", "nobody");
        let r = s.raw(&method.to_uppercase(), &path, "{}");
        let status = r.status();
        let text = r.text().expect("body");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!text.contains("no_route"), "{method} {path}: {text}");
    }
    // Every schema a path refers to is defined.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for part in text.split("#/components/schemas/").skip(1) {
        let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
        assert!(schemas.contains_key(&name), "{name} is not defined");
    }
    // What is served has the shape the document gives: every required key,
    // and no key it does not name.
    read(s.post("/api/sessions/shape/messages?create=true", &turn(1)));
    let (_, appended) = read(s.post("/api/sessions/shape/messages", &turn(2)));
    let (_, info) = read(s.get("/api/sessions/shape"));
    let (_, page) = read(s.get("/api/sessions"));
    let (_, history) = read(s.get("/api/sessions/shape/history?max_turns=1"));
    let (_, found) = read(s.get("/api/search?q=rotate"));
    let (_, deleted) = read(s.delete("/api/sessions/shape?purge=true"));
    let (_, health) = read(s.get("/healthz"));
    let (_, bad) = read(s.get("/api/sessions/shape"));
    let shaped = [
        ("Appended", &appended),
        ("SessionInfo", &info),
        ("SessionPage", &page),
        ("SessionInfo", &page["sessions"][0]),
        ("History", &history),
        ("Message", &history["history"][0]),
        ("SearchPage", &found),
        ("Deleted", &deleted),
        ("Health", &health),
        ("Error", &bad),
    ];
    for (name, value) in shaped {
        let schema = &schemas[name];
        let object = value
            .as_object()
            .unwrap_or_else(|| panic!("{name}: {value}"));
        let properties = schema["properties"].as_object().expect("properties");
        for key in object.keys() {
            assert!(
                properties.contains_key(key),
                "{name} has {key}, which the document does not name"
            );
        }
        for key in schema["required"].as_array().expect("required") {
            let key = key.as_str().expect("key");
            assert!(object.contains_key(key), "{name} lacks {key}: {value}");
        }
    }
    error(s.get("/api/nothing"), StatusCode::NOT_FOUND, "no_route");
    error(
        s.raw("PUT", "/api/stats", ""),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

#[cfg(unix)]
#[test]
fn off_loopback_every_request_needs_the_token_from_a_private_file() {
    use std::os::unix::fs::PermissionsExt;
    let mut s = start("", &["--listen", "0.0.0.0:0"]);
    let file = {
        let mut name = s.db.file_name().expect("name").to_os_string();
        name.push(".serve-token");
        s.db.with_file_name(name)
    };
    let mode = std::fs::metadata(&file)
        .expect("token file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(&file)
        .expect("token")
        .trim()
        .to_string();
    assert!(token.len() >= 32);
    let r = s.get("/api/sessions");
    assert_eq!(
        r.headers()
            .get("www-authenticate")
            .map(reqwest::header::HeaderValue::as_bytes),
        Some(&b"Bearer"[..])
    );
    error(r, StatusCode::UNAUTHORIZED, "unauthorized");
    s.token = Some("wrong-token-wrong-token-wrong-token".into());
    error(
        s.get("/api/sessions"),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    s.token = Some(token.clone());
    let (status, _) = read(s.get("/api/sessions"));
    assert_eq!(status, StatusCode::OK);
    // Health needs no token.
    s.token = None;
    let (status, _) = read(s.get("/healthz"));
    assert_eq!(status, StatusCode::OK);
    // A second start reads the same file.
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "").expect("config");
    let tf = file.to_string_lossy().to_string();
    let mut again = start_in(dir, &s.db.clone(), &config, &["--token-file", &tf]);
    error(
        again.get("/api/stats"),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    again.token = Some(token);
    let (status, _) = read(again.get("/api/stats"));
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn bad_input_gets_the_right_status_and_a_clear_message_and_writes_nothing() {
    let s = start(
        "[serve]\nmax_body_mb = 1\n[storage]\nmax_message_bytes = 1000\n",
        &[],
    );
    read(s.post("/api/sessions", &json!({ "name": "x" })));
    let m = error(
        s.raw("POST", "/api/sessions/x/messages", "{\"role\": \"user\", "),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    assert!(m.contains("line 1"), "{m}");
    error(
        s.raw("POST", "/api/sessions/x/messages", ""),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    let m = error(
        s.post(
            "/api/sessions/x/messages",
            &json!({ "role": 5, "content": "hi" }),
        ),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    assert!(m.contains("column"), "{m}");
    let m = error(
        s.post(
            "/api/sessions/x/messages",
            &json!([{ "role": "user", "content": "ok" }, { "role": "user", "content": "hi", "colour": "red" }]),
        ),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    assert!(m.contains("colour") && m.contains("column"), "{m}");
    error(
        s.post(
            "/api/sessions/x/messages",
            &json!({ "role": "wizard", "content": "hi" }),
        ),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    error(
        s.post("/api/sessions/x/messages", &json!([])),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    error(
        s.post("/api/sessions", &json!({ "name": "y", "owner": "me" })),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );
    error(
        s.post("/api/sessions", &json!({ "name": "a/b" })),
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    // A body over the limit: 413, with or without a length up front.
    let huge = format!(
        "{{\"role\":\"user\",\"content\":\"{}\"}}",
        "a".repeat(2 << 20)
    );
    error(
        s.raw("POST", "/api/sessions/x/messages", &huge),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let streamed = s
        .req(reqwest::Method::POST, "/api/sessions/x/messages")
        .body(reqwest::blocking::Body::new(ChunkReader::new(chunks)))
        .send()
        .expect("POST");
    error(streamed, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    // A message over the message limit: nothing written, not even the
    // session a create would have made.
    let big = "b".repeat(1500);
    let m = error(
        s.post(
            "/api/sessions/fresh/messages?create=true",
            &json!([{ "role": "user", "content": "fine" }, { "role": "assistant", "content": big }]),
        ),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    assert!(m.contains("1500"), "{m}");
    error(
        s.get("/api/sessions/fresh"),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, x) = read(s.get("/api/sessions/x"));
    assert_eq!(
        x["message_count"], 0,
        "nothing of the refused bodies was written"
    );
    // Query strings.
    let m = error(
        s.get("/api/sessions?colour=red"),
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    );
    assert!(m.contains("colour"), "{m}");
    error(
        s.get("/api/sessions/x/history?max_turns=two"),
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    );
    error(
        s.get("/api/sessions?state=gone"),
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    );
    error(
        s.get("/api/sessions?older_than=soon"),
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    // A query that does not parse says where.
    let r = s.get("/api/search?q=%22unclosed");
    let (status, v) = read(r);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "bad_query");
    assert_eq!(v["error"]["start"], 0);
    error(
        s.get("/api/search"),
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    );
    // Unknown sessions.
    error(
        s.get("/api/sessions/nobody/history"),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    error(
        s.delete("/api/sessions/nobody"),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    error(
        s.patch("/api/sessions/nobody", &json!({ "title": "t" })),
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // And it keeps serving.
    let (status, _) = read(s.get("/healthz"));
    assert_eq!(status, StatusCode::OK);
}

/// A body read in chunks, with no length given up front.
struct ChunkReader {
    chunks: std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>,
    current: Vec<u8>,
}

impl ChunkReader {
    fn new(chunks: Vec<Result<Vec<u8>, std::io::Error>>) -> Self {
        ChunkReader {
            chunks: chunks.into_iter(),
            current: Vec::new(),
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.current.is_empty() {
            match self.chunks.next() {
                Some(Ok(c)) => self.current = c,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.drain(..n);
        Ok(n)
    }
}

#[test]
fn many_clients_appending_to_one_session_lose_nothing() {
    let s = start("", &[]);
    read(s.post("/api/sessions", &json!({ "name": "shared" })));
    let (clients, each) = (16, 20);
    std::thread::scope(|scope| {
        for c in 0..clients {
            let s = &s;
            scope.spawn(move || {
                for i in 0..each {
                    let (status, v) = read(s.post(
                        "/api/sessions/shared/messages",
                        &json!([
                            { "role": "user", "content": format!("c{c} q{i}") },
                            { "role": "assistant", "content": format!("c{c} a{i}") }
                        ]),
                    ));
                    assert_eq!(status, StatusCode::CREATED, "{v}");
                }
            });
        }
    });
    let (_, h) = read(s.get("/api/sessions/shared/history?limit=10000"));
    let history = h["history"].as_array().expect("history");
    assert_eq!(history.len(), clients * each * 2);
    assert_eq!(h["turn_count"], clients * each);
    for (i, m) in history.iter().enumerate() {
        assert_eq!(m["seq"], i, "seqs are dense");
    }
    // Each request's two messages stay together, and each client's come in order.
    for pair in history.chunks(2) {
        let q = pair[0]["content"].as_str().expect("q");
        let a = pair[1]["content"].as_str().expect("a");
        assert_eq!(q.replace(" q", " a"), a);
    }
    for c in 0..clients {
        let mine: Vec<&str> = history
            .iter()
            .filter_map(|m| m["content"].as_str())
            .filter(|t| t.starts_with(&format!("c{c} q")))
            .collect();
        let expected: Vec<String> = (0..each).map(|i| format!("c{c} q{i}")).collect();
        assert_eq!(mine, expected);
    }
}

#[test]
fn a_client_that_goes_away_mid_request_leaves_nothing_half_written() {
    let s = start("", &[]);
    read(s.post("/api/sessions", &json!({ "name": "d" })));
    // Headers promise 2000 bytes; 40 come, then the client is gone.
    {
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
        write!(
            c,
            "POST /api/sessions/d/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n[{{\"role\":\"user\",\"content\":\"half"
        )
        .expect("write");
    }
    // A whole request whose answer nobody reads.
    {
        let body =
            r#"[{"role":"user","content":"whole q"},{"role":"assistant","content":"whole a"}]"#;
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
        write!(
            c,
            "POST /api/sessions/d/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
    }
    // It keeps serving; the whole request is written whole or not at all
    // (the server may drop a request whose client is gone), and nothing of
    // the half one.
    std::thread::sleep(Duration::from_millis(500));
    let texts = |s: &Server| -> Vec<String> {
        let (status, h) = read(s.get("/api/sessions/d/history"));
        assert_eq!(status, StatusCode::OK);
        h["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter_map(|m| m["content"].as_str().map(str::to_string))
            .collect()
    };
    let before = texts(&s);
    assert!(
        before.is_empty() || before == ["whole q", "whole a"],
        "{before:?}"
    );
    let (status, _) = read(s.post("/api/sessions/d/messages", &turn(9)));
    assert_eq!(status, StatusCode::CREATED);
    let after = texts(&s);
    assert_eq!(after.len(), before.len() + 2);
    assert!(!after.iter().any(|t| t.contains("half")), "{after:?}");
}

#[test]
fn a_store_busy_with_another_writer_answers_503_and_keeps_reading() {
    let s = start("[serve]\nbusy_timeout_secs = 1\n", &[]);
    read(s.post("/api/sessions/b/messages?create=true", &turn(1)));
    // Another program takes the write lock, as an import does.
    let other = rusqlite::Connection::open(&s.db).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let m = error(
        s.post("/api/sessions/b/messages", &turn(2)),
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
    );
    assert!(m.contains("try again"), "{m}");
    // Reads go on meanwhile.
    let (status, h) = read(s.get("/api/sessions/b/history"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["message_count"], 2, "the refused append wrote nothing");
    other.execute_batch("ROLLBACK").expect("unlock");
    let (status, v) = read(s.post("/api/sessions/b/messages", &turn(2)));
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v["message_count"], 4);
}

#[test]
fn the_retention_policy_runs_on_its_schedule_and_by_request() {
    let s = start(
        "[retention]\nmax_turns = 2\nevery = \"1s\"\n[cleanup]\nprotected_tags = [\"keep\"]\n",
        &[],
    );
    read(s.post(
        "/api/sessions",
        &json!({ "name": "kept", "tags": ["keep"] }),
    ));
    for i in 0..5 {
        read(s.post("/api/sessions/long/messages?create=true", &turn(i)));
        read(s.post("/api/sessions/kept/messages", &turn(i)));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, info) = read(s.get("/api/sessions/long"));
        if info["turn_count"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "retention did not run: {info}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, h) = read(s.get("/api/sessions/long/history"));
    assert_eq!(
        h["history"][0]["content"],
        "question 3: how do we rotate the keys?"
    );
    let (_, kept) = read(s.get("/api/sessions/kept"));
    assert_eq!(kept["turn_count"], 5, "a protected tag always wins");
    let (_, st) = read(s.get("/api/stats"));
    let runs = st["retention"].to_string();
    assert!(runs.contains("serve"), "{runs}");
    // By request: a plan first, then applied.
    for i in 5..8 {
        read(s.post("/api/sessions/long/messages", &turn(i)));
    }
    let (status, plan) = read(s.post("/api/cleanup", &json!({ "policy": true })));
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["dry_run"], true);
}

#[test]
fn a_request_that_takes_too_long_is_answered_503_and_the_server_goes_on() {
    let s = start("[serve]\ntimeout_secs = 1\n", &[]);
    read(s.post("/api/sessions", &json!({ "name": "slow" })));
    // A client that sends its headers and part of its body, then stalls.
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        c,
        "POST /api/sessions/slow/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{{\"role\":"
    )
    .expect("write");
    let started = Instant::now();
    let mut answer = String::new();
    let mut buf = [0u8; 4096];
    while !answer.contains("\"timeout\"") {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let (status, info) = read(s.get("/api/sessions/slow"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["message_count"], 0);
}

#[test]
fn a_program_can_run_the_api_inside_itself() {
    let store = scrollback::Store::open_in_memory().expect("store");
    let search = scrollback::search::Search::open(&store, &|_, _| {}).expect("index");
    let running = scrollback::serve::spawn(
        store,
        search,
        scrollback::serve::ServeOptions {
            listen: "127.0.0.1:0".parse().expect("address"),
            readers: 0,
            ..scrollback::serve::ServeOptions::default()
        },
    )
    .expect("serving");
    let base = format!("http://{}", running.addr());
    let client = Client::new();
    let r = client
        .post(format!("{base}/api/sessions/inside/messages?create=true"))
        .json(&turn(1))
        .send()
        .expect("POST");
    assert_eq!(r.status(), StatusCode::CREATED);
    let (status, info) = read(
        client
            .get(format!("{base}/api/sessions/inside"))
            .send()
            .expect("GET"),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["turn_count"], 1);
    running.stop().expect("stops");
    assert!(
        client.get(format!("{base}/healthz")).send().is_err(),
        "nothing answers once stopped"
    );
}
