//! `cargo bench --bench sync`: keeping the store in step with the session
//! folders of other tools, with the real binary, on a generated home of
//! 10,000 session files (about 2 GB: Claude Code transcripts, tool output
//! heavy, five of about 50 MB; a few hundred Codex rollouts; some Gemini CLI
//! chats), every file written an hour ago. Prints, and writes to
//! target/bench/sync.json:
//! - the first `sync`: seconds, MB/s of input, peak RSS;
//! - a `sync` with nothing new (nothing may be read);
//! - one message appended to a 50 MB file, and to a small one, then `sync`:
//!   the work beyond a sync with nothing new (the file must be read on from
//!   where the last read stopped, only what was appended);
//! - `watch` doing nothing while nothing changes: CPU and RSS;
//! - with `watch` running, from appending a message to a live file to the
//!   pass that adds it, and to `search` finding it;
//! - peak RSS of every step;
//! - beside them, in the same run: listing and stat-ing the files of the
//!   home (the floor of a sync with nothing new), and `rg --files`.
//!
//! Every run sets `HOME` to the generated home. Timing targets are printed
//! with whether they were met, never asserted; what the reports say was
//! read is asserted.
//!
//! `SCROLLBACK_BENCH_QUICK=1` runs at 1/10 scale (and watches idle 10 s).
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::too_many_lines
)]

mod common;

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant, SystemTime};

use common::Rng;
use serde_json::{Value, json};

/// Variables that would point the binary elsewhere than the generated home.
const ELSEWHERE: &[&str] = &[
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "LLM_USER_PATH",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "SCROLLBACK_CONFIG",
    "SCROLLBACK_DATA_DIR",
    "SCROLLBACK_DB",
    "SCROLLBACK_FAULT",
    "SCROLLBACK_STASH_BUDGET",
];

/// The real binary, at home in `home`, on the store `db`.
fn scrollback(home: &Path, db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scrollback"));
    cmd.env("HOME", home);
    for k in ELSEWHERE {
        cmd.env_remove(k);
    }
    cmd.arg("--db").arg(db);
    cmd
}

/// What one run of the binary took, and its JSON report.
struct Run {
    secs: f64,
    peak_mb: f64,
    report: Value,
}

fn run(home: &Path, db: &Path, args: &[&str]) -> Run {
    let run = common::run_measured(scrollback(home, db).args(args));
    let report: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    if report.is_null() {
        println!(
            "  {} printed no report: {}",
            args.join(" "),
            String::from_utf8_lossy(&run.stderr).trim()
        );
    }
    Run {
        secs: run.secs,
        peak_mb: run.peak_mb,
        report,
    }
}

fn sync(home: &Path, db: &Path) -> Run {
    run(home, db, &["sync", "--json"])
}

fn num(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

/// The report without its lists of files and sources, for messages.
fn brief(report: &Value) -> Value {
    let mut r = report.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("per_file");
        o.remove("sources");
    }
    r
}

/// Sets a file's time `secs` seconds back.
fn settle(path: &Path, secs: u64) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(secs))
        .unwrap();
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

// ---------------------------------------------------------------------------
// The home.

/// Lines of a session file being written, counted.
struct Lines {
    out: BufWriter<std::fs::File>,
    bytes: u64,
}

impl Lines {
    fn create(path: &Path) -> Lines {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        Lines {
            out: BufWriter::new(std::fs::File::create(path).unwrap()),
            bytes: 0,
        }
    }

    fn put(&mut self, line: &Value) {
        let text = line.to_string();
        self.bytes += text.len() as u64 + 1;
        writeln!(self.out, "{text}").unwrap();
    }

    fn finish(mut self) -> u64 {
        self.out.flush().unwrap();
        self.bytes
    }
}

fn time(at: i64) -> String {
    jiff::Timestamp::from_second(at).unwrap().to_string()
}

/// A tool's output of 1-20 KB, one in 40 of 100 KB.
fn tool_output(rng: &mut Rng) -> String {
    let size = if rng.below(40) == 0 {
        100_000
    } else {
        1_000 + rng.below(19_000)
    };
    common::text(rng, size)
}

