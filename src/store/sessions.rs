//! Session-level operations: create, rename, tags, metadata, listing, and
//! the life cycle (archive, trash, restore, purge).

use rusqlite::{OptionalExtension, ToSql, Transaction, params, params_from_iter};
use serde_json::{Map, Value};

use super::Store;
use super::outbox::{OutboxOp, enqueue, enqueue_whole};
use super::rows::{SESSION_COLUMNS, object_text, session_from_row, to_i64};
use crate::domain::{
    CursorKey, ListQuery, NewSession, Session, SessionId, Sort, StateFilter, Uid, now, ts_to_ms,
    validate_name, validate_tag,
};
use crate::error::{Error, Result};

/// Changes to a session, made together by
/// [`Store::patch_session`]; what is `None` or empty stays as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionPatch {
    /// A new unique name.
    pub name: Option<String>,
    /// A new title.
    pub title: Option<String>,
    /// The whole set of tags, replacing the old one.
    pub tags: Option<Vec<String>>,
    /// Tags to add (after `tags`).
    pub add_tags: Vec<String>,
    /// Tags to remove (after `add_tags`).
    pub remove_tags: Vec<String>,
    /// Metadata keys to set (`Some`) or remove (`None`).
    pub metadata: Vec<(String, Option<Value>)>,
    /// Archive (`true`) or take out of the archive (`false`).
    pub archived: Option<bool>,
    /// Move to the trash (`true`) or restore (`false`).
    pub trashed: Option<bool>,
}

/// Fields of a session row to insert.
pub(super) struct SessionRow<'a> {
    pub uid: &'a str,
    pub name: &'a str,
    pub title: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
    pub trashed_at: Option<i64>,
    pub parent: Option<&'a str>,
    pub fork_seq: Option<u64>,
    pub source: &'a str,
    pub source_ref: Option<&'a str>,
    pub metadata: &'a Map<String, Value>,
    pub tags: &'a [String],
}

impl<'a> SessionRow<'a> {
    /// A new live session made here at `now`, without lineage.
    pub(super) fn made_here(
        uid: &'a str,
        name: &'a str,
        title: &'a str,
        now: i64,
        metadata: &'a Map<String, Value>,
        tags: &'a [String],
    ) -> Self {
        SessionRow {
            uid,
            name,
            title,
            created_at: now,
            updated_at: now,
            archived_at: None,
            trashed_at: None,
            parent: None,
            fork_seq: None,
            source: "scrollback",
            source_ref: None,
            metadata,
            tags,
        }
    }
}

/// Inserts a session row and its tags; checks name and tags first.
pub(super) fn insert_session(tx: &Transaction<'_>, row: &SessionRow<'_>) -> Result<SessionId> {
    validate_name(row.name)?;
    for t in row.tags {
        validate_tag(t)?;
    }
    if name_taken(tx, row.name)? {
        return Err(Error::NameTaken(row.name.to_string()));
    }
    tx.prepare_cached(
        "INSERT INTO session (uid, name, title, created_at, updated_at, archived_at, trashed_at, \
         parent_uid, fork_seq, source, source_ref, metadata) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        row.uid,
        row.name,
        row.title,
        row.created_at,
        row.updated_at,
        row.archived_at,
        row.trashed_at,
        row.parent,
        row.fork_seq.map(to_i64),
        row.source,
        row.source_ref,
        object_text(row.metadata),
    ])?;
    let id = SessionId(tx.last_insert_rowid());
    let mut add =
        tx.prepare_cached("INSERT OR IGNORE INTO tag (session_id, tag) VALUES (?1, ?2)")?;
    for t in row.tags {
        add.execute(params![id.0, t])?;
    }
    Ok(id)
}

pub(super) fn name_taken(tx: &Transaction<'_>, name: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM session WHERE name = ?1)")?
        .query_row([name], |r| r.get(0))?)
}

/// Sets `updated_at` to `at` (milliseconds) and recomputes the message counts.
pub(super) fn refresh_counts(tx: &Transaction<'_>, id: SessionId, at: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE session SET updated_at = ?2, \
         message_count = (SELECT count(*) FROM message WHERE session_id = ?1), \
         char_count = (SELECT coalesce(sum(chars(content)), 0) FROM message WHERE session_id = ?1) \
         WHERE id = ?1",
    )?
    .execute(params![id.0, at])?;
    Ok(())
}

