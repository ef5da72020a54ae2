//! The collector that ranks sessions rather than messages: it keeps the best
//! message of each session, scored by BM25 times the recency boost, and the
//! best `k` sessions seen so far. The `k`-th best session's score, divided by
//! the largest possible boost, is handed back to tantivy as the pruning
//! threshold, so block-max WAND skips every block of postings that cannot
//! change the top `k` sessions. The state is shared across segments: once one
//! segment has raised the bar, the next starts from it.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tantivy::columnar::ColumnValues;
use tantivy::query::{Occur, Weight};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::across::Excluded;
use super::index::index_error;
use super::verify::{Decision, TextChecks, TextReader, matches_at};
use crate::error::{Error, Result};

/// The largest recency boost (a message written just now).
pub const MAX_BOOST: f32 = 1.1;

/// The boost of a message `age_ms` old: up to +10% for today, halving
/// every 180 days.
pub fn boost(age_ms: i64) -> f32 {
    #[allow(clippy::cast_precision_loss)]
    let age_days = (age_ms.max(0) as f64) / 86_400_000.0;
    #[allow(clippy::cast_possible_truncation)]
    let b = (1.0 + 0.1 * 0.5f64.powf(age_days / 180.0)) as f32;
    b.min(MAX_BOOST)
}

/// The fast fields of one segment, opened once per searcher generation
/// (opening a column reads its block index, which is not free).
pub struct SegmentColumns {
    pub session: Arc<dyn ColumnValues<u64>>,
    pub created: Arc<dyn ColumnValues<i64>>,
    pub kind: Arc<dyn ColumnValues<u64>>,
    pub seq: Arc<dyn ColumnValues<u64>>,
    pub role: Arc<dyn ColumnValues<u64>>,
}

impl SegmentColumns {
    /// Opens the columns of `reader`.
    pub fn open(reader: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        let ff = reader.fast_fields();
        let u = |name: &str| -> tantivy::Result<Arc<dyn ColumnValues<u64>>> {
            Ok(ff.u64(name)?.first_or_default_col(0))
        };
        Ok(SegmentColumns {
            session: u("session")?,
            created: ff.i64("created")?.first_or_default_col(0),
            kind: u("kind")?,
            seq: u("seq")?,
            role: u("role")?,
        })
    }
}

/// A set of sessions by row id: one bit each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSet {
    bits: Vec<u64>,
    len: usize,
}

impl SessionSet {
    /// The set of `ids`.
    pub fn of(ids: impl IntoIterator<Item = u64>) -> SessionSet {
        let mut set = SessionSet::default();
        for id in ids {
            set.insert(id);
        }
        set
    }

    /// Adds `id`.
    pub fn insert(&mut self, id: u64) {
        let (word, bit) = (usize::try_from(id / 64).unwrap_or(usize::MAX), id % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.len += 1;
        }
    }

    /// Adds every session of `other`.
    pub fn extend(&mut self, other: &SessionSet) {
        for id in other.iter() {
            self.insert(id);
        }
    }

    /// The sessions, in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64u64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| w as u64 * 64 + b)
        })
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u64) -> bool {
        usize::try_from(id / 64)
            .ok()
            .and_then(|w| self.bits.get(w))
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// Number of sessions in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Which sessions may appear: in every one of `within`, in none of
/// `without`; and which messages: written in `created` (ms), if given.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter<'a> {
    pub within: Vec<&'a SessionSet>,
    pub without: Vec<&'a SessionSet>,
    pub created: Option<std::ops::Range<i64>>,
}

impl SessionFilter<'_> {
    /// Whether `session` may appear.
    pub fn allows(&self, session: u64) -> bool {
        self.within.iter().all(|s| s.contains(session))
            && !self.without.iter().any(|s| s.contains(session))
    }
}

/// The best message of a session among the documents looked at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Best {
    /// BM25 times the recency boost.
    pub score: Score,
    pub segment: SegmentOrdinal,
    pub doc: DocId,
    /// Documents of this session that reached the running top `k`.
    pub count: usize,
    in_top: bool,
}

/// A score that orders totally (NaN never comes out of BM25).
#[derive(Debug, Clone, Copy)]
struct Ordered(Score);

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<u64, Best>,
    /// The best `k` sessions, worst first: by score, then (among equal
    /// scores) the higher session id is the worse, as in the final order.
    top: BTreeSet<(Ordered, Reverse<u64>)>,
}

