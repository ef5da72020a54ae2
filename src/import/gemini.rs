//! Gemini CLI session files
//! (`~/.gemini/tmp/<projectHash>/chats/session-<time>-<id>.jsonl`, and the
//! older single `.json`), one session per file.
//!
//! The JSONL file is a log to replay, not a list of messages:
//!
//! - a header `{sessionId, projectHash, startTime, lastUpdated, kind}` (a
//!   resumed session writes another one; the first names the session);
//! - message records `{id, timestamp, type, content, toolCalls?, thoughts?,
//!   tokens?, model?}`: a record whose id is in the conversation replaces
//!   that message in place (Gemini rewrites its last reply as the tool calls
//!   run); one that would change the number of messages of a message others
//!   follow is kept beside it as a branch instead, so that the session only
//!   ever grows at its end (an import of the file as it grew keeps its
//!   messages in order and doubles none);
//! - `{"$set": {...}}` updates the header's fields; `$set.messages` replaces
//!   the whole list (history rewritten after a resume, or outputs masked);
//! - `{"$rewindTo": id}` drops that message and everything after it.
//!
//! The older `.json` file is one `{sessionId, startTime, lastUpdated,
//! messages[]}` object, read the same way.
//!
//! History is kept, not lost: messages are nodes of a [`Tree`], each hanging
//! off the message before it when it was written. What a rewind dropped, or a
//! `$set.messages` left out, stays in the tree and becomes a branch session
//! (parent: the session, fork point: the last message they share); the
//! conversation as Gemini shows it at the end of the log is the session.
//!
//! Mapping: `user` records are the person's text (`user`/`text`), `gemini`
//! records give one `thinking` message (their `thoughts`, and thought parts
//! flagged `thought: true` that history rewrites bring back), the reply's
//! text, a `tool_call` per call and a `tool_result` per call that carries a
//! result, in that order (so a reply that gains results only grows at its
//! end); `info`, `error` and `warning` records are `system`/`context`. A
//! `functionCall` or `functionResponse` part repeating a `toolCalls` entry is
//! counted as skipped. A `subagent` session in a folder named after its
//! parent session names that session as its parent.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::Sink;
use super::codex::{base64_len, call_summary, image_doc, image_placeholder, main_model};
use super::first_prompt_title as title;
use super::ids::uid_for;
use super::json::for_each_object;
use super::tree::{self, Tree};
use crate::domain::{Kind, MessageDoc, Role, SessionDoc, Tokens, parse_time};
use crate::error::{Error, Result};

const SOURCE: &str = "gemini";
/// The id of the tree's root (no record id starts with `$`).
const ROOT: &str = "$root";

/// Reads one session file (JSONL log or older JSON): the session, and a
/// branch session for each stretch of history a rewind or a rewrite left
/// behind. A file cut in the middle of a record gives the sessions of the
/// complete records, then [`Error::Truncated`].
pub fn read<R: BufRead>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    let mut log = Log::default();
    let read = for_each_object(path, reader, "records", |record: Value| {
        log.record(record, sink);
        Ok(())
    });
    match read {
        Ok(_) => {
            for doc in log.into_sessions(path, sink)? {
                sink.session(doc)?;
            }
            Ok(())
        }
        Err(cut @ Error::Truncated { .. }) => {
            // The complete records make the sessions (kept with `--partial`).
            if let Ok(docs) = log.into_sessions(path, sink) {
                for doc in docs {
                    sink.session(doc)?;
                }
            }
            Err(cut)
        }
        Err(e) => Err(e),
    }
}

/// The log replayed so far.
#[derive(Default)]
struct Log {
    session_id: Option<String>,
    project_hash: Option<String>,
    start_time: Option<Timestamp>,
    last_updated: Option<Timestamp>,
    summary: Option<String>,
    kind: Option<String>,
    directories: Option<Value>,
    /// Every message record met, in file order, as a node of the tree.
    nodes: Vec<Node>,
    /// Index in `nodes` of each node id.
    index: HashMap<String, usize>,
    /// The conversation now: (record id, node id) in order.
    list: Vec<(String, String)>,
    /// Position in `list` of each record id.
    pos: HashMap<String, usize>,
    /// Calls whose result was imported from their `toolCalls` entry.
    answered: HashSet<String>,
}

