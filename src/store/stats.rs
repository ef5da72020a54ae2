//! Statistics of one session and of the whole store.

use jiff::Timestamp;
use serde::Serialize;

use super::Store;
use super::rows::to_u64;
use crate::domain::{Role, SessionId, ts_from_ms};
use crate::error::Result;

/// Messages and characters of one role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleStats {
    /// The role.
    pub role: Role,
    /// Its messages.
    pub messages: u64,
    /// Their characters.
    pub chars: u64,
    /// Average characters per message.
    pub avg_chars: u64,
}

/// A name with a count (a model, a source, a tag, a day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// What is counted.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// Statistics of one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionStats {
    /// All messages.
    pub messages: u64,
    /// All characters.
    pub chars: u64,
    /// Average characters per message.
    pub avg_chars: u64,
    /// Per role, in role order; roles without messages are left out.
    pub roles: Vec<RoleStats>,
    /// Models and how many messages each wrote, most first.
    pub models: Vec<Count>,
    /// Input tokens over all messages.
    pub tokens_in: u64,
    /// Output tokens over all messages.
    pub tokens_out: u64,
    /// Time of the first message.
    pub first_activity: Option<Timestamp>,
    /// Time of the last message.
    pub last_activity: Option<Timestamp>,
}

/// Statistics of the whole store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreStats {
    /// All sessions.
    pub sessions: u64,
    /// Neither archived nor trashed.
    pub live: u64,
    /// Archived.
    pub archived: u64,
    /// In the trash.
    pub trashed: u64,
    /// All messages.
    pub messages: u64,
    /// All characters.
    pub chars: u64,
    /// Sessions per source, most first.
    pub sources: Vec<Count>,
    /// Sessions per tag, most first.
    pub tags: Vec<Count>,
    /// Messages per role, in role order (roles without messages left out).
    pub roles: Vec<Count>,
    /// Messages per model, most first.
    pub models: Vec<Count>,
    /// Messages per day (UTC, `YYYY-MM-DD`), oldest first.
    pub days: Vec<Count>,
    /// Messages stored compressed, and what it saves.
    pub compressed: CompressedStats,
}

/// The messages stored compressed (`storage.compress_messages`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CompressedStats {
    /// How many.
    pub messages: u64,
    /// The bytes they take in the store.
    pub stored_bytes: u64,
    /// The bytes of their text.
    pub original_bytes: u64,
    /// What compressing them saves: `original_bytes - stored_bytes`.
    pub saved_bytes: u64,
}

impl Store {
    /// Statistics of one session.
    pub fn session_stats(&self, id: SessionId) -> Result<SessionStats> {
        let mut roles = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT role, count(*), coalesce(sum(chars(content)), 0) FROM message \
             WHERE session_id = ?1 GROUP BY role",
        )?;
        let rows = stmt.query_map([id.0], |r| {
            Ok((r.get::<_, String>(0)?, to_u64(r.get(1)?), to_u64(r.get(2)?)))
        })?;
        for row in rows {
            let (role, messages, chars) = row?;
            if let Ok(role) = role.parse() {
                roles.push(RoleStats {
                    role,
                    messages,
                    chars,
                    avg_chars: chars.checked_div(messages).unwrap_or(0),
                });
            }
        }
        roles.sort_by_key(|r| r.role);
        let models = self.counts(
            "SELECT model, count(*) FROM message WHERE session_id = ?1 AND model IS NOT NULL \
             GROUP BY model ORDER BY count(*) DESC, model",
            Some(id),
        )?;
        let (tokens_in, tokens_out, first, last): (i64, i64, Option<i64>, Option<i64>) =
            self.conn.prepare_cached(
                "SELECT coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0), min(created_at), \
                 max(created_at) FROM message WHERE session_id = ?1",
            )?
            .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        let messages = roles.iter().map(|r| r.messages).sum();
        let chars = roles.iter().map(|r| r.chars).sum();
        Ok(SessionStats {
            messages,
            chars,
            avg_chars: u64::checked_div(chars, messages).unwrap_or(0),
            roles,
            models,
            tokens_in: to_u64(tokens_in),
            tokens_out: to_u64(tokens_out),
            first_activity: first.map(ts_from_ms),
            last_activity: last.map(ts_from_ms),
        })
    }

    /// Statistics of the whole store.
    pub fn store_stats(&self) -> Result<StoreStats> {
        let (live, archived, trashed) = self.count_sessions()?;
        let (messages, chars): (i64, i64) = self.conn.query_row(
            "SELECT coalesce(sum(message_count), 0), coalesce(sum(char_count), 0) FROM session",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // `text_len` takes each text's size from its frame's header, so
        // nothing is decompressed.
        let (compressed, stored, original): (i64, i64, i64) = self.conn.query_row(
            "SELECT count(*), coalesce(sum(length(content)), 0), coalesce(sum(text_len(content)), 0) \
             FROM message WHERE typeof(content) = 'blob'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let (stored, original) = (to_u64(stored), to_u64(original));
        Ok(StoreStats {
            sessions: live + archived + trashed,
            live,
            archived,
            trashed,
            messages: to_u64(messages),
            chars: to_u64(chars),
            sources: self.counts(
                "SELECT source, count(*) FROM session GROUP BY source ORDER BY count(*) DESC, source",
                None,
            )?,
            tags: self.counts(
                "SELECT tag, count(*) FROM tag GROUP BY tag ORDER BY count(*) DESC, tag",
                None,
            )?,
            roles: {
                let mut roles = self.counts(
                    "SELECT role, count(*) FROM message GROUP BY role",
                    None,
                )?;
                roles.sort_by_key(|c| {
                    c.name
                        .parse::<crate::domain::Role>()
                        .map_or(usize::MAX, |r| r as usize)
                });
                roles
            },
            models: self.counts(
                "SELECT model, count(*) FROM message WHERE model IS NOT NULL GROUP BY model \
                 ORDER BY count(*) DESC, model",
                None,
            )?,
            days: self.counts(
                "SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, count(*) \
                 FROM message GROUP BY day ORDER BY day",
                None,
            )?,
            compressed: CompressedStats {
                messages: to_u64(compressed),
                stored_bytes: stored,
                original_bytes: original,
                saved_bytes: original.saturating_sub(stored),
            },
        })
    }

    fn counts(&self, sql: &str, id: Option<SessionId>) -> Result<Vec<Count>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let map = |r: &rusqlite::Row<'_>| {
            Ok(Count {
                name: r.get(0)?,
                count: to_u64(r.get(1)?),
            })
        };
        let rows = match id {
            Some(id) => stmt
                .query_map([id.0], map)?
                .collect::<rusqlite::Result<_>>()?,
            None => stmt.query_map([], map)?.collect::<rusqlite::Result<_>>()?,
        };
        Ok(rows)
    }
}
