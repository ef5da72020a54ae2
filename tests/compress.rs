//! Messages stored compressed (`storage.compress_messages`): every reader
//! of the library and the command line sees the same text as in a store
//! without compression; `stats` reports the saving; `compress_stored` (and
//! `scrollback compress`) converts what is already stored, both ways; a
//! damaged frame is an error naming the message, never a panic.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::fmt::Debug;
use std::path::Path;

use jiff::Timestamp;
use scrollback::domain::{MessageDoc, Tokens};
use scrollback::export::{ExportFormat, export};
use scrollback::jobs::JobControl;
use scrollback::search::{Limit, Search};
use scrollback::store::{CompressedStats, ImportOptions, RetentionPolicy};
use scrollback::{
    Error, MergeOrder, NewMessage, NewSession, Role, SessionDoc, Store, StoreOptions,
};
use serde_json::Value;
use tempfile::TempDir;

/// The threshold of the stores under test.
const MIN: usize = 200;

fn compressing() -> StoreOptions {
    StoreOptions {
        compress_min_bytes: Some(MIN),
        ..StoreOptions::default()
    }
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_767_261_600 + secs).unwrap()
}

/// A long English answer holding one word found nowhere else.
fn long_answer() -> String {
    let mut s = String::new();
    for i in 0..40 {
        s.push_str(&format!(
            "Step {i}: water the beds in the morning and mulch them against the heat. "
        ));
        if i == 17 {
            s.push_str("The zygomorphic flowers of the peas need no help. ");
        }
    }
    s
}

/// Texts below, at and over the threshold, in several scripts.
fn texts() -> Vec<String> {
    vec![
        "Which vegetables grow well in partial shade?".into(),
        "y".repeat(MIN - 1),
        long_answer(),
        "日本語のテキストと中文文本，还有한국어 텍스트。".repeat(12),
        "🦀 emoji 🎉 and a family 👩‍👩‍👧‍👦 and a flag 🇳🇱. ".repeat(10),
        "a NUL \0 inside a line of tool output\n".repeat(20),
        String::new(),
        "ab".repeat(MIN / 2),
    ]
}

/// One session as an import brings it: fixed ids and times, so that its
/// export is the same byte for byte in every store.
fn doc(name: &str, uid: &str) -> SessionDoc {
    SessionDoc {
        uid: Some(scrollback::domain::Uid(uid.into())),
        name: Some(name.into()),
        title: "Garden".into(),
        created_at: Some(at(0)),
        updated_at: Some(at(100)),
        messages: texts()
            .into_iter()
            .enumerate()
            .map(|(i, content)| MessageDoc {
                role: Some(if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                }),
                content,
                created_at: Some(at(i64::try_from(i).unwrap())),
                model: (i % 2 == 1).then(|| "gpt-4o".to_string()),
                tokens: (i % 2 == 1).then_some(Tokens {
                    input: 10,
                    output: 20,
                }),
                ..MessageDoc::default()
            })
            .collect(),
        ..SessionDoc::default()
    }
}

/// The same work done on a store without compression and on one with it.
struct Pair {
    plain: Store,
    packed: Store,
    dir: TempDir,
}

impl Pair {
    fn new() -> Pair {
        let dir = TempDir::new().unwrap();
        let plain = Store::open(dir.path().join("plain.db")).unwrap();
        let packed = Store::open_with(dir.path().join("packed.db"), compressing()).unwrap();
        Pair { plain, packed, dir }
    }

    /// Runs `f` on both stores, asserts the results are equal, returns one.
    fn both<T: PartialEq + Debug>(&mut self, what: &str, f: impl Fn(&mut Store) -> T) -> T {
        let a = f(&mut self.plain);
        let b = f(&mut self.packed);
        assert_eq!(a, b, "{what}: the compressed store reads otherwise");
        b
    }
}