/// Runs `sql` (one `?1` = session id) for each id in one statement each.
fn for_each_id(
    tx: &Transaction<'_>,
    ids: &[SessionId],
    sql: &str,
    at: Option<i64>,
) -> Result<usize> {
    let mut stmt = tx.prepare_cached(sql)?;
    let mut changed = 0;
    for id in ids {
        changed += match at {
            Some(at) => stmt.execute(params![id.0, at])?,
            None => stmt.execute([id.0])?,
        };
    }
    Ok(changed)
}

impl Store {
    /// Creates a session. With a template, its title (when none is given),
    /// tags, metadata and messages are copied into the new session.
    pub fn create_session(&mut self, new: &NewSession) -> Result<Session> {
        let template = match &new.template {
            Some(t) => Some(self.session(t)?),
            None => None,
        };
        let now = ts_to_ms(now());
        let uid = Uid::new_random();
        let mut tags = new.tags.clone();
        let mut metadata = Map::new();
        let mut title = new.title.clone();
        if let Some(t) = &template {
            tags.extend(t.tags.iter().filter(|t| *t != "template").cloned());
            metadata.extend(t.metadata.clone());
            metadata.remove("kind");
            if title.is_empty() {
                title.clone_from(&t.title);
            }
        }
        metadata.extend(new.metadata.clone());
        tags.sort();
        tags.dedup();
        let tx = self.write()?;
        let id = insert_session(
            &tx,
            &SessionRow::made_here(uid.as_str(), &new.name, &title, now, &metadata, &tags),
        )?;
        if let Some(t) = &template {
            tx.prepare_cached(
                "INSERT INTO message (session_id, seq, role, content, created_at, model, tokens_in, \
                 tokens_out, metadata, source_id, kind) \
                 SELECT ?1, seq, role, content, ?3, model, tokens_in, tokens_out, metadata, NULL, kind \
                 FROM message WHERE session_id = ?2 ORDER BY seq",
            )?
            .execute(params![id.0, t.id.0, now])?;
            refresh_counts(&tx, id, now)?;
        }
        enqueue_whole(&tx, id)?;
        tx.commit()?;
        self.session_by_id(id)
    }

    /// Sessions tagged `template`, by name.
    pub fn templates(&self) -> Result<Vec<Session>> {
        self.list(&ListQuery {
            tags: vec!["template".into()],
            state: StateFilter::All,
            sort: Sort::Name,
            ..ListQuery::default()
        })
    }

    /// Gives a session a new (unique, valid) name.
    pub fn rename(&mut self, id: SessionId, new_name: &str) -> Result<Session> {
        self.patch_session(
            id,
            &SessionPatch {
                name: Some(new_name.to_string()),
                ..SessionPatch::default()
            },
        )
    }

    /// Sets a session's title.
    pub fn retitle(&mut self, id: SessionId, title: &str) -> Result<Session> {
        self.patch_session(
            id,
            &SessionPatch {
                title: Some(title.to_string()),
                ..SessionPatch::default()
            },
        )
    }

    /// Adds and removes tags in one transaction. Adding a present tag or
    /// removing an absent one is not an error.
    pub fn update_tags(
        &mut self,
        id: SessionId,
        add: &[String],
        remove: &[String],
    ) -> Result<Session> {
        self.patch_session(
            id,
            &SessionPatch {
                add_tags: add.to_vec(),
                remove_tags: remove.to_vec(),
                ..SessionPatch::default()
            },
        )
    }

    /// Sets metadata keys (`Some(value)`) and removes them (`None`).
    pub fn update_metadata(
        &mut self,
        id: SessionId,
        changes: &[(String, Option<Value>)],
    ) -> Result<Session> {
        self.patch_session(
            id,
            &SessionPatch {
                metadata: changes.to_vec(),
                ..SessionPatch::default()
            },
        )
    }

