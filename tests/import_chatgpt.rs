//! Importing ChatGPT data exports with the real binary: conversations.json
//! with branches, hidden and weight-0 messages, tools, images and nulls;
//! the split conversations-NNN.json of an unpacked export folder; one
//! conversation alone; the zip (built here) and a zip that is something
//! else; malformed and truncated files.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/chatgpt")
        .join(name)
}

use common::import::{Env, s, skipped, source_ids, t, triples};

/// What conversations.json must give, whichever way it is read.
fn assert_conversations(env: &Env, report: &Value) {
    assert_eq!(report["sessions_added"], 5, "{report}");
    assert_eq!(report["messages_added"], 24, "{report}");
    assert_eq!(
        skipped(report),
        vec![
            s("content part", "neither text nor an object", 2),
            s(
                "content part \"weird_part\"",
                "not a kind of content scrollback knows",
                1
            ),
            s(
                "content type \"sonic_webpage\"",
                "not a kind of content scrollback knows",
                1
            ),
            s("conversation", "no message shown in it", 1),
            s("conversation", "not a JSON object", 1),
            s("mapping node", "no message in it", 1),
            s("message", "empty", 1),
            s("message", "hidden from the conversation in ChatGPT", 2),
            s(
                "message",
                "its author is not user, assistant, system nor tool",
                1
            ),
            s("message", "no content", 1),
            s("message", "weight 0 (not shown in ChatGPT)", 1),
        ]
    );
    assert_eq!(
        env.all(),
        [
            "chatgpt-508ff120",
            "chatgpt-aaaa1111",
            "chatgpt-aaaa1111~2",
            "chatgpt-aaaa1111~3",
            "chatgpt-bbbb2222"
        ]
    );

    // The path to current_node; the empty root system message, the weight-0
    // reply and the hidden memory note are not in it.
    let main = env.show("chatgpt-aaaa1111");
    assert_eq!(main["title"], "Trip to Lisbon");
    assert_eq!(main["source"], "chatgpt");
    assert_eq!(main["source_ref"], "aaaa1111-2222-3333-4444-555566667777");
    assert_eq!(main["created_at"], "2023-11-14T22:13:20.25Z");
    assert_eq!(main["updated_at"], "2023-11-14T22:28:20.5Z");
    assert!(main["parent"].is_null());
    assert_eq!(
        main["metadata"],
        json!({"model": "gpt-4o", "url": "https://chatgpt.com/c/aaaa1111-2222-3333-4444-555566667777"})
    );
    assert_eq!(
        triples(&main),
        vec![
            t("user", "text", "Plan a trip to Lisbon"),
            t("assistant", "text", "Regenerated: four days."),
            t("user", "image", "[image: 1024x768, 122 KB]"),
            t("user", "text", "What is this tram?"),
            t(
                "assistant",
                "thinking",
                "Looking at the tram\n\nYellow, old: likely line 28."
            ),
            t("assistant", "thinking", "Thought for 4 seconds"),
            t("assistant", "text", "That is tram 28."),
        ]
    );
    assert_eq!(
        source_ids(&main),
        ["u1", "a1b", "u2", "u2/1", "a2", "a3", "a4"]
    );
    let m = &main["messages"];
    assert_eq!(m[0]["created_at"], "2023-11-14T22:13:30.5Z");
    assert_eq!(m[1]["model"], "gpt-4o");
    assert_eq!(m[4]["model"], "o3");
    // No model_slug, no time: no model, and a time no earlier than the one before.
    assert!(m[6]["model"].is_null());
    assert_eq!(m[6]["created_at"], m[5]["created_at"]);
    assert_eq!(
        m[2]["metadata"],
        json!({"media_type": "image", "bytes": 125_000, "asset_pointer": "file-service://file-abc"})
    );

    // The first reply, regenerated: a branch that shares the prompt.
    let regen = env.show("chatgpt-aaaa1111~2");
    assert_eq!(
        regen["source_ref"],
        "aaaa1111-2222-3333-4444-555566667777@a1"
    );
    assert_eq!(regen["parent"], main["uid"]);
    assert_eq!(regen["fork_seq"], 0);
    assert_eq!(
        triples(&regen),
        vec![
            t("user", "text", "Plan a trip to Lisbon"),
            t("assistant", "text", "First draft: three days."),
        ]
    );
    // The edited second prompt: a branch after the regenerated reply.
    let edit = env.show("chatgpt-aaaa1111~3");
    assert_eq!(
        edit["source_ref"],
        "aaaa1111-2222-3333-4444-555566667777@u2e"
    );
    assert_eq!(edit["parent"], main["uid"]);
    assert_eq!(edit["fork_seq"], 1);
    assert_eq!(
        triples(&edit)[2..],
        [
            t("user", "text", "Actually, plan Porto instead"),
            t("assistant", "text", "Porto: two days."),
        ]
    );

    // Tools, quotes, errors, context; archived; a null title.
    let tools = env.show("chatgpt-bbbb2222");
    assert_eq!(tools["title"], "Compute 2+2");
    assert_eq!(tools["archived"], true);
    assert_eq!(tools["archived_at"], "2023-11-14T22:15:00Z");
    assert_eq!(
        triples(&tools),
        vec![
            t(
                "system",
                "context",
                "I am a data analyst.\n\nAnswer briefly."
            ),
            t("user", "text", "Compute 2+2\nthen search the weather"),
            t("assistant", "tool_call", "python: print(2+2)"),
            t("tool", "tool_result", "4"),
            t(
                "assistant",
                "tool_call",
                "browser: search(\"lisbon weather\")"
            ),
            t("tool", "tool_result", "Sunny, 24 C"),
            t("tool", "tool_result", "Timeout fetching page 2"),
            t("tool", "image", "[image: 1024x1024, 2.0 MB]"),
            t("assistant", "text", "2+2 is 4; sunny in Lisbon."),
        ]
    );
    let m = &tools["messages"];
    assert_eq!(
        m[2]["metadata"],
        json!({"language": "python", "tool": "python", "call_id": "c1", "input": "print(2+2)"})
    );
    assert_eq!(m[3]["metadata"], json!({"call_id": "c1", "tool": "python"}));
    assert_eq!(m[5]["metadata"]["url"], "https://example.com/w");
    assert_eq!(m[5]["metadata"]["call_id"], "c2");
    assert_eq!(
        m[6]["metadata"],
        json!({"is_error": true, "call_id": "c2", "tool": "browser"})
    );

    // No id, no title, no times, no current node: still imported.
    let nulls = env.show("chatgpt-508ff120");
    assert!(
        nulls["source_ref"]
            .as_str()
            .is_some_and(|r| r.starts_with("h:508ff120")),
        "{nulls}"
    );
    assert_eq!(nulls["title"], "Hello from nowhere");
    assert_eq!(
        triples(&nulls),
        vec![
            t("user", "text", "Hello from nowhere"),
            t("assistant", "text", "Hi.")
        ]
    );
}

