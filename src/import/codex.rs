//! OpenAI Codex CLI rollout files
//! (`~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`), both
//! generations, one session per file.
//!
//! - Newer: lines `{timestamp, type, payload}` with `type` one of
//!   `session_meta` (id, cwd, git, cli version, `forked_from_id`...),
//!   `response_item` (what was sent to and received from the model),
//!   `turn_context` (the model of the turns that follow), `event_msg` (the
//!   interface's events) and `compacted` (a compaction summary).
//! - Older: a bare `{id, timestamp, instructions, git}` first line, then
//!   `{"record_type": "state"}` lines and bare response items.
//!
//! Mapping: `message` items by role (the person's prompt is `user`/`text`;
//! text the tool injected — `<environment_context>`, `<user_instructions>`,
//! AGENTS.md — and `developer`/`system` messages are `system`/`context`),
//! `reasoning` is `thinking` (its summary texts), every kind of call is a
//! `tool_call` with a one-line summary, outputs are `tool_result`,
//! `input_image` parts are `image` placeholders, `compacted` is `summary`.
//!
//! `event_msg` lines repeat the text of the response items, so they never
//! give a message of their own, with one exception: a `user_message` event
//! no response item carries. They lend the token counts (`token_count`, given
//! to the assistant message it counts) and the person's prompt as typed
//! (a prompt with images reaches the model split around them). Events the
//! conversation does not need are counted as skipped.
//!
//! Lines carry no ids: a message's source id is its line number and a hash
//! of the line's time and kind, so a file that grew keeps the ids of what
//! it held. A fork (`forked_from_id`) or a spawned subagent names its parent
//! session.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::ids::{content_ref, uid_for};
use super::json::{LinesRead, for_each_line_upto};
use super::{Sink, TailPoint, first_prompt_title, one_line};
use crate::domain::{Kind, MessageDoc, Role, SessionDoc, Tokens, parse_time};
use crate::error::{Error, Result};

const SOURCE: &str = "codex";

/// Longest one-line summary of a tool call, in characters.
const SUMMARY_CHARS: usize = 200;

/// Reads one rollout file: one session. A file cut in the middle of its
/// last line gives the session of its complete lines, then
/// [`Error::Truncated`].
pub fn read<R: BufRead>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    let mut rollout = Rollout::default();
    let mut at = LinesRead::default();
    let read = rollout.read_lines(path, reader, &mut at, sink);
    let cut = match read {
        Ok(()) => None,
        // The complete lines make the session (kept with `--partial`).
        Err(cut @ Error::Truncated { .. }) => Some(cut),
        Err(e) => return Err(e),
    };
    let state = rollout.state();
    match rollout.into_session(path) {
        Ok(doc) => {
            if let (Some(last), Some(id)) = (
                doc.messages.last().and_then(|m| m.source_id.clone()),
                doc.source_ref.clone(),
            ) {
                sink.resume_point(TailPoint {
                    upto: at.bytes,
                    lines: at.lines,
                    source_ref: id,
                    last_source: last,
                    state: serde_json::to_value(state).ok(),
                    ..TailPoint::default()
                });
            }
            sink.session(doc)?;
        }
        Err(e) if cut.is_none() => return Err(e),
        Err(_) => {}
    }
    cut.map_or(Ok(()), Err)
}

/// Reads the lines a rollout gained since `point` (the reader starts
/// there) and delivers the messages they add to its session. False, with
/// nothing delivered, when the point cannot be gone on from.
pub fn read_tail<R: BufRead>(
    path: &Path,
    reader: R,
    sink: &mut dyn Sink,
    point: &TailPoint,
) -> Result<bool> {
    let Some(state) = point
        .state
        .clone()
        .and_then(|s| serde_json::from_value::<State>(s).ok())
        .filter(|s| s.messages <= MAX_HELD_BACK)
    else {
        return Ok(false);
    };
    let base = state.messages;
    let mut rollout = Rollout::from_state(state);
    let mut at = LinesRead {
        bytes: 0,
        lines: point.lines,
    };
    // A line being written (cut) is read next time.
    match rollout.read_lines(path, reader, &mut at, sink) {
        Ok(()) | Err(Error::Truncated { .. }) => {}
        Err(e) => return Err(e),
    }
    let state = rollout.state();
    let mut doc = rollout.into_session(path)?;
    if doc.source_ref.as_deref() != Some(point.source_ref.as_str()) || doc.messages.len() < base {
        return Ok(false);
    }
    doc.messages.drain(..base);
    sink.resume_point(TailPoint {
        upto: point.upto + at.bytes,
        lines: at.lines,
        source_ref: point.source_ref.clone(),
        last_source: doc
            .messages
            .last()
            .and_then(|m| m.source_id.clone())
            .unwrap_or_else(|| point.last_source.clone()),
        state: serde_json::to_value(state).ok(),
        ..TailPoint::default()
    });
    sink.session(doc)?;
    Ok(true)
}

