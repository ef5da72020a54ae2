//! Properties of branch, merge and the export/import round trip, over
//! generated sessions.
#![allow(
    clippy::unwrap_used,
    clippy::default_trait_access,
    clippy::too_many_lines
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use scrollback::domain::{Kind, MessageDoc, SessionDoc};
use scrollback::export::{ExportFormat, export};
use scrollback::jobs::JobControl;
use scrollback::{MergeOrder, NewMessage, NewSession, Role, Store, Tokens, Uid};
use serde_json::{Value, json};

const BASE_MS: i64 = 1_767_225_600_000; // 2026-01-01

fn role(i: u8) -> Role {
    Role::ALL[usize::from(i % 4)]
}

fn message(label: String, role_i: u8, at_ms: i64) -> NewMessage {
    let mut m = NewMessage::new(role(role_i), label);
    m.created_at = Some(jiff::Timestamp::from_millisecond(BASE_MS + at_ms).unwrap());
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A branch at k holds exactly the parent's messages 0..=k.
    #[test]
    fn branch_is_the_parents_prefix(
        msgs in prop::collection::vec(("[a-z \n]{0,20}", 0u8..4, 0i64..1_000_000), 1..30),
        k_frac in 0.0f64..1.0,
    ) {
        let mut st = Store::open_in_memory().unwrap();
        let p = st.create_session(&NewSession::named("p")).unwrap();
        let news: Vec<_> = msgs.iter().map(|(t, r, at)| message(t.clone(), *r, *at)).collect();
        st.add_messages(p.id, &news).unwrap();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let k = ((msgs.len() - 1) as f64 * k_frac) as u64;
        let b = st.branch(p.id, "b", Some(k)).unwrap();
        let parent = st.all_messages(p.id).unwrap();
        let branch = st.all_messages(b.id).unwrap();
        prop_assert_eq!(&branch[..], &parent[..=usize::try_from(k).unwrap()]);
        prop_assert_eq!(b.fork_seq, Some(k));
        prop_assert_eq!(b.parent, Some(p.uid));
    }

    /// Merging a parent, its branches and an unrelated session keeps every
    /// message once (shared prefixes once), and time order never goes back.
    #[test]
    fn merge_keeps_every_message_once(
        parent_len in 1usize..12,
        branches in prop::collection::vec((0.0f64..1.0, prop::collection::vec(0i64..2_000_000, 0..6)), 1..4),
        other in prop::collection::vec(0i64..2_000_000, 0..6),
        include_parent in any::<bool>(),
        reverse in any::<bool>(),
        by_time in any::<bool>(),
    ) {
        let mut st = Store::open_in_memory().unwrap();
        let p = st.create_session(&NewSession::named("p")).unwrap();
        let news: Vec<_> = (0..parent_len).map(|i| message(format!("p{i}"), 0, i64::try_from(i).unwrap() * 1000)).collect();
        st.add_messages(p.id, &news).unwrap();
        let mut inputs = Vec::new();
        if include_parent {
            inputs.push(p.id);
        }
        for (bi, (frac, extra)) in branches.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let k = ((parent_len - 1) as f64 * frac) as u64;
            let b = st.branch(p.id, &format!("b{bi}"), Some(k)).unwrap();
            let news: Vec<_> = extra.iter().enumerate().map(|(j, at)| message(format!("b{bi}-{j}"), 1, *at)).collect();
            st.add_messages(b.id, &news).unwrap();
            inputs.push(b.id);
        }
        let o = st.create_session(&NewSession::named("other")).unwrap();
        let news: Vec<_> = other.iter().enumerate().map(|(j, at)| message(format!("o{j}"), 2, *at)).collect();
        st.add_messages(o.id, &news).unwrap();
        inputs.push(o.id);
        if reverse {
            inputs.reverse();
        }
        let order = if by_time { MergeOrder::Time } else { MergeOrder::Given };
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for id in &inputs {
            for m in st.all_messages(*id).unwrap() {
                expected.insert(m.content, 1);
            }
        }
        let merged = st.merge(&inputs, "merged", order).unwrap();
        let got = st.all_messages(merged.id).unwrap();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for m in &got {
            *seen.entry(m.content.clone()).or_default() += 1;
        }
        prop_assert_eq!(seen, expected);
        prop_assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (0..got.len() as u64).collect::<Vec<_>>());
        if by_time {
            prop_assert!(got.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        }
    }

    /// Export then import into a new store then export again gives the same
    /// bytes, in JSON and in JSONL; and the sessions are equal field by field.
    #[test]
    fn export_import_round_trip(docs in prop::collection::vec(session_doc(), 1..5), jsonl in any::<bool>()) {
        let mut a = Store::open_in_memory().unwrap();
        a.import_docs(docs, Default::default()).unwrap();
        let fmt = if jsonl { ExportFormat::Jsonl } else { ExportFormat::Json };
        let first = export_all(&a, fmt);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(if jsonl { "x.jsonl" } else { "x.json" });
        std::fs::write(&file, &first).unwrap();
        let mut b = Store::open_in_memory().unwrap();
        let report = scrollback::import::import_paths(&mut b, &scrollback::import::ImportRequest {
            paths: &[file],
            format: None,
            options: Default::default(),
            partial: false,
            found: false,
            progress: &|_, _| {},
            control: &JobControl::new(),
        }).unwrap();
        prop_assert_eq!(report.renamed.len(), 0);
        let second = export_all(&b, fmt);
        prop_assert_eq!(String::from_utf8(first).unwrap(), String::from_utf8(second).unwrap());
        for s in all(&a) {
            let mut t = b.session(&s.uid.0).unwrap();
            t.id = s.id;
            prop_assert_eq!(&t, &s);
        }
    }
}

