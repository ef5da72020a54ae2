//! Retention policies: one engine for the rules a config sets (age, count,
//! turns and size per session), previewed as a plan and applied in one
//! transaction, each run logged.

use std::collections::HashSet;

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::Store;
use super::cleanup::{apply_cleanup_in, planned_row};
use super::messages::remove_messages;
use super::rows::{to_i64, to_u64};
use crate::domain::retention::{Sized, trim};
use crate::domain::{
    CleanupAction, CleanupCriteria, CleanupPlan, PlannedSession, Role, SessionId, Uid, ts_from_ms,
    ts_to_ms,
};
use crate::error::Result;

/// The rules of a retention policy; a rule left `None` is off.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetentionPolicy {
    /// Sessions not updated since this moment (`max_age` before now) ...
    pub updated_before: Option<Timestamp>,
    /// ... are archived, trashed or purged.
    pub age_action: Option<CleanupAction>,
    /// At most this many live sessions: the oldest by last update ...
    pub max_sessions: Option<u64>,
    /// ... are archived, trashed or purged.
    pub count_action: Option<CleanupAction>,
    /// At most this many turns per session (the oldest go).
    pub max_turns: Option<u64>,
    /// At most this many bytes of text per session (the oldest turns go).
    pub max_bytes: Option<u64>,
}

impl RetentionPolicy {
    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        self.updated_before.is_none()
            && self.max_sessions.is_none()
            && self.max_turns.is_none()
            && self.max_bytes.is_none()
    }
}

/// Messages a policy removes from the start of a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trim {
    #[serde(skip)]
    pub id: SessionId,
    pub uid: Uid,
    pub name: String,
    /// Messages it held when planned (a session changed since is left).
    pub message_count: u64,
    /// The messages `[from_seq, to_seq)` go.
    pub from_seq: u64,
    pub to_seq: u64,
}

/// What a policy would do now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionPlan {
    /// Sessions past `max_age`.
    pub by_age: Option<CleanupPlan>,
    /// The oldest sessions past `max_sessions`.
    pub by_count: Option<CleanupPlan>,
    /// Sessions past `max_turns` or `max_session_mb`.
    pub trims: Vec<Trim>,
    /// Tags whose sessions no rule touches.
    pub protected_tags: Vec<String>,
}

impl RetentionPlan {
    /// True when the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.by_age.as_ref().is_none_or(|p| p.sessions.is_empty())
            && self.by_count.as_ref().is_none_or(|p| p.sessions.is_empty())
            && self.trims.is_empty()
    }
}

/// One run of a policy, as logged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionRun {
    pub ran_at: Option<Timestamp>,
    /// What ran it: `cleanup` (by hand), `watch`, `serve`.
    pub trigger: String,
    pub archived: u64,
    pub trashed: u64,
    pub purged: u64,
    /// Sessions that lost their oldest turns, and how many messages went.
    pub trimmed: u64,
    pub messages_removed: u64,
}

/// The log of retention runs, for `stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionLog {
    pub runs: u64,
    pub last: Option<RetentionRun>,
    /// Totals over every run.
    pub total: RetentionRun,
}

impl Store {
    /// What `policy` would do now. Sessions carrying a protected tag are
    /// never touched (they still count toward `max_sessions`).
    pub fn retention_plan(
        &self,
        policy: &RetentionPolicy,
        protected_tags: &[String],
    ) -> Result<RetentionPlan> {
        let by_age = match (policy.updated_before, policy.age_action) {
            (Some(before), Some(action)) => Some(self.cleanup_plan(
                &CleanupCriteria {
                    updated_before: Some(before),
                    ..CleanupCriteria::default()
                },
                action,
                protected_tags,
            )?),
            _ => None,
        };
        let protected = self.protected_ids(protected_tags)?;
        let gone: HashSet<SessionId> = by_age
            .iter()
            .flat_map(|p| p.sessions.iter().map(|s| s.id))
            .collect();
        let by_count = match (policy.max_sessions, policy.count_action) {
            (Some(max), Some(action)) => {
                Some(self.over_count(max, action, &protected, &gone, protected_tags)?)
            }
            _ => None,
        };
        let mut gone = gone;
        gone.extend(
            by_count
                .iter()
                .flat_map(|p| p.sessions.iter().map(|s| s.id)),
        );
        let trims = self.trims(policy, &protected, &gone)?;
        Ok(RetentionPlan {
            by_age,
            by_count,
            trims,
            protected_tags: protected_tags.to_vec(),
        })
    }

