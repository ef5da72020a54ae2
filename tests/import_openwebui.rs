//! Importing Open WebUI exports with the real binary: chat rows with a
//! history tree (regenerations, edits, several models side by side), tags,
//! pins, folders and archives; a chat kept as JSON text; a bare chat; a chat
//! with only its message list; nulls, empty chats and unknown roles;
//! malformed and truncated files.

mod common;

use std::path::{Path, PathBuf};

use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/open-webui")
        .join(name)
}

use common::import::{Env, s, skipped, source_ids, t, triples};

#[test]
fn an_export_gives_sessions_branches_tags_and_archives() {
    let env = Env::new();
    let export = fixture("export.json");
    let (ok, report, err) = env.import(&[], &[&export]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 7, "{report}");
    assert_eq!(report["messages_added"], 25, "{report}");
    assert_eq!(
        skipped(&report),
        vec![
            s("chat", "its \"chat\" is not an object", 1),
            s("chat", "no message in it", 1),
            s("chat", "not a JSON object", 1),
            s("message", "empty", 1),
            s(
                "message",
                "its role is not user, assistant, system nor tool",
                1
            ),
        ]
    );
    assert_eq!(
        env.all(),
        [
            "webui-c1111111",
            "webui-c1111111~2",
            "webui-c1111111~3",
            "webui-c2222222",
            "webui-c2222222~2",
            "webui-c3333333",
            "webui-c6666666",
        ]
    );

    // currentId's path: the regenerated reply, the photo, the reasoning.
    let main = env.show("webui-c1111111");
    assert_eq!(main["title"], "Japan trip");
    assert_eq!(main["source"], "open-webui");
    assert_eq!(main["source_ref"], "c1111111-1111-4000-8000-000000000001");
    assert_eq!(
        main["tags"],
        json!(["Machine-Learning", "pinned", "travel", "work"])
    );
    assert_eq!(
        main["metadata"],
        json!({"model": "llama3:8b", "folder_id": "folder-1", "user_id": "user-9"})
    );
    assert_eq!(main["created_at"], "2024-06-10T06:13:20Z");
    assert_eq!(main["updated_at"], "2024-06-10T06:15:00Z");
    assert_eq!(main["archived"], false);
    assert_eq!(
        triples(&main),
        vec![
            t("user", "text", "Plan a week in Japan"),
            t("assistant", "text", "Regenerated: start in Osaka."),
            t("user", "image", "[image: image/png, 3 KB]"),
            t("user", "text", "What is in this photo?"),
            t("assistant", "thinking", "A torii gate.\nProbably Kyoto."),
            t("assistant", "text", "A torii gate in Kyoto."),
        ]
    );
    assert_eq!(source_ids(&main), ["u1", "a1b", "u2", "u2/1", "a2", "a2/1"]);
    let m = &main["messages"];
    assert_eq!(m[1]["model"], "llama3:8b");
    assert_eq!(m[1]["tokens"], json!({"input": 12, "output": 34}));
    assert_eq!(
        m[2]["metadata"],
        json!({"media_type": "image/png", "bytes": 3000})
    );
    assert_eq!(m[4]["model"], "qwq:32b");
    assert!(m[4]["tokens"].is_null());
    assert_eq!(m[5]["tokens"], json!({"input": 120, "output": 45}));
    assert_eq!(m[5]["created_at"], "2024-06-10T06:13:25Z");

    let regen = env.show("webui-c1111111~2");
    assert_eq!(
        regen["source_ref"],
        "c1111111-1111-4000-8000-000000000001@a1"
    );
    assert_eq!(regen["parent"], main["uid"]);
    assert_eq!(regen["fork_seq"], 0);
    assert_eq!(
        triples(&regen),
        vec![
            t("user", "text", "Plan a week in Japan"),
            t("assistant", "text", "Day 1: Tokyo."),
        ]
    );
    let edit = env.show("webui-c1111111~3");
    assert_eq!(
        edit["source_ref"],
        "c1111111-1111-4000-8000-000000000001@u2e"
    );
    assert_eq!(edit["parent"], main["uid"]);
    assert_eq!(edit["fork_seq"], 1);
    assert_eq!(
        triples(&edit)[2..],
        [
            t("user", "text", "Make it two weeks"),
            t("assistant", "text", "Two weeks: add Hokkaido."),
        ]
    );

    // Two models answered; currentId picks the second. An archived chat
    // with an empty title, a system prompt, a tool call and a failed reply.
    let oslo = env.show("webui-c2222222");
    assert_eq!(oslo["title"], "Weather in Oslo?");
    assert_eq!(oslo["archived"], true);
    assert_eq!(oslo["archived_at"], "2024-06-10T06:16:40Z");
    assert_eq!(oslo["tags"], json!([]));
    assert_eq!(
        triples(&oslo),
        vec![
            t("system", "context", "You are terse."),
            t("user", "text", "Weather in Oslo?\nPlease be brief"),
            t("assistant", "text", "It rains."),
            t("assistant", "text", "Ollama: connection refused"),
        ]
    );
    assert_eq!(oslo["messages"][3]["metadata"]["is_error"], true);
    let other = env.show("webui-c2222222~2");
    assert_eq!(other["parent"], oslo["uid"]);
    assert_eq!(other["fork_seq"], 1);
    assert_eq!(
        triples(&other)[2..],
        [
            t(
                "assistant",
                "tool_call",
                "get_weather: {\"city\": \"Oslo\"}"
            ),
            t("tool", "tool_result", "Rain, 8 C"),
            t("assistant", "text", "Rain, 8 C."),
        ]
    );
    assert_eq!(
        other["messages"][2]["metadata"],
        json!({"tool": "get_weather", "call_id": "call_1", "input": {"city": "Oslo"}})
    );
    assert_eq!(
        other["messages"][3]["metadata"],
        json!({"call_id": "call_1", "tool": "get_weather"})
    );
    assert_eq!(source_ids(&other)[2..], ["r0", "r0/1", "r0/2"]);

    // The chat kept as JSON text is read all the same.
    let text = env.show("webui-c3333333");
    assert_eq!(
        triples(&text),
        vec![
            t("user", "text", "Old row, chat kept as text"),
            t("assistant", "text", "Still read."),
        ]
    );

    // Nulls everywhere: a title from the first prompt, a null message skipped.
    let nulls = env.show("webui-c6666666");
    assert_eq!(nulls["title"], "Null times here");
    assert_eq!(nulls["metadata"], json!({}));
    assert_eq!(
        triples(&nulls),
        vec![
            t("user", "text", "Null times here"),
            t("assistant", "text", "Answer anyway")
        ]
    );

    let (ok, again, err) = env.import(&["--reread"], &[&export]);
    assert!(ok, "{err}");
    assert_eq!(again["sessions_added"], 0);
    assert_eq!(again["messages_added"], 0);
    assert_eq!(again["sessions_unchanged"], 7);
}

