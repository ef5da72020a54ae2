//! Open WebUI export: a JSON array of chat rows `{id, user_id, title, chat,
//! created_at, updated_at (epoch seconds), archived, pinned, meta{tags},
//! folder_id}`, or one bare `chat` object without the row around it.
//!
//! `chat = {title, models[], history{messages{ID: {id, parentId,
//! childrenIds, role, content, timestamp, model}}, currentId}, messages[],
//! tags}`. The history is a tree: the path to `currentId` is the session,
//! every other path (an edited prompt, a regenerated reply, the replies of
//! several models side by side) a branch, made by [`super::tree`]. A chat
//! without a history (older exports) is the chain of its `messages`.
//!
//! An assistant reply's `<details type="reasoning">` blocks become thinking
//! messages before its text, and `<details type="tool_calls">` blocks a
//! tool call and its result; attached images (`files` of type `image`)
//! become placeholders. Token counts come from `usage` (or Ollama's `info`).
//!
//! The row's `id` is the `source_ref` (`open-webui`); `archived` sets the
//! archive time (the update time), `pinned` adds the tag `pinned`,
//! `meta.tags` and `chat.tags` are tags (made valid: spaces become `-`),
//! `folder_id`, `user_id` and the first of `models` go to the metadata.

use std::io::BufRead;
use std::path::Path;

use serde_json::{Map, Value};

use super::chatgpt::{placeholder_message, text_of, tool_summary};
use super::ids::content_ref;
use super::json::for_each_element;
use super::seed::{content_text, time};
use super::tree::{self, Tree};
use super::{Sink, archived_time, first_prompt_title, short_name};
use crate::domain::{Kind, MessageDoc, Role, SessionDoc, Tokens};
use crate::error::Result;

/// Reads an export: an array of chat rows, or one row, or one bare chat.
pub fn read<R: BufRead>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    for_each_element(path, reader, "chats", |v: Value| element(v, sink))?;
    Ok(())
}

fn element(v: Value, sink: &mut dyn Sink) -> Result<()> {
    let Value::Object(mut row) = v else {
        sink.skip("chat", "not a JSON object", 1);
        return Ok(());
    };
    let chat = match row.remove("chat") {
        Some(Value::Object(chat)) => chat,
        // Some exports keep the chat as the JSON text of the database column.
        Some(Value::String(s)) => match serde_json::from_str(&s) {
            Ok(Value::Object(chat)) => chat,
            _ => {
                sink.skip("chat", "its \"chat\" is text that is not a JSON object", 1);
                return Ok(());
            }
        },
        Some(_) => {
            sink.skip("chat", "its \"chat\" is not an object", 1);
            return Ok(());
        }
        None if row.contains_key("history") || row.contains_key("messages") => {
            // A bare chat: the row is the chat itself.
            let chat = row;
            row = Map::new();
            chat
        }
        None => {
            sink.skip(
                "chat",
                "neither a row with a \"chat\" nor a chat with a \"history\"",
                1,
            );
            return Ok(());
        }
    };
    let tree = history(&chat, sink);
    let current = chat
        .get("history")
        .and_then(|h| text_of(h.get("currentId")));
    let node_ids = tree.1;
    let paths = tree.0.into_paths(current.as_deref());
    if paths.iter().all(|p| p.messages.is_empty()) {
        sink.skip("chat", "no message in it", 1);
        return Ok(());
    }
    let title = text_of(row.get("title"))
        .or_else(|| text_of(chat.get("title")))
        .unwrap_or_default();
    let id = text_of(row.get("id"))
        .or_else(|| text_of(chat.get("id")))
        .unwrap_or_else(|| {
            let created = chat
                .get("timestamp")
                .map(Value::to_string)
                .unwrap_or_default();
            content_ref(
                [title.as_str(), created.as_str()]
                    .into_iter()
                    .chain(node_ids.iter().map(String::as_str)),
            )
        });
    let created_at = row
        .get("created_at")
        .and_then(time)
        .or_else(|| chat.get("timestamp").and_then(time));
    let updated_at = row.get("updated_at").and_then(time);
    let mut tags: Vec<String> = Vec::new();
    let mut add_tags = |v: Option<&Value>, sink: &mut dyn Sink| {
        for t in v.and_then(Value::as_array).into_iter().flatten() {
            let name = match t {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => o
                    .get("name")
                    .or_else(|| o.get("id"))
                    .and_then(Value::as_str),
                _ => None,
            };
            match name.map(tag).filter(|t| !t.is_empty()) {
                Some(t) => tags.push(t),
                None => sink.skip("tag", "empty or not text", 1),
            }
        }
    };
    add_tags(row.get("meta").and_then(|m| m.get("tags")), sink);
    add_tags(chat.get("tags"), sink);
    if row.get("pinned").and_then(Value::as_bool) == Some(true) {
        tags.push("pinned".into());
    }
    let mut metadata = Map::new();
    let models = chat.get("models").and_then(Value::as_array);
    if let Some(model) = models.and_then(|m| m.iter().find_map(|x| text_of(Some(x)))) {
        metadata.insert("model".into(), model.into());
    }
    for key in ["folder_id", "user_id"] {
        if let Some(v) = text_of(row.get(key)) {
            metadata.insert(key.into(), v.into());
        }
    }
    let main = &paths[0].messages;
    let archived = row.get("archived").and_then(Value::as_bool) == Some(true);
    let base = SessionDoc {
        name: Some(short_name("webui", &id)),
        title: if title.trim().is_empty() {
            first_prompt_title(main)
        } else {
            title
        },
        created_at,
        updated_at,
        archived_at: archived_time(archived, updated_at, created_at, main),
        tags,
        metadata,
        source: Some("open-webui".into()),
        source_ref: Some(id),
        ..SessionDoc::default()
    };
    for doc in tree::sessions(&base, paths) {
        sink.session(doc)?;
    }
    Ok(())
}

