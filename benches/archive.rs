//! Archive files under load: 100,000 sessions / 5,000,000 messages moved out
//! of a store of 10,000,000 messages (200,000 sessions of 50) into a `.sbz`
//! by the real binary (`archive --to --older-than`), then brought back
//! (`import FILE.sbz`). Prints MB/s of JSON both ways, the peak RSS of each
//! run, the archive's size as a share of the same sessions exported as
//! JSONL, the database's size before and after, and beside them the
//! baselines of the same run: `export --format jsonl` of those sessions,
//! and the `zstd` command compressing that export (when installed).
//! Results also go to target/bench/archive.json.
//!
//! Targets (2 cores): archive and restore >= 50 MB/s of JSON, peak RSS
//! < 300 MB, archive <= 20% of the JSON export.
//! `SCROLLBACK_BENCH_QUICK=1` runs at 1/10 scale.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::too_many_lines
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use common::bigstore::{Spec, disk_mb, ensure_store};
use scrollback::search::index_dir;

fn scrollback(db: &Path, dir: &Path) -> Command {
    let config = dir.join("archive-bench.toml");
    std::fs::write(&config, "[log]\nlevel = \"info\"\n").unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_scrollback"));
    c.arg("--db").arg(db).arg("--config").arg(config);
    c
}

fn copy_store(from: &Path, to: &Path) {
    remove_store(to);
    std::fs::copy(from, to).unwrap();
    let wal = PathBuf::from(format!("{}-wal", from.display()));
    if wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", to.display())).unwrap();
    }
    std::fs::create_dir_all(index_dir(to)).unwrap();
    for e in std::fs::read_dir(index_dir(from)).unwrap().flatten() {
        std::fs::copy(e.path(), index_dir(to).join(e.file_name())).unwrap();
    }
}

