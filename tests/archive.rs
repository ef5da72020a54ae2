//! Archive files: sessions moved out of the store into a `.sbz`, and
//! brought back exactly; lineage across the cut; protected tags; and the
//! faults: a cut, damaged or foreign file, a full disk, a kill at any point.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use scrollback::domain::{Kind, SessionDoc, Tokens};
use scrollback::{NewMessage, NewSession, Role, Store};
use serde_json::{Value, json};

fn run(home: &Path, db: &Path, args: &[&str]) -> Output {
    common::scrollback_on(home, db)
        .args(args)
        .output()
        .expect("scrollback runs")
}

fn ok(home: &Path, db: &Path, args: &[&str]) -> String {
    let out = run(home, db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn fails(home: &Path, db: &Path, args: &[&str]) -> String {
    let out = run(home, db, args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Every session of the store as a document, by uid: the whole of what an
/// archive must keep.
fn docs(db: &Path) -> BTreeMap<String, Value> {
    let store = Store::open(db).expect("store");
    store
        .list(&scrollback::ListQuery {
            state: scrollback::StateFilter::All,
            ..scrollback::ListQuery::default()
        })
        .expect("list")
        .into_iter()
        .map(|s| {
            let messages = store.all_messages(s.id).expect("messages");
            let doc = SessionDoc::from_stored(&s, messages);
            (s.uid.0.clone(), serde_json::to_value(doc).expect("json"))
        })
        .collect()
}

/// A store with what an archive must carry: branches, tags, metadata, every
/// kind, tokens, models, CJK and emoji, archived and trashed sessions.
fn rich_store(db: &Path) {
    let mut store = Store::open(db).expect("store");
    let mut new = NewSession::named("研究-notes");
    new.title = "Notes on 検索 🔍".into();
    new.tags = vec!["work".into(), "cjk".into()];
    new.metadata = json!({ "variables": { "step": 3, "done": false }, "owner": "ada" })
        .as_object()
        .cloned()
        .expect("object");
    let s = store.create_session(&new).expect("session");
    let kinds = [
        (Role::System, Kind::Text, "You are terse."),
        (Role::User, Kind::Text, "全文検索のインデックスは？"),
        (Role::Assistant, Kind::Thinking, "They ask about the index…"),
        (
            Role::Assistant,
            Kind::ToolCall,
            "{\"tool\":\"grep\",\"args\":[\"tantivy\"]}",
        ),
        (Role::Tool, Kind::ToolResult, "src/search/index.rs: tantivy"),
        (Role::Assistant, Kind::Text, "tantivy を使います 👍"),
    ];
    for (i, (role, kind, text)) in kinds.into_iter().enumerate() {
        let mut m = NewMessage::new(role, text);
        m.kind = kind;
        if role == Role::Assistant {
            m.model = Some("m-1".into());
            m.tokens = Some(Tokens {
                input: 10 + i as u64,
                output: 3,
            });
        }
        m.metadata = json!({ "i": i }).as_object().cloned().expect("object");
        m.source_id = Some(format!("src-{i}"));
        store.add_message(s.id, m).expect("message");
    }
    store.branch(s.id, "研究-branch", Some(2)).expect("branch");
    for n in 0..5 {
        let t = store
            .create_session(&NewSession::named(format!("plain-{n}")))
            .expect("session");
        store
            .add_messages(
                t.id,
                &[
                    NewMessage::new(Role::User, format!("question {n} about merges")),
                    NewMessage::new(Role::Assistant, format!("answer {n}")),
                ],
            )
            .expect("messages");
    }
    let p3 = store.session("plain-3").expect("plain-3");
    store.archive(&[p3.id]).expect("archive");
    let p4 = store.session("plain-4").expect("plain-4");
    store.trash(&[p4.id]).expect("trash");
    let kept = store
        .create_session(&NewSession::named("protected"))
        .expect("session");
    store
        .update_tags(kept.id, &["keep".into()], &[])
        .expect("tag");
}

#[test]
fn a_store_goes_out_to_an_archive_and_comes_back_field_by_field() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    rich_store(&db);
    let before = docs(&db);
    let file = home.join("all.sbz");
    let f = file.to_str().expect("path");
    // A dry run changes nothing and writes no file.
    let plan = ok(
        home,
        &db,
        &[
            "archive",
            "--to",
            f,
            "--older-than",
            "2099-01-01",
            "--dry-run",
        ],
    );
    assert!(plan.contains("would archive 7 sessions"), "{plan}");
    assert!(!file.exists());
    // Everything but the protected session goes out.
    let out = ok(
        home,
        &db,
        &[
            "archive",
            "--to",
            f,
            "--older-than",
            "2099-01-01",
            "--yes",
            "--json",
        ],
    );
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["removed"], 7);
    assert_eq!(report["archive"]["header"]["sessions"], 7);
    assert_eq!(report["archive"]["header"]["messages"], 6 + 3 + 10);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let left = docs(&db);
    assert_eq!(left.len(), 1);
    assert_eq!(left.values().next().expect("one")["name"], "protected");
    // Gone from the index too.
    let found = ok(home, &db, &["search", "merges", "--json", "--archived"]);
    assert_eq!(found.trim(), "[]");
    // The header and the sessions, without importing.
    let listed = ok(home, &db, &["archive", "--list", f]);
    assert!(listed.contains("7 sessions, 19 messages"), "{listed}");
    assert!(listed.contains("研究-branch"), "{listed}");
    // Found in the file without importing it.
    let hits = ok(home, &db, &["search", "--in", f, "tantivy", "--json"]);
    let hits: Value = serde_json::from_str(&hits).expect("json");
    assert_eq!(hits[0]["name"], "研究-notes", "{hits}");
    // Back, exactly.
    ok(home, &db, &["import", f]);
    let after = docs(&db);
    assert_eq!(after.len(), before.len());
    for (uid, doc) in &before {
        assert_eq!(
            after.get(uid),
            Some(doc),
            "session {uid} came back different"
        );
    }
    // Again: nothing added.
    let again = ok(home, &db, &["import", f, "--json"]);
    let again: Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["sessions_added"], 0, "{again}");
    assert_eq!(docs(&db), before);
    // And searchable again.
    let found = ok(home, &db, &["search", "merges", "--json"]);
    assert!(found.contains("plain-0"), "{found}");
}

#[test]
fn lineage_across_the_cut_stays_true_and_is_restored() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    rich_store(&db);
    let parent_uid = Store::open(&db)
        .expect("store")
        .session("研究-notes")
        .expect("parent")
        .uid;
    // The parent goes, its branch stays: the branch says where it went.
    let file = home.join("parent.sbz");
    let f = file.to_str().expect("path");
    ok(home, &db, &["archive", "研究-notes", "--to", f, "--yes"]);
    let shown = ok(home, &db, &["show", "研究-branch"]);
    assert!(
        shown.contains("parent in archive") && shown.contains("parent.sbz"),
        "{shown}"
    );
    {
        let store = Store::open(&db).expect("store");
        let branch = store.session("研究-branch").expect("branch");
        assert_eq!(
            branch.parent.as_ref(),
            Some(&parent_uid),
            "the link by uid stays"
        );
        let (name, archive) = store
            .archived_in(&parent_uid)
            .expect("read")
            .expect("noted");
        assert_eq!(name, "研究-notes");
        assert!(archive.ends_with("parent.sbz"), "{archive}");
    }
    // Imported back, the branch finds its parent again.
    ok(home, &db, &["import", f]);
    let store = Store::open(&db).expect("store");
    let parent = store.session("研究-notes").expect("parent back");
    assert_eq!(parent.uid, parent_uid);
    assert_eq!(store.archived_in(&parent_uid).expect("read"), None);
    let branches = store.branches_of(&parent.uid).expect("branches");
    assert_eq!(branches.len(), 1);
    assert_eq!(branches[0].name, "研究-branch");
    drop(store);
    // The reverse: the branch goes, the parent stays, and it comes back
    // linked to it.
    let file2 = home.join("branch.sbz");
    let f2 = file2.to_str().expect("path");
    ok(home, &db, &["archive", "研究-branch", "--to", f2, "--yes"]);
    {
        let store = Store::open(&db).expect("store");
        assert!(store.branches_of(&parent_uid).expect("branches").is_empty());
    }
    ok(home, &db, &["import", f2]);
    let store = Store::open(&db).expect("store");
    let back = store.session("研究-branch").expect("branch back");
    assert_eq!(back.parent.as_ref(), Some(&parent_uid));
    assert_eq!(back.fork_seq, Some(2));
}

