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
//! leave out ([`excluded`], among those that have the query's rarest part,
//! [`scope`]), which documents that pass need go through when they leave
//! few sessions ([`ranges`]), and finds, when that pass cannot fill the
//! page, the sessions whose parts are matched by different documents
//! ([`across`]). All go from the documents to their sessions through
//! [`Runs`]: a pass over a posting list skips the rest of a session once it
//! knows the answer for it, so a word said in every message costs a step
//! per session, not per message.
//!
//! It reads the index and, for phrases, the store's texts; it never ranks
//! the sessions of the first pass.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use tantivy::columnar::ColumnValues;
use tantivy::fastfield::AliveBitSet;
use tantivy::query::{Occur, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED};

use super::collect::{DocKey, SegmentColumns, SessionSet, TextOf, boost};
use super::index::index_error;
use super::verify::{Decision, SegmentChecks, TextChecks, TextReader, matches_at};
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
    /// Whether each run has a document not deleted.
    live: Vec<bool>,
    max_doc: DocId,
}

impl Runs {
    /// The runs of a segment of `max_doc` documents whose session column
    /// is `session`, with its deleted documents (as of `alive`).
    pub fn of(
        session: &dyn ColumnValues<u64>,
        max_doc: DocId,
        alive: Option<&AliveBitSet>,
    ) -> Runs {
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
                    runs.live.push(false);
                }
                if alive.is_none_or(|a| a.is_alive(doc))
                    && let Some(live) = runs.live.last_mut()
                {
                    *live = true;
                }
            }
            at += n;
        }
        runs
    }

    /// The run that holds `doc` (a document of the segment), looking from
    /// run `from` on (which starts at or before `doc`).
    fn at_from(&self, from: usize, doc: DocId) -> usize {
        // Galloping: the next document is usually in a run close by.
        let (mut lo, mut step) = (from, 1);
        let mut hi = lo + 1;
        while hi < self.starts.len() && self.starts[hi] <= doc {
            lo = hi;
            hi = lo + step;
            step *= 2;
        }
        let hi = hi.min(self.starts.len());
        lo + self.starts[lo..hi]
            .partition_point(|&s| s <= doc)
            .saturating_sub(1)
    }

    /// Just past the last document of run `i`.
    fn end(&self, i: usize) -> DocId {
        self.starts.get(i + 1).copied().unwrap_or(self.max_doc)
    }

    /// (first document, just past the last, session) of each run with a
    /// document not deleted, in order.
    fn iter(&self) -> impl Iterator<Item = (DocId, DocId, u64)> + '_ {
        (0..self.starts.len())
            .filter(|&i| self.live[i])
            .map(|i| (self.starts[i], self.end(i), self.sessions[i]))
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

/// The sessions a pass looks at: those of `within` (every one when `None`)
/// that `allowed` lets through.
#[derive(Clone, Copy)]
pub struct Among<'a> {
    pub within: Option<&'a SessionSet>,
    pub allowed: &'a dyn Fn(u64) -> bool,
}

impl Among<'_> {
    fn lets(&self, session: u64) -> bool {
        self.within.is_none_or(|w| w.contains(session)) && (self.allowed)(session)
    }
}

