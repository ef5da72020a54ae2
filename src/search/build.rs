//! Turns a parsed query into a tantivy query, plus the terms to mark in
//! snippets. Session-level filters (`tag:`, `session:`, `source:`) and the
//! archived/trashed state are resolved in the store, so renaming, tagging or
//! trashing a session never means reindexing its messages.
//!
//! A query is about conversations: besides the query that finds the
//! documents matching every clause at once (the fast path), it is split into
//! its [`Part`]s, the clauses with words, each of which one document of a
//! session must match; its exclusions, which leave out a session when any
//! of its documents says them; and what a document must match to count at
//! all (the message filters, see [`Built::counts`]).

use std::ops::{Bound, Range};
use std::sync::Arc;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::IndexRecordOption;

use super::collect::SessionSet;
use super::index::{Fields, KIND_MESSAGE, id_u64, role_code};
use super::query::{ParsedQuery, Term as Q};
use super::snippet::Marks;
use super::tokenizer::tokens;
use super::verify::{Alt, MAX_CLAUSES, Pattern, TextClause};
use crate::domain::{SessionId, ts_to_ms};
use crate::error::{Error, Result};
use crate::store::Store;

/// A query ready to run.
pub struct Built {
    /// What selects and scores the documents that match every clause.
    pub query: Box<dyn Query>,
    /// Checks on each candidate the query yields: it must match every `Must`
    /// and no `MustNot` (filters, and OR groups of words and filters, kept
    /// out of `query` so that it stays a plain term, union or intersection,
    /// which tantivy can prune with block-max WAND). Exclusions of words are
    /// not here: they leave out sessions (see `excluded`).
    pub filters: Vec<(Occur, Box<dyn Query>)>,
    pub marks: Marks,
    /// Session filters left to the collector: results come from sessions in
    /// every `within` set and in no `without` set.
    pub within: Vec<Arc<SessionSet>>,
    pub without: Vec<Arc<SessionSet>>,
    /// Times (ms) a message must be written in, from `after:` and
    /// `before:` clauses: compared on the column of each candidate.
    pub created: Option<Range<i64>>,
    /// Clauses with a phrase, checked on the text of each candidate (the
    /// index has no positions). `query` and `filters` hold each one with
    /// its phrases loosened to their words.
    pub texts: Vec<TextClause>,
    /// The clauses with words (or phrases, prefixes), alone or in an OR
    /// group: a session matches when each is matched by one of its
    /// documents that counts (see `counts`).
    pub parts: Vec<Part>,
    /// Excluded words, phrases and prefixes: a session is left out when one
    /// of its documents that counts says one of them.
    pub excluded: Vec<Part>,
    /// What a document must match (`Must`) and not match (`MustNot`) to
    /// count at all, for every part and exclusion: the message filters
    /// (`role:`, `model:`, dates, alone or in groups of filters, and their
    /// exclusions; `kind` message when there is one), and, in a query
    /// without words, every filter. With `created`.
    pub counts: Vec<(Occur, Box<dyn Query>)>,
}

/// One clause of a query, as the passes over conversations see it.
pub struct Part {
    /// The documents that may match it (phrases loosened to their words),
    /// scored by its terms.
    pub query: Box<dyn Query>,
    /// When it has a phrase: the check that the text of a document of
    /// `query` must pass to match it (a clause that matches when found).
    pub text: Option<TextClause>,
    /// What a document that matches it has to mark.
    pub marks: Marks,
}

impl Built {
    /// Everything but `texts` as one tantivy query (for tantivy's own
    /// collectors); what it finds must still pass `texts`.
    pub fn into_query(self, f: &Fields) -> Box<dyn Query> {
        let mut parts = vec![(Occur::Must, self.query)];
        parts.extend(self.filters);
        for s in &self.within {
            parts.push((Occur::Must, sessions_or_nothing(f, s)));
        }
        if let Some(r) = self.created {
            parts.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.created, r.start)),
                    Bound::Excluded(Term::from_field_i64(f.created, r.end)),
                )),
            ));
        }
        for s in self.without.iter().filter(|s| !s.is_empty()) {
            parts.push((Occur::MustNot, term_set(f, s.iter())));
        }
        if parts.len() == 1 {
            return parts.remove(0).1;
        }
        Box::new(BooleanQuery::new(parts))
    }
}

/// The sessions a session-level term (`tag:`, `source:`, `session:`) selects.
pub type Resolve<'r> = dyn FnMut(&Q) -> Result<Arc<SessionSet>> + 'r;

