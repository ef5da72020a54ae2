//! Format detection by extension and content: the top-level keys of the
//! first object in the file say which tool wrote it.

use std::io::Read;
use std::path::Path;

use super::Format;
use crate::error::{Error, Result};

/// Bytes read from the start of a file to detect its format.
const HEAD: u64 = 64 * 1024;

/// Picks the format of `path` from its extension, where it lies and its
/// first bytes.
pub fn detect(path: &Path) -> Result<Format> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    if head.starts_with(b"SQLite format 3\0") {
        return Ok(Format::Llm);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::ChatGpt);
    }
    if head.starts_with(&crate::archive::ZSTD_MAGIC) {
        return Ok(Format::Archive);
    }
    if ext == "toon" {
        return Ok(Format::Toon);
    }
    if is_subagent_meta(path) {
        return Ok(Format::ClaudeCode);
    }
    let text = String::from_utf8_lossy(&head);
    let start = text.trim_start();
    let keys = top_level_keys(start);
    let has = |k: &str| keys.iter().any(|x| x == k);
    let lines = ext == "jsonl" || first_line_is_object(start);
    let found = if start.is_empty() {
        // Nothing to import (an export of an empty store): any reader yields nothing.
        Some(Format::Jsonl)
    } else if start.starts_with('[') && start[1..].trim_start().starts_with(']') {
        Some(Format::Json)
    } else if !start.starts_with(['{', '[']) {
        None
    } else if let Some(f) = by_place(path) {
        Some(f)
    } else if path.file_name().is_some_and(|n| n == "sessions-index.json") && has("entries") {
        // Claude Code's index of a project's sessions (the importer skips it).
        Some(Format::ClaudeCode)
    } else if has("projectHash") || (has("sessionId") && has("startTime")) {
        Some(Format::Gemini)
    } else if has("payload") && has("type") && has("timestamp")
        || has("record_type")
        || (lines && has("instructions") && has("id") && has("timestamp"))
    {
        Some(Format::Codex)
    } else if lines
        && (has("parentUuid")
            || has("leafUuid")
            || has("sessionId")
            || has("uuid") && has("type")
            || first_type(start).is_some_and(|t| is_claude_line_type(&t)))
    {
        Some(Format::ClaudeCode)
    } else if has("mapping") {
        Some(Format::ChatGpt)
    } else if has("chat") && (has("user_id") || has("title"))
        || has("history") && (has("models") || has("messages"))
    {
        Some(Format::OpenWebUi)
    } else if lines {
        if has("conversations") {
            Some(Format::ShareGpt)
        } else if has("uid") || has("name") {
            Some(Format::Jsonl)
        } else if has("messages") && !has("metadata") {
            Some(Format::ShareGpt)
        } else {
            has("messages").then_some(Format::Jsonl)
        }
    } else if has("conversations") {
        Some(Format::ShareGpt)
    } else if has("session_id") {
        Some(Format::Toon)
    } else if has("uid") || has("name") {
        Some(Format::Json)
    } else if has("id") && has("messages") {
        Some(Format::SdkExport)
    } else if has("messages") && start.starts_with('[') {
        // ShareGPT's variant with `messages: [{role, content}]` and no ids.
        Some(Format::ShareGpt)
    } else if has("messages") && start.starts_with('{') {
        Some(Format::SessionFile)
    } else {
        None
    };
    found.ok_or_else(|| {
        let seen = if keys.is_empty() {
            looks_like(&head)
        } else {
            format!("top-level keys: {}", keys.join(", "))
        };
        Error::UnknownFormat(format!(
            "{}: cannot tell which tool wrote this file ({seen}); pass --format with one of {}",
            path.display(),
            Format::names()
        ))
    })
}

/// The format the folders a file lies in promise: the usual places of the
/// agent tools' sessions.
fn by_place(path: &Path) -> Option<Format> {
    let text = path.to_string_lossy().replace('\\', "/");
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    if jsonl && text.contains("/.claude/projects/") {
        Some(Format::ClaudeCode)
    } else if jsonl && text.contains("/.codex/") && text.contains("rollout-") {
        Some(Format::Codex)
    } else if text.contains("/.gemini/tmp/") && text.contains("/chats/") {
        Some(Format::Gemini)
    } else {
        None
    }
}

/// A subagent's description beside its transcript in a Claude Code project
/// (`<session>/subagents/agent-<id>.meta.json`; the importer skips it).
fn is_subagent_meta(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.starts_with("agent-")
        && name.ends_with(".meta.json")
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == "subagents")
}

/// Line types only Claude Code writes (a file may start with any of them).
fn is_claude_line_type(t: &str) -> bool {
    matches!(
        t,
        "summary"
            | "file-history-snapshot"
            | "queue-operation"
            | "progress"
            | "custom-title"
            | "ai-title"
            | "last-prompt"
            | "permission-mode"
            | "agent-name"
            | "pr-link"
            | "attachment"
            | "agent-setting"
            | "bridge-session"
            | "worktree-state"
    )
}

/// The `type` of the first line, when it is a complete JSON object.
fn first_type(text: &str) -> Option<String> {
    let line = text.lines().next()?;
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.get("type")?.as_str().map(str::to_string)
}

/// What a file that is not JSON seems to hold, for the error.
fn looks_like(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head);
    let start = text.trim_start();
    if head.is_empty() {
        "it is empty".into()
    } else if std::str::from_utf8(head).is_err() && head.iter().take(512).any(|&b| b == 0) {
        "binary data, not a SQLite database nor a zip".into()
    } else if start.starts_with('{') || start.starts_with('[') {
        "no JSON object at its start".into()
    } else if start.starts_with("---") || start.starts_with('#') {
        "Markdown or YAML text, not JSON".into()
    } else {
        let first: String = start.chars().take(24).filter(|c| !c.is_control()).collect();
        format!("text starting {first:?}, not JSON")
    }
}

/// True when the text looks like JSON Lines: a complete object on the first
/// line followed by another line starting with `{`.
fn first_line_is_object(text: &str) -> bool {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim();
    let second = lines.next().unwrap_or_default().trim_start();
    first.starts_with('{') && first.ends_with('}') && second.starts_with('{')
}

/// Keys of the first JSON object in `text` (the object itself, or the first
/// element of a top-level array), read without parsing the whole value.
pub fn top_level_keys(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let target = if text.starts_with('[') { 2 } else { 1 };
    let mut depth = 0usize;
    let mut keys = Vec::new();
    let mut i = 0;
    let mut expect_key = false;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = bytes[i] == b'{' && depth == target;
            }
            b'}' | b']' => {
                if depth == target {
                    return keys;
                }
                depth = depth.saturating_sub(1);
            }
            b',' => expect_key = depth == target,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if expect_key && i <= bytes.len() {
                    keys.push(text[start..i.min(bytes.len())].to_string());
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_the_first_object_only() {
        assert_eq!(
            top_level_keys(
                r#"{"uid": "x", "messages": [{"role": "user", "a": {"b": 1}}], "name": "n"}"#
            ),
            ["uid", "messages", "name"]
        );
        assert_eq!(
            top_level_keys(r#"[{"id": 1, "t": "a,\"b\""}, {"other": 2}]"#),
            ["id", "t"]
        );
    }
}