impl Log {
    fn record(&mut self, record: Value, sink: &mut dyn Sink) {
        let Value::Object(o) = record else {
            sink.skip("record", "not a JSON object", 1);
            return;
        };
        if let Some(to) = o.get("$rewindTo") {
            match to.as_str() {
                Some(id) => self.rewind(id),
                None => sink.skip("$rewindTo record", "it names no message id", 1),
            }
        } else if o.get("id").is_some_and(Value::is_string) {
            self.message(&o, sink);
        } else if let Some(set) = o.get("$set") {
            match set {
                Value::Object(s) => self.set(s, sink),
                _ => sink.skip("$set record", "its value is not an object", 1),
            }
        } else if o.contains_key("sessionId") {
            self.header(&o, sink);
        } else if o.contains_key("type") {
            sink.skip("message", "it has no id", 1);
        } else {
            sink.skip(
                "record",
                "neither a message, a $set, a $rewindTo nor a session header",
                1,
            );
        }
    }

    fn header(&mut self, o: &Map<String, Value>, sink: &mut dyn Sink) {
        if self.session_id.is_none() {
            self.session_id = text(o, "sessionId").map(str::to_string);
        }
        if self.start_time.is_none() {
            self.start_time = text(o, "startTime").and_then(parse_time);
        }
        self.fields(o);
        if let Some(Value::Array(messages)) = o.get("messages") {
            self.replace_all(messages, sink);
        }
    }

    fn set(&mut self, s: &Map<String, Value>, sink: &mut dyn Sink) {
        if self.session_id.is_none() {
            self.session_id = text(s, "sessionId").map(str::to_string);
        }
        self.fields(s);
        match s.get("messages") {
            // Gemini's own reader ignores an empty list too.
            Some(Value::Array(messages)) if !messages.is_empty() => {
                self.replace_all(messages, sink);
            }
            Some(Value::Array(_) | Value::Null) | None => {}
            Some(_) => sink.skip("$set.messages", "not a list of messages", 1),
        }
    }

    /// Fields a header or a `$set` may change.
    fn fields(&mut self, o: &Map<String, Value>) {
        if let Some(h) = text(o, "projectHash") {
            self.project_hash = Some(h.to_string());
        }
        if let Some(t) = text(o, "lastUpdated").and_then(parse_time) {
            self.last_updated = Some(t);
        }
        if let Some(s) = text(o, "summary").filter(|s| !s.trim().is_empty()) {
            self.summary = Some(s.to_string());
        }
        if let Some(k) = text(o, "kind") {
            self.kind = Some(k.to_string());
        }
        if let Some(d) = o.get("directories").filter(|d| d.is_array()) {
            self.directories = Some(d.clone());
        }
    }

    fn message(&mut self, o: &Map<String, Value>, sink: &mut dyn Sink) {
        let id = text(o, "id").unwrap_or_default().to_string();
        if let Some(&i) = self.pos.get(&id) {
            // Seen before: the record replaces the message in place (Gemini
            // rewrites its last reply as tool calls run and results come).
            // One that would change how many messages a message others
            // follow gives is kept beside it, as a branch: the conversation
            // keeps its order, and what an earlier import stored of it stays
            // its beginning.
            let node = self.list[i].1.clone();
            let Some(messages) = self.build(o, sink) else {
                return;
            };
            let before = self.index.get(&node).map(|&k| self.nodes[k].messages.len());
            if i + 1 == self.list.len() || before == Some(messages.len()) {
                self.set_messages(&node, messages);
            } else {
                let parent = self
                    .index
                    .get(&node)
                    .and_then(|&k| self.nodes[k].parent.clone());
                let side = self.fresh_node(&id);
                self.add_node(&side, parent, messages);
            }
            return;
        }
        let node = self.fresh_node(&id);
        if let Some(messages) = self.build(o, sink) {
            let parent = self.list.last().map(|(_, n)| n.clone());
            self.add_node(&node, parent, messages);
            self.pos.insert(id.clone(), self.list.len());
            self.list.push((id, node));
        }
    }

    /// `$rewindTo`: the message and all after it leave the conversation
    /// (they stay in the tree, as a branch); an unknown id empties it, as
    /// Gemini does.
    fn rewind(&mut self, id: &str) {
        let keep = self.pos.get(id).copied().unwrap_or(0);
        for (record, _) in self.list.drain(keep..) {
            self.pos.remove(&record);
        }
    }

