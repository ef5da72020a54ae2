//! ChatGPT data export: the zip ChatGPT mails, its unpacked folder, its
//! `conversations.json` (or, in newer exports, `conversations-000.json`,
//! `conversations-001.json`...), each a JSON array of conversations, or a
//! file holding one conversation object.
//!
//! A zip is read in place: its `conversations*.json` entries are streamed
//! one conversation at a time, in name order, and nothing is extracted; a
//! zip without such an entry is not a ChatGPT export and fails. An error in
//! an entry names it as `export.zip/conversations-001.json`. (Which files of
//! an unpacked folder are read is decided by the folder walk: only its
//! `conversations*.json`.)
//!
//! A conversation `{id, title, create_time, update_time, current_node,
//! default_model_slug, mapping, is_archived}` holds a tree in `mapping`
//! (`node id -> {id, parent, children, message}`): the path to
//! `current_node` is the session, every other path a branch (an edit or a
//! regeneration) made by [`super::tree`]. Messages hidden from the
//! conversation (`metadata.is_visually_hidden_from_conversation`), of
//! weight 0, or empty (the system message at the root) are not shown by
//! ChatGPT and are left out, counted.
//!
//! Content types: `text` and `multimodal_text` (image and audio pointers
//! become `[image: ...]` placeholders, transcriptions text), `code`,
//! `execution_output`, `thoughts` and `reasoning_recap` (thinking),
//! `user_editable_context` and `model_editable_context` (context),
//! `tether_quote`, `tether_browsing_display`, `system_error`; any other is
//! skipped and counted. An assistant message sent to a tool (`recipient`
//! not `all`) is a tool call; a `tool` author's message a tool result,
//! whose `call_id` is the id of the call it answers. One message's several
//! parts (an image and its prompt) get source ids `ID`, `ID/1`, `ID/2`...
//!
//! The conversation id is the session's `source_ref` (`chatgpt`);
//! `model_slug` is each message's model, `default_model_slug` the
//! session's; `is_archived` sets the archive time (the update time, as the
//! export gives no other).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use super::ids::content_ref;
use super::json::for_each_element;
use super::seed::time;
use super::tree::{self, Tree};
use super::{Sink, archived_time, cut, first_prompt_title, short_name};
use crate::domain::{Kind, MessageDoc, Role, SessionDoc};
use crate::error::{Error, Result};

/// Reads a conversations file, or a whole export zip.
pub fn read<R: BufRead>(path: &Path, mut reader: R, sink: &mut dyn Sink) -> Result<()> {
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(b"PK") {
        drop(reader);
        return read_zip(path, sink);
    }
    read_conversations(path, reader, sink)
}

/// True for the names of the files of an export that hold conversations:
/// `conversations.json` and `conversations-NNN.json` (in any folder).
pub(super) fn is_conversations_name(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let Some(stem) = base.strip_suffix(".json") else {
        return false;
    };
    match stem.strip_prefix("conversations") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

/// True when `path` is a zip with a `conversations*.json` in it: the walk
/// of a folder imports such zips, and leaves other zips alone.
pub(super) fn is_export_zip(path: &Path) -> bool {
    File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|z| entries(&z).iter().any(|(n, _)| is_conversations_name(n)))
}

/// The names of a zip's entries (those that can be decoded), with their indexes.
fn entries<R: Read + std::io::Seek>(archive: &zip::ZipArchive<R>) -> Vec<(String, usize)> {
    (0..archive.len())
        .filter_map(|i| Some((archive.name_for_index(i)?.ok()?.into_owned(), i)))
        .collect()
}

fn read_zip(path: &Path, sink: &mut dyn Sink) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        location: "the zip's directory".into(),
        reason: format!("not a readable zip ({e}); a ChatGPT export is a zip as downloaded"),
    })?;
    let all = entries(&archive);
    let mut names: Vec<(String, usize)> = all
        .iter()
        .filter(|(n, _)| is_conversations_name(n))
        .cloned()
        .collect();
    if names.is_empty() {
        let mut held: Vec<&str> = all.iter().take(6).map(|(n, _)| n.as_str()).collect();
        if archive.len() > held.len() {
            held.push("...");
        }
        return Err(Error::Parse {
            path: path.to_path_buf(),
            location: "the whole file".into(),
            reason: format!(
                "a zip without conversations.json or conversations-NNN.json in it, so not a \
                 ChatGPT data export (it holds: {})",
                if held.is_empty() {
                    "nothing".to_string()
                } else {
                    held.join(", ")
                }
            ),
        });
    }
    names.sort();
    for (name, i) in names {
        let inner = path.join(&name);
        let entry = archive.by_index(i).map_err(|e| Error::Parse {
            path: inner.clone(),
            location: "the zip entry".into(),
            reason: format!("cannot be read ({e})"),
        })?;
        read_conversations(&inner, BufReader::new(entry), sink)?;
    }
    Ok(())
}