/// A Codex rollout (`~/.codex/sessions/YYYY/MM/DD/rollout-...-<id>.jsonl`)
/// of at least `target` bytes: its meta line, the developer and context
/// messages, then turns of a prompt, reasoning, a shell call and its
/// output, and a reply, with the event lines Codex writes beside them.
fn write_codex(path: &Path, id: &str, start: i64, rng: &mut Rng, target: u64) -> u64 {
    let mut w = Lines::create(path);
    let mut at = start;
    let put = |w: &mut Lines, at: i64, kind: &str, payload: Value| {
        w.put(&json!({"timestamp": time(at), "type": kind, "payload": payload}));
    };
    put(
        &mut w,
        at,
        "session_meta",
        json!({"id": id, "timestamp": time(at), "cwd": "/home/dev/proj",
               "originator": "codex_cli_rs", "cli_version": "0.39.0", "instructions": null,
               "model_provider": "openai", "source": "cli",
               "git": {"commit_hash": "abc123", "branch": "main",
                       "repository_url": "git@example.com:dev/proj.git"}}),
    );
    put(
        &mut w,
        at,
        "response_item",
        json!({"type": "message", "role": "developer", "content": [{"type": "input_text",
               "text": "<permissions instructions>\nsandbox: workspace-write\n</permissions instructions>"}]}),
    );
    put(
        &mut w,
        at,
        "response_item",
        json!({"type": "message", "role": "user", "content": [{"type": "input_text",
               "text": "<environment_context>\n  <cwd>/home/dev/proj</cwd>\n</environment_context>"}]}),
    );
    let mut call = 0;
    while w.bytes < target {
        at += 30;
        put(
            &mut w,
            at,
            "turn_context",
            json!({"cwd": "/home/dev/proj", "approval_policy": "on-request",
                   "sandbox_policy": {"type": "workspace-write"}, "model": "gpt-5-codex",
                   "effort": "medium", "summary": "auto"}),
        );
        let n = 60 + rng.below(400);
        let prompt = common::text(rng, n);
        put(
            &mut w,
            at,
            "response_item",
            json!({"type": "message", "role": "user",
                   "content": [{"type": "input_text", "text": prompt}]}),
        );
        put(
            &mut w,
            at,
            "event_msg",
            json!({"type": "user_message", "message": prompt, "images": []}),
        );
        let thought = common::text(rng, 200);
        at += 2;
        put(
            &mut w,
            at,
            "response_item",
            json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": thought}],
                   "content": null, "encrypted_content": "gAAAAB-bench"}),
        );
        put(
            &mut w,
            at,
            "event_msg",
            json!({"type": "agent_reasoning", "text": thought}),
        );
        call += 1;
        let call_id = format!("call_{call}");
        put(
            &mut w,
            at,
            "response_item",
            json!({"type": "function_call", "name": "shell", "call_id": call_id,
                   "arguments": "{\"command\": [\"bash\", \"-lc\", \"cargo test\"], \"workdir\": \"/home/dev/proj\"}"}),
        );
        at += 5;
        let output = json!({"output": tool_output(rng),
                            "metadata": {"exit_code": 0, "duration_seconds": 1.2}});
        put(
            &mut w,
            at,
            "response_item",
            json!({"type": "function_call_output", "call_id": call_id,
                   "output": output.to_string()}),
        );
        let n = 100 + rng.below(600);
        let reply = common::text(rng, n);
        at += 3;
        put(
            &mut w,
            at,
            "response_item",
            json!({"type": "message", "role": "assistant",
                   "content": [{"type": "output_text", "text": reply}]}),
        );
        put(
            &mut w,
            at,
            "event_msg",
            json!({"type": "agent_message", "message": reply}),
        );
        put(
            &mut w,
            at,
            "event_msg",
            json!({"type": "token_count", "info": {
                "total_token_usage": {"input_tokens": 9000, "cached_input_tokens": 7000,
                    "output_tokens": 700, "reasoning_output_tokens": 200, "total_tokens": 9700},
                "last_token_usage": {"input_tokens": 5000, "cached_input_tokens": 4000,
                    "output_tokens": 300, "reasoning_output_tokens": 100, "total_tokens": 5300},
                "model_context_window": 272_000}}),
        );
    }
    w.finish()
}