/// The chat's messages as a tree, and the ids of its nodes (in order).
fn history(chat: &Map<String, Value>, sink: &mut dyn Sink) -> (Tree, Vec<String>) {
    let mut tree = Tree::new();
    let mut ids = Vec::new();
    let from_history = chat
        .get("history")
        .and_then(|h| h.get("messages"))
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty());
    if let Some(messages) = from_history {
        for (key, m) in messages {
            let Some(m) = m.as_object() else {
                sink.skip("message", "not a JSON object", 1);
                continue;
            };
            let id = text_of(m.get("id")).unwrap_or_else(|| key.clone());
            let parent = text_of(m.get("parentId"));
            tree.add(&id, parent.as_deref(), convert(&id, m, sink));
            ids.push(id);
        }
    } else {
        // No history: `messages` is the chain itself.
        let mut previous: Option<String> = None;
        for (i, m) in chat
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Some(m) = m.as_object() else {
                sink.skip("message", "not a JSON object", 1);
                continue;
            };
            let id = text_of(m.get("id")).unwrap_or_else(|| format!("m{i}"));
            let parent = text_of(m.get("parentId")).or(previous.take());
            tree.add(&id, parent.as_deref(), convert(&id, m, sink));
            previous = Some(id.clone());
            ids.push(id);
        }
    }
    (tree, ids)
}