/// A rollout read from a point stands its earlier messages in with empty
/// ones (what the lines after refer to by place); past this many, the
/// file is read whole instead.
const MAX_HELD_BACK: usize = 200_000;

/// What a read of a rollout needs to go on from where another stopped:
/// everything [`Rollout`] keeps but the messages, which are counted.
#[derive(serde::Serialize, serde::Deserialize)]
struct State {
    /// The session's id (of the `session_meta` line, or of the file name).
    meta: Option<Map<String, Value>>,
    first_time: Option<Timestamp>,
    last_time: Option<Timestamp>,
    model: Option<String>,
    turn_cwd: Option<String>,
    messages: usize,
    awaiting_event: Option<Prompt>,
    awaiting_item: Option<(usize, String)>,
    since_tokens: usize,
}

/// The person's prompt taken from a response item, until the
/// `user_message` event that repeats it comes.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Prompt {
    index: usize,
    first: String,
    /// Split in parts (around images): the event's text is the prompt as typed.
    split: bool,
}

/// A rollout read so far.
#[derive(Default)]
struct Rollout {
    /// The `session_meta` payload, or the older format's first line.
    meta: Option<Map<String, Value>>,
    first_time: Option<Timestamp>,
    last_time: Option<Timestamp>,
    /// The model of the current turn (`turn_context`).
    model: Option<String>,
    turn_cwd: Option<String>,
    messages: Vec<MessageDoc>,
    awaiting_event: Option<Prompt>,
    /// A prompt imported from its event, before any response item repeats it.
    awaiting_item: Option<(usize, String)>,
    /// First message not yet covered by a `token_count` event.
    since_tokens: usize,
}

impl Rollout {
    fn read_lines<R: BufRead>(
        &mut self,
        path: &Path,
        reader: R,
        at: &mut LinesRead,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        for_each_line_upto(path, reader, at, |line: Value, n| {
            let before = self.messages.len();
            self.line(line, n, sink);
            self.set_aside(before, sink)
        })
        .map(|_| ())
    }