impl State {
    fn offer(&mut self, k: usize, session: u64, score: Score, segment: SegmentOrdinal, doc: DocId) {
        let best = self.sessions.entry(session).or_insert(Best {
            score: Score::NEG_INFINITY,
            segment,
            doc,
            count: 0,
            in_top: false,
        });
        best.count += 1;
        if score <= best.score {
            return;
        }
        if best.in_top {
            self.top.remove(&(Ordered(best.score), Reverse(session)));
        }
        *best = Best {
            score,
            segment,
            doc,
            in_top: true,
            ..*best
        };
        self.top.insert((Ordered(score), Reverse(session)));
        if self.top.len() > k
            && let Some((_, Reverse(out))) = self.top.pop_first()
            && let Some(b) = self.sessions.get_mut(&out)
        {
            b.in_top = false;
        }
    }

    /// Whether a document scoring `score` would enter the top `k`.
    fn could_enter(&self, k: usize, score: Score) -> bool {
        // Equal scores may still win on the session id: `offer` decides.
        self.top.len() < k || self.top.first().is_some_and(|(Ordered(s), _)| score >= *s)
    }

    /// Raw BM25 a document needs to change the top `k`, when no document
    /// has a boost above `max_boost`.
    fn threshold(&self, k: usize, max_boost: Score) -> Score {
        match self.top.first() {
            // Just below the bound: a document that ties the k-th session
            // may still win on its session id.
            Some((Ordered(s), _)) if self.top.len() >= k => (s / max_boost).next_down(),
            _ => Score::MIN,
        }
    }
}

/// What the collector found.
#[derive(Debug, Default)]
pub struct TopSessions {
    /// The best `k` sessions, best first.
    pub top: Vec<(u64, Best)>,
    /// Sessions that reached the running top `k` (all matching sessions
    /// when there are no more than `k`).
    pub sessions: usize,
}

/// A document of the index, as the store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocKey {
    pub kind: u64,
    pub session: u64,
    pub seq: u64,
}

/// Reads the text of a document from the store (see [`super::verify`]).
pub type TextOf<'t> = dyn FnMut(DocKey) -> Result<Option<String>> + 't;

/// A candidate whose text must be read before it can be offered.
#[derive(Debug, Clone, Copy)]
struct Pending {
    score: Score,
    key: DocKey,
    segment: SegmentOrdinal,
    doc: DocId,
    /// The clauses its text must pass.
    read: u64,
}

/// Texts read at most per session shown, at the end, only to count its
/// other hits.
pub const COUNT_READS: usize = 16;

/// Collects the best `k` sessions of a query (see the module doc), one
/// segment after another.
///
/// A candidate that must have its text read (for a phrase) waits with
/// others; once enough wait, they are read best first, which quickly raises
/// the bar below which the rest, and every later candidate, are dropped
/// unread. A waiting candidate that cannot better its session is not read,
/// except at the end to count the other hits of the sessions shown.
pub struct SessionTopK<'a> {
    k: usize,
    now_ms: i64,
    filter: &'a SessionFilter<'a>,
    /// Columns of each segment, by segment ordinal.
    columns: &'a [SegmentColumns],
    /// Each candidate must match the `Must` weights and none of the `MustNot`.
    checks: &'a [(Occur, Box<dyn Weight>)],
    /// And pass these, which may read its text.
    texts: &'a TextChecks,
    reader: TextReader<'a>,
    pending: Vec<Pending>,
    /// Waiting candidates that could not better their session.
    later: Vec<Pending>,
    state: State,
}

impl<'a> SessionTopK<'a> {
    pub fn new(
        k: usize,
        now_ms: i64,
        filter: &'a SessionFilter<'a>,
        columns: &'a [SegmentColumns],
        checks: &'a [(Occur, Box<dyn Weight>)],
        texts: &'a TextChecks,
    ) -> Self {
        SessionTopK {
            k: k.max(1),
            now_ms,
            filter,
            columns,
            checks,
            texts,
            reader: texts.reader(),
            pending: Vec::new(),
            later: Vec::new(),
            state: State::default(),
        }
    }

    /// Candidates that wait before their texts are read: enough that the
    /// first reads, best first, usually find the `k` sessions.
    fn batch(&self) -> usize {
        (4 * self.k).max(4096)
    }

