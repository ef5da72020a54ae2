//! The `llm` command line tool's `logs.db` (SQLite), of either generation
//! of its tables, or both. The file is opened read-only (`?mode=ro`) and
//! never written; a database another program holds locked is waited for
//! two seconds, then refused with an error that says so.
//!
//! Older tables: `conversations(id, name, model)` and `responses(id,
//! model, prompt, system, response, conversation_id, duration_ms,
//! datetime_utc, input_tokens, output_tokens, ...)`, one row per prompt and
//! its reply, with `tool_calls`, `tool_results`, `prompt_attachments` and
//! the fragment tables beside them. A conversation is its responses in time
//! order; each gives the system prompt (when it differs from the one before,
//! as a `system` context message), the fragments (context), the tool
//! results sent in, the prompt, its attachments (placeholders), the
//! reasoning (thinking), the reply (with model, tokens and duration) and
//! the tool calls it made.
//!
//! Newer tables: `threads(id, name, tip_message_hash, forked_from,
//! datetime_utc)`, `turns(id, thread_id, parent_message_hash,
//! tip_message_hash, model, datetime_utc, input_tokens, output_tokens,
//! ...)`, `messages(hash, parent_hash, role)` and `parts(id, message_hash,
//! position, type, text, ...)`. A thread is the chain from its tip back by
//! `parent_hash`; each part is a message (`text`, `reasoning` as thinking,
//! `tool_call`, `tool_result`, `attachment` as a placeholder; other types
//! are skipped and counted). The fields of tool parts are read from their
//! own columns or from the JSON `payload`, whichever the file has; text
//! kept by reference to fragments (`payload.text_ref`) gives the typed
//! text, and the fragments become context messages. A turn gives the
//! messages it brackets their time and model, and its tip message the
//! tokens. A thread `forked_from` another is a branch of it: the parent
//! is that thread's session and `fork_seq` the last message they share.
//! Turns with no thread are sessions of their own.
//!
//! Both generations in one file (a logs.db upgraded by a newer `llm`): a
//! thread takes the id of the conversation it continues and a turn the id
//! of the response it logged, so a conversation whose id is a thread's,
//! and a response whose id is a turn's, are read from the newer tables
//! only (the older rows are counted as skipped).
//!
//! Every session: source `llm`, `source_ref` the conversation or thread
//! id, metadata `model` and `resume_command` (`llm chat --cid ID`). Message
//! source ids are the response id (older) or the message hash (newer), with
//! `/1`, `/2`... for the further messages one of them gives.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};
use serde_json::{Map, Value};

use super::chatgpt::{placeholder_message, tool_summary};
use super::ids::uid_for;
use super::{Sink, TailPoint, first_prompt_title, short_name};
use crate::domain::{Kind, MessageDoc, Role, SessionDoc, Tokens, parse_time};
use crate::error::{Error, Result};

/// How long to wait for a database another program is writing.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Reads every conversation of a logs.db.
pub fn read(path: &Path, sink: &mut dyn Sink) -> Result<()> {
    read_since(path, sink, None).map(|_| ())
}

/// What a read of a logs.db remembers to go on from: the last response
/// row it saw.
#[derive(serde::Serialize, serde::Deserialize)]
struct Since {
    responses: i64,
}