    /// What the next read needs to go on from here. Of the session header
    /// only the ids are kept: what else it says is the session's, stored
    /// by the first read.
    fn state(&self) -> State {
        let meta = self.meta.as_ref().map(|m| {
            m.iter()
                .filter(|(k, _)| matches!(k.as_str(), "id" | "session_id"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        State {
            meta,
            first_time: self.first_time,
            last_time: self.last_time,
            model: self.model.clone(),
            turn_cwd: self.turn_cwd.clone(),
            messages: self.messages.len(),
            awaiting_event: self.awaiting_event.clone(),
            awaiting_item: self.awaiting_item.clone(),
            since_tokens: self.since_tokens,
        }
    }

    fn from_state(s: State) -> Rollout {
        Rollout {
            meta: s.meta,
            first_time: s.first_time,
            last_time: s.last_time,
            model: s.model,
            turn_cwd: s.turn_cwd,
            messages: vec![MessageDoc::default(); s.messages],
            awaiting_event: s.awaiting_event,
            awaiting_item: s.awaiting_item,
            since_tokens: s.since_tokens,
        }
    }

    /// Past the stash's budget, tool calls, their output and images (the
    /// bulk of a long rollout) wait on disk until the session is delivered.
    fn set_aside(&mut self, from: usize, sink: &mut dyn Sink) -> Result<()> {
        let end = self.messages.len();
        for m in self.messages.get_mut(from..end).unwrap_or_default() {
            if matches!(m.kind, Kind::ToolCall | Kind::ToolResult | Kind::Image) {
                *m = sink.stash().keep(std::mem::take(m))?;
            }
        }
        Ok(())
    }
}

/// Where messages of one line go, and how their source ids are made.
struct At {
    id: String,
    time: Option<Timestamp>,
    given: usize,
}

impl At {
    fn source_id(&mut self) -> String {
        self.given += 1;
        if self.given == 1 {
            self.id.clone()
        } else {
            format!("{}/{}", self.id, self.given - 1)
        }
    }
}

impl Rollout {
    fn line(&mut self, line: Value, n: u64, sink: &mut dyn Sink) {
        let Value::Object(mut obj) = line else {
            sink.skip("line", "not a JSON object", 1);
            return;
        };
        let stamp = obj
            .get("timestamp")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let stamp = stamp.as_str();
        let time = parse_time(stamp);
        if let Some(t) = time {
            self.first_time.get_or_insert(t);
            self.last_time = Some(t);
        }
        let ty = obj
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(payload) = obj.remove("payload") {
            let Value::Object(p) = payload else {
                sink.skip(&line_what(&ty), "its payload is not an object", 1);
                return;
            };
            let sub = p.get("type").and_then(Value::as_str).unwrap_or("");
            let mut at = At {
                id: line_id(n, stamp, &ty, sub),
                time,
                given: 0,
            };
            match ty.as_str() {
                "session_meta" => self.session_meta(p, sink),
                "response_item" => self.item(&p, &mut at, sink),
                "turn_context" => self.turn_context(&p),
                "event_msg" => self.event(&p, &mut at, sink),
                "compacted" => self.compacted(&p, &mut at, sink),
                _ => sink.skip(&line_what(&ty), "not a kind of line scrollback reads", 1),
            }
        } else if let Some(kind) = obj.get("record_type").and_then(Value::as_str) {
            sink.skip(
                &format!("record_type {kind:?}"),
                "state of the older format, not part of the conversation",
                1,
            );
        } else if !ty.is_empty() {
            // The older format: bare response items, no times.
            let mut at = At {
                id: line_id(n, stamp, "item", &ty),
                time,
                given: 0,
            };
            self.item(&obj, &mut at, sink);
        } else if self.meta.is_none() && obj.contains_key("id") {
            self.meta = Some(obj);
        } else {
            sink.skip("line", "neither a rollout line nor a response item", 1);
        }
    }

    fn session_meta(&mut self, p: Map<String, Value>, sink: &mut dyn Sink) {
        if self.meta.is_none() {
            self.meta = Some(p);
        } else {
            sink.skip(
                "line type \"session_meta\"",
                "a second session header (copied from the session this one was forked from)",
                1,
            );
        }
    }

    fn turn_context(&mut self, p: &Map<String, Value>) {
        if let Some(m) = text_of(p, "model") {
            self.model = Some(m.to_string());
        }
        if self.turn_cwd.is_none() {
            self.turn_cwd = text_of(p, "cwd").map(str::to_string);
        }
    }

    fn push(&mut self, at: &mut At, mut m: MessageDoc) -> usize {
        m.source_id = Some(at.source_id());
        if m.created_at.is_none() {
            m.created_at = at.time;
        }
        if m.role == Some(Role::Assistant) && m.model.is_none() {
            m.model.clone_from(&self.model);
        }
        if m.role == Some(Role::Assistant) {
            // The reply came: the prompt's event, if any, came before it.
            self.awaiting_event = None;
        }
        self.messages.push(m);
        self.awaiting_item = None;
        self.messages.len() - 1
    }

    fn item(&mut self, p: &Map<String, Value>, at: &mut At, sink: &mut dyn Sink) {
        let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "message" => self.message(p, at, sink),
            "reasoning" => self.reasoning(p, at, sink),
            "function_call" | "custom_tool_call" | "local_shell_call" | "web_search_call" => {
                self.call(ty, p, at);
            }
            "function_call_output" | "custom_tool_call_output" => self.output(p, at, sink),
            "" => sink.skip("response item", "it has no type", 1),
            other => sink.skip(
                &format!("response item {other:?}"),
                "not a kind of item scrollback reads",
                1,
            ),
        }
    }

    fn message(&mut self, p: &Map<String, Value>, at: &mut At, sink: &mut dyn Sink) {
        let role = p.get("role").and_then(Value::as_str).unwrap_or("");
        let (texts, images) = match p.get("content") {
            Some(Value::String(s)) => (vec![s.clone()], Vec::new()),
            Some(Value::Array(parts)) => content_parts(parts, sink),
            _ => {
                sink.skip("message", "it has no content", 1);
                return;
            }
        };
        let texts: Vec<String> = texts
            .into_iter()
            .filter(|t| !t.trim().is_empty() && !is_image_tag(t))
            .collect();
        if texts.is_empty() && images.is_empty() {
            sink.skip("message", "its content is empty", 1);
            return;
        }
        let phase = p.get("phase").and_then(Value::as_str);
        match role {
            "assistant" => {
                let mut m = doc(Role::Assistant, Kind::Text, texts.concat());
                if let Some(phase) = phase {
                    m.metadata.insert("phase".into(), Value::from(phase));
                }
                if !m.content.is_empty() {
                    self.push(at, m);
                }
                self.push_images(at, Role::Assistant, images);
            }
            "user" if texts.first().is_some_and(|t| is_injected(t)) => {
                self.push(at, doc(Role::System, Kind::Context, texts.join("\n\n")));
                self.push_images(at, Role::System, images);
            }
            "user" => self.prompt(&texts, images, at, sink),
            "developer" | "system" => {
                let mut m = doc(Role::System, Kind::Context, texts.join("\n\n"));
                m.metadata.insert("role".into(), Value::from(role));
                self.push(at, m);
                self.push_images(at, Role::System, images);
            }
            "" => sink.skip("message", "it has no role", 1),
            other => sink.skip(
                &format!("message of role {other:?}"),
                "not a role scrollback knows",
                1,
            ),
        }
    }

    /// The person's prompt from a response item.
    fn prompt(
        &mut self,
        texts: &[String],
        images: Vec<MessageDoc>,
        at: &mut At,
        sink: &mut dyn Sink,
    ) {
        let first = texts.first().cloned().unwrap_or_default();
        if let Some((_, typed)) = self.awaiting_item.take()
            && same_prompt(&typed, &first)
        {
            sink.skip(
                "user message",
                "repeats the user_message event just before it",
                1,
            );
            return;
        }
        let split = texts.len() > 1 || !images.is_empty();
        let index = self.push(at, doc(Role::User, Kind::Text, texts.join("\n")));
        self.push_images(at, Role::User, images);
        self.awaiting_event = Some(Prompt {
            index,
            first,
            split,
        });
    }

    fn push_images(&mut self, at: &mut At, role: Role, images: Vec<MessageDoc>) {
        for mut m in images {
            m.role = Some(role);
            self.push(at, m);
        }
    }

    fn reasoning(&mut self, p: &Map<String, Value>, at: &mut At, sink: &mut dyn Sink) {
        let texts = |key: &str| -> Vec<String> {
            p.get(key)
                .and_then(Value::as_array)
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|s| s.get("text").and_then(Value::as_str))
                        .filter(|t| !t.trim().is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut parts = texts("summary");
        if parts.is_empty() {
            parts = texts("content");
        }
        if parts.is_empty() {
            sink.skip(
                "reasoning",
                "it holds no readable text (only encrypted content)",
                1,
            );
            return;
        }
        self.push(at, doc(Role::Assistant, Kind::Thinking, parts.join("\n\n")));
    }

    fn call(&mut self, ty: &str, p: &Map<String, Value>, at: &mut At) {
        let (tool, input) = match ty {
            "function_call" => (
                text_of(p, "name").unwrap_or("function").to_string(),
                match p.get("arguments") {
                    Some(Value::String(s)) => {
                        serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
                    }
                    Some(other) => other.clone(),
                    None => Value::Null,
                },
            ),
            "custom_tool_call" => (
                text_of(p, "name").unwrap_or("custom_tool").to_string(),
                p.get("input").cloned().unwrap_or(Value::Null),
            ),
            "local_shell_call" => (
                "local_shell".to_string(),
                p.get("action").cloned().unwrap_or(Value::Null),
            ),
            _ => (
                "web_search".to_string(),
                p.get("action").cloned().unwrap_or(Value::Null),
            ),
        };
        let call_id = text_of(p, "call_id").or_else(|| text_of(p, "id"));
        let mut m = doc(Role::Assistant, Kind::ToolCall, call_summary(&tool, &input));
        m.metadata.insert("tool".into(), Value::from(tool));
        if let Some(id) = call_id {
            m.metadata.insert("call_id".into(), Value::from(id));
        }
        if let Some(status) = text_of(p, "status") {
            m.metadata.insert("status".into(), Value::from(status));
        }
        m.metadata.insert("input".into(), input);
        self.push(at, m);
    }

    fn output(&mut self, p: &Map<String, Value>, at: &mut At, sink: &mut dyn Sink) {
        let Some(call_id) = text_of(p, "call_id") else {
            sink.skip("tool output", "it names no call (no call_id)", 1);
            return;
        };
        let mut m = doc(Role::Tool, Kind::ToolResult, String::new());
        m.metadata.insert("call_id".into(), Value::from(call_id));
        let mut images = Vec::new();
        match p.get("output") {
            Some(Value::String(s)) => {
                // Shell calls give `{"output": ..., "metadata": {"exit_code": ...}}` as text.
                match serde_json::from_str::<Value>(s) {
                    Ok(Value::Object(o)) if o.get("output").is_some_and(Value::is_string) => {
                        m.content = text_of(&o, "output").unwrap_or("").to_string();
                        let code = o
                            .get("metadata")
                            .and_then(|x| x.get("exit_code"))
                            .and_then(Value::as_i64);
                        if let Some(code) = code {
                            m.metadata.insert("exit_code".into(), Value::from(code));
                            if code != 0 {
                                m.metadata.insert("is_error".into(), Value::Bool(true));
                            }
                        }
                    }
                    _ => m.content.clone_from(s),
                }
            }
            Some(Value::Object(o)) => {
                m.content = match o.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(parts)) => {
                        let (texts, imgs) = content_parts(parts, sink);
                        images = imgs;
                        texts.join("\n")
                    }
                    _ => Value::Object(o.clone()).to_string(),
                };
                if o.get("success") == Some(&Value::Bool(false)) {
                    m.metadata.insert("is_error".into(), Value::Bool(true));
                }
            }
            Some(Value::Array(parts)) => {
                let (texts, imgs) = content_parts(parts, sink);
                images = imgs;
                m.content = texts.join("\n");
            }
            _ => {
                sink.skip("tool output", "it has no output", 1);
                return;
            }
        }
        self.push(at, m);
        self.push_images(at, Role::Tool, images);
    }

    fn compacted(&mut self, p: &Map<String, Value>, at: &mut At, sink: &mut dyn Sink) {
        if p.get("replacement_history").is_some_and(|h| !h.is_null()) {
            sink.skip(
                "compacted replacement_history",
                "copies of messages already imported",
                1,
            );
        }
        match text_of(p, "message").filter(|s| !s.trim().is_empty()) {
            Some(text) => {
                self.push(at, doc(Role::System, Kind::Summary, text.to_string()));
            }
            None => sink.skip("compacted", "it has no summary text", 1),
        }
    }

    fn event(&mut self, p: &Map<String, Value>, at: &mut At, sink: &mut dyn Sink) {
        let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "user_message" => self.user_event(p, at, sink),
            "token_count" => self.tokens(p, sink),
            "agent_message" | "agent_reasoning" | "agent_reasoning_raw_content" => {
                sink.skip(
                    &format!("event {ty:?}"),
                    "repeats the text of a response item",
                    1,
                );
            }
            "" => sink.skip("event", "it has no type", 1),
            other => sink.skip(
                &format!("event {other:?}"),
                "an event of the tool's interface, not part of the conversation",
                1,
            ),
        }
    }

    /// A `user_message` event: the prompt as the person typed it. It
    /// normally repeats the response item just before it; one that repeats
    /// nothing is the only record of the prompt, and is imported.
    fn user_event(&mut self, p: &Map<String, Value>, at: &mut At, sink: &mut dyn Sink) {
        let Some(typed) = text_of(p, "message") else {
            sink.skip("event \"user_message\"", "it has no message text", 1);
            return;
        };
        if let Some(prompt) = self.awaiting_event.take()
            && same_prompt(typed, &prompt.first)
        {
            if prompt.split && !typed.trim().is_empty() {
                self.messages[prompt.index].content = typed.to_string();
            }
            return;
        }
        let images: Vec<MessageDoc> = ["images", "local_images"]
            .iter()
            .filter_map(|k| p.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(|v| {
                v.as_str()
                    .or_else(|| v.get("path").and_then(Value::as_str))
                    .map(|s| image_doc(s, None))
            })
            .collect();
        if typed.trim().is_empty() && images.is_empty() {
            sink.skip("event \"user_message\"", "its message is empty", 1);
            return;
        }
        let index = if typed.trim().is_empty() {
            None
        } else {
            Some(self.push(at, doc(Role::User, Kind::Text, typed.to_string())))
        };
        self.push_images(at, Role::User, images);
        if let Some(index) = index {
            self.awaiting_item = Some((index, typed.to_string()));
        }
    }

    /// A `token_count` event: the usage of the model's last response, given
    /// to the assistant message it produced.
    fn tokens(&mut self, p: &Map<String, Value>, sink: &mut dyn Sink) {
        let usage: Option<&Map<String, Value>> = match p.get("info") {
            Some(Value::Object(info)) => info.get("last_token_usage").and_then(Value::as_object),
            // The oldest shape: the counts on the payload itself.
            _ if p.contains_key("input_tokens") => Some(p),
            _ => None,
        };
        let Some(usage) = usage else {
            sink.skip("event \"token_count\"", "it carries no token usage", 1);
            return;
        };
        let span = self.since_tokens..self.messages.len();
        let assistant = |m: &MessageDoc| m.role == Some(Role::Assistant);
        let target = span
            .clone()
            .rev()
            .find(|&i| assistant(&self.messages[i]) && self.messages[i].kind == Kind::Text)
            .or_else(|| span.rev().find(|&i| assistant(&self.messages[i])));
        let Some(i) = target else {
            sink.skip(
                "event \"token_count\"",
                "no assistant message since the previous count to give it to",
                1,
            );
            return;
        };
        let count = |k: &str| usage.get(k).and_then(Value::as_u64);
        let m = &mut self.messages[i];
        m.tokens = Some(Tokens {
            input: count("input_tokens").unwrap_or(0),
            output: count("output_tokens").unwrap_or(0),
        });
        for (from, to) in [
            ("cached_input_tokens", "cache_read_tokens"),
            ("reasoning_output_tokens", "reasoning_tokens"),
        ] {
            if let Some(n) = count(from) {
                m.metadata.insert(to.into(), Value::from(n));
            }
        }
        self.since_tokens = self.messages.len();
    }

    fn into_session(self, path: &Path) -> Result<SessionDoc> {
        let meta = self.meta.unwrap_or_default();
        let id = text_of(&meta, "id")
            .or_else(|| text_of(&meta, "session_id"))
            .map(str::to_string)
            .or_else(|| id_from_file_name(path))
            .ok_or_else(|| Error::Parse {
                path: path.to_path_buf(),
                location: "the whole file".into(),
                reason:
                    "not a Codex rollout: no session_meta line and no session id in the file name"
                        .into(),
            })?;
        let mut metadata = Map::new();
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                metadata.insert(key.into(), Value::from(v));
            }
        };
        put("cwd", text_of(&meta, "cwd").or(self.turn_cwd.as_deref()));
        let git = meta.get("git").and_then(Value::as_object);
        let git_text = |k: &str| git.and_then(|g| text_of(g, k));
        put("git_branch", git_text("branch"));
        put("git_commit", git_text("commit_hash"));
        put("repository", git_text("repository_url"));
        put("version", text_of(&meta, "cli_version"));
        put("originator", text_of(&meta, "originator"));
        put("model_provider", text_of(&meta, "model_provider"));
        put("instructions", text_of(&meta, "instructions"));
        let model = main_model(&self.messages).or(self.model);
        put("model", model.as_deref());
        put("resume_command", Some(&format!("codex resume {id}")));
        let mut parent = None;
        if let Some(from) = text_of(&meta, "forked_from_id") {
            parent = Some(uid_for(SOURCE, from));
            put("relation", Some("fork"));
            put("forked_from", Some(from));
        }
        match meta.get("source") {
            Some(Value::String(s)) => put("session_source", Some(s)),
            Some(Value::Object(o)) => {
                let spawn = o.get("subagent").and_then(|s| s.get("thread_spawn"));
                let from = spawn
                    .and_then(|s| s.get("parent_thread_id"))
                    .and_then(Value::as_str);
                if let (Some(from), None) = (from, &parent) {
                    parent = Some(uid_for(SOURCE, from));
                    put("relation", Some("subagent"));
                    put("spawned_by", Some(from));
                }
                put(
                    "session_source",
                    Some(&Value::Object(o.clone()).to_string()),
                );
            }
            _ => {}
        }
        let created_at = meta
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .or(self.first_time);
        Ok(SessionDoc {
            name: Some(super::clean_name(&format!("codex-{}", prefix(&id, 8)))),
            title: first_prompt_title(&self.messages),
            created_at,
            updated_at: self.last_time,
            metadata,
            source: Some(SOURCE.into()),
            uid: Some(uid_for(SOURCE, &id)),
            source_ref: Some(id),
            parent,
            messages: self.messages,
            ..SessionDoc::default()
        })
    }
}

