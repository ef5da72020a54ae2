//! Format detection by extension and content: the top-level keys of the
//! first object in the file say which tool wrote it.

use std::io::Read;
use std::path::Path;

use super::Format;
use crate::error::{Error, Result};

/// Bytes read from the start of a file to detect its format.
const HEAD: u64 = 64 * 1024;

/// Picks the format of `path` from its extension and first bytes.
pub fn detect(path: &Path) -> Result<Format> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    if ext == "toon" {
        return Ok(Format::Toon);
    }
    let text = String::from_utf8_lossy(&head);
    let start = text.trim_start();
    let keys = top_level_keys(start);
    let has = |k: &str| keys.iter().any(|x| x == k);
    let found = if start.is_empty() {
        // Nothing to import (an export of an empty store): any reader yields nothing.
        Some(Format::Jsonl)
    } else if start.starts_with('[') && start[1..].trim_start().starts_with(']') {
        Some(Format::Json)
    } else if !start.starts_with(['{', '[']) {
        None
    } else if ext == "jsonl" || first_line_is_object(start) {
        if has("conversations") {
            Some(Format::ShareGpt)
        } else {
            (has("uid") || has("name") || has("messages")).then_some(Format::Jsonl)
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
            "no JSON object at its start".to_string()
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