/// [`read`], going on from where the read that left `point` stopped when
/// the file holds only the older tables: only the conversations that
/// gained responses since are read (whole, so that the store matches them
/// by their ids). The newer tables are read whole. True when it went on
/// from the point.
pub fn read_since(path: &Path, sink: &mut dyn Sink, point: Option<&TailPoint>) -> Result<bool> {
    let db = LogsDb::open(path)?;
    let tables = db.tables()?;
    let old = tables.contains("responses");
    let new = tables.contains("threads") && tables.contains("messages") && tables.contains("parts");
    if !old && !new {
        let mut names: Vec<&str> = tables.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.truncate(8);
        return Err(Error::Parse {
            path: path.to_path_buf(),
            location: "the whole file".into(),
            reason: format!(
                "a SQLite database, but not llm's logs.db: it has neither a \"responses\" table \
                 nor \"threads\", \"messages\" and \"parts\" (its tables: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        });
    }
    let known = if new {
        db.new_ids(&tables)?
    } else {
        NewIds::default()
    };
    let last: Option<i64> = if old {
        db.conn
            .query_row("SELECT max(rowid) FROM responses", [], |r| r.get(0))
            .map_err(|e| db.fail("table responses", &e))?
    } else {
        None
    };
    let since = point
        .and_then(|p| p.state.clone())
        .and_then(|s| serde_json::from_value::<Since>(s).ok())
        .map(|s| s.responses)
        // Fewer rows than were read: the file was replaced; read it whole.
        .filter(|s| !new && last.is_some_and(|l| l >= *s));
    if old {
        db.read_old(&tables, &known, since, sink)?;
    }
    if new {
        db.read_new(&tables, sink)?;
    } else if let Some(last) = last {
        sink.resume_point(TailPoint {
            state: serde_json::to_value(Since { responses: last }).ok(),
            ..TailPoint::default()
        });
    }
    Ok(since.is_some())
}

/// The ids the newer tables hold: threads (conversation ids) and turns
/// (response ids).
#[derive(Default)]
struct NewIds {
    threads: HashSet<String>,
    turns: HashSet<String>,
}

struct LogsDb<'p> {
    conn: Connection,
    path: &'p Path,
}

impl<'p> LogsDb<'p> {
    fn open(path: &'p Path) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(read_only_uri(path), flags)
            .map_err(|e| db_error(path, "opening it", &e))?;
        conn.busy_timeout(LOCK_WAIT)
            .map_err(|e| db_error(path, "opening it", &e))?;
        Ok(LogsDb { conn, path })
    }

    fn fail(&self, what: &str, e: &rusqlite::Error) -> Error {
        db_error(self.path, what, e)
    }

    fn tables(&self) -> Result<HashSet<String>> {
        let what = "its list of tables";
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            .map_err(|e| self.fail(what, &e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.fail(what, &e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.fail(what, &e))
    }

    /// The columns of a table (none when it does not exist).
    fn columns(&self, table: &str) -> Result<HashSet<String>> {
        let what = format!("table {table}");
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .map_err(|e| self.fail(&what, &e))?;
        let rows = stmt
            .query_map([table], |r| r.get::<_, String>(0))
            .map_err(|e| self.fail(&what, &e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.fail(&what, &e))
    }

    /// Runs a query, calling `f` with each row.
    fn each<P: rusqlite::Params>(
        &self,
        what: &str,
        sql: &str,
        params: P,
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| self.fail(what, &e))?;
        let mut rows = stmt.query(params).map_err(|e| self.fail(what, &e))?;
        while let Some(row) = rows.next().map_err(|e| self.fail(what, &e))? {
            f(row)?;
        }
        Ok(())
    }

    fn new_ids(&self, tables: &HashSet<String>) -> Result<NewIds> {
        let mut ids = NewIds::default();
        self.each("table threads", "SELECT id FROM threads", [], |r| {
            ids.threads.extend(text(r, 0));
            Ok(())
        })?;
        if tables.contains("turns") {
            self.each("table turns", "SELECT id FROM turns", [], |r| {
                ids.turns.extend(text(r, 0));
                Ok(())
            })?;
        }
        Ok(ids)
    }
}

// -- the older tables ------------------------------------------------------

/// The columns of `responses` read, in order (a missing one reads as NULL).
const RESPONSE_COLUMNS: [&str; 13] = [
    "id",
    "model",
    "prompt",
    "system",
    "response",
    "conversation_id",
    "duration_ms",
    "datetime_utc",
    "input_tokens",
    "output_tokens",
    "options_json",
    "resolved_model",
    "reasoning",
];

struct Response {
    id: String,
    model: Option<String>,
    prompt: Option<String>,
    system: Option<String>,
    reply: Option<String>,
    conversation: Option<String>,
    duration_ms: Option<i64>,
    time: Option<Timestamp>,
    tokens: Option<Tokens>,
    options: Option<Value>,
    resolved_model: Option<String>,
    reasoning: Option<String>,
    conversation_name: Option<String>,
    conversation_model: Option<String>,
}

impl LogsDb<'_> {
    fn read_old(
        &self,
        tables: &HashSet<String>,
        known: &NewIds,
        since: Option<i64>,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        let cols = self.columns("responses")?;
        let select = RESPONSE_COLUMNS
            .iter()
            .map(|c| column("r", c, &cols))
            .collect::<Vec<_>>()
            .join(", ");
        let conversations = tables.contains("conversations");
        let (join, names) = if conversations {
            let named = self.columns("conversations")?;
            (
                "LEFT JOIN conversations c ON c.id = r.conversation_id".to_string(),
                format!(
                    "{}, {}",
                    column("c", "name", &named),
                    column("c", "model", &named)
                ),
            )
        } else {
            (String::new(), "NULL, NULL".to_string())
        };
        let group = if cols.contains("conversation_id") {
            "coalesce(r.conversation_id, r.id)"
        } else {
            "r.id"
        };
        let time = if cols.contains("datetime_utc") {
            "r.datetime_utc, "
        } else {
            ""
        };
        // Going on from a read: the conversations that gained a response.
        let touched = if since.is_some() {
            format!("WHERE {group} IN (SELECT {group} FROM responses r WHERE r.rowid > ?1)")
        } else {
            "WHERE ?1 IS NULL".to_string()
        };
        let sql = format!(
            "SELECT {select}, {names} FROM responses r {join} {touched} ORDER BY {group}, {time}r.rowid"
        );
        let extras = Extras::find(self, tables)?;
        let mut group: Vec<Response> = Vec::new();
        let mut skipped_rows = 0u64;
        self.each("table responses", &sql, [since], |r| {
            let Some(id) = text(r, 0) else {
                sink.skip("llm response", "no id", 1);
                return Ok(());
            };
            let conversation = text(r, 5);
            let key = conversation.as_deref().unwrap_or(&id);
            if known.threads.contains(key) || known.turns.contains(&id) {
                skipped_rows += 1;
                return Ok(());
            }
            let response = Response {
                model: text(r, 1),
                prompt: text(r, 2),
                system: text(r, 3),
                reply: text(r, 4),
                duration_ms: int(r, 6),
                time: text(r, 7).as_deref().and_then(llm_time),
                tokens: tokens(int(r, 8), int(r, 9)),
                options: text(r, 10)
                    .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                    .filter(|v| v.as_object().is_some_and(|o| !o.is_empty())),
                resolved_model: text(r, 11),
                reasoning: text(r, 12),
                conversation_name: text(r, 13),
                conversation_model: text(r, 14),
                conversation,
                id,
            };
            let same = group.last().is_some_and(|g| {
                g.conversation.as_deref().unwrap_or(&g.id)
                    == response.conversation.as_deref().unwrap_or(&response.id)
            });
            if !same && !group.is_empty() {
                self.old_conversation(&std::mem::take(&mut group), &extras, sink)?;
            }
            group.push(response);
            Ok(())
        })?;
        if !group.is_empty() {
            self.old_conversation(&group, &extras, sink)?;
        }
        sink.skip(
            "llm response",
            "its conversation is in the newer tables too (imported from there)",
            skipped_rows,
        );
        if conversations && cols.contains("conversation_id") && since.is_none() {
            let empty: i64 = self
                .conn
                .query_row(
                    "SELECT count(*) FROM conversations WHERE id NOT IN \
                     (SELECT conversation_id FROM responses WHERE conversation_id IS NOT NULL)",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.fail("table conversations", &e))?;
            let empty = u64::try_from(empty).unwrap_or(0);
            let in_new = self.empty_in(&known.threads)?;
            sink.skip(
                "llm conversation",
                "no responses in it",
                empty.saturating_sub(in_new),
            );
        }
        Ok(())
    }

    /// How many conversations without responses have an id in `ids`.
    fn empty_in(&self, ids: &HashSet<String>) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        self.each(
            "table conversations",
            "SELECT id FROM conversations WHERE id NOT IN \
             (SELECT conversation_id FROM responses WHERE conversation_id IS NOT NULL)",
            [],
            |r| {
                if text(r, 0).is_some_and(|id| ids.contains(&id)) {
                    n += 1;
                }
                Ok(())
            },
        )?;
        Ok(n)
    }

    fn old_conversation(
        &self,
        responses: &[Response],
        extras: &Extras,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        let first = &responses[0];
        let id = first
            .conversation
            .clone()
            .unwrap_or_else(|| first.id.clone());
        let title = first.conversation_name.clone();
        let model = first
            .conversation_model
            .clone()
            .or_else(|| first.model.clone());
        let created_at = first.time;
        let mut messages = Vec::new();
        let mut last_system: Option<String> = None;
        for r in responses {
            let mut docs: Vec<MessageDoc> = Vec::new();
            if let Some(system) = r.system.clone().filter(|s| !s.trim().is_empty())
                && last_system.as_ref() != Some(&system)
            {
                last_system = Some(system.clone());
                docs.push(doc(Role::System, Kind::Context, system));
            }
            docs.extend(extras.fragments(self, &r.id, sink)?);
            docs.extend(extras.tool_results(self, &r.id)?);
            if let Some(prompt) = r.prompt.clone().filter(|p| !p.trim().is_empty()) {
                docs.push(doc(Role::User, Kind::Text, prompt));
            }
            docs.extend(extras.attachments(self, &r.id)?);
            for d in &mut docs {
                d.created_at = r.time;
            }
            let replied = r.time.map(|t| {
                let ms = r.duration_ms.unwrap_or(0).max(0);
                t.checked_add(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
                    .unwrap_or(t)
            });
            let mut reply: Vec<MessageDoc> = Vec::new();
            if let Some(reasoning) = r.reasoning.clone().filter(|s| !s.trim().is_empty()) {
                reply.push(doc(Role::Assistant, Kind::Thinking, reasoning));
            }
            if let Some(text) = r.reply.clone().filter(|s| !s.trim().is_empty()) {
                let mut d = doc(Role::Assistant, Kind::Text, text);
                if let Some(ms) = r.duration_ms {
                    d.metadata.insert("duration_ms".into(), ms.into());
                }
                if let Some(o) = &r.options {
                    d.metadata.insert("options".into(), o.clone());
                }
                if let Some(m) = &r.resolved_model {
                    d.metadata.insert("resolved_model".into(), m.clone().into());
                }
                reply.push(d);
            }
            reply.extend(extras.tool_calls(self, &r.id)?);
            let text_at = reply
                .iter()
                .rposition(|d| d.kind == Kind::Text)
                .or_else(|| reply.len().checked_sub(1));
            for (i, d) in reply.iter_mut().enumerate() {
                d.created_at = replied;
                d.model.clone_from(&r.model);
                if Some(i) == text_at {
                    d.tokens = r.tokens;
                }
            }
            docs.extend(reply);
            if docs.is_empty() {
                sink.skip("llm response", "no prompt and no reply in it", 1);
                continue;
            }
            number(&mut docs, &r.id);
            messages.extend(docs);
        }
        if messages.is_empty() {
            sink.skip("llm conversation", "no messages in it", 1);
            return Ok(());
        }
        sink.session(session(&id, title, model, created_at, messages))
    }
}

/// The side tables of the older generation that are present.
#[allow(clippy::struct_excessive_bools)] // one flag per table
struct Extras {
    tool_calls: bool,
    tool_results: bool,
    attachments: bool,
    fragments: bool,
    system_fragments: bool,
}

impl Extras {
    fn find(db: &LogsDb<'_>, tables: &HashSet<String>) -> Result<Self> {
        let has = |t: &str, cols: &[&str]| -> Result<bool> {
            if !tables.contains(t) {
                return Ok(false);
            }
            let have = db.columns(t)?;
            Ok(cols.iter().all(|c| have.contains(*c)))
        };
        Ok(Extras {
            tool_calls: has(
                "tool_calls",
                &["response_id", "name", "arguments", "tool_call_id"],
            )?,
            tool_results: has(
                "tool_results",
                &["response_id", "name", "output", "tool_call_id"],
            )?,
            attachments: has("prompt_attachments", &["response_id", "attachment_id"])?
                && has("attachments", &["id", "type"])?,
            fragments: has("prompt_fragments", &["response_id", "fragment_id", "order"])?
                && has("fragments", &["id", "content"])?,
            system_fragments: has("system_fragments", &["response_id", "fragment_id", "order"])?
                && has("fragments", &["id", "content"])?,
        })
    }

    fn tool_calls(&self, db: &LogsDb<'_>, response: &str) -> Result<Vec<MessageDoc>> {
        let mut out = Vec::new();
        if !self.tool_calls {
            return Ok(out);
        }
        db.each(
            "table tool_calls",
            "SELECT name, arguments, tool_call_id FROM tool_calls WHERE response_id = ?1 ORDER BY id",
            [response],
            |r| {
                out.push(tool_call(
                    text(r, 0).unwrap_or_default(),
                    &text(r, 1).unwrap_or_default(),
                    text(r, 2),
                ));
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn tool_results(&self, db: &LogsDb<'_>, response: &str) -> Result<Vec<MessageDoc>> {
        let mut out = Vec::new();
        if !self.tool_results {
            return Ok(out);
        }
        let cols = db.columns("tool_results")?;
        let sql = format!(
            "SELECT name, output, tool_call_id, {} FROM tool_results WHERE response_id = ?1 ORDER BY id",
            column("tool_results", "exception", &cols)
        );
        db.each("table tool_results", &sql, [response], |r| {
            out.push(tool_result(
                text(r, 0),
                text(r, 1).unwrap_or_default(),
                text(r, 2),
                text(r, 3),
            ));
            Ok(())
        })?;
        Ok(out)
    }

    fn attachments(&self, db: &LogsDb<'_>, response: &str) -> Result<Vec<MessageDoc>> {
        let mut out = Vec::new();
        if !self.attachments {
            return Ok(out);
        }
        let cols = db.columns("attachments")?;
        let sql = format!(
            "SELECT a.type, {}, {}, {} FROM prompt_attachments p \
             JOIN attachments a ON a.id = p.attachment_id \
             WHERE p.response_id = ?1 ORDER BY p.\"order\"",
            column("a", "path", &cols),
            column("a", "url", &cols),
            if cols.contains("content") {
                "length(a.content)"
            } else {
                "NULL"
            },
        );
        db.each("table prompt_attachments", &sql, [response], |r| {
            let mut d = attachment(text(r, 0).as_deref(), text(r, 1), text(r, 2), int(r, 3));
            d.role = Some(Role::User);
            out.push(d);
            Ok(())
        })?;
        Ok(out)
    }

    /// The system and prompt fragments of a response, as context.
    fn fragments(
        &self,
        db: &LogsDb<'_>,
        response: &str,
        sink: &mut dyn Sink,
    ) -> Result<Vec<MessageDoc>> {
        let mut out = Vec::new();
        for (on, table, role) in [
            (self.system_fragments, "system_fragments", Role::System),
            (self.fragments, "prompt_fragments", Role::User),
        ] {
            if !on {
                continue;
            }
            let fcols = db.columns("fragments")?;
            let sql = format!(
                "SELECT f.content, {}, {} FROM {table} p JOIN fragments f ON f.id = p.fragment_id \
                 WHERE p.response_id = ?1 ORDER BY p.\"order\"",
                column("f", "source", &fcols),
                column("f", "hash", &fcols),
            );
            db.each(&format!("table {table}"), &sql, [response], |r| {
                match text(r, 0).filter(|t| !t.trim().is_empty()) {
                    Some(content) => out.push(fragment(role, content, text(r, 1), text(r, 2))),
                    None => sink.skip("llm fragment", "empty", 1),
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

// -- the newer tables ------------------------------------------------------

/// What a turn tells about a message it brackets.
#[derive(Clone, Default)]
struct TurnFacts {
    time: Option<Timestamp>,
    model: Option<String>,
    resolved_model: Option<String>,
    /// Only on the turn's tip (the last message of the reply).
    tokens: Option<Tokens>,
    duration_ms: Option<i64>,
    /// False for the prompt (the turn's parent message).
    output: bool,
}

struct Thread {
    id: String,
    name: Option<String>,
    tip: Option<String>,
    forked_from: Option<String>,
    time: Option<Timestamp>,
    /// Resume with `llm chat --cid` (false for turns without a thread).
    resumable: bool,
}

/// A message row of a chain, made into messages.
struct ChainItem {
    hash: String,
    docs: usize,
}

impl LogsDb<'_> {
    fn read_new(&self, tables: &HashSet<String>, sink: &mut dyn Sink) -> Result<()> {
        let parts = PartColumns::find(self, tables)?;
        let facts = if tables.contains("turns") {
            self.turn_facts()?
        } else {
            HashMap::new()
        };
        let tcols = self.columns("threads")?;
        let sql = format!(
            "SELECT id, {}, tip_message_hash, {}, {} FROM threads ORDER BY {}rowid",
            column("threads", "name", &tcols),
            column("threads", "forked_from", &tcols),
            column("threads", "datetime_utc", &tcols),
            if tcols.contains("datetime_utc") {
                "datetime_utc, "
            } else {
                ""
            },
        );
        let mut threads: Vec<Thread> = Vec::new();
        self.each("table threads", &sql, [], |r| {
            if let Some(id) = text(r, 0) {
                threads.push(Thread {
                    id,
                    name: text(r, 1),
                    tip: text(r, 2),
                    forked_from: text(r, 3),
                    time: text(r, 4).as_deref().and_then(llm_time),
                    resumable: true,
                });
            }
            Ok(())
        })?;
        if tables.contains("turns") {
            threads.extend(self.threadless_turns()?);
        }
        // Parents before their forks.
        let ids: HashSet<String> = threads.iter().map(|t| t.id.clone()).collect();
        let by_id: HashMap<&str, &Thread> = threads.iter().map(|t| (t.id.as_str(), t)).collect();
        let depth = |t: &Thread| {
            let mut d = 0usize;
            let mut at = t.forked_from.as_deref();
            while let Some(p) = at.and_then(|p| by_id.get(p)) {
                d += 1;
                if d > by_id.len() {
                    break;
                }
                at = p.forked_from.as_deref();
            }
            d
        };
        let mut order: Vec<(usize, usize)> = threads
            .iter()
            .enumerate()
            .map(|(i, t)| (depth(t), i))
            .collect();
        order.sort_unstable();
        let forked: HashSet<&str> = threads
            .iter()
            .filter_map(|t| t.forked_from.as_deref())
            .collect();
        let mut chains: HashMap<String, Vec<ChainItem>> = HashMap::new();
        for (_, i) in order {
            let t = &threads[i];
            let hashes = match &t.tip {
                Some(tip) => self.chain(tip)?,
                None => Vec::new(),
            };
            let mut messages = Vec::new();
            let mut chain = Vec::with_capacity(hashes.len());
            for hash in hashes {
                let docs = self.message_docs(&hash, &parts, facts.get(&hash), sink)?;
                chain.push(ChainItem {
                    hash,
                    docs: docs.len(),
                });
                messages.extend(docs);
            }
            if messages.is_empty() {
                sink.skip("llm thread", "no messages in it", 1);
                continue;
            }
            let parent = t
                .forked_from
                .as_deref()
                .filter(|p| ids.contains(*p) && chains.contains_key(*p));
            let fork_seq = parent.and_then(|p| shared_seq(&chains[p], &chain));
            let title = t.name.clone();
            let model = messages.iter().find_map(|m| m.model.clone());
            let mut doc = session(
                &t.id,
                title,
                model,
                t.time
                    .or_else(|| messages.iter().find_map(|m| m.created_at)),
                messages,
            );
            if !t.resumable {
                doc.metadata.remove("resume_command");
            }
            if let Some(p) = &t.forked_from {
                doc.metadata.insert("forked_from".into(), p.clone().into());
                doc.metadata.insert("relation".into(), "fork".into());
            }
            if let Some(p) = parent {
                doc.parent = Some(uid_for("llm", p));
                doc.fork_seq = fork_seq;
            }
            sink.session(doc)?;
            if forked.contains(t.id.as_str()) {
                chains.insert(t.id.clone(), chain);
            }
        }
        Ok(())
    }

    /// What each turn tells about the messages it brackets: its prompt (the
    /// parent message) and its reply (the messages after it up to its tip).
    fn turn_facts(&self) -> Result<HashMap<String, TurnFacts>> {
        let cols = self.columns("turns")?;
        let sql = format!(
            "SELECT parent_message_hash, tip_message_hash, {}, {}, {}, {}, {}, {} FROM turns ORDER BY {}rowid",
            column("turns", "model", &cols),
            column("turns", "resolved_model", &cols),
            column("turns", "datetime_utc", &cols),
            column("turns", "duration_ms", &cols),
            column("turns", "input_tokens", &cols),
            column("turns", "output_tokens", &cols),
            if cols.contains("datetime_utc") {
                "datetime_utc, "
            } else {
                ""
            },
        );
        let mut turns: Vec<(Option<String>, String, TurnFacts)> = Vec::new();
        self.each("table turns", &sql, [], |r| {
            if let Some(tip) = text(r, 1) {
                let time = text(r, 4).as_deref().and_then(llm_time);
                turns.push((
                    text(r, 0),
                    tip,
                    TurnFacts {
                        time,
                        model: text(r, 2),
                        resolved_model: text(r, 3),
                        duration_ms: int(r, 5),
                        tokens: tokens(int(r, 6), int(r, 7)),
                        output: true,
                    },
                ));
            }
            Ok(())
        })?;
        let mut facts: HashMap<String, TurnFacts> = HashMap::new();
        for (parent, tip, turn) in turns {
            let replied = turn.time.map(|t| {
                let ms = u64::try_from(turn.duration_ms.unwrap_or(0)).unwrap_or(0);
                t.checked_add(Duration::from_millis(ms)).unwrap_or(t)
            });
            let mut at = Some(tip.clone());
            let mut steps = 0;
            while let Some(hash) = at.filter(|h| Some(h) != parent.as_ref()) {
                steps += 1;
                if steps > 10_000 {
                    break;
                }
                let is_tip = hash == tip;
                at = self.parent_of(&hash)?;
                facts.entry(hash).or_insert_with(|| TurnFacts {
                    time: replied,
                    tokens: if is_tip { turn.tokens } else { None },
                    ..turn.clone()
                });
            }
            if let Some(p) = parent {
                facts.entry(p).or_insert_with(|| TurnFacts {
                    time: turn.time,
                    output: false,
                    ..TurnFacts::default()
                });
            }
        }
        Ok(facts)
    }

    /// Turns whose thread is not in `threads` (logged without a
    /// conversation): each thread id, or each turn alone, is a session
    /// ending at its last turn's tip.
    fn threadless_turns(&self) -> Result<Vec<Thread>> {
        let cols = self.columns("turns")?;
        let sql = format!(
            "SELECT id, thread_id, tip_message_hash, {} FROM turns \
             WHERE thread_id IS NULL OR thread_id NOT IN (SELECT id FROM threads) ORDER BY {}rowid",
            column("turns", "datetime_utc", &cols),
            if cols.contains("datetime_utc") {
                "datetime_utc, "
            } else {
                ""
            },
        );
        let mut out: Vec<Thread> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        self.each("table turns", &sql, [], |r| {
            let Some(id) = text(r, 0) else { return Ok(()) };
            let key = text(r, 1).unwrap_or(id);
            let tip = text(r, 2);
            let time = text(r, 3).as_deref().and_then(llm_time);
            match at.get(&key) {
                Some(&i) => out[i].tip = tip.or(out[i].tip.take()),
                None => {
                    at.insert(key.clone(), out.len());
                    out.push(Thread {
                        id: key,
                        name: None,
                        tip,
                        forked_from: None,
                        time,
                        resumable: false,
                    });
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn parent_of(&self, hash: &str) -> Result<Option<String>> {
        let mut parent = None;
        self.each(
            "table messages",
            "SELECT parent_hash FROM messages WHERE hash = ?1",
            [hash],
            |r| {
                parent = text(r, 0);
                Ok(())
            },
        )?;
        Ok(parent)
    }

    /// The hashes from the root of the chain to `tip`.
    fn chain(&self, tip: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut at = Some(tip.to_string());
        while let Some(hash) = at {
            if !seen.insert(hash.clone()) {
                break; // a cycle (a damaged file): stop where it closes
            }
            let mut found = false;
            let mut parent = None;
            self.each(
                "table messages",
                "SELECT parent_hash FROM messages WHERE hash = ?1",
                [hash.as_str()],
                |r| {
                    found = true;
                    parent = text(r, 0);
                    Ok(())
                },
            )?;
            if !found {
                break;
            }
            out.push(hash);
            at = parent;
        }
        out.reverse();
        Ok(out)
    }

    /// The messages one message row gives: one per part, and a placeholder
    /// per attachment.
    fn message_docs(
        &self,
        hash: &str,
        cols: &PartColumns,
        facts: Option<&TurnFacts>,
        sink: &mut dyn Sink,
    ) -> Result<Vec<MessageDoc>> {
        let mut role_text = None;
        self.each(
            "table messages",
            "SELECT role FROM messages WHERE hash = ?1",
            [hash],
            |r| {
                role_text = text(r, 0);
                Ok(())
            },
        )?;
        let role = match role_text.as_deref() {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            Some("system") => Role::System,
            Some("tool") => Role::Tool,
            _ => {
                sink.skip(
                    "llm message",
                    "its role is not user, assistant, system nor tool",
                    1,
                );
                return Ok(Vec::new());
            }
        };
        let mut raw: Vec<RawPart> = Vec::new();
        self.each("table parts", &cols.sql, [hash], |r| {
            raw.push(RawPart {
                id: int(r, 0),
                ty: text(r, 1).unwrap_or_default(),
                text: text(r, 2),
                payload: text(r, 3).and_then(|p| serde_json::from_str::<Value>(&p).ok()),
                name: text(r, 4).or_else(|| text(r, 5)),
                arguments: text(r, 6),
                call_id: text(r, 7),
                output: text(r, 8),
                exception: text(r, 9),
                fragment: text(r, 10),
            });
            Ok(())
        })?;
        if raw.is_empty() {
            sink.skip("llm message", "no parts in it", 1);
            return Ok(Vec::new());
        }
        let mut docs = Vec::new();
        for p in raw {
            docs.extend(self.part_docs(role, &p, cols, sink)?);
        }
        if docs.is_empty() {
            return Ok(docs);
        }
        if let Some(f) = facts {
            let last_assistant = docs.iter().rposition(|d| d.role == Some(Role::Assistant));
            for (i, d) in docs.iter_mut().enumerate() {
                d.created_at = f.time;
                if f.output && d.role == Some(Role::Assistant) {
                    d.model.clone_from(&f.model);
                    if let Some(m) = &f.resolved_model {
                        d.metadata.insert("resolved_model".into(), m.clone().into());
                    }
                    if Some(i) == last_assistant {
                        d.tokens = f.tokens;
                        if let Some(ms) = f.duration_ms.filter(|_| f.tokens.is_some()) {
                            d.metadata.insert("duration_ms".into(), ms.into());
                        }
                    }
                }
            }
        }
        number(&mut docs, hash);
        Ok(docs)
    }

    fn part_docs(
        &self,
        role: Role,
        p: &RawPart,
        cols: &PartColumns,
        sink: &mut dyn Sink,
    ) -> Result<Vec<MessageDoc>> {
        let field = |k: &str| {
            p.payload
                .as_ref()
                .and_then(|v| v.get(k))
                .filter(|v| !v.is_null())
        };
        let field_text = |k: &str| {
            field(k).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        let mut out = Vec::new();
        match p.ty.as_str() {
            "text" | "reasoning" => {
                let (typed, fragments) = self.part_text(p, field("text_ref"))?;
                for (content, source) in fragments {
                    out.push(fragment(
                        if role == Role::System {
                            Role::System
                        } else {
                            Role::User
                        },
                        content,
                        source,
                        None,
                    ));
                }
                if p.ty == "reasoning" {
                    let redacted = field("redacted").and_then(Value::as_bool) == Some(true);
                    match typed.filter(|t| !t.trim().is_empty()) {
                        Some(t) => out.push(doc(Role::Assistant, Kind::Thinking, t)),
                        None if redacted => {
                            sink.skip("llm reasoning", "redacted by the provider", 1);
                        }
                        None => sink.skip("llm part", "empty", 1),
                    }
                } else {
                    match typed.filter(|t| !t.trim().is_empty()) {
                        Some(t) => {
                            let kind = match role {
                                Role::System => Kind::Context,
                                Role::Tool => Kind::ToolResult,
                                _ => Kind::Text,
                            };
                            out.push(doc(role, kind, t));
                        }
                        None if out.is_empty() => sink.skip("llm part", "empty", 1),
                        None => {}
                    }
                }
            }
            "tool_call" => {
                let name = p
                    .name
                    .clone()
                    .or_else(|| field_text("name"))
                    .or_else(|| field_text("tool_name"))
                    .unwrap_or_else(|| "tool".into());
                let arguments = p
                    .arguments
                    .clone()
                    .or_else(|| field_text("arguments"))
                    .or_else(|| p.text.clone())
                    .unwrap_or_default();
                let call = p.call_id.clone().or_else(|| field_text("tool_call_id"));
                out.push(tool_call(name, &arguments, call));
            }
            "tool_result" => {
                let output = p
                    .output
                    .clone()
                    .or_else(|| field_text("output"))
                    .or_else(|| p.text.clone())
                    .unwrap_or_default();
                out.push(tool_result(
                    p.name.clone().or_else(|| field_text("name")),
                    output,
                    p.call_id.clone().or_else(|| field_text("tool_call_id")),
                    p.exception.clone().or_else(|| field_text("exception")),
                ));
                out.extend(self.part_attachments(p, cols, role)?);
            }
            "attachment" => {
                let found = self.part_attachments(p, cols, role)?;
                if found.is_empty() {
                    let mut d = attachment(field_text("type").as_deref(), None, None, None);
                    d.role = Some(role);
                    out.push(d);
                } else {
                    out.extend(found);
                }
            }
            other => sink.skip(
                &format!("llm part type {other:?}"),
                "not a kind of content scrollback knows",
                1,
            ),
        }
        Ok(out)
    }

    /// A text part's typed text, and the fragments it borrows (content and
    /// source): from the `text` column, a `fragment_id` column, or the
    /// payload's `text_ref` list of `{fragment}` and `{literal}` pieces.
    #[allow(clippy::type_complexity)]
    fn part_text(
        &self,
        p: &RawPart,
        text_ref: Option<&Value>,
    ) -> Result<(Option<String>, Vec<(String, Option<String>)>)> {
        let mut fragments = Vec::new();
        if let Some(f) = &p.fragment {
            fragments.extend(self.fragment(f)?);
        }
        if let Some(t) = &p.text {
            return Ok((Some(t.clone()), fragments));
        }
        let Some(pieces) = text_ref.and_then(Value::as_array) else {
            return Ok((None, fragments));
        };
        let mut typed = String::new();
        for piece in pieces {
            if let Some(l) = piece.get("literal").and_then(Value::as_str) {
                typed.push_str(l);
            } else if let Some(f) = piece.get("fragment") {
                let id = match f {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                fragments.extend(self.fragment(&id)?);
            }
        }
        Ok((Some(typed.trim().to_string()), fragments))
    }

    fn fragment(&self, id: &str) -> Result<Option<(String, Option<String>)>> {
        let mut found = None;
        let source = if self.columns("fragments")?.contains("source") {
            "source"
        } else {
            "NULL"
        };
        self.each(
            "table fragments",
            &format!("SELECT content, {source} FROM fragments WHERE id = ?1"),
            [id],
            |r| {
                found = text(r, 0).map(|c| (c, text(r, 1)));
                Ok(())
            },
        )?;
        Ok(found)
    }

    /// Placeholders for the attachments of a part (through `part_attachments`,
    /// or the payload's `attachment_id`).
    fn part_attachments(
        &self,
        p: &RawPart,
        cols: &PartColumns,
        role: Role,
    ) -> Result<Vec<MessageDoc>> {
        let mut ids: Vec<String> = Vec::new();
        if cols.junction
            && let Some(part) = p.id
        {
            self.each(
                "table part_attachments",
                "SELECT attachment_id FROM part_attachments WHERE part_id = ?1 ORDER BY \"order\"",
                [part],
                |r| {
                    ids.extend(text(r, 0));
                    Ok(())
                },
            )?;
        }
        if ids.is_empty()
            && let Some(id) = p
                .payload
                .as_ref()
                .and_then(|v| v.get("attachment_id").or_else(|| v.get("attachment")))
                .and_then(Value::as_str)
        {
            ids.push(id.to_string());
        }
        let mut out = Vec::new();
        if !cols.attachments {
            return Ok(out);
        }
        let acols = self.columns("attachments")?;
        let sql = format!(
            "SELECT type, {}, {}, {} FROM attachments WHERE id = ?1",
            column("attachments", "path", &acols),
            column("attachments", "url", &acols),
            if acols.contains("content") {
                "length(content)"
            } else {
                "NULL"
            },
        );
        for id in ids {
            self.each("table attachments", &sql, [id.as_str()], |r| {
                let mut d = attachment(text(r, 0).as_deref(), text(r, 1), text(r, 2), int(r, 3));
                d.role = Some(role);
                out.push(d);
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// The columns of `parts` this file has, as a query of one message's parts.
struct PartColumns {
    sql: String,
    junction: bool,
    attachments: bool,
}

impl PartColumns {
    fn find(db: &LogsDb<'_>, tables: &HashSet<String>) -> Result<Self> {
        let cols = db.columns("parts")?;
        let c = |n: &str| column("parts", n, &cols);
        let sql = format!(
            "SELECT {}, type, text, {}, {}, {}, {}, {}, {}, {}, {} FROM parts \
             WHERE message_hash = ?1 ORDER BY position, {}",
            c("id"),
            c("payload"),
            c("tool_name"),
            c("name"),
            c("arguments"),
            c("tool_call_id"),
            c("output"),
            c("exception"),
            c("fragment_id"),
            if cols.contains("id") { "id" } else { "rowid" },
        );
        Ok(PartColumns {
            sql,
            junction: tables.contains("part_attachments"),
            attachments: tables.contains("attachments"),
        })
    }
}

struct RawPart {
    id: Option<i64>,
    ty: String,
    text: Option<String>,
    payload: Option<Value>,
    name: Option<String>,
    arguments: Option<String>,
    call_id: Option<String>,
    output: Option<String>,
    exception: Option<String>,
    fragment: Option<String>,
}

/// The seq of the last message a fork shares with the thread it left: the
/// messages of the message rows both chains start with.
fn shared_seq(parent: &[ChainItem], fork: &[ChainItem]) -> Option<u64> {
    let docs: usize = parent
        .iter()
        .zip(fork)
        .take_while(|(a, b)| a.hash == b.hash)
        .map(|(a, _)| a.docs)
        .sum();
    (docs as u64).checked_sub(1)
}

// -- shared ----------------------------------------------------------------

fn session(
    id: &str,
    title: Option<String>,
    model: Option<String>,
    created_at: Option<Timestamp>,
    messages: Vec<MessageDoc>,
) -> SessionDoc {
    let mut metadata = Map::new();
    if let Some(m) = model {
        metadata.insert("model".into(), m.into());
    }
    metadata.insert(
        "resume_command".into(),
        format!("llm chat --cid {id}").into(),
    );
    let title = title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| first_prompt_title(&messages));
    SessionDoc {
        name: Some(short_name("llm", id)),
        title,
        created_at,
        metadata,
        source: Some("llm".into()),
        source_ref: Some(id.to_string()),
        uid: Some(uid_for("llm", id)),
        messages,
        ..SessionDoc::default()
    }
}

fn doc(role: Role, kind: Kind, content: String) -> MessageDoc {
    MessageDoc {
        role: Some(role),
        kind,
        content,
        ..MessageDoc::default()
    }
}

fn fragment(
    role: Role,
    content: String,
    source: Option<String>,
    hash: Option<String>,
) -> MessageDoc {
    let mut d = doc(role, Kind::Context, content);
    if let Some(s) = source {
        d.metadata.insert("fragment_source".into(), s.into());
    }
    if let Some(h) = hash {
        d.metadata.insert("fragment_hash".into(), h.into());
    }
    d
}

fn tool_call(name: String, arguments: &str, call_id: Option<String>) -> MessageDoc {
    let input = serde_json::from_str::<Value>(arguments)
        .unwrap_or_else(|_| Value::String(arguments.to_string()));
    let one_line = match &input {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut d = doc(
        Role::Assistant,
        Kind::ToolCall,
        tool_summary(&name, &one_line),
    );
    d.metadata.insert("tool".into(), name.into());
    if let Some(c) = call_id {
        d.metadata.insert("call_id".into(), c.into());
    }
    d.metadata.insert("input".into(), input);
    d
}

fn tool_result(
    name: Option<String>,
    output: String,
    call_id: Option<String>,
    exception: Option<String>,
) -> MessageDoc {
    let exception = exception.filter(|e| !e.trim().is_empty());
    let content = match (&exception, output.trim().is_empty()) {
        (Some(e), true) => e.clone(),
        _ => output,
    };
    let mut d = doc(Role::Tool, Kind::ToolResult, content);
    if let Some(c) = call_id {
        d.metadata.insert("call_id".into(), c.into());
    }
    if let Some(n) = name {
        d.metadata.insert("tool".into(), n.into());
    }
    if let Some(e) = exception {
        d.metadata.insert("is_error".into(), true.into());
        d.metadata.insert("exception".into(), e.into());
    }
    d
}

/// A placeholder for an attachment: its media type and size, never the bytes.
fn attachment(
    media_type: Option<&str>,
    path: Option<String>,
    url: Option<String>,
    bytes: Option<i64>,
) -> MessageDoc {
    let what = if media_type.is_none_or(|m| m.starts_with("image/")) {
        "image"
    } else {
        "attachment"
    };
    let bytes = bytes.and_then(|b| u64::try_from(b).ok());
    let mut d = placeholder_message(what, media_type, bytes, None);
    if let Some(p) = path {
        d.metadata.insert("path".into(), p.into());
    }
    if let Some(u) = url {
        d.metadata.insert("url".into(), u.into());
    }
    d
}

/// Source ids: `ID` for the first message, `ID/1`, `ID/2`... for the others.
fn number(docs: &mut [MessageDoc], id: &str) {
    for (n, d) in docs.iter_mut().enumerate() {
        d.source_id = Some(if n == 0 {
            id.to_string()
        } else {
            format!("{id}/{n}")
        });
    }
}

fn tokens(input: Option<i64>, output: Option<i64>) -> Option<Tokens> {
    let n = |x: Option<i64>| x.and_then(|v| u64::try_from(v).ok());
    (input.is_some() || output.is_some()).then(|| Tokens {
        input: n(input).unwrap_or(0),
        output: n(output).unwrap_or(0),
    })
}

/// `alias.name`, or `NULL` when the table lacks the column.
fn column(alias: &str, name: &str, have: &HashSet<String>) -> String {
    if have.contains(name) {
        format!("{alias}.\"{name}\"")
    } else {
        "NULL".to_string()
    }
}

/// A value as text (numbers too); `None` for NULL and blobs.
fn text(r: &Row<'_>, i: usize) -> Option<String> {
    match r.get_ref(i).ok()? {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Null | ValueRef::Blob(_) => None,
    }
}

fn int(r: &Row<'_>, i: usize) -> Option<i64> {
    match r.get_ref(i).ok()? {
        ValueRef::Integer(n) => Some(n),
        #[allow(clippy::cast_possible_truncation)]
        ValueRef::Real(x) => Some(x as i64),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        ValueRef::Null | ValueRef::Blob(_) => None,
    }
}

/// llm's times: `2023-07-12T05:45:25.396092` (UTC, older) or
/// `2025-02-16 22:34:30.374882+00:00` (newer).
fn llm_time(s: &str) -> Option<Timestamp> {
    parse_time(s).or_else(|| parse_time(&s.trim().replacen(' ', "T", 1)))
}

/// `file:PATH?mode=ro`, the path percent-encoded where SQLite's URI
/// syntax needs it.
fn read_only_uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = abs.to_string_lossy().replace('\\', "/");
    let mut uri = String::from("file:");
    if !text.starts_with('/') {
        uri.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro");
    uri
}

/// A SQLite error reading the logs.db as an error naming the file: locked,
/// damaged, not a database, or what SQLite said.
fn db_error(path: &Path, what: &str, e: &rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as C;
    let reason = match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => format!(
            "the database is locked by another program (is llm writing to it?); waited {} s. \
             Try again when it is done",
            LOCK_WAIT.as_secs()
        ),
        Some(C::NotADatabase) => {
            "not a SQLite database, or one damaged beyond reading (SQLite says: file is not a database)"
                .to_string()
        }
        Some(C::DatabaseCorrupt) => format!(
            "the database is damaged ({e}); nothing was imported from it. `sqlite3 FILE .recover` \
             may save what is left"
        ),
        Some(C::CannotOpen | C::PermissionDenied | C::ReadOnly) => {
            format!("cannot be opened for reading ({e})")
        }
        _ => format!("reading {what}: {e}"),
    };
    Error::Parse {
        path: path.to_path_buf(),
        location: "the whole file".into(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_both_generations() {
        let t = |s: &str| s.parse::<Timestamp>().ok();
        assert_eq!(
            llm_time("2023-07-12T05:45:25.396092"),
            t("2023-07-12T05:45:25.396Z")
        );
        assert_eq!(
            llm_time("2025-02-16 22:34:30.374882+00:00"),
            t("2025-02-16T22:34:30.374Z")
        );
        assert_eq!(llm_time("yesterday"), None);
    }

    #[test]
    fn uris_escape_what_sqlite_reads() {
        assert_eq!(
            read_only_uri(Path::new("/tmp/a b/logs?.db")),
            "file:/tmp/a%20b/logs%3F.db?mode=ro"
        );
    }

    #[test]
    fn forks_share_the_messages_of_their_common_rows() {
        let item = |h: &str, docs| ChainItem {
            hash: h.into(),
            docs,
        };
        let parent = [item("a", 1), item("b", 2), item("c", 1)];
        assert_eq!(
            shared_seq(&parent, &[item("a", 1), item("b", 2), item("x", 1)]),
            Some(2)
        );
        assert_eq!(shared_seq(&parent, &[item("x", 1)]), None);
    }
}