/// The messages of one history entry: its thinking, text, tool calls and
/// results, and attached images.
fn convert(id: &str, m: &Map<String, Value>, sink: &mut dyn Sink) -> Vec<MessageDoc> {
    let role = match m.get("role").and_then(Value::as_str) {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("system") => Role::System,
        Some("tool") => Role::Tool,
        _ => {
            sink.skip(
                "message",
                "its role is not user, assistant, system nor tool",
                1,
            );
            return Vec::new();
        }
    };
    let created_at = m.get("timestamp").and_then(time);
    let model = text_of(m.get("model")).filter(|_| role == Role::Assistant);
    let mut content = m.get("content").map(content_text).unwrap_or_default();
    let error = m
        .get("error")
        .filter(|e| !e.is_null() && *e != &Value::Bool(false));
    if content.trim().is_empty() {
        // A reply that failed shows its error instead.
        if let Some(e) = error {
            content = e
                .get("content")
                .and_then(Value::as_str)
                .map_or_else(|| content_text(e), str::to_string);
        }
    }
    let mut out: Vec<MessageDoc> = Vec::new();
    for f in m
        .get("files")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if f.get("type").and_then(Value::as_str) == Some("image") {
            out.push(image(f));
        } else {
            let name = f
                .get("name")
                .or_else(|| f.get("file").and_then(|x| x.get("filename")))
                .and_then(Value::as_str);
            let mut doc = placeholder_message("file", None, None, name);
            if let Some(n) = name {
                doc.metadata.insert("name".into(), n.into());
            }
            out.push(doc);
        }
    }
    let pieces = if role == Role::Assistant {
        split_details(&content)
    } else {
        vec![Piece::Text(content.clone())]
    };
    for piece in pieces {
        match piece {
            Piece::Text(t) if t.trim().is_empty() => {}
            Piece::Text(t) => out.push(MessageDoc {
                role: Some(role),
                kind: if role == Role::System {
                    Kind::Context
                } else if role == Role::Tool {
                    Kind::ToolResult
                } else {
                    Kind::Text
                },
                content: t,
                ..MessageDoc::default()
            }),
            Piece::Thinking(t) => out.push(MessageDoc {
                role: Some(Role::Assistant),
                kind: Kind::Thinking,
                content: t,
                ..MessageDoc::default()
            }),
            Piece::Call {
                id: call,
                name,
                arguments,
                result,
            } => {
                let input = serde_json::from_str::<Value>(&arguments)
                    .unwrap_or_else(|_| Value::String(arguments.clone()));
                let mut meta = Map::new();
                meta.insert("tool".into(), name.clone().into());
                meta.insert("call_id".into(), call.clone().into());
                meta.insert("input".into(), input);
                out.push(MessageDoc {
                    role: Some(Role::Assistant),
                    kind: Kind::ToolCall,
                    content: tool_summary(&name, &arguments),
                    metadata: meta,
                    ..MessageDoc::default()
                });
                if let Some(result) = result {
                    // The result is often JSON text of a string: show the string.
                    let result = match serde_json::from_str::<Value>(&result) {
                        Ok(Value::String(s)) => s,
                        _ => result,
                    };
                    let mut meta = Map::new();
                    meta.insert("call_id".into(), call.into());
                    meta.insert("tool".into(), name.into());
                    out.push(MessageDoc {
                        role: Some(Role::Tool),
                        kind: Kind::ToolResult,
                        content: result,
                        metadata: meta,
                        ..MessageDoc::default()
                    });
                }
            }
        }
    }
    if out.is_empty() {
        sink.skip("message", "empty", 1);
        return out;
    }
    let tokens = tokens(m);
    let last_text = out.iter().rposition(|d| d.kind == Kind::Text);
    let error = m
        .get("error")
        .filter(|e| !e.is_null() && *e != &Value::Bool(false));
    // Tokens and errors belong to the reply's text (else its last part).
    let target = last_text.unwrap_or(out.len() - 1);
    for (n, doc) in out.iter_mut().enumerate() {
        doc.role = doc.role.or(Some(role));
        doc.created_at = created_at;
        if doc.role == Some(Role::Assistant) {
            doc.model.clone_from(&model);
        }
        if n == target {
            doc.tokens = tokens.filter(|_| role == Role::Assistant);
            if let Some(e) = error {
                doc.metadata.insert("is_error".into(), true.into());
                doc.metadata.insert("error".into(), e.clone());
            }
        }
        doc.source_id = Some(if n == 0 {
            id.to_string()
        } else {
            format!("{id}/{n}")
        });
    }
    out
}

/// Token counts of a reply: OpenAI's `usage`, or Ollama's `info`.
fn tokens(m: &Map<String, Value>) -> Option<Tokens> {
    let pick = |o: Option<&Value>, keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| o.and_then(|o| o.get(*k)).and_then(Value::as_u64))
    };
    let usage = m.get("usage");
    let info = m.get("info");
    let input = pick(usage, ["prompt_tokens", "input_tokens"])
        .or_else(|| pick(info, ["prompt_eval_count", "prompt_tokens"]));
    let output = pick(usage, ["completion_tokens", "output_tokens"])
        .or_else(|| pick(info, ["eval_count", "completion_tokens"]));
    (input.is_some() || output.is_some()).then(|| Tokens {
        input: input.unwrap_or(0),
        output: output.unwrap_or(0),
    })
}