/// The texts and image placeholders of a content array
/// (`input_text`, `output_text`, `input_image`...); other parts are counted.
fn content_parts(parts: &[Value], sink: &mut dyn Sink) -> (Vec<String>, Vec<MessageDoc>) {
    let mut texts = Vec::new();
    let mut images = Vec::new();
    for part in parts {
        let ty = part.get("type").and_then(Value::as_str).unwrap_or("");
        match (ty, part) {
            (_, Value::String(s)) => texts.push(s.clone()),
            ("input_text" | "output_text" | "text", _) => match part.get("text") {
                Some(Value::String(s)) => texts.push(s.clone()),
                _ => sink.skip(&format!("content part {ty:?}"), "it has no text", 1),
            },
            ("refusal", _) => match part.get("refusal").and_then(Value::as_str) {
                Some(s) => texts.push(s.to_string()),
                None => sink.skip("content part \"refusal\"", "it has no text", 1),
            },
            ("input_image", _) => match part.get("image_url").and_then(Value::as_str) {
                Some(url) => images.push(image_doc(url, None)),
                None => sink.skip("content part \"input_image\"", "it has no image_url", 1),
            },
            _ => sink.skip(
                &format!("content part {ty:?}"),
                "not a kind of content scrollback reads",
                1,
            ),
        }
    }
    (texts, images)
}