#[test]
fn conversations_json_gives_sessions_and_branches() {
    let env = Env::new();
    let (ok, report, err) = env.import(&[], &[&fixture("conversations.json")]);
    assert!(ok, "{err}");
    assert_conversations(&env, &report);

    let (ok, again, err) = env.import(&["--reread"], &[&fixture("conversations.json")]);
    assert!(ok, "{err}");
    assert_eq!(again["sessions_added"], 0);
    assert_eq!(again["messages_added"], 0);
    assert_eq!(again["sessions_unchanged"], 5);
}

fn zip(path: &Path, entries: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).expect("create");
    let mut z = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        z.start_file(*name, options).expect("entry");
        z.write_all(data).expect("write");
    }
    z.finish().expect("finish");
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

#[test]
fn the_export_zip_is_read_in_place() {
    let env = Env::new();
    let folder = env.path("mail");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let export = folder.join("export.zip");
    zip(
        &export,
        &[
            ("user.json", b"{\"id\": \"user-1\"}"),
            ("conversations.json", &read("conversations.json")),
            ("chat.html", b"<html></html>"),
            ("file-abc.png", b"\x89PNG"),
        ],
    );
    let (ok, report, err) = env.import(&[], &[&export]);
    assert!(ok, "{err}");
    assert_conversations(&env, &report);
    // Nothing was extracted beside it.
    let beside: Vec<String> = std::fs::read_dir(&folder)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["export.zip"]);
}

