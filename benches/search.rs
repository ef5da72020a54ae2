//! `cargo bench --bench search`: full-text search on a real and a generated
//! corpus, beside SQLite FTS5 and ripgrep over the same rows.
//!
//! For each corpus (ShareGPT from `SCROLLBACK_SHAREGPT` or
//! target/corpus/sharegpt.json, fetched with scripts/fetch-sharegpt.sh when
//! missing; then 1M generated messages, 100k with `SCROLLBACK_BENCH_QUICK`),
//! prints and writes to target/bench/search.json:
//! - import + index throughput (MB/s of input) and peak RSS of that phase:
//!   `import_paths` then `Search::open` applying the outbox, and beside it
//!   the CLI's one-pass `Search::import`;
//! - latency of a fixed set of queries (top 50 sessions), p50/p90/p99, and
//!   what snippets for 20 hits add;
//! - the same queries through an FTS5 table over the same rows, and ripgrep
//!   over the rows as JSONL for the plain word and phrase queries;
//! - index size as a share of the input;
//! - on the generated corpus: how long a new message takes to become
//!   searchable, and deleting 10k sessions (500k messages).
//!
//! Targets are printed beside the figures, never asserted.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::too_many_lines
)]

mod common;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rusqlite::Connection;
use scrollback::import::{Format, ImportRequest, import_paths};
use scrollback::jobs::JobControl;
use scrollback::search::query::{Term, parse};
use scrollback::search::{Limit, Search, index_dir};
use scrollback::store::ImportOptions;
use scrollback::{ListQuery, NewMessage, Role, SessionId, StateFilter, Store};
use serde_json::{Value, json};

/// Timed runs of each query after one warm-up run.
const RUNS: usize = 20;
/// A query whose warm-up run is slow gets fewer runs: about this many ms in all.
const QUERY_BUDGET_MS: f64 = 10_000.0;

const TARGET_MB_S: f64 = 60.0;
const TARGET_P50_MS: f64 = 0.5;
const TARGET_P99_MS: f64 = 10.0;
const TARGET_FTS_P99_RATIO: f64 = 50.0;
const TARGET_INDEX_SHARE: f64 = 0.30;
const TARGET_FRESH_MS: f64 = 1000.0;
const TARGET_RSS_MB: f64 = 600.0;

const FTS_TOKENIZER: &str = "unicode61 remove_diacritics 2";

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn pct(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    common::percentile(&mut v, p)
}

fn no_snippets(limit: usize) -> Limit {
    Limit {
        limit,
        offset: 0,
        archived: false,
        snippets: false,
    }
}

fn remove_store(db: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let _ = std::fs::remove_dir_all(index_dir(db));
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Runs `f` once to warm, then `RUNS` times (fewer when slow: the samples
/// are then repeated so that every query weighs the same in the pooled
/// percentiles). Returns the samples in ms and the number of real runs.
fn measure(mut f: impl FnMut()) -> (Vec<f64>, usize) {
    let t = Instant::now();
    f();
    let warm = ms_since(t);
    let runs = if warm * RUNS as f64 > QUERY_BUDGET_MS {
        ((QUERY_BUDGET_MS / warm) as usize).clamp(3, RUNS)
    } else {
        RUNS
    };
    let real: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            ms_since(t)
        })
        .collect();
    let samples = (0..RUNS).map(|i| real[i % real.len()]).collect();
    (samples, runs)
}

/// What a query gave, through each engine.
struct QueryRun {
    text: String,
    sb: Vec<f64>,
    sb_runs: usize,
    /// Sessions returned at limit 50.
    sb_top: usize,
    /// All matching sessions.
    sb_sessions: usize,
    snip_on: Vec<f64>,
    snip_off: Vec<f64>,
    fts: Result<FtsRun, String>,
    rg: Option<RgRun>,
    cjk: bool,
}

struct FtsRun {
    expr: String,
    samples: Vec<f64>,
    runs: usize,
    top: usize,
    rows: u64,
    sessions: u64,
}