fn doc(role: Role, kind: Kind, content: String) -> MessageDoc {
    MessageDoc {
        role: Some(role),
        kind,
        content,
        ..MessageDoc::default()
    }
}

fn text_of<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

fn line_what(ty: &str) -> String {
    if ty.is_empty() {
        "line without a type".into()
    } else {
        format!("line type {ty:?}")
    }
}

/// A line's id: its number, and a hash of its time and kind (so that the
/// ids of a file that was rewritten rather than appended to differ).
fn line_id(n: u64, stamp: &str, ty: &str, sub: &str) -> String {
    let h = content_ref([stamp, ty, sub]);
    format!("{n}:{}", &h[2..10])
}

/// Text Codex puts in a user message that the person did not type.
fn is_injected(text: &str) -> bool {
    const MARKERS: [&str; 8] = [
        "<environment_context>",
        "<user_instructions>",
        "<INSTRUCTIONS>",
        "# AGENTS.md instructions",
        "<user_shell_command>",
        "<turn_aborted>",
        "<skill>",
        "<subagent_notification>",
    ];
    let t = text.trim_start();
    MARKERS.iter().any(|m| t.starts_with(m))
}

/// The tags Codex wraps around an attached image (`<image name=[Image #1]>`, `</image>`).
fn is_image_tag(text: &str) -> bool {
    let t = text.trim();
    t == "</image>" || (t.starts_with("<image") && t.ends_with('>') && !t[1..].contains('<'))
}

