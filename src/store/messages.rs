//! Messages: append, pages by keyset, truncate, clear.

use rusqlite::{Transaction, params};

use super::compress::{column, encode};
use super::outbox::{OutboxOp, enqueue};
use super::rows::{MESSAGE_COLUMNS, message_from_row, object_text, to_i64, to_u64};
use super::sessions::refresh_counts;
use super::{Store, StoreOptions};
use crate::domain::{Message, NewMessage, SessionId, now, ts_to_ms};
use crate::error::{Error, Result};

/// Inserts one message at `seq` without touching the session's counts.
/// Returns the number of characters of its content.
pub(super) fn insert_message(
    tx: &Transaction<'_>,
    id: SessionId,
    seq: u64,
    m: &NewMessage,
    default_time: i64,
    options: StoreOptions,
) -> Result<u64> {
    if m.content.len() > options.max_message_bytes {
        return Err(Error::MessageTooLarge {
            size: m.content.len(),
            limit: options.max_message_bytes,
        });
    }
    let content = encode(&m.content, options.compress_min_bytes)?;
    let metadata = (!m.metadata.is_empty()).then(|| object_text(&m.metadata));
    tx.prepare_cached(
        "INSERT INTO message (session_id, seq, role, content, created_at, model, tokens_in, \
         tokens_out, metadata, source_id, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        id.0,
        to_i64(seq),
        m.role.as_str(),
        content,
        m.created_at.map_or(default_time, ts_to_ms),
        m.model,
        m.tokens.map(|t| to_i64(t.input)),
        m.tokens.map(|t| to_i64(t.output)),
        metadata,
        m.source_id,
        m.kind.as_str(),
    ])?;
    Ok(super::chars::count(&m.content))
}

impl Store {
    /// Appends a message to a session and returns it as stored.
    #[allow(clippy::needless_pass_by_value)] // by value reads best at call sites
    pub fn add_message(&mut self, id: SessionId, message: NewMessage) -> Result<Message> {
        let seq = self.add_messages(id, std::slice::from_ref(&message))?;
        let mut page = self.messages(id, seq, 1)?;
        page.pop()
            .ok_or_else(|| Error::NotFound(format!("#{}", id.0)))
    }