fn all(st: &Store) -> Vec<scrollback::Session> {
    st.list(&scrollback::ListQuery {
        state: scrollback::StateFilter::All,
        sort: scrollback::Sort::Name,
        ..Default::default()
    })
    .unwrap()
}

fn export_all(st: &Store, fmt: ExportFormat) -> Vec<u8> {
    let ids: Vec<_> = all(st).into_iter().map(|s| s.id).collect();
    let mut out = Vec::new();
    export(st, &ids, fmt, &mut out, &|_, _| {}, &JobControl::new()).unwrap();
    out
}

fn ts() -> impl Strategy<Value = jiff::Timestamp> {
    (0i64..200_000_000_000).prop_map(|ms| jiff::Timestamp::from_millisecond(BASE_MS + ms).unwrap())
}

fn message_doc() -> impl Strategy<Value = MessageDoc> {
    (
        0u8..4,
        "(?s).{0,40}",
        ts(),
        prop::option::of("[a-z0-9.-]{1,12}"),
        prop::option::of((0u64..100_000, 0u64..100_000)),
        prop::option::of("[a-z]{1,6}"),
        prop::option::of("[A-Za-z0-9-]{1,10}"),
        0usize..Kind::ALL.len(),
    )
        .prop_map(
            |(r, content, at, model, tokens, meta, source_id, kind)| MessageDoc {
                seq: None,
                role: Some(role(r)),
                kind: Kind::ALL[kind],
                content,
                created_at: Some(at),
                model,
                tokens: tokens.map(|(input, output)| Tokens { input, output }),
                metadata: meta
                    .map(|m| json!({ "k": m, "n": 1.5 }).as_object().unwrap().clone())
                    .unwrap_or_default(),
                source_id,
                stash: None,
            },
        )
}

prop_compose! {
    fn session_doc()(
        uid in "[0-9a-f]{8}-[0-9a-f]{4}",
        name in "[A-Za-z][A-Za-z0-9 _.é中-]{0,30}",
        title in "(?s).{0,30}",
        created in ts(),
        updated in ts(),
        archived in prop::option::of(ts()),
        trashed in prop::option::of(ts()),
        tags in prop::collection::btree_set("[a-z][a-z0-9/_.-]{0,10}", 0..4),
        meta in prop::collection::btree_map("[a-z]{1,8}", prop_oneof![
            "[ -~]{0,10}".prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ], 0..4),
        source in prop_oneof![Just("scrollback".to_string()), Just("codex".to_string())],
        source_ref in prop::option::of("[a-z0-9]{6}"),
        parent in prop::option::of("[0-9a-f]{12}"),
        fork_seq in prop::option::of(0u64..50),
        messages in prop::collection::vec(message_doc(), 0..8),
    ) -> SessionDoc {
        SessionDoc {
            uid: Some(Uid(uid.clone())),
            // Names are unique in a store: make them so by the uid.
            name: Some(format!("{name}-{uid}")),
            title,
            created_at: Some(created),
            updated_at: Some(updated),
            archived_at: archived,
            trashed_at: trashed,
            tags: tags.into_iter().collect(),
            metadata: meta.into_iter().collect(),
            source: Some(source),
            source_ref: source_ref.map(|r| format!("{r}-{uid}")),
            parent: parent.map(Uid),
            fork_seq,
            messages,
        }
    }
}