/// A placeholder for an attached image: the media type and size read off a
/// `data:` URL (never the bytes), else the URL in the metadata.
fn image(f: &Value) -> MessageDoc {
    let url = f.get("url").and_then(Value::as_str).unwrap_or_default();
    if let Some(rest) = url.strip_prefix("data:") {
        let (head, data) = rest.split_once(',').unwrap_or((rest, ""));
        let media = head.split(';').next().filter(|m| !m.is_empty());
        let bytes = if head.ends_with(";base64") {
            let pad = data.bytes().rev().take_while(|&b| b == b'=').count();
            (data.len() / 4 * 3).saturating_sub(pad) as u64
        } else {
            data.len() as u64
        };
        placeholder_message("image", media, Some(bytes), None)
    } else {
        let mut doc = placeholder_message("image", None, None, None);
        if !url.is_empty() {
            doc.metadata.insert("url".into(), url.into());
        }
        doc
    }
}

/// A tag as scrollback takes it: white space and commas made `-`, no
/// leading `+` or `-`, at most 100 characters.
fn tag(name: &str) -> String {
    let t: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == ',' {
                '-'
            } else {
                c
            }
        })
        .filter(|&c| !crate::sanitize::is_unsafe(c))
        .collect();
    t.trim_start_matches(['+', '-']).chars().take(100).collect()
}

/// A part of an assistant reply.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Thinking(String),
    Call {
        id: String,
        name: String,
        arguments: String,
        result: Option<String>,
    },
}

/// Splits a reply at its `<details type="reasoning">` and
/// `<details type="tool_calls">` blocks; other details stay in the text.
fn split_details(content: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = content;
    while let Some(start) = rest.find("<details") {
        let Some(open_end) = rest[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        let open = &rest[start..open_end];
        let Some(close) = rest[open_end..].find("</details>").map(|i| open_end + i) else {
            break;
        };
        let inner = &rest[open_end..close];
        let ty = attr(open, "type");
        match ty.as_deref() {
            Some("reasoning" | "tool_calls") => {
                text.push_str(&rest[..start]);
                if !text.trim().is_empty() {
                    out.push(Piece::Text(text.trim().to_string()));
                }
                text.clear();
                if ty.as_deref() == Some("reasoning") {
                    out.push(Piece::Thinking(reasoning_text(inner)));
                } else {
                    out.push(Piece::Call {
                        id: attr(open, "id").unwrap_or_default(),
                        name: attr(open, "name").unwrap_or_else(|| "tool".into()),
                        arguments: attr(open, "arguments").unwrap_or_default(),
                        result: attr(open, "result"),
                    });
                }
            }
            _ => text.push_str(&rest[..close + "</details>".len()]),
        }
        rest = &rest[close + "</details>".len()..];
    }
    text.push_str(rest);
    if !text.trim().is_empty() {
        out.push(Piece::Text(text.trim().to_string()));
    }
    out
}

/// The reasoning of a details block: without its `<summary>` and the `> `
/// that quotes each line.
fn reasoning_text(inner: &str) -> String {
    let body = match (inner.find("<summary>"), inner.find("</summary>")) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{}", &inner[..a], &inner[b + "</summary>".len()..])
        }
        _ => inner.to_string(),
    };
    body.lines()
        .map(|l| {
            let t = l.trim_start();
            t.strip_prefix("> ")
                .or_else(|| t.strip_prefix('>'))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// An attribute of an HTML opening tag, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_blocks_split_a_reply() {
        let reply = "<details type=\"reasoning\" done=\"true\" duration=\"2\">\n<summary>Thought for 2 seconds</summary>\n> Think\n> harder\n</details>\nAnswer <details type=\"tool_calls\" done=\"true\" id=\"c1\" name=\"weather\" arguments=\"{&quot;city&quot;:&quot;Oslo&quot;}\" result=\"&quot;rain&quot;\">\n<summary>Tool Executed</summary>\n</details>\nDone. <details type=\"other\"><summary>x</summary>y</details>";
        assert_eq!(
            split_details(reply),
            vec![
                Piece::Thinking("Think\nharder".into()),
                Piece::Text("Answer".into()),
                Piece::Call {
                    id: "c1".into(),
                    name: "weather".into(),
                    arguments: "{\"city\":\"Oslo\"}".into(),
                    result: Some("\"rain\"".into()),
                },
                Piece::Text("Done. <details type=\"other\"><summary>x</summary>y</details>".into()),
            ]
        );
        assert_eq!(split_details("plain"), vec![Piece::Text("plain".into())]);
    }

    #[test]
    fn tags_are_made_valid() {
        assert_eq!(tag("Machine Learning"), "Machine-Learning");
        assert_eq!(tag(" -x,y "), "x-y");
        assert_eq!(tag("   "), "");
    }
}