    fn protected_ids(&self, tags: &[String]) -> Result<HashSet<SessionId>> {
        let mut out = HashSet::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT session_id FROM tag WHERE tag = ?1")?;
        for t in tags {
            for id in stmt.query_map([t], |r| r.get(0))? {
                out.insert(SessionId(id?));
            }
        }
        Ok(out)
    }

    /// The oldest live sessions beyond `max`, protected ones kept.
    fn over_count(
        &self,
        max: u64,
        action: CleanupAction,
        protected: &HashSet<SessionId>,
        gone: &HashSet<SessionId>,
        protected_tags: &[String],
    ) -> Result<CleanupPlan> {
        let mut stmt = self.conn.prepare(
            "SELECT id, uid, name, message_count, updated_at FROM session \
             WHERE trashed_at IS NULL AND archived_at IS NULL ORDER BY updated_at, id",
        )?;
        let live: Vec<PlannedSession> = stmt
            .query_map([], planned_row)?
            .collect::<rusqlite::Result<_>>()?;
        let left = live.iter().filter(|s| !gone.contains(&s.id)).count() as u64;
        let over = usize::try_from(left.saturating_sub(max)).unwrap_or(usize::MAX);
        let sessions = live
            .into_iter()
            .filter(|s| !gone.contains(&s.id) && !protected.contains(&s.id))
            .take(over)
            .collect();
        Ok(CleanupPlan {
            action,
            criteria: CleanupCriteria::default(),
            protected_tags: protected_tags.to_vec(),
            sessions,
        })
    }

