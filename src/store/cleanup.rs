//! Cleanup: a plan from criteria (previewable), then one transaction to apply it.

use rusqlite::{ToSql, params_from_iter};

use super::Store;
use super::rows::{to_i64, to_u64};
use super::sessions::purge_in;
use crate::domain::{
    CleanupAction, CleanupCriteria, CleanupPlan, PlannedSession, SessionId, Uid, now, ts_from_ms,
    ts_to_ms,
};
use crate::error::{Error, Result};

impl Store {
    /// The sessions a cleanup with these criteria would touch. Sessions with a
    /// protected tag are never included; trashed sessions are considered only
    /// by a purge; archived ones are not archived again.
    pub fn cleanup_plan(
        &self,
        criteria: &CleanupCriteria,
        action: CleanupAction,
        protected_tags: &[String],
    ) -> Result<CleanupPlan> {
        if criteria.is_empty() {
            return Err(Error::invalid(
                "cleanup",
                "no criteria",
                "at least one criterion (--older-than, --empty, --tag, --without-tag, --source, --larger-than)",
            ));
        }
        let mut sql = String::from(
            "SELECT s.id, s.uid, s.name, s.message_count, s.updated_at FROM session s WHERE ",
        );
        sql.push_str(match action {
            CleanupAction::Archive => "s.trashed_at IS NULL AND s.archived_at IS NULL",
            CleanupAction::Trash => "s.trashed_at IS NULL",
            CleanupAction::Purge => "1",
        });
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        let mut push = |sql: &mut String, fragment: &str, arg: Box<dyn ToSql>| {
            args.push(arg);
            sql.push_str(&fragment.replace("?N", &format!("?{}", args.len())));
        };
        if let Some(before) = criteria.updated_before {
            push(
                &mut sql,
                " AND s.updated_at < ?N",
                Box::new(ts_to_ms(before)),
            );
        }
        if criteria.empty {
            sql.push_str(" AND s.message_count = 0");
        }
        if let Some(tag) = &criteria.tag {
            push(
                &mut sql,
                " AND EXISTS (SELECT 1 FROM tag t WHERE t.session_id = s.id AND t.tag = ?N)",
                Box::new(tag.clone()),
            );
        }
        if let Some(tag) = &criteria.without_tag {
            push(
                &mut sql,
                " AND NOT EXISTS (SELECT 1 FROM tag t WHERE t.session_id = s.id AND t.tag = ?N)",
                Box::new(tag.clone()),
            );
        }
        if let Some(source) = &criteria.source {
            push(&mut sql, " AND s.source = ?N", Box::new(source.clone()));
        }
        if let Some(n) = criteria.larger_than {
            push(&mut sql, " AND s.message_count > ?N", Box::new(to_i64(n)));
        }
        for tag in protected_tags {
            push(
                &mut sql,
                " AND NOT EXISTS (SELECT 1 FROM tag t WHERE t.session_id = s.id AND t.tag = ?N)",
                Box::new(tag.clone()),
            );
        }
        sql.push_str(" ORDER BY s.updated_at, s.id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), planned_row)?;
        Ok(CleanupPlan {
            action,
            criteria: criteria.clone(),
            protected_tags: protected_tags.to_vec(),
            sessions: rows.collect::<rusqlite::Result<_>>()?,
        })
    }

    /// Carries out a plan in one transaction. Sessions that gained a
    /// protected tag since the plan was made are skipped. Returns how many
    /// sessions were changed.
    pub fn apply_cleanup(&mut self, plan: &CleanupPlan) -> Result<usize> {
        let now = ts_to_ms(now());
        let tx = self.write()?;
        let changed = apply_cleanup_in(&tx, plan, now)?;
        tx.commit()?;
        Ok(changed)
    }
}

/// A session of a plan, from `id, uid, name, message_count, updated_at`.
pub(super) fn planned_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlannedSession> {
    Ok(PlannedSession {
        id: SessionId(r.get(0)?),
        uid: Uid(r.get(1)?),
        name: r.get(2)?,
        message_count: to_u64(r.get(3)?),
        updated_at: ts_from_ms(r.get(4)?),
    })
}

/// Carries out a cleanup plan inside `tx` (see [`Store::apply_cleanup`]).
pub(super) fn apply_cleanup_in(
    tx: &rusqlite::Transaction<'_>,
    plan: &CleanupPlan,
    now: i64,
) -> Result<usize> {
    {
        let mut ids = Vec::with_capacity(plan.sessions.len());
        {
            let mut protected = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM tag WHERE session_id = ?1 AND tag = ?2)",
            )?;
            'sessions: for s in &plan.sessions {
                for tag in &plan.protected_tags {
                    if protected
                        .query_row(rusqlite::params![s.id.0, tag], |r| r.get::<_, bool>(0))?
                    {
                        continue 'sessions;
                    }
                }
                ids.push(s.id);
            }
        }
        let changed = match plan.action {
            CleanupAction::Purge => purge_in(tx, &ids)?,
            action => {
                let sql = if action == CleanupAction::Archive {
                    "UPDATE session SET archived_at = ?2 WHERE id = ?1 AND archived_at IS NULL"
                } else {
                    "UPDATE session SET trashed_at = ?2 WHERE id = ?1 AND trashed_at IS NULL"
                };
                let mut stmt = tx.prepare_cached(sql)?;
                let mut n = 0;
                for id in &ids {
                    n += stmt.execute(rusqlite::params![id.0, now])?;
                }
                n
            }
        };
        Ok(changed)
    }
}
