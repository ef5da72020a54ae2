//! Branch, copy and merge: new sessions made from existing ones.

use rusqlite::params;
use serde_json::Value;

use super::Store;
use super::messages::insert_message;
use super::outbox::enqueue_whole;
use super::rows::to_i64;
use super::sessions::{SessionRow, insert_session, refresh_counts};
use crate::domain::{
    MergeInput, MergeOrder, NewMessage, Session, SessionId, Uid, now, plan_merge, ts_to_ms,
};
use crate::error::{Error, Result};

impl Store {
    /// A new session holding messages `0..=at` of `src` (all of them when
    /// `at` is `None`), remembering `src` as its parent and `at` as the fork
    /// point. Title, tags, metadata and source are copied.
    pub fn branch(&mut self, src: SessionId, name: &str, at: Option<u64>) -> Result<Session> {
        let parent = self.session_by_id(src)?;
        if parent.message_count == 0 && at.is_none() {
            return self.duplicate(&parent, name, None, Some(&parent.uid), None);
        }
        let last = parent.message_count.checked_sub(1);
        let at = match (at, last) {
            (Some(k), Some(last)) if k <= last => k,
            (None, Some(last)) => last,
            (Some(k), _) => {
                return Err(Error::invalid(
                    "fork point",
                    &k.to_string(),
                    format!(
                        "a message seq from 0 to {} of {}",
                        parent.message_count.saturating_sub(1),
                        parent.name
                    ),
                ));
            }
            (None, None) => unreachable!("handled above"),
        };
        self.duplicate(&parent, name, Some(at), Some(&parent.uid), Some(at))
    }

    /// An independent copy of a session: same title, tags, metadata and
    /// messages, a new uid, no lineage.
    pub fn copy(&mut self, src: SessionId, name: &str) -> Result<Session> {
        let s = self.session_by_id(src)?;
        self.duplicate(&s, name, None, None, None)
    }

    fn duplicate(
        &mut self,
        src: &Session,
        name: &str,
        upto: Option<u64>,
        parent: Option<&Uid>,
        fork_seq: Option<u64>,
    ) -> Result<Session> {
        let now = ts_to_ms(now());
        let uid = Uid::new_random();
        let tx = self.write()?;
        let id = insert_session(
            &tx,
            &SessionRow {
                parent: parent.map(Uid::as_str),
                fork_seq,
                source: &src.source,
                ..SessionRow::made_here(
                    uid.as_str(),
                    name,
                    &src.title,
                    now,
                    &src.metadata,
                    &src.tags,
                )
            },
        )?;
        tx.prepare_cached(
            "INSERT INTO message (session_id, seq, role, content, created_at, model, tokens_in, \
             tokens_out, metadata, source_id, kind) \
             SELECT ?1, seq, role, content, created_at, model, tokens_in, tokens_out, metadata, source_id, kind \
             FROM message WHERE session_id = ?2 AND seq <= ?3 ORDER BY seq",
        )?
        .execute(params![id.0, src.id.0, upto.map_or(i64::MAX, to_i64)])?;
        refresh_counts(&tx, id, now)?;
        enqueue_whole(&tx, id)?;
        tx.commit()?;
        self.session_by_id(id)
    }

    /// Merges sessions into a new one named `name`. See [`plan_merge`] for
    /// what is kept and in which order. Tags are united; metadata is merged
    /// (later sessions win) and records the inputs under `merged_from`.
    pub fn merge(
        &mut self,
        sources: &[SessionId],
        name: &str,
        order: MergeOrder,
    ) -> Result<Session> {
        if sources.len() < 2 {
            return Err(Error::invalid(
                "merge",
                &format!("{} session(s)", sources.len()),
                "at least two sessions to merge",
            ));
        }
        let (sessions, inputs) = self.merge_inputs(sources)?;
        let picked = plan_merge(&inputs, order);
        let mut tags: Vec<String> = sessions.iter().flat_map(|s| s.tags.clone()).collect();
        tags.sort();
        tags.dedup();
        let mut metadata = serde_json::Map::new();
        for s in &sessions {
            metadata.extend(s.metadata.clone());
        }
        metadata.insert(
            "merged_from".into(),
            Value::Array(
                sessions
                    .iter()
                    .map(|s| Value::String(s.uid.0.clone()))
                    .collect(),
            ),
        );
        let mut titles: Vec<&str> = Vec::new();
        for s in &sessions {
            let t = if s.title.is_empty() {
                s.name.as_str()
            } else {
                s.title.as_str()
            };
            if !titles.contains(&t) {
                titles.push(t);
            }
        }
        let title = titles.join(" + ");
        let now = ts_to_ms(now());
        let uid = Uid::new_random();
        let options = self.options;
        let tx = self.write()?;
        let id = insert_session(
            &tx,
            &SessionRow::made_here(uid.as_str(), name, &title, now, &metadata, &tags),
        )?;
        for (seq, &(i, j)) in picked.iter().enumerate() {
            let m = NewMessage::from(inputs[i].messages[j].clone());
            insert_message(&tx, id, seq as u64, &m, now, options)?;
        }
        refresh_counts(&tx, id, now)?;
        enqueue_whole(&tx, id)?;
        tx.commit()?;
        self.session_by_id(id)
    }

    /// How many messages a merge would produce, without making it.
    pub fn merge_preview(&self, sources: &[SessionId], order: MergeOrder) -> Result<usize> {
        let (_, inputs) = self.merge_inputs(sources)?;
        Ok(plan_merge(&inputs, order).len())
    }

    fn merge_inputs(&self, sources: &[SessionId]) -> Result<(Vec<Session>, Vec<MergeInput>)> {
        let mut sessions = Vec::with_capacity(sources.len());
        let mut inputs = Vec::with_capacity(sources.len());
        for &id in sources {
            let s = self.session_by_id(id)?;
            inputs.push(MergeInput {
                uid: s.uid.clone(),
                parent: s.parent.clone(),
                messages: self.all_messages(id)?,
            });
            sessions.push(s);
        }
        Ok((sessions, inputs))
    }
}
