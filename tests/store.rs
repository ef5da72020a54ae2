//! Store operations on in-memory SQLite: every operation of the library,
//! checked through what the store reads back.
#![allow(
    clippy::unwrap_used,
    clippy::default_trait_access,
    clippy::too_many_lines
)]

use scrollback::domain::{
    CleanupAction, CleanupCriteria, ListQuery, MergeOrder, Sort, StateFilter,
};
use scrollback::{Error, NewMessage, NewSession, Role, Session, Store};
use serde_json::json;

fn store() -> Store {
    Store::open_in_memory().unwrap()
}

fn session(store: &mut Store, name: &str, texts: &[&str]) -> Session {
    let s = store.create_session(&NewSession::named(name)).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        store.add_message(s.id, NewMessage::new(role, *t)).unwrap();
    }
    store.session(name).unwrap()
}

fn contents(store: &Store, s: &Session) -> Vec<String> {
    store
        .all_messages(s.id)
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect()
}

#[test]
fn create_with_title_tags_and_metadata() {
    let mut st = store();
    let mut new = NewSession::named("project-planning");
    new.title = "Q3 plan".into();
    new.tags = vec!["work".into(), "planning".into(), "work".into()];
    new.metadata.insert("topic".into(), json!("Python"));
    let s = st.create_session(&new).unwrap();
    assert_eq!(s.name, "project-planning");
    assert_eq!(s.title, "Q3 plan");
    assert_eq!(s.tags, ["planning", "work"]);
    assert_eq!(s.metadata["topic"], "Python");
    assert_eq!(s.source, "scrollback");
    assert_eq!(s.message_count, 0);
    assert!(!s.archived && !s.trashed);
    assert_eq!(st.session(&s.uid.0).unwrap().id, s.id);
}

