//! The HTTP API under bounded loopback load: requests per second and p50/p99
//! latency of history reads, batched appends and searches with 1, 8 and 64
//! concurrent clients, against the real `scrollback serve` binary on a
//! store of 100,000 sessions / 10,000,000 messages; beside each, the same
//! operation through the library directly (the `scrollback::api` calls the
//! server makes, on connections of this process); and the server's peak
//! RSS. Results also go to target/bench/serve.json.
//!
//! The clients are plain HTTP/1.1 keep-alive connections on threads of this
//! process (one per client), so the figures include the server's whole
//! path: parsing, the blocking pool, SQLite or the index, JSON.
//!
//! Targets (2 cores): history read p99 <= 5 ms at 8 clients; >= 5,000
//! messages appended per second in batches; no error under load.
//! `SCROLLBACK_BENCH_QUICK=1` runs at 1/10 scale, 2 s per measurement.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::too_many_lines
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::bigstore::{Spec, disk_mb, ensure_store};
use scrollback::api::{self, HistoryQuery};
use scrollback::search::{Search, index_dir};
use scrollback::{NewMessage, Role, Store};

/// Messages per append request.
const BATCH: usize = 100;
/// Turns read back per history request.
const TURNS: u64 = 10;

/// A keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
    port: u16,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_mins(2))).unwrap();
        Conn {
            reader: BufReader::new(s),
            port,
        }
    }

    /// One request; the status, or `None` when the connection failed (it is
    /// then opened anew).
    fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Option<u16> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let sent = {
            let s = self.reader.get_mut();
            s.write_all(head.as_bytes())
                .and_then(|()| s.write_all(body))
        };
        let answer = sent.ok().and_then(|()| self.response());
        if answer.is_none() {
            *self = Conn::new(self.port);
        }
        answer
    }

    fn response(&mut self) -> Option<u16> {
        let mut line = String::new();
        self.reader.read_line(&mut line).ok()?;
        let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.reader.read_line(&mut line).ok()?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line).ok()?;
                let n = usize::from_str_radix(line.trim(), 16).ok()?;
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
            }
        } else {
            let mut body = vec![0; length?];
            self.reader.read_exact(&mut body).ok()?;
        }
        Some(status)
    }
}

/// The server process.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(db: &Path, dir: &Path) -> Server {
    let config = dir.join("serve-bench.toml");
    std::fs::write(&config, "[log]\nlevel = \"warn\"\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrollback"))
        .arg("--db")
        .arg(db)
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let at = line.find("http://").expect("the address line");
    let port = line[at + 7..]
        .split(|c: char| c.is_whitespace())
        .next()
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("a port");
    Server { child, port }
}

/// What one run of clients did.
#[derive(Default)]
struct Run {
    latencies_ms: Vec<f64>,
    errors: u64,
    seconds: f64,
    /// Messages written (appends).
    messages: u64,
}

impl Run {
    fn line(&mut self, unit: &str) -> (String, Value) {
        let n = self.latencies_ms.len();
        let rps = n as f64 / self.seconds;
        let p50 = common::percentile(&mut self.latencies_ms, 50.0);
        let p99 = common::percentile(&mut self.latencies_ms, 99.0);
        let per = if self.messages > 0 {
            format!(" = {:>7.0} messages/s", self.messages as f64 / self.seconds)
        } else {
            String::new()
        };
        (
            format!(
                "{rps:>8.0} {unit}/s{per}  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  errors {}",
                self.errors
            ),
            json!({
                "per_second": rps,
                "messages_per_second": self.messages as f64 / self.seconds,
                "p50_ms": p50, "p99_ms": p99, "errors": self.errors, "requests": n,
            }),
        )
    }
}

/// Runs `clients` threads for `secs`, each calling `op(client, i)` in a loop;
/// `op` says whether it succeeded and how many messages it wrote.
fn load(clients: usize, secs: f64, op: &(dyn Fn(usize, u64) -> (bool, u64) + Sync)) -> Run {
    let results = Mutex::new(Run::default());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for c in 0..clients {
            let results = &results;
            scope.spawn(move || {
                let mut mine = Run::default();
                let mut i = 0u64;
                while start.elapsed().as_secs_f64() < secs {
                    let t = Instant::now();
                    let (ok, written) = op(c, i);
                    mine.latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    mine.errors += u64::from(!ok);
                    mine.messages += written;
                    i += 1;
                }
                let mut all = results.lock().unwrap();
                all.latencies_ms.extend(mine.latencies_ms);
                all.errors += mine.errors;
                all.messages += mine.messages;
            });
        }
    });
    let mut run = results.into_inner().unwrap();
    run.seconds = start.elapsed().as_secs_f64();
    run
}

