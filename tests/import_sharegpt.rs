//! ShareGPT through the real binary: records without ids known by their
//! content (importing twice adds nothing), repeated ids with other content
//! kept apart, tool calls and their results as such, unknown and empty
//! turns counted, a file cut short.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/sharegpt")
        .join(name)
}

fn run(dir: &TempDir, args: &[&str]) -> std::process::Output {
    common::scrollback_on(dir.path(), &dir.path().join("s.db"))
        .args(args)
        .output()
        .unwrap()
}

fn json(dir: &TempDir, args: &[&str]) -> Value {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn import(dir: &TempDir, path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["import", "--json"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    json(dir, &args)
}

fn sessions(dir: &TempDir) -> Vec<Value> {
    let mut all = json(dir, &["list", "--json", "--all"])
        .as_array()
        .unwrap()
        .clone();
    all.sort_by(|a, b| a["source_ref"].as_str().cmp(&b["source_ref"].as_str()));
    all
}

fn turns(dir: &TempDir, name: &str) -> Vec<(String, String, String)> {
    json(dir, &["show", name, "--json"])["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["kind"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn t(role: &str, kind: &str, content: &str) -> (String, String, String) {
    (role.into(), kind.into(), content.into())
}

#[test]
fn records_without_ids_are_known_by_their_content() {
    let dir = TempDir::new().unwrap();
    let r = import(&dir, &fixture("no-ids.json"), &[]);
    // The third record repeats the first word for word: the same conversation.
    assert_eq!(r["sessions_added"], 2, "{r}");
    assert_eq!(r["sessions_unchanged"], 1, "{r}");
    let all = sessions(&dir);
    assert_eq!(all.len(), 2);
    for s in &all {
        let reference = s["source_ref"].as_str().unwrap();
        assert!(
            reference.starts_with("h:") && reference.len() == 34,
            "{reference}"
        );
        assert_eq!(s["source"], "sharegpt");
    }
    // Twice, and read again on purpose: nothing added.
    let again = import(&dir, &fixture("no-ids.json"), &["--reread"]);
    assert_eq!(
        (
            again["sessions_added"].as_u64(),
            again["messages_added"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(again["sessions_unchanged"], 3, "{again}");
    // The same records in a copy of the file elsewhere: the same sessions.
    let copy = dir.path().join("copy.json");
    std::fs::copy(fixture("no-ids.json"), &copy).unwrap();
    let third = import(&dir, &copy, &[]);
    assert_eq!(third["sessions_added"], 0, "{third}");
    assert_eq!(sessions(&dir).len(), 2);
}

#[test]
fn tool_turns_repeated_ids_and_odd_turns() {
    let dir = TempDir::new().unwrap();
    let r = import(&dir, &fixture("tools.jsonl"), &[]);
    assert_eq!(r["sessions_added"], 3, "{r}");
    assert_eq!(
        r["sessions_unchanged"], 1,
        "the fourth record repeats the first: {r}"
    );
    let all = sessions(&dir);
    let refs: Vec<&str> = all
        .iter()
        .map(|s| s["source_ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs[0], "t1");
    assert!(
        refs[1].starts_with("t1#") && refs[1].len() == 15,
        "{refs:?}"
    );
    assert_eq!(refs[2], "t2");

    let name = all[0]["name"].as_str().unwrap();
    assert_eq!(
        turns(&dir, name),
        [
            t("system", "text", "You can call get_weather."),
            t("user", "text", "Weather in Oslo?"),
            t("assistant", "tool_call", "get_weather: {\"city\":\"Oslo\"}"),
            t("tool", "tool_result", "{\"temp\": -3}"),
            t("assistant", "text", "It is -3 degrees in Oslo."),
        ]
    );
    let shown = json(&dir, &["show", name, "--json"]);
    assert_eq!(shown["messages"][2]["metadata"]["tool"], "get_weather");
    assert_eq!(
        shown["messages"][2]["metadata"]["input"]["arguments"]["city"],
        "Oslo"
    );
    assert_eq!(all[0]["title"], "Weather in Oslo?");

    let other = all[1]["name"].as_str().unwrap();
    assert_eq!(
        turns(&dir, other),
        [
            t("user", "text", "Same id, other words"),
            t("assistant", "text", "Both are kept.")
        ]
    );
    // Unknown speakers, a turn without a speaker and an empty one: counted.
    let t2 = all[2]["name"].as_str().unwrap();
    assert_eq!(
        turns(&dir, t2),
        [t("user", "text", "Hi"), t("assistant", "text", "Hello!")]
    );
    let skipped = r["skipped_items"].as_array().unwrap();
    let count = |what: &str| {
        skipped
            .iter()
            .filter(|s| s["what"].as_str().unwrap().contains(what))
            .map(|s| s["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(count("narrator"), 1, "{skipped:?}");
    assert_eq!(count("turn"), 3, "{skipped:?}");
    assert_eq!(r["skipped"], 3);
}

#[test]
fn a_cut_file_says_where_and_partial_takes_the_complete_records() {
    let dir = TempDir::new().unwrap();
    let out = run(
        &dir,
        &["import", fixture("truncated.json").to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truncated.json") && err.contains("line 3"),
        "{err}"
    );
    assert!(
        err.contains('1'),
        "says how many complete conversations precede the cut: {err}"
    );
    assert!(sessions(&dir).is_empty(), "nothing half-imported");
    let r = import(&dir, &fixture("truncated.json"), &["--partial"]);
    assert_eq!(r["sessions_added"], 1, "{r}");
    assert_eq!(sessions(&dir)[0]["source_ref"], "a");
}
