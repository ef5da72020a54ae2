//! The index outbox: what the search index has yet to learn. Rows are written
//! inside the transaction of the change they describe, so the index can never
//! miss a change that was committed; applying a row twice is harmless. Rows
//! are removed only once the index has committed what they ask, so a process
//! killed at any moment leaves an outbox from which the index catches up to
//! exactly the store.

use rusqlite::{Transaction, params};

use super::Store;
use super::rows::{to_i64, to_u64};
use crate::domain::SessionId;
use crate::error::Result;

/// One thing the index must do for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxOp {
    /// Re-read the session's messages from this seq on (earlier ones are unchanged).
    Messages {
        /// First seq that changed.
        from_seq: u64,
    },
    /// Re-read the session's name, title and tags.
    Session,
    /// Forget the session (it was purged).
    Purge,
    /// Forget every document, whatever session it is of (the index is
    /// rebuilt: rows for every session follow). Rows before it are void.
    Reset,
}

/// The session id of a reset row: no session has it (row ids start at 1).
/// Stored as a purge of that id, so the schema needs no new kind of row.
const RESET_SESSION: i64 = 0;

/// A row of the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxRow {
    /// Row id; rows are applied in this order.
    pub id: i64,
    /// The session (its row id; it may no longer exist; 0 for a reset).
    pub session: SessionId,
    /// What to do.
    pub op: OutboxOp,
}

/// Records that the index must follow a change, inside the change's transaction.
pub(super) fn enqueue(tx: &Transaction<'_>, session: SessionId, op: OutboxOp) -> Result<()> {
    let (session, name, from) = match op {
        OutboxOp::Messages { from_seq } => (session.0, "messages", to_i64(from_seq)),
        OutboxOp::Session => (session.0, "session", 0),
        OutboxOp::Purge => (session.0, "purge", 0),
        OutboxOp::Reset => (RESET_SESSION, "purge", 0),
    };
    tx.prepare_cached("INSERT INTO index_outbox (session_id, op, from_seq) VALUES (?1, ?2, ?3)")?
        .execute(params![session, name, from])?;
    Ok(())
}

/// A new or rewritten session: all of it.
pub(super) fn enqueue_whole(tx: &Transaction<'_>, session: SessionId) -> Result<()> {
    enqueue(tx, session, OutboxOp::Messages { from_seq: 0 })?;
    enqueue(tx, session, OutboxOp::Session)
}

impl Store {
    /// The oldest `limit` rows of the outbox.
    pub fn outbox_batch(&self, limit: u64) -> Result<Vec<OutboxRow>> {
        self.outbox_batch_from(0, limit)
    }

    /// The oldest `limit` rows of the outbox from row id `first_id` on.
    pub fn outbox_batch_from(&self, first_id: i64, limit: u64) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, session_id, op, from_seq FROM index_outbox WHERE id >= ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![first_id, to_i64(limit)], |r| {
            let op: String = r.get(2)?;
            let session: i64 = r.get(1)?;
            let op = match op.as_str() {
                "messages" => OutboxOp::Messages {
                    from_seq: to_u64(r.get(3)?),
                },
                "session" => OutboxOp::Session,
                _ if session == RESET_SESSION => OutboxOp::Reset,
                _ => OutboxOp::Purge,
            };
            Ok(OutboxRow {
                id: r.get(0)?,
                session: SessionId(session),
                op,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The row id of the last reset in the outbox, if any: rows before it
    /// are void.
    pub fn outbox_last_reset(&self) -> Result<Option<i64>> {
        Ok(self.conn.query_row(
            "SELECT max(id) FROM index_outbox WHERE session_id = ?1 AND op = 'purge'",
            [RESET_SESSION],
            |r| r.get(0),
        )?)
    }

    /// Removes the rows up to and including `last_id`, once the index holds
    /// them; returns how many.
    pub fn outbox_done(&mut self, last_id: i64) -> Result<u64> {
        let tx = self.write()?;
        let n = tx.execute("DELETE FROM index_outbox WHERE id <= ?1", [last_id])?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// Removes the rows an import wrote, once the index holds what it imported.
    pub fn outbox_done_span(&mut self, span: super::import::OutboxSpan) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "DELETE FROM index_outbox WHERE id > ?1 AND id <= ?2",
            params![span.after, span.upto],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Rows waiting in the outbox.
    pub fn outbox_len(&self) -> Result<u64> {
        Ok(to_u64(self.conn.query_row(
            "SELECT count(*) FROM index_outbox",
            [],
            |r| r.get(0),
        )?))
    }

    /// Asks the index to forget every document and re-read every session
    /// (before an index is thrown away or rebuilt), in one transaction: a
    /// reset row, then rows for every session. Nothing is removed here:
    /// the rows before the reset (purges among them) stay until the index
    /// commit that applies the reset, so a process killed before that
    /// commit leaves them to the next one. Returns the number of sessions.
    pub fn outbox_everything(&mut self) -> Result<u64> {
        let tx = self.write()?;
        enqueue(&tx, SessionId(RESET_SESSION), OutboxOp::Reset)?;
        let n = tx.execute(
            "INSERT INTO index_outbox (session_id, op, from_seq) SELECT id, 'messages', 0 FROM session",
            [],
        )?;
        tx.execute(
            "INSERT INTO index_outbox (session_id, op) SELECT id, 'session' FROM session",
            [],
        )?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// Asks the index to re-read these sessions whole (doctor's repair of drift).
    pub fn outbox_sessions(&mut self, ids: &[SessionId]) -> Result<()> {
        let tx = self.write()?;
        for id in ids {
            enqueue_whole(&tx, *id)?;
        }
        tx.commit()?;
        Ok(())
    }
}