/// A session of the store, by a client's draw.
fn pick(spec: &Spec, c: usize, i: u64) -> String {
    let mut rng = common::Rng::new((c as u64) << 32 | i);
    spec.name(rng.below(spec.sessions))
}

fn batch_body(c: usize, i: u64) -> (String, Vec<NewMessage>) {
    let mut rng = common::Rng::new(0xbe7c_0000 + ((c as u64) << 32 | i));
    let messages: Vec<NewMessage> = (0..BATCH)
        .map(|j| {
            let role = if j % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            let len = 40 + rng.below(40);
            NewMessage::new(role, common::tui_text(&mut rng, len))
        })
        .collect();
    let body = Value::Array(
        messages
            .iter()
            .map(|m| json!({ "role": m.role, "content": m.content }))
            .collect(),
    )
    .to_string();
    (body, messages)
}

fn queries() -> Vec<String> {
    let w = common::tui_word;
    vec![
        "session latency".into(),
        w(500),
        format!("{} {}", w(120), w(900)),
        "\"vector index\"".into(),
        "role:user cache".into(),
        "tag:rust thread".into(),
        format!("{}*", &w(3000)[..3]),
        w(20_000),
    ]
}

fn copy_store(from: &Path, to: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", to.display()));
    }
    let _ = std::fs::remove_dir_all(index_dir(to));
    std::fs::copy(from, to).unwrap();
    let wal = PathBuf::from(format!("{}-wal", from.display()));
    if wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", to.display())).unwrap();
    }
    copy_dir(&index_dir(from), &index_dir(to));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn main() {
    let quick = std::env::var_os("SCROLLBACK_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let secs = if quick { 2.0 } else { 5.0 };
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    let suffix = if quick { "-quick" } else { "" };
    // The TUI benchmark's store: built once, shared; this benchmark writes
    // to a copy of it.
    let spec = Spec {
        sessions: 100_000 / scale,
        messages: 10_000_000 / scale as u64,
        big: 60_000 / scale,
        seed: 7,
    };
    println!(
        "scrollback serve benchmark ({} cores){}",
        common::cores(),
        if quick {
            " [quick: 1/10 scale]"
        } else {
            " [full scale]"
        }
    );
    let base = dir.join(format!("tui-store{suffix}.db"));
    ensure_store(&base, &spec);
    let db = dir.join(format!("serve-store{suffix}.db"));
    copy_store(&base, &db);
    let (db_mb, idx_mb) = disk_mb(&db);
    println!(
        "store         {} sessions, {} messages: {db_mb:.0} MB + index {idx_mb:.0} MB (a copy of {})",
        spec.sessions,
        spec.messages,
        base.file_name().unwrap().to_string_lossy()
    );

    let server = start_server(&db, &dir);
    let pid = server.child.id();
    println!(
        "server        scrollback serve on 127.0.0.1:{} (pid {pid}); {secs} s per measurement; clients are keep-alive HTTP/1.1 connections",
        server.port
    );
    // Library side: what the handlers call, on this process's connections.
    let search = Mutex::new(Search::open(&Store::open(&db).unwrap(), &|_, _| {}).unwrap());
    let queries = queries();
    let mut results = serde_json::Map::new();
    let mut history_p99_at_8 = f64::NAN;
    let mut best_appends = 0.0f64;
    let mut errors = 0u64;

    for op in ["history", "search", "append"] {
        println!(
            "\n{op}{}",
            match op {
                "history" => format!(
                    " (GET /api/sessions/ID/history?max_turns={TURNS}; library: api::history)"
                ),
                "search" =>
                    " (GET /api/search?q=...; library: api::search_page on one shared index)"
                        .to_string(),
                _ => format!(
                    " (POST /api/sessions/ID/messages, {BATCH} messages a request; library: Store::add_messages)"
                ),
            }
        );
        for clients in [1usize, 8, 64] {
            // Over HTTP.
            let conns: Vec<Mutex<Conn>> = (0..clients)
                .map(|_| Mutex::new(Conn::new(server.port)))
                .collect();
            let http = |c: usize, i: u64| -> (bool, u64) {
                let mut conn = conns[c].lock().unwrap();
                match op {
                    "history" => {
                        let path = format!(
                            "/api/sessions/{}/history?max_turns={TURNS}",
                            pick(&spec, c, i)
                        );
                        (conn.request("GET", &path, b"") == Some(200), 0)
                    }
                    "search" => {
                        let q = &queries[(c + i as usize) % queries.len()];
                        let path = format!(
                            "/api/search?q={}",
                            q.replace('%', "%25")
                                .replace(' ', "%20")
                                .replace('"', "%22")
                                .replace(':', "%3A")
                                .replace('*', "%2A")
                        );
                        (conn.request("GET", &path, b"") == Some(200), 0)
                    }
                    _ => {
                        let (body, _) = batch_body(c, i);
                        let path = format!("/api/sessions/{}/messages", pick(&spec, c, i));
                        let ok = conn.request("POST", &path, body.as_bytes()) == Some(201);
                        (ok, if ok { BATCH as u64 } else { 0 })
                    }
                }
            };
            let mut over_http = load(clients, secs, &http);
            drop(conns);
            // The library, the same calls.
            let stores: Vec<Mutex<Store>> = (0..clients)
                .map(|_| Mutex::new(Store::open(&db).unwrap()))
                .collect();
            let direct = |c: usize, i: u64| -> (bool, u64) {
                match op {
                    "history" => {
                        let store = stores[c].lock().unwrap();
                        let ok = store
                            .session_exact(&pick(&spec, c, i))
                            .and_then(|s| {
                                api::history(
                                    &store,
                                    &s,
                                    &HistoryQuery {
                                        max_turns: Some(TURNS),
                                        ..HistoryQuery::default()
                                    },
                                )
                            })
                            .is_ok();
                        (ok, 0)
                    }
                    "search" => {
                        let q = &queries[(c + i as usize) % queries.len()];
                        let ok =
                            api::search_page(&mut search.lock().unwrap(), q, 20, 0, false).is_ok();
                        (ok, 0)
                    }
                    _ => {
                        let (_, messages) = batch_body(c, i + 1_000_000);
                        let mut store = stores[c].lock().unwrap();
                        let ok = store
                            .session_exact(&pick(&spec, c, i + 1_000_000))
                            .and_then(|s| store.add_messages(s.id, &messages))
                            .is_ok();
                        (ok, if ok { BATCH as u64 } else { 0 })
                    }
                }
            };
            let mut lib = load(clients, secs, &direct);
            drop(stores);
            let unit = if op == "append" { "requests" } else { "reads" };
            let (s_line, s_json) = over_http.line(unit);
            let (l_line, l_json) = lib.line("calls");
            println!("  {clients:>2} clients  server  {s_line}");
            println!("              library {l_line}");
            errors += over_http.errors + lib.errors;
            if op == "history" && clients == 8 {
                history_p99_at_8 = s_json["p99_ms"].as_f64().unwrap_or(f64::NAN);
            }
            if op == "append" {
                best_appends =
                    best_appends.max(s_json["messages_per_second"].as_f64().unwrap_or(0.0));
            }
            results.insert(
                format!("{op}_{clients}"),
                json!({ "server": s_json, "library": l_json }),
            );
        }
    }
    let server_peak = common::proc_status_mb(pid, "VmHWM").unwrap_or(f64::NAN);
    let bench_peak = common::peak_rss_mb();
    drop(server);
    println!();
    println!(
        "history read p99 at 8 clients: {history_p99_at_8:.2} ms  (target <= 5 ms: {})",
        verdict(history_p99_at_8 <= 5.0)
    );
    println!(
        "appends, batched ({BATCH} a request): {best_appends:.0} messages/s at best  (target >= 5,000/s: {})",
        verdict(best_appends >= 5000.0)
    );
    println!(
        "errors under load: {errors}  (target 0: {})",
        verdict(errors == 0)
    );
    println!(
        "peak RSS: server {server_peak:.0} MB; this process (the clients and the library side) {bench_peak:.0} MB"
    );
    results.insert(
        "summary".into(),
        json!({
            "history_p99_ms_at_8": history_p99_at_8,
            "appends_per_second": best_appends,
            "errors": errors,
            "server_peak_rss_mb": server_peak,
            "bench_peak_rss_mb": bench_peak,
            "sessions": spec.sessions, "messages": spec.messages, "quick": quick,
        }),
    );
    let path = dir.join(format!("serve{suffix}.json"));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(results)).unwrap(),
    )
    .unwrap();
    println!("results: {}", path.display());
    // The copy is a gigabyte or more: it goes, the shared store stays.
    drop(search);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let _ = std::fs::remove_dir_all(index_dir(&db));
}
