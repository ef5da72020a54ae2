//! `doctor`: checks the database and repairs what is derived (counts,
//! message numbering). It never deletes user data.

use rusqlite::params;
use rusqlite::types::ValueRef;

use super::Store;
use super::outbox::{OutboxOp, enqueue};
use super::sessions::refresh_counts;
use crate::error::Result;

/// What `doctor` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoctorReport {
    /// One line per check or repair, for people.
    pub findings: Vec<String>,
    /// False when a problem remains that doctor cannot repair.
    pub healthy: bool,
}

impl Store {
    /// Checks integrity and repairs derived data in one transaction.
    pub fn doctor(&mut self) -> Result<DoctorReport> {
        let mut r = DoctorReport {
            healthy: true,
            ..DoctorReport::default()
        };
        let where_ = self.path().map_or_else(
            || "in-memory store".to_string(),
            |p| p.display().to_string(),
        );
        r.findings.push(format!(
            "database: {where_} (schema version {})",
            self.schema_version()?
        ));
        let integrity: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if integrity == ["ok"] {
            r.findings.push("integrity: ok".into());
        } else {
            r.healthy = false;
            r.findings.push(format!(
                "integrity: FAILED ({}); copy the file aside and run `sqlite3 FILE .recover`, or restore a backup",
                integrity.join("; ")
            ));
        }
        let orphans: i64 = self.conn.query_row(
            "SELECT count(*) FROM message WHERE session_id NOT IN (SELECT id FROM session)",
            [],
            |row| row.get(0),
        )?;
        if orphans > 0 {
            r.healthy = false;
            r.findings.push(format!(
                "{orphans} messages belong to no session (left in place)"
            ));
        }
        let damaged = self.damaged_messages()?;
        if !damaged.is_empty() {
            r.healthy = false;
            let shown: Vec<String> = damaged
                .iter()
                .take(10)
                .map(|(_, name, seq, why)| format!("{name} message {seq} ({why})"))
                .collect();
            r.findings.push(format!(
                "{} messages have damaged compressed content (left in place; restore them from a \
                 backup or export): {}{}",
                damaged.len(),
                shown.join("; "),
                if damaged.len() > shown.len() {
                    "; ..."
                } else {
                    ""
                }
            ));
        }
        // The counts of a session with a damaged message cannot be known.
        let unknown = damaged
            .iter()
            .map(|(id, ..)| id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let tx = self.write()?;
        let gaps: Vec<i64> = tx
            .prepare(
                "SELECT session_id FROM message GROUP BY session_id \
                 HAVING min(seq) != 0 OR max(seq) + 1 != count(*)",
            )?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in &gaps {
            tx.execute(
                "WITH r AS (SELECT id, row_number() OVER (ORDER BY seq) AS rn FROM message WHERE session_id = ?1) \
                 UPDATE message SET seq = -(SELECT rn FROM r WHERE r.id = message.id) WHERE session_id = ?1",
                params![id],
            )?;
            tx.execute(
                "UPDATE message SET seq = -seq - 1 WHERE session_id = ?1",
                params![id],
            )?;
            enqueue(
                &tx,
                crate::domain::SessionId(*id),
                OutboxOp::Messages { from_seq: 0 },
            )?;
        }
        if !gaps.is_empty() {
            r.findings.push(format!(
                "renumbered the messages of {} sessions",
                gaps.len()
            ));
        }
        let stale: Vec<(i64, i64)> = tx
            .prepare(&format!(
                "SELECT s.id, s.updated_at FROM session s WHERE s.id NOT IN ({unknown}) AND \
                 (s.message_count != (SELECT count(*) FROM message WHERE session_id = s.id) OR \
                 s.char_count != (SELECT coalesce(sum(chars(content)), 0) FROM message WHERE session_id = s.id))"
            ))?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, updated) in &stale {
            refresh_counts(&tx, crate::domain::SessionId(*id), *updated)?;
        }
        if !stale.is_empty() {
            r.findings.push(format!(
                "repaired the message counts of {} sessions",
                stale.len()
            ));
        }
        tx.commit()?;
        let (live, archived, trashed) = self.count_sessions()?;
        r.findings.push(format!(
            "sessions: {live} live, {archived} archived, {trashed} in the trash"
        ));
        Ok(r)
    }

    /// Messages whose compressed content does not decompress: session id,
    /// session name, seq and what is wrong. Reads one message at a time.
    fn damaged_messages(&self) -> Result<Vec<(i64, String, i64, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.session_id, coalesce(s.name, '#' || m.session_id), m.seq, m.content \
             FROM message m LEFT JOIN session s ON s.id = m.session_id \
             WHERE typeof(m.content) = 'blob' ORDER BY m.session_id, m.seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if let ValueRef::Blob(frame) = row.get_ref(3)?
                && let Err(d) = super::compress::decompress(frame)
            {
                out.push((row.get(0)?, row.get(1)?, row.get(2)?, d.reason));
            }
        }
        Ok(out)
    }
}