/// Sets up to this size also restrict the tantivy query itself, so that a
/// query for a few sessions reads only their postings.
const SMALL_SET: usize = 64;

/// Builds the tantivy query of `q`.
///
/// When the query has words, they alone make the scored query; clauses made
/// only of session-level terms are resolved to session sets that the
/// collector checks in a bitset (far cheaper than a union over the postings
/// of thousands of sessions), and the other clauses become filters checked
/// on each candidate. A query of filters alone keeps them all in the tantivy
/// query, where they are what selects documents.
pub fn build(
    q: &ParsedQuery,
    f: &Fields,
    store: &Store,
    resolve: &mut Resolve<'_>,
) -> Result<Built> {
    let mut marks = Marks::default();
    let text = q
        .clauses
        .iter()
        .any(|c| !c.negated && c.alternatives.iter().all(is_text));
    let mut ranked: Vec<Box<dyn Query>> = Vec::new();
    let mut terms: Vec<Term> = Vec::new();
    let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut texts: Vec<TextClause> = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut excluded: Vec<Part> = Vec::new();
    let mut counts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut created: Option<Range<i64>> = None;
    let (mut within, mut without) = (Vec::new(), Vec::new());
    let mut message_only = false;
    for clause in &q.clauses {
        let occur = if clause.negated {
            Occur::MustNot
        } else {
            Occur::Must
        };
        if text && clause.alternatives.iter().all(is_session_level) {
            let mut set = SessionSet::default();
            for t in &clause.alternatives {
                set.extend(&*resolve(t)?);
            }
            let set = Arc::new(set);
            if clause.negated {
                without.push(set);
            } else {
                if set.len() <= SMALL_SET {
                    ranked.push(sessions_or_nothing(f, &set));
                }
                within.push(set);
            }
            continue;
        }
        if let (true, [t]) = (clause.negated, clause.alternatives.as_slice())
            && is_text(t)
        {
            // Leaves out the sessions that say it: decided per session.
            excluded.push(exclusion(t, f, store)?);
            continue;
        }
        if let (true, false, [t @ (Q::After(ts) | Q::Before(ts))]) =
            (text, clause.negated, clause.alternatives.as_slice())
        {
            // A time bound beside words: a comparison on the candidate's
            // column, far cheaper than seeking a range query.
            let ms = ts_to_ms(*ts);
            let r = created.get_or_insert(i64::MIN..i64::MAX);
            if matches!(t, Q::After(_)) {
                r.start = r.start.max(ms);
            } else {
                r.end = r.end.min(ms);
            }
            message_only = true;
            continue;
        }
        if let (true, false, [Q::Word(w) | Q::Phrase(w)]) =
            (text, clause.negated, clause.alternatives.as_slice())
        {
            // Words and phrases are ranked by their terms, which keeps the
            // query a plain intersection that block-max WAND can prune; a
            // phrase is then checked on each candidate that could rank.
            let mut own = Marks::default();
            let (ts, phrase) = phrase_parts(w, f, Some(&mut own))?;
            let check = (phrase.len() > 1).then(|| TextClause {
                alts: vec![Alt::Text(Pattern::Terms(phrase))],
            });
            texts.extend(check.clone());
            parts.push(Part {
                query: all_of(ts.clone()),
                text: check,
                marks: own.clone(),
            });
            marks.extend(&own);
            for t in ts {
                if !terms.contains(&t) {
                    terms.push(t);
                }
            }
            continue;
        }
        // Each alternative as a query (a phrase loosened to its words), and
        // as what the text check needs of it, should the clause hold a phrase.
        let mut alts = Vec::new();
        let mut checked = Vec::new();
        let mut has_phrase = false;
        let mut own = Marks::default();
        for t in &clause.alternatives {
            message_only |= matches!(t, Q::Role(_) | Q::Model(_) | Q::After(_) | Q::Before(_));
            let marks = (!clause.negated).then_some(&mut own);
            if let Q::Word(w) | Q::Phrase(w) = t {
                let (ts, at) = phrase_parts(w, f, marks)?;
                has_phrase |= at.len() > 1;
                alts.push(all_of(ts));
                checked.push(Alt::Text(Pattern::Terms(at)));
                continue;
            }
            let q = term(t, f, store, marks)?;
            checked.push(match t {
                Q::Prefix(p) => Alt::Text(Pattern::Prefix(prefix_token(p)?)),
                _ => Alt::Index(q.box_clone()),
            });
            alts.push(q);
        }
        marks.extend(&own);
        let check = has_phrase.then_some(TextClause { alts: checked });
        let query = one_of(alts);
        if clause.alternatives.iter().any(is_text) {
            parts.push(Part {
                query: query.box_clone(),
                text: check.clone(),
                marks: own,
            });
        } else {
            counts.push((occur, query.box_clone()));
        }
        texts.extend(check);
        if text && !clause.negated && clause.alternatives.iter().all(is_text) {
            ranked.push(query);
        } else {
            filters.push((occur, query));
        }
    }
    ranked.extend(terms.into_iter().map(scored));
    if !text || message_only {
        // Filters alone (or message-level filters) select messages, never session documents.
        let kind = exact(Term::from_field_u64(f.kind, KIND_MESSAGE));
        counts.push((Occur::Must, kind.box_clone()));
        filters.push((Occur::Must, kind));
    }
    let phrases = excluded.iter().filter(|p| p.text.is_some()).count();
    if texts.len().max(phrases) > MAX_CLAUSES {
        return Err(Error::Query(format!(
            "a query may have at most {MAX_CLAUSES} parts with phrases"
        )));
    }
    let query: Box<dyn Query> = match ranked.len() {
        0 => {
            // Filters alone: they select; every match scores the same.
            let mut parts = std::mem::take(&mut filters);
            if !parts.iter().any(|(o, _)| *o == Occur::Must) {
                parts.push((Occur::Must, Box::new(AllQuery)));
            }
            Box::new(BooleanQuery::new(parts))
        }
        1 => ranked.remove(0),
        _ => Box::new(BooleanQuery::new(
            ranked.into_iter().map(|q| (Occur::Must, q)).collect(),
        )),
    };
    Ok(Built {
        query,
        filters,
        marks,
        within,
        without,
        created,
        texts,
        parts,
        excluded,
        counts,
    })
}