#[test]
fn duplicate_and_invalid_names_are_refused() {
    let mut st = store();
    session(&mut st, "a", &[]);
    assert!(matches!(
        st.create_session(&NewSession::named("a")),
        Err(Error::NameTaken(_))
    ));
    for bad in ["", " ", "x/y", "bell\u{7}", &"n".repeat(201)] {
        assert!(
            matches!(
                st.create_session(&NewSession::named(bad)),
                Err(Error::Invalid { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(st.list(&ListQuery::default()).unwrap().len(), 1);
}

#[test]
fn templates_seed_new_sessions() {
    let mut st = store();
    let mut t = NewSession::named("review-template");
    t.title = "Code review".into();
    t.tags = vec!["template".into(), "review".into()];
    t.metadata.insert("kind".into(), json!("template"));
    t.metadata.insert("lang".into(), json!("rust"));
    let t = st.create_session(&t).unwrap();
    st.add_message(t.id, NewMessage::new(Role::System, "You review Rust code."))
        .unwrap();
    let mut new = NewSession::named("review-42");
    new.template = Some("review-template".into());
    let s = st.create_session(&new).unwrap();
    assert_eq!(s.title, "Code review");
    assert_eq!(s.tags, ["review"]);
    assert_eq!(s.metadata.get("lang"), Some(&json!("rust")));
    assert_eq!(s.metadata.get("kind"), None);
    assert_eq!(contents(&st, &s), ["You review Rust code."]);
    assert_eq!(
        st.templates()
            .unwrap()
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["review-template"]
    );
}

#[test]
fn messages_keep_every_field_and_counts() {
    let mut st = store();
    let s = session(&mut st, "s", &[]);
    let mut m = NewMessage::new(Role::Assistant, "héllo wörld");
    m.model = Some("gpt-4".into());
    m.tokens = Some(scrollback::Tokens {
        input: 10,
        output: 3,
    });
    m.metadata.insert("tool".into(), json!("Bash"));
    m.created_at = Some("2026-01-02T03:04:05.678Z".parse().unwrap());
    let stored = st.add_message(s.id, m).unwrap();
    assert_eq!(stored.seq, 0);
    assert_eq!(stored.model.as_deref(), Some("gpt-4"));
    assert_eq!(
        stored.tokens,
        Some(scrollback::Tokens {
            input: 10,
            output: 3
        })
    );
    assert_eq!(stored.metadata["tool"], "Bash");
    assert_eq!(stored.created_at.to_string(), "2026-01-02T03:04:05.678Z");
    let s = st.session_by_id(s.id).unwrap();
    assert_eq!((s.message_count, s.char_count), (1, 11));
}

#[test]
fn pages_and_last_n() {
    let mut st = store();
    let texts: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let s = session(&mut st, "long", &refs);
    let page = st.messages(s.id, 10, 5).unwrap();
    assert_eq!(
        page.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [10, 11, 12, 13, 14]
    );
    assert_eq!(page[0].content, "m10");
    let last = st.last_messages(s.id, 3).unwrap();
    assert_eq!(
        last.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["m22", "m23", "m24"]
    );
    assert_eq!(st.last_messages(s.id, 100).unwrap().len(), 25);
    assert!(st.messages(s.id, 25, 10).unwrap().is_empty());
}

#[test]
fn oversized_messages_are_refused_whole() {
    let mut st = Store::open_in_memory_with(scrollback::StoreOptions {
        max_message_bytes: 8,
        ..scrollback::StoreOptions::default()
    })
    .unwrap();
    let s = session(&mut st, "s", &["short"]);
    let err = st
        .add_messages(
            s.id,
            &[
                NewMessage::new(Role::User, "ok"),
                NewMessage::new(Role::User, "far too long"),
            ],
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { size: 12, limit: 8 }),
        "{err}"
    );
    assert_eq!(contents(&st, &s), ["short"]);
}

#[test]
fn rename_and_retitle() {
    let mut st = store();
    let a = session(&mut st, "a", &[]);
    session(&mut st, "b", &[]);
    assert!(matches!(st.rename(a.id, "b"), Err(Error::NameTaken(_))));
    assert!(matches!(st.rename(a.id, "x/y"), Err(Error::Invalid { .. })));
    st.rename(a.id, "alpha").unwrap();
    assert!(st.session("a").unwrap_err().is_not_found());
    assert_eq!(st.retitle(a.id, "The first").unwrap().title, "The first");
    assert_eq!(st.session("alpha").unwrap().title, "The first");
}

#[test]
fn tags_and_metadata() {
    let mut st = store();
    let s = session(&mut st, "s", &[]);
    let s2 = st
        .update_tags(s.id, &["b".into(), "a".into()], &[])
        .unwrap();
    assert_eq!(s2.tags, ["a", "b"]);
    let s2 = st
        .update_tags(s.id, &["c".into()], &["a".into(), "zzz".into()])
        .unwrap();
    assert_eq!(s2.tags, ["b", "c"]);
    assert!(st.update_tags(s.id, &["bad tag".into()], &[]).is_err());
    let s2 = st
        .update_metadata(
            s.id,
            &[("k".into(), Some(json!("v"))), ("n".into(), Some(json!(3)))],
        )
        .unwrap();
    assert_eq!(s2.metadata.get("n"), Some(&json!(3)));
    let s2 = st.update_metadata(s.id, &[("k".into(), None)]).unwrap();
    assert_eq!(s2.metadata.len(), 1);
}

#[test]
fn uid_prefixes_resolve_unless_ambiguous() {
    let mut st = store();
    let a = session(&mut st, "a", &[]);
    let prefix: String = a.uid.0.chars().take(8).collect();
    assert_eq!(st.session(&prefix).unwrap().id, a.id);
    assert!(
        st.session(&a.uid.0[..3]).unwrap_err().is_not_found(),
        "prefixes under 4 chars do not count"
    );
    let docs = ["abcd1111", "abcd2222"].map(|u| scrollback::SessionDoc {
        uid: Some(scrollback::Uid(u.into())),
        name: Some(format!("n-{u}")),
        ..Default::default()
    });
    st.import_docs(docs, Default::default()).unwrap();
    assert!(matches!(st.session("abcd"), Err(Error::Ambiguous { .. })));
    assert_eq!(st.session("abcd1").unwrap().name, "n-abcd1111");
}

#[test]
fn list_filters_and_sorts() {
    let mut st = store();
    let a = session(&mut st, "alpha", &["1", "2", "3"]);
    let b = session(&mut st, "Beta", &["1"]);
    let c = session(&mut st, "gamma", &["1", "2"]);
    st.update_tags(a.id, &["work".into(), "rust".into()], &[])
        .unwrap();
    st.update_tags(b.id, &["work".into()], &[]).unwrap();
    st.update_metadata(
        a.id,
        &[
            ("topic".into(), Some(json!("db"))),
            ("prio".into(), Some(json!(2))),
        ],
    )
    .unwrap();
    st.update_metadata(c.id, &[("topic".into(), Some(json!("db")))])
        .unwrap();
    let names = |q: ListQuery| {
        st.list(&q)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(ListQuery {
            tags: vec!["work".into()],
            sort: Sort::Name,
            ..Default::default()
        }),
        ["alpha", "Beta"]
    );
    assert_eq!(
        names(ListQuery {
            tags: vec!["work".into(), "rust".into()],
            ..Default::default()
        }),
        ["alpha"]
    );
    assert_eq!(
        names(ListQuery {
            metadata: vec![("topic".into(), "db".into())],
            sort: Sort::Name,
            ..Default::default()
        }),
        ["alpha", "gamma"]
    );
    assert_eq!(
        names(ListQuery {
            metadata: vec![("topic".into(), "db".into()), ("prio".into(), "2".into())],
            ..Default::default()
        }),
        ["alpha"]
    );
    assert_eq!(
        names(ListQuery {
            sort: Sort::Size,
            ..Default::default()
        }),
        ["alpha", "gamma", "Beta"]
    );
    assert_eq!(
        names(ListQuery {
            sort: Sort::Name,
            limit: Some(2),
            ..Default::default()
        }),
        ["alpha", "Beta"]
    );
    assert_eq!(
        names(ListQuery {
            sort: Sort::Name,
            limit: Some(2),
            offset: 2,
            ..Default::default()
        }),
        ["gamma"]
    );
    assert!(
        names(ListQuery {
            source: Some("codex".into()),
            ..Default::default()
        })
        .is_empty()
    );
    let future = "2100-01-01T00:00:00Z".parse().unwrap();
    let past = "2000-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        names(ListQuery {
            updated_before: Some(future),
            ..Default::default()
        })
        .len(),
        3
    );
    assert!(
        names(ListQuery {
            updated_before: Some(past),
            ..Default::default()
        })
        .is_empty()
    );
}

#[test]
fn trash_restore_archive_purge() {
    let mut st = store();
    let a = session(&mut st, "a", &["x"]);
    let b = session(&mut st, "b", &["y"]);
    let live = |st: &Store, state| {
        st.list(&ListQuery {
            state,
            sort: Sort::Name,
            ..Default::default()
        })
        .unwrap()
        .len()
    };
    assert_eq!(st.trash(&[a.id]).unwrap(), 1);
    assert_eq!(
        st.trash(&[a.id]).unwrap(),
        0,
        "trashing twice changes nothing"
    );
    assert_eq!(
        (
            live(&st, StateFilter::Live),
            live(&st, StateFilter::Trashed)
        ),
        (1, 1)
    );
    assert!(st.session("a").unwrap().trashed);
    st.restore(&[a.id]).unwrap();
    assert_eq!(live(&st, StateFilter::Live), 2);
    st.archive(&[b.id]).unwrap();
    assert_eq!(
        (
            live(&st, StateFilter::Live),
            live(&st, StateFilter::Archived)
        ),
        (1, 1)
    );
    st.unarchive(&[b.id]).unwrap();
    assert_eq!(live(&st, StateFilter::Archived), 0);
    st.trash(&[b.id]).unwrap();
    assert_eq!(st.trashed_ids().unwrap(), [b.id]);
    assert_eq!(st.purge(&[b.id]).unwrap(), 1);
    assert!(st.session("b").unwrap_err().is_not_found());
    assert_eq!(live(&st, StateFilter::All), 1);
    assert_eq!(st.store_stats().unwrap().messages, 1);
}

#[test]
fn branch_copies_a_prefix_and_remembers_its_parent() {
    let mut st = store();
    let p = session(&mut st, "p", &["0", "1", "2", "3"]);
    st.update_tags(p.id, &["work".into()], &[]).unwrap();
    let b = st.branch(p.id, "p-alt", Some(1)).unwrap();
    assert_eq!(contents(&st, &b), ["0", "1"]);
    assert_eq!(b.parent.as_ref(), Some(&p.uid));
    assert_eq!(b.fork_seq, Some(1));
    assert_eq!(b.tags, ["work"]);
    let whole = st.branch(p.id, "p-all", None).unwrap();
    assert_eq!(whole.fork_seq, Some(3));
    assert_eq!(whole.message_count, 4);
    let err = st.branch(p.id, "p-bad", Some(4)).unwrap_err();
    assert!(err.to_string().contains("0 to 3"), "{err}");
    assert!(st.session("p-bad").is_err());
    let c = st.copy(p.id, "p-copy").unwrap();
    assert_eq!(c.parent, None);
    assert_eq!(contents(&st, &c), contents(&st, &p));
    assert_ne!(c.uid, p.uid);
}

#[test]
fn merge_keeps_a_shared_prefix_once() {
    let mut st = store();
    let p = session(&mut st, "p", &["q", "a"]);
    let b1 = st.branch(p.id, "b1", None).unwrap();
    let b2 = st.branch(p.id, "b2", Some(0)).unwrap();
    let at = |t: &str, role, text: &str| {
        let mut m = NewMessage::new(role, text);
        m.created_at = Some(t.parse().unwrap());
        m
    };
    st.add_message(b1.id, at("2099-01-01T00:00:00Z", Role::User, "b1 says"))
        .unwrap();
    st.add_message(
        b2.id,
        at("2099-01-01T00:00:01Z", Role::Assistant, "b2 says"),
    )
    .unwrap();
    let given = st
        .merge(&[b1.id, b2.id], "given", MergeOrder::Given)
        .unwrap();
    assert_eq!(contents(&st, &given), ["q", "a", "b1 says", "b2 says"]);
    let timed = st
        .merge(&[b2.id, b1.id], "timed", MergeOrder::Time)
        .unwrap();
    assert_eq!(contents(&st, &timed), ["q", "a", "b1 says", "b2 says"]);
    assert_eq!(
        st.merge_preview(&[p.id, b1.id], MergeOrder::Given).unwrap(),
        3
    );
    assert_eq!(timed.metadata["merged_from"], json!([b2.uid.0, b1.uid.0]));
    let other = session(&mut st, "other", &["q", "a"]);
    let unrelated = st
        .merge(&[p.id, other.id], "unrelated", MergeOrder::Given)
        .unwrap();
    assert_eq!(
        unrelated.message_count, 4,
        "unrelated sessions keep every message"
    );
    assert!(st.merge(&[p.id], "one", MergeOrder::Time).is_err());
    assert!(matches!(
        st.merge(&[p.id, b1.id], "p", MergeOrder::Time),
        Err(Error::NameTaken(_))
    ));
}

#[test]
fn truncate_keeps_the_last_n_renumbered_and_clear_empties() {
    let mut st = store();
    let s = session(&mut st, "s", &["0", "1", "2", "3", "4"]);
    assert_eq!(st.truncate(s.id, 2).unwrap(), 3);
    let msgs = st.all_messages(s.id).unwrap();
    assert_eq!(
        msgs.iter()
            .map(|m| (m.seq, m.content.as_str()))
            .collect::<Vec<_>>(),
        [(0, "3"), (1, "4")]
    );
    assert_eq!(st.truncate(s.id, 10).unwrap(), 0);
    let s2 = st.session_by_id(s.id).unwrap();
    assert_eq!((s2.message_count, s2.char_count), (2, 2));
    st.add_message(s.id, NewMessage::new(Role::User, "5"))
        .unwrap();
    assert_eq!(st.last_messages(s.id, 1).unwrap()[0].seq, 2);
    assert_eq!(st.clear(s.id).unwrap(), 3);
    assert_eq!(st.session_by_id(s.id).unwrap().message_count, 0);
}

#[test]
fn cleanup_plans_then_applies_in_one_go_and_spares_protected_tags() {
    let mut st = store();
    let empty = session(&mut st, "empty", &[]);
    let big = session(&mut st, "big", &["1", "2", "3", "4"]);
    let kept = session(&mut st, "kept", &[]);
    st.update_tags(kept.id, &["keep".into()], &[]).unwrap();
    let protected = vec!["keep".to_string()];
    let crit = CleanupCriteria {
        empty: true,
        ..Default::default()
    };
    let plan = st
        .cleanup_plan(&crit, CleanupAction::Trash, &protected)
        .unwrap();
    assert_eq!(
        plan.sessions
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["empty"]
    );
    assert_eq!(st.apply_cleanup(&plan).unwrap(), 1);
    assert!(st.session_by_id(empty.id).unwrap().trashed);
    assert!(!st.session_by_id(kept.id).unwrap().trashed);
    let crit = CleanupCriteria {
        larger_than: Some(3),
        ..Default::default()
    };
    let plan = st
        .cleanup_plan(&crit, CleanupAction::Archive, &protected)
        .unwrap();
    assert_eq!(plan.message_count(), 4);
    st.apply_cleanup(&plan).unwrap();
    assert!(st.session_by_id(big.id).unwrap().archived);
    // A purge considers trashed sessions too; a tag added after planning still protects.
    let crit = CleanupCriteria {
        without_tag: Some("nothing".into()),
        ..Default::default()
    };
    let plan = st
        .cleanup_plan(&crit, CleanupAction::Purge, &protected)
        .unwrap();
    assert_eq!(plan.sessions.len(), 2);
    st.update_tags(big.id, &["keep".into()], &[]).unwrap();
    assert_eq!(st.apply_cleanup(&plan).unwrap(), 1);
    assert!(st.session_by_id(big.id).is_ok());
    assert!(st.session_by_id(empty.id).is_err());
    assert!(
        st.cleanup_plan(
            &CleanupCriteria::default(),
            CleanupAction::Purge,
            &protected
        )
        .is_err()
    );
}

#[test]
fn cleanup_by_age_tag_and_source() {
    let mut st = store();
    let old = scrollback::SessionDoc {
        name: Some("old".into()),
        source: Some("codex".into()),
        updated_at: Some("2025-01-01T00:00:00Z".parse().unwrap()),
        created_at: Some("2025-01-01T00:00:00Z".parse().unwrap()),
        tags: vec!["t".into()],
        ..Default::default()
    };
    st.import_docs([old], Default::default()).unwrap();
    session(&mut st, "new", &["x"]);
    let cutoff = "2026-01-01T00:00:00Z".parse().unwrap();
    let names = |c: CleanupCriteria| {
        st.cleanup_plan(&c, CleanupAction::Trash, &[])
            .unwrap()
            .sessions
            .into_iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(CleanupCriteria {
            updated_before: Some(cutoff),
            ..Default::default()
        }),
        ["old"]
    );
    assert_eq!(
        names(CleanupCriteria {
            tag: Some("t".into()),
            ..Default::default()
        }),
        ["old"]
    );
    assert_eq!(
        names(CleanupCriteria {
            source: Some("codex".into()),
            ..Default::default()
        }),
        ["old"]
    );
    assert_eq!(
        names(CleanupCriteria {
            source: Some("scrollback".into()),
            ..Default::default()
        }),
        ["new"]
    );
}

#[test]
fn statistics_per_session_and_store() {
    let mut st = store();
    let s = session(&mut st, "s", &["abcd", "ef"]);
    let mut m = NewMessage::new(Role::Assistant, "ghij");
    m.model = Some("o3".into());
    m.tokens = Some(scrollback::Tokens {
        input: 5,
        output: 7,
    });
    st.add_message(s.id, m).unwrap();
    st.update_tags(s.id, &["x".into()], &[]).unwrap();
    let ss = st.session_stats(s.id).unwrap();
    assert_eq!((ss.messages, ss.chars, ss.avg_chars), (3, 10, 3));
    assert_eq!(
        ss.roles
            .iter()
            .map(|r| (r.role, r.messages, r.chars))
            .collect::<Vec<_>>(),
        [(Role::User, 1, 4), (Role::Assistant, 2, 6)]
    );
    assert_eq!(ss.models[0].name, "o3");
    assert_eq!((ss.tokens_in, ss.tokens_out), (5, 7));
    assert!(ss.first_activity <= ss.last_activity);
    session(&mut st, "t", &[]);
    let all = st.store_stats().unwrap();
    assert_eq!(
        (all.sessions, all.live, all.messages, all.chars),
        (2, 2, 3, 10)
    );
    assert_eq!(all.tags[0].name, "x");
    assert_eq!(all.sources[0].count, 2);
    assert_eq!(all.days.iter().map(|d| d.count).sum::<u64>(), 3);
}

#[test]
fn import_grows_existing_sessions_and_renames_on_clash() {
    let mut st = store();
    session(&mut st, "taken", &[]);
    let doc = |n: usize| scrollback::SessionDoc {
        uid: Some(scrollback::Uid("u-1".into())),
        name: Some("taken".into()),
        messages: (0..n)
            .map(|i| scrollback::domain::MessageDoc {
                role: Some(Role::User),
                content: format!("m{i}"),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let r = st.import_docs([doc(2)], Default::default()).unwrap();
    assert_eq!((r.sessions_added, r.messages_added), (1, 2));
    assert_eq!(r.renamed[0].to, "taken-2");
    let r = st.import_docs([doc(2)], Default::default()).unwrap();
    assert_eq!((r.sessions_added, r.sessions_unchanged), (0, 1));
    let r = st.import_docs([doc(5)], Default::default()).unwrap();
    assert_eq!((r.sessions_grown, r.messages_added), (1, 3));
    let s = st.session("u-1").unwrap();
    assert_eq!(contents(&st, &s), ["m0", "m1", "m2", "m3", "m4"]);
    let r = st
        .import_docs(
            [doc(1)],
            scrollback::store::ImportOptions {
                new_id: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.sessions_added, 1);
    assert_eq!(st.list(&ListQuery::default()).unwrap().len(), 3);
}

#[test]
fn a_failed_import_leaves_nothing() {
    let mut st = store();
    let good = scrollback::SessionDoc {
        name: Some("good".into()),
        ..Default::default()
    };
    let bad = scrollback::SessionDoc {
        name: Some("bad".into()),
        messages: vec![scrollback::domain::MessageDoc {
            content: "no role".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert!(st.import_docs([good, bad], Default::default()).is_err());
    assert!(
        st.list(&ListQuery {
            state: StateFilter::All,
            ..Default::default()
        })
        .unwrap()
        .is_empty()
    );
}

#[test]
fn doctor_repairs_derived_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut st = Store::open(&path).unwrap();
    let s = session(&mut st, "s", &["a", "b"]);
    drop(st);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE session SET message_count = 7", [])
        .unwrap();
    c.execute("UPDATE message SET seq = seq + 5", []).unwrap();
    drop(c);
    let mut st = Store::open(&path).unwrap();
    let report = st.doctor().unwrap();
    assert!(report.healthy, "{:?}", report.findings);
    assert!(report.findings.iter().any(|f| f.contains("renumbered")));
    assert!(report.findings.iter().any(|f| f.contains("repaired")));
    assert_eq!(st.session_by_id(s.id).unwrap().message_count, 2);
    assert_eq!(
        st.all_messages(s.id)
            .unwrap()
            .iter()
            .map(|m| m.seq)
            .collect::<Vec<_>>(),
        [0, 1]
    );
}

#[test]
fn characters_are_counted_one_way_even_past_a_nul() {
    let mut st = store();
    let s = session(&mut st, "nul", &["hello\0world", "日本"]);
    let s = st.session_by_id(s.id).unwrap();
    assert_eq!(s.char_count, 11 + 2);
    // Statistics, the doctor and a recount after a change agree.
    assert_eq!(st.session_stats(s.id).unwrap().chars, 13);
    let report = st.doctor().unwrap();
    assert!(report.healthy, "{:?}", report.findings);
    assert_eq!(st.session_by_id(s.id).unwrap().char_count, 13);
    st.truncate(s.id, 2).unwrap();
    assert_eq!(st.session_by_id(s.id).unwrap().char_count, 13);
    st.truncate(s.id, 1).unwrap();
    assert_eq!(st.session_by_id(s.id).unwrap().char_count, 2);
}