#[test]
fn protected_tags_are_never_archived() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    rich_store(&db);
    let file = home.join("p.sbz");
    let f = file.to_str().expect("path");
    let e = fails(home, &db, &["archive", "protected", "--to", f, "--yes"]);
    assert!(e.contains("protected tag"), "{e}");
    assert!(!file.exists());
    // Criteria that match it pass it by.
    let out = ok(
        home,
        &db,
        &["archive", "--to", f, "--empty", "--yes", "--json"],
    );
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        report["removed"], 0,
        "the only empty session is protected: {report}"
    );
    assert_eq!(report["archive"], Value::Null);
    assert!(!file.exists(), "no file for nothing");
    assert!(
        Store::open(&db)
            .expect("store")
            .session("protected")
            .is_ok()
    );
}

#[test]
fn keep_writes_the_file_and_keeps_the_sessions() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    rich_store(&db);
    let before = docs(&db);
    let file = home.join("copy.sbz");
    let f = file.to_str().expect("path");
    ok(
        home,
        &db,
        &["archive", "--to", f, "--tag", "work", "--keep", "--yes"],
    );
    assert_eq!(docs(&db), before);
    let listed = ok(home, &db, &["archive", "--list", f, "--json"]);
    let listed: Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed["header"]["sessions"], 2, "{listed}");
    // An archive never replaces a file.
    let e = fails(home, &db, &["archive", "--to", f, "--tag", "work", "--yes"]);
    assert!(e.contains("exists"), "{e}");
    assert_eq!(docs(&db), before);
}

