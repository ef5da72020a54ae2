//! Turns: a user message and what answered it. What a program that keeps a
//! conversation in a session reads back as context ("the last 10 turns").

use rusqlite::{OptionalExtension, params};

use super::Store;
use super::rows::{to_i64, to_u64};
use crate::domain::{Message, SessionId};
use crate::error::Result;

impl Store {
    /// How many turns a session holds: its user messages.
    pub fn turn_count(&self, id: SessionId) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM message WHERE session_id = ?1 AND role = 'user'")?
            .query_row([id.0], |r| r.get(0))?;
        Ok(to_u64(n))
    }

    /// Where the last `n` turns of a session begin: the seq of its `n`th
    /// user message from the end, or 0 when it has fewer (everything, with
    /// what came before the first user message). Walks the session from its
    /// end, so it costs the turns read, not the session's length.
    pub fn last_turns_start(&self, id: SessionId, n: u64) -> Result<u64> {
        if n == 0 {
            let count: i64 = self
                .conn
                .prepare_cached("SELECT message_count FROM session WHERE id = ?1")?
                .query_row([id.0], |r| r.get(0))?;
            return Ok(to_u64(count));
        }
        let seq: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT seq FROM message WHERE session_id = ?1 AND role = 'user' \
                 ORDER BY seq DESC LIMIT 1 OFFSET ?2",
            )?
            .query_row(params![id.0, to_i64(n - 1)], |r| r.get(0))
            .optional()?;
        Ok(seq.map_or(0, to_u64))
    }

    /// The messages of the last `n` turns of a session, in order, at most
    /// `limit` of them (the first ones); see
    /// [`last_turns_start`](Self::last_turns_start).
    pub fn last_turns(&self, id: SessionId, n: u64, limit: u64) -> Result<Vec<Message>> {
        let from = self.last_turns_start(id, n)?;
        self.messages(id, from, limit)
    }
}