struct RgRun {
    args: Vec<String>,
    median_ms: f64,
    lines: u64,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

// ---------------------------------------------------------------------------
// Queries.

fn sharegpt_queries() -> Vec<String> {
    [
        "the",
        "python",
        "blockchain",
        "quine",
        "sourdough",
        "photosynthesis",
        "zzqxnothere",
        "python pandas",
        "docker kubernetes",
        "react hooks state",
        "marketing strategy social",
        "\"machine learning\"",
        "\"as an AI language model\"",
        "\"thank you\"",
        "\"in conclusion\"",
        "django OR flask",
        "sourdough OR quine",
        "python -django",
        "recipe -chicken",
        "kube*",
        "photosynth*",
        "tran*",
        "role:user essay",
        "role:assistant blockchain",
        "python after:30d",
        "python before:2024-01-01",
        "tag:work python",
        "source:sharegpt docker",
        "useState",
        "np.array",
        "console.log",
        "\"SELECT * FROM\"",
        "中文",
        "問題",
        "문제",
        "서비스",
        "世界",
        "日本語",
        "我们",
        "教育",
        // Words that may be said in different messages of a conversation.
        "tokio cancellation",
        "sourdough starter temperature",
        "docker -kubernetes",
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

fn generated_queries() -> Vec<String> {
    let w = common::vocab_word;
    let (mid, rare, rare2, rare3, rarest) =
        (w(2_000), w(200_000), w(300_000), w(400_000), w(900_000));
    vec![
        "the".into(),
        "function".into(),
        "error".into(),
        mid.clone(),
        rare.clone(),
        rarest,
        "qqnothere".into(),
        "error timeout".into(),
        format!("{mid} the"),
        format!("{rare} function"),
        "database transaction rollback".into(),
        format!("{} {} {}", w(500), w(1_500), w(5_000)),
        "\"step by step\"".into(),
        "\"let me know if you have any questions\"".into(),
        "\"as an AI language model\"".into(),
        "\"interval '7 days'\"".into(),
        "lexer OR parser".into(),
        format!("{rare} OR {rare2} OR {rare3}"),
        "cache -memory".into(),
        format!("{mid} -the"),
        "migr*".into(),
        "kalo*".into(),
        "ser*".into(),
        "role:user explain".into(),
        format!("role:assistant {mid}"),
        "model:gpt-4o retry".into(),
        "deploy after:2025-04-01".into(),
        "deploy before:2025-02-01".into(),
        "cache after:2025-02-01 before:2025-03-01".into(),
        "tag:rust async".into(),
        "tag:travel budget -error".into(),
        "source:cursor timeout".into(),
        "parse_config".into(),
        "setSessions".into(),
        "np.array".into(),
        "\"read_to_string(path)\"".into(),
        // Words said in different messages: the first pass cannot fill the
        // page, the pass over conversations runs.
        format!("{} {}", w(6_000), w(7_000)),
        format!("{} {}", w(20_000), w(30_000)),
        format!("{rare} {rare2}"),
        format!("{mid} -{}", w(1_000)),
    ]
}

// ---------------------------------------------------------------------------
// FTS5.

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn fts_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The query as an FTS5 MATCH expression plus SQL conditions on the side
/// table `meta` (alias of the rows' role, time, model, session and source),
/// or why it cannot be expressed.
fn fts_translate(q: &str) -> Result<(String, Vec<String>), String> {
    let parsed = parse(q, jiff::Timestamp::now()).map_err(|e| e.to_string())?;
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    let mut conds = Vec::new();
    for clause in &parsed.clauses {
        let mut texts = Vec::new();
        let mut filters = Vec::new();
        for t in &clause.alternatives {
            match t {
                Term::Word(w) | Term::Phrase(w) => texts.push(fts_quote(w)),
                Term::Prefix(p) => texts.push(format!("{}*", fts_quote(p))),
                Term::Role(r) => filters.push(format!("meta.role = {}", sql_str(r.as_str()))),
                Term::Tag(t) => filters.push(format!(
                    "meta.session IN (SELECT session FROM tag WHERE tag = {})",
                    sql_str(t)
                )),
                Term::Source(s) => filters.push(format!("meta.source = {}", sql_str(s))),
                Term::Model(m) => {
                    filters.push(format!("meta.model LIKE {}", sql_str(&format!("{m}%"))));
                }
                Term::After(ts) => {
                    filters.push(format!("meta.created_at >= {}", ts.as_millisecond()));
                }
                Term::Before(ts) => {
                    filters.push(format!("meta.created_at < {}", ts.as_millisecond()));
                }
                Term::Session(_) => return Err("session: filter not translated".into()),
            }
        }
        match (texts.is_empty(), filters.is_empty()) {
            (false, true) => {
                let expr = if texts.len() == 1 {
                    texts.pop().unwrap_or_default()
                } else {
                    format!("({})", texts.join(" OR "))
                };
                if clause.negated {
                    negative.push(expr);
                } else {
                    positive.push(expr);
                }
            }
            (true, false) => {
                let cond = format!("({})", filters.join(" OR "));
                conds.push(if clause.negated {
                    format!("NOT {cond}")
                } else {
                    cond
                });
            }
            _ => return Err("OR between a word and a filter".into()),
        }
    }
    if positive.is_empty() {
        return Err("no word to MATCH".into());
    }
    let mut expr = positive.join(" AND ");
    for n in negative {
        expr = format!("({expr}) NOT {n}");
    }
    Ok((expr, conds))
}

fn fts_top_sql(conds: &[String]) -> String {
    if conds.is_empty() {
        "SELECT rowid FROM fts WHERE fts MATCH ?1 ORDER BY rank LIMIT 50".into()
    } else {
        format!(
            "SELECT fts.rowid FROM fts JOIN meta ON meta.id = fts.rowid \
             WHERE fts MATCH ?1 AND {} ORDER BY fts.rank LIMIT 50",
            conds.join(" AND ")
        )
    }
}

fn fts_count_sql(conds: &[String]) -> String {
    let mut sql = "SELECT count(*), count(DISTINCT meta.session) FROM fts \
                   JOIN meta ON meta.id = fts.rowid WHERE fts MATCH ?1"
        .to_string();
    for c in conds {
        let _ = write!(sql, " AND {c}");
    }
    sql
}

/// An FTS5 table of the store's messages (content + rowid) in its own file,
/// with a side table of each row's session, role, time, model and source,
/// and the sessions' tags. Returns the connection, build seconds and bytes.
fn build_fts(store_db: &Path, path: &Path) -> (Connection, f64, u64) {
    for ext in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let t = Instant::now();
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;
         CREATE VIRTUAL TABLE fts USING fts5(content, tokenize='{FTS_TOKENIZER}');
         CREATE TABLE meta (id INTEGER PRIMARY KEY, session INTEGER NOT NULL, role TEXT NOT NULL,
                            created_at INTEGER NOT NULL, model TEXT, source TEXT NOT NULL);
         CREATE TABLE tag (tag TEXT NOT NULL, session INTEGER NOT NULL,
                           PRIMARY KEY (tag, session)) WITHOUT ROWID;"
    ))
    .unwrap();
    conn.execute("ATTACH DATABASE ?1 AS s", [store_db.to_str().unwrap()])
        .unwrap();
    conn.execute_batch(
        "BEGIN;
         INSERT INTO fts (rowid, content) SELECT id, content FROM s.message ORDER BY id;
         INSERT INTO meta SELECT m.id, m.session_id, m.role, m.created_at, m.model, se.source
             FROM s.message m JOIN s.session se ON se.id = m.session_id;
         INSERT INTO tag SELECT tag, session_id FROM s.tag;
         COMMIT;
         DETACH DATABASE s;
         INSERT INTO fts (fts) VALUES ('optimize');",
    )
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    (conn, secs, bytes)
}

fn fts_run(conn: &Connection, q: &str) -> Result<FtsRun, String> {
    let (expr, conds) = fts_translate(q)?;
    let top_sql = fts_top_sql(&conds);
    let mut stmt = conn.prepare(&top_sql).map_err(|e| e.to_string())?;
    let mut run = || -> rusqlite::Result<usize> {
        stmt.query_map([&expr], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map(|v| v.len())
    };
    let top = run().map_err(|e| format!("FTS5 error: {e}"))?;
    let (samples, runs) = measure(|| {
        run().unwrap();
    });
    let (rows, sessions) = conn
        .query_row(&fts_count_sql(&conds), [&expr], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(|e| e.to_string())?;
    Ok(FtsRun {
        expr,
        samples,
        runs,
        top,
        rows: u64::try_from(rows).unwrap_or(0),
        sessions: u64::try_from(sessions).unwrap_or(0),
    })
}

// ---------------------------------------------------------------------------
// ripgrep.

fn ripgrep_installed() -> bool {
    Command::new("which")
        .arg("rg")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The rows of the store's message table as JSONL, one message a line.
fn write_messages_jsonl(store_db: &Path, out: &Path) -> u64 {
    let conn = Connection::open(store_db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, session_id, role, content FROM message ORDER BY id")
        .unwrap();
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let mut rows = stmt.query([]).unwrap();
    let mut bytes = 0u64;
    while let Some(r) = rows.next().unwrap() {
        let line = json!({
            "id": r.get::<_, i64>(0).unwrap(),
            "session": r.get::<_, i64>(1).unwrap(),
            "role": r.get::<_, String>(2).unwrap(),
            "content": r.get::<_, String>(3).unwrap(),
        })
        .to_string();
        bytes += line.len() as u64 + 1;
        writeln!(w, "{line}").unwrap();
    }
    w.flush().unwrap();
    bytes
}

/// ripgrep arguments for a query that is one plain word or phrase.
fn rg_args(q: &str) -> Option<Vec<String>> {
    let parsed = parse(q, jiff::Timestamp::now()).ok()?;
    let [clause] = parsed.clauses.as_slice() else {
        return None;
    };
    let [term] = clause.alternatives.as_slice() else {
        return None;
    };
    let text = match term {
        Term::Word(w) | Term::Phrase(w) if !clause.negated => w,
        _ => return None,
    };
    let mut args = vec!["-c".to_string(), "-i".into(), "-F".into()];
    // CJK is written without spaces: no word boundaries to ask for.
    if !text.chars().any(is_cjk) {
        args.push("-w".into());
    }
    args.push("--".into());
    args.push(text.clone());
    Some(args)
}

fn rg_run(args: &[String], file: &Path) -> RgRun {
    let once = || {
        let t = Instant::now();
        let out = Command::new("rg").args(args).arg(file).output().unwrap();
        let lines = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        (ms_since(t), lines)
    };
    let (_, lines) = once();
    let mut times: Vec<f64> = (0..3).map(|_| once().0).collect();
    RgRun {
        args: args.to_vec(),
        median_ms: common::median_ms(&mut times),
        lines,
    }
}

// ---------------------------------------------------------------------------
// One corpus.

struct Input {
    key: &'static str,
    label: String,
    path: PathBuf,
    format: Format,
    partial: bool,
    bytes: u64,
}

fn import_request<'a>(
    paths: &'a [PathBuf],
    input: &Input,
    control: &'a JobControl,
) -> ImportRequest<'a> {
    ImportRequest {
        paths,
        format: Some(input.format),
        options: ImportOptions::default(),
        partial: input.partial,
        found: false,
        progress: &|_, _| {},
        control,
    }
}

/// Columns a character takes in a terminal (CJK: two).
fn cols(c: char) -> usize {
    if is_cjk(c) { 2 } else { 1 }
}

/// `q` padded or cut to `width` columns.
fn short(q: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    let total: usize = q.chars().map(cols).sum();
    for c in q.chars() {
        if total > width && used + cols(c) > width - 1 {
            out.push('…');
            used += 1;
            break;
        }
        out.push(c);
        used += cols(c);
    }
    format!("{out}{}", " ".repeat(width.saturating_sub(used)))
}

/// How many times faster scrollback is, said both ways round.
fn faster(other_ms: f64, ours_ms: f64) -> String {
    let r = other_ms / ours_ms;
    if r >= 1.0 {
        format!("scrollback {r:.1}x faster")
    } else {
        format!("scrollback {:.1}x SLOWER", 1.0 / r)
    }
}

fn ok(pass: bool) -> &'static str {
    if pass { "ok" } else { "MISSED" }
}

fn run_corpus(input: &Input, queries: &[String], dir: &Path, rg: bool, generated: bool) -> Value {
    let db = dir.join(format!("search-{}.db", input.key));
    remove_store(&db);
    println!();
    println!(
        "== {} ({}): {:.1} MB",
        input.label,
        input.path.display(),
        mb(input.bytes)
    );

    // 1. Import + index.
    let reset = common::reset_peak_rss();
    let base_rss = common::rss_mb();
    let t = Instant::now();
    let mut store = Store::open(&db).unwrap();
    let control = JobControl::new();
    let paths = [input.path.clone()];
    let report = import_paths(&mut store, &import_request(&paths, input, &control)).unwrap();
    let import_s = t.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let mut search = Search::open(&store, &|_, _| {}).unwrap();
    let index_s = t2.elapsed().as_secs_f64();
    let total_s = t.elapsed().as_secs_f64();
    let rss = common::peak_rss_mb();
    let raw = Connection::open(&db).unwrap();
    let messages: u64 = raw
        .query_row("SELECT count(*) FROM message", [], |r| r.get::<_, i64>(0))
        .map(|n| u64::try_from(n).unwrap_or(0))
        .unwrap();
    let sessions = store.count_sessions().unwrap().0;
    let in_mb = mb(input.bytes);
    let rate = in_mb / total_s;
    println!(
        "corpus         {sessions} sessions, {messages} messages{}",
        report.truncated.as_ref().map_or(String::new(), |_| {
            " (truncated file: complete sessions only)".into()
        })
    );
    println!(
        "import+index   {in_mb:.1} MB in {total_s:.2} s = {rate:.1} MB/s (import {import_s:.2} s = {:.1} MB/s, index {index_s:.2} s = {:.1} MB/s)   target >= {TARGET_MB_S} MB/s: {}",
        in_mb / import_s,
        in_mb / index_s,
        ok(rate >= TARGET_MB_S)
    );
    println!(
        "peak RSS       {rss:.0} MB during import+index ({}, {base_rss:.0} MB when it began)   target < {TARGET_RSS_MB} MB: {}",
        if reset {
            "peak reset before this phase"
        } else {
            "cumulative since the start: no reset possible"
        },
        ok(rss < TARGET_RSS_MB)
    );
    // 5. Index size.
    let index_bytes = search.index().size_on_disk();
    let share = index_bytes as f64 / input.bytes as f64;
    println!(
        "index size     {:.1} MB = {:.1}% of input   target <= {:.0}%: {}",
        mb(index_bytes),
        share * 100.0,
        TARGET_INDEX_SHARE * 100.0,
        ok(share <= TARGET_INDEX_SHARE)
    );

    // The CLI's import: `Search::import` indexes while it reads, in one
    // pass, into a second fresh store (thrown away afterwards).
    let one_db = dir.join(format!("search-{}-onepass.db", input.key));
    remove_store(&one_db);
    let one_reset = common::reset_peak_rss();
    let one_base = common::rss_mb();
    let t = Instant::now();
    let one_store = Store::open(&one_db).unwrap();
    let mut one = Search::open(&one_store, &|_, _| {}).unwrap();
    one.import(&import_request(&paths, input, &control))
        .unwrap();
    let one_s = t.elapsed().as_secs_f64();
    let one_rss = common::peak_rss_mb();
    let one_indexed: u64 = one.index().message_counts().unwrap().values().sum();
    let one_bytes = one.index().size_on_disk();
    drop(one);
    drop(one_store);
    remove_store(&one_db);
    let one_rate = in_mb / one_s;
    println!(
        "one pass       Search::import (the CLI's import): {in_mb:.1} MB in {one_s:.2} s = {one_rate:.1} MB/s, peak RSS {one_rss:.0} MB{} ({one_base:.0} MB when it began: the store and index above are still open), {one_indexed} of {messages} messages indexed, index {:.1} MB   target >= {TARGET_MB_S} MB/s: {}",
        if one_reset { "" } else { " (cumulative)" },
        mb(one_bytes),
        ok(one_rate >= TARGET_MB_S)
    );

    // 3. FTS5 over the same rows (built before timing anything, so that both
    // engines are timed with the same page cache).
    let fts_path = dir.join(format!("search-{}-fts5.db", input.key));
    let (fts, fts_build_s, fts_bytes) = build_fts(&db, &fts_path);
    println!(
        "FTS5 build     {fts_build_s:.1} s, {:.1} MB = {:.1}% of input (tokenize='{FTS_TOKENIZER}', content stored, optimized)",
        mb(fts_bytes),
        fts_bytes as f64 / input.bytes as f64 * 100.0
    );
    // 4. The rows as JSONL for ripgrep.
    let rg_file = dir.join(format!("search-{}-messages.jsonl", input.key));
    let rg_bytes = if rg {
        write_messages_jsonl(&db, &rg_file)
    } else {
        0
    };

    // 2. Queries.
    let everything = usize::try_from(sessions).unwrap_or(usize::MAX) + 1;
    let mut runs = Vec::new();
    for q in queries {
        let top = search
            .query(q, no_snippets(50))
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        let (sb, sb_runs) = measure(|| {
            search.query(q, no_snippets(50)).unwrap();
        });
        let mut snip_on = Vec::new();
        let mut snip_off = Vec::new();
        let with = Limit {
            snippets: true,
            ..no_snippets(20)
        };
        search.query(q, with).unwrap();
        for _ in 0..RUNS {
            let t = Instant::now();
            search.query(q, with).unwrap();
            snip_on.push(ms_since(t));
            let t = Instant::now();
            search.query(q, no_snippets(20)).unwrap();
            snip_off.push(ms_since(t));
        }
        let all = search
            .query(
                q,
                Limit {
                    archived: true,
                    ..no_snippets(everything)
                },
            )
            .unwrap();
        let fts_result = fts_run(&fts, q);
        let rg_result = if rg {
            rg_args(q).map(|a| rg_run(&a, &rg_file))
        } else {
            None
        };
        runs.push(QueryRun {
            text: q.clone(),
            sb,
            sb_runs,
            sb_top: top.hits.len(),
            sb_sessions: all.sessions,
            snip_on,
            snip_off,
            fts: fts_result,
            rg: rg_result,
            cjk: q.chars().any(is_cjk),
        });
    }

    println!(
        "queries        {} queries, 1 warm + {RUNS} runs each (fewer if a run takes > {:.0} ms); scrollback: top 50 sessions; FTS5: top 50 rows",
        runs.len(),
        QUERY_BUDGET_MS / RUNS as f64
    );
    println!(
        "  {} | scrollback p50    p99 sessions |   FTS5 p50      p99     rows sessions |   rg ms    lines",
        short("query", 34)
    );
    for r in &runs {
        let fts_cols = match &r.fts {
            Ok(f) => format!(
                "{:>10.3} {:>8.2} {:>8} {:>8}",
                pct(&f.samples, 50.0),
                pct(&f.samples, 99.0),
                f.rows,
                f.sessions
            ),
            Err(why) => format!("{:>36}", short(&format!("skipped: {why}"), 36)),
        };
        let rg_cols = r.rg.as_ref().map_or(String::new(), |g| {
            format!(" | {:>7.1} {:>8}", g.median_ms, g.lines)
        });
        println!(
            "  {} | {:>14.3} {:>6.2} {:>8} | {fts_cols}{rg_cols}{}",
            short(&r.text, 34),
            pct(&r.sb, 50.0),
            pct(&r.sb, 99.0),
            r.sb_sessions,
            if r.cjk {
                "  (CJK: FTS5 recall not comparable)"
            } else {
                ""
            }
        );
    }
    let sb_all: Vec<f64> = runs.iter().flat_map(|r| r.sb.iter().copied()).collect();
    let (p50, p90, p99) = (pct(&sb_all, 50.0), pct(&sb_all, 90.0), pct(&sb_all, 99.0));
    let at_scale = if generated {
        "at 1M messages"
    } else {
        "at 1M messages; this corpus is smaller"
    };
    println!(
        "scrollback     p50 {p50:.3} ms  p90 {p90:.3} ms  p99 {p99:.3} ms over {} runs   target p50 <= {TARGET_P50_MS} ms: {}, p99 <= {TARGET_P99_MS} ms: {} ({at_scale})",
        sb_all.len(),
        ok(p50 <= TARGET_P50_MS),
        ok(p99 <= TARGET_P99_MS)
    );
    let on: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.snip_on.iter().copied())
        .collect();
    let off: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.snip_off.iter().copied())
        .collect();
    let (on50, off50) = (pct(&on, 50.0), pct(&off, 50.0));
    println!(
        "snippets       +{:.3} ms p50 for 20 hits ({on50:.3} ms with snippets, {off50:.3} ms without)",
        on50 - off50
    );
    let with_fts: Vec<&QueryRun> = runs.iter().filter(|r| r.fts.is_ok()).collect();
    let skipped: Vec<String> = runs
        .iter()
        .filter_map(|r| r.fts.as_ref().err().map(|e| format!("{} ({e})", r.text)))
        .collect();
    let fts_all: Vec<f64> = with_fts
        .iter()
        .filter_map(|r| r.fts.as_ref().ok())
        .flat_map(|f| f.samples.iter().copied())
        .collect();
    let sb_same: Vec<f64> = with_fts.iter().flat_map(|r| r.sb.iter().copied()).collect();
    let (f50, f90, f99) = (
        pct(&fts_all, 50.0),
        pct(&fts_all, 90.0),
        pct(&fts_all, 99.0),
    );
    let (s50, s99) = (pct(&sb_same, 50.0), pct(&sb_same, 99.0));
    println!(
        "FTS5           p50 {f50:.3} ms  p90 {f90:.3} ms  p99 {f99:.3} ms over {} queries{}",
        with_fts.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!("; skipped: {}", skipped.join(", "))
        }
    );
    println!(
        "vs FTS5        same {} queries: p50 {s50:.3} vs {f50:.3} ms: {}; p99 {s99:.3} vs {f99:.3} ms: {}   target >= {TARGET_FTS_P99_RATIO}x faster at p99: {}",
        with_fts.len(),
        faster(f50, s50),
        faster(f99, s99),
        ok(f99 / s99 >= TARGET_FTS_P99_RATIO)
    );
    if runs.iter().any(|r| r.cjk) {
        println!(
            "               CJK queries run in FTS5 with unicode61, which keeps a run of CJK characters as one token: its counts there are not comparable"
        );
    }
    let rg_json = if rg {
        let with_rg: Vec<&QueryRun> = runs.iter().filter(|r| r.rg.is_some()).collect();
        let mut rg_ms: Vec<f64> = with_rg
            .iter()
            .filter_map(|r| r.rg.as_ref().map(|g| g.median_ms))
            .collect();
        let mut sb_rg: Vec<f64> = with_rg.iter().map(|r| pct(&r.sb, 50.0)).collect();
        let (rg50, ours50) = (
            common::percentile(&mut rg_ms, 50.0),
            common::percentile(&mut sb_rg, 50.0),
        );
        println!(
            "ripgrep        p50 {rg50:.1} ms over {} word/phrase queries (rg -c -i -F [-w], {:.0} MB JSONL, median of 3 runs each); scrollback p50 {ours50:.3} ms on the same: {}",
            with_rg.len(),
            mb(rg_bytes),
            faster(rg50, ours50)
        );
        println!(
            "               rg counts matching lines (messages); with -w it misses a word right after an escaped newline (\\n) in the JSONL"
        );
        json!({"queries": with_rg.len(), "jsonl_mb": mb(rg_bytes), "p50_ms": rg50,
               "scrollback_p50_ms": ours50, "ratio_p50": rg50 / ours50})
    } else {
        println!("ripgrep        not installed (apt package ripgrep)");
        json!("not installed")
    };

    let mut out = json!({
        "input": input.path.display().to_string(),
        "input_mb": in_mb,
        "sessions": sessions,
        "messages": messages,
        "truncated": report.truncated,
        "import_index": {
            "seconds": total_s, "import_seconds": import_s, "index_seconds": index_s,
            "mb_per_s": rate, "import_mb_per_s": in_mb / import_s, "index_mb_per_s": in_mb / index_s,
            "target_mb_per_s": TARGET_MB_S,
        },
        "peak_rss_mb": rss,
        "peak_rss_reset_before_phase": reset,
        "rss_mb_at_start_of_phase": base_rss,
        "target_peak_rss_mb": TARGET_RSS_MB,
        "index": {"bytes": index_bytes, "share_of_input": share, "target_share": TARGET_INDEX_SHARE},
        "one_pass_import": {"api": "Search::import", "seconds": one_s, "mb_per_s": one_rate,
                            "peak_rss_mb": one_rss, "peak_rss_reset_before_phase": one_reset,
                            "rss_mb_at_start_of_phase": one_base,
                            "messages_indexed": one_indexed, "index_bytes": one_bytes},
        "queries": runs.iter().map(|r| json!({
            "query": r.text,
            "scrollback": {"p50_ms": pct(&r.sb, 50.0), "p90_ms": pct(&r.sb, 90.0), "p99_ms": pct(&r.sb, 99.0),
                           "runs": r.sb_runs, "top": r.sb_top, "sessions": r.sb_sessions,
                           "snippets_p50_ms": pct(&r.snip_on, 50.0), "no_snippets_20_p50_ms": pct(&r.snip_off, 50.0)},
            "fts5": match &r.fts {
                Ok(f) => json!({"match": f.expr, "p50_ms": pct(&f.samples, 50.0), "p90_ms": pct(&f.samples, 90.0),
                                "p99_ms": pct(&f.samples, 99.0), "runs": f.runs, "top": f.top,
                                "rows": f.rows, "sessions": f.sessions, "comparable": !r.cjk}),
                Err(why) => json!({"skipped": why}),
            },
            "ripgrep": r.rg.as_ref().map(|g| json!({"args": g.args, "median_ms": g.median_ms, "lines": g.lines})),
        })).collect::<Vec<_>>(),
        "scrollback": {"runs": sb_all.len(), "p50_ms": p50, "p90_ms": p90, "p99_ms": p99,
                       "target_p50_ms": TARGET_P50_MS, "target_p99_ms": TARGET_P99_MS},
        "snippets_20": {"extra_p50_ms": on50 - off50, "with_p50_ms": on50, "without_p50_ms": off50},
        "fts5": {"tokenizer": FTS_TOKENIZER, "build_seconds": fts_build_s, "bytes": fts_bytes,
                 "queries": with_fts.len(), "skipped": skipped,
                 "p50_ms": f50, "p90_ms": f90, "p99_ms": f99},
        "vs_fts5": {"scrollback_p50_ms": s50, "scrollback_p99_ms": s99, "fts5_p50_ms": f50, "fts5_p99_ms": f99,
                    "ratio_p50": f50 / s50, "ratio_p99": f99 / s99, "target_ratio_p99": TARGET_FTS_P99_RATIO},
        "ripgrep": rg_json,
    });
    drop(fts);
    let _ = std::fs::remove_file(&fts_path);
    let _ = std::fs::remove_file(&rg_file);

    if generated {
        // 7. A new message: how long until a search finds it.
        let target = store.session("gen-1").unwrap();
        let mut fresh = Vec::new();
        let mut first_try = 0;
        for i in 0..10u8 {
            let word = format!("qqfresh{}", char::from(b'a' + i));
            let t = Instant::now();
            store
                .add_message(
                    target.id,
                    NewMessage::new(Role::User, format!("a new note about {word} today")),
                )
                .unwrap();
            let mut tries = 0;
            loop {
                tries += 1;
                if !search.query(&word, no_snippets(1)).unwrap().hits.is_empty() {
                    break;
                }
                assert!(tries < 10_000, "{word} never became searchable");
            }
            fresh.push(ms_since(t));
            if tries == 1 {
                first_try += 1;
            }
        }
        let fresh_max = fresh.iter().copied().fold(0.0, f64::max);
        let fresh_ms = common::median_ms(&mut fresh);
        println!(
            "new message    searchable after {fresh_ms:.1} ms median of 10 (max {fresh_max:.1} ms; found by the first query {first_try}/10)   target <= {TARGET_FRESH_MS} ms: {}",
            ok(fresh_ms <= TARGET_FRESH_MS)
        );
        out["fresh_message"] = json!({"median_ms": fresh_ms, "max_ms": fresh_max,
                                      "found_first_query": first_try, "target_ms": TARGET_FRESH_MS});

        // 6. Delete 10k sessions of ~50 messages.
        let want = if messages >= 1_000_000 { 10_000 } else { 1_000 };
        let victims: Vec<SessionId> = store
            .list(&ListQuery {
                state: StateFilter::All,
                ..ListQuery::default()
            })
            .unwrap()
            .into_iter()
            .filter(|s| s.message_count == 50)
            .take(want)
            .map(|s| s.id)
            .collect();
        let count = |raw: &Connection| -> u64 {
            raw.query_row("SELECT count(*) FROM message", [], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .unwrap()
        };
        let before = count(&raw);
        let t = Instant::now();
        let purged = store.purge(&victims).unwrap();
        let purge_s = t.elapsed().as_secs_f64();
        let removed = before - count(&raw);
        let t = Instant::now();
        let sync = search.sync(&|_, _| {}).unwrap();
        let sync_s = t.elapsed().as_secs_f64();
        let gone: HashSet<SessionId> = victims.iter().copied().collect();
        let left = store.count_sessions().unwrap().0;
        let check = search
            .query(
                "the",
                Limit {
                    archived: true,
                    ..no_snippets(usize::try_from(left).unwrap_or(0) + 1)
                },
            )
            .unwrap();
        let found = check
            .hits
            .iter()
            .filter(|h| gone.contains(&h.session_id))
            .count();
        let stale_groups = check.sessions - check.hits.len();
        let counts = search.index().message_counts().unwrap();
        let stale_in_index = victims
            .iter()
            .filter(|id| counts.contains_key(&u64::try_from(id.0).unwrap_or(0)))
            .count();
        let clean = found == 0 && stale_groups == 0 && stale_in_index == 0;
        println!(
            "delete         {purged} sessions ({removed} messages): store {purge_s:.2} s + index {sync_s:.2} s ({} outbox rows) = {:.2} s; query \"the\" afterwards: {} sessions, {found} deleted ones found, {stale_groups} stale groups; deleted sessions still in the index: {stale_in_index} ({})",
            sync.rows,
            purge_s + sync_s,
            check.hits.len(),
            if clean { "clean" } else { "NOT CLEAN" }
        );
        out["delete"] = json!({"sessions": purged, "messages": removed, "store_seconds": purge_s,
                               "index_seconds": sync_s, "total_seconds": purge_s + sync_s,
                               "outbox_rows": sync.rows, "check_query": "the",
                               "check_sessions": check.hits.len(), "deleted_found": found,
                               "stale_groups": stale_groups, "stale_in_index": stale_in_index,
                               "clean": clean});
    }
    out
}

