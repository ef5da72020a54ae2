//! The session files of the seed agent frameworks:
//!
//! - a session module's file, one JSON file per session named after it:
//!   `{"messages": [{role, content, timestamp?, model?, ...}], "metadata": {...}}`;
//! - an SDK's session export: `{id, title, created_at?, updated_at?, metadata, messages}`;
//! - a `.toon` file: `{session_id, created_at, messages[{role, content}]}`,
//!   written as JSON or as TOON.
//!
//! Messages with a role other than system, user, assistant or tool are
//! skipped and counted in the import report. Keys of a message beyond the known ones are kept in
//! its metadata.

use std::io::Read;
use std::path::Path;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Sink;
use super::json::for_each_element;
use crate::domain::{MessageDoc, Role, SessionDoc, parse_time, ts_from_ms};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct SeedMessage {
    role: String,
    #[serde(default)]
    content: Value,
    #[serde(default)]
    timestamp: Value,
    #[serde(default)]
    created_at: Value,
    #[serde(default)]
    model: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct SessionFile {
    messages: Vec<SeedMessage>,
    #[serde(default)]
    metadata: Map<String, Value>,
}

#[derive(Deserialize)]
struct SdkExport {
    id: Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    created_at: Value,
    #[serde(default)]
    updated_at: Value,
    #[serde(default)]
    metadata: Map<String, Value>,
    messages: Vec<SeedMessage>,
}

#[derive(Deserialize)]
struct ToonSession {
    session_id: Value,
    #[serde(default)]
    created_at: Value,
    messages: Vec<SeedMessage>,
}

/// A session module's file. Its name is the file's stem; its source
/// reference is the file's absolute path, so re-importing it adds only what is new.
pub fn read_session_file<R: Read>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    let file: SessionFile = read_one(
        path,
        reader,
        "a session file {\"messages\": [...], \"metadata\": {...}}",
    )?;
    let source_ref = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let (messages, skipped) = convert(file.messages);
    let metadata = file.metadata;
    sink.skip(
        "message",
        "its role is not one of system, user, assistant, tool",
        skipped,
    );
    sink.session(SessionDoc {
        name: Some(super::name_from_path(path)),
        metadata,
        source: Some("session-file".into()),
        source_ref: Some(source_ref.to_string_lossy().into_owned()),
        messages,
        ..SessionDoc::default()
    })
}

/// An SDK session export, or an array of them. The export's id becomes the
/// uid (unless `--new-id`) and the source reference.
pub fn read_sdk_export<R: Read>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    for_each_element(path, reader, "session exports", |e: SdkExport| {
        let id = id_text(&e.id);
        let (messages, skipped) = convert(e.messages);
        let metadata = e.metadata;
        sink.skip(
            "message",
            "its role is not one of system, user, assistant, tool",
            skipped,
        );
        let title = e.title.unwrap_or_default();
        let name = if title.trim().is_empty() {
            super::clean_name(&id)
        } else {
            slug(&title)
        };
        sink.session(SessionDoc {
            uid: (!id.is_empty()).then(|| crate::domain::Uid(id.clone())),
            name: Some(name),
            title,
            created_at: time(&e.created_at),
            updated_at: time(&e.updated_at),
            metadata,
            source: Some("sdk-export".into()),
            source_ref: (!id.is_empty()).then_some(id),
            messages,
            ..SessionDoc::default()
        })
    })?;
    Ok(())
}

/// A `.toon` session file, as JSON or TOON (told apart by its first character).
pub fn read_toon<R: Read>(path: &Path, mut reader: R, sink: &mut dyn Sink) -> Result<()> {
    let mut text = String::new();
    reader.read_to_string(&mut text).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        location: "file".into(),
        reason: format!("not valid UTF-8 text ({e})"),
    })?;
    let value = if text.trim_start().starts_with(['{', '[']) {
        serde_json::from_str::<Value>(&text).map_err(|e| super::json::json_error(path, &e))?
    } else {
        super::toon::decode(&text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            location: format!("line {}", e.line),
            reason: format!("{} (reading TOON)", e.reason),
        })?
    };
    let t: ToonSession = serde_json::from_value(value).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        location: "session".into(),
        reason: format!("{e}; expected {{session_id, created_at, messages: [{{role, content}}]}}"),
    })?;
    let id = id_text(&t.session_id);
    let (messages, skipped) = convert(t.messages);
    sink.skip(
        "message",
        "its role is not one of system, user, assistant, tool",
        skipped,
    );
    sink.session(SessionDoc {
        name: Some(super::name_from_path(path)),
        created_at: time(&t.created_at),
        source: Some("toon".into()),
        source_ref: (!id.is_empty()).then_some(id),
        messages,
        ..SessionDoc::default()
    })
}

fn read_one<T: serde::de::DeserializeOwned, R: Read>(
    path: &Path,
    reader: R,
    expected: &str,
) -> Result<T> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let value = T::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            let mut err = super::json::json_error(path, &e);
            if let Error::Parse { reason, .. } = &mut err
                && !e.is_eof()
            {
                reason.push_str(&format!("; expected {expected}"));
            }
            err
        })?;
    Ok(value)
}

fn convert(messages: Vec<SeedMessage>) -> (Vec<MessageDoc>, u64) {
    let mut out = Vec::with_capacity(messages.len());
    let mut skipped = 0;
    for m in messages {
        let Ok(role) = m.role.parse::<Role>() else {
            skipped += 1;
            continue;
        };
        out.push(MessageDoc {
            role: Some(role),
            content: content_text(&m.content),
            created_at: time(&m.timestamp).or_else(|| time(&m.created_at)),
            model: m.model,
            metadata: m.extra,
            ..MessageDoc::default()
        });
    }
    (out, skipped)
}

/// Message content as text: strings as they are, `[{type: text, text}]`
/// blocks joined, anything else as compact JSON.
pub(crate) fn content_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(blocks)
            if blocks
                .iter()
                .all(|b| b.get("text").and_then(Value::as_str).is_some()) =>
        {
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n\n")
        }
        other => other.to_string(),
    }
}

/// A time given as RFC 3339 text, a date, or epoch seconds or milliseconds.
pub(crate) fn time(v: &Value) -> Option<Timestamp> {
    match v {
        Value::String(s) => parse_time(s),
        Value::Number(n) => {
            let x = n.as_f64()?;
            // Anything past the year 33658 in seconds is surely milliseconds.
            let ms = if x.abs() > 1e12 { x } else { x * 1000.0 };
            #[allow(clippy::cast_possible_truncation)]
            Some(ts_from_ms(ms.round() as i64))
        }
        _ => None,
    }
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A title as a kebab-case name: "Plan the Q3 launch!" -> "plan-the-q3-launch".
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    super::clean_name(out.trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Plan the Q3 launch!"), "plan-the-q3-launch");
        assert_eq!(slug("  Café / naïve  "), "café-naïve");
        assert_eq!(slug("!!!"), "session");
    }

    #[test]
    fn times() {
        let t = |s: &str| s.parse::<Timestamp>().ok();
        assert_eq!(
            time(&Value::from("2026-01-02T03:04:05Z")),
            t("2026-01-02T03:04:05Z")
        );
        assert_eq!(time(&Value::from(1_767_323_045)), t("2026-01-02T03:04:05Z"));
        assert_eq!(
            time(&Value::from(1_767_323_045_000_i64)),
            t("2026-01-02T03:04:05Z")
        );
        assert_eq!(time(&Value::Null), None);
    }
}
