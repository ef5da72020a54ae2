//! Opening databases of every schema version, and refusing what cannot be
//! opened safely: a newer schema, a corrupt file. Also the files' modes.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use scrollback::store::schema::CURRENT_VERSION;
use scrollback::{Error, Store};

/// Hand-written databases of each released schema version, oldest first.
const FIXTURES: &[(i64, &str)] = &[
    (1, include_str!("fixtures/schema-v1.sql")),
    (2, include_str!("fixtures/schema-v2.sql")),
    (3, include_str!("fixtures/schema-v3.sql")),
    (4, include_str!("fixtures/schema-v4.sql")),
    (5, include_str!("fixtures/schema-v5.sql")),
    (6, include_str!("fixtures/schema-v6.sql")),
    (7, include_str!("fixtures/schema-v7.sql")),
    (8, include_str!("fixtures/schema-v8.sql")),
];

fn make_db(path: &Path, sql: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(sql).unwrap();
}

#[test]
fn every_schema_version_has_a_fixture() {
    let versions: Vec<i64> = FIXTURES.iter().map(|(v, _)| *v).collect();
    assert_eq!(versions, (1..=CURRENT_VERSION).collect::<Vec<_>>());
}

#[test]
fn databases_of_every_earlier_version_open_with_their_data() {
    for (version, sql) in FIXTURES {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        make_db(&path, sql);
        let mut st = Store::open(&path).unwrap_or_else(|e| panic!("schema v{version}: {e}"));
        assert_eq!(st.schema_version().unwrap(), CURRENT_VERSION);
        let s = st.session("garden-plan").unwrap();
        assert_eq!(s.tags, ["garden", "keep"]);
        assert_eq!(s.metadata["season"], "spring");
        let msgs = st.all_messages(s.id).unwrap();
        // Stored compressed from v6 on: read as text all the same.
        assert_eq!(
            msgs[1].content, "Lettuce, spinach, kale.",
            "schema v{version}"
        );
        assert_eq!(msgs[1].model.as_deref(), Some("gpt-4o"));
        assert_eq!(msgs[1].tokens.map(|t| t.output), Some(8));
        let b = st.session("garden-plan-shade").unwrap();
        assert_eq!(b.parent.as_ref(), Some(&s.uid));
        // The search index learns every session of the old store.
        let mut search = scrollback::search::Search::open(&st, &|_, _| {}).unwrap();
        let found = search
            .query("shade", scrollback::search::Limit::default())
            .unwrap();
        let names: Vec<&str> = found.hits.iter().map(|h| h.session.name.as_str()).collect();
        assert_eq!(names.len(), 2, "schema v{version}: {names:?}");
        assert_eq!(st.outbox_len().unwrap(), 0, "schema v{version}");
        // And it is writable after the migration.
        st.add_message(
            b.id,
            scrollback::NewMessage::new(scrollback::Role::Assistant, "Chard."),
        )
        .unwrap();
        assert!(st.doctor().unwrap().healthy);
    }
}

/// How many temporary b-trees SQLite opens to insert one message.
fn ephemeral_tables_per_insert(c: &rusqlite::Connection) -> usize {
    let mut st = c
        .prepare(
            "EXPLAIN INSERT INTO message (session_id, seq, role, content, created_at, kind) \
             VALUES (1, 99, 'user', 'x', 0, 'text')",
        )
        .unwrap();
    let ops: Vec<String> = st
        .query_map([], |r| r.get::<_, String>(1))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ops.iter().filter(|op| *op == "OpenEphemeral").count()
}

#[test]
fn the_value_checks_are_rewritten_in_place_and_still_refuse_bad_values() {
    for (version, sql) in FIXTURES.iter().filter(|(v, _)| *v < 8) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        make_db(&path, sql);
        // A connection open across the migration sees the new text too.
        let before = rusqlite::Connection::open(&path).unwrap();
        if *version >= 3 {
            assert_eq!(ephemeral_tables_per_insert(&before), 2, "schema v{version}");
        }
        let st = Store::open(&path).unwrap();
        assert_eq!(st.schema_version().unwrap(), CURRENT_VERSION);
        drop(st);
        // (EXPLAIN reads the cached schema; a statement that runs checks
        // the schema cookie and reads the new text, as an insert would.)
        let _: i64 = before
            .query_row("SELECT count(*) FROM message", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ephemeral_tables_per_insert(&before), 0, "schema v{version}");
        let c = rusqlite::Connection::open(&path).unwrap();
        let text: Vec<String> = c
            .prepare("SELECT sql FROM sqlite_schema WHERE name IN ('message', 'index_outbox')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(text.len(), 2);
        for t in &text {
            assert!(!t.contains(" IN ("), "schema v{version}: {t}");
        }
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "schema v{version}");
        for bad in [
            "INSERT INTO message (session_id, seq, role, content, created_at, kind) \
             VALUES (1, 50, 'robot', 'x', 0, 'text')",
            "INSERT INTO message (session_id, seq, role, content, created_at, kind) \
             VALUES (1, 51, 'user', 'x', 0, 'poem')",
            "INSERT INTO index_outbox (session_id, op) VALUES (1, 'everything')",
        ] {
            let err = c.execute(bad, []).unwrap_err().to_string();
            assert!(
                err.contains("CHECK constraint failed"),
                "schema v{version}: {err}"
            );
        }
        for role in ["system", "user", "assistant", "tool"] {
            c.execute(
                "INSERT INTO message (session_id, seq, role, content, created_at, kind) \
                 VALUES (1, 60 + (SELECT count(*) FROM message), ?1, 'x', 0, 'image')",
                [role],
            )
            .unwrap();
        }
    }
}