    /// `$set.messages`: the conversation is now this list. A message it
    /// already held is updated in place and hangs off the one before it in
    /// the new list (history rewritten, records inserted: no branch); a new
    /// one is a new node. Messages the list leaves out stay where they hung,
    /// and become a branch.
    fn replace_all(&mut self, messages: &[Value], sink: &mut dyn Sink) {
        let mut list: Vec<(String, String)> = Vec::new();
        let mut pos: HashMap<String, usize> = HashMap::new();
        let mut prev: Option<String> = None;
        for m in messages {
            let Some(o) = m.as_object() else {
                sink.skip("message in $set.messages", "not a JSON object", 1);
                continue;
            };
            let Some(id) = text(o, "id") else {
                sink.skip("message in $set.messages", "it has no id", 1);
                continue;
            };
            if let Some(&i) = pos.get(id) {
                // The same id twice in one list: the later one wins, in place.
                let node = list[i].1.clone();
                if let Some(messages) = self.build(o, sink) {
                    self.set_messages(&node, messages);
                }
                continue;
            }
            let same = self.pos.get(id).map(|&i| self.list[i].1.clone());
            let node = same.clone().unwrap_or_else(|| self.fresh_node(id));
            let Some(messages) = self.build(o, sink) else {
                continue;
            };
            if same.is_some() {
                self.set_messages(&node, messages);
                if let Some(&i) = self.index.get(&node) {
                    self.nodes[i].parent.clone_from(&prev);
                }
            } else {
                self.add_node(&node, prev.clone(), messages);
            }
            pos.insert(id.to_string(), list.len());
            list.push((id.to_string(), node.clone()));
            prev = Some(node);
        }
        self.list = list;
        self.pos = pos;
    }

    fn add_node(&mut self, node: &str, parent: Option<String>, mut messages: Vec<MessageDoc>) {
        stamp(node, &mut messages);
        self.index.insert(node.to_string(), self.nodes.len());
        self.nodes.push(Node {
            id: node.to_string(),
            parent,
            messages,
        });
    }

    fn set_messages(&mut self, node: &str, mut messages: Vec<MessageDoc>) {
        stamp(node, &mut messages);
        if let Some(&i) = self.index.get(node) {
            self.nodes[i].messages = messages;
        }
    }

    /// A node id for a record: its id, or `id#2`, `id#3`... when a message
    /// a rewind dropped comes back under the same id.
    fn fresh_node(&self, id: &str) -> String {
        if !self.index.contains_key(id) {
            return id.to_string();
        }
        let mut k = 2;
        loop {
            let node = format!("{id}#{k}");
            if !self.index.contains_key(&node) {
                return node;
            }
            k += 1;
        }
    }

    /// The messages of a record (`None` when it cannot be read: counted).
    fn build(&mut self, o: &Map<String, Value>, sink: &mut dyn Sink) -> Option<Vec<MessageDoc>> {
        let time = text(o, "timestamp").and_then(parse_time);
        let mut messages = match o.get("type").and_then(Value::as_str) {
            Some("user") => self.user(o, sink),
            Some("gemini") => self.gemini(o, sink),
            Some(level @ ("info" | "error" | "warning")) => {
                let (texts, _) = split_parts(&parts(o.get("content")), sink);
                let content = texts.concat();
                if content.trim().is_empty() {
                    Vec::new()
                } else {
                    let mut m = doc(Role::System, Kind::Context, content);
                    m.metadata.insert("level".into(), Value::from(level));
                    vec![m]
                }
            }
            Some(other) => {
                sink.skip(
                    &format!("message type {other:?}"),
                    "not a kind of message scrollback reads",
                    1,
                );
                return None;
            }
            None => {
                sink.skip("message", "it has no type", 1);
                return None;
            }
        };
        for m in &mut messages {
            if m.created_at.is_none() {
                m.created_at = time;
            }
        }
        Some(messages)
    }

    /// A `user` record: the person's text and images; tool responses that
    /// a history rewrite put in a user turn are tool results.
    fn user(&mut self, o: &Map<String, Value>, sink: &mut dyn Sink) -> Vec<MessageDoc> {
        let (texts, rest) = split_parts(&parts(o.get("content")), sink);
        let mut out = Vec::new();
        let typed = texts.concat();
        if !typed.trim().is_empty() {
            out.push(doc(Role::User, Kind::Text, typed));
        }
        for part in rest {
            match part {
                Part::Image(mut m) => {
                    m.role = Some(Role::User);
                    out.push(m);
                }
                Part::Call(call) => out.push(call.message()),
                Part::Response(r) => self.response(r, &mut out, sink),
                Part::Text(_) | Part::Thought(_) => {}
            }
        }
        out
    }

