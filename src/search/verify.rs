//! Clauses the index cannot decide alone. The index keeps no word positions
//! (they made two fifths of it), so it finds a phrase as the conjunction of
//! its words; each candidate that could rank is then read from the store and
//! the same analyzer runs over its text: the phrase's terms must stand at the
//! phrase's offsets. That is exactly what a positional phrase query matches.
//!
//! A clause is checked this way when one of its alternatives is a phrase
//! (quoted words, or a word the analyzer splits into several positions, such
//! as a CJK word of three characters). Its other alternatives are decided
//! from the same text (words, prefixes) or in the index (`role:`, `model:`,
//! dates).

use tantivy::query::{EnableScoring, Query, Scorer, Weight};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{DocId, SegmentReader};

use super::tokenizer::{analyzer, find_ascii};

/// Most clauses a query may have checked on the text.
pub const MAX_CLAUSES: usize = 64;

/// A word or phrase looked for in a document's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Terms (as the analyzer gives them) at these offsets from the first.
    Terms(Vec<(usize, String)>),
    /// Some term starting with this.
    Prefix(String),
}

/// One alternative of a checked clause.
pub enum Alt {
    /// Looked for in the text.
    Text(Pattern),
    /// Decided in the index.
    Index(Box<dyn Query>),
}

/// A clause of the query checked on each candidate: it matches when any
/// alternative does.
pub struct TextClause {
    /// The alternatives.
    pub alts: Vec<Alt>,
}

impl Clone for Alt {
    fn clone(&self) -> Self {
        match self {
            Alt::Text(p) => Alt::Text(p.clone()),
            Alt::Index(q) => Alt::Index(q.box_clone()),
        }
    }
}

impl Clone for TextClause {
    fn clone(&self) -> Self {
        TextClause {
            alts: self.alts.clone(),
        }
    }
}

enum AltWeight {
    /// Index of the pattern in [`TextChecks::patterns`].
    Text(usize),
    Index(Box<dyn Weight>),
}

struct ClauseWeights {
    alts: Vec<AltWeight>,
}

/// A pattern as a text is checked against it.
enum Slots {
    /// (offset, slot in [`TextChecks::terms`]) of each term.
    Terms(Vec<(usize, usize)>),
    Prefix,
}

/// The checked clauses of a query, ready for any segment.
#[derive(Default)]
pub struct TextChecks {
    clauses: Vec<ClauseWeights>,
    patterns: Vec<Slots>,
    /// Every term of every pattern, once: its index is its slot in a
    /// document's positions. A query has few, so a scan beats hashing.
    terms: Vec<String>,
    /// The prefix patterns: (index in `patterns`, prefix).
    prefixes: Vec<(usize, String)>,
}

impl TextChecks {
    /// Prepares `clauses` against one searcher.
    pub fn new(clauses: &[TextClause], scoring: EnableScoring<'_>) -> tantivy::Result<Self> {
        let mut checks = TextChecks::default();
        for c in clauses {
            let mut alts = Vec::with_capacity(c.alts.len());
            for a in &c.alts {
                alts.push(match a {
                    Alt::Text(p) => {
                        let slots = match p {
                            Pattern::Terms(ts) => Slots::Terms(
                                ts.iter().map(|(off, t)| (*off, checks.slot(t))).collect(),
                            ),
                            Pattern::Prefix(x) => {
                                checks.prefixes.push((checks.patterns.len(), x.clone()));
                                Slots::Prefix
                            }
                        };
                        checks.patterns.push(slots);
                        AltWeight::Text(checks.patterns.len() - 1)
                    }
                    Alt::Index(q) => AltWeight::Index(q.weight(scoring)?),
                });
            }
            checks.clauses.push(ClauseWeights { alts });
        }
        Ok(checks)
    }

    /// The slot of term `t`, added if new.
    fn slot(&mut self, t: &str) -> usize {
        self.terms.iter().position(|x| x == t).unwrap_or_else(|| {
            self.terms.push(t.to_string());
            self.terms.len() - 1
        })
    }

    /// Whether there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The checks of one segment, for its documents in increasing order.
    pub fn for_segment(&self, reader: &SegmentReader) -> tantivy::Result<SegmentChecks> {
        let mut clauses = Vec::with_capacity(self.clauses.len());
        for c in &self.clauses {
            let mut index = Vec::new();
            let mut text = false;
            for a in &c.alts {
                match a {
                    AltWeight::Text(_) => text = true,
                    AltWeight::Index(w) => index.push(w.scorer(reader, 1.0)?),
                }
            }
            clauses.push(SegmentClause { index, text });
        }
        Ok(SegmentChecks { clauses })
    }