/// The content lines of an archive (after its header), decompressed.
fn content_of(file: &Path) -> (String, Vec<u8>) {
    let raw = zstd::stream::decode_all(std::fs::File::open(file).expect("open")).expect("zstd");
    let at = raw.iter().position(|b| *b == b'\n').expect("a header line") + 1;
    (
        String::from_utf8(raw[..at].to_vec()).expect("utf-8"),
        raw[at..].to_vec(),
    )
}

#[test]
fn damaged_cut_and_foreign_archives_are_refused_and_bring_nothing_in() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    rich_store(&db);
    let file = home.join("good.sbz");
    let f = file.to_str().expect("path");
    ok(
        home,
        &db,
        &["archive", "--to", f, "--source", "scrollback", "--yes"],
    );
    let before = docs(&db);
    let bytes = std::fs::read(&file).expect("read");
    let try_import = |name: &str, data: &[u8], expect: &[&str]| {
        let p = home.join(name);
        std::fs::write(&p, data).expect("write");
        let e = fails(home, &db, &["import", p.to_str().expect("path")]);
        assert!(e.contains(name), "{name}: the error names the file: {e}");
        assert!(
            expect.iter().any(|x| e.contains(x)),
            "{name}: expected one of {expect:?} in {e}"
        );
        let l = fails(home, &db, &["archive", "--list", p.to_str().expect("path")]);
        assert!(expect.iter().any(|x| l.contains(x)), "{name}: {l}");
        assert_eq!(docs(&db), before, "{name}: nothing imported");
    };
    // Cut short, at several places.
    for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 5] {
        try_import(
            &format!("cut-{cut}.sbz"),
            &bytes[..cut],
            &["cut short", "damaged"],
        );
    }
    // A byte flipped inside the compressed data.
    let mut flipped = bytes.clone();
    let mid = flipped.len() * 2 / 3;
    flipped[mid] ^= 0x55;
    try_import(
        "flipped.sbz",
        &flipped,
        &["damaged", "checksum", "cut short"],
    );
    // A whole zstd stream whose content was changed: only the checksum tells.
    let (header, mut content) = content_of(&file);
    let i = content
        .windows(6)
        .position(|w| w == b"answer")
        .expect("a word to change");
    content[i] = b'A';
    let mut forged = zstd::stream::encode_all(header.as_bytes(), 3).expect("zstd");
    forged.extend(zstd::stream::encode_all(&content[..], 3).expect("zstd"));
    try_import("forged.sbz", &forged, &["checksum"]);
    // Foreign: zstd, but not an archive; and not even zstd.
    let foreign = zstd::stream::encode_all(&b"hello, world\n"[..], 3).expect("zstd");
    try_import("foreign.sbz", &foreign, &["not a scrollback archive"]);
    let p = home.join("text.sbz");
    std::fs::write(&p, "just some text\n").expect("write");
    let l = fails(home, &db, &["archive", "--list", p.to_str().expect("path")]);
    assert!(l.contains("not a scrollback archive"), "{l}");
    // The good one still imports.
    ok(home, &db, &["import", f]);
}