    /// A `gemini` record: thinking, text, images, calls, then results.
    fn gemini(&mut self, o: &Map<String, Value>, sink: &mut dyn Sink) -> Vec<MessageDoc> {
        let model = text(o, "model").map(str::to_string);
        let (texts, rest) = split_parts(&parts(o.get("content")), sink);
        let tool_calls: Vec<&Map<String, Value>> = match o.get("toolCalls") {
            Some(Value::Null) | None => Vec::new(),
            Some(Value::Array(calls)) => calls
                .iter()
                .filter_map(|c| {
                    let call = c.as_object();
                    if call.is_none() {
                        sink.skip("toolCalls entry", "not a JSON object", 1);
                    }
                    call
                })
                .collect(),
            Some(_) => {
                sink.skip("toolCalls", "not a list", 1);
                Vec::new()
            }
        };
        let mut out = Vec::new();

        // Thinking: the thoughts, and thought parts that do not repeat them.
        let thoughts: Vec<(String, Option<Timestamp>)> = match o.get("thoughts") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|t| {
                    let subject = t
                        .get("subject")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .trim();
                    let description = t
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .trim();
                    let text = match (subject.is_empty(), description.is_empty()) {
                        (true, true) => return None,
                        (false, true) => format!("**{subject}**"),
                        (true, false) => description.to_string(),
                        (false, false) => format!("**{subject}**\n{description}"),
                    };
                    let at = t
                        .get("timestamp")
                        .and_then(Value::as_str)
                        .and_then(parse_time);
                    Some((text, at))
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut thinking: Vec<String> = thoughts.iter().map(|(t, _)| t.clone()).collect();
        let known: HashSet<String> = thinking.iter().map(|t| plain(t)).collect();
        for part in &rest {
            if let Part::Thought(t) = part {
                if known.contains(&plain(t)) {
                    sink.skip("thought part", "repeats a thought of the same message", 1);
                } else if !t.trim().is_empty() {
                    thinking.push(t.clone());
                }
            }
        }
        if !thinking.is_empty() {
            let mut m = doc(Role::Assistant, Kind::Thinking, thinking.join("\n\n"));
            m.created_at = thoughts.iter().find_map(|(_, at)| *at);
            out.push(m);
        }

        let reply = texts.concat();
        let text_at = (!reply.trim().is_empty()).then(|| {
            out.push(doc(Role::Assistant, Kind::Text, reply));
            out.len() - 1
        });

        let mut results = Vec::new();
        let call_ids: HashSet<&str> = tool_calls.iter().filter_map(|c| text(c, "id")).collect();
        for part in rest {
            match part {
                Part::Image(mut m) => {
                    m.role = Some(Role::Assistant);
                    out.push(m);
                }
                Part::Call(call) => {
                    let repeats = match &call.id {
                        Some(id) => call_ids.contains(id.as_str()),
                        None => tool_calls.iter().any(|c| {
                            text(c, "name") == Some(call.name.as_str())
                                && c.get("args").unwrap_or(&Value::Null) == &call.args
                        }),
                    };
                    if repeats {
                        sink.skip(
                            "content part \"functionCall\"",
                            "repeats its toolCalls entry",
                            1,
                        );
                    } else {
                        out.push(call.message());
                    }
                }
                Part::Response(r) => self.response(r, &mut results, sink),
                Part::Text(_) | Part::Thought(_) => {}
            }
        }
        for c in &tool_calls {
            let name = text(c, "name").unwrap_or("tool").to_string();
            let args = c.get("args").cloned().unwrap_or(Value::Null);
            let at = text(c, "timestamp").and_then(parse_time);
            let id = text(c, "id").map(str::to_string);
            let mut call = Call {
                id: id.clone(),
                name: name.clone(),
                args,
            }
            .message();
            call.created_at = at;
            if let Some(status) = text(c, "status") {
                call.metadata.insert("status".into(), Value::from(status));
            }
            if let Some(display) = text(c, "displayName").filter(|d| *d != name) {
                call.metadata
                    .insert("display_name".into(), Value::from(display));
            }
            out.push(call);
            let failed = matches!(text(c, "status"), Some("error"));
            let result = c.get("result").and_then(result_text).or_else(|| {
                text(c, "resultDisplay")
                    .filter(|d| !d.trim().is_empty())
                    .map(|d| (d.to_string(), false))
            });
            if let Some((content, error)) = result {
                let mut m = doc(Role::Tool, Kind::ToolResult, content);
                m.created_at = at;
                if let Some(id) = &id {
                    m.metadata
                        .insert("call_id".into(), Value::from(id.as_str()));
                    self.answered.insert(id.clone());
                }
                m.metadata.insert("tool".into(), Value::from(name));
                if failed || error {
                    m.metadata.insert("is_error".into(), Value::Bool(true));
                }
                results.push(m);
            }
        }
        out.extend(results);

        for m in &mut out {
            if m.role == Some(Role::Assistant) {
                m.model.clone_from(&model);
            }
        }
        if let Some(tokens) = o.get("tokens").and_then(Value::as_object) {
            let target =
                text_at.or_else(|| out.iter().position(|m| m.role == Some(Role::Assistant)));
            if let Some(i) = target {
                let count = |k: &str| tokens.get(k).and_then(Value::as_u64);
                let m = &mut out[i];
                m.tokens = Some(Tokens {
                    input: count("input").unwrap_or(0),
                    output: count("output").unwrap_or(0),
                });
                for (from, to) in [
                    ("cached", "cache_read_tokens"),
                    ("thoughts", "thoughts_tokens"),
                    ("tool", "tool_tokens"),
                ] {
                    if let Some(n) = count(from).filter(|&n| n > 0) {
                        m.metadata.insert(to.into(), Value::from(n));
                    }
                }
            }
        }
        out
    }

    /// A `functionResponse` part: a tool result, unless the `toolCalls`
    /// entry of its call gave it already.
    fn response(&mut self, r: Response, out: &mut Vec<MessageDoc>, sink: &mut dyn Sink) {
        if r.id.as_ref().is_some_and(|id| self.answered.contains(id)) {
            sink.skip(
                "content part \"functionResponse\"",
                "repeats the result of its toolCalls entry",
                1,
            );
            return;
        }
        let mut m = doc(Role::Tool, Kind::ToolResult, r.text);
        if let Some(id) = r.id {
            m.metadata.insert("call_id".into(), Value::from(id));
        }
        if let Some(name) = r.name {
            m.metadata.insert("tool".into(), Value::from(name));
        }
        if r.error {
            m.metadata.insert("is_error".into(), Value::Bool(true));
        }
        out.push(m);
    }

    fn into_sessions(mut self, path: &Path, sink: &mut dyn Sink) -> Result<Vec<SessionDoc>> {
        if self.nodes.is_empty() {
            if self.session_id.is_some() {
                sink.skip("session", "it holds no messages", 1);
                return Ok(Vec::new());
            }
            return Err(Error::Parse {
                path: path.to_path_buf(),
                location: "the whole file".into(),
                reason: "not a Gemini CLI session: no session header and no messages".into(),
            });
        }
        let id = self
            .session_id
            .clone()
            .unwrap_or_else(|| super::name_from_path(path));
        // The conversation at the end of the log is the session. When it
        // ends where history was cut (a rewind), an empty end node keeps the
        // cut part out of it.
        let parents: HashSet<&str> = self
            .nodes
            .iter()
            .filter_map(|n| n.parent.as_deref())
            .collect();
        let last = self.list.last().map(|(_, n)| n.clone());
        let ends_at_a_cut = last.as_deref().is_none_or(|n| parents.contains(n));
        // One empty root above every first message: history a rewind or a
        // rewrite cut off from the start is a branch of the session too.
        let mut tree = Tree::new();
        tree.add(ROOT, None, Vec::new());
        for n in self.nodes.drain(..) {
            tree.add(&n.id, Some(n.parent.as_deref().unwrap_or(ROOT)), n.messages);
        }
        let main = match last {
            Some(node) if !ends_at_a_cut => node,
            last => {
                let end = format!("{}$end", last.as_deref().unwrap_or(ROOT));
                tree.add(&end, Some(last.as_deref().unwrap_or(ROOT)), Vec::new());
                end
            }
        };
        let paths = tree.into_paths(Some(&main));
        let first = paths
            .first()
            .map(|p| p.messages.as_slice())
            .unwrap_or_default();
        let mut metadata = Map::new();
        if let Some(h) = &self.project_hash {
            metadata.insert("project_hash".into(), Value::from(h.as_str()));
        }
        if let Some(m) = main_model(first) {
            metadata.insert("model".into(), Value::from(m));
        }
        if let Some(k) = &self.kind {
            metadata.insert("kind".into(), Value::from(k.as_str()));
        }
        if let Some(d) = self.directories.take() {
            metadata.insert("directories".into(), d);
        }
        metadata.insert(
            "resume_command".into(),
            Value::from(format!("gemini --resume {id}")),
        );
        let mut parent = None;
        if self.kind.as_deref() == Some("subagent") {
            // Subagents live in `chats/<parent session id>/<id>.jsonl`.
            let folder = path
                .parent()
                .and_then(Path::file_name)
                .and_then(|f| f.to_str())
                .filter(|f| *f != "chats" && !f.is_empty());
            if let Some(folder) = folder {
                parent = Some(uid_for(SOURCE, folder));
                metadata.insert("relation".into(), Value::from("subagent"));
                metadata.insert("spawned_by".into(), Value::from(folder));
            }
        }
        let base = SessionDoc {
            name: Some(super::clean_name(&format!(
                "gemini-{}",
                id.chars().take(8).collect::<String>()
            ))),
            title: self.summary.clone().unwrap_or_else(|| title(first)),
            created_at: self.start_time,
            updated_at: self.last_updated,
            metadata,
            source: Some(SOURCE.into()),
            source_ref: Some(id),
            parent,
            ..SessionDoc::default()
        };
        Ok(tree::sessions(&base, paths))
    }
}

/// A message record: a node of the conversation's tree.
struct Node {
    id: String,
    parent: Option<String>,
    messages: Vec<MessageDoc>,
}

/// One part of a message's content.
enum Part {
    Text(String),
    Thought(String),
    Image(MessageDoc),
    Call(Call),
    Response(Response),
}

struct Call {
    id: Option<String>,
    name: String,
    args: Value,
}

impl Call {
    fn message(self) -> MessageDoc {
        let mut m = doc(
            Role::Assistant,
            Kind::ToolCall,
            call_summary(&self.name, &self.args),
        );
        m.metadata.insert("tool".into(), Value::from(self.name));
        if let Some(id) = self.id {
            m.metadata.insert("call_id".into(), Value::from(id));
        }
        m.metadata.insert("input".into(), self.args);
        m
    }
}

struct Response {
    id: Option<String>,
    name: Option<String>,
    text: String,
    error: bool,
}

/// The parts of a `content` (a string, one part, or a list of both).
fn parts(content: Option<&Value>) -> Vec<Value> {
    match content {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(other) => vec![other.clone()],
    }
}

/// Text parts apart from the others; unknown parts are counted.
fn split_parts(parts: &[Value], sink: &mut dyn Sink) -> (Vec<String>, Vec<Part>) {
    let mut texts = Vec::new();
    let mut rest = Vec::new();
    for part in parts {
        match read_part(part) {
            Some(Part::Text(t)) => texts.push(t),
            Some(p) => rest.push(p),
            None => {
                let what = match part {
                    Value::Object(o) => o
                        .keys()
                        .find(|k| *k != "thought" && *k != "thoughtSignature")
                        .map_or_else(
                            || "content part".to_string(),
                            |k| format!("content part {k:?}"),
                        ),
                    _ => "content part".to_string(),
                };
                sink.skip(&what, "not a kind of content scrollback reads", 1);
            }
        }
    }
    (texts, rest)
}

fn read_part(part: &Value) -> Option<Part> {
    let o = match part {
        Value::String(s) => return Some(Part::Text(s.clone())),
        Value::Object(o) => o,
        _ => return None,
    };
    if let Some(t) = text(o, "text") {
        return Some(if o.get("thought") == Some(&Value::Bool(true)) {
            Part::Thought(t.to_string())
        } else {
            Part::Text(t.to_string())
        });
    }
    if let Some(Value::Object(call)) = o.get("functionCall") {
        return Some(Part::Call(Call {
            id: text(call, "id").map(str::to_string),
            name: text(call, "name").unwrap_or("tool").to_string(),
            args: call.get("args").cloned().unwrap_or(Value::Null),
        }));
    }
    if let Some(Value::Object(r)) = o.get("functionResponse") {
        let (text_out, error) = response_text(r.get("response"));
        return Some(Part::Response(Response {
            id: text(r, "id").map(str::to_string),
            name: text(r, "name").map(str::to_string),
            text: text_out,
            error,
        }));
    }
    if let Some(Value::Object(d)) = o.get("inlineData") {
        let data = text(d, "data").unwrap_or("");
        return Some(Part::Image(image_placeholder(
            text(d, "mimeType"),
            base64_len(data),
        )));
    }
    if let Some(Value::Object(f)) = o.get("fileData") {
        let uri = text(f, "fileUri")?;
        return Some(Part::Image(image_doc(uri, text(f, "mimeType"))));
    }
    if let Some(Value::Object(code)) = o.get("executableCode") {
        return Some(Part::Call(Call {
            id: None,
            name: "code_execution".into(),
            args: Value::Object(code.clone()),
        }));
    }
    if let Some(Value::Object(r)) = o.get("codeExecutionResult") {
        let outcome = text(r, "outcome").unwrap_or("");
        return Some(Part::Response(Response {
            id: None,
            name: Some("code_execution".into()),
            text: text(r, "output").unwrap_or("").to_string(),
            error: !outcome.is_empty() && outcome != "OUTCOME_OK",
        }));
    }
    None
}

/// The text of a `functionResponse.response`: its `output`, or its `error`
/// (then true), or the whole object as JSON.
fn response_text(response: Option<&Value>) -> (String, bool) {
    match response {
        Some(Value::Object(r)) => {
            if let Some(out) = text(r, "output") {
                (out.to_string(), false)
            } else if let Some(err) = r.get("error") {
                (
                    err.as_str().map_or_else(|| err.to_string(), str::to_string),
                    true,
                )
            } else {
                (Value::Object(r.clone()).to_string(), false)
            }
        }
        Some(Value::String(s)) => (s.clone(), false),
        Some(Value::Null) | None => (String::new(), false),
        Some(other) => (other.to_string(), false),
    }
}

/// The text of a `toolCalls` entry's `result` (a part list), and whether
/// it says the call failed; `None` when it carries nothing.
fn result_text(result: &Value) -> Option<(String, bool)> {
    let mut texts = Vec::new();
    let mut error = false;
    for part in parts(Some(result)) {
        match read_part(&part) {
            Some(Part::Text(t) | Part::Thought(t)) => texts.push(t),
            Some(Part::Response(r)) => {
                error |= r.error;
                texts.push(r.text);
            }
            Some(Part::Image(m)) => texts.push(m.content),
            Some(Part::Call(_)) | None => texts.push(part.to_string()),
        }
    }
    let joined = texts.join("\n");
    (!joined.trim().is_empty()).then_some((joined, error))
}

/// Source ids of a node's messages: the node's id for the first, `id/n`
/// for the others.
fn stamp(node: &str, messages: &mut [MessageDoc]) {
    for (i, m) in messages.iter_mut().enumerate() {
        m.source_id = Some(if i == 0 {
            node.to_string()
        } else {
            format!("{node}/{i}")
        });
    }
}

fn doc(role: Role, kind: Kind, content: String) -> MessageDoc {
    MessageDoc {
        role: Some(role),
        kind,
        content,
        ..MessageDoc::default()
    }
}

fn text<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// A thought's words without markup, to tell a thought that comes back as
/// a content part from a new one.
fn plain(text: &str) -> String {
    text.replace("**", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thoughts_match_their_parts() {
        assert_eq!(
            plain("**Planning**\n\nRead the file first."),
            plain("**Planning**\nRead the file first.")
        );
        assert_ne!(plain("**A** b"), plain("**A** c"));
    }

    #[test]
    fn responses_and_results() {
        assert_eq!(
            response_text(Some(&json!({"output": "ok"}))),
            ("ok".to_string(), false)
        );
        assert_eq!(
            response_text(Some(&json!({"error": "no such file"}))),
            ("no such file".to_string(), true)
        );
        assert_eq!(result_text(&json!([])), None);
        assert_eq!(result_text(&Value::Null), None);
        assert_eq!(
            result_text(
                &json!([{"functionResponse": {"id": "c", "name": "x", "response": {"output": "done"}}}])
            ),
            Some(("done".to_string(), false))
        );
    }
}