fn remove_store(db: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let _ = std::fs::remove_dir_all(index_dir(db));
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn check(what: &str, m: &common::Measured) {
    assert!(
        m.stderr.is_empty() || !String::from_utf8_lossy(&m.stderr).contains("error"),
        "{what}: {}",
        String::from_utf8_lossy(&m.stderr)
    );
}

fn main() {
    let quick = std::env::var_os("SCROLLBACK_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    let suffix = if quick { "-quick" } else { "" };
    let spec = Spec {
        sessions: 200_000 / scale,
        messages: 10_000_000 / scale as u64,
        big: 0,
        seed: 13,
    };
    println!(
        "scrollback archive benchmark ({} cores){}",
        common::cores(),
        if quick {
            " [quick: 1/10 scale]"
        } else {
            " [full scale]"
        }
    );
    let base = dir.join(format!("archive-store{suffix}.db"));
    ensure_store(&base, &spec);
    let db = dir.join(format!("archive-work{suffix}.db"));
    copy_store(&base, &db);
    let file = dir.join(format!("archive{suffix}.sbz"));
    let export = dir.join(format!("archive-export{suffix}.jsonl"));
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&export);
    // Sessions are made 10 minutes apart: the first half is older than this.
    let half = spec.sessions / 2;
    let cut_ms = 1_700_000_000_000_i64 + half as i64 * 600_000;
    let cut = scrollback::domain::ts_from_ms(cut_ms).to_string();
    let (db_before, idx_before) = disk_mb(&db);
    println!(
        "store         {} sessions, {} messages: {db_before:.0} MB + index {idx_before:.0} MB; archiving the {half} sessions older than {cut}",
        spec.sessions, spec.messages
    );

    // Baseline: the whole store exported as JSONL (the archive's content is
    // exactly that export's lines for the sessions it holds, so its
    // `content_bytes` is their JSON export's size), and zstd compressing it.
    let exported = common::run_measured(
        scrollback(&db, &dir)
            .args(["export", "--all", "--format", "jsonl", "-o"])
            .arg(&export),
    );
    check("export", &exported);
    let export_bytes = std::fs::metadata(&export).map_or(0, |m| m.len());
    let export_mbs = export_bytes as f64 / 1e6 / exported.secs;
    println!(
        "baseline      export --all --format jsonl: {:.0} MB in {:.1} s = {export_mbs:.0} MB/s, peak RSS {:.0} MB",
        export_bytes as f64 / 1e6,
        exported.secs,
        exported.peak_mb
    );

    // Archive.
    let archived = common::run_measured(
        scrollback(&db, &dir)
            .args(["archive", "--to"])
            .arg(&file)
            .args(["--older-than", &cut, "--yes", "--json"]),
    );
    check("archive", &archived);
    let report: Value = serde_json::from_slice(&archived.stdout).unwrap_or_else(|e| {
        panic!(
            "archive --json ({e}): {}{}",
            String::from_utf8_lossy(&archived.stdout),
            String::from_utf8_lossy(&archived.stderr)
        )
    });
    let header = &report["archive"]["header"];
    let json_bytes = header["content_bytes"].as_u64().unwrap();
    let file_bytes = report["archive"]["file_bytes"].as_u64().unwrap();
    let sessions = header["sessions"].as_u64().unwrap();
    let messages = header["messages"].as_u64().unwrap();
    assert_eq!(sessions, half as u64);
    let archive_mbs = json_bytes as f64 / 1e6 / archived.secs;
    let share = file_bytes as f64 / json_bytes as f64 * 100.0;
    let (db_after, idx_after) = disk_mb(&db);
    // The stages, from the log beside the database.
    let log = std::fs::read_to_string(dir.join("scrollback.log")).unwrap_or_default();
    let stage = |key: &str| -> f64 {
        log.lines()
            .rev()
            .find(|l| l.contains("archive stages"))
            .and_then(|l| l.split(&format!("{key}=")).nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let (write_secs, remove_secs, vacuum_secs) = (
        stage("write_and_verify_secs"),
        stage("remove_secs"),
        stage("vacuum_secs"),
    );
    println!(
        "archive       {sessions} sessions, {messages} messages, {:.0} MB of JSON in {:.1} s = {archive_mbs:.0} MB/s, {:.0} messages/s (written, read back, verified, removed, space given back), peak RSS {:.0} MB (anonymous {:.0} MB)  (targets: >= 50 MB/s: {}; < 300 MB: {})",
        json_bytes as f64 / 1e6,
        archived.secs,
        messages as f64 / archived.secs,
        archived.peak_mb,
        archived.peak_anon_mb,
        verdict(archive_mbs >= 50.0),
        verdict(archived.peak_mb < 300.0)
    );
    println!(
        "  stages      writing and verifying the file {write_secs:.1} s ({:.0} MB/s); removing {sessions} sessions from the store {remove_secs:.1} s; giving the space back {vacuum_secs:.1} s",
        json_bytes as f64 / 1e6 / write_secs
    );
    println!(
        "size          archive {:.1} MB = {share:.1}% of the same sessions' JSON export  (target <= 20%: {})",
        file_bytes as f64 / 1e6,
        verdict(share <= 20.0)
    );
    let zstd_cmd = Command::new("zstd").arg("--version").output().is_ok();
    let mut zstd_json = Value::Null;
    if zstd_cmd {
        let out = dir.join(format!("archive-export{suffix}.jsonl.zst"));
        let _ = std::fs::remove_file(&out);
        let z = common::run_measured(
            Command::new("zstd")
                .args(["-3", "-q", "-f", "-o"])
                .arg(&out)
                .arg(&export),
        );
        let z_bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
        println!(
            "baseline      zstd -3 of the whole export: {:.1}% of it, {:.0} MB/s",
            z_bytes as f64 / export_bytes as f64 * 100.0,
            export_bytes as f64 / 1e6 / z.secs
        );
        zstd_json = json!({ "share": z_bytes as f64 / export_bytes as f64, "mb_per_s": export_bytes as f64 / 1e6 / z.secs });
        let _ = std::fs::remove_file(&out);
    }
    println!(
        "database      {db_before:.0} MB before, {db_after:.0} MB after ({:.0} MB given back); index {idx_before:.0} MB -> {idx_after:.0} MB",
        db_before - db_after
    );

    // The same sessions as JSONL (the archive's lines), for the baseline
    // import below.
    let jsonl = dir.join(format!("archive-same{suffix}.jsonl"));
    {
        let raw = std::fs::File::open(&file).unwrap();
        let mut lines = std::io::BufReader::new(zstd::stream::read::Decoder::new(raw).unwrap());
        let mut header_line = String::new();
        std::io::BufRead::read_line(&mut lines, &mut header_line).unwrap();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&jsonl).unwrap());
        std::io::copy(&mut lines, &mut out).unwrap();
    }

    // Restore.
    let restored =
        common::run_measured(scrollback(&db, &dir).arg("import").arg(&file).arg("--json"));
    check("import", &restored);
    let r: Value = serde_json::from_slice(&restored.stdout).unwrap();
    assert_eq!(r["sessions_added"].as_u64(), Some(sessions), "{r}");
    let restore_mbs = json_bytes as f64 / 1e6 / restored.secs;
    println!(
        "restore       import {}: {sessions} sessions back in {:.1} s = {restore_mbs:.0} MB/s of JSON, {:.0} messages/s (checked whole, stored and indexed), peak RSS {:.0} MB (anonymous {:.0} MB)  (targets: >= 50 MB/s: {}; < 300 MB: {})",
        file.file_name().unwrap().to_string_lossy(),
        restored.secs,
        messages as f64 / restored.secs,
        restored.peak_mb,
        restored.peak_anon_mb,
        verdict(restore_mbs >= 50.0),
        verdict(restored.peak_mb < 300.0)
    );
    let (db_back, _) = disk_mb(&db);
    println!("database      {db_back:.0} MB after the restore");
    // Baseline: the same sessions out again, then in from plain JSONL.
    let again = dir.join(format!("archive-again{suffix}.sbz"));
    let _ = std::fs::remove_file(&again);
    let out_again = common::run_measured(
        scrollback(&db, &dir)
            .args(["archive", "--to"])
            .arg(&again)
            .args(["--older-than", &cut, "--yes", "--json"]),
    );
    check("archive again", &out_again);
    let plain = common::run_measured(
        scrollback(&db, &dir)
            .arg("import")
            .arg(&jsonl)
            .arg("--json"),
    );
    check("import jsonl", &plain);
    let plain_mbs = json_bytes as f64 / 1e6 / plain.secs;
    println!(
        "baseline      import of the same sessions as JSONL: {:.1} s = {plain_mbs:.0} MB/s, peak RSS {:.0} MB (anonymous {:.0} MB)",
        plain.secs, plain.peak_mb, plain.peak_anon_mb
    );
    let _ = std::fs::remove_file(&again);
    let _ = std::fs::remove_file(&jsonl);

    let results = json!({
        "sessions": sessions, "messages": messages, "json_bytes": json_bytes,
        "archive": { "secs": archived.secs, "mb_per_s": archive_mbs, "peak_rss_mb": archived.peak_mb,
                     "peak_anon_mb": archived.peak_anon_mb, "write_and_verify_secs": write_secs,
                     "remove_secs": remove_secs, "vacuum_secs": vacuum_secs,
                     "file_bytes": file_bytes, "share_of_json": share / 100.0 },
        "restore": { "secs": restored.secs, "mb_per_s": restore_mbs, "peak_rss_mb": restored.peak_mb,
                     "peak_anon_mb": restored.peak_anon_mb },
        "baseline_import_jsonl": { "secs": plain.secs, "mb_per_s": plain_mbs, "peak_rss_mb": plain.peak_mb },
        "database_mb": { "before": db_before, "after": db_after, "restored": db_back },
        "baseline_export": { "mb_per_s": export_mbs, "bytes": export_bytes, "peak_rss_mb": exported.peak_mb },
        "baseline_zstd": zstd_json,
        "quick": quick,
    });
    let path = dir.join(format!("archive{suffix}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    println!("results: {}", path.display());
    // The copies are large: they go; the generated store stays for the next run.
    remove_store(&db);
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&export);
}
