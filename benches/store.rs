//! `cargo bench --bench store`: the store's speed on generated data.
//!
//! Prints, and writes to target/bench/store.json:
//! - import rate of 1M messages (20k sessions x 50) from a JSONL file, in
//!   messages/s and MB/s of input, in one import;
//! - listing the first 100 of 100k sessions (warm);
//! - a page of 200 messages at depth 49,800 of a 50,000-message session, by
//!   keyset and, beside it, by OFFSET;
//! - purging 10k sessions holding 500k messages.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::too_many_lines
)]

mod common;

use std::path::PathBuf;
use std::time::Instant;

use scrollback::import::{ImportRequest, import_paths};
use scrollback::jobs::JobControl;
use scrollback::store::ImportOptions;
use scrollback::{ListQuery, Store};

fn import(store: &mut Store, file: PathBuf) -> scrollback::store::ImportReport {
    import_paths(
        store,
        &ImportRequest {
            paths: &[file],
            format: None,
            options: ImportOptions::default(),
            partial: false,
            found: false,
            progress: &|_, _| {},
            control: &JobControl::new(),
        },
    )
    .unwrap()
}

fn time_ms(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let quick = std::env::var_os("SCROLLBACK_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("store-bench.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    println!(
        "scrollback store benchmark ({} cores){}",
        common::cores(),
        if quick { " [quick: 1/10 scale]" } else { "" }
    );

    // 1M messages in one import.
    let sessions = 20_000 / scale;
    let corpus = dir.join("store-corpus.jsonl");
    let bytes = common::write_jsonl(&corpus, 1, sessions, 50, "s");
    let mut store = Store::open(&db).unwrap();
    let t = Instant::now();
    let report = import(&mut store, corpus.clone());
    let secs = t.elapsed().as_secs_f64();
    let msgs = report.messages_added as f64;
    let mb = bytes as f64 / 1e6;
    println!(
        "import        {:>9} messages, {:.0} MB JSONL in {:.2} s: {:>9.0} messages/s  {:>6.1} MB/s  (target >= 80 MB/s)",
        report.messages_added,
        mb,
        secs,
        msgs / secs,
        mb / secs
    );
    let _ = std::fs::remove_file(&corpus);

    // 100k sessions in all: add small ones.
    let small = dir.join("store-small.jsonl");
    common::write_jsonl(&small, 2, 100_000 / scale - sessions, 2, "t");
    import(&mut store, small.clone());
    let _ = std::fs::remove_file(&small);
    let q = ListQuery {
        limit: Some(100),
        ..ListQuery::default()
    };
    let total = store.count_sessions().unwrap().0;
    assert_eq!(store.list(&q).unwrap().len(), 100);
    let mut list = (0..200)
        .map(|_| time_ms(|| assert_eq!(store.list(&q).unwrap().len(), 100)))
        .collect::<Vec<_>>();
    let list_ms = common::median_ms(&mut list);
    println!(
        "list          first 100 of {total} sessions: {list_ms:.3} ms median (target <= 1 ms)"
    );

    // One 50,000-message session.
    let long = dir.join("store-long.jsonl");
    common::write_jsonl(&long, 3, 1, 50_000 / scale, "long");
    import(&mut store, long.clone());
    let _ = std::fs::remove_file(&long);
    let s = store.session("long-0").unwrap();
    let depth = s.message_count - 200;
    let mut keyset = (0..200)
        .map(|_| time_ms(|| assert_eq!(store.messages(s.id, depth, 200).unwrap().len(), 200)))
        .collect::<Vec<_>>();
    let keyset_ms = common::median_ms(&mut keyset);
    // The same rows by OFFSET, through a second connection, reading the same columns.
    let raw = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = raw
        .prepare(
            "SELECT seq, role, content, created_at, model, tokens_in, tokens_out, metadata, source_id \
             FROM message WHERE session_id = ?1 ORDER BY seq LIMIT ?2 OFFSET ?3",
        )
        .unwrap();
    let mut offset_page = || {
        let rows = stmt
            .query_map(
                rusqlite::params![s.id.0, 200, i64::try_from(depth).unwrap()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .unwrap()
            .count();
        assert_eq!(rows, 200);
    };
    let mut offset = (0..50)
        .map(|_| time_ms(&mut offset_page))
        .collect::<Vec<_>>();
    let offset_ms = common::median_ms(&mut offset);
    println!(
        "page          200 at depth {depth} of {}: keyset {keyset_ms:.3} ms, OFFSET {offset_ms:.3} ms ({:.1}x) (target <= 0.5 ms)",
        s.message_count,
        offset_ms / keyset_ms
    );

    // Purge 10k sessions holding 500k messages.
    let victims: Vec<_> = store
        .list(&ListQuery {
            limit: Some(10_000 / scale as u64 + 1),
            sort: scrollback::Sort::Size,
            ..ListQuery::default()
        })
        .unwrap()
        .into_iter()
        .filter(|s| s.message_count == 50)
        .map(|s| s.id)
        .collect();
    let before = store.store_stats().unwrap().messages;
    let t = Instant::now();
    let n = store.purge(&victims).unwrap();
    let delete_s = t.elapsed().as_secs_f64();
    let removed = before - store.store_stats().unwrap().messages;
    println!("delete        {n} sessions ({removed} messages) in {delete_s:.2} s (target <= 3 s)");
    let rss = common::peak_rss_mb();
    println!("peak RSS      {rss:.0} MB");

    let json = serde_json::json!({
        "cores": common::cores(),
        "quick": quick,
        "import": {"messages": report.messages_added, "input_mb": mb, "seconds": secs,
                   "messages_per_s": msgs / secs, "mb_per_s": mb / secs, "target_mb_per_s": 80},
        "list_first_100": {"sessions": total, "median_ms": list_ms, "target_ms": 1},
        "deep_page": {"session_messages": s.message_count, "depth": depth, "page": 200,
                      "keyset_ms": keyset_ms, "offset_ms": offset_ms, "target_ms": 0.5},
        "delete": {"sessions": n, "messages": removed, "seconds": delete_s, "target_s": 3},
        "peak_rss_mb": rss,
    });
    std::fs::write(
        dir.join("store.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    println!("wrote target/bench/store.json");
}