    fn trims(
        &self,
        policy: &RetentionPolicy,
        protected: &HashSet<SessionId>,
        gone: &HashSet<SessionId>,
    ) -> Result<Vec<Trim>> {
        if policy.max_turns.is_none() && policy.max_bytes.is_none() {
            return Ok(Vec::new());
        }
        // A turn holds a message at least, and a character is at most 4
        // bytes: only these sessions can be over.
        let mut stmt = self.conn.prepare(
            "SELECT id, uid, name, message_count FROM session \
             WHERE trashed_at IS NULL AND archived_at IS NULL \
             AND (message_count > ?1 OR char_count * 4 > ?2) ORDER BY id",
        )?;
        let candidates: Vec<(SessionId, Uid, String, u64)> = stmt
            .query_map(
                params![
                    policy.max_turns.map_or(i64::MAX, to_i64),
                    policy.max_bytes.map_or(i64::MAX, to_i64)
                ],
                |r| {
                    Ok((
                        SessionId(r.get(0)?),
                        Uid(r.get(1)?),
                        r.get(2)?,
                        to_u64(r.get(3)?),
                    ))
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        // The size of each text, compressed or not: a limit in MB of text
        // means the same whatever the storage.
        let mut sizes = self.conn.prepare_cached(
            "SELECT role, text_len(content) FROM message WHERE session_id = ?1 ORDER BY seq",
        )?;
        let mut out = Vec::new();
        for (id, uid, name, message_count) in candidates {
            if protected.contains(&id) || gone.contains(&id) {
                continue;
            }
            let messages: Vec<Sized> = sizes
                .query_map([id.0], |r| {
                    let role: String = r.get(0)?;
                    Ok(Sized {
                        role: role.parse().unwrap_or(Role::User),
                        bytes: to_u64(r.get(1)?),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            if let Some((from_seq, to_seq)) = trim(&messages, policy.max_turns, policy.max_bytes) {
                out.push(Trim {
                    id,
                    uid,
                    name,
                    message_count,
                    from_seq,
                    to_seq,
                });
            }
        }
        Ok(out)
    }

    /// Applies a plan in one transaction and logs the run. Sessions that
    /// gained a protected tag, or whose messages changed, since the plan
    /// was made are left.
    pub fn apply_retention(&mut self, plan: &RetentionPlan, trigger: &str) -> Result<RetentionRun> {
        let now = ts_to_ms(crate::domain::now());
        let tx = self.write()?;
        let mut run = RetentionRun {
            ran_at: Some(ts_from_ms(now)),
            trigger: trigger.to_string(),
            ..RetentionRun::default()
        };
        for p in plan.by_age.iter().chain(plan.by_count.iter()) {
            let n = apply_cleanup_in(&tx, p, now)? as u64;
            match p.action {
                CleanupAction::Archive => run.archived += n,
                CleanupAction::Trash => run.trashed += n,
                CleanupAction::Purge => run.purged += n,
            }
        }
        for t in &plan.trims {
            let now_count: Option<i64> = tx
                .query_row(
                    "SELECT message_count FROM session WHERE id = ?1",
                    [t.id.0],
                    |r| r.get(0),
                )
                .optional()?;
            let protected = plan.protected_tags.iter().try_fold(false, |any, tag| {
                tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM tag WHERE session_id = ?1 AND tag = ?2)",
                    params![t.id.0, tag],
                    |r| r.get::<_, bool>(0),
                )
                .map(|p| any || p)
            })?;
            if now_count != Some(to_i64(t.message_count)) || protected {
                continue;
            }
            let n = to_i64(t.to_seq - t.from_seq);
            let (from, to) = (to_i64(t.from_seq), to_i64(t.to_seq));
            remove_messages(&tx, t.id, t.from_seq, t.to_seq)?;
            // Branches keep pointing at the message they left from.
            tx.execute(
                "UPDATE session SET fork_seq = CASE \
                   WHEN fork_seq >= ?3 THEN fork_seq - ?4 \
                   WHEN ?2 = 0 THEN NULL ELSE ?2 - 1 END \
                 WHERE parent_uid = ?1 AND fork_seq IS NOT NULL AND fork_seq >= ?2",
                params![t.uid.as_str(), from, to, n],
            )?;
            run.trimmed += 1;
            run.messages_removed += to_u64(n);
        }
        tx.execute(
            "INSERT INTO retention_run (ran_at, trigger, archived, trashed, purged, trimmed, messages_removed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                now,
                trigger,
                to_i64(run.archived),
                to_i64(run.trashed),
                to_i64(run.purged),
                to_i64(run.trimmed),
                to_i64(run.messages_removed)
            ],
        )?;
        tx.commit()?;
        Ok(run)
    }

    /// The log of retention runs: how many, the last, and the totals.
    pub fn retention_log(&self) -> Result<RetentionLog> {
        let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<RetentionRun> {
            Ok(RetentionRun {
                ran_at: r.get::<_, Option<i64>>(0)?.map(ts_from_ms),
                trigger: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                archived: to_u64(r.get::<_, Option<i64>>(2)?.unwrap_or(0)),
                trashed: to_u64(r.get::<_, Option<i64>>(3)?.unwrap_or(0)),
                purged: to_u64(r.get::<_, Option<i64>>(4)?.unwrap_or(0)),
                trimmed: to_u64(r.get::<_, Option<i64>>(5)?.unwrap_or(0)),
                messages_removed: to_u64(r.get::<_, Option<i64>>(6)?.unwrap_or(0)),
            })
        };
        let last = self
            .conn
            .query_row(
                "SELECT ran_at, trigger, archived, trashed, purged, trimmed, messages_removed \
                 FROM retention_run ORDER BY id DESC LIMIT 1",
                [],
                row,
            )
            .optional()?;
        let total = self.conn.query_row(
            "SELECT NULL, NULL, sum(archived), sum(trashed), sum(purged), sum(trimmed), \
             sum(messages_removed) FROM retention_run",
            [],
            row,
        )?;
        let runs: i64 = self
            .conn
            .query_row("SELECT count(*) FROM retention_run", [], |r| r.get(0))?;
        Ok(RetentionLog {
            runs: to_u64(runs),
            last,
            total,
        })
    }
}
