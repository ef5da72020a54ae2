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

use super::index::index_error;
use super::verify::{TextChecks, matches_at};
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

    fn insert(&mut self, id: u64) {
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

/// Which sessions may appear: in every one of `within`, in none of `without`.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter<'a> {
    pub within: Vec<&'a SessionSet>,
    pub without: Vec<&'a SessionSet>,
}

impl SessionFilter<'_> {
    fn allows(&self, session: u64) -> bool {
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

/// The text of a document of a segment (see [`super::verify`]).
pub type TextOf<'t> = dyn FnMut(&SegmentColumns, DocId) -> Result<Option<String>> + 't;

/// Collects the best `k` sessions of a query (see the module doc), one
/// segment after another.
pub struct SessionTopK<'a> {
    k: usize,
    now_ms: i64,
    filter: &'a SessionFilter<'a>,
    /// Columns of each segment, by segment ordinal.
    columns: &'a [SegmentColumns],
    /// Each candidate must match the `Must` weights and none of the `MustNot`.
    checks: &'a [(Occur, Box<dyn Weight>)],
    /// And pass these, which read its text.
    texts: &'a TextChecks,
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
            state: State::default(),
        }
    }

    /// The sessions found, best first.
    pub fn into_top(self) -> TopSessions {
        let state = self.state;
        let mut top: Vec<(u64, Best)> = state
            .top
            .iter()
            .rev()
            .filter_map(|&(_, Reverse(s))| state.sessions.get(&s).map(|b| (s, *b)))
            .collect();
        top.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
        TopSessions {
            top,
            sessions: state.sessions.len(),
        }
    }
}

impl SessionTopK<'_> {
    /// Offers the documents `weight` finds in one segment.
    pub fn collect_segment(
        &mut self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
        text: &mut TextOf<'_>,
    ) -> Result<()> {
        let failed = |e: tantivy::TantivyError| index_error(None, &e);
        let cols = usize::try_from(segment)
            .ok()
            .and_then(|s| self.columns.get(s))
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
        let mut error = None;
        let state = &mut self.state;
        // The newest message of the segment bounds its boost: the tighter
        // the bound, the more blocks block-max WAND skips.
        let max_boost = boost(self.now_ms - created.max_value());
        let mut threshold = state.threshold(self.k, max_boost);
        weight
            .for_each_pruning(threshold, reader, &mut |doc, score| {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    return threshold;
                }
                let session = sessions.get_val(doc);
                if !self.filter.allows(session) {
                    return threshold;
                }
                let boosted = score * boost(self.now_ms - created.get_val(doc));
                if !state.could_enter(self.k, boosted) {
                    return threshold;
                }
                // Candidates come in doc order, so each check only moves forward.
                for (must, scorer) in &mut checks {
                    if matches_at(&mut **scorer, doc) != *must {
                        return threshold;
                    }
                }
                if let Some(texts) = &mut texts {
                    match texts.passes(doc, &mut || text(cols, doc)) {
                        Ok(true) => {}
                        Ok(false) => return threshold,
                        Err(e) => {
                            // Stop: nothing can pass this bar.
                            error = Some(e);
                            return Score::MAX;
                        }
                    }
                }
                state.offer(self.k, session, boosted, segment, doc);
                threshold = state.threshold(self.k, max_boost);
                threshold
            })
            .map_err(failed)?;
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