#[test]
fn a_split_export_zip_and_folder_read_only_their_conversation_files() {
    let env = Env::new();
    let split = env.path("split.zip");
    zip(
        &split,
        &[
            (
                "conversations-001.json",
                &read("split-export/conversations-001.json"),
            ),
            (
                "conversations-000.json",
                &read("split-export/conversations-000.json"),
            ),
            ("user.json", &read("split-export/user.json")),
        ],
    );
    let (ok, report, err) = env.import(&[], &[&split]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 2, "{report}");

    let env = Env::new();
    let folder = fixture("split-export");
    let (ok, report, err) = env.import(&[], &[&folder]);
    assert!(ok, "{err}");
    assert_eq!(report["files"], 2, "{report}");
    assert_eq!(report["sessions_added"], 2, "{report}");
    assert_eq!(
        report["skipped_files"],
        json!([{
            "path": folder.display().to_string(),
            "reason": "a ChatGPT export: only its conversations*.json files are read (4 other entries left out)"
        }])
    );
    assert!(report.get("failed").is_none(), "{report}");
    assert_eq!(env.all(), ["chatgpt-dddd4444", "chatgpt-eeee5555"]);
    let one = env.show("chatgpt-dddd4444");
    assert_eq!(one["title"], "Split one");
    assert_eq!(one["metadata"]["model"], "gpt-4o");
    assert_eq!(
        triples(&one),
        vec![
            t("user", "text", "First file prompt"),
            t("assistant", "text", "First file reply"),
        ]
    );
    assert_eq!(one["messages"][1]["model"], "gpt-4o-mini");
}

#[test]
fn one_conversation_alone_is_a_session() {
    let env = Env::new();
    let (ok, report, err) = env.import(&[], &[&fixture("one-conversation.json")]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 1, "{report}");
    let s = env.show("chatgpt-ffff6666");
    assert_eq!(s["title"], "Just one");
    assert_eq!(
        triples(&s),
        vec![
            t("user", "text", "Only prompt"),
            t("assistant", "text", "Only reply")
        ]
    );
    assert_eq!(s["messages"][1]["model"], "gpt-4");
}

#[test]
fn folders_take_export_zips_and_leave_other_zips() {
    let env = Env::new();
    let folder = env.path("downloads");
    std::fs::create_dir_all(&folder).expect("mkdir");
    zip(
        &folder.join("chatgpt-export.zip"),
        &[("conversations.json", &read("one-conversation.json"))],
    );
    zip(&folder.join("photos.zip"), &[("a.txt", b"hello")]);
    std::fs::write(folder.join("notes.txt"), "not a session").expect("write");
    let (ok, report, err) = env.import(&[], &[&folder]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 1, "{report}");
    assert_eq!(
        report["skipped_files"],
        json!([{
            "path": folder.join("photos.zip").display().to_string(),
            "reason": "a zip that is not a ChatGPT export (no conversations*.json in it)"
        }])
    );
}