/// True when a `user_message` event's text and a prompt's first part are
/// the same prompt: one starts with the other once the event's image marks
/// (`[Image #1]`) are left out; a prompt of images alone matches any.
fn same_prompt(typed: &str, first: &str) -> bool {
    let typed = without_image_marks(typed);
    let (a, b) = (typed.trim(), first.trim());
    b.is_empty() || (!a.is_empty() && (a.starts_with(b) || b.starts_with(a)))
}

/// Text without the `[Image #N]` marks Codex puts where images were attached.
fn without_image_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("[Image #") {
        let after = &rest[i + "[Image #".len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(']') {
            out.push_str(rest[..i].trim_end());
            rest = after[digits + 1..].trim_start();
            if !out.is_empty() && !rest.is_empty() {
                out.push(' ');
            }
        } else {
            out.push_str(&rest[..=i]);
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The session id at the end of a rollout file's name (`rollout-<time>-<uuid>`).
fn id_from_file_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let tail = stem.get(stem.len().checked_sub(36)?..)?;
    uuid::Uuid::parse_str(tail).ok().map(|_| tail.to_string())
}

fn prefix(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The model of most assistant messages (the first seen on a tie).
pub(super) fn main_model(messages: &[MessageDoc]) -> Option<String> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        if let Some(model) = m.model.as_deref() {
            counts.entry(model).or_insert((0, i)).0 += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(m, _)| m.to_string())
}

/// A one-line summary of a tool call: the tool's name and what it acts on
/// (`shell: cargo test`, `read_file: src/main.rs`).
pub(super) fn call_summary(tool: &str, input: &Value) -> String {
    let detail = match input {
        Value::Object(o) => {
            let command = o.get("command").or_else(|| o.get("cmd"));
            match command {
                Some(Value::Array(args)) => shell_words(args),
                Some(Value::String(s)) => s.clone(),
                _ => [
                    "file_path",
                    "absolute_path",
                    "path",
                    "dir_path",
                    "pattern",
                    "query",
                    "url",
                    "prompt",
                    "description",
                ]
                .iter()
                .find_map(|k| match o.get(*k) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Array(a)) if !a.is_empty() => Some(
                        a.iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    _ => None,
                })
                .unwrap_or_else(|| {
                    if o.is_empty() {
                        String::new()
                    } else {
                        input.to_string()
                    }
                }),
            }
        }
        Value::String(s) => s
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && *l != "*** Begin Patch")
            .map(|l| l.trim_start_matches("*** ").to_string())
            .unwrap_or_default(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let detail = detail.trim();
    if detail.is_empty() {
        one_line(tool, SUMMARY_CHARS)
    } else {
        one_line(&format!("{tool}: {detail}"), SUMMARY_CHARS)
    }
}

/// A command given as arguments, as a person would type it; the script of
/// `bash -lc SCRIPT` alone.
fn shell_words(args: &[Value]) -> String {
    let words: Vec<String> = args
        .iter()
        .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
        .collect();
    let shells = [
        "bash",
        "sh",
        "zsh",
        "/bin/bash",
        "/bin/sh",
        "/bin/zsh",
        "/usr/bin/bash",
    ];
    if words.len() == 3
        && shells.contains(&words[0].as_str())
        && words[1].starts_with('-')
        && words[1].ends_with('c')
    {
        return words[2].clone();
    }
    words
        .iter()
        .map(|w| {
            if w.is_empty()
                || w.chars()
                    .any(|c| c.is_whitespace() || "'\"$`\\|&;<>()*?".contains(c))
            {
                format!("'{}'", w.replace('\'', r"'\''"))
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An image placeholder for an image given as a data URL, a URL or a path:
/// its media type and size, never its bytes.
pub(super) fn image_doc(src: &str, media_type: Option<&str>) -> MessageDoc {
    let mut m = doc(Role::User, Kind::Image, String::new());
    if let Some(rest) = src.strip_prefix("data:") {
        let (head, data) = rest.split_once(',').unwrap_or((rest, ""));
        let mt = head
            .split(';')
            .next()
            .filter(|s| !s.is_empty())
            .or(media_type);
        let bytes = if head.ends_with(";base64") {
            base64_len(data)
        } else {
            data.len() as u64
        };
        return image_placeholder(mt, bytes);
    }
    m.content = format!("[image: {}]", one_line(src, SUMMARY_CHARS));
    if let Some(mt) = media_type {
        m.metadata.insert("media_type".into(), Value::from(mt));
    }
    m.metadata.insert("source".into(), Value::from(src));
    m
}

/// An image placeholder from what is known of it.
pub(super) fn image_placeholder(media_type: Option<&str>, bytes: u64) -> MessageDoc {
    let mt = media_type.unwrap_or("image");
    let mut m = doc(
        Role::User,
        Kind::Image,
        format!("[image: {mt}, {}]", size(bytes)),
    );
    if let Some(mt) = media_type {
        m.metadata.insert("media_type".into(), Value::from(mt));
    }
    m.metadata.insert("bytes".into(), Value::from(bytes));
    m
}

/// How many bytes base64 text decodes to.
pub(super) fn base64_len(data: &str) -> u64 {
    let chars = data.bytes().filter(|b| !b.is_ascii_whitespace()).count() as u64;
    let pad = data
        .trim_end()
        .bytes()
        .rev()
        .take_while(|&b| b == b'=')
        .count() as u64;
    (chars / 4 * 3 + (chars % 4).saturating_sub(1)).saturating_sub(pad)
}

fn size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", (bytes + 512) / 1024)
    } else {
        #[allow(clippy::cast_precision_loss)]
        let mb = bytes as f64 / (1024.0 * 1024.0);
        format!("{mb:.1} MB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_of_calls() {
        assert_eq!(
            call_summary("shell", &json!({"command": ["bash", "-lc", "cargo test"]})),
            "shell: cargo test"
        );
        assert_eq!(
            call_summary("shell", &json!({"command": ["rg", "-n", "fn main", "src"]})),
            "shell: rg -n 'fn main' src"
        );
        assert_eq!(
            call_summary(
                "apply_patch",
                &json!("*** Begin Patch\n*** Update File: src/a.rs\n@@")
            ),
            "apply_patch: Update File: src/a.rs"
        );
        assert_eq!(
            call_summary("read_file", &json!({"absolute_path": "/x/y.rs"})),
            "read_file: /x/y.rs"
        );
        assert_eq!(call_summary("noop", &json!({})), "noop");
        let long = call_summary("shell", &json!({"command": "x".repeat(500)}));
        assert_eq!(long.chars().count(), SUMMARY_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn base64_sizes() {
        assert_eq!(base64_len("aGVsbG8="), 5); // "hello"
        assert_eq!(base64_len("aGVsbG8h"), 6);
        assert_eq!(base64_len("aGk="), 2);
        assert_eq!(base64_len(""), 0);
        assert_eq!(
            image_doc("data:image/png;base64,aGVsbG8=", None).content,
            "[image: image/png, 5 B]"
        );
        assert_eq!(size(2048), "2 KB");
        assert_eq!(size(3 * 1024 * 1024 / 2), "1.5 MB");
    }

    #[test]
    fn injected_text_and_image_tags() {
        assert!(is_injected("<environment_context>\n  <cwd>/x</cwd>"));
        assert!(is_injected(
            "# AGENTS.md instructions for /x\n\n<INSTRUCTIONS>"
        ));
        assert!(!is_injected("please fix <environment_context> parsing"));
        assert!(is_image_tag("<image name=[Image #1]>"));
        assert!(is_image_tag("</image>"));
        assert!(!is_image_tag("<image> and <b>"));
    }

    #[test]
    fn prompts_match_their_events() {
        assert!(same_prompt("compare [Image #1] with this", "compare"));
        assert!(same_prompt("[Image #1] describe it", "describe it"));
        assert!(same_prompt("anything", ""));
        assert!(!same_prompt("hello", "goodbye"));
        assert!(!same_prompt("", "hello"));
        assert!(!same_prompt("look at the stock price", "ok"));
        assert_eq!(without_image_marks("a [Image #1] b [Image #22]"), "a b");
        assert_eq!(
            without_image_marks("[Image #x] [Image #3]c"),
            "[Image #x] c"
        );
    }

    #[test]
    fn ids_from_file_names() {
        let p =
            Path::new("/x/rollout-2025-01-02T03-04-05-0199a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b.jsonl");
        assert_eq!(
            id_from_file_name(p).as_deref(),
            Some("0199a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b")
        );
        assert_eq!(id_from_file_name(Path::new("short.jsonl")), None);
    }
}