/// An excluded word, phrase or prefix: what finds the documents that may
/// say it, and for a phrase, the check of their text.
fn exclusion(t: &Q, f: &Fields, store: &Store) -> Result<Part> {
    let (query, text) = match t {
        Q::Word(w) | Q::Phrase(w) => {
            let (ts, at) = phrase_parts(w, f, None)?;
            let text = (at.len() > 1).then(|| TextClause {
                alts: vec![Alt::Text(Pattern::Terms(at))],
            });
            (all_of(ts), text)
        }
        _ => (term(t, f, store, None)?, None),
    };
    Ok(Part {
        query,
        text,
        marks: Marks::default(),
    })
}

fn is_text(t: &Q) -> bool {
    matches!(t, Q::Word(_) | Q::Prefix(_) | Q::Phrase(_))
}

fn is_session_level(t: &Q) -> bool {
    matches!(t, Q::Tag(_) | Q::Source(_) | Q::Session(_))
}

/// The sessions a session-level term selects, read from the store.
pub fn session_set(t: &Q, store: &Store) -> Result<SessionSet> {
    let ids = match t {
        Q::Tag(tag) => store.ids_with_tag(tag)?,
        Q::Source(src) => store.ids_from_source(src)?,
        Q::Session(sel) => match store.session(sel) {
            Ok(s) => vec![s.id],
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        },
        _ => Vec::new(),
    };
    Ok(SessionSet::of(ids.into_iter().map(id_u64)))
}

fn one_of(mut alts: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if alts.len() == 1 {
        return alts.pop().unwrap_or_else(|| Box::new(EmptyQuery));
    }
    Box::new(BooleanQuery::new(
        alts.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

fn exact(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::Basic))
}

fn scored(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs))
}

fn term_set(f: &Fields, ids: impl IntoIterator<Item = u64>) -> Box<dyn Query> {
    Box::new(TermSetQuery::new(
        ids.into_iter()
            .map(|id| Term::from_field_u64(f.session, id)),
    ))
}

