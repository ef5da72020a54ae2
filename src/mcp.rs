//! `scrollback mcp`: an MCP server on stdio, so that coding agents can
//! search and read their own past sessions. Tools: `search_sessions`,
//! `read_session`, `list_sessions`, `session_stats`, and `tag_session` when
//! the config allows it (`[mcp] allow_tagging`). Answers are compact JSON
//! sized for a model's context: snippets, pages with a total and the
//! arguments of the next page, long messages cut with a note saying how to
//! read the rest. The operations are those of [`crate::api`].

use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt};
use serde_json::{Map, Value, json};

use crate::api::{self, HistoryQuery};
use crate::domain::{ListCursor, ListQuery, Sort, now, parse_before};
use crate::error::{Error, Result};
use crate::search::Search;
use crate::store::Store;

/// Longest message text a `read_session` answer holds by default, in characters.
const DEFAULT_MAX_CHARS: usize = 2000;

/// The MCP server: a store and its index behind one lock (an agent asks one
/// thing at a time).
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Mutex<(Store, Search)>>,
    allow_tagging: bool,
}

impl McpServer {
    /// A server over `store` and its `search` index.
    pub fn new(store: Store, search: Search, allow_tagging: bool) -> Self {
        McpServer {
            inner: Arc::new(Mutex::new((store, search))),
            allow_tagging,
        }
    }

    /// Serves on stdin and stdout until the client closes them.
    pub fn run_stdio(self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        runtime.block_on(async move {
            let running = self
                .serve(rmcp::transport::stdio())
                .await
                .map_err(|e| Error::invalid("MCP session", "start", e.to_string()))?;
            running
                .waiting()
                .await
                .map_err(|e| Error::invalid("MCP session", "end", e.to_string()))?;
            Ok(())
        })
    }

    /// The tools offered.
    pub fn tools(&self) -> Vec<Tool> {
        let mut tools = vec![
            tool(
                "search_sessions",
                "Full-text search over past AI chat sessions (Claude Code, Codex, ChatGPT, llm, ...). \
                 The query language: words (all must match), \"a phrase\", -word, word*, role:user, \
                 tag:NAME, source:claude-code, after:30d, before:2026-01-01. Returns sessions best \
                 first, each with a snippet of its best message and that message's seq; read more \
                 with read_session (session, from=seq).",
                json!({
                    "type": "object",
                    "properties": {
                        "query": { "type": "string", "description": "What to look for." },
                        "limit": { "type": "integer", "minimum": 1, "maximum": 50, "description": "Sessions per page (default 10)." },
                        "offset": { "type": "integer", "minimum": 0, "description": "Sessions to skip (next_offset of the page before)." },
                        "archived": { "type": "boolean", "description": "Include archived sessions." }
                    },
                    "required": ["query"]
                }),
            ),
            tool(
                "read_session",
                "Reads messages of one session: the last turns (last_turns; a turn is a user \
                 message and what answered it), or a page from a seq (from, limit). Long messages \
                 are cut at max_chars with a note; next_from continues.",
                json!({
                    "type": "object",
                    "properties": {
                        "session": { "type": "string", "description": "The session's name (session_id) or uid." },
                        "last_turns": { "type": "integer", "minimum": 1, "description": "The last N turns." },
                        "from": { "type": "integer", "minimum": 0, "description": "First seq of a page (not with last_turns)." },
                        "limit": { "type": "integer", "minimum": 1, "maximum": 200, "description": "Messages at most (default 50)." },
                        "max_chars": { "type": "integer", "minimum": 100, "description": "Characters kept of each message (default 2000)." }
                    },
                    "required": ["session"]
                }),
            ),
            tool(
                "list_sessions",
                "Lists sessions, most recently active first: name, title, counts, tags, source.",
                json!({
                    "type": "object",
                    "properties": {
                        "tag": { "type": "string", "description": "Only sessions with this tag." },
                        "source": { "type": "string", "description": "Only sessions from this source (claude-code, codex, chatgpt, llm, ...)." },
                        "older_than": { "type": "string", "description": "Only sessions not updated for this long (30d, 24h)." },
                        "sort": { "type": "string", "enum": ["updated", "created", "name", "size"] },
                        "limit": { "type": "integer", "minimum": 1, "maximum": 100, "description": "Sessions per page (default 20)." },
                        "cursor": { "type": "string", "description": "next_cursor of the page before." }
                    }
                }),
            ),
            tool(
                "session_stats",
                "Statistics: of the whole store (sessions, messages, sources, tags, models), or of one session.",
                json!({
                    "type": "object",
                    "properties": {
                        "session": { "type": "string", "description": "One session's name or uid (default: the whole store)." }
                    }
                }),
            ),
        ];
        if self.allow_tagging {
            tools.push(tool(
                "tag_session",
                "Adds and removes tags of a session.",
                json!({
                    "type": "object",
                    "properties": {
                        "session": { "type": "string" },
                        "add": { "type": "array", "items": { "type": "string" } },
                        "remove": { "type": "array", "items": { "type": "string" } }
                    },
                    "required": ["session"]
                }),
            ));
        }
        tools
    }

