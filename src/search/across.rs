//! Conversations rather than messages. The index has one document per
//! message (and one for each session's name, title and tags); a query is
//! about sessions: each of its parts (see [`super::build::Part`]) must be
//! matched by one of a session's documents, not necessarily the same one,
//! and an excluded word leaves out every session one of whose documents
//! says it. Only documents that count take part: those that pass the
//! query's message filters ([`On::counts`]).
//!
//! The first pass ([`super::collect`]) ranks the sessions with one document
//! matching every part; this module decides which sessions the exclusions
//! leave out ([`excluded`]) and finds, when that pass cannot fill the page,
//! the sessions whose parts are matched by different documents ([`across`]).
//! Both go from the documents to their sessions through [`Runs`]: a pass
//! over a posting list skips the rest of a session once it knows the
//! answer for it, so a word said in every message costs a step per session,
//! not per message.
//!
//! It reads the index and, for phrases, the store's texts; it never ranks
//! the sessions of the first pass.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use tantivy::columnar::ColumnValues;
use tantivy::fastfield::AliveBitSet;
use tantivy::query::{Occur, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED};

use super::collect::{DocKey, SegmentColumns, SessionSet, TextOf, boost};
use super::index::index_error;
use super::verify::{Decision, TextChecks, TextReader, matches_at};
use crate::error::{Error, Result};

/// The documents of one segment as runs of consecutive documents of one
/// session (a session's documents are written together, so a segment has
/// about as many runs as sessions).
#[derive(Debug, Default)]
pub struct Runs {
    /// First document of each run, increasing; the first is 0.
    starts: Vec<DocId>,
    /// The session of each run.
    sessions: Vec<u64>,
    max_doc: DocId,
}

impl Runs {
    /// The runs of a segment of `max_doc` documents whose session column is `session`.
    pub fn of(session: &dyn ColumnValues<u64>, max_doc: DocId) -> Runs {
        const CHUNK: u32 = 4096;
        let mut runs = Runs {
            max_doc,
            ..Runs::default()
        };
        let mut buf = vec![0u64; CHUNK as usize];
        let mut at = 0;
        while at < max_doc {
            let n = (max_doc - at).min(CHUNK);
            let chunk = &mut buf[..n as usize];
            session.get_range(u64::from(at), chunk);
            for (doc, &s) in (at..).zip(chunk.iter()) {
                if runs.sessions.last() != Some(&s) {
                    runs.starts.push(doc);
                    runs.sessions.push(s);
                }
            }
            at += n;
        }
        runs
    }

    /// The run that holds `doc` (a document of the segment).
    fn at(&self, doc: DocId) -> usize {
        self.starts.partition_point(|&s| s <= doc).saturating_sub(1)
    }

    /// Just past the last document of run `i`.
    fn end(&self, i: usize) -> DocId {
        self.starts.get(i + 1).copied().unwrap_or(self.max_doc)
    }

    /// (first document, just past the last, session) of each run, in order.
    fn iter(&self) -> impl Iterator<Item = (DocId, DocId, u64)> + '_ {
        (0..self.starts.len()).map(|i| (self.starts[i], self.end(i), self.sessions[i]))
    }
}

/// The index as the passes of this module read it, segment by segment.
pub struct On<'a> {
    pub readers: &'a [SegmentReader],
    pub columns: &'a [SegmentColumns],
    /// The runs of each segment.
    pub runs: &'a [Arc<Runs>],
    /// What a document must match (`Must`) and not match (`MustNot`) to
    /// count (see [`super::build::Built::counts`]).
    pub counts: &'a [(Occur, Box<dyn Weight>)],
    /// Times (ms) a document that counts is written in.
    pub created: Option<Range<i64>>,
}

fn failed(e: &tantivy::TantivyError) -> Error {
    index_error(None, e)
}

/// Whether a document counts, in one segment (documents in increasing order).
struct Counts<'a> {
    alive: Option<&'a AliveBitSet>,
    created: &'a dyn ColumnValues<i64>,
    range: Option<Range<i64>>,
    checks: Vec<(bool, Box<dyn Scorer>)>,
}

impl<'a> Counts<'a> {
    fn new(on: &'a On<'a>, segment: usize) -> Result<Self> {
        let reader = &on.readers[segment];
        let mut checks = Vec::with_capacity(on.counts.len());
        for (occur, w) in on.counts {
            checks.push((
                *occur == Occur::Must,
                w.scorer(reader, 1.0).map_err(|e| failed(&e))?,
            ));
        }
        Ok(Counts {
            alive: reader.alive_bitset(),
            created: &*on.columns[segment].created,
            range: on.created.clone(),
            checks,
        })
    }

