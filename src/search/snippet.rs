//! Snippets: the part of a message around the words that matched, with the
//! matched words marked. Uses the index's own analyzer, so whatever matched
//! (folded accents, identifier parts, CJK bigrams, prefixes) is what is marked.

use std::collections::HashSet;

use tantivy::tokenizer::TokenStream;

use super::tokenizer::analyzer;

/// What to mark: exact index terms and prefixes of terms.
#[derive(Debug, Clone, Default)]
pub struct Marks {
    /// Terms as the analyzer produces them.
    pub terms: HashSet<String>,
    /// Prefixes (already analyzed).
    pub prefixes: Vec<String>,
}

impl Marks {
    /// Adds what `other` marks.
    pub fn extend(&mut self, other: &Marks) {
        self.terms.extend(other.terms.iter().cloned());
        for p in &other.prefixes {
            if !self.prefixes.contains(p) {
                self.prefixes.push(p.clone());
            }
        }
    }

    fn matches(&self, token: &str) -> bool {
        self.terms.contains(token) || self.prefixes.iter().any(|p| token.starts_with(p.as_str()))
    }
}

/// A window of about `max_chars` characters of `text` holding the most
/// matches, on one line, with `…` where it was cut; and the byte ranges of
/// the matches in it.
pub fn snippet(text: &str, marks: &Marks, max_chars: usize) -> (String, Vec<[usize; 2]>) {
    let mut a = analyzer();
    let mut stream = a.token_stream(text);
    let mut hits: Vec<(usize, usize)> = Vec::new();
    while let Some(t) = stream.next() {
        if marks.matches(&t.text) {
            // Overlapping matches (CJK bigrams, identifier parts) become one mark.
            match hits.last_mut() {
                Some(last) if t.offset_from < last.1 => last.1 = last.1.max(t.offset_to),
                _ => hits.push((t.offset_from, t.offset_to)),
            }
        }
    }
    // Byte budget: a rough conversion, corrected to char boundaries below.
    let budget = (max_chars * text.len().max(1) / text.chars().count().max(1)).max(max_chars);
    let lead = budget / 4;
    // The start with the most matches inside the window.
    let mut best = (0usize, 0usize);
    for (i, &(from, _)) in hits.iter().enumerate() {
        let count = hits[i..]
            .iter()
            .take_while(|&&(_, end)| end <= from + budget - lead)
            .count();
        if count > best.1 {
            best = (i, count);
        }
    }
    let start = hits
        .get(best.0)
        .map_or(0, |&(from, _)| floor(text, from.saturating_sub(lead)));
    let end = floor(text, (start + budget).min(text.len()));
    let end = if end <= start {
        text.len().min(start + budget)
    } else {
        end
    };
    let end = ceil(text, end);
    let mut out = String::with_capacity(end - start + 8);
    let mut shift = 0usize;
    if start > 0 {
        out.push('…');
        shift = '…'.len_utf8();
    }
    out.extend(
        text[start..end]
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c }),
    );
    if end < text.len() {
        out.push('…');
    }
    let highlights = hits
        .into_iter()
        .filter(|&(from, to)| from >= start && to <= end)
        .map(|(from, to)| [from - start + shift, to - start + shift])
        .collect();
    (out, highlights)
}

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(terms: &[&str]) -> Marks {
        Marks {
            terms: terms.iter().map(|s| (*s).to_string()).collect(),
            prefixes: Vec::new(),
        }
    }

    #[test]
    fn marks_folded_and_partial_matches() {
        let (s, h) = snippet(
            "Un café à Paris, then np.array()",
            &marks(&["cafe", "array"]),
            100,
        );
        let marked: Vec<&str> = h.iter().map(|&[a, b]| &s[a..b]).collect();
        assert_eq!(marked, ["café", "array"]);
    }

    #[test]
    fn windows_around_the_matches_and_marks_the_cuts() {
        let text = format!(
            "{} needle here {}",
            "filler ".repeat(100),
            "tail ".repeat(100)
        );
        let (s, h) = snippet(&text, &marks(&["needle"]), 60);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert_eq!(&s[h[0][0]..h[0][1]], "needle");
        assert!(s.chars().count() <= 64, "{}", s.chars().count());
    }

    #[test]
    fn no_match_gives_the_start() {
        let (s, h) = snippet("line one\nline two", &marks(&["zzz"]), 100);
        assert_eq!(s, "line one line two");
        assert!(h.is_empty());
    }

    #[test]
    fn cjk_and_prefixes() {
        let m = Marks {
            terms: ["東京".to_string()].into(),
            prefixes: vec!["tok".into()],
        };
        let (s, h) = snippet("私は東京に住む tokenizer", &m, 100);
        let marked: Vec<&str> = h.iter().map(|&[a, b]| &s[a..b]).collect();
        assert_eq!(marked, ["東京", "tokenizer"]);
        let m = Marks {
            terms: ["セッ", "ッシ", "ショ", "ョン"].map(String::from).into(),
            prefixes: Vec::new(),
        };
        let (s, h) = snippet("古いセッションは", &m, 100);
        assert_eq!(
            h.iter().map(|&[a, b]| &s[a..b]).collect::<Vec<_>>(),
            ["セッション"]
        );
    }
}
