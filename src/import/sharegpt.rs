//! ShareGPT: a JSON array (or JSON Lines) of conversations
//! `{id?, conversations: [{from, value}], system?}`; some variants use
//! `messages: [{role, content}]`. `from` is `human`, `gpt`, `system`,
//! `function_call` (a tool call) or `observation` (its result).
//! Conversations carry no times.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::ids::ContentHash;
use super::json::{first_byte, for_each_element, for_each_object};
use super::seed::content_text;
use super::{Sink, one_line};
use crate::domain::{Kind, MessageDoc, Role, SessionDoc};
use crate::error::Result;

#[derive(Deserialize)]
struct Conversation {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    conversations: Option<Value>,
    #[serde(default)]
    messages: Option<Value>,
    #[serde(default)]
    system: Option<Value>,
}

/// Reads every conversation of an array, or of JSON Lines; a file cut in
/// the middle stops with [`crate::Error::Truncated`] after the complete ones
/// were delivered.
///
/// A conversation's source reference is its id; one without a usable id is
/// known by a hash of its content, and a repeated id that comes with other
/// content gets that hash appended, so that importing the same file twice
/// adds nothing and no conversation is lost.
pub fn read<R: BufRead>(path: &Path, mut reader: R, sink: &mut dyn Sink) -> Result<()> {
    let mut index = 0u64;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut each = |c: Conversation| {
        index += 1;
        let turns = match (c.conversations, c.messages) {
            (Some(Value::Array(t)), None | Some(Value::Null))
            | (None | Some(Value::Null), Some(Value::Array(t))) => t,
            (Some(Value::Array(conversations)), Some(Value::Array(messages))) => {
                if conversations.is_empty() {
                    messages
                } else {
                    conversations
                }
            }
            (None, None) => {
                return Err(crate::Error::Parse {
                    path: path.to_path_buf(),
                    location: format!("conversation {index}"),
                    reason: "not a ShareGPT conversation: it has neither \"conversations\" nor \"messages\"; \
                             expected {\"conversations\": [{\"from\", \"value\"}]}"
                        .into(),
                });
            }
            _ => {
                sink.skip(
                    "conversation",
                    "its \"conversations\" or \"messages\" is not a list",
                    1,
                );
                return Ok(());
            }
        };
        let system = c.system.as_ref().map(content_text).unwrap_or_default();
        let mut messages = Vec::new();
        if !system.trim().is_empty() {
            messages.push(message(Role::System, Kind::Text, system.clone()));
        }
        let mut hash = ContentHash::new();
        hash.field(&system);
        for t in &turns {
            let from = t
                .get("from")
                .or_else(|| t.get("role"))
                .and_then(Value::as_str);
            let value = t
                .get("value")
                .or_else(|| t.get("content"))
                .unwrap_or(&Value::Null);
            let Some(from) = from else {
                sink.skip("turn", "it has no \"from\" (or \"role\") text", 1);
                continue;
            };
            if value.is_null() {
                sink.skip("turn", "its value is null", 1);
                continue;
            }
            let text = content_text(value);
            hash.field(from).field(&text);
            let m = match from {
                "human" | "user" => message(Role::User, Kind::Text, text),
                "gpt" | "assistant" | "chatgpt" | "bard" | "model" => {
                    message(Role::Assistant, Kind::Text, text)
                }
                "system" => message(Role::System, Kind::Text, text),
                "function_call" | "tool_call" => tool_call(&text),
                "observation" | "tool" | "function" | "tool_response" => {
                    message(Role::Tool, Kind::ToolResult, text)
                }
                other => {
                    sink.skip(
                        &format!("turn from {other:?}"),
                        "not a role ShareGPT defines",
                        1,
                    );
                    continue;
                }
            };
            messages.push(m);
        }
        let content = format!("h:{}", hash.hex());
        let id = match &c.id {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        // The first conversation with an id keeps it; another with the same
        // id and other content is told apart by its content; the same id with
        // the same content is the same conversation.
        let source_ref = match id {
            None => content.clone(),
            Some(id) => match seen.get(&id) {
                None => {
                    seen.insert(id.clone(), content.clone());
                    id
                }
                Some(first) if *first == content => id,
                Some(_) => format!("{id}#{}", &content[2..14]),
            },
        };
        let title = messages
            .iter()
            .find(|m| m.role == Some(Role::User))
            .map(|m| {
                m.content
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(80)
                    .collect()
            })
            .unwrap_or_default();
        let name = match source_ref.strip_prefix("h:") {
            Some(hex) => format!("sharegpt-{}", &hex[..8]),
            None => super::clean_name(&format!("sharegpt-{source_ref}")),
        };
        sink.session(SessionDoc {
            uid: Some(super::ids::uid_for("sharegpt", &source_ref)),
            name: Some(name),
            title,
            source: Some("sharegpt".into()),
            source_ref: Some(source_ref),
            messages,
            ..SessionDoc::default()
        })
    };
    if first_byte(path, &mut reader)? == Some(b'[') {
        for_each_element(path, reader, "conversations", &mut each)?;
    } else {
        for_each_object(path, reader, "conversations", &mut each)?;
    }
    Ok(())
}

fn message(role: Role, kind: Kind, content: String) -> MessageDoc {
    MessageDoc {
        role: Some(role),
        kind,
        content,
        ..MessageDoc::default()
    }
}

/// A `function_call` turn: usually JSON `{"name", "arguments"}`; its text
/// becomes `name: arguments` on one line, the whole call kept as `input`.
fn tool_call(text: &str) -> MessageDoc {
    let mut metadata = Map::new();
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let name = parsed
        .as_ref()
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let summary = match (&name, &parsed) {
        (Some(n), Some(v)) => {
            let args = v
                .get("arguments")
                .or_else(|| v.get("parameters"))
                .map(|a| match a {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            one_line(&format!("{n}: {args}"), 200)
        }
        _ => one_line(text, 200),
    };
    if let Some(n) = name {
        metadata.insert("tool".into(), Value::from(n));
    }
    metadata.insert("input".into(), parsed.unwrap_or_else(|| Value::from(text)));
    MessageDoc {
        role: Some(Role::Assistant),
        kind: Kind::ToolCall,
        content: summary,
        metadata,
        ..MessageDoc::default()
    }
}