    /// Appends several messages in one transaction. Returns the seq of the first.
    pub fn add_messages(&mut self, id: SessionId, messages: &[NewMessage]) -> Result<u64> {
        let options = self.options;
        let tx = self.write()?;
        let (count, chars): (i64, i64) = tx
            .prepare_cached("SELECT message_count, char_count FROM session WHERE id = ?1")?
            .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Error::NotFound(format!("#{}", id.0)),
                e => e.into(),
            })?;
        let first = to_u64(count);
        let now = ts_to_ms(now());
        let mut added = 0u64;
        for (i, m) in messages.iter().enumerate() {
            added += insert_message(&tx, id, first + i as u64, m, now, options)?;
        }
        tx.prepare_cached(
            "UPDATE session SET message_count = ?2, char_count = ?3, updated_at = max(updated_at, ?4) WHERE id = ?1",
        )?
        .execute(params![
            id.0,
            count + to_i64(messages.len() as u64),
            chars + to_i64(added),
            now
        ])?;
        enqueue(&tx, id, OutboxOp::Messages { from_seq: first })?;
        tx.commit()?;
        Ok(first)
    }

    /// Replaces the text of message `seq`, provided it still reads
    /// `expected` (so an edit made elsewhere meanwhile is never overwritten).
    /// The search index follows through the outbox.
    pub fn edit_message(
        &mut self,
        id: SessionId,
        seq: u64,
        expected: &str,
        content: &str,
    ) -> Result<Message> {
        use rusqlite::OptionalExtension;
        if content.len() > self.options.max_message_bytes {
            return Err(Error::MessageTooLarge {
                size: content.len(),
                limit: self.options.max_message_bytes,
            });
        }
        let min = self.options.compress_min_bytes;
        let tx = self.write()?;
        let current: Option<String> = tx
            .prepare_cached("SELECT content FROM message WHERE session_id = ?1 AND seq = ?2")?
            .query_row(params![id.0, to_i64(seq)], |r| {
                column(r, 0, || format!("message {seq} of session #{}", id.0))
            })
            .optional()?;
        let Some(current) = current else {
            return Err(Error::NotFound(format!("#{} message {seq}", id.0)));
        };
        if current != expected {
            return Err(Error::Invalid {
                what: "edit",
                value: format!("message {seq}"),
                expected: "the message changed since it was opened; open it again".into(),
            });
        }
        let stored = encode(content, min)?;
        tx.prepare_cached("UPDATE message SET content = ?3 WHERE session_id = ?1 AND seq = ?2")?
            .execute(params![id.0, to_i64(seq), stored])?;
        let delta = to_i64(super::chars::count(content)) - to_i64(super::chars::count(&current));
        tx.prepare_cached(
            "UPDATE session SET char_count = max(char_count + ?2, 0), updated_at = max(updated_at, ?3) WHERE id = ?1",
        )?
        .execute(params![id.0, delta, ts_to_ms(now())])?;
        enqueue(&tx, id, OutboxOp::Messages { from_seq: seq })?;
        tx.commit()?;
        let mut page = self.messages(id, seq, 1)?;
        page.pop()
            .ok_or_else(|| Error::NotFound(format!("#{} message {seq}", id.0)))
    }

    /// Up to `limit` messages starting at `from_seq`, in order. Uses the
    /// (session, seq) index: a page deep in a long session costs the same as
    /// the first.
    pub fn messages(&self, id: SessionId, from_seq: u64, limit: u64) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM message WHERE session_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![id.0, to_i64(from_seq), to_i64(limit)],
            message_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The text of one message, if the session has it.
    pub fn message_text(&self, id: SessionId, seq: u64) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached("SELECT content FROM message WHERE session_id = ?1 AND seq = ?2")?
            .query_row(params![id.0, to_i64(seq)], |r| {
                column(r, 0, || format!("message {seq} of session #{}", id.0))
            })
            .optional()?)
    }

    /// Role and time of one message, without its text.
    pub fn message_header(
        &self,
        id: SessionId,
        seq: u64,
    ) -> Result<Option<(crate::domain::Role, jiff::Timestamp)>> {
        use rusqlite::OptionalExtension;
        let row = self
            .conn
            .prepare_cached(
                "SELECT role, created_at FROM message WHERE session_id = ?1 AND seq = ?2",
            )?
            .query_row(params![id.0, to_i64(seq)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()?;
        Ok(row.map(|(role, at)| {
            (
                role.parse().unwrap_or(crate::domain::Role::User),
                crate::domain::ts_from_ms(at),
            )
        }))
    }

    /// The last `n` messages of a session, in order.
    pub fn last_messages(&self, id: SessionId, n: u64) -> Result<Vec<Message>> {
        let count = self.session_by_id(id)?.message_count;
        self.messages(id, count.saturating_sub(n), n)
    }

    /// Every message of a session, in order.
    pub fn all_messages(&self, id: SessionId) -> Result<Vec<Message>> {
        self.messages(id, 0, u64::MAX >> 1)
    }

    /// Keeps only the last `keep` messages; they are renumbered from 0.
    /// Returns how many were removed.
    pub fn truncate(&mut self, id: SessionId, keep: u64) -> Result<u64> {
        let tx = self.write()?;
        let count: i64 = tx.query_row(
            "SELECT message_count FROM session WHERE id = ?1",
            [id.0],
            |r| r.get(0),
        )?;
        let drop = count - to_i64(keep).min(count);
        if drop > 0 {
            remove_messages(&tx, id, 0, to_u64(drop))?;
        }
        tx.commit()?;
        Ok(to_u64(drop))
    }

    /// Removes every message of a session. Returns how many were removed.
    pub fn clear(&mut self, id: SessionId) -> Result<u64> {
        let tx = self.write()?;
        let n = tx.execute("DELETE FROM message WHERE session_id = ?1", [id.0])?;
        refresh_counts(&tx, id, ts_to_ms(now()))?;
        enqueue(&tx, id, OutboxOp::Messages { from_seq: 0 })?;
        tx.commit()?;
        Ok(n as u64)
    }
}

/// Removes the messages `[from, to)` of a session inside `tx`: the later
/// ones move up, the counts follow, and the index is told to read the
/// session again.
pub(super) fn remove_messages(
    tx: &Transaction<'_>,
    id: SessionId,
    from: u64,
    to: u64,
) -> Result<()> {
    let (from, to) = (to_i64(from), to_i64(to));
    tx.execute(
        "DELETE FROM message WHERE session_id = ?1 AND seq >= ?2 AND seq < ?3",
        params![id.0, from, to],
    )?;
    // Two steps, so that no row meets another in the unique (session, seq) index.
    tx.execute(
        "UPDATE message SET seq = -(seq - ?2) - 1 WHERE session_id = ?1 AND seq >= ?3",
        params![id.0, to - from, to],
    )?;
    tx.execute(
        "UPDATE message SET seq = -seq - 1 WHERE session_id = ?1 AND seq < 0",
        [id.0],
    )?;
    refresh_counts(tx, id, ts_to_ms(now()))?;
    enqueue(tx, id, OutboxOp::Messages { from_seq: 0 })
}