    /// Runs one tool: its answer as JSON, or what went wrong, for the model.
    pub fn call(&self, name: &str, args: &Map<String, Value>) -> Result<Value, String> {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (store, search) = &mut *guard;
        let result = match name {
            "search_sessions" => search_sessions(search, args),
            "read_session" => read_session(store, args),
            "list_sessions" => list_sessions(store, args),
            "session_stats" => session_stats(store, args),
            "tag_session" if self.allow_tagging => tag_session(store, args),
            "tag_session" => Err(Error::invalid(
                "tool",
                name,
                "a tool this server offers: tagging is off (set [mcp] allow_tagging = true in the config)",
            )),
            other => Err(Error::invalid(
                "tool",
                other,
                "search_sessions, read_session, list_sessions or session_stats",
            )),
        };
        result.map_err(|e| e.to_string())
    }
}

fn tool(name: &'static str, description: &'static str, schema: Value) -> Tool {
    let schema = match schema {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Tool::new(name, description, Arc::new(schema))
}

fn text_arg(args: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(Error::invalid("argument", key, format!("text, not {v}"))),
    }
}

fn number_arg(args: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| Error::invalid("argument", key, format!("a whole number, not {v}"))),
    }
}

fn required(args: &Map<String, Value>, key: &str) -> Result<String> {
    text_arg(args, key)?.ok_or_else(|| Error::invalid("argument", key, "this argument is required"))
}

fn search_sessions(search: &mut Search, args: &Map<String, Value>) -> Result<Value> {
    let query = required(args, "query")?;
    let limit = number_arg(args, "limit")?.unwrap_or(10).clamp(1, 50);
    let offset = number_arg(args, "offset")?.unwrap_or(0);
    let archived = args.get("archived").and_then(Value::as_bool) == Some(true);
    let page = api::search_page(
        search,
        &query,
        usize::try_from(limit).unwrap_or(10),
        usize::try_from(offset).unwrap_or(usize::MAX),
        archived,
    )?;
    Ok(json!({
        "total": page.total,
        "offset": page.offset,
        "next_offset": page.next_offset,
        "hits": page.hits.iter().map(|h| json!({
            "session": h.session_id,
            "title": h.title,
            "source": h.source,
            "seq": h.seq,
            "role": h.role,
            "when": h.created_at,
            "snippet": h.snippet,
            "other_hits": h.other_hits,
        })).collect::<Vec<_>>(),
    }))
}

/// `text` cut to `max` characters, with a note of what was left out.
fn cut(text: &str, max: usize, seq: u64) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => {
            let rest = text[at..].chars().count();
            format!(
                "{}… [{rest} more characters: read_session with from={seq}, limit=1 and a larger max_chars]",
                &text[..at]
            )
        }
    }
}