#[test]
fn folders_with_no_sessions_are_refused_or_import_nothing() {
    let env = Env::new();
    let empty = env.path("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let (ok, _, err) = env.import(&[], &[&empty]);
    assert!(!ok, "a folder with no session files is an error");
    assert!(
        err.contains("empty") && err.contains("no session files in it"),
        "{err}"
    );
    assert!(env.all().is_empty());

    // An export of an account with no conversations: user.json is not read.
    let export = env.path("export");
    std::fs::create_dir_all(&export).expect("mkdir");
    std::fs::write(export.join("conversations.json"), "[]\n").expect("write");
    std::fs::write(export.join("user.json"), "{\"id\": \"user-1\"}\n").expect("write");
    std::fs::write(export.join("chat.html"), "<html></html>\n").expect("write");
    let (ok, report, err) = env.import(&[], &[&export]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 0, "{report}");
    assert!(report.get("failed").is_none(), "{report}");
    assert!(env.all().is_empty());
}

#[test]
fn bad_files_fail_naming_the_place_and_change_nothing() {
    let env = Env::new();
    let (ok, _, err) = env.import(&[], &[&fixture("one-conversation.json")]);
    assert!(ok, "{err}");
    let before = env.all();

    let malformed = fixture("malformed.json");
    let (ok, _, err) = env.import(&[], &[&malformed]);
    assert!(!ok);
    assert!(err.contains(&malformed.display().to_string()), "{err}");
    assert!(err.contains("line 4, column 3"), "{err}");

    let truncated = fixture("truncated.json");
    let (ok, _, err) = env.import(&[], &[&truncated]);
    assert!(!ok);
    assert!(err.contains(&truncated.display().to_string()), "{err}");
    assert!(err.contains("line 86"), "{err}");
    assert!(err.contains("after 1 complete conversations"), "{err}");

    // Inside a zip, the error names the entry.
    let broken = env.path("broken.zip");
    zip(&broken, &[("conversations.json", &read("malformed.json"))]);
    let (ok, _, err) = env.import(&[], &[&broken]);
    assert!(!ok);
    assert!(
        err.contains(&broken.join("conversations.json").display().to_string()),
        "{err}"
    );
    assert!(err.contains("line 4, column 3"), "{err}");

    // A zip of something else.
    let other = env.path("other.zip");
    zip(&other, &[("readme.txt", b"hi"), ("data/user.json", b"{}")]);
    let (ok, _, err) = env.import(&[], &[&other]);
    assert!(!ok);
    assert!(err.contains(&other.display().to_string()), "{err}");
    assert!(
        err.contains("not a ChatGPT data export (it holds: readme.txt, data/user.json)"),
        "{err}"
    );

    assert_eq!(env.all(), before);

    // --partial keeps the complete conversation before the cut (already there).
    let (ok, report, err) = env.import(&["--partial"], &[&truncated]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_unchanged"], 1, "{report}");
    assert_eq!(env.all(), before);
}

#[test]
fn a_conversation_that_grew_adds_only_its_new_messages() {
    let env = Env::new();
    let path = env.path("conversations.json");
    std::fs::copy(fixture("one-conversation.json"), &path).expect("copy");
    let (ok, _, err) = env.import(&[], &[&path]);
    assert!(ok, "{err}");

    let mut c: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let mapping = c["mapping"].as_object_mut().expect("mapping");
    mapping["q"]["children"] = json!(["p2"]);
    mapping.insert(
        "p2".into(),
        json!({"id": "p2", "parent": "q", "children": [], "message": {
            "id": "p2", "author": {"role": "user"}, "create_time": 1_700_000_500.0,
            "content": {"content_type": "text", "parts": ["One more question"]},
            "weight": 1.0, "metadata": {}, "recipient": "all"}}),
    );
    c["current_node"] = json!("p2");
    std::fs::write(&path, serde_json::to_vec(&c).expect("json")).expect("write");
    let (ok, report, err) = env.import(&[], &[&path]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_grown"], 1, "{report}");
    assert_eq!(report["messages_added"], 1, "{report}");
    let s = env.show("chatgpt-ffff6666");
    assert_eq!(source_ids(&s), ["p", "q", "p2"]);
}