/// (type, count) of the stored contents of a database file.
fn stored_types(path: &Path) -> Vec<(String, i64)> {
    let c = rusqlite::Connection::open(path).unwrap();
    c.prepare("SELECT typeof(content), count(*) FROM message GROUP BY 1 ORDER BY 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn blobs(path: &Path) -> i64 {
    stored_types(path)
        .into_iter()
        .find(|(t, _)| t == "blob")
        .map_or(0, |(_, n)| n)
}

fn exported(store: &Store, name: &str, format: ExportFormat) -> String {
    let id = store.session(name).unwrap().id;
    let mut out = Vec::new();
    export(
        store,
        &[id],
        format,
        &mut out,
        &|_, _| {},
        &JobControl::new(),
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn contents(store: &Store, name: &str) -> Vec<String> {
    let id = store.session(name).unwrap().id;
    store
        .all_messages(id)
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect()
}

#[test]
fn every_reader_sees_the_same_text_as_without_compression() {
    let mut p = Pair::new();
    p.both("import", |s| {
        s.import_docs(
            [doc("garden", "0f1e2d3c-0000-4000-8000-000000000001")],
            ImportOptions::default(),
        )
        .unwrap()
        .messages_added
    });
    // What is on disk: every text of at least MIN bytes is a frame in the
    // compressed store (five of them), nothing is in the other.
    let long = texts().iter().filter(|t| t.len() >= MIN).count();
    assert_eq!(long, 5);
    assert_eq!(blobs(&p.dir.path().join("packed.db")), 5);
    assert_eq!(blobs(&p.dir.path().join("plain.db")), 0);

    // Pages, the last messages, all of them, one text at a time.
    let all = p.both("all_messages", |s| {
        s.all_messages(s.session("garden").unwrap().id).unwrap()
    });
    assert_eq!(
        all.iter().map(|m| m.content.clone()).collect::<Vec<_>>(),
        texts()
    );
    p.both("messages", |s| {
        s.messages(s.session("garden").unwrap().id, 2, 3).unwrap()
    });
    p.both("last_messages", |s| {
        s.last_messages(s.session("garden").unwrap().id, 4).unwrap()
    });
    for seq in 0..=texts().len() as u64 {
        let text = p.both("message_text", |s| {
            s.message_text(s.session("garden").unwrap().id, seq)
                .unwrap()
        });
        assert_eq!(text, texts().get(usize::try_from(seq).unwrap()).cloned());
    }
    let session = p.both("session", |s| s.session("garden").unwrap());
    assert_eq!(
        session.char_count,
        texts()
            .iter()
            .map(|t| t.chars().count() as u64)
            .sum::<u64>()
    );
    let stats = p.both("session_stats", |s| {
        s.session_stats(s.session("garden").unwrap().id).unwrap()
    });
    assert_eq!(stats.chars, session.char_count);

    // Exports, byte for byte.
    for format in [
        ExportFormat::Json,
        ExportFormat::Jsonl,
        ExportFormat::Markdown,
    ] {
        p.both("export", |s| exported(s, "garden", format));
    }

    // Messages added one by one and several at once.
    p.both("add", |s| {
        let id = s.create_session(&NewSession::named("added")).unwrap().id;
        let mut one = NewMessage::new(Role::User, long_answer());
        one.created_at = Some(at(10));
        let first = s.add_message(id, one).unwrap();
        let many: Vec<NewMessage> = texts()
            .into_iter()
            .map(|t| NewMessage {
                created_at: Some(at(20)),
                ..NewMessage::new(Role::Assistant, t)
            })
            .collect();
        s.add_messages(id, &many).unwrap();
        (first, s.all_messages(id).unwrap())
    });

    // Edits: long to long, short to long, long to short; the check against
    // what was opened compares texts, not stored bytes.
    let edited = format!("{}(edited)", "Compost first, then sow. ".repeat(20));
    p.both("edit", |s| {
        let id = s.session("added").unwrap().id;
        let a = s.edit_message(id, 0, &long_answer(), &edited).unwrap();
        let b = s.edit_message(id, 1, &texts()[0], &edited).unwrap();
        let c = s.edit_message(id, 3, &texts()[2], "short now").unwrap();
        let stale = s.edit_message(id, 0, &long_answer(), "again");
        let text = s.message_text(id, 0).unwrap();
        (
            a,
            b,
            c,
            stale.is_err(),
            text,
            s.session_by_id(id).unwrap().char_count,
        )
    });
    assert_eq!(contents(&p.packed, "added")[0], edited);

    // Branch, copy and merge copy or rewrite the stored contents.
    p.both("branch", |s| {
        let src = s.session("garden").unwrap().id;
        let b = s.branch(src, "garden-b", Some(4)).unwrap();
        (b.message_count, b.char_count, s.all_messages(b.id).unwrap())
    });
    p.both("copy", |s| {
        let src = s.session("garden").unwrap().id;
        let c = s.copy(src, "garden-copy").unwrap();
        (c.message_count, c.char_count, s.all_messages(c.id).unwrap())
    });
    p.both("merge", |s| {
        let a = s.session("garden").unwrap().id;
        let b = s.session("added").unwrap().id;
        let m = s.merge(&[a, b], "merged", MergeOrder::Given).unwrap();
        (m.message_count, m.char_count, s.all_messages(m.id).unwrap())
    });
    assert_eq!(contents(&p.packed, "garden-copy"), texts());
    for name in ["garden-b", "garden-copy", "merged"] {
        p.both("export of a new session", |s| {
            let v: Value = serde_json::from_str(&exported(s, name, ExportFormat::Json)).unwrap();
            v[0]["messages"].clone()
        });
    }

    // Search finds a word that only a compressed message holds.
    let hits = p.both("search", |s| {
        let mut search = Search::open(s, &|_, _| {}).unwrap();
        let mut hits: Vec<(String, Option<u64>)> = search
            .query("zygomorphic", Limit::default())
            .unwrap()
            .hits
            .into_iter()
            .map(|h| (h.session.name, h.message.map(|m| m.seq)))
            .collect();
        hits.sort();
        hits
    });
    assert_eq!(
        hits,
        [
            ("garden".to_string(), Some(2)),
            ("garden-b".to_string(), Some(2)),
            ("garden-copy".to_string(), Some(2)),
            ("merged".to_string(), Some(2)),
        ]
    );

    // Retention measures texts, not their stored bytes.
    let trims = p.both("retention", |s| {
        let plan = s
            .retention_plan(
                &RetentionPolicy {
                    max_bytes: Some(3000),
                    ..RetentionPolicy::default()
                },
                &[],
            )
            .unwrap();
        plan.trims
            .iter()
            .map(|t| (t.name.clone(), t.from_seq, t.to_seq))
            .collect::<Vec<_>>()
    });
    assert!(!trims.is_empty());

    // The store's statistics agree but for what compression saves.
    let mut plain = p.plain.store_stats().unwrap();
    let mut packed = p.packed.store_stats().unwrap();
    assert_eq!(plain.compressed, CompressedStats::default());
    let c = packed.compressed;
    let (mut n, mut bytes) = (0, 0);
    for s in ["garden", "added", "garden-b", "garden-copy", "merged"] {
        for t in contents(&p.plain, s) {
            if t.len() >= MIN {
                n += 1;
                bytes += t.len() as u64;
            }
        }
    }
    assert_eq!(c.messages, n);
    assert_eq!(c.original_bytes, bytes);
    assert!(c.stored_bytes * 2 < c.original_bytes, "{c:?}");
    assert_eq!(c.saved_bytes, c.original_bytes - c.stored_bytes);
    plain.compressed = CompressedStats::default();
    packed.compressed = CompressedStats::default();
    assert_eq!(plain, packed);

    assert!(p.packed.doctor().unwrap().healthy);
}

#[test]
fn compress_stored_converts_what_is_stored_both_ways_and_keeps_the_texts() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    for (i, uid) in [
        "0f1e2d3c-0000-4000-8000-00000000000a",
        "0f1e2d3c-0000-4000-8000-00000000000b",
    ]
    .iter()
    .enumerate()
    {
        store
            .import_docs([doc(&format!("s{i}"), uid)], ImportOptions::default())
            .unwrap();
    }
    let before = |s: &Store| {
        (
            contents(s, "s0"),
            contents(s, "s1"),
            s.store_stats().unwrap().chars,
        )
    };
    let original = before(&store);
    assert_eq!(blobs(&path), 0);
    drop(store);

    // On: the ten long texts are compressed, in batches, with progress.
    let mut store = Store::open_with(&path, compressing()).unwrap();
    let seen = std::cell::RefCell::new(Vec::new());
    let report = store
        .compress_stored(&|done, total| seen.borrow_mut().push((done, total)))
        .unwrap();
    assert_eq!(report.compressed, 10);
    assert_eq!(report.decompressed, 0);
    assert!(report.bytes_after * 2 < report.bytes_before, "{report:?}");
    let seen = seen.into_inner();
    assert_eq!(seen.first(), Some(&(0, 16)));
    assert_eq!(seen.last(), Some(&(16, 16)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(blobs(&path), 10);
    assert_eq!(before(&store), original);
    let stats = store.store_stats().unwrap().compressed;
    assert_eq!(stats.messages, 10);
    assert_eq!(stats.stored_bytes, report.bytes_after);
    assert_eq!(stats.original_bytes, report.bytes_before);
    // Nothing is left to do the second time.
    let again = store.compress_stored(&|_, _| {}).unwrap();
    assert_eq!((again.compressed, again.decompressed), (0, 0));
    drop(store);

    // A higher threshold: the frames now under it become text again.
    let higher = StoreOptions {
        compress_min_bytes: Some(1000),
        ..StoreOptions::default()
    };
    let mut store = Store::open_with(&path, higher).unwrap();
    let longer = texts().iter().filter(|t| t.len() >= 1000).count() as u64 * 2;
    let report = store.compress_stored(&|_, _| {}).unwrap();
    assert_eq!((report.compressed, report.decompressed), (0, 10 - longer));
    assert_eq!(blobs(&path), i64::try_from(longer).unwrap());
    drop(store);

    // Off: every frame is text again, the texts as they were.
    let mut store = Store::open(&path).unwrap();
    let report = store.compress_stored(&|_, _| {}).unwrap();
    assert_eq!((report.compressed, report.decompressed), (0, longer));
    assert_eq!(blobs(&path), 0);
    assert_eq!(before(&store), original);
    assert_eq!(
        store.store_stats().unwrap().compressed,
        CompressedStats::default()
    );
    assert!(store.doctor().unwrap().healthy);
}

#[test]
fn compressing_a_store_gives_the_space_back_to_the_file_system() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("logs.db");
    let pages = |path: &Path| -> i64 {
        let c = rusqlite::Connection::open(path).unwrap();
        c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap()
    };
    let mut store = Store::open(&path).unwrap();
    let id = store.create_session(&NewSession::named("logs")).unwrap().id;
    let output: Vec<NewMessage> = (0..300)
        .map(|i| NewMessage::new(Role::Tool, format!("step {i}: build ok\n").repeat(500)))
        .collect();
    store.add_messages(id, &output).unwrap();
    let texts = contents(&store, "logs");
    drop(store);
    let before = pages(&path);

    // More messages than one batch holds.
    let mut store = Store::open_with(&path, compressing()).unwrap();
    let report = store.compress_stored(&|_, _| {}).unwrap();
    assert_eq!(report.compressed, 300);
    assert!(report.file_bytes_released > 0, "{report:?}");
    assert_eq!(contents(&store, "logs"), texts);
    drop(store);
    let after = pages(&path);
    assert!(after * 4 < before, "{before} pages before, {after} after");
}

#[test]
fn a_damaged_frame_is_an_error_naming_the_message() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open_with(&path, compressing()).unwrap();
    store
        .import_docs(
            [
                doc("hurt", "0f1e2d3c-0000-4000-8000-00000000000c"),
                doc("whole", "0f1e2d3c-0000-4000-8000-00000000000d"),
            ],
            ImportOptions::default(),
        )
        .unwrap();
    let hurt = store.session("hurt").unwrap().id;
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute(
        "UPDATE message SET content = X'000102030405' WHERE seq = 2 AND session_id = ?1",
        [hurt.0],
    )
    .unwrap();
    drop(c);
    let damaged = |e: Error| match e {
        Error::DamagedMessage { detail } => detail,
        other => panic!("not DamagedMessage: {other}"),
    };
    let detail = damaged(store.all_messages(hurt).unwrap_err());
    assert!(
        detail.contains("message 2") && detail.contains("not a zstd frame"),
        "{detail}"
    );
    let detail = damaged(store.message_text(hurt, 2).unwrap_err());
    assert!(
        detail.contains(&format!("message 2 of session #{}", hurt.0)),
        "{detail}"
    );
    let e = store.edit_message(hurt, 2, "x", "y").unwrap_err();
    assert!(e.to_string().contains("scrollback doctor"), "{e}");
    // Through the SQL functions too: chars() and text_len().
    damaged(store.session_stats(hurt).unwrap_err());
    damaged(store.store_stats().unwrap_err());
    // The rest of the store reads as before.
    assert_eq!(
        store.message_text(hurt, 3).unwrap(),
        Some(texts()[3].clone())
    );
    assert_eq!(contents(&store, "whole"), texts());
    // Doctor names it, leaves it, and still repairs the rest.
    let report = store.doctor().unwrap();
    assert!(!report.healthy);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.contains("1 messages have damaged compressed content")
                && f.contains("hurt message 2")),
        "{:?}",
        report.findings
    );
    assert!(
        blobs(&path) == 10,
        "doctor left the damaged message in place"
    );
    // Converting the store stops at it with the same error.
    let mut off = Store::open(&path).unwrap();
    damaged(off.compress_stored(&|_, _| {}).unwrap_err());
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

fn sb(dir: &TempDir, config: &Path) -> std::process::Command {
    let mut c = common::scrollback_on(dir.path(), &dir.path().join("cli.db"));
    c.arg("--config").arg(config);
    c
}

fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(cmd: &mut std::process::Command) -> Value {
    serde_json::from_str(&run(cmd)).unwrap()
}

#[test]
fn the_command_line_writes_compressed_and_prints_the_same_text() {
    let dir = TempDir::new().unwrap();
    let on = dir.path().join("on.toml");
    std::fs::write(
        &on,
        format!("[storage]\ncompress_messages = true\ncompress_min_bytes = {MIN}\n"),
    )
    .unwrap();
    let off = dir.path().join("off.toml");
    std::fs::write(&off, "[storage]\ncompress_messages = false\n").unwrap();
    let db = dir.path().join("cli.db");

    // An import and an add, both with compression on.
    let file = dir.path().join("garden.json");
    std::fs::write(
        &file,
        serde_json::to_string(&doc("garden", "0f1e2d3c-0000-4000-8000-00000000000e")).unwrap(),
    )
    .unwrap();
    run(sb(&dir, &on).args(["import", "--json"]).arg(&file));
    run(sb(&dir, &on).args(["new", "notes"]));
    run(sb(&dir, &on).args(["add", "notes", "--role", "assistant", &long_answer()]));
    assert_eq!(blobs(&db), 6);

    let shown = json(sb(&dir, &on).args(["show", "garden", "--json"]));
    let texts_shown: Vec<String> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts_shown, texts());
    let human = run(sb(&dir, &on).args(["show", "notes"]));
    assert!(human.contains(&long_answer()), "{human}");
    let exported: Value =
        serde_json::from_str(&run(sb(&dir, &on).args(["export", "garden", "notes"]))).unwrap();
    assert_eq!(exported[0]["messages"], shown["messages"]);
    assert_eq!(
        exported[1]["messages"][0]["content"],
        long_answer().as_str()
    );
    let found = json(sb(&dir, &on).args(["search", "zygomorphic", "--json"]));
    assert_eq!(found.as_array().unwrap().len(), 2, "{found}");

    // stats reports what is stored compressed.
    let st = json(sb(&dir, &on).args(["stats", "--json"]));
    let c = &st["compressed"];
    let original: usize = texts()
        .iter()
        .filter(|t| t.len() >= MIN)
        .map(String::len)
        .sum::<usize>()
        + long_answer().len();
    assert_eq!(c["messages"], 6, "{st}");
    assert_eq!(c["original_bytes"], original, "{st}");
    let stored = c["stored_bytes"].as_u64().unwrap();
    assert!(stored > 0 && stored * 2 < original as u64, "{st}");
    assert_eq!(c["saved_bytes"], original as u64 - stored);
    let text = run(sb(&dir, &on).arg("stats"));
    assert!(text.contains("compressed: 6 messages, "), "{text}");
    assert!(text.contains("(saves "), "{text}");

    // `compress` with the option off turns them back into text.
    let report = json(sb(&dir, &off).args(["compress", "--json"]));
    assert_eq!(report["decompressed"], 6, "{report}");
    assert_eq!(blobs(&db), 0);
    assert_eq!(
        json(sb(&dir, &off).args(["show", "garden", "--json"])),
        shown
    );
    assert_eq!(
        json(sb(&dir, &off).args(["stats", "--json"]))["compressed"]["messages"],
        0
    );
    // And with it on, back again; a second run has nothing to do.
    let out = run(sb(&dir, &on).arg("compress"));
    assert!(out.starts_with("compressed 6 messages: "), "{out}");
    assert_eq!(blobs(&db), 6);
    let out = run(sb(&dir, &on).arg("compress"));
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(
        json(sb(&dir, &on).args(["show", "garden", "--json"])),
        shown
    );
}