#[test]
fn a_bare_chat_and_a_chat_without_history() {
    let env = Env::new();
    let (ok, report, err) = env.import(
        &[],
        &[&fixture("bare-chat.json"), &fixture("messages-only.json")],
    );
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 2, "{report}");
    let flat = env.show("webui-c7777777");
    assert_eq!(flat["title"], "Flat");
    assert_eq!(
        triples(&flat),
        vec![
            t("user", "text", "No history here"),
            t("assistant", "text", "Just a list.")
        ]
    );
    let sessions = env.list(&[]);
    let bare = sessions
        .iter()
        .find(|s| s["title"] == "Bare")
        .expect("the bare chat");
    // No id: it is known by its content, the same on every import.
    let r = bare["source_ref"].as_str().expect("ref");
    assert!(r.starts_with("h:"), "{r}");
    assert_eq!(bare["tags"], json!(["solo"]));
    assert_eq!(bare["created_at"], "2024-06-10T06:14:00Z");
    let name = bare["name"].as_str().expect("name");
    assert_eq!(name, format!("webui-{}", &r[2..10]));
    let b = env.show(name);
    assert_eq!(
        triples(&b),
        vec![
            t("user", "text", "A bare chat"),
            t("assistant", "text", "Without its row.")
        ]
    );
    assert_eq!(b["messages"][1]["model"], "phi3");

    let (ok, again, err) = env.import(
        &["--reread"],
        &[&fixture("bare-chat.json"), &fixture("messages-only.json")],
    );
    assert!(ok, "{err}");
    assert_eq!(again["sessions_unchanged"], 2);
    assert_eq!(again["messages_added"], 0);
}

#[test]
fn bad_files_fail_naming_the_place_and_change_nothing() {
    let env = Env::new();
    let (ok, _, err) = env.import(&[], &[&fixture("bare-chat.json")]);
    assert!(ok, "{err}");
    let before = env.all();

    let malformed = fixture("malformed.json");
    let (ok, _, err) = env.import(&[], &[&malformed]);
    assert!(!ok);
    assert!(err.contains(&malformed.display().to_string()), "{err}");
    assert!(err.contains("line 4, column 14"), "{err}");

    let truncated = fixture("truncated.json");
    let (ok, _, err) = env.import(&[], &[&truncated]);
    assert!(!ok);
    assert!(err.contains(&truncated.display().to_string()), "{err}");
    assert!(err.contains("line 19"), "{err}");
    assert!(err.contains("after 1 complete chats"), "{err}");
    assert_eq!(env.all(), before);

    let (ok, report, err) = env.import(&["--partial"], &[&truncated]);
    assert!(ok, "{err}");
    assert_eq!(report["sessions_added"], 1, "{report}");

    // A folder with nothing of Open WebUI's in it.
    let empty = env.path("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    std::fs::write(empty.join("readme.txt"), "nothing").expect("write");
    let before = env.all();
    let (ok, _, err) = env.import(&[], &[&empty]);
    assert!(!ok, "a folder with no session files is an error");
    assert!(err.contains("no session files in it"), "{err}");
    assert_eq!(env.all(), before);
}
