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

use std::collections::HashMap;

use tantivy::query::{EnableScoring, Query, Scorer, Weight};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{DocId, SegmentReader};

use super::tokenizer::analyzer;
use crate::error::Result;

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

/// A clause of the query checked on each candidate.
pub struct TextClause {
    /// Documents must not match it.
    pub negated: bool,
    /// What a document has in the index whenever the clause matches it (the
    /// words of every alternative): a candidate without it is not read.
    pub pre: Option<Box<dyn Query>>,
    /// The clause matches when any alternative does.
    pub alts: Vec<Alt>,
}

enum AltWeight {
    /// Index of the pattern in [`TextChecks::patterns`].
    Text(usize),
    Index(Box<dyn Weight>),
}

struct ClauseWeights {
    negated: bool,
    pre: Option<Box<dyn Weight>>,
    alts: Vec<AltWeight>,
}

/// The checked clauses of a query, ready for any segment.
#[derive(Default)]
pub struct TextChecks {
    clauses: Vec<ClauseWeights>,
    patterns: Vec<Pattern>,
    /// Every term of every pattern: its slot in a document's positions.
    terms: HashMap<String, usize>,
    /// The prefix patterns: (index in `patterns`, prefix).
    prefixes: Vec<(usize, String)>,
}

impl TextChecks {
    /// Prepares `clauses` against one searcher.
    pub fn new(clauses: &[TextClause], scoring: EnableScoring<'_>) -> tantivy::Result<Self> {
        let mut checks = TextChecks::default();
        for c in clauses {
            let pre = c.pre.as_ref().map(|q| q.weight(scoring)).transpose()?;
            let mut alts = Vec::with_capacity(c.alts.len());
            for a in &c.alts {
                alts.push(match a {
                    Alt::Text(p) => {
                        match p {
                            Pattern::Terms(ts) => {
                                for (_, t) in ts {
                                    let next = checks.terms.len();
                                    checks.terms.entry(t.clone()).or_insert(next);
                                }
                            }
                            Pattern::Prefix(x) => {
                                checks.prefixes.push((checks.patterns.len(), x.clone()));
                            }
                        }
                        checks.patterns.push(p.clone());
                        AltWeight::Text(checks.patterns.len() - 1)
                    }
                    Alt::Index(q) => AltWeight::Index(q.weight(scoring)?),
                });
            }
            checks.clauses.push(ClauseWeights {
                negated: c.negated,
                pre,
                alts,
            });
        }
        Ok(checks)
    }

    /// Whether there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The checks of one segment, for its documents in increasing order.
    pub fn for_segment(&self, reader: &SegmentReader) -> tantivy::Result<SegmentChecks<'_>> {
        let mut clauses = Vec::with_capacity(self.clauses.len());
        for c in &self.clauses {
            let pre = c.pre.as_ref().map(|w| w.scorer(reader, 1.0)).transpose()?;
            let mut alts = Vec::with_capacity(c.alts.len());
            for a in &c.alts {
                alts.push(match a {
                    AltWeight::Text(i) => SegmentAlt::Text(*i),
                    AltWeight::Index(w) => SegmentAlt::Index(w.scorer(reader, 1.0)?),
                });
            }
            clauses.push(SegmentClause {
                negated: c.negated,
                pre,
                alts,
            });
        }
        Ok(SegmentChecks {
            checks: self,
            clauses,
            analyzer: analyzer(),
            positions: vec![Vec::new(); self.terms.len()],
            prefixes: Vec::new(),
        })
    }
}

enum SegmentAlt {
    Text(usize),
    Index(Box<dyn Scorer>),
}

struct SegmentClause {
    negated: bool,
    pre: Option<Box<dyn Scorer>>,
    alts: Vec<SegmentAlt>,
}

/// The checks of one segment (see [`TextChecks::for_segment`]).
pub struct SegmentChecks<'a> {
    checks: &'a TextChecks,
    clauses: Vec<SegmentClause>,
    analyzer: TextAnalyzer,
    /// Positions of each pattern term in the document last read.
    positions: Vec<Vec<usize>>,
    /// The prefix patterns found in it.
    prefixes: Vec<usize>,
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

impl SegmentChecks<'_> {
    /// Whether `doc` passes every checked clause. `text` gives the
    /// document's text, read only when a clause needs it (`None` for a
    /// document the store no longer has, which then matches no phrase).
    pub fn passes(
        &mut self,
        doc: DocId,
        text: &mut dyn FnMut() -> Result<Option<String>>,
    ) -> Result<bool> {
        let mut read: Option<bool> = None;
        for i in 0..self.clauses.len() {
            let c = &mut self.clauses[i];
            let possible = c.pre.as_mut().is_none_or(|s| matches_at(&mut **s, doc));
            let mut matched = false;
            if possible {
                let mut needs_text = false;
                for a in &mut c.alts {
                    match a {
                        SegmentAlt::Index(s) => matched |= matches_at(&mut **s, doc),
                        SegmentAlt::Text(_) => needs_text = true,
                    }
                }
                if !matched && needs_text {
                    let have = match read {
                        Some(have) => have,
                        None => {
                            let have = match text()? {
                                Some(t) => {
                                    self.read(&t);
                                    true
                                }
                                None => false,
                            };
                            read = Some(have);
                            have
                        }
                    };
                    let c = &self.clauses[i];
                    matched = have
                        && c.alts.iter().any(|a| match a {
                            SegmentAlt::Text(p) => self.found(*p),
                            SegmentAlt::Index(_) => false,
                        });
                }
            }
            if matched == self.clauses[i].negated {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Records where each pattern term stands in `text`.
    fn read(&mut self, text: &str) {
        for p in &mut self.positions {
            p.clear();
        }
        self.prefixes.clear();
        let mut stream = self.analyzer.token_stream(text);
        while let Some(t) = stream.next() {
            if let Some(&slot) = self.checks.terms.get(&t.text) {
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
            Pattern::Prefix(_) => self.prefixes.contains(&i),
            Pattern::Terms(ts) => {
                let at = |t: &str| &self.positions[self.checks.terms[t]];
                let Some(((first_off, first), rest)) = ts.split_first() else {
                    return false;
                };
                at(first).iter().any(|&p| {
                    p >= *first_off
                        && rest
                            .iter()
                            .all(|(off, t)| at(t).binary_search(&(p - first_off + off)).is_ok())
                })
            }
        }
    }
}
