//! How an import matches what it reads against what the store has, for
//! sessions whose messages carry the source tool's ids: a log that grew, a
//! conversation rewound and taken elsewhere since the last import, a branch
//! its parent already holds. Checked through the store's own reads.
#![allow(clippy::unwrap_used)]

use scrollback::domain::{ListQuery, MessageDoc, SessionDoc, StateFilter};
use scrollback::import::ids::uid_for;
use scrollback::store::ImportOptions;
use scrollback::{Role, Session, Store};

fn doc(source_ref: &str, ids: &[&str]) -> SessionDoc {
    SessionDoc {
        uid: Some(uid_for("tool", source_ref)),
        name: Some("conv".into()),
        source: Some("tool".into()),
        source_ref: Some(source_ref.into()),
        messages: ids
            .iter()
            .map(|id| MessageDoc {
                role: Some(Role::User),
                content: format!("text of {id}"),
                source_id: Some((*id).into()),
                ..MessageDoc::default()
            })
            .collect(),
        ..SessionDoc::default()
    }
}

fn import(store: &mut Store, docs: Vec<SessionDoc>) -> scrollback::store::ImportReport {
    store.import_docs(docs, ImportOptions::default()).unwrap()
}

fn sessions(store: &Store) -> Vec<Session> {
    let mut all = store
        .list(&ListQuery {
            state: StateFilter::All,
            ..ListQuery::default()
        })
        .unwrap();
    all.sort_by_key(|s| s.id);
    all
}

fn ids(store: &Store, s: &Session) -> Vec<String> {
    store
        .all_messages(s.id)
        .unwrap()
        .into_iter()
        .map(|m| m.source_id.unwrap())
        .collect()
}

#[test]
fn a_grown_log_adds_only_its_new_messages() {
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, vec![doc("S", &["a", "b"])]);
    let r = import(&mut store, vec![doc("S", &["a", "b", "c"])]);
    assert_eq!((r.sessions_grown, r.messages_added), (1, 1));
    let r = import(&mut store, vec![doc("S", &["a", "b", "c"])]);
    assert_eq!((r.sessions_unchanged, r.messages_added), (1, 0));
    let all = sessions(&store);
    assert_eq!(all.len(), 1);
    assert_eq!(ids(&store, &all[0]), ["a", "b", "c"]);
}

#[test]
fn a_rewound_conversation_keeps_what_was_stored_and_branches() {
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, vec![doc("S", &["a", "b", "c"])]);
    // Since then the conversation was rewound to b and went on with d, e:
    // the file's main path is now a b d e, and a b c is a branch of it.
    let mut old = doc("S@c", &["a", "b", "c"]);
    old.parent = Some(uid_for("tool", "S"));
    old.fork_seq = Some(1);
    let r = import(
        &mut store,
        vec![doc("S", &["a", "b", "d", "e"]), old.clone()],
    );
    assert_eq!(r.sessions_added, 1, "{r:?}");
    assert_eq!(r.branches_added, 1);
    let all = sessions(&store);
    assert_eq!(all.len(), 2);
    assert_eq!(ids(&store, &all[0]), ["a", "b", "c"]);
    assert_eq!(ids(&store, &all[1]), ["a", "b", "d", "e"]);
    assert_eq!(all[1].parent.as_ref(), Some(&all[0].uid));
    assert_eq!(all[1].fork_seq, Some(1));
    assert_eq!(all[1].source_ref.as_deref(), Some("S@d"));

    // The same again adds nothing; the new path growing grows the branch.
    let r = import(
        &mut store,
        vec![doc("S", &["a", "b", "d", "e"]), old.clone()],
    );
    assert_eq!((r.sessions_added, r.messages_added), (0, 0), "{r:?}");
    let r = import(&mut store, vec![doc("S", &["a", "b", "d", "e", "f"]), old]);
    assert_eq!(
        (r.sessions_added, r.sessions_grown, r.messages_added),
        (0, 1, 1)
    );
    let all = sessions(&store);
    assert_eq!(all.len(), 2);
    assert_eq!(ids(&store, &all[1]), ["a", "b", "d", "e", "f"]);
}

#[test]
fn a_branch_its_parent_holds_is_not_stored_twice() {
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, vec![doc("S", &["a", "b", "c"])]);
    let mut branch = doc("S@b", &["a", "b", "c", "x"]);
    branch.parent = Some(uid_for("tool", "S"));
    branch.fork_seq = Some(0);
    let r = import(&mut store, vec![branch]);
    assert_eq!(
        (r.sessions_added, r.sessions_grown, r.messages_added),
        (0, 1, 1)
    );
    let all = sessions(&store);
    assert_eq!(all.len(), 1);
    assert_eq!(ids(&store, &all[0]), ["a", "b", "c", "x"]);
}

#[test]
fn messages_without_ids_grow_by_position() {
    let mut store = Store::open_in_memory().unwrap();
    let mut d = doc("S", &["a", "b"]);
    for m in &mut d.messages {
        m.source_id = None;
    }
    import(&mut store, vec![d.clone()]);
    let r = import(&mut store, vec![d.clone()]);
    assert_eq!((r.sessions_unchanged, r.messages_added), (1, 0));
    d.messages.push(d.messages[0].clone());
    let r = import(&mut store, vec![d]);
    assert_eq!((r.sessions_grown, r.messages_added), (1, 1));
}

#[test]
fn a_beginning_of_what_is_stored_changes_nothing_and_a_shorter_other_path_branches() {
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, vec![doc("S", &["a", "b", "c", "d"])]);
    let r = import(&mut store, vec![doc("S", &["a", "b"])]);
    assert_eq!((r.sessions_unchanged, r.messages_added), (1, 0), "{r:?}");
    let r = import(&mut store, vec![doc("S", &["a", "x"])]);
    assert_eq!((r.sessions_added, r.messages_added), (1, 2), "{r:?}");
    let all = sessions(&store);
    assert_eq!(ids(&store, &all[0]), ["a", "b", "c", "d"]);
    assert_eq!(ids(&store, &all[1]), ["a", "x"]);
    assert_eq!(all[1].fork_seq, Some(0));
}