#[test]
fn the_migration_to_compressed_contents_changes_no_data() {
    // v6 only says that contents may be compressed: an older store keeps
    // every content as the text it was, byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    make_db(&path, include_str!("fixtures/schema-v5.sql"));
    let contents = |path: &Path| -> Vec<(String, Vec<u8>)> {
        let c = rusqlite::Connection::open(path).unwrap();
        c.prepare("SELECT typeof(content), CAST(content AS BLOB) FROM message ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0).unwrap(), r.get(1).unwrap())))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let before = contents(&path);
    let st = Store::open(&path).unwrap();
    assert_eq!(st.schema_version().unwrap(), CURRENT_VERSION);
    drop(st);
    assert_eq!(contents(&path), before);
    assert!(before.iter().all(|(t, _)| t == "text"));
}

#[test]
fn an_empty_file_becomes_a_current_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let st = Store::open(&path).unwrap();
    assert_eq!(st.schema_version().unwrap(), CURRENT_VERSION);
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(Store::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", CURRENT_VERSION + 1)
        .unwrap();
    drop(c);
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::TooNew { found, .. } if found == CURRENT_VERSION + 1),
        "{err}"
    );
    assert!(err.to_string().contains("newer scrollback"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_corrupt_file_is_refused_with_recovery_advice_and_never_touched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.db");
    let garbage: Vec<u8> = (0..8192u32)
        .map(|i| u8::try_from(i * 7 % 251).unwrap())
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(".recover"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[cfg(unix)]
#[test]
fn new_directories_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a").join("b");
    let path = data.join("scrollback.db");
    let mut st = Store::open(&path).unwrap();
    st.create_session(&scrollback::NewSession::named("x"))
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&path), 0o600);
    let wal = data.join("scrollback.db-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file while open");
    assert_eq!(mode(&wal), 0o600);
}

#[test]
fn another_programs_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    for (what, sql) in [
        (
            "tables of its own",
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'mine');",
        ),
        // Even tables with our names: without the application id and a
        // known schema version it is not ours.
        (
            "lookalike",
            "CREATE TABLE session (id INTEGER); CREATE TABLE message (id INTEGER); CREATE TABLE tag (id INTEGER);",
        ),
        (
            "another application id",
            "PRAGMA application_id = 42; CREATE TABLE t (x);",
        ),
    ] {
        let path = dir.path().join(format!("{}.db", what.replace(' ', "-")));
        make_db(&path, sql);
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).expect_err(what);
        assert!(matches!(err, Error::Foreign { .. }), "{what}: {err}");
        assert!(err.to_string().contains("another program"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{what}: touched");
        for companion in ["-wal", "-shm"] {
            assert!(
                !Path::new(&format!("{}{companion}", path.display())).exists(),
                "{what}: {companion} created"
            );
        }
    }
    // A new file and an old scrollback database are claimed.
    let new = dir.path().join("new.db");
    drop(Store::open(&new).unwrap());
    let c = rusqlite::Connection::open(&new).unwrap();
    let id: i64 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(id, scrollback::store::schema::APPLICATION_ID);
    let vacuum: i64 = c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(vacuum, 2, "the new file is still incremental");
    assert!(Store::open(&new).is_ok());
}

#[test]
fn several_openers_of_the_same_new_file_all_get_the_store() {
    // Two commands started at once on a store that does not exist yet: each
    // must see either nothing or the whole new store, never its tables
    // without its id (which reads as another program's database).
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    Store::open(&path)
                        .map(|s| s.schema_version().unwrap())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for o in openers {
            assert_eq!(o.join().unwrap(), Ok(CURRENT_VERSION));
        }
    }
}
