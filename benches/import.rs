//! `cargo bench --bench import`: importing what people already have, with
//! the real binary, on a generated Claude Code home and on the ShareGPT
//! corpus. Prints, and writes to target/bench/import.json:
//! - first import of a Claude Code-shaped folder (10,000 session files, tool
//!   output heavy, a few files over 50 MB; about 1 GB): MB/s of input and
//!   peak RSS of the importing process, store and index included;
//! - a second import of the same folder, with nothing new;
//! - after appending one exchange to one small file, and to one of the large
//!   ones: the import that brings it in;
//! - one session file of 1 GB: MB/s and peak RSS;
//! - the ShareGPT corpus (`scripts/fetch-sharegpt.sh`): first import and again;
//! - beside them, in the same run: reading the folder with ripgrep (the floor
//!   of reading the bytes at all) and parsing every line with serde_json alone
//!   (the floor of understanding them).
//!
//! `SCROLLBACK_BENCH_QUICK=1` runs at 1/10 scale.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::too_many_lines
)]

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What one run of `scrollback import` took.
struct Run {
    secs: f64,
    peak_mb: f64,
    report: Value,
}

/// Runs the real binary, with its peak RSS.
fn import(db: &Path, paths: &[&Path], extra: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scrollback"));
    cmd.arg("--db").arg(db).arg("import").arg("--json");
    cmd.args(extra);
    for p in paths {
        cmd.arg(p);
    }
    let run = common::run_measured(&mut cmd);
    let report: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    if report.is_null() {
        println!(
            "  import failed: {}",
            String::from_utf8_lossy(&run.stderr).trim()
        );
    }
    Run {
        secs: run.secs,
        peak_mb: run.peak_mb,
        report,
    }
}

/// Seconds to parse every line of every file under `root` with serde_json.
fn parse_only(root: &Path) -> f64 {
    let start = Instant::now();
    let mut stack = vec![root.to_path_buf()];
    let mut lines = 0u64;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let f = std::io::BufReader::new(std::fs::File::open(&p).unwrap());
            for l in f.split(b'\n') {
                let l = l.unwrap();
                if !l.is_empty() {
                    let v: Value = serde_json::from_slice(&l).unwrap();
                    lines += u64::from(v.is_object());
                }
            }
        }
    }
    assert!(lines > 0);
    start.elapsed().as_secs_f64()
}