/// A Gemini CLI chat (`~/.gemini/tmp/<project hash>/chats/session-...jsonl`)
/// of at least `target` bytes: its header line, then turns of a prompt, a
/// reply that ran a shell command (with its output), and a reply of text,
/// with the `$set` lines that keep the header's time up to date.
fn write_gemini(path: &Path, id: &str, hash: &str, start: i64, rng: &mut Rng, target: u64) -> u64 {
    let mut w = Lines::create(path);
    let mut at = start;
    w.put(
        &json!({"sessionId": id, "projectHash": hash, "startTime": time(at),
                  "lastUpdated": time(at), "kind": "main"}),
    );
    let mut turn = 0;
    while w.bytes < target {
        turn += 1;
        at += 30;
        let n = 60 + rng.below(400);
        w.put(
            &json!({"id": format!("u{turn}"), "timestamp": time(at), "type": "user",
                      "content": [{"text": common::text(rng, n)}]}),
        );
        w.put(&json!({"$set": {"lastUpdated": time(at)}}));
        at += 5;
        let call = format!("run_shell_command-{turn}");
        let output = tool_output(rng);
        w.put(
            &json!({"id": format!("g{turn}a"), "timestamp": time(at), "type": "gemini",
                      "content": "", "model": "gemini-2.5-pro",
                      "thoughts": [{"subject": "Running the tests",
                                    "description": common::text(rng, 150), "timestamp": time(at)}],
                      "toolCalls": [{"id": call, "name": "run_shell_command",
                                     "args": {"command": "npm test"}, "status": "success",
                                     "timestamp": time(at), "displayName": "Shell",
                                     "description": "Runs a shell command",
                                     "result": [{"functionResponse": {"id": call,
                                         "name": "run_shell_command",
                                         "response": {"output": output}}}],
                                     "resultDisplay": "tests ran"}],
                      "tokens": {"input": 1200, "output": 40, "cached": 800, "thoughts": 30,
                                 "tool": 0, "total": 1270}}),
        );
        at += 5;
        let n = 100 + rng.below(600);
        w.put(
            &json!({"id": format!("g{turn}b"), "timestamp": time(at), "type": "gemini",
                      "content": common::text(rng, n), "thoughts": [], "model": "gemini-2.5-pro",
                      "tokens": {"input": 1500, "output": 20, "cached": 0, "total": 1520}}),
        );
        w.put(&json!({"$set": {"lastUpdated": time(at)}}));
    }
    w.finish()
}

/// What [`generate`] wrote.
struct Home {
    files: usize,
    bytes: u64,
    claude: usize,
    codex: usize,
    gemini: usize,
    /// Of the Claude Code files: the number of large ones, a small one and
    /// a large one.
    large: usize,
    small: PathBuf,
    big: PathBuf,
}

