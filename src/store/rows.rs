//! Reading sessions and messages out of rows, and resolving selectors.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Map, Value};

use crate::domain::{Kind, Message, Role, Session, SessionId, Tokens, Uid, ts_from_ms};
use crate::error::{Error, Result};

/// Columns of a session row, in the order [`session_from_row`] reads them.
/// Tags come as one string joined by U+001F.
pub const SESSION_COLUMNS: &str = "s.id, s.uid, s.name, s.title, s.created_at, s.updated_at, \
     s.archived_at, s.trashed_at, s.parent_uid, s.fork_seq, s.source, s.source_ref, \
     s.message_count, s.char_count, s.metadata, \
     (SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM tag WHERE session_id = s.id ORDER BY tag))";

/// Columns of a message row, in the order [`message_from_row`] reads them.
pub const MESSAGE_COLUMNS: &str =
    "seq, role, content, created_at, model, tokens_in, tokens_out, metadata, source_id, kind";

pub fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    let tags: Option<String> = r.get(15)?;
    let archived_at: Option<i64> = r.get(6)?;
    let trashed_at: Option<i64> = r.get(7)?;
    Ok(Session {
        id: SessionId(r.get(0)?),
        uid: Uid(r.get(1)?),
        name: r.get(2)?,
        title: r.get(3)?,
        created_at: ts_from_ms(r.get(4)?),
        updated_at: ts_from_ms(r.get(5)?),
        archived_at: archived_at.map(ts_from_ms),
        trashed_at: trashed_at.map(ts_from_ms),
        archived: archived_at.is_some(),
        trashed: trashed_at.is_some(),
        parent: r.get::<_, Option<String>>(8)?.map(Uid),
        fork_seq: r.get::<_, Option<i64>>(9)?.map(to_u64),
        source: r.get(10)?,
        source_ref: r.get(11)?,
        message_count: to_u64(r.get(12)?),
        char_count: to_u64(r.get(13)?),
        metadata: parse_object(&r.get::<_, String>(14)?),
        tags: tags
            .map(|t| t.split('\u{1f}').map(str::to_string).collect())
            .unwrap_or_default(),
    })
}

pub fn message_from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let role: String = r.get(1)?;
    let tokens_in: Option<i64> = r.get(5)?;
    let tokens_out: Option<i64> = r.get(6)?;
    let tokens = (tokens_in.is_some() || tokens_out.is_some()).then(|| Tokens {
        input: tokens_in.map_or(0, to_u64),
        output: tokens_out.map_or(0, to_u64),
    });
    let seq = to_u64(r.get(0)?);
    Ok(Message {
        seq,
        // The CHECK constraint keeps other values out of the table.
        role: role.parse().unwrap_or(Role::User),
        kind: r.get::<_, String>(9)?.parse().unwrap_or(Kind::Text),
        content: super::compress::column(r, 2, || format!("message {seq}"))?,
        created_at: ts_from_ms(r.get(3)?),
        model: r.get(4)?,
        tokens,
        metadata: r
            .get::<_, Option<String>>(7)?
            .map(|m| parse_object(&m))
            .unwrap_or_default(),
        source_id: r.get(8)?,
    })
}

/// Stored counts are never negative; clamp rather than fail on a bad row.
pub fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Counts to SQLite integers (saturating; no count comes near i64::MAX).
pub fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Serialises a metadata object for storage; empty maps are stored as NULL
/// for messages (`None`) and `{}` for sessions.
pub fn object_text(m: &Map<String, Value>) -> String {
    Value::Object(m.clone()).to_string()
}

pub fn session_by_id(conn: &Connection, id: SessionId) -> Result<Session> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM session s WHERE s.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id.0], session_from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("#{}", id.0)))
}

pub fn resolve(conn: &Connection, selector: &str) -> Result<Session> {
    resolve_with(conn, selector, true)
}

/// A session by exact name or exact uid; with `prefixes`, by a unique uid
/// prefix (at least 4 characters) too.
pub fn resolve_with(conn: &Connection, selector: &str, prefixes: bool) -> Result<Session> {
    let by_name = format!("SELECT {SESSION_COLUMNS} FROM session s WHERE s.name = ?1");
    if let Some(s) = conn
        .prepare_cached(&by_name)?
        .query_row([selector], session_from_row)
        .optional()?
    {
        return Ok(s);
    }
    let by_uid = format!("SELECT {SESSION_COLUMNS} FROM session s WHERE s.uid = ?1");
    if let Some(s) = conn
        .prepare_cached(&by_uid)?
        .query_row([selector], session_from_row)
        .optional()?
    {
        return Ok(s);
    }
    if !prefixes || selector.chars().count() < 4 {
        return Err(Error::NotFound(selector.to_string()));
    }
    // A uid prefix: every uid in [prefix, prefix + U+10FFFF) starts with it.
    let by_prefix = format!(
        "SELECT {SESSION_COLUMNS} FROM session s WHERE s.uid >= ?1 AND s.uid < ?2 ORDER BY s.uid LIMIT 6"
    );
    let upper = format!("{selector}\u{10FFFF}");
    let found: Vec<Session> = conn
        .prepare_cached(&by_prefix)?
        .query_map(params![selector, upper], session_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    match found.len() {
        0 => Err(Error::NotFound(selector.to_string())),
        1 => Ok(found.into_iter().next().expect("one element")),
        _ => Err(Error::Ambiguous {
            prefix: selector.to_string(),
            candidates: found
                .into_iter()
                .map(|s| format!("{} ({})", s.name, s.uid))
                .collect(),
        }),
    }
}