    fn keeps(&mut self, doc: DocId) -> bool {
        if self.alive.is_some_and(|a| a.is_deleted(doc)) {
            return false;
        }
        if let Some(r) = &self.range
            && !r.contains(&self.created.get_val(doc))
        {
            return false;
        }
        self.checks
            .iter_mut()
            .all(|(must, s)| matches_at(&mut **s, doc) == *must)
    }
}

/// Adds to `out` each session that `allowed` lets through with a document
/// that `scorer` finds and that counts.
fn sessions_of(
    scorer: &mut dyn Scorer,
    runs: &Runs,
    counts: &mut Counts<'_>,
    allowed: &dyn Fn(u64) -> bool,
    out: &mut SessionSet,
) {
    let mut doc = scorer.doc();
    while doc != TERMINATED {
        let i = runs.at(doc);
        let session = runs.sessions[i];
        let known = out.contains(session) || !allowed(session);
        if known || counts.keeps(doc) {
            if !known {
                out.insert(session);
            }
            // Nothing more to learn from this run.
            let end = runs.end(i);
            doc = if end < runs.max_doc {
                scorer.seek(end)
            } else {
                TERMINATED
            };
        } else {
            doc = scorer.advance();
        }
    }
}

/// An excluded word, phrase or prefix, ready: what finds the documents
/// that may say it, and for a phrase, its clause in the checks of
/// [`excluded`] (a document says it when its text passes that clause).
pub struct Exclusion {
    pub weight: Box<dyn Weight>,
    pub phrase: Option<usize>,
}

/// The sessions that excluded phrases leave out, decided when asked: a
/// session is left out when one of its documents that has every word of an
/// excluded phrase has the phrase.
pub struct Excluded<'c> {
    /// The documents of each session to read, with the phrase to look for.
    maybe: HashMap<u64, Vec<(DocKey, usize)>>,
    decided: HashMap<u64, bool>,
    reader: Option<TextReader<'c>>,
}

impl Excluded<'_> {
    /// Excludes nothing.
    pub fn nothing() -> Excluded<'static> {
        Excluded {
            maybe: HashMap::new(),
            decided: HashMap::new(),
            reader: None,
        }
    }

    /// Whether `session` is left out (its texts are read the first time).
    pub fn excludes(&mut self, session: u64, text: &mut TextOf<'_>) -> Result<bool> {
        let (Some(docs), Some(reader)) = (self.maybe.get(&session), self.reader.as_mut()) else {
            return Ok(false);
        };
        if let Some(&d) = self.decided.get(&session) {
            return Ok(d);
        }
        let mut says = false;
        for (key, phrase) in docs {
            if reader.passes(1 << phrase, text(*key)?.as_deref()) {
                says = true;
                break;
            }
        }
        self.decided.insert(session, says);
        Ok(says)
    }
}

/// What `exclusions` leave out among the sessions `allowed` lets through:
/// the sessions with a document that counts and says an excluded word or
/// prefix, and the phrases to check when asked (`checks` holds their
/// clauses, see [`Exclusion::phrase`]).
pub fn excluded<'c>(
    on: &On<'_>,
    exclusions: &[Exclusion],
    checks: &'c TextChecks,
    allowed: &dyn Fn(u64) -> bool,
) -> Result<(SessionSet, Excluded<'c>)> {
    let mut sure = SessionSet::default();
    for e in exclusions.iter().filter(|e| e.phrase.is_none()) {
        for (segment, reader) in on.readers.iter().enumerate() {
            let mut scorer = e.weight.scorer(reader, 1.0).map_err(|e| failed(&e))?;
            let mut counts = Counts::new(on, segment)?;
            sessions_of(
                &mut *scorer,
                &on.runs[segment],
                &mut counts,
                allowed,
                &mut sure,
            );
        }
    }
    let mut maybe: HashMap<u64, Vec<(DocKey, usize)>> = HashMap::new();
    for e in exclusions {
        let Some(phrase) = e.phrase else {
            continue;
        };
        for (segment, reader) in on.readers.iter().enumerate() {
            let mut scorer = e.weight.scorer(reader, 1.0).map_err(|e| failed(&e))?;
            let mut counts = Counts::new(on, segment)?;
            let (runs, cols) = (&on.runs[segment], &on.columns[segment]);
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                let i = runs.at(doc);
                let session = runs.sessions[i];
                if sure.contains(session) || !allowed(session) {
                    let end = runs.end(i);
                    doc = if end < runs.max_doc {
                        scorer.seek(end)
                    } else {
                        TERMINATED
                    };
                    continue;
                }
                if counts.keeps(doc) {
                    let key = DocKey {
                        kind: cols.kind.get_val(doc),
                        session,
                        seq: cols.seq.get_val(doc),
                    };
                    maybe.entry(session).or_default().push((key, phrase));
                }
                doc = scorer.advance();
            }
        }
    }
    let reader = (!maybe.is_empty()).then(|| checks.reader());
    Ok((
        sure,
        Excluded {
            maybe,
            decided: HashMap::new(),
            reader,
        },
    ))
}