    /// Reads the texts of the waiting candidates that could still enter the
    /// top `k`, best first, and offers those that pass.
    fn settle(&mut self, text: &mut TextOf<'_>) -> Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.key.session.cmp(&b.key.session))
        });
        for p in &pending {
            if !self.state.could_enter(self.k, p.score) {
                break;
            }
            if self
                .state
                .sessions
                .get(&p.key.session)
                .is_some_and(|b| b.score >= p.score)
            {
                self.later.push(*p);
                continue;
            }
            if self.reader.passes(p.read, text(p.key)?.as_deref()) {
                self.state
                    .offer(self.k, p.key.session, p.score, p.segment, p.doc);
            }
        }
        pending.clear();
        self.pending = pending;
        Ok(())
    }

    /// The sessions found, best first.
    pub fn finish(mut self, text: &mut TextOf<'_>) -> Result<TopSessions> {
        self.settle(text)?;
        let mut state = self.state;
        let mut reads: HashMap<u64, usize> =
            state.top.iter().map(|&(_, Reverse(s))| (s, 0)).collect();
        for p in &self.later {
            if let Some(n) = reads.get_mut(&p.key.session)
                && *n < COUNT_READS
            {
                *n += 1;
                if self.reader.passes(p.read, text(p.key)?.as_deref())
                    && let Some(b) = state.sessions.get_mut(&p.key.session)
                {
                    b.count += 1;
                }
            }
        }
        let mut top: Vec<(u64, Best)> = state
            .top
            .iter()
            .rev()
            .filter_map(|&(_, Reverse(s))| state.sessions.get(&s).map(|b| (s, *b)))
            .collect();
        top.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
        Ok(TopSessions {
            top,
            sessions: state.sessions.len(),
        })
    }
}

