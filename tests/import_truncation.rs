//! Any import fixture cut at any byte: the import never panics, and never
//! half-imports. Cut files are either refused with the store exactly as it
//! was, or read whole as what they still hold (a cut at a line's end leaves
//! a valid shorter file), and `--partial` takes only complete records.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use scrollback::domain::StateFilter;
use scrollback::import::{ImportRequest, import_paths};
use scrollback::jobs::JobControl;
use scrollback::store::ImportOptions;
use scrollback::{ListQuery, Store};

/// Every file under tests/fixtures/import, in path order.
fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Sessions and messages in the store, and whether each session's count
/// matches the messages it holds.
fn census(store: &Store) -> (usize, u64, bool) {
    let all = store
        .list(&ListQuery {
            state: StateFilter::All,
            ..ListQuery::default()
        })
        .unwrap();
    let mut messages = 0;
    let mut consistent = true;
    for s in &all {
        let held = store.all_messages(s.id).unwrap();
        consistent &= held.len() as u64 == s.message_count;
        consistent &= held.iter().enumerate().all(|(i, m)| m.seq == i as u64);
        messages += s.message_count;
    }
    (all.len(), messages, consistent)
}

fn import(store: &mut Store, path: &Path, partial: bool) -> scrollback::Result<()> {
    import_paths(
        store,
        &ImportRequest {
            paths: &[path.to_path_buf()],
            format: None,
            options: ImportOptions::default(),
            partial,
            found: false,
            progress: &|_, _| {},
            control: &JobControl::new(),
        },
    )
    .map(|_| ())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_cut_fixture_is_refused_whole_or_read_whole(pick in any::<prop::sample::Index>(),
                                                   cut in 0.0f64..1.0, partial in any::<bool>()) {
        let all = fixtures();
        prop_assume!(!all.is_empty());
        let source = pick.get(&all);
        let bytes = std::fs::read(source).unwrap();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let at = ((bytes.len() as f64) * cut) as usize;
        let dir = tempfile::tempdir().unwrap();
        // Keep the name: detection may look at the extension.
        let file = dir.path().join(source.file_name().unwrap());
        std::fs::write(&file, &bytes[..at]).unwrap();
        let mut store = Store::open(dir.path().join("s.db")).unwrap();
        let outcome = import(&mut store, &file, partial);
        let (sessions, messages, consistent) = census(&store);
        prop_assert!(consistent, "{}: counts disagree with messages", source.display());
        if outcome.is_err() {
            prop_assert_eq!((sessions, messages), (0, 0),
                "{} cut at {}: refused, yet something was imported", source.display(), at);
        }
        // And importing the whole file afterwards gives what the whole file gives.
        let whole = dir.path().join("whole").join(source.file_name().unwrap());
        std::fs::create_dir_all(whole.parent().unwrap()).unwrap();
        std::fs::write(&whole, &bytes).unwrap();
        let mut fresh = Store::open(dir.path().join("fresh.db")).unwrap();
        if import(&mut fresh, &whole, false).is_ok() {
            let expected = census(&fresh);
            let _ = import(&mut store, &whole, false);
            let after = census(&store);
            prop_assert!(after.2);
            prop_assert!(after.0 >= expected.0,
                "{}: the whole file after a cut one brings at least its sessions", source.display());
            // Nothing doubled: at most what the cut file brought beside the whole one's.
            prop_assert!(after.1 <= expected.1 + messages,
                "{}: {} messages after the cut file ({}) and the whole one ({})",
                source.display(), after.1, messages, expected.1);
        }
    }
}