/// A part of the query, ready for [`across`].
pub struct PartWeight {
    /// Finds (and scores) the documents that may match it.
    pub scored: Box<dyn Weight>,
    /// The same, unscored.
    pub unscored: Box<dyn Weight>,
    /// Its clause in the checks given to [`across`], when it has a phrase.
    pub phrase: Option<usize>,
}

/// A session whose parts are matched by different documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub session: u64,
    /// The sum of the best score (BM25 times the recency boost) of each
    /// part among the session's documents.
    pub score: Score,
    /// Its best document: the one that matches the most parts, then the
    /// best scored.
    pub segment: SegmentOrdinal,
    pub doc: DocId,
    /// The parts the best document matches.
    pub parts: Vec<usize>,
    /// Every document of the session found matching a part, in order.
    pub docs: Vec<DocKey>,
}

/// How [`across`] reads texts.
pub struct Reads<'t, 'r> {
    /// Reads the text of a document.
    pub text: &'t mut TextOf<'r>,
    /// For each session and part with a phrase, texts read at most once
    /// one has the phrase (until then, every candidate is read).
    pub per_session: usize,
}

/// One document of a candidate session that may match a part.
struct Found {
    session: u64,
    part: usize,
    score: Score,
    segment: SegmentOrdinal,
    doc: DocId,
    key: DocKey,
    /// The clauses of the checks its text must pass, if any.
    read: u64,
}

/// The sessions, among those `allowed` lets through and `excluded` does
/// not leave out, in which every one of `parts` is matched by some document
/// that counts, best first (by score, then session). `checks` holds the
/// clauses of the parts with a phrase.
pub fn across(
    on: &On<'_>,
    parts: &[PartWeight],
    checks: &TextChecks,
    allowed: &dyn Fn(u64) -> bool,
    excluded: &mut Excluded<'_>,
    now_ms: i64,
    reads: &mut Reads<'_, '_>,
) -> Result<Vec<Spread>> {
    let Some(candidates) = candidates(on, parts, allowed)? else {
        return Ok(Vec::new());
    };
    let mut found = matching(on, parts, checks, &candidates, now_ms)?;
    found.sort_unstable_by(|a, b| {
        (a.session, a.part)
            .cmp(&(b.session, b.part))
            .then(b.score.total_cmp(&a.score))
            .then((a.segment, a.doc).cmp(&(b.segment, b.doc)))
    });
    let mut reader = checks.reader();
    let mut out = Vec::new();
    for group in found.chunk_by(|a, b| a.session == b.session) {
        let session = group[0].session;
        if excluded.excludes(session, reads.text)? {
            continue;
        }
        if let Some(s) = spread(group, parts.len(), &mut reader, reads)? {
            out.push(s);
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.session.cmp(&b.session)));
    Ok(out)
}

/// The sessions `allowed` lets through with a document that counts for
/// each part (phrases loosened to their words), the rarest part first;
/// `None` when there are none.
fn candidates(
    on: &On<'_>,
    parts: &[PartWeight],
    allowed: &dyn Fn(u64) -> bool,
) -> Result<Option<SessionSet>> {
    let mut scorers = Vec::with_capacity(parts.len());
    for p in parts {
        let s = on
            .readers
            .iter()
            .map(|r| p.unscored.scorer(r, 1.0))
            .collect::<tantivy::Result<Vec<_>>>()
            .map_err(|e| failed(&e))?;
        let cost: u64 = s.iter().map(|s| u64::from(s.size_hint())).sum();
        scorers.push((cost, s));
    }
    scorers.sort_by_key(|(cost, _)| *cost);
    let mut candidates: Option<SessionSet> = None;
    for (_, mut per_segment) in scorers {
        let mut set = SessionSet::default();
        for (segment, scorer) in per_segment.iter_mut().enumerate() {
            let mut counts = Counts::new(on, segment)?;
            let before = candidates.as_ref();
            let ok = |s: u64| before.is_none_or(|c| c.contains(s)) && allowed(s);
            sessions_of(&mut **scorer, &on.runs[segment], &mut counts, &ok, &mut set);
        }
        if set.is_empty() {
            return Ok(None);
        }
        candidates = Some(set);
    }
    Ok(candidates)
}

