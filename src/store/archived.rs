//! Sessions moved out into archive files (`archive --to`): taken out of the
//! store in one transaction, with a note of which file holds each uid.

use rusqlite::{OptionalExtension, params};

use super::Store;
use super::rows::to_u64;
use super::sessions::purge_in;
use crate::domain::{SessionId, Uid, now, ts_to_ms};
use crate::error::{Error, Result};

impl Store {
    /// Removes sessions that an archive file now holds, in one transaction,
    /// remembering for each uid the file (`archive`) it went to. Each comes
    /// with its message count and last update as written to the file: if
    /// one changed since (a sync added to it), nothing is removed and the
    /// error says so. The index forgets them through the outbox, as for a
    /// purge.
    pub fn remove_archived(
        &mut self,
        sessions: &[(SessionId, u64, jiff::Timestamp)],
        archive: &str,
    ) -> Result<usize> {
        let at = ts_to_ms(now());
        let tx = self.write()?;
        {
            let mut state = tx.prepare_cached(
                "SELECT name, message_count, updated_at FROM session WHERE id = ?1",
            )?;
            for (id, count, updated) in sessions {
                let (name, now_count, now_updated): (String, i64, i64) =
                    state.query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                if to_u64(now_count) != *count || now_updated != ts_to_ms(*updated) {
                    return Err(Error::invalid(
                        "archive",
                        &name,
                        format!(
                            "a session that stays as it was while it is archived: it changed \
                             (a sync?), so nothing was removed from the store; {archive} holds \
                             the sessions as they were, and the next archive takes the rest"
                        ),
                    ));
                }
            }
            let mut note = tx.prepare_cached(
                "INSERT OR REPLACE INTO archived_session (uid, name, archive, archived_at) \
                 SELECT uid, name, ?2, ?3 FROM session WHERE id = ?1",
            )?;
            for (id, _, _) in sessions {
                note.execute(params![id.0, archive, at])?;
            }
        }
        let ids: Vec<SessionId> = sessions.iter().map(|(id, _, _)| *id).collect();
        let n = purge_in(&tx, &ids)?;
        tx.commit()?;
        Ok(n)
    }

    /// The archive file a session with this uid was moved to, and its name
    /// then; `None` when it never was (or is back in the store).
    pub fn archived_in(&self, uid: &Uid) -> Result<Option<(String, String)>> {
        let in_store: bool = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM session WHERE uid = ?1)")?
            .query_row([uid.as_str()], |r| r.get(0))?;
        if in_store {
            return Ok(None);
        }
        Ok(self
            .conn
            .prepare_cached("SELECT name, archive FROM archived_session WHERE uid = ?1")?
            .query_row([uid.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The database file's size as SQLite sees it: pages times page size.
    pub fn file_bytes(&self) -> Result<u64> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(to_u64(pages * size))
    }
}