fn read_conversations<R: Read>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    for_each_element(path, reader, "conversations", |v: Value| {
        conversation(v, sink)
    })?;
    Ok(())
}

/// One node of the mapping, in file order.
struct Node {
    id: String,
    parent: Option<String>,
    message: Option<Map<String, Value>>,
}

fn conversation(v: Value, sink: &mut dyn Sink) -> Result<()> {
    let Value::Object(mut c) = v else {
        sink.skip("conversation", "not a JSON object", 1);
        return Ok(());
    };
    let Some(Value::Object(mapping)) = c.remove("mapping") else {
        sink.skip("conversation", "no \"mapping\" (its messages) in it", 1);
        return Ok(());
    };
    let title = text_of(c.get("title")).unwrap_or_default();
    let real_id = text_of(c.get("conversation_id")).or_else(|| text_of(c.get("id")));
    let id = real_id.clone().unwrap_or_else(|| {
        let created = c
            .get("create_time")
            .map(Value::to_string)
            .unwrap_or_default();
        let keys: Vec<&str> = mapping.keys().map(String::as_str).collect();
        content_ref([title.as_str(), created.as_str()].into_iter().chain(keys))
    });
    let nodes: Vec<Node> = mapping
        .into_iter()
        .filter_map(|(key, node)| match node {
            Value::Object(mut n) => Some(Node {
                id: text_of(n.get("id")).unwrap_or(key),
                parent: text_of(n.get("parent")),
                message: match n.remove("message") {
                    Some(Value::Object(m)) => Some(m),
                    _ => None,
                },
            }),
            _ => {
                sink.skip("mapping node", "not a JSON object", 1);
                None
            }
        })
        .collect();
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut tree = Tree::new();
    for node in &nodes {
        let messages = match &node.message {
            Some(m) => node_messages(node, m, &nodes, &index, sink),
            None => {
                if node.parent.is_some() {
                    sink.skip("mapping node", "no message in it", 1);
                }
                Vec::new()
            }
        };
        tree.add(&node.id, node.parent.as_deref(), messages);
    }
    let current = text_of(c.get("current_node"));
    let paths = tree.into_paths(current.as_deref());
    if paths.iter().all(|p| p.messages.is_empty()) {
        sink.skip("conversation", "no message shown in it", 1);
        return Ok(());
    }
    let created_at = c.get("create_time").and_then(time);
    let updated_at = c.get("update_time").and_then(time);
    let archived = c.get("is_archived").and_then(Value::as_bool) == Some(true);
    let mut metadata = Map::new();
    if let Some(model) = text_of(c.get("default_model_slug")) {
        metadata.insert("model".into(), model.into());
    }
    if let Some(gizmo) = text_of(c.get("gizmo_id")) {
        metadata.insert("gizmo_id".into(), gizmo.into());
    }
    if let Some(real) = &real_id {
        metadata.insert("url".into(), format!("https://chatgpt.com/c/{real}").into());
    }
    let main = &paths[0].messages;
    let base = SessionDoc {
        name: Some(short_name("chatgpt", &id)),
        title: if title.trim().is_empty() {
            first_prompt_title(main)
        } else {
            title
        },
        created_at,
        updated_at,
        archived_at: archived_time(archived, updated_at, created_at, main),
        metadata,
        source: Some("chatgpt".into()),
        source_ref: Some(id),
        ..SessionDoc::default()
    };
    for doc in tree::sessions(&base, paths) {
        sink.session(doc)?;
    }
    Ok(())
}