fn term(t: &Q, f: &Fields, store: &Store, marks: Option<&mut Marks>) -> Result<Box<dyn Query>> {
    Ok(match t {
        Q::Word(w) => words(w, f, marks)?,
        Q::Phrase(p) => words(p, f, marks)?,
        Q::Prefix(p) => {
            let first = prefix_token(p)?;
            let pattern = format!("{}.*", regex_escape(&first));
            if let Some(m) = marks {
                m.prefixes.push(first);
            }
            Box::new(
                RegexQuery::from_pattern(&pattern, f.content)
                    .map_err(|e| Error::Query(e.to_string()))?,
            )
        }
        Q::Role(r) => exact(Term::from_field_u64(f.role, role_code(*r))),
        Q::Model(m) => Box::new(
            RegexQuery::from_pattern(&format!("{}.*", regex_escape(&m.to_lowercase())), f.model)
                .map_err(|e| Error::Query(e.to_string()))?,
        ),
        Q::After(ts) => Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.created, ts_to_ms(*ts))),
            Bound::Unbounded,
        )),
        Q::Before(ts) => Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Excluded(Term::from_field_i64(f.created, ts_to_ms(*ts))),
        )),
        Q::Tag(tag) => session_filter(f, &store.ids_with_tag(tag)?, || store.ids_without_tag(tag))?,
        Q::Source(src) => session_filter(f, &store.ids_from_source(src)?, || {
            store.ids_not_from_source(src)
        })?,
        Q::Session(_) => sessions_or_nothing(f, &session_set(t, store)?),
    })
}

/// Sessions in `ids`; when they are most of the store, as "none of the
/// others" instead, so a filter that keeps nearly everything stays cheap.
fn session_filter(
    f: &Fields,
    ids: &[SessionId],
    others: impl FnOnce() -> Result<Vec<SessionId>>,
) -> Result<Box<dyn Query>> {
    let set = || SessionSet::of(ids.iter().map(|&id| id_u64(id)));
    if ids.len() < 1024 {
        return Ok(sessions_or_nothing(f, &set()));
    }
    let others = others()?;
    if others.len() >= ids.len() {
        return Ok(sessions_or_nothing(f, &set()));
    }
    let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(AllQuery))];
    if !others.is_empty() {
        parts.push((
            Occur::MustNot,
            term_set(f, others.iter().map(|&id| id_u64(id))),
        ));
    }
    Ok(Box::new(BooleanQuery::new(parts)))
}

fn sessions_or_nothing(f: &Fields, set: &SessionSet) -> Box<dyn Query> {
    if set.is_empty() {
        Box::new(EmptyQuery)
    } else {
        term_set(f, set.iter())
    }
}

/// The term a prefix query completes: the first token of `p`.
fn prefix_token(p: &str) -> Result<String> {
    tokens(p)
        .into_iter()
        .next()
        .map(|(_, t)| t)
        .ok_or_else(|| Error::Query(format!("{p:?}* has no letters or digits to search for")))
}

/// A word or phrase, loosened to all of its terms (one per position: the
/// whole token where an identifier also gave parts); the order of several is
/// checked on the text (see [`TextClause`]). Matches message text, or a
/// session's name, title and tags (indexed as the text of the session's own
/// document).
fn words(text: &str, f: &Fields, marks: Option<&mut Marks>) -> Result<Box<dyn Query>> {
    Ok(all_of(phrase_parts(text, f, marks)?.0))
}

/// Documents with every one of `terms` (at least one), scored by them.
fn all_of(mut terms: Vec<Term>) -> Box<dyn Query> {
    if terms.len() == 1 {
        scored(terms.remove(0))
    } else {
        Box::new(BooleanQuery::new(
            terms
                .into_iter()
                .map(|t| (Occur::Must, scored(t)))
                .collect(),
        ))
    }
}

type PhraseParts = (Vec<Term>, Vec<(usize, String)>);

/// The terms of a word or phrase (the whole token of each position, at
/// least one), and the same terms at their offsets, which the text must
/// show when there are several. Pieces of longer identifiers are indexed as tokens of their own,
/// so `snake_case` finds `my_snake_case` exactly as one term.
fn phrase_parts(text: &str, f: &Fields, marks: Option<&mut Marks>) -> Result<PhraseParts> {
    let groups = position_groups(text);
    if let Some(m) = marks {
        m.terms
            .extend(groups.iter().flat_map(|(_, g)| g.iter().cloned()));
    }
    let Some((base, _)) = groups.first() else {
        return Err(Error::Query(format!(
            "{text:?} has nothing searchable (letters or digits, not a blob)"
        )));
    };
    let terms = groups
        .iter()
        .map(|(_, g)| Term::from_field_text(f.content, &g[0]))
        .collect();
    let at = groups
        .iter()
        .map(|(p, g)| (p - base, g[0].clone()))
        .collect();
    Ok((terms, at))
}

/// Tokens grouped by position: the whole word first, then its parts.
fn position_groups(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut groups: Vec<(usize, Vec<String>)> = Vec::new();
    for (pos, tok) in tokens(text) {
        match groups.last_mut() {
            Some((p, g)) if *p == pos => g.push(tok),
            _ => groups.push((pos, vec![tok])),
        }
    }
    groups
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