/// The 1, 5 and 15 minute load averages (Linux; empty elsewhere): timings
/// on a machine busy with other work are slower and noisier.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The ShareGPT corpus, fetched when missing.
fn sharegpt_path() -> Result<PathBuf, String> {
    let path = std::env::var_os("SCROLLBACK_SHAREGPT").map_or_else(
        || PathBuf::from("target/corpus/sharegpt.json"),
        PathBuf::from,
    );
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        return Ok(path);
    }
    println!("fetching the ShareGPT corpus to {} ...", path.display());
    let status = Command::new("bash")
        .arg("scripts/fetch-sharegpt.sh")
        .arg(&path)
        .status()
        .map_err(|e| format!("scripts/fetch-sharegpt.sh: {e}"))?;
    if status.success() && path.exists() {
        Ok(path)
    } else {
        Err(format!("scripts/fetch-sharegpt.sh failed ({status})"))
    }
}

fn main() {
    let quick = std::env::var_os("SCROLLBACK_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let load_start = load_average();
    println!(
        "scrollback search benchmark ({} cores, load average {load_start}){}",
        common::cores(),
        if quick {
            " [quick: generated corpus at 1/10 scale]"
        } else {
            ""
        }
    );
    let rg = ripgrep_installed();
    if !rg {
        println!("ripgrep: not installed (apt package ripgrep)");
    }
    let mut corpora = serde_json::Map::new();

    // (a) ShareGPT first: peak RSS can only grow.
    match sharegpt_path() {
        Ok(path) => {
            let bytes = std::fs::metadata(&path).unwrap().len();
            let input = Input {
                key: "sharegpt",
                label: "ShareGPT".into(),
                path,
                format: Format::ShareGpt,
                partial: true,
                bytes,
            };
            corpora.insert(
                "sharegpt".into(),
                run_corpus(&input, &sharegpt_queries(), &dir, rg, false),
            );
        }
        Err(why) => {
            println!();
            println!("== ShareGPT: corpus unavailable ({why}); skipped");
            corpora.insert("sharegpt".into(), json!({"unavailable": why}));
        }
    }

    // (b) Generated: 1M messages.
    let corpus_file = dir.join("search-corpus.jsonl");
    let t = Instant::now();
    let generated = common::write_search_jsonl(&corpus_file, 7, 19_000 / scale, 50_000 / scale);
    println!();
    println!(
        "generated      {} sessions ({} of 50 messages, one of {}), {} messages, {:.1} MB JSONL in {:.1} s",
        generated.sessions,
        generated.sessions - 1,
        50_000 / scale,
        generated.messages,
        mb(generated.bytes),
        t.elapsed().as_secs_f64()
    );
    let input = Input {
        key: "generated",
        label: format!("generated, {} messages", generated.messages),
        path: corpus_file.clone(),
        format: Format::Jsonl,
        partial: false,
        bytes: generated.bytes,
    };
    corpora.insert(
        "generated".into(),
        run_corpus(&input, &generated_queries(), &dir, rg, true),
    );
    let _ = std::fs::remove_file(&corpus_file);

    let load_end = load_average();
    let json = json!({
        "cores": common::cores(),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "quick": quick,
        "runs_per_query": RUNS,
        "targets": {
            "import_index_mb_per_s": TARGET_MB_S, "p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS,
            "fts5_ratio_p99": TARGET_FTS_P99_RATIO, "index_share": TARGET_INDEX_SHARE,
            "fresh_ms": TARGET_FRESH_MS, "peak_rss_mb": TARGET_RSS_MB,
        },
        "corpora": corpora,
    });
    std::fs::write(
        dir.join("search.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    println!();
    println!("load average at the end: {load_end} (1, 5, 15 min)");
    println!("wrote target/bench/search.json");
}
