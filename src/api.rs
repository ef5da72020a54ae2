//! What the HTTP API (`scrollback serve`) and the MCP server (`scrollback
//! mcp`) answer with: session info, pages of sessions, history by turns,
//! pages of search results. Both servers call these, so an operation is
//! written once, over the [`Store`] and the [`Search`] index.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::{ListCursor, ListQuery, Message, Role, Session, Uid};
use crate::error::{Error, Result};
use crate::search::{Limit, Search};
use crate::store::Store;

/// Most sessions on one page of a listing.
pub const MAX_PAGE: u64 = 1000;
/// Most messages in one history answer.
pub const MAX_MESSAGES: u64 = 10_000;

/// A session as the APIs show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    /// The session's name: the handle a client gives it and names it by.
    pub session_id: String,
    /// The same name, under the key the command line and exports use.
    pub name: String,
    /// Its stable public id (a UUID).
    pub uid: Uid,
    /// Title.
    pub title: String,
    /// `live`, `archived` or `trashed`.
    pub state: &'static str,
    /// User messages, each the start of a turn (in an info, not in a listing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_count: Option<u64>,
    /// Messages.
    pub message_count: u64,
    /// Characters over all messages.
    pub char_count: u64,
    /// When it was made.
    pub created_at: Timestamp,
    /// Its last change: a message added, a new name or title.
    pub last_activity: Timestamp,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Free-form metadata, where a client keeps its own state (`variables`).
    pub metadata: Map<String, Value>,
    /// Where it came from (`scrollback` for sessions made here).
    pub source: String,
    /// The source tool's id for it.
    pub source_ref: Option<String>,
    /// Where it branched from, and (in an info) its own branches.
    pub lineage: Lineage,
}

/// A session's place among its branches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lineage {
    /// Uid of the session it was branched from.
    pub parent: Option<Uid>,
    /// The parent's last message it holds.
    pub fork_seq: Option<u64>,
    /// Sessions branched from it (in an info, not in a listing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branches: Option<Vec<BranchRef>>,
}

/// A branch, by name and uid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchRef {
    /// Its name.
    pub session_id: String,
    /// Its uid.
    pub uid: Uid,
}

impl SessionInfo {
    /// What a listing shows: no counting of turns, no branches.
    pub fn summary(s: &Session) -> Self {
        SessionInfo {
            session_id: s.name.clone(),
            name: s.name.clone(),
            uid: s.uid.clone(),
            title: s.title.clone(),
            state: if s.trashed {
                "trashed"
            } else if s.archived {
                "archived"
            } else {
                "live"
            },
            turn_count: None,
            message_count: s.message_count,
            char_count: s.char_count,
            created_at: s.created_at,
            last_activity: s.updated_at,
            tags: s.tags.clone(),
            metadata: s.metadata.clone(),
            source: s.source.clone(),
            source_ref: s.source_ref.clone(),
            lineage: Lineage {
                parent: s.parent.clone(),
                fork_seq: s.fork_seq,
                branches: None,
            },
        }
    }
}

/// The whole info of a session: its summary, turns and branches.
pub fn info(store: &Store, s: &Session) -> Result<SessionInfo> {
    let mut info = SessionInfo::summary(s);
    info.turn_count = Some(store.turn_count(s.id)?);
    info.lineage.branches = Some(
        store
            .branches_of(&s.uid)?
            .into_iter()
            .map(|b| BranchRef {
                session_id: b.name,
                uid: b.uid,
            })
            .collect(),
    );
    Ok(info)
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionPage {
    /// The sessions, in the listing's order.
    pub sessions: Vec<SessionInfo>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Sessions the filters match, over every page.
    pub total: u64,
}

/// A page of `q` (its `limit`, at most [`MAX_PAGE`], default 50), starting
/// after `q.after`.
pub fn list_page(store: &Store, q: &ListQuery) -> Result<SessionPage> {
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let mut sessions = store.list(&ListQuery {
        limit: Some(limit + 1),
        ..q.clone()
    })?;
    let more = sessions.len() as u64 > limit;
    sessions.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| {
            sessions
                .last()
                .map(|s| ListCursor::after(s, q.sort).encode())
        })
        .flatten();
    Ok(SessionPage {
        total: store.count(&ListQuery {
            after: None,
            ..q.clone()
        })?,
        sessions: sessions.iter().map(SessionInfo::summary).collect(),
        next_cursor,
    })
}