/// Writes the home: `files` session files, most of them Claude Code's (the
/// first `large` of about 50 MB, the others 40-280 KB and a little more),
/// 3% Codex rollouts, 1% Gemini CLI chats. Every file's time is set an
/// hour back, as a person's files are when they first sync.
fn generate(home: &Path, files: usize, large: usize) -> Home {
    let _ = std::fs::remove_dir_all(home);
    let codex = files * 3 / 100;
    let gemini = files / 100;
    let claude = files - codex - gemini;
    let (mut bytes, small, big) = common::generate_claude(
        &home.join(".claude/projects"),
        claude,
        large,
        50 << 20,
        (40_000, 240_000),
    );
    let mut rng = Rng::new(11);
    let base: i64 = 1_757_498_400; // 2025-09-10 10:00 UTC
    for f in 0..codex {
        let start = base + i64::try_from(f).unwrap() * 7_200;
        let day = jiff::Timestamp::from_second(start)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        let id = format!("0199a2b3-{:04x}-7e6f-8a9b-{:012x}", f, f * 104_729);
        let path = home.join(format!(
            ".codex/sessions/{}/rollout-{}-{id}.jsonl",
            day.strftime("%Y/%m/%d"),
            day.strftime("%Y-%m-%dT%H-%M-%S"),
        ));
        let target = 20_000 + rng.below(300_000) as u64;
        bytes += write_codex(&path, &id, start, &mut rng, target);
    }
    for f in 0..gemini {
        let start = base + i64::try_from(f).unwrap() * 9_000;
        let day = jiff::Timestamp::from_second(start)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        let id = format!("{:08x}-0000-4000-8000-{:012x}", 0x5eed_0000 + f, f);
        let hash = format!("{:064x}", (f % 7 + 1) * 0x1234_5678_9abc);
        let path = home.join(format!(
            ".gemini/tmp/{hash}/chats/session-{}-{}.jsonl",
            day.strftime("%Y-%m-%dT%H-%M"),
            &id[..8],
        ));
        let target = 10_000 + rng.below(90_000) as u64;
        bytes += write_gemini(&path, &id, &hash, start, &mut rng, target);
    }
    let an_hour_ago = SystemTime::now() - Duration::from_hours(1);
    let (n, _) = walk(home, &mut |p| {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
    });
    assert_eq!(n, files as u64);
    Home {
        files,
        bytes,
        claude,
        codex,
        gemini,
        large,
        small,
        big,
    }
}

/// Lists every file under `root` and stats it (as a sync with nothing new
/// must at least do), calling `each` on it. Returns the files and bytes.
fn walk(root: &Path, each: &mut dyn FnMut(&Path)) -> (u64, u64) {
    let mut stack = vec![root.to_path_buf()];
    let (mut files, mut bytes) = (0u64, 0u64);
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                bytes += meta.len();
                each(&p);
            }
        }
    }
    (files, bytes)
}

