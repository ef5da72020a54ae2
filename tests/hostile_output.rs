//! Whatever a session's fields hold, nothing a person reads from the
//! command line carries a control character: arbitrary strings (escape
//! sequences, C0 and C1 controls, DEL, bidi controls, carriage returns) go
//! into every field an import file can set, and every human-readable
//! output and error is checked. `--json` stays faithful.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use serde_json::json;

fn sb(dir: &Path) -> Command {
    common::scrollback_on(dir, &dir.join("s.db"))
}

/// What a terminal would act on: C0 but newline and tab, DEL, C1, bidi.
fn dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|e| panic!("{what}: not UTF-8 ({e}): {bytes:?}"));
    if let Some(c) = text.chars().find(|c| dangerous(*c)) {
        panic!("{what}: {c:?} reached the terminal in:\n{text:?}");
    }
}

/// Pieces hostile strings are made of.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{1b}]0;title\u{7}".to_string()),
        Just("\u{1b}]52;c;aGk=\u{7}".to_string()),
        Just("\u{1b}[2J\u{1b}[H".to_string()),
        Just("\u{9b}31m".to_string()),
        Just("\u{202E}rtl".to_string()),
        Just("\r".to_string()),
        Just("\u{7f}".to_string()),
        Just("\u{85}".to_string()),
        Just("日本語".to_string()),
        "[a-z ]{0,6}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 1..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn no_control_character_reaches_the_terminal(
        title in hostile(),
        source in hostile(),
        source_ref in hostile(),
        parent in hostile(),
        key in hostile(),
        value in hostile(),
        content in hostile(),
        model in hostile(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let doc = json!([{
            "name": "hostile",
            "title": title,
            "tags": ["work"],
            "metadata": {key.clone(): value, "plain": key},
            "source": source,
            "source_ref": source_ref,
            "parent": parent,
            "messages": [
                {"role": "user", "content": format!("findme {content}"), "model": model},
                {"role": "assistant", "content": content, "metadata": {"k": "v"}},
            ],
        }]);
        let file = d.join("in.json");
        std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
        let mut runs: Vec<(&str, Vec<&str>)> = vec![
            ("import", vec!["import", file.to_str().unwrap()]),
            ("list", vec!["list"]),
            ("show", vec!["show", "hostile"]),
            ("stats", vec!["stats"]),
            ("stats NAME", vec!["stats", "hostile"]),
            ("search", vec!["search", "findme"]),
            ("meta", vec!["meta", "hostile", "extra=1"]),
            ("cleanup", vec!["cleanup", "--tag", "work", "--archive", "--dry-run"]),
            ("doctor", vec!["doctor"]),
        ];
        // Errors that quote the input: a session that is not one.
        let bad = d.join("bad.json");
        std::fs::write(&bad, format!("[{{\"name\": \"a\", \"messages\": [{{\"role\": {}}}]}}]",
            serde_json::to_string(&title).unwrap())).unwrap();
        runs.push(("import error", vec!["import", bad.to_str().unwrap()]));
        runs.push(("show error", vec!["show", "no-such-session"]));
        for (what, args) in runs {
            let out = sb(d).args(&args).output().unwrap();
            assert_clean(&format!("{what} stdout"), &out.stdout);
            assert_clean(&format!("{what} stderr"), &out.stderr);
        }
        // Data stays faithful: --json keeps the content as it was.
        let out = sb(d).args(["show", "hostile", "--json"]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        prop_assert_eq!(v["messages"][1]["content"].as_str(), Some(doc[0]["messages"][1]["content"].as_str().unwrap()));
        prop_assert_eq!(v["title"].as_str(), doc[0]["title"].as_str());
    }
}

#[test]
fn an_import_error_quoting_invalid_utf8_stays_clean() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("bytes.jsonl");
    std::fs::write(
        &file,
        b"{\"name\": \"x\x1b]0;t\x07\xff\xfe\", \"messages\": []}\n",
    )
    .unwrap();
    let named = d.join("evil\u{1b}]0;title\u{7}.json");
    std::fs::write(&named, b"{").unwrap();
    for f in [&file, &named] {
        let out = sb(d).arg("import").arg(f).output().unwrap();
        assert!(!out.status.success());
        assert_clean("stderr", &out.stderr);
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn markdown_exported_to_a_pipe_is_faithful() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let doc = json!([{"name": "x", "messages": [{"role": "user", "content": "a\u{1b}[31mb"}]}]);
    let file = d.join("in.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    assert!(
        sb(d)
            .arg("import")
            .arg(&file)
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = sb(d)
        .args(["export", "x", "--format", "md"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("a\u{1b}[31mb")
    );
}