#[cfg(unix)]
#[test]
fn a_full_disk_while_writing_loses_nothing_and_leaves_no_archive() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    big_store(&db, 300);
    let before = docs(&db);
    let file = home.join("full.sbz");
    // Files may grow to 64 KB only, as on a disk that fills up; the
    // signal that would end the process is ignored, so writes fail.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 128; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_scrollback"))
        .args(["--db", db.to_str().expect("path")])
        .args([
            "archive",
            "--to",
            file.to_str().expect("path"),
            "--older-than",
            "2099-01-01",
            "--yes",
        ])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("SCROLLBACK_CONFIG")
        .env_remove("SCROLLBACK_DB")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("full.sbz") && err.contains("too large"),
        "{err}"
    );
    assert!(!file.exists(), "nothing under the final name");
    let leftovers: Vec<String> = std::fs::read_dir(home)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("full.sbz"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(docs(&db), before, "the store lost nothing");
}

/// `n` sessions of 20 messages of about 1 KB each.
fn big_store(db: &Path, n: usize) {
    let mut store = Store::open(db).expect("store");
    let mut seed = 0x1234_5678_u64;
    let mut word = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        format!("w{:x}", seed % 100_000)
    };
    let docs: Vec<SessionDoc> = (0..n)
        .map(|i| {
            let messages = (0..20)
                .map(|j| scrollback::domain::MessageDoc {
                    role: Some(if j % 2 == 0 {
                        Role::User
                    } else {
                        Role::Assistant
                    }),
                    content: (0..150).map(|_| word()).collect::<Vec<_>>().join(" "),
                    ..scrollback::domain::MessageDoc::default()
                })
                .collect();
            SessionDoc {
                name: Some(format!("s-{i}")),
                messages,
                ..SessionDoc::default()
            }
        })
        .collect();
    store
        .import_docs(docs, scrollback::store::ImportOptions::default())
        .expect("import");
}

