//! Turns a parsed query into a tantivy query, plus the terms to mark in
//! snippets. Session-level filters (`tag:`, `session:`, `source:`) and the
//! archived/trashed state are resolved in the store, so renaming, tagging or
//! trashing a session never means reindexing its messages.

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;

use super::index::{Fields, KIND_MESSAGE, id_u64};
use super::query::{ParsedQuery, Term as Q};
use super::snippet::Marks;
use super::tokenizer::tokens;
use crate::domain::{SessionId, ts_to_ms};
use crate::error::{Error, Result};
use crate::store::Store;

/// A query ready to run.
pub struct Built {
    pub query: Box<dyn Query>,
    pub marks: Marks,
}

/// Builds the tantivy query of `q`. `hidden` are sessions to leave out.
pub fn build(q: &ParsedQuery, f: &Fields, store: &Store, hidden: &[SessionId]) -> Result<Built> {
    let mut marks = Marks::default();
    let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut text = false;
    let mut message_only = false;
    for clause in &q.clauses {
        let mut alts = Vec::new();
        for t in &clause.alternatives {
            text |= !clause.negated && matches!(t, Q::Word(_) | Q::Prefix(_) | Q::Phrase(_));
            message_only |= matches!(t, Q::Role(_) | Q::Model(_) | Q::After(_) | Q::Before(_));
            alts.push(term(
                t,
                f,
                store,
                if clause.negated {
                    None
                } else {
                    Some(&mut marks)
                },
            )?);
        }
        let occur = if clause.negated {
            Occur::MustNot
        } else {
            Occur::Must
        };
        parts.push((occur, one_of(alts)));
    }
    if !text || message_only {
        // Filters alone (or message-level filters) select messages, never session documents.
        parts.push((
            Occur::Must,
            exact(Term::from_field_u64(f.kind, KIND_MESSAGE)),
        ));
    }
    if !parts.iter().any(|(o, _)| *o == Occur::Must) {
        parts.push((Occur::Must, Box::new(AllQuery)));
    }
    if !hidden.is_empty() {
        parts.push((Occur::MustNot, session_set(f, hidden)));
    }
    Ok(Built {
        query: Box::new(BooleanQuery::new(parts)),
        marks,
    })
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

fn session_set(f: &Fields, ids: &[SessionId]) -> Box<dyn Query> {
    Box::new(TermSetQuery::new(
        ids.iter()
            .map(|&id| Term::from_field_u64(f.session, id_u64(id))),
    ))
}

fn term(t: &Q, f: &Fields, store: &Store, marks: Option<&mut Marks>) -> Result<Box<dyn Query>> {
    Ok(match t {
        Q::Word(w) => words(w, f, marks)?,
        Q::Phrase(p) => words(p, f, marks)?,
        Q::Prefix(p) => {
            let toks = tokens(p);
            let Some((_, last)) = toks.first() else {
                return Err(Error::Query(format!(
                    "{p:?}* has no letters or digits to search for"
                )));
            };
            let pattern = format!("{}.*", regex_escape(last));
            if let Some(m) = marks {
                m.prefixes.push(last.clone());
            }
            either(
                Box::new(
                    RegexQuery::from_pattern(&pattern, f.content)
                        .map_err(|e| Error::Query(e.to_string()))?,
                ),
                Box::new(
                    RegexQuery::from_pattern(&pattern, f.meta)
                        .map_err(|e| Error::Query(e.to_string()))?,
                ),
            )
        }
        Q::Role(r) => exact(Term::from_field_text(f.role, r.as_str())),
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
        Q::Session(sel) => match store.session(sel) {
            Ok(s) => sessions_or_nothing(f, &[s.id]),
            Err(e) if e.is_not_found() => Box::new(EmptyQuery),
            Err(e) => return Err(e),
        },
    })
}

/// Sessions in `ids`; when they are most of the store, as "none of the
/// others" instead, so a filter that keeps nearly everything stays cheap.
fn session_filter(
    f: &Fields,
    ids: &[SessionId],
    others: impl FnOnce() -> Result<Vec<SessionId>>,
) -> Result<Box<dyn Query>> {
    if ids.len() < 1024 {
        return Ok(sessions_or_nothing(f, ids));
    }
    let others = others()?;
    if others.len() >= ids.len() {
        return Ok(sessions_or_nothing(f, ids));
    }
    let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(AllQuery))];
    if !others.is_empty() {
        parts.push((Occur::MustNot, session_set(f, &others)));
    }
    Ok(Box::new(BooleanQuery::new(parts)))
}

fn sessions_or_nothing(f: &Fields, ids: &[SessionId]) -> Box<dyn Query> {
    if ids.is_empty() {
        Box::new(EmptyQuery)
    } else {
        session_set(f, ids)
    }
}

fn either(a: Box<dyn Query>, b: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, a),
        (Occur::Should, b),
    ]))
}

/// A word or phrase: its tokens, one per position (the whole token where an
/// identifier also gave parts). One position is a term; several a phrase.
/// Matches message text or a session's name, title and tags.
fn words(text: &str, f: &Fields, marks: Option<&mut Marks>) -> Result<Box<dyn Query>> {
    // Tokens grouped by position: the whole word first, then its parts.
    let mut groups: Vec<(usize, Vec<String>)> = Vec::new();
    for (pos, tok) in tokens(text) {
        match groups.last_mut() {
            Some((p, g)) if *p == pos => g.push(tok),
            _ => groups.push((pos, vec![tok])),
        }
    }
    if let Some(m) = marks {
        m.terms
            .extend(groups.iter().flat_map(|(_, g)| g.iter().cloned()));
    }
    Ok(match groups.as_slice() {
        [] => {
            return Err(Error::Query(format!(
                "{text:?} has nothing searchable (letters or digits, not a blob)"
            )));
        }
        [(_, group)] => either(identifier(f.content, group), identifier(f.meta, group)),
        [(base, _), ..] => {
            let phrase = |field| {
                Box::new(PhraseQuery::new_with_offset(
                    groups
                        .iter()
                        .map(|(p, g)| (p - base, Term::from_field_text(field, &g[0])))
                        .collect(),
                )) as Box<dyn Query>
            };
            either(phrase(f.content), phrase(f.meta))
        }
    })
}

/// One word: its whole token. Pieces of longer identifiers are indexed as
/// tokens of their own, so `snake_case` finds `my_snake_case` exactly.
fn identifier(field: tantivy::schema::Field, group: &[String]) -> Box<dyn Query> {
    scored(Term::from_field_text(field, &group[0]))
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