impl SessionTopK<'_> {
    /// Offers the documents `weight` finds in one segment, but none of a
    /// session that `excluded` leaves out; with `only`, just those in these
    /// ranges of documents (increasing), which hold every session that may
    /// appear (when they are few, going from one to the next is far
    /// cheaper than going through the documents of the others).
    pub fn collect_segment(
        &mut self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
        only: Option<&[(DocId, DocId)]>,
        text: &mut TextOf<'_>,
        excluded: &mut Excluded<'_>,
    ) -> Result<()> {
        let failed = |e: tantivy::TantivyError| index_error(None, &e);
        let columns = self.columns;
        let cols = usize::try_from(segment)
            .ok()
            .and_then(|s| columns.get(s))
            .ok_or_else(|| Error::Query(format!("no columns for segment {segment}")))?;
        let (sessions, created) = (&cols.session, &cols.created);
        let alive = reader.alive_bitset();
        let mut checks = Vec::with_capacity(self.checks.len());
        for (occur, weight) in self.checks {
            checks.push((
                *occur == Occur::Must,
                weight.scorer(reader, 1.0).map_err(failed)?,
            ));
        }
        let mut texts = if self.texts.is_empty() {
            None
        } else {
            Some(self.texts.for_segment(reader).map_err(failed)?)
        };
        let batch = self.batch();
        let mut error = None;
        // The newest message of the segment bounds its boost: the tighter
        // the bound, the more blocks block-max WAND skips.
        let max_boost = boost(self.now_ms - created.max_value());
        let mut threshold = self.state.threshold(self.k, max_boost);
        let first = threshold;
        let mut consider = |doc: DocId, score: Score| {
            if alive.is_some_and(|a| a.is_deleted(doc)) {
                return threshold;
            }
            let session = sessions.get_val(doc);
            if !self.filter.allows(session) {
                return threshold;
            }
            let written = created.get_val(doc);
            if self
                .filter
                .created
                .as_ref()
                .is_some_and(|r| !r.contains(&written))
            {
                return threshold;
            }
            let boosted = score * boost(self.now_ms - written);
            if !self.state.could_enter(self.k, boosted) {
                return threshold;
            }
            // Candidates come in doc order, so each check only moves forward.
            for (must, scorer) in &mut checks {
                if matches_at(&mut **scorer, doc) != *must {
                    return threshold;
                }
            }
            let decision = texts.as_mut().map_or(Decision::Passes, |t| t.decide(doc));
            if decision == Decision::Fails {
                return threshold;
            }
            match excluded.excludes(session, text) {
                Ok(false) => {}
                Ok(true) => return threshold,
                Err(e) => {
                    error = Some(e);
                    return Score::MAX;
                }
            }
            match decision {
                Decision::Fails => return threshold,
                Decision::Passes => self.state.offer(self.k, session, boosted, segment, doc),
                Decision::ReadText(read) => {
                    let key = DocKey {
                        kind: cols.kind.get_val(doc),
                        session,
                        seq: cols.seq.get_val(doc),
                    };
                    self.pending.push(Pending {
                        score: boosted,
                        key,
                        segment,
                        doc,
                        read,
                    });
                    if self.pending.len() >= batch
                        && let Err(e) = self.settle(text)
                    {
                        // Stop: nothing can pass this bar.
                        error = Some(e);
                        return Score::MAX;
                    }
                }
            }
            threshold = self.state.threshold(self.k, max_boost);
            threshold
        };
        match only {
            None => weight
                .for_each_pruning(first, reader, &mut consider)
                .map_err(failed)?,
            Some(ranges) => {
                let mut scorer = weight.scorer(reader, 1.0).map_err(failed)?;
                'ranges: for &(start, end) in ranges {
                    let mut doc = if scorer.doc() < start {
                        scorer.seek(start)
                    } else {
                        scorer.doc()
                    };
                    while doc < end {
                        if consider(doc, scorer.score()) == Score::MAX {
                            break 'ranges;
                        }
                        doc = scorer.advance();
                    }
                }
            }
        }
        error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_message_of_the_best_sessions() {
        let mut s = State::default();
        s.offer(2, 1, 5.0, 0, 10);
        s.offer(2, 1, 7.0, 0, 11);
        s.offer(2, 2, 6.0, 0, 12);
        assert_eq!(s.threshold(2, MAX_BOOST), (6.0 / MAX_BOOST).next_down());
        s.offer(2, 3, 9.0, 0, 13);
        // Session 2 fell out; the bar is now session 1's best.
        assert_eq!(s.threshold(2, 1.0), 7.0f32.next_down());
        let keys: Vec<u64> = s.top.iter().rev().map(|&(_, Reverse(k))| k).collect();
        assert_eq!(keys, [3, 1]);
        assert_eq!(s.sessions[&1].doc, 11);
        assert_eq!(s.sessions[&1].count, 2);
        // A session that fell out comes back when it does better.
        s.offer(2, 2, 8.0, 0, 14);
        let keys: Vec<u64> = s.top.iter().rev().map(|&(_, Reverse(k))| k).collect();
        assert_eq!(keys, [3, 2]);
        assert!(!s.sessions[&1].in_top);
    }

    #[test]
    fn equal_scores_rank_by_session_whatever_the_order_they_come_in() {
        for order in [[1, 2, 3, 4], [4, 3, 2, 1], [2, 4, 1, 3]] {
            let mut s = State::default();
            for (doc, session) in (0u32..).zip(order) {
                if s.could_enter(2, 5.0) {
                    s.offer(2, session, 5.0, 0, doc);
                }
            }
            let keys: Vec<u64> = s.top.iter().rev().map(|&(_, Reverse(k))| k).collect();
            assert_eq!(keys, [1, 2], "{order:?}");
        }
    }

    #[test]
    fn no_threshold_before_k_sessions() {
        let mut s = State::default();
        s.offer(3, 1, 5.0, 0, 1);
        s.offer(3, 1, 6.0, 0, 2);
        assert_eq!(s.threshold(3, 1.0), Score::MIN);
    }

    #[test]
    fn session_sets_and_filters() {
        let a = SessionSet::of([1, 64, 200]);
        assert!(a.contains(64) && a.contains(200) && !a.contains(2) && !a.contains(10_000));
        assert_eq!(a.len(), 3);
        let b = SessionSet::of([200]);
        let f = SessionFilter {
            within: vec![&a],
            without: vec![&b],
            created: None,
        };
        assert!(f.allows(1) && !f.allows(200) && !f.allows(3));
        assert!(SessionFilter::default().allows(42));
    }

    #[test]
    fn boost_is_mild_and_bounded() {
        assert!((boost(0) - 1.1).abs() < 1e-6);
        assert!((boost(180 * 86_400_000) - 1.05).abs() < 1e-6);
        assert!(boost(-5) <= MAX_BOOST);
        assert!(boost(i64::MAX) >= 1.0);
    }
}