#[test]
fn a_kill_at_any_point_leaves_every_session_in_the_store_or_a_verified_archive() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    big_store(&db, 400);
    let all: BTreeSet<String> = docs(&db).into_keys().collect();
    // How long an archive of all of it takes here, to kill within it.
    let probe = home.join("probe.sbz");
    let started = std::time::Instant::now();
    ok(
        home,
        &db,
        &[
            "archive",
            "--to",
            probe.to_str().expect("path"),
            "--older-than",
            "2099-01-01",
            "--yes",
            "--keep",
        ],
    );
    let span = u64::try_from(started.elapsed().as_millis().max(50)).unwrap_or(u64::MAX);
    std::fs::remove_file(&probe).expect("remove");
    let mut seed = 0x9e37_79b9_u64;
    let mut archives: Vec<PathBuf> = Vec::new();
    for round in 0..8 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = (seed >> 33) % (span + span / 4);
        let file = home.join(format!("k{round}.sbz"));
        let mut child = common::scrollback_on(home, &db)
            .args([
                "archive",
                "--to",
                file.to_str().expect("path"),
                "--older-than",
                "2099-01-01",
                "--yes",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        if file.exists() {
            // Whatever has the final name is a whole, verified archive.
            scrollback::archive::verify(&file, &|_, _| {})
                .unwrap_or_else(|e| panic!("round {round} (killed after {delay} ms): {e}"));
            archives.push(file);
        }
        // Every session is somewhere.
        let mut found: BTreeSet<String> = docs(&db).into_keys().collect();
        for a in &archives {
            let (_, entries) = scrollback::archive::list(a, &|_, _| {}).expect("list");
            found.extend(entries.into_iter().filter_map(|e| e.uid));
        }
        assert!(
            all.is_subset(&found),
            "round {round} (killed after {delay} ms): {} sessions in neither the store nor an archive",
            all.difference(&found).count()
        );
        // The store still opens and answers.
        Store::open(&db)
            .expect("store")
            .count_sessions()
            .expect("count");
    }
    // Bringing every archive back makes the store whole again.
    for a in &archives {
        ok(home, &db, &["import", a.to_str().expect("path")]);
    }
    let back: BTreeSet<String> = docs(&db).into_keys().collect();
    assert_eq!(back, all);
}

#[test]
fn the_database_gives_the_space_back() {
    let dir = tempfile::tempdir().expect("dir");
    let (home, db) = (dir.path(), dir.path().join("s.db"));
    big_store(&db, 200);
    let file = home.join("space.sbz");
    let out = ok(
        home,
        &db,
        &[
            "archive",
            "--to",
            file.to_str().expect("path"),
            "--older-than",
            "2099-01-01",
            "--yes",
            "--json",
        ],
    );
    let r: Value = serde_json::from_str(&out).expect("json");
    let before = r["db_bytes_before"].as_u64().expect("before");
    let after = r["db_bytes_after"].as_u64().expect("after");
    assert!(after * 4 < before, "{before} -> {after}");
    let json_bytes = r["archive"]["header"]["content_bytes"]
        .as_u64()
        .expect("bytes");
    let file_bytes = r["archive"]["file_bytes"].as_u64().expect("bytes");
    assert!(file_bytes < json_bytes, "{file_bytes} of {json_bytes}");
    let stats: Value = serde_json::from_str(&ok(home, &db, &["stats", "--json"])).expect("json");
    assert_eq!(stats["messages"], 0, "{stats}");
}

#[test]
fn a_session_that_changes_while_it_is_archived_is_not_removed() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("s.db");
    rich_store(&db);
    let before = docs(&db);
    let mut store = Store::open(&db).expect("store");
    let ids: Vec<_> = ["plain-0", "plain-1"]
        .iter()
        .map(|n| store.session(n).expect("session").id)
        .collect();
    let file = dir.path().join("race.sbz");
    let written = scrollback::archive::write(
        &store,
        &ids,
        &file,
        &|_, _| {},
        &scrollback::jobs::JobControl::new(),
    )
    .expect("write");
    // A sync adds to one of them after it was written to the file.
    store
        .add_message(ids[1], NewMessage::new(Role::User, "one more"))
        .expect("add");
    let e = store
        .remove_archived(&written.states, "race.sbz")
        .expect_err("a changed session is not removed");
    assert!(
        e.to_string().contains("plain-1") && e.to_string().contains("changed"),
        "{e}"
    );
    drop(store);
    // Nothing was removed; the file holds them as they were.
    let after = docs(&db);
    assert_eq!(after.len(), before.len());
    assert!(Store::open(&db).expect("store").session("plain-0").is_ok());
    scrollback::archive::verify(&file, &|_, _| {}).expect("a whole archive");
}
