//! ShareGPT: a JSON array (or JSON Lines) of conversations
//! `{id?, conversations: [{from, value}], system?}`; some variants use
//! `messages: [{role, content}]`. `from` is `human`, `gpt`, `system`,
//! `function_call` or `observation`. Conversations carry no times. Ids are
//! not unique in real files: a repeated id gets a `#n` suffix.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Sink;
use super::json::{first_byte, for_each_element, for_each_object};
use super::seed::content_text;
use crate::domain::{MessageDoc, Role, SessionDoc};
use crate::error::Result;

#[derive(Deserialize)]
struct Conversation {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    conversations: Option<Vec<Turn>>,
    #[serde(default)]
    messages: Option<Vec<Turn>>,
    #[serde(default)]
    system: Option<String>,
}

#[derive(Deserialize)]
struct Turn {
    #[serde(alias = "role")]
    from: String,
    #[serde(alias = "content", default)]
    value: Value,
}

/// Reads every conversation of an array, or of JSON Lines; a file cut in
/// the middle stops with [`crate::Error::Truncated`] after the complete ones
/// were delivered.
pub fn read<R: BufRead>(path: &Path, mut reader: R, sink: &mut dyn Sink) -> Result<()> {
    let mut index = 0u64;
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut each = |c: Conversation| {
        index += 1;
        let id = match &c.id {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        // Ids repeat in real files: the n-th conversation with one id is `id#n`,
        // so every conversation is kept and re-importing stays idempotent.
        let id = id.map(|id| {
            let n = seen.entry(id.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { id } else { format!("{id}#{n}") }
        });
        let mut messages = Vec::new();
        if let Some(system) = c.system.filter(|s| !s.trim().is_empty()) {
            messages.push(message(Role::System, system, None));
        }
        let turns = match (c.conversations, c.messages) {
            (Some(turns), None) | (None, Some(turns)) => turns,
            (Some(conversations), Some(messages)) => {
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
        };
        let mut skipped = 0;
        for t in turns {
            let (role, kind) = match t.from.as_str() {
                "human" | "user" => (Role::User, None),
                "gpt" | "assistant" | "chatgpt" | "bard" | "model" => (Role::Assistant, None),
                "system" => (Role::System, None),
                "function_call" => (Role::Assistant, Some("function_call")),
                "observation" | "tool" | "function" => (Role::Tool, None),
                _ => {
                    skipped += 1;
                    continue;
                }
            };
            messages.push(message(role, content_text(&t.value), kind));
        }
        sink.skip(
            "message",
            "its role is not one of system, user, assistant, tool",
            skipped,
        );
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
        let name = match &id {
            Some(id) => super::clean_name(&format!("sharegpt-{id}")),
            None => format!("sharegpt-{index}"),
        };
        sink.session(SessionDoc {
            name: Some(name),
            title,
            source: Some("sharegpt".into()),
            source_ref: id,
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

fn message(role: Role, content: String, kind: Option<&str>) -> MessageDoc {
    let mut metadata = Map::new();
    if let Some(k) = kind {
        metadata.insert("kind".into(), Value::from(k));
    }
    MessageDoc {
        role: Some(role),
        content,
        metadata,
        ..MessageDoc::default()
    }
}