/// Seconds for ripgrep to list the home's files, or `None` without it.
fn ripgrep_files(home: &Path) -> Option<f64> {
    let start = Instant::now();
    let status = Command::new("rg")
        .args(["--files", "--hidden", "--no-ignore"])
        .arg(home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| start.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------------------
// `watch`.

/// A running `watch --json`, its lines read as they come, each with the
/// moment it was read.
struct Watching {
    child: Child,
    lines: Receiver<(Instant, Value)>,
}

impl Watching {
    fn start(home: &Path, db: &Path) -> Watching {
        let mut child = scrollback(home, db)
            .args(["watch", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let at = Instant::now();
                let v = serde_json::from_str(&line).unwrap_or(Value::Null);
                if tx.send((at, v)).is_err() {
                    break;
                }
            }
        });
        Watching { child, lines }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time used so far (user and system, every thread), in seconds.
    fn cpu_secs(&self, tick: f64) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the command's name (which may hold spaces): state is
        // the 3rd field of the line, utime the 14th, stime the 15th.
        let rest = &stat[stat.rfind(')').unwrap() + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        ticks as f64 / tick
    }

    /// Stops it as ctrl-c does (a kill if that is not enough). A process
    /// started in the background by a shell without job control inherits
    /// SIGINT ignored: then SIGTERM, whose default is the same.
    fn stop(mut self) {
        let ignored = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|s| {
                let l = s.lines().find(|l| l.starts_with("SigIgn:"))?;
                u64::from_str_radix(l["SigIgn:".len()..].trim(), 16).ok()
            })
            .is_some_and(|mask| mask & (1 << (2 - 1)) != 0);
        let signal = if ignored { "-TERM" } else { "-INT" };
        let _ = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!(
            "  NOTE: watch did not stop on SIG{} within 10 s: killed",
            &signal[1..]
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clock ticks per second of /proc/PID/stat.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// A word no generated text holds (lower case letters only, one token).
fn marker(i: usize) -> String {
    let a = b'a' + u8::try_from(i / 26 % 26).unwrap();
    let b = b'a' + u8::try_from(i % 26).unwrap();
    format!("zebquonix{}{}", a as char, b as char)
}

/// Whether `search --json word` finds anything, and how long it took.
fn found(home: &Path, db: &Path, word: &str) -> (bool, f64) {
    let start = Instant::now();
    let out = scrollback(home, db)
        .args(["search", "--json", word])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let any = hits.as_array().is_some_and(|h| !h.is_empty());
    (any, start.elapsed().as_secs_f64())
}

/// One message appended while `watch` runs: when its pass line came and
/// when `search` first found it, in seconds after the write.
struct Visible {
    pass: Option<f64>,
    search: Option<f64>,
    /// How long the `search` that found it took by itself.
    search_cost: f64,
    pass_line: Value,
}

fn append_while_watching(w: &Watching, home: &Path, db: &Path, path: &Path, word: &str) -> Visible {
    while w.lines.try_recv().is_ok() {}
    let bytes = common::next_message(path, word);
    let written = Instant::now();
    common::append(path, &bytes);
    let mut v = Visible {
        pass: None,
        search: None,
        search_cost: 0.0,
        pass_line: Value::Null,
    };
    let give_up = written + Duration::from_secs(10);
    let mut next = written;
    while (v.pass.is_none() || v.search.is_none()) && Instant::now() < give_up {
        while let Ok((at, line)) = w.lines.try_recv() {
            if v.pass.is_none() && num(&line, "messages_added") > 0 {
                v.pass = Some((at - written).as_secs_f64());
                v.pass_line = line;
            }
        }
        if v.search.is_none() {
            let (any, cost) = found(home, db, word);
            if any {
                v.search = Some(written.elapsed().as_secs_f64());
                v.search_cost = cost;
            }
        }
        next += Duration::from_millis(20);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        } else {
            next = Instant::now();
        }
    }
    v
}

fn main() {
    let quick = std::env::var_os("SCROLLBACK_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "scrollback sync benchmark ({} cores){}",
        common::cores(),
        if quick { " [quick: 1/10 scale]" } else { "" }
    );
    let mut results = serde_json::Map::new();
    let mut peaks: Vec<(&str, f64, f64)> = Vec::new();

    // The home, and the floors of looking at it.
    let home = std::fs::canonicalize(&dir).unwrap().join("sync-home");
    let t = Instant::now();
    let g = generate(&home, 10_000 / scale, if quick { 1 } else { 5 });
    println!(
        "generated {} session files ({} Claude Code, {} of them about 50 MB; {} Codex; {} Gemini CLI): {:.0} MB in {:.1} s",
        g.files,
        g.claude,
        g.large,
        g.codex,
        g.gemini,
        mb(g.bytes),
        t.elapsed().as_secs_f64()
    );
    let mut walks: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let (n, _) = walk(&home, &mut |_| {});
            assert_eq!(n, g.files as u64);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let walk_ms = common::median_ms(&mut walks);
    println!(
        "baseline      listing and stat-ing the {} files: {walk_ms:.0} ms (median of 5)",
        g.files
    );
    let rg = ripgrep_files(&home);
    match rg {
        Some(s) => println!("baseline      rg --files: {:.0} ms", s * 1000.0),
        None => println!("baseline      ripgrep: not installed (apt package ripgrep)"),
    }

    let db = common::fresh_db(&dir, "sync-bench.db");
    let before = run(&home, &db, &["sources", "--json"]);
    let listed = before.report.as_array().cloned().unwrap_or_default();
    let sum = |key: &str| listed.iter().map(|s| num(s, key)).sum::<u64>();
    println!(
        "sources       before the first sync: {:.0} ms  ({} sources, {} files, {} new)",
        before.secs * 1000.0,
        listed.len(),
        sum("files"),
        sum("new")
    );
    if sum("files") != g.files as u64 || sum("new") != g.files as u64 {
        println!(
            "  NOTE: sources lists {} files, {} new; {} were generated",
            sum("files"),
            sum("new"),
            g.files
        );
    }
    peaks.push(("sources", before.peak_mb, 300.0));

    // 1. The first sync.
    let first = sync(&home, &db);
    let rate = mb(g.bytes) / first.secs;
    println!(
        "first sync:   {:>8.1} s  {rate:>6.1} MB/s  peak RSS {:>5.0} MB  ({} files, {} sessions, {} messages)  (targets: >= 35 MB/s: {}; < 600 MB: {})",
        first.secs,
        first.peak_mb,
        num(&first.report, "files"),
        num(&first.report, "sessions_added"),
        num(&first.report, "messages_added"),
        verdict(rate >= 35.0),
        verdict(first.peak_mb < 600.0)
    );
    if num(&first.report, "files") != g.files as u64 {
        println!(
            "  NOTE: the first sync read {} files of {}",
            num(&first.report, "files"),
            g.files
        );
    }
    if let Some(failed) = first.report["failed"].as_array() {
        for f in failed.iter().take(5) {
            println!("  NOTE: failed: {f}");
        }
    }
    peaks.push(("first sync", first.peak_mb, 600.0));

    // 2. Nothing new.
    let mut idle = Vec::new();
    let mut idle_peak: f64 = 0.0;
    for _ in 0..5 {
        let r = sync(&home, &db);
        assert_eq!(
            num(&r.report, "bytes_read"),
            0,
            "a sync with nothing new read something: {}",
            brief(&r.report)
        );
        idle.push(r.secs * 1000.0);
        idle_peak = idle_peak.max(r.peak_mb);
    }
    let idle_max = idle.iter().copied().fold(0.0, f64::max);
    let idle_ms = common::median_ms(&mut idle);
    println!(
        "nothing new:  {idle_ms:>8.0} ms (median of 5, max {idle_max:.0})  {:.1}x the stat walk  peak RSS {idle_peak:.0} MB  (target: < 1 s: {})",
        idle_ms / walk_ms,
        verdict(idle_ms < 1000.0)
    );
    peaks.push(("sync, nothing new", idle_peak, 300.0));
    let after = run(&home, &db, &["sources", "--json"]);
    let listed = after.report.as_array().cloned().unwrap_or_default();
    let sum = |key: &str| listed.iter().map(|s| num(s, key)).sum::<u64>();
    println!(
        "sources       after it: {:.0} ms  ({} new, {} changed)",
        after.secs * 1000.0,
        sum("new"),
        sum("changed")
    );
    if sum("new") + sum("changed") > 0 {
        println!("  NOTE: sources still sees files to sync after a full sync");
    }

    // 3. One message appended, then a sync. A sync with nothing new comes
    // before each, and its time counts in the median the extra work is
    // measured from: the machine's load drifts over the rounds.
    let rounds = if quick { 3 } else { 5 };
    let mut grown = serde_json::Map::new();
    let mut grown_peak: f64 = 0.0;
    let mut word = 0;
    let mut idle_all = idle.clone();
    for (what, path) in [("a 50 MB file", &g.big), ("a small file", &g.small)] {
        let size = std::fs::metadata(path).unwrap().len();
        let mut took = Vec::new();
        let mut appended = 0;
        for _ in 0..rounds {
            let r = sync(&home, &db);
            assert_eq!(num(&r.report, "bytes_read"), 0, "{}", brief(&r.report));
            idle_all.push(r.secs * 1000.0);
            let bytes = common::next_message(path, &marker(word));
            word += 1;
            common::append(path, &bytes);
            // As when the sync comes a few seconds after the write: a file
            // written within the last 2 s is looked at once more by the
            // next sync (read on from its end, nothing read), which would
            // count in the next round.
            settle(path, 5);
            appended = bytes.len() as u64;
            let r = sync(&home, &db);
            assert_eq!(
                num(&r.report, "read_on"),
                1,
                "{what} that grew was not read on: {}",
                brief(&r.report)
            );
            assert_eq!(
                num(&r.report, "bytes_read"),
                appended,
                "{what} that grew: not only what was appended was read: {}",
                brief(&r.report)
            );
            assert_eq!(num(&r.report, "messages_added"), 2, "{}", brief(&r.report));
            took.push(r.secs * 1000.0);
            grown_peak = grown_peak.max(r.peak_mb);
        }
        let idle_now = common::median_ms(&mut idle_all.clone());
        let mut extra: Vec<f64> = took.iter().map(|t| t - idle_now).collect();
        let max = extra.iter().copied().fold(f64::MIN, f64::max);
        let median = common::median_ms(&mut extra);
        let took_median = common::median_ms(&mut took);
        println!(
            "one message ({appended} bytes) appended to {what} ({:.1} MB), then sync: {took_median:.0} ms against {idle_now:.0} ms with nothing new: {median:.0} ms more (median of {rounds}, max {max:.0})  (target: < 50 ms: {})",
            mb(size),
            verdict(median < 50.0)
        );
        grown.insert(
            if what.contains("50") {
                "large_file"
            } else {
                "small_file"
            }
            .into(),
            json!({"file_mb": mb(size), "appended_bytes": appended,
                   "sync_ms_median": took_median, "nothing_new_ms_median": idle_now,
                   "extra_ms_median": median, "extra_ms_max": max}),
        );
    }
    peaks.push(("sync, a file grew", grown_peak, 300.0));
    // What was read on is remembered: nothing is read again.
    let again = sync(&home, &db);
    assert_eq!(
        num(&again.report, "bytes_read"),
        0,
        "{}",
        brief(&again.report)
    );
    assert_eq!(
        num(&again.report, "messages_added"),
        0,
        "{}",
        brief(&again.report)
    );
    if num(&again.report, "read_on") > 0 {
        println!(
            "  (the next sync read on {} files from their end, 0 bytes: written within the last 2 s when they were read, they are looked at once more)",
            num(&again.report, "read_on")
        );
    }

    // 4. `watch`, idle.
    let tick = clock_ticks();
    let w = Watching::start(&home, &db);
    let started = Instant::now();
    let first_line = w.lines.recv_timeout(Duration::from_hours(1));
    let first_pass = started.elapsed().as_secs_f64();
    match &first_line {
        Ok((_, line)) => {
            if num(line, "bytes_read") > 0 {
                println!(
                    "  NOTE: watch's first pass read {} bytes",
                    num(line, "bytes_read")
                );
            }
        }
        Err(e) => println!("  NOTE: watch printed no first line: {e:?}"),
    }
    let idle_secs = if quick { 10 } else { 60 };
    let cpu0 = w.cpu_secs(tick);
    let t = Instant::now();
    let mut idle_lines = 0;
    loop {
        let left = Duration::from_secs(idle_secs).saturating_sub(t.elapsed());
        if left.is_zero() {
            break;
        }
        match w.lines.recv_timeout(left) {
            Ok(_) => idle_lines += 1,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                println!("  NOTE: watch stopped while idle");
                break;
            }
        }
    }
    let cpu = (w.cpu_secs(tick) - cpu0) / t.elapsed().as_secs_f64() * 100.0;
    let idle_rss = common::proc_status_mb(w.pid(), "VmRSS").unwrap_or(0.0);
    println!(
        "watch idle:   first pass {first_pass:.2} s; then {cpu:.2}% of one core over {idle_secs} s, RSS {idle_rss:.0} MB  (target: < 1%: {})",
        verdict(cpu < 1.0)
    );
    if idle_lines > 0 {
        println!("  NOTE: watch printed {idle_lines} lines while nothing changed");
    }

    // 5. Appended to visible, with `watch` running.
    let repeats = if quick { 6 } else { 10 };
    let mut to_pass = Vec::new();
    let mut to_search = Vec::new();
    let mut search_cost = Vec::new();
    for i in 0..repeats {
        let path = if i % 2 == 0 { &g.small } else { &g.big };
        let v = append_while_watching(&w, &home, &db, path, &marker(word));
        word += 1;
        match v.pass {
            Some(s) => to_pass.push(s * 1000.0),
            None => println!("  NOTE: no pass line added message {i} within 10 s"),
        }
        match v.search {
            Some(s) => {
                to_search.push(s * 1000.0);
                search_cost.push(v.search_cost * 1000.0);
            }
            None => println!("  NOTE: search did not find message {i} within 10 s"),
        }
        if v.pass.is_some()
            && (num(&v.pass_line, "read_on") != 1 || num(&v.pass_line, "messages_added") != 2)
        {
            println!(
                "  NOTE: the pass that added message {i} read on {} files, {} bytes, added {} messages",
                num(&v.pass_line, "read_on"),
                num(&v.pass_line, "bytes_read"),
                num(&v.pass_line, "messages_added")
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let max = |v: &[f64]| v.iter().copied().fold(f64::NAN, f64::max);
    let (pass_max, search_max) = (max(&to_pass), max(&to_search));
    let median = |v: &mut Vec<f64>| {
        if v.is_empty() {
            f64::NAN
        } else {
            common::median_ms(v)
        }
    };
    let pass_median = median(&mut to_pass);
    let search_median = median(&mut to_search);
    let cost_median = median(&mut search_cost);
    println!(
        "watch, appended to its pass line:   median {pass_median:>5.0} ms, max {pass_max:>5.0} ms over {repeats}  (target: < 1 s: {})",
        verdict(pass_max < 1000.0)
    );
    println!(
        "watch, appended to found by search: median {search_median:>5.0} ms, max {search_max:>5.0} ms over {repeats}; a search run itself {cost_median:.0} ms  (target: < 1 s: {})",
        verdict(search_max < 1000.0)
    );
    let watch_peak = common::proc_status_mb(w.pid(), "VmHWM").unwrap_or(0.0);
    let watch_rss = common::proc_status_mb(w.pid(), "VmRSS").unwrap_or(0.0);
    w.stop();
    peaks.push(("watch", watch_peak, 300.0));

    // 6. Peak RSS of every step.
    println!("peak RSS:");
    for (what, peak, target) in &peaks {
        println!(
            "  {what:<20} {peak:>5.0} MB  (target: < {target:.0} MB: {})",
            verdict(peak < target)
        );
    }

    results.insert(
        "home".into(),
        json!({"files": g.files, "input_mb": mb(g.bytes), "claude_code": g.claude,
               "large": g.large, "codex": g.codex, "gemini": g.gemini}),
    );
    results.insert(
        "baseline".into(),
        json!({"stat_walk_ms": walk_ms, "rg_files_ms": rg.map(|s| s * 1000.0)}),
    );
    results.insert(
        "sources_ms".into(),
        json!({"before_first_sync": before.secs * 1000.0, "after": after.secs * 1000.0}),
    );
    results.insert(
        "first_sync".into(),
        json!({"s": first.secs, "mb_s": rate, "peak_rss_mb": first.peak_mb,
               "sessions": first.report["sessions_added"],
               "messages": first.report["messages_added"]}),
    );
    results.insert(
        "nothing_new".into(),
        json!({"ms_median": idle_ms, "ms_max": idle_max, "peak_rss_mb": idle_peak,
               "x_stat_walk": idle_ms / walk_ms}),
    );
    results.insert("grown".into(), Value::Object(grown));
    results.insert(
        "watch".into(),
        json!({"first_pass_s": first_pass, "idle_cpu_pct": cpu, "idle_s": idle_secs,
               "idle_rss_mb": idle_rss, "rss_mb": watch_rss, "peak_rss_mb": watch_peak,
               "to_pass_ms_median": pass_median, "to_pass_ms_max": pass_max,
               "to_search_ms_median": search_median, "to_search_ms_max": search_max,
               "search_run_ms_median": cost_median}),
    );
    results.insert(
        "peak_rss_mb".into(),
        Value::Object(
            peaks
                .iter()
                .map(|(w, p, _)| ((*w).to_string(), json!(p)))
                .collect(),
        ),
    );
    let path = dir.join("sync.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(results)).unwrap(),
    )
    .unwrap();
    println!("written to {}", path.display());
}