fn read_session(store: &Store, args: &Map<String, Value>) -> Result<Value> {
    let name = required(args, "session")?;
    let session = store.session_exact(&name)?;
    let max_chars = number_arg(args, "max_chars")?
        .map_or(DEFAULT_MAX_CHARS, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        })
        .max(100);
    let q = HistoryQuery {
        max_turns: number_arg(args, "last_turns")?,
        from: number_arg(args, "from")?,
        limit: Some(number_arg(args, "limit")?.unwrap_or(50).clamp(1, 200)),
        system: false,
    };
    let h = api::history(store, &session, &q)?;
    Ok(json!({
        "session": h.session_id,
        "title": session.title,
        "source": session.source,
        "turn_count": h.turn_count,
        "message_count": h.message_count,
        "from": h.from,
        "next_from": h.next_from,
        "messages": h.history.iter().map(|m| json!({
            "seq": m.seq,
            "role": m.role,
            "kind": m.kind,
            "when": m.created_at,
            "content": cut(&m.content, max_chars, m.seq),
        })).collect::<Vec<_>>(),
    }))
}

fn list_sessions(store: &Store, args: &Map<String, Value>) -> Result<Value> {
    let sort = match text_arg(args, "sort")?.as_deref() {
        None | Some("updated") => Sort::Updated,
        Some("created") => Sort::Created,
        Some("name") => Sort::Name,
        Some("size") => Sort::Size,
        Some(other) => {
            return Err(Error::invalid(
                "argument",
                other,
                "sort: updated, created, name or size",
            ));
        }
    };
    let after = match text_arg(args, "cursor")? {
        None => None,
        Some(c) => Some(
            ListCursor::decode(&c)
                .filter(|c| c.sort == sort)
                .ok_or_else(|| {
                    Error::invalid("argument", &c, "cursor: next_cursor of the page before")
                })?,
        ),
    };
    let q = ListQuery {
        tags: text_arg(args, "tag")?.into_iter().collect(),
        source: text_arg(args, "source")?,
        updated_before: text_arg(args, "older_than")?
            .map(|s| parse_before(&s, now()))
            .transpose()?,
        sort,
        limit: Some(number_arg(args, "limit")?.unwrap_or(20).clamp(1, 100)),
        after,
        ..ListQuery::default()
    };
    let page = api::list_page(store, &q)?;
    Ok(json!({
        "total": page.total,
        "next_cursor": page.next_cursor,
        "sessions": page.sessions.iter().map(|s| json!({
            "session": s.session_id,
            "title": s.title,
            "source": s.source,
            "messages": s.message_count,
            "last_activity": s.last_activity,
            "tags": s.tags,
        })).collect::<Vec<_>>(),
    }))
}

fn session_stats(store: &Store, args: &Map<String, Value>) -> Result<Value> {
    if let Some(name) = text_arg(args, "session")? {
        let s = store.session_exact(&name)?;
        return Ok(json!({
            "session": s.name,
            "turn_count": store.turn_count(s.id)?,
            "stats": store.session_stats(s.id)?,
        }));
    }
    let mut stats = store.store_stats()?;
    // The days of a long-lived store would fill the context: the last 30.
    let keep = stats.days.len().saturating_sub(30);
    stats.days.drain(..keep);
    Ok(json!({ "store": stats }))
}

fn tag_session(store: &mut Store, args: &Map<String, Value>) -> Result<Value> {
    let name = required(args, "session")?;
    let list = |key: &str| -> Result<Vec<String>> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| Error::invalid("argument", key, "an array of tags"))
                })
                .collect(),
            Some(_) => Err(Error::invalid("argument", key, "an array of tags")),
        }
    };
    let (add, remove) = (list("add")?, list("remove")?);
    let s = store.session_exact(&name)?;
    let s = store.update_tags(s.id, &add, &remove)?;
    Ok(json!({ "session": s.name, "tags": s.tags }))
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("scrollback", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Past AI chat sessions kept by scrollback. search_sessions finds what was said; \
                 read_session reads a session around a hit (from=seq) or its last turns.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let me = self.clone();
        let name = request.name.to_string();
        let args = request.arguments.unwrap_or_default();
        let answer = tokio::task::spawn_blocking(move || me.call(&name, &args))
            .await
            .map_err(|e| McpError::internal_error(format!("the tool failed: {e}"), None))?;
        Ok(match answer {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        }
        .into())
    }
}