/// The messages one node shows: none when ChatGPT hides it, else its
/// content as one message or several (an image and its prompt).
fn node_messages(
    node: &Node,
    m: &Map<String, Value>,
    nodes: &[Node],
    index: &HashMap<&str, usize>,
    sink: &mut dyn Sink,
) -> Vec<MessageDoc> {
    let meta = m.get("metadata").and_then(Value::as_object);
    let flag = |k: &str| meta.and_then(|x| x.get(k)).and_then(Value::as_bool) == Some(true);
    if flag("is_visually_hidden_from_conversation") {
        sink.skip("message", "hidden from the conversation in ChatGPT", 1);
        return Vec::new();
    }
    if m.get("weight").and_then(Value::as_f64) == Some(0.0) {
        sink.skip("message", "weight 0 (not shown in ChatGPT)", 1);
        return Vec::new();
    }
    let author = m.get("author").and_then(Value::as_object);
    let author_name = author.and_then(|a| text_of(a.get("name")));
    let role = match author.and_then(|a| a.get("role")).and_then(Value::as_str) {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("system") => Role::System,
        Some("tool") => Role::Tool,
        _ => {
            sink.skip(
                "message",
                "its author is not user, assistant, system nor tool",
                1,
            );
            return Vec::new();
        }
    };
    let Some(content) = m.get("content").and_then(Value::as_object) else {
        sink.skip("message", "no content", 1);
        return Vec::new();
    };
    let content_type = content
        .get("content_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(parts) = content_parts(content_type, content, sink) else {
        sink.skip(
            &format!("content type {content_type:?}"),
            "not a kind of content scrollback knows",
            1,
        );
        return Vec::new();
    };
    let parts: Vec<Part> = parts
        .into_iter()
        .filter(|p| p.kind == Kind::Image || !p.text.trim().is_empty())
        .collect();
    if parts.is_empty() {
        sink.skip("message", "empty", 1);
        return Vec::new();
    }
    let id = text_of(m.get("id")).unwrap_or_else(|| node.id.clone());
    let recipient = text_of(m.get("recipient")).unwrap_or_else(|| "all".into());
    let created_at = m.get("create_time").and_then(time);
    let model = meta.and_then(|x| text_of(x.get("model_slug")));
    let call_id = (role == Role::Tool)
        .then(|| answered_call(node, nodes, index))
        .flatten();
    let mut out = Vec::with_capacity(parts.len());
    for (n, part) in parts.into_iter().enumerate() {
        let Part {
            kind,
            text,
            mut metadata,
        } = part;
        let (role, kind, content) = match kind {
            Kind::Image => (role, Kind::Image, text),
            Kind::Thinking => (Role::Assistant, Kind::Thinking, text),
            Kind::Context => (Role::System, Kind::Context, text),
            _ if role == Role::Tool => {
                if let Some(call) = &call_id {
                    metadata.insert("call_id".into(), call.clone().into());
                }
                if let Some(name) = &author_name {
                    metadata.insert("tool".into(), name.clone().into());
                }
                (Role::Tool, Kind::ToolResult, text)
            }
            _ if role == Role::Assistant && recipient != "all" => {
                let input = serde_json::from_str::<Value>(&text)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| Value::String(text.clone()));
                metadata.insert("tool".into(), recipient.clone().into());
                metadata.insert("call_id".into(), id.clone().into());
                metadata.insert("input".into(), input);
                (
                    Role::Assistant,
                    Kind::ToolCall,
                    tool_summary(&recipient, &text),
                )
            }
            // A visible system message holds instructions, not conversation.
            _ if role == Role::System => (Role::System, Kind::Context, text),
            _ => (role, kind, text),
        };
        out.push(MessageDoc {
            role: Some(role),
            kind,
            content,
            created_at,
            model: model.clone().filter(|_| role == Role::Assistant),
            metadata,
            source_id: Some(if n == 0 {
                id.clone()
            } else {
                format!("{id}/{n}")
            }),
            ..MessageDoc::default()
        });
    }
    out
}