/// Seconds for ripgrep to read every file (counting lines that hold a
/// `"type"`), or `None` without ripgrep.
fn ripgrep(root: &Path) -> Option<f64> {
    let start = Instant::now();
    let out = Command::new("rg")
        .args(["-c", "--no-messages", "\"type\""])
        .arg(root)
        .stdout(Stdio::null())
        .status()
        .ok()?;
    out.success().then(|| start.elapsed().as_secs_f64())
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn main() {
    let quick = std::env::var_os("SCROLLBACK_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "scrollback import benchmark ({} cores){}",
        common::cores(),
        if quick { " [quick: 1/10 scale]" } else { "" }
    );
    let mut results = serde_json::Map::new();

    // Claude Code home.
    let files = 10_000 / scale;
    let large = if quick { 1 } else { 5 };
    let root = dir.join("import-home/.claude/projects");
    let t = Instant::now();
    let (bytes, small, big) =
        common::generate_claude(&root, files, large, 55 << 20, (20_000, 60_000));
    println!(
        "generated {files} Claude Code session files, {large} of them over 55 MB: {:.0} MB in {:.1} s",
        mb(bytes),
        t.elapsed().as_secs_f64()
    );
    // Files written in the last two seconds are read again by the next
    // import (they may still be being written): let them settle, as a
    // person's files have.
    std::thread::sleep(Duration::from_millis(2500));
    let db = common::fresh_db(&dir, "import-bench.db");
    let first = import(&db, &[&root], &[]);
    let rate = mb(bytes) / first.secs;
    println!(
        "claude-code   first import:   {:>7.1} s  {rate:>6.1} MB/s  peak RSS {:>5.0} MB  ({} sessions, {} messages)  (targets: >= 35 MB/s, < 600 MB)",
        first.secs, first.peak_mb, first.report["sessions_added"], first.report["messages_added"]
    );
    let again = import(&db, &[&root], &[]);
    println!(
        "claude-code   nothing new:    {:>7.3} s  ({} files not read, {} read)  (target: < 1 s over 10,000 files)",
        again.secs, again.report["files_unchanged"], again.report["files"]
    );
    let appended = common::append_exchange(&small);
    let grown_small = import(&db, &[&root], &[]);
    println!(
        "claude-code   one small file grew by {appended} bytes: {:.3} s in all, {:.0} ms more than nothing new  ({} messages added)",
        grown_small.secs,
        (grown_small.secs - again.secs) * 1000.0,
        grown_small.report["messages_added"]
    );
    let appended_big = common::append_exchange(&big);
    let grown_big = import(&db, &[&root], &[]);
    println!(
        "claude-code   one 55 MB file grew by {appended_big} bytes: {:.3} s in all, {:.0} ms more than nothing new  ({} messages added)",
        grown_big.secs,
        (grown_big.secs - again.secs) * 1000.0,
        grown_big.report["messages_added"]
    );
    let parse = parse_only(&root);
    println!(
        "baseline      serde_json parse of every line: {parse:.1} s  {:.1} MB/s",
        mb(bytes) / parse
    );
    let rg = ripgrep(&root);
    match rg {
        Some(s) => println!(
            "baseline      ripgrep reading every file: {s:.1} s  {:.1} MB/s",
            mb(bytes) / s
        ),
        None => println!("baseline      ripgrep: not installed (apt package ripgrep)"),
    }
    let db_size = std::fs::metadata(&db).map_or(0, |m| m.len());
    results.insert(
        "claude_code".into(),
        json!({
            "files": files,
            "input_mb": mb(bytes),
            "first_import_s": first.secs,
            "first_import_mb_s": rate,
            "first_import_peak_rss_mb": first.peak_mb,
            "sessions": first.report["sessions_added"],
            "messages": first.report["messages_added"],
            "nothing_new_s": again.secs,
            "small_file_grew_s": grown_small.secs,
            "small_file_grew_extra_ms": (grown_small.secs - again.secs) * 1000.0,
            "large_file_grew_s": grown_big.secs,
            "large_file_grew_extra_ms": (grown_big.secs - again.secs) * 1000.0,
            "db_mb": mb(db_size),
            "baseline_parse_only_mb_s": mb(bytes) / parse,
            "baseline_ripgrep_mb_s": rg.map(|s| mb(bytes) / s),
        }),
    );

    // One session file of 1 GB (the whole of it one conversation).
    let huge_root = dir.join("import-home-huge/.claude/projects");
    let huge_size: u64 = if quick { 100 << 20 } else { 1 << 30 };
    let (huge_bytes, _, _) = common::generate_claude(&huge_root, 1, 1, huge_size, (0, 1));
    let db = common::fresh_db(&dir, "import-bench-huge.db");
    let huge = import(&db, &[&huge_root], &[]);
    println!(
        "claude-code   one file of {:.0} MB: {:>7.1} s  {:>6.1} MB/s  peak RSS {:>5.0} MB  ({} messages)  (target: < 600 MB)",
        mb(huge_bytes),
        huge.secs,
        mb(huge_bytes) / huge.secs,
        huge.peak_mb,
        huge.report["messages_added"]
    );
    results.insert(
        "claude_code_one_huge_file".into(),
        json!({
            "input_mb": mb(huge_bytes),
            "import_s": huge.secs,
            "import_mb_s": mb(huge_bytes) / huge.secs,
            "peak_rss_mb": huge.peak_mb,
            "messages": huge.report["messages_added"],
        }),
    );
    let _ = std::fs::remove_dir_all(dir.join("import-home-huge"));

    // ShareGPT.
    let corpus = std::env::var_os("SCROLLBACK_SHAREGPT").map_or_else(
        || PathBuf::from("target/corpus/sharegpt.json"),
        PathBuf::from,
    );
    if !corpus.exists() {
        let _ = Command::new("bash")
            .arg("scripts/fetch-sharegpt.sh")
            .arg(&corpus)
            .status();
    }
    if let Ok(meta) = std::fs::metadata(&corpus) {
        let db = common::fresh_db(&dir, "import-bench-sharegpt.db");
        let first = import(&db, &[&corpus], &["--partial"]);
        let again = import(&db, &[&corpus], &["--partial"]);
        let rate = mb(meta.len()) / first.secs;
        println!(
            "sharegpt      first import:   {:>7.1} s  {rate:>6.1} MB/s  peak RSS {:>5.0} MB  ({} sessions); again: {:.2} s, {} added",
            first.secs,
            first.peak_mb,
            first.report["sessions_added"],
            again.secs,
            again.report["sessions_added"]
        );
        results.insert(
            "sharegpt".into(),
            json!({
                "input_mb": mb(meta.len()),
                "first_import_s": first.secs,
                "first_import_mb_s": rate,
                "first_import_peak_rss_mb": first.peak_mb,
                "sessions": first.report["sessions_added"],
                "again_s": again.secs,
                "again_added": again.report["sessions_added"],
            }),
        );
    } else {
        println!("sharegpt      corpus not found (scripts/fetch-sharegpt.sh)");
    }
    let path = dir.join("import.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(results)).unwrap(),
    )
    .unwrap();
    println!("written to {}", path.display());
}