/// Every document of the `candidates` that counts and may match a part,
/// once per part it may match, scored by that part.
fn matching(
    on: &On<'_>,
    parts: &[PartWeight],
    checks: &TextChecks,
    candidates: &SessionSet,
    now_ms: i64,
) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for (segment, reader) in (0u32..).zip(on.readers) {
        let s = segment as usize;
        let runs: Vec<(DocId, DocId, u64)> = on.runs[s]
            .iter()
            .filter(|&(_, _, session)| candidates.contains(session))
            .collect();
        if runs.is_empty() {
            continue;
        }
        let cols = &on.columns[s];
        let mut texts = checks.for_segment(reader).map_err(|e| failed(&e))?;
        for (part, p) in parts.iter().enumerate() {
            let mut scorer = p.scored.scorer(reader, 1.0).map_err(|e| failed(&e))?;
            let mut counts = Counts::new(on, s)?;
            for &(start, end, session) in &runs {
                let mut doc = if scorer.doc() < start {
                    scorer.seek(start)
                } else {
                    scorer.doc()
                };
                while doc < end {
                    if counts.keeps(doc) {
                        let read = match p.phrase.map(|c| texts.decide_one(c, doc)) {
                            None | Some(Decision::Passes) => Some(0),
                            Some(Decision::ReadText(read)) => Some(read),
                            Some(Decision::Fails) => None,
                        };
                        if let Some(read) = read {
                            found.push(Found {
                                session,
                                part,
                                score: scorer.score() * boost(now_ms - cols.created.get_val(doc)),
                                segment,
                                doc,
                                key: DocKey {
                                    kind: cols.kind.get_val(doc),
                                    session,
                                    seq: cols.seq.get_val(doc),
                                },
                                read,
                            });
                        }
                    }
                    doc = scorer.advance();
                }
            }
        }
    }
    Ok(found)
}

/// A document of a session and the parts it matches.
struct DocMatch {
    parts: Vec<usize>,
    /// The sum of their scores.
    score: Score,
    key: DocKey,
}

/// The session of `group` (its documents that may match a part, by part,
/// best first) when each of the `parts` has a document that matches it.
fn spread(
    group: &[Found],
    parts: usize,
    reader: &mut TextReader<'_>,
    reads: &mut Reads<'_, '_>,
) -> Result<Option<Spread>> {
    let mut best = vec![None; parts];
    let mut docs: BTreeMap<(SegmentOrdinal, DocId), DocMatch> = BTreeMap::new();
    let mut read = 0;
    for f in group {
        if f.read != 0 {
            if best[f.part].is_some() && read >= reads.per_session {
                continue;
            }
            read += 1;
            if !reader.passes(f.read, (reads.text)(f.key)?.as_deref()) {
                continue;
            }
        }
        best[f.part] = Some(best[f.part].map_or(f.score, |b: Score| b.max(f.score)));
        let d = docs.entry((f.segment, f.doc)).or_insert_with(|| DocMatch {
            parts: Vec::new(),
            score: 0.0,
            key: f.key,
        });
        d.parts.push(f.part);
        d.score += f.score;
    }
    let Some(scores) = best.into_iter().collect::<Option<Vec<Score>>>() else {
        return Ok(None);
    };
    let mut top = None;
    for (at, d) in &docs {
        if top.is_none_or(|(_, t): (_, &DocMatch)| {
            (d.parts.len(), d.score) > (t.parts.len(), t.score)
        }) {
            top = Some((at, d));
        }
    }
    let Some((&(segment, doc), best)) = top else {
        return Ok(None);
    };
    let mut matched = best.parts.clone();
    matched.sort_unstable();
    Ok(Some(Spread {
        session: group[0].session,
        score: scores.iter().sum(),
        segment,
        doc,
        parts: matched,
        docs: docs.values().map(|d| d.key).collect(),
    }))
}