    /// Applies every change of `patch` in one transaction: all of them, or
    /// none when one breaks a rule (a name taken, a bad tag, an empty
    /// metadata key). A new name or title counts as an update.
    pub fn patch_session(&mut self, id: SessionId, patch: &SessionPatch) -> Result<Session> {
        if let Some(name) = &patch.name {
            validate_name(name)?;
        }
        for t in patch.tags.iter().flatten().chain(&patch.add_tags) {
            validate_tag(t)?;
        }
        if let Some((k, _)) = patch.metadata.iter().find(|(k, _)| k.is_empty()) {
            return Err(Error::invalid("metadata key", k, "a non-empty key"));
        }
        let at = ts_to_ms(now());
        let tx = self.write()?;
        let (current, text): (String, String) = tx
            .query_row(
                "SELECT name, metadata FROM session WHERE id = ?1",
                [id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("#{}", id.0)))?;
        if let Some(name) = &patch.name {
            if *name != current && name_taken(&tx, name)? {
                return Err(Error::NameTaken(name.clone()));
            }
            tx.execute(
                "UPDATE session SET name = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.0, name, at],
            )?;
        }
        if let Some(title) = &patch.title {
            tx.execute(
                "UPDATE session SET title = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.0, title, at],
            )?;
        }
        {
            let mut ins =
                tx.prepare_cached("INSERT OR IGNORE INTO tag (session_id, tag) VALUES (?1, ?2)")?;
            if let Some(tags) = &patch.tags {
                tx.execute("DELETE FROM tag WHERE session_id = ?1", [id.0])?;
                for t in tags {
                    ins.execute(params![id.0, t])?;
                }
            }
            for t in &patch.add_tags {
                ins.execute(params![id.0, t])?;
            }
            let mut del =
                tx.prepare_cached("DELETE FROM tag WHERE session_id = ?1 AND tag = ?2")?;
            for t in &patch.remove_tags {
                del.execute(params![id.0, t])?;
            }
        }
        if !patch.metadata.is_empty() {
            let mut meta = match serde_json::from_str(&text)? {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            for (k, v) in &patch.metadata {
                match v {
                    Some(v) => meta.insert(k.clone(), v.clone()),
                    None => meta.remove(k),
                };
            }
            tx.execute(
                "UPDATE session SET metadata = ?2 WHERE id = ?1",
                params![id.0, object_text(&meta)],
            )?;
        }
        let states = [
            (patch.archived, "archived_at"),
            (patch.trashed, "trashed_at"),
        ];
        for (wanted, column) in states {
            match wanted {
                Some(true) => tx.execute(
                    &format!("UPDATE session SET {column} = ?2 WHERE id = ?1 AND {column} IS NULL"),
                    params![id.0, at],
                )?,
                Some(false) => tx.execute(
                    &format!("UPDATE session SET {column} = NULL WHERE id = ?1"),
                    [id.0],
                )?,
                None => 0,
            };
        }
        let indexed = patch.name.is_some()
            || patch.title.is_some()
            || patch.tags.is_some()
            || !patch.add_tags.is_empty()
            || !patch.remove_tags.is_empty();
        if indexed {
            enqueue(&tx, id, OutboxOp::Session)?;
        }
        tx.commit()?;
        self.session_by_id(id)
    }

    /// Lists sessions matching the query.
    pub fn list(&self, q: &ListQuery) -> Result<Vec<Session>> {
        let (mut sql, mut args) = where_clause(
            q,
            &format!("SELECT {SESSION_COLUMNS} FROM session s WHERE "),
        );
        sql.push_str(match q.sort {
            Sort::Updated => " ORDER BY s.updated_at DESC, s.id DESC",
            Sort::Created => " ORDER BY s.created_at DESC, s.id DESC",
            Sort::Name => " ORDER BY s.name COLLATE NOCASE, s.name",
            Sort::Size => " ORDER BY s.message_count DESC, s.id DESC",
        });
        args.push(Box::new(q.limit.map_or(-1, to_i64)));
        args.push(Box::new(to_i64(q.offset)));
        sql.push_str(&format!(
            " LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        ));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many sessions match the query (its limit and offset aside).
    pub fn count(&self, q: &ListQuery) -> Result<u64> {
        let (sql, args) = where_clause(q, "SELECT count(*) FROM session s WHERE ");
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(super::rows::to_u64(n))
    }

    /// Where a session stands in a listing (0 = first), or `None` when the
    /// query leaves it out. Counts the rows before it in the listing's order.
    pub fn position(&self, q: &ListQuery, id: SessionId) -> Result<Option<u64>> {
        let (mut sql, mut args) = where_clause(
            q,
            "SELECT s.updated_at, s.created_at, s.message_count, s.name FROM session s WHERE ",
        );
        args.push(Box::new(id.0));
        sql.push_str(&format!(" AND s.id = ?{}", args.len()));
        let mine: Option<(i64, i64, i64, String)> = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(args.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((updated, created, size, name)) = mine else {
            return Ok(None);
        };
        let (mut sql, mut args) = where_clause(q, "SELECT count(*) FROM session s WHERE ");
        // The rows before it in `list`'s order.
        let (col, value) = match q.sort {
            Sort::Updated => ("updated_at", updated),
            Sort::Created => ("created_at", created),
            Sort::Size => ("message_count", size),
            Sort::Name => ("", 0),
        };
        if col.is_empty() {
            args.push(Box::new(name));
            let n = args.len();
            sql.push_str(&format!(
                " AND (s.name COLLATE NOCASE < ?{n} COLLATE NOCASE OR \
                 (s.name COLLATE NOCASE = ?{n} COLLATE NOCASE AND s.name < ?{n}))"
            ));
        } else {
            args.push(Box::new(value));
            args.push(Box::new(id.0));
            let (v, i) = (args.len() - 1, args.len());
            sql.push_str(&format!(
                " AND (s.{col} > ?{v} OR (s.{col} = ?{v} AND s.id > ?{i}))"
            ));
        }
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(Some(super::rows::to_u64(n)))
    }

    /// Sessions branched from the session with this uid, oldest first.
    pub fn branches_of(&self, uid: &crate::domain::Uid) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM session s WHERE s.parent_uid = ?1 ORDER BY s.created_at, s.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([uid.as_str()], session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every tag in use, by name.
    pub fn tag_names(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT tag FROM tag ORDER BY tag")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Number of sessions in each state: (live, archived, trashed).
    pub fn count_sessions(&self) -> Result<(u64, u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(archived_at IS NULL AND trashed_at IS NULL), 0), \
             coalesce(sum(archived_at IS NOT NULL AND trashed_at IS NULL), 0), \
             coalesce(sum(trashed_at IS NOT NULL), 0) FROM session",
            [],
            |r| {
                Ok((
                    super::rows::to_u64(r.get(0)?),
                    super::rows::to_u64(r.get(1)?),
                    super::rows::to_u64(r.get(2)?),
                ))
            },
        )?)
    }

    /// Moves sessions to the trash. Returns how many changed state.
    pub fn trash(&mut self, ids: &[SessionId]) -> Result<usize> {
        self.set_state(
            ids,
            "UPDATE session SET trashed_at = ?2 WHERE id = ?1 AND trashed_at IS NULL",
        )
    }

    /// Takes sessions out of the trash.
    pub fn restore(&mut self, ids: &[SessionId]) -> Result<usize> {
        self.set_state(
            ids,
            "UPDATE session SET trashed_at = NULL WHERE id = ?1 AND trashed_at IS NOT NULL",
        )
    }

    /// Archives sessions.
    pub fn archive(&mut self, ids: &[SessionId]) -> Result<usize> {
        self.set_state(
            ids,
            "UPDATE session SET archived_at = ?2 WHERE id = ?1 AND archived_at IS NULL",
        )
    }

    /// Takes sessions out of the archive.
    pub fn unarchive(&mut self, ids: &[SessionId]) -> Result<usize> {
        self.set_state(
            ids,
            "UPDATE session SET archived_at = NULL WHERE id = ?1 AND archived_at IS NOT NULL",
        )
    }

    fn set_state(&mut self, ids: &[SessionId], sql: &str) -> Result<usize> {
        let at = sql.contains("?2").then(|| ts_to_ms(now()));
        let tx = self.write()?;
        let n = for_each_id(&tx, ids, sql, at)?;
        tx.commit()?;
        Ok(n)
    }

    /// Deletes sessions, their messages and tags for good, in one transaction.
    pub fn purge(&mut self, ids: &[SessionId]) -> Result<usize> {
        let tx = self.write()?;
        let n = purge_in(&tx, ids)?;
        tx.commit()?;
        Ok(n)
    }

    /// Ids of every trashed session.
    pub fn trashed_ids(&self) -> Result<Vec<SessionId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM session WHERE trashed_at IS NOT NULL ORDER BY id")?;
        let ids = stmt.query_map([], |r| Ok(SessionId(r.get(0)?)))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }
}

/// The WHERE clause of a listing, after `head`, with its arguments.
fn where_clause(q: &ListQuery, head: &str) -> (String, Vec<Box<dyn ToSql>>) {
    let mut sql = head.to_string();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    sql.push_str(match q.state {
        StateFilter::Live => "s.archived_at IS NULL AND s.trashed_at IS NULL",
        StateFilter::Archived => "s.archived_at IS NOT NULL AND s.trashed_at IS NULL",
        StateFilter::Trashed => "s.trashed_at IS NOT NULL",
        StateFilter::All => "1",
    });
    for tag in &q.tags {
        args.push(Box::new(tag.clone()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM tag t WHERE t.session_id = s.id AND t.tag = ?{})",
            args.len()
        ));
    }
    for (k, v) in &q.metadata {
        args.push(Box::new(k.clone()));
        args.push(Box::new(v.clone()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM json_each(s.metadata) j WHERE j.key = ?{} AND \
             (CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
             ELSE CAST(j.value AS TEXT) END) = ?{})",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some(source) = &q.source {
        args.push(Box::new(source.clone()));
        sql.push_str(&format!(" AND s.source = ?{}", args.len()));
    }
    if let Some(before) = q.updated_before {
        args.push(Box::new(ts_to_ms(before)));
        sql.push_str(&format!(" AND s.updated_at < ?{}", args.len()));
    }
    if let Some(name) = &q.name_like {
        // Each character in order, anything between: `%a%p%r%`.
        let mut pattern = String::from("%");
        for c in name.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
            pattern.push('%');
        }
        args.push(Box::new(pattern));
        sql.push_str(&format!(" AND s.name LIKE ?{} ESCAPE '\\'", args.len()));
    }
    if let Some(after) = &q.after {
        // Rows after the cursor in the listing's order (see `list`).
        let n = args.len();
        let (column, desc) = match q.sort {
            Sort::Updated => ("s.updated_at", true),
            Sort::Created => ("s.created_at", true),
            Sort::Size => ("s.message_count", true),
            Sort::Name => ("s.name", false),
        };
        match &after.key {
            CursorKey::Text(name) if !desc => {
                args.push(Box::new(name.clone()));
                sql.push_str(&format!(
                    " AND (s.name COLLATE NOCASE > ?{a} COLLATE NOCASE \
                     OR (s.name COLLATE NOCASE = ?{a} COLLATE NOCASE AND s.name > ?{a}))",
                    a = n + 1
                ));
            }
            CursorKey::Number(k) if desc => {
                args.push(Box::new(*k));
                args.push(Box::new(after.id.0));
                sql.push_str(&format!(
                    " AND ({column} < ?{a} OR ({column} = ?{a} AND s.id < ?{b}))",
                    a = n + 1,
                    b = n + 2
                ));
            }
            // A cursor of another sort: nothing after it matches.
            _ => sql.push_str(" AND 0"),
        }
    }
    (sql, args)
}

/// Deletes sessions with their messages and tags inside `tx`.
pub(super) fn purge_in(tx: &Transaction<'_>, ids: &[SessionId]) -> Result<usize> {
    for id in ids {
        enqueue(tx, *id, OutboxOp::Purge)?;
    }
    for_each_id(tx, ids, "DELETE FROM message WHERE session_id = ?1", None)?;
    for_each_id(tx, ids, "DELETE FROM tag WHERE session_id = ?1", None)?;
    for_each_id(tx, ids, "DELETE FROM session WHERE id = ?1", None)
}

impl Store {
    /// Ids of the sessions carrying `tag`.
    pub fn ids_with_tag(&self, tag: &str) -> Result<Vec<SessionId>> {
        self.ids("SELECT session_id FROM tag WHERE tag = ?1", Some(tag))
    }

    /// Ids of the sessions not carrying `tag`.
    pub fn ids_without_tag(&self, tag: &str) -> Result<Vec<SessionId>> {
        self.ids(
            "SELECT id FROM session WHERE id NOT IN (SELECT session_id FROM tag WHERE tag = ?1)",
            Some(tag),
        )
    }

    /// Ids of the sessions not from `source`.
    pub fn ids_not_from_source(&self, source: &str) -> Result<Vec<SessionId>> {
        self.ids("SELECT id FROM session WHERE source != ?1", Some(source))
    }

    /// Ids of the sessions from `source`.
    pub fn ids_from_source(&self, source: &str) -> Result<Vec<SessionId>> {
        self.ids("SELECT id FROM session WHERE source = ?1", Some(source))
    }

    /// Ids of the sessions a search leaves out: trashed ones, and archived
    /// ones unless `archived` is true.
    pub fn hidden_ids(&self, archived: bool) -> Result<Vec<SessionId>> {
        if archived {
            self.ids("SELECT id FROM session WHERE trashed_at IS NOT NULL", None)
        } else {
            self.ids(
                "SELECT id FROM session WHERE trashed_at IS NOT NULL OR archived_at IS NOT NULL",
                None,
            )
        }
    }

    fn ids(&self, sql: &str, arg: Option<&str>) -> Result<Vec<SessionId>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let map = |r: &rusqlite::Row<'_>| Ok(SessionId(r.get(0)?));
        let ids = match arg {
            Some(a) => stmt.query_map([a], map)?.collect::<rusqlite::Result<_>>()?,
            None => stmt.query_map([], map)?.collect::<rusqlite::Result<_>>()?,
        };
        Ok(ids)
    }
}