/// Adds to `out` each session `among` lets through with a document that
/// `scorer` finds and that counts. When the documents `scorer` may find
/// outnumber the sessions, it goes from run to run of those sessions,
/// seeking in `scorer`; else from document to document, skipping the rest
/// of a run once its session is known.
fn sessions_of(
    scorer: &mut dyn Scorer,
    runs: &Runs,
    counts: &mut Counts<'_>,
    among: Among<'_>,
    out: &mut SessionSet,
) {
    let sessions = among.within.map_or(usize::MAX, SessionSet::len);
    if scorer.size_hint() as usize > sessions.min(runs.starts.len()) {
        for (start, end, session) in runs.iter() {
            if out.contains(session) || !among.lets(session) {
                continue;
            }
            let mut doc = if scorer.doc() < start {
                scorer.seek(start)
            } else {
                scorer.doc()
            };
            if doc == TERMINATED {
                return;
            }
            while doc < end {
                if counts.keeps(doc) {
                    out.insert(session);
                    break;
                }
                doc = scorer.advance();
            }
        }
        return;
    }
    let mut doc = scorer.doc();
    let mut i = 0;
    while doc != TERMINATED {
        i = runs.at_from(i, doc);
        let session = runs.sessions[i];
        let known = out.contains(session) || !among.lets(session);
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
        // No phrase to check: nothing to look up (this runs for every
        // candidate of the first pass).
        let Some(reader) = self.reader.as_mut() else {
            return Ok(false);
        };
        let Some(docs) = self.maybe.get(&session) else {
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

/// What `exclusions` leave out among the sessions `among` lets through:
/// the sessions with a document that counts and says an excluded word or
/// prefix, and the phrases to check when asked (`checks` holds their
/// clauses, see [`Exclusion::phrase`]).
pub fn excluded<'c>(
    on: &On<'_>,
    exclusions: &[Exclusion],
    checks: &'c TextChecks,
    among: Among<'_>,
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
                among,
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
            let mut i = 0;
            while doc != TERMINATED {
                i = runs.at_from(i, doc);
                let session = runs.sessions[i];
                if sure.contains(session) || !among.lets(session) {
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

/// The ranges of documents of each segment that hold the sessions
/// `allowed` lets through, when they hold at most an eighth of the
/// documents (else `None`).
pub fn ranges(on: &On<'_>, allowed: &dyn Fn(u64) -> bool) -> Option<Vec<Vec<(DocId, DocId)>>> {
    let total: u64 = on.readers.iter().map(|r| u64::from(r.max_doc())).sum();
    let mut docs = 0u64;
    let mut out = Vec::with_capacity(on.runs.len());
    for runs in on.runs {
        let mut ranges: Vec<(DocId, DocId)> = Vec::new();
        for (start, end, session) in runs.iter() {
            if !allowed(session) {
                continue;
            }
            docs += u64::from(end - start);
            if docs.saturating_mul(8) > total {
                return None;
            }
            match ranges.last_mut() {
                Some((_, e)) if *e == start => *e = end,
                _ => ranges.push((start, end)),
            }
        }
        out.push(ranges);
    }
    Some(out)
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
    /// The parts the best document matches, in order.
    pub parts: Vec<usize>,
    /// Documents of the session found matching a part.
    pub count: usize,
    /// Their keys, when asked for (see [`Reads::keys`]).
    pub docs: Vec<DocKey>,
}

/// How [`across`] reads texts.
pub struct Reads<'t, 'r> {
    /// Reads the text of a document.
    pub text: &'t mut TextOf<'r>,
    /// For each session and part with a phrase, texts read at most once
    /// one has the phrase (until then, every candidate is read).
    pub per_session: usize,
    /// Keep the key of every document found matching a part.
    pub keys: bool,
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
    let mut tallies: HashMap<u64, Tally> = HashMap::new();
    for (segment, reader) in (0u32..).zip(on.readers) {
        let s = segment as usize;
        let runs: Vec<(DocId, DocId, u64)> = on.runs[s]
            .iter()
            .filter(|&(_, _, session)| candidates.contains(session))
            .collect();
        if runs.is_empty() {
            continue;
        }
        let walk = Walk {
            segment,
            cols: &on.columns[s],
            texts: checks.for_segment(reader).map_err(|e| failed(&e))?,
            scorers: parts
                .iter()
                .map(|p| p.scored.scorer(reader, 1.0))
                .collect::<tantivy::Result<Vec<_>>>()
                .map_err(|e| failed(&e))?,
            counts: Counts::new(on, s)?,
            now_ms,
            keys: reads.keys,
        };
        walk.tally(parts, &runs, &mut tallies);
    }
    let mut reader = checks.reader();
    let mut sessions: Vec<u64> = tallies.keys().copied().collect();
    sessions.sort_unstable();
    let mut out = Vec::new();
    for session in sessions {
        let Some(mut tally) = tallies.remove(&session) else {
            continue;
        };
        if excluded.excludes(session, reads.text)? {
            continue;
        }
        tally.read(&mut reader, reads)?;
        out.extend(tally.spread(session));
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.session.cmp(&b.session)));
    Ok(out)
}

/// A document, and the parts it matches or may match.
struct DocParts {
    segment: SegmentOrdinal,
    doc: DocId,
    key: DocKey,
    /// (part, score) of the parts it matches.
    matched: Vec<(usize, Score)>,
    /// (part, score, clause) of the parts it matches if its text has the
    /// clause's phrase.
    unread: Vec<(usize, Score, u64)>,
}

/// The best document of a session so far.
struct Top {
    /// The sum of the scores of the parts it matches.
    score: Score,
    segment: SegmentOrdinal,
    doc: DocId,
    parts: Vec<usize>,
}

/// What is known of a candidate session.
struct Tally {
    /// The best score of each part.
    best: Vec<Option<Score>>,
    top: Option<Top>,
    /// Documents matching a part.
    count: usize,
    keys: Vec<DocKey>,
    /// Documents whose text says whether they match a part.
    unread: Vec<DocParts>,
}

impl Tally {
    fn new(parts: usize) -> Tally {
        Tally {
            best: vec![None; parts],
            top: None,
            count: 0,
            keys: Vec::new(),
            unread: Vec::new(),
        }
    }

    /// Counts a document that matches the parts of `matched`.
    fn add(
        &mut self,
        (segment, doc): (SegmentOrdinal, DocId),
        key: Option<DocKey>,
        matched: &[(usize, Score)],
    ) {
        if matched.is_empty() {
            return;
        }
        for &(p, s) in matched {
            self.best[p] = Some(self.best[p].map_or(s, |b| b.max(s)));
        }
        let sum: Score = matched.iter().map(|m| m.1).sum();
        if self
            .top
            .as_ref()
            .is_none_or(|t| (matched.len(), sum) > (t.parts.len(), t.score))
        {
            self.top = Some(Top {
                score: sum,
                segment,
                doc,
                parts: matched.iter().map(|m| m.0).collect(),
            });
        }
        self.count += 1;
        self.keys.extend(key);
    }

    /// Reads the texts of the documents that may match a part with a
    /// phrase: for each such part, the best scored first, until one has
    /// it, then while the session has had fewer than `reads.per_session`
    /// read. Each text is read once, for all the parts it may match.
    fn read(&mut self, reader: &mut TextReader<'_>, reads: &mut Reads<'_, '_>) -> Result<()> {
        let unread = std::mem::take(&mut self.unread);
        if unread.is_empty() {
            return Ok(());
        }
        // (part, score, document, clause), by part, best first.
        let mut queue: Vec<(usize, Score, usize, u64)> = unread
            .iter()
            .enumerate()
            .flat_map(|(i, d)| d.unread.iter().map(move |&(p, s, c)| (p, s, i, c)))
            .collect();
        queue.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut found: Vec<bool> = self.best.iter().map(Option::is_some).collect();
        // The clauses each document's text was found to pass, once read.
        let mut passed: Vec<Option<u64>> = vec![None; unread.len()];
        let mut matched: Vec<Vec<(usize, Score)>> =
            unread.iter().map(|d| d.matched.clone()).collect();
        let mut read = 0;
        for &(part, score, i, clause) in &queue {
            let d = &unread[i];
            let clauses = match passed[i] {
                Some(c) => c,
                None => {
                    if found[part] && read >= reads.per_session {
                        continue;
                    }
                    read += 1;
                    reader.take((reads.text)(d.key)?.as_deref());
                    let asked = d.unread.iter().fold(0u64, |a, u| a | u.2);
                    let c = (0..64)
                        .filter(|&c| asked & (1 << c) != 0 && reader.clause_found(c))
                        .fold(0u64, |a, c| a | (1 << c));
                    passed[i] = Some(c);
                    c
                }
            };
            if clauses & clause != 0 {
                matched[i].push((part, score));
                found[part] = true;
            }
        }
        for (d, m) in unread.iter().zip(&matched) {
            self.add((d.segment, d.doc), Some(d.key).filter(|_| reads.keys), m);
        }
        Ok(())
    }

    /// The session, when each part has a document that matches it.
    fn spread(self, session: u64) -> Option<Spread> {
        let scores = self.best.into_iter().collect::<Option<Vec<Score>>>()?;
        let top = self.top?;
        let mut parts = top.parts;
        parts.sort_unstable();
        Some(Spread {
            session,
            score: scores.iter().sum(),
            segment: top.segment,
            doc: top.doc,
            parts,
            count: self.count,
            docs: self.keys,
        })
    }
}

/// One segment's walk over the documents of candidate sessions.
struct Walk<'a> {
    segment: SegmentOrdinal,
    cols: &'a SegmentColumns,
    texts: SegmentChecks,
    /// A scorer for each part.
    scorers: Vec<Box<dyn Scorer>>,
    counts: Counts<'a>,
    now_ms: i64,
    keys: bool,
}

impl Walk<'_> {
    /// Goes through the documents of `runs` that some part may match, all
    /// parts at once, in order, and tallies them by session.
    fn tally(
        mut self,
        parts: &[PartWeight],
        runs: &[(DocId, DocId, u64)],
        tallies: &mut HashMap<u64, Tally>,
    ) {
        let mut matched = Vec::with_capacity(parts.len());
        let mut unread = Vec::new();
        for &(start, end, session) in runs {
            for sc in &mut self.scorers {
                if sc.doc() < start {
                    sc.seek(start);
                }
            }
            let tally = tallies
                .entry(session)
                .or_insert_with(|| Tally::new(parts.len()));
            loop {
                let doc = self
                    .scorers
                    .iter()
                    .map(DocSet::doc)
                    .min()
                    .unwrap_or(TERMINATED);
                if doc >= end {
                    break;
                }
                if self.counts.keeps(doc) {
                    let b = boost(self.now_ms - self.cols.created.get_val(doc));
                    matched.clear();
                    unread.clear();
                    for (part, sc) in self.scorers.iter_mut().enumerate() {
                        if sc.doc() != doc {
                            continue;
                        }
                        let score = sc.score() * b;
                        match parts[part].phrase.map(|c| self.texts.decide_one(c, doc)) {
                            None | Some(Decision::Passes) => matched.push((part, score)),
                            Some(Decision::ReadText(c)) => unread.push((part, score, c)),
                            Some(Decision::Fails) => {}
                        }
                    }
                    let key = (self.keys || !unread.is_empty()).then(|| DocKey {
                        kind: self.cols.kind.get_val(doc),
                        session,
                        seq: self.cols.seq.get_val(doc),
                    });
                    match key {
                        Some(key) if !unread.is_empty() => tally.unread.push(DocParts {
                            segment: self.segment,
                            doc,
                            key,
                            matched: matched.clone(),
                            unread: unread.clone(),
                        }),
                        _ => tally.add((self.segment, doc), key, &matched),
                    }
                }
                for sc in &mut self.scorers {
                    if sc.doc() == doc {
                        sc.advance();
                    }
                }
            }
        }
    }
}

/// The sessions `allowed` lets through with a document that counts for
/// each part (phrases loosened to their words), the rarest part first;
/// `None` when there are none.
fn candidates(
    on: &On<'_>,
    parts: &[PartWeight],
    allowed: &dyn Fn(u64) -> bool,
) -> Result<Option<SessionSet>> {
    let mut scorers = parts
        .iter()
        .map(|p| part_scorers(on, p))
        .collect::<Result<Vec<_>>>()?;
    scorers.sort_by_key(|(cost, _)| *cost);
    let mut candidates: Option<SessionSet> = None;
    for (_, mut per_segment) in scorers {
        let mut set = SessionSet::default();
        // The first part looks at the sessions allowed, the others at the
        // sessions the parts before them have.
        let among = match &candidates {
            None => Among {
                within: None,
                allowed,
            },
            Some(c) => Among {
                within: Some(c),
                allowed: &|_| true,
            },
        };
        for (segment, scorer) in per_segment.iter_mut().enumerate() {
            let mut counts = Counts::new(on, segment)?;
            sessions_of(
                &mut **scorer,
                &on.runs[segment],
                &mut counts,
                among,
                &mut set,
            );
        }
        if set.is_empty() {
            return Ok(None);
        }
        candidates = Some(set);
    }
    Ok(candidates)
}

/// A scorer of each segment for part `p` (unscored), and how many documents
/// they may find in all.
fn part_scorers(on: &On<'_>, p: &PartWeight) -> Result<(u64, Vec<Box<dyn Scorer>>)> {
    let s = on
        .readers
        .iter()
        .map(|r| p.unscored.scorer(r, 1.0))
        .collect::<tantivy::Result<Vec<_>>>()
        .map_err(|e| failed(&e))?;
    let cost = s.iter().map(|s| u64::from(s.size_hint())).sum();
    Ok((cost, s))
}

/// The sessions that `allowed` lets through with a document that counts for
/// the rarest of `parts`, when they are worth knowing: when that part's
/// documents are fewer than a quarter of the sessions' runs (else `None`).
/// A session outside matches no query with these parts, whatever it
/// excludes.
pub fn scope(
    on: &On<'_>,
    parts: &[PartWeight],
    allowed: &dyn Fn(u64) -> bool,
) -> Result<Option<SessionSet>> {
    let runs: usize = on.runs.iter().map(|r| r.starts.len()).sum();
    let mut rarest: Option<(u64, Vec<Box<dyn Scorer>>)> = None;
    for p in parts {
        let (cost, s) = part_scorers(on, p)?;
        if rarest.as_ref().is_none_or(|(c, _)| cost < *c) {
            rarest = Some((cost, s));
        }
    }
    let Some((cost, mut scorers)) = rarest else {
        return Ok(None);
    };
    if cost.saturating_mul(4) > runs as u64 {
        return Ok(None);
    }
    let mut set = SessionSet::default();
    for (segment, scorer) in scorers.iter_mut().enumerate() {
        let mut counts = Counts::new(on, segment)?;
        let among = Among {
            within: None,
            allowed,
        };
        sessions_of(
            &mut **scorer,
            &on.runs[segment],
            &mut counts,
            among,
            &mut set,
        );
    }
    Ok(Some(set))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn runs(starts: &[DocId], max_doc: DocId) -> Runs {
        Runs {
            starts: starts.to_vec(),
            sessions: (0..starts.len() as u64).collect(),
            live: vec![true; starts.len()],
            max_doc,
        }
    }

    #[test]
    fn finds_the_run_of_a_document_from_any_run_before_it() {
        let r = runs(&[0, 1, 2, 5, 9, 10, 40, 41, 100], 120);
        for doc in 0..120 {
            let want = r.starts.iter().rposition(|&s| s <= doc).unwrap_or(0);
            for from in 0..=want {
                assert_eq!(r.at_from(from, doc), want, "doc {doc} from {from}");
            }
            assert!(r.starts[want] <= doc && doc < r.end(want));
        }
        let ends: Vec<DocId> = r.iter().map(|(_, e, _)| e).collect();
        assert_eq!(ends, [1, 2, 5, 9, 10, 40, 41, 100, 120]);
    }

    #[test]
    fn the_best_document_matches_the_most_parts_then_scores_best() {
        let mut t = Tally::new(3);
        t.add((0, 1), None, &[(0, 5.0)]);
        t.add((0, 2), None, &[(1, 1.0), (2, 1.0)]);
        t.add((0, 3), None, &[(1, 9.0)]);
        t.add((1, 0), None, &[(0, 0.5), (2, 0.5)]);
        t.add((1, 1), None, &[]);
        let s = t.spread(7).unwrap();
        assert_eq!((s.segment, s.doc, s.parts.clone()), (0, 2, vec![1, 2]));
        assert!((s.score - (5.0 + 9.0 + 1.0)).abs() < 1e-6, "{s:?}");
        assert_eq!(s.count, 4);
        let mut t = Tally::new(2);
        t.add((0, 1), None, &[(0, 5.0)]);
        assert!(t.spread(7).is_none(), "a part no document matches");
    }
}