    /// What reads texts for these checks.
    pub fn reader(&self) -> TextReader<'_> {
        TextReader {
            checks: self,
            analyzer: analyzer(),
            positions: vec![Vec::new(); self.terms.len()],
            prefixes: Vec::new(),
        }
    }
}

struct SegmentClause {
    index: Vec<Box<dyn Scorer>>,
    /// Some alternatives are looked for in the text.
    text: bool,
}

/// The index side of the checks in one segment (see [`TextChecks::for_segment`]).
pub struct SegmentChecks {
    clauses: Vec<SegmentClause>,
}

/// What the index says of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Fails,
    Passes,
    /// It passes if its text passes these clauses (one bit each).
    ReadText(u64),
}

/// Whether `scorer` matches `doc`; documents come in increasing order, so it
/// only ever moves forward.
pub fn matches_at(scorer: &mut dyn Scorer, doc: DocId) -> bool {
    let at = if scorer.doc() < doc {
        scorer.seek(doc)
    } else {
        scorer.doc()
    };
    at == doc
}

impl SegmentChecks {
    /// Decides what the index can of `doc` (documents in increasing order).
    pub fn decide(&mut self, doc: DocId) -> Decision {
        let mut read = 0u64;
        for i in 0..self.clauses.len() {
            match self.decide_one(i, doc) {
                Decision::Fails => return Decision::Fails,
                Decision::Passes => {}
                Decision::ReadText(r) => read |= r,
            }
        }
        if read == 0 {
            Decision::Passes
        } else {
            Decision::ReadText(read)
        }
    }

    /// Decides what the index can of `doc` for clause `i` alone (for that
    /// clause, documents in increasing order).
    pub fn decide_one(&mut self, i: usize, doc: DocId) -> Decision {
        let Some(c) = self.clauses.get_mut(i) else {
            return Decision::Passes;
        };
        if c.index.iter_mut().any(|s| matches_at(&mut **s, doc)) {
            Decision::Passes
        } else if c.text {
            Decision::ReadText(1 << i)
        } else {
            Decision::Fails
        }
    }
}

/// Looks for the patterns of the checks in texts.
pub struct TextReader<'a> {
    checks: &'a TextChecks,
    analyzer: TextAnalyzer,
    /// Positions of each pattern term in the text last read.
    positions: Vec<Vec<usize>>,
    /// The prefix patterns found in it.
    prefixes: Vec<usize>,
}

impl TextReader<'_> {
    /// Whether `text` passes the clauses of `read` (see [`Decision`]); a
    /// document the store no longer has (`None`) matches no pattern.
    pub fn passes(&mut self, read: u64, text: Option<&str>) -> bool {
        self.take(text);
        (0..self.checks.clauses.len()).all(|i| read & (1 << i) == 0 || self.clause_found(i))
    }

    /// Reads `text` (`None`: a document the store no longer has, which
    /// matches no pattern) for [`clause_found`](Self::clause_found).
    pub fn take(&mut self, text: Option<&str>) {
        match text {
            Some(t) => self.read(t),
            None => {
                self.positions.iter_mut().for_each(Vec::clear);
                self.prefixes.clear();
            }
        }
    }

    /// Whether the text last taken passes clause `i` by its text.
    pub fn clause_found(&self, i: usize) -> bool {
        self.checks.clauses.get(i).is_some_and(|c| {
            c.alts
                .iter()
                .any(|a| matches!(a, AltWeight::Text(p) if self.found(*p)))
        })
    }

    /// Records where each pattern term stands in `text`.
    fn read(&mut self, text: &str) {
        self.positions.iter_mut().for_each(Vec::clear);
        self.prefixes.clear();
        if self.checks.prefixes.is_empty() && text.is_ascii() {
            let positions = &mut self.positions;
            find_ascii(text, &self.checks.terms, &mut |slot, p| {
                positions[slot].push(p);
            });
            return;
        }
        let mut stream = self.analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            if let Some(slot) = self.checks.terms.iter().position(|x| *x == t.text) {
                self.positions[slot].push(t.position);
            }
            for (i, p) in &self.checks.prefixes {
                if t.text.starts_with(p.as_str()) && !self.prefixes.contains(i) {
                    self.prefixes.push(*i);
                }
            }
        }
    }

    /// Whether pattern `i` is in the text last read.
    fn found(&self, i: usize) -> bool {
        match &self.checks.patterns[i] {
            Slots::Prefix => self.prefixes.contains(&i),
            Slots::Terms(ts) => {
                let Some(((first_off, first), rest)) = ts.split_first() else {
                    return false;
                };
                self.positions[*first].iter().any(|&p| {
                    p >= *first_off
                        && rest.iter().all(|(off, slot)| {
                            self.positions[*slot]
                                .binary_search(&(p - first_off + off))
                                .is_ok()
                        })
                })
            }
        }
    }
}