/// The id of the tool call a tool's message answers: the nearest message
/// above it that is not the tool's, when that is a call (an assistant
/// message to a recipient other than `all`).
fn answered_call(node: &Node, nodes: &[Node], index: &HashMap<&str, usize>) -> Option<String> {
    let mut at = node.parent.as_deref();
    for _ in 0..nodes.len() {
        let up = &nodes[*index.get(at?)?];
        at = up.parent.as_deref();
        let Some(m) = &up.message else { continue };
        let role = m
            .get("author")
            .and_then(|a| a.get("role"))
            .and_then(Value::as_str);
        match role {
            Some("tool") => {}
            Some("assistant") => {
                let recipient = m.get("recipient").and_then(Value::as_str).unwrap_or("all");
                return (recipient != "all")
                    .then(|| text_of(m.get("id")).unwrap_or_else(|| up.id.clone()));
            }
            _ => return None,
        }
    }
    None
}

/// One message's worth of a content part.
struct Part {
    kind: Kind,
    text: String,
    metadata: Map<String, Value>,
}

impl Part {
    fn new(kind: Kind, text: String) -> Self {
        Part {
            kind,
            text,
            metadata: Map::new(),
        }
    }
}

/// The parts of a content object; `None` for a content type not known.
fn content_parts(kind: &str, c: &Map<String, Value>, sink: &mut dyn Sink) -> Option<Vec<Part>> {
    let field = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let parts = match kind {
        "text" | "multimodal_text" => multimodal(c.get("parts"), sink),
        "code" => {
            let mut p = Part::new(Kind::Text, field("text"));
            if let Some(lang) = text_of(c.get("language")).filter(|l| l != "unknown") {
                p.metadata.insert("language".into(), lang.into());
            }
            vec![p]
        }
        "execution_output" => vec![Part::new(Kind::Text, field("text"))],
        "thoughts" => {
            let text = c
                .get("thoughts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    let get = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default();
                    [get("summary"), get("content")]
                        .into_iter()
                        .filter(|s| !s.trim().is_empty())
                        .collect::<Vec<_>>()
                        .join("\n\n")
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            vec![Part::new(Kind::Thinking, text)]
        }
        "reasoning_recap" => vec![Part::new(Kind::Thinking, field("content"))],
        "user_editable_context" => {
            let text = [field("user_profile"), field("user_instructions")]
                .into_iter()
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            vec![Part::new(Kind::Context, text)]
        }
        "model_editable_context" => vec![Part::new(Kind::Context, field("model_set_context"))],
        "tether_quote" => {
            let mut p = Part::new(Kind::Text, field("text"));
            for k in ["url", "domain", "title"] {
                if let Some(v) = text_of(c.get(k)) {
                    p.metadata.insert(k.into(), v.into());
                }
            }
            vec![p]
        }
        "tether_browsing_display" => {
            let result = field("result");
            vec![Part::new(
                Kind::Text,
                if result.trim().is_empty() {
                    field("summary")
                } else {
                    result
                },
            )]
        }
        "system_error" => {
            let mut p = Part::new(Kind::Text, field("text"));
            p.metadata.insert("is_error".into(), true.into());
            if let Some(name) = text_of(c.get("name")) {
                p.metadata.insert("error".into(), name.into());
            }
            vec![p]
        }
        _ => return None,
    };
    Some(parts)
}

/// The parts of a `text` or `multimodal_text` content: runs of text become
/// one part, each image or audio pointer a placeholder.
fn multimodal(parts: Option<&Value>, sink: &mut dyn Sink) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    let mut text: Vec<String> = Vec::new();
    let flush = |text: &mut Vec<String>, out: &mut Vec<Part>| {
        if !text.is_empty() {
            out.push(Part::new(Kind::Text, text.join("\n")));
            text.clear();
        }
    };
    for part in parts.and_then(Value::as_array).into_iter().flatten() {
        match part {
            Value::String(s) => text.push(s.clone()),
            Value::Object(o) => {
                let ty = o
                    .get("content_type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match ty {
                    "audio_transcription" => {
                        if let Some(t) = text_of(o.get("text")) {
                            text.push(t);
                        }
                    }
                    "image_asset_pointer"
                    | "audio_asset_pointer"
                    | "real_time_user_audio_video_asset_pointer"
                    | "video_container_asset_pointer" => {
                        flush(&mut text, &mut out);
                        out.push(pointer(ty, o));
                    }
                    _ => sink.skip(
                        &format!("content part {ty:?}"),
                        "not a kind of content scrollback knows",
                        1,
                    ),
                }
            }
            _ => sink.skip("content part", "neither text nor an object", 1),
        }
    }
    flush(&mut text, &mut out);
    out
}