/// Which messages of a session to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// The last this many turns (a user message and what answered it).
    pub max_turns: Option<u64>,
    /// From this seq (without `max_turns`; default 0).
    pub from: Option<u64>,
    /// At most this many messages (default and most: [`MAX_MESSAGES`]).
    pub limit: Option<u64>,
    /// Put the session's first message ahead when it is a system message
    /// the page leaves out.
    pub system: bool,
}

/// Messages of a session, by turns or by page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// The session's name.
    pub session_id: String,
    /// Its uid.
    pub uid: Uid,
    /// Its turns.
    pub turn_count: u64,
    /// Its messages.
    pub message_count: u64,
    /// Seq of the first message of the page (after a system message put ahead).
    pub from: u64,
    /// The messages, in order.
    pub history: Vec<Message>,
    /// Pass as `from` for the rest; `None` when the page reaches the end.
    pub next_from: Option<u64>,
}

/// Reads the history of `s` as `q` says.
pub fn history(store: &Store, s: &Session, q: &HistoryQuery) -> Result<History> {
    if q.max_turns.is_some() && q.from.is_some() {
        return Err(Error::invalid(
            "history query",
            "max_turns and from",
            "either max_turns (the last turns) or from and limit (a page), not both",
        ));
    }
    let limit = q.limit.unwrap_or(MAX_MESSAGES).clamp(1, MAX_MESSAGES);
    let from = match q.max_turns {
        Some(n) => store.last_turns_start(s.id, n)?,
        None => q.from.unwrap_or(0),
    };
    let mut history = store.messages(s.id, from, limit)?;
    let end = from + history.len() as u64;
    if q.system
        && from > 0
        && let Some(first) = store.messages(s.id, 0, 1)?.pop()
        && first.role == Role::System
    {
        history.insert(0, first);
    }
    Ok(History {
        session_id: s.name.clone(),
        uid: s.uid.clone(),
        turn_count: store.turn_count(s.id)?,
        message_count: s.message_count,
        from,
        history,
        next_from: (end < s.message_count).then_some(end),
    })
}

/// One session found by a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// The session's name.
    pub session_id: String,
    /// Its uid.
    pub uid: Uid,
    /// Its title.
    pub title: String,
    /// Where it came from.
    pub source: String,
    /// Seq of its best matching message (`None` when its name, title or
    /// tags matched).
    pub seq: Option<u64>,
    /// Who wrote that message.
    pub role: Option<Role>,
    /// When.
    pub created_at: Option<Timestamp>,
    /// Text around the match, on one line.
    pub snippet: String,
    /// Byte ranges of the matched words in `snippet`.
    pub highlights: Vec<[usize; 2]>,
    /// Relevance.
    pub score: f32,
    /// Other matching messages of the session among the best results.
    pub other_hits: usize,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchPage {
    /// The query as given.
    pub query: String,
    /// Sessions with a match among the best results looked at.
    pub total: usize,
    /// Skipped sessions.
    pub offset: usize,
    /// The sessions, best first.
    pub hits: Vec<SearchHit>,
    /// Pass as `offset` for the next page; `None` on the last.
    pub next_offset: Option<usize>,
}

/// Runs `query` (the query language of `scrollback search`), one page.
pub fn search_page(
    search: &mut Search,
    query: &str,
    limit: usize,
    offset: usize,
    archived: bool,
) -> Result<SearchPage> {
    let limit = limit.clamp(1, 100);
    let results = search.query(
        query,
        Limit {
            limit,
            offset,
            archived,
            snippets: true,
        },
    )?;
    let end = offset + results.hits.len();
    Ok(SearchPage {
        query: query.to_string(),
        total: results.sessions,
        offset,
        next_offset: (end < results.sessions && !results.hits.is_empty()).then_some(end),
        hits: results
            .hits
            .into_iter()
            .map(|h| SearchHit {
                session_id: h.session.name,
                uid: h.session.uid,
                title: h.session.title,
                source: h.session.source,
                seq: h.message.as_ref().map(|m| m.seq),
                role: h.message.as_ref().map(|m| m.role),
                created_at: h.message.as_ref().map(|m| m.created_at),
                snippet: h.snippet,
                highlights: h.highlights,
                score: h.score,
                other_hits: h.other_hits,
            })
            .collect(),
    })
}