/// A placeholder for an image, audio or video pointer: what it is and how
/// large, never the bytes (which the export keeps as separate files).
fn pointer(ty: &str, o: &Map<String, Value>) -> Part {
    let what = if ty.starts_with("image") {
        "image"
    } else if ty.starts_with("audio") {
        "audio"
    } else {
        "video"
    };
    let bytes = o.get("size_bytes").and_then(Value::as_u64);
    let size = match (
        o.get("width").and_then(Value::as_u64),
        o.get("height").and_then(Value::as_u64),
    ) {
        (Some(w), Some(h)) => Some(format!("{w}x{h}")),
        _ => None,
    };
    let media = text_of(o.get("format")).map(|f| {
        if f.contains('/') {
            f
        } else {
            format!("{what}/{f}")
        }
    });
    let mut p = placeholder(what, media.as_deref(), bytes, size.as_deref());
    if let Some(ptr) = text_of(o.get("asset_pointer")) {
        p.metadata.insert("asset_pointer".into(), ptr.into());
    }
    p
}

/// An image (or other attachment) placeholder: `[image: image/png, 1024x768,
/// 12 KB]` with whatever is known, and metadata `media_type` and `bytes`.
fn placeholder(
    what: &str,
    media_type: Option<&str>,
    bytes: Option<u64>,
    extra: Option<&str>,
) -> Part {
    let mut facts: Vec<String> = Vec::new();
    facts.extend(media_type.map(str::to_string));
    facts.extend(extra.map(str::to_string));
    facts.extend(bytes.map(human_bytes));
    let text = if facts.is_empty() {
        format!("[{what}]")
    } else {
        format!("[{what}: {}]", facts.join(", "))
    };
    let mut p = Part::new(Kind::Image, text);
    p.metadata.insert(
        "media_type".into(),
        media_type.unwrap_or(what).to_string().into(),
    );
    if let Some(b) = bytes {
        p.metadata.insert("bytes".into(), b.into());
    }
    p
}

/// An attachment placeholder as a message (for the other importers).
pub(super) fn placeholder_message(
    what: &str,
    media_type: Option<&str>,
    bytes: Option<u64>,
    extra: Option<&str>,
) -> MessageDoc {
    let p = placeholder(what, media_type, bytes, extra);
    MessageDoc {
        kind: Kind::Image,
        content: p.text,
        metadata: p.metadata,
        ..MessageDoc::default()
    }
}

/// `12 KB`, `1.5 MB`, `800 B`.
fn human_bytes(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let x = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.0} KB", x / 1024.0)
    } else {
        format!("{:.1} MB", x / (1024.0 * 1024.0))
    }
}

/// A tool call's one-line summary: `python: import pandas as pd`, cut to 200 characters.
pub(super) fn tool_summary(tool: &str, input: &str) -> String {
    let first = input
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let line = if first.is_empty() {
        tool.to_string()
    } else {
        format!("{tool}: {first}")
    };
    cut(&line, 200)
}

/// A string field, `None` when absent, null, empty or not a string
/// (a number is taken as its text).
pub(super) fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_file_names() {
        for yes in [
            "conversations.json",
            "conversations-000.json",
            "x/conversations-12.json",
        ] {
            assert!(is_conversations_name(yes), "{yes}");
        }
        for no in [
            "user.json",
            "conversations.jsonl",
            "conversations-.json",
            "conversations-a.json",
            "shared_conversations.json",
            "chat.html",
        ] {
            assert!(!is_conversations_name(no), "{no}");
        }
    }

    #[test]
    fn summaries_and_sizes() {
        assert_eq!(
            tool_summary("python", "\n  import os\nprint(1)"),
            "python: import os"
        );
        assert_eq!(tool_summary("browser", ""), "browser");
        assert_eq!(tool_summary("t", &"x".repeat(500)).chars().count(), 200);
        assert_eq!(human_bytes(800), "800 B");
        assert_eq!(human_bytes(125_000), "122 KB");
        assert_eq!(human_bytes(3 * 1024 * 1024 / 2), "1.5 MB");
        assert_eq!(short_name("chatgpt", "67a1b2c3-d4e5"), "chatgpt-67a1b2c3");
    }
}
