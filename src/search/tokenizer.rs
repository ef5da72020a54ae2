//! The text analyzer of the index, used both for indexing and for queries:
//!
//! - case and accents do not matter (`Café` is indexed as `cafe`);
//! - code identifiers are findable whole and by parts: `snake_case` gives
//!   `snake_case`, `snake`, `case`; `camelCase` gives `camelcase`, `camel`,
//!   `case`; `np.array` gives `np.array`, `np`, `array`; the parts share the
//!   whole token's position, so phrases of whole words still match;
//! - Chinese, Japanese and Korean runs are indexed as overlapping bigrams
//!   (a single character alone as itself), so a two- or three-character word
//!   is found inside a sentence written without spaces;
//! - base64 blobs, long hex strings and other binary-looking runs are skipped.
//!
//! The token stream works in place: one token buffer, no allocation per token.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Name under which the analyzer is registered in the index.
pub const ANALYZER: &str = "scrollback";

/// Runs longer than this are never indexed.
const MAX_TOKEN_BYTES: usize = 80;

/// The analyzer: [`CodeTokenizer`], then lower case, then accent folding.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(CodeTokenizer)
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Tokens of `text` as the index sees them: (position, text).
pub fn tokens(text: &str) -> Vec<(usize, String)> {
    let mut a = analyzer();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while let Some(t) = stream.next() {
        out.push((t.position, t.text.clone()));
    }
    out
}

/// Splits text into words, identifier parts and CJK bigrams. See the module doc.
#[derive(Clone, Copy, Debug, Default)]
pub struct CodeTokenizer;

/// The token stream of [`CodeTokenizer`].
pub struct CodeTokenStream<'a> {
    text: &'a str,
    /// Byte where the scan for the next word resumes.
    cursor: usize,
    /// Position of the next whole word.
    position: usize,
    /// Parts of the current identifier still to hand out (byte ranges).
    parts: Vec<(usize, usize)>,
    next_part: usize,
    /// Char boundaries of the current CJK run still to hand out as bigrams.
    cjk: Vec<usize>,
    next_cjk: usize,
    token: Token,
    /// Lean mode (see [`find_ascii`]): only these terms matter, so token
    /// texts are not copied and an identifier is cut into parts only when
    /// one of them could be a part.
    lean: Option<&'a [String]>,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        CodeTokenStream::new(text, None)
    }
}

impl<'a> CodeTokenStream<'a> {
    fn new(text: &'a str, lean: Option<&'a [String]>) -> Self {
        CodeTokenStream {
            text,
            cursor: 0,
            position: 0,
            parts: Vec::new(),
            next_part: 0,
            cjk: Vec::new(),
            next_cjk: 0,
            token: Token::default(),
            lean,
        }
    }

    fn emit(&mut self, from: usize, to: usize, position: usize) {
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = position;
        self.token.position_length = 1;
        if self.lean.is_none() {
            self.token.text.clear();
            self.token.text.push_str(&self.text[from..to]);
        }
    }

    /// Whether the parts of identifier `raw` are wanted.
    fn wants_parts(&self, raw: &str) -> bool {
        self.lean.is_none_or(|terms| {
            terms.iter().any(|t| {
                raw.as_bytes()
                    .windows(t.len())
                    .any(|w| w.eq_ignore_ascii_case(t.as_bytes()))
            })
        })
    }
}

/// For an ASCII `text`, calls `found(i, position)` for every token the
/// analyzer gives that equals `terms[i]` (analyzed terms), without building
/// the tokens that cannot: for ASCII, an analyzed token is its text in lower
/// case, and a part of an identifier is a piece of it.
pub fn find_ascii(text: &str, terms: &[String], found: &mut impl FnMut(usize, usize)) {
    debug_assert!(text.is_ascii());
    let mut stream = CodeTokenStream::new(text, Some(terms));
    while stream.advance() {
        let t = &stream.token;
        let raw = &text.as_bytes()[t.offset_from..t.offset_to];
        for (i, term) in terms.iter().enumerate() {
            if raw.eq_ignore_ascii_case(term.as_bytes()) {
                found(i, t.position);
            }
        }
    }
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next_part < self.parts.len() {
            let (a, b) = self.parts[self.next_part];
            self.next_part += 1;
            let p = self.position - 1;
            self.emit(a, b, p);
            return true;
        }
        if self.next_cjk + 2 < self.cjk.len() {
            let (a, b) = (self.cjk[self.next_cjk], self.cjk[self.next_cjk + 2]);
            self.next_cjk += 1;
            let p = self.position;
            self.position += 1;
            self.emit(a, b, p);
            return true;
        }
        let text = self.text;
        let bytes = text.as_bytes();
        while self.cursor < text.len() {
            let i = self.cursor;
            // ASCII fast path: skip separators a byte at a time.
            let b = bytes[i];
            if b < 0x80 && !(b.is_ascii_alphanumeric() || b == b'_') {
                self.cursor += 1;
                continue;
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            if is_cjk(c) {
                self.cjk.clear();
                let mut end = i;
                while let Some(ch) = text[end..].chars().next().filter(|&ch| is_cjk(ch)) {
                    self.cjk.push(end);
                    end += ch.len_utf8();
                }
                self.cjk.push(end);
                self.cursor = end;
                let p = self.position;
                self.position += 1;
                if self.cjk.len() == 2 {
                    // A lone character is its own token.
                    self.next_cjk = self.cjk.len();
                    self.emit(i, end, p);
                } else {
                    self.next_cjk = 1;
                    let b = self.cjk[2];
                    self.emit(i, b, p);
                }
                return true;
            }
            if !is_word(c) {
                self.cursor += c.len_utf8();
                continue;
            }
            let end = word_end(text, i);
            self.cursor = end;
            let raw = &text[i..end];
            if is_blob(raw) {
                continue;
            }
            self.parts.clear();
            self.next_part = 0;
            if needs_parts(raw) && self.wants_parts(raw) {
                parts_into(raw, i, &mut self.parts);
                if self.parts.len() < 2 {
                    self.parts.clear();
                }
            }
            let p = self.position;
            self.position += 1;
            self.emit(i, end, p);
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// True for characters of scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0x1100..=0x11FF   // Hangul Jamo
        | 0x3130..=0x318F   // Hangul compatibility Jamo
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0x20000..=0x2FA1F // CJK extensions B and later
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0xFF66..=0xFF9D) // half-width Katakana
}

fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        c.is_alphanumeric() && !is_cjk(c)
    }
}

/// End of the identifier starting at `start`: word characters, joined by
/// single `.` or `::` when a word character follows (`np.array`, `std::fs`).
fn word_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut end = start;
    loop {
        loop {
            match bytes.get(end) {
                Some(&b) if b < 0x80 => {
                    if b.is_ascii_alphanumeric() || b == b'_' {
                        end += 1;
                    } else {
                        break;
                    }
                }
                Some(_) => match text[end..].chars().next() {
                    Some(ch) if is_word(ch) => end += ch.len_utf8(),
                    _ => break,
                },
                None => break,
            }
        }
        let rest = &text[end..];
        let j = if rest.starts_with("::") {
            2
        } else {
            usize::from(rest.starts_with('.'))
        };
        if j > 0 && text[end + j..].chars().next().is_some_and(is_word) {
            end += j;
        } else {
            return end;
        }
    }
}

/// Whether an identifier can have parts: a joiner, an underscore, or an
/// upper-case letter after a lower-case one.
fn needs_parts(raw: &str) -> bool {
    let mut prev_lower = false;
    for c in raw.chars() {
        if c == '_' || c == '.' || c == ':' || (prev_lower && c.is_uppercase()) {
            return true;
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    raw.chars().filter(|c| c.is_uppercase()).count() > 1 && raw.chars().any(char::is_lowercase)
}

/// Byte ranges (offset by `base`) of the parts of an identifier. It is cut
/// into components at `.` and `::`, components into atoms at `_`, atoms at
/// case changes. Every component, every atom and every run of neighbouring
/// ones is a part, so any piece of an identifier is found whole:
/// `std::fs::read_to_string` gives `std`, `fs`, `read_to_string`, `std::fs`,
/// `fs::read_to_string`, `read`, `to`, `string`, `read_to`, `to_string`;
/// `DataFrame` gives `Data`, `Frame`.
fn parts_into(raw: &str, base: usize, out: &mut Vec<(usize, usize)>) {
    let components = split_at(raw, 0, |c| c == '.' || c == ':');
    runs(&components, 4, base, out);
    for &(s, e) in &components {
        let atoms = split_at(&raw[s..e], s, |c| c == '_');
        runs(&atoms, 3, base, out);
        for &(a, b) in &atoms {
            let before = out.len();
            camel_into(&raw[a..b], base + a, out);
            // An atom without case changes gave one camel part: itself.
            if out.len() - before == 1 {
                out.pop();
            }
        }
    }
}

/// Ranges of `text` between separators, offset by `offset`.
fn split_at(text: &str, offset: usize, sep: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if sep(c) {
            if let Some(s) = start.take() {
                out.push((offset + s, offset + i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((offset + s, offset + text.len()));
    }
    out
}

/// Each piece and each run of up to `longest` neighbouring pieces, except the
/// run of all of them (that is the whole, already a token).
fn runs(pieces: &[(usize, usize)], longest: usize, base: usize, out: &mut Vec<(usize, usize)>) {
    let n = pieces.len();
    if n < 2 {
        return;
    }
    for len in 1..=longest.min(n - 1) {
        for first in 0..=n - len {
            out.push((base + pieces[first].0, base + pieces[first + len - 1].1));
        }
    }
}

/// Splits one component at case changes (pushes the component itself when
/// there is none).
fn camel_into(word: &str, base: usize, out: &mut Vec<(usize, usize)>) {
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut iter = word.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let next = iter.peek().map(|&(_, n)| n);
        let boundary = match prev {
            Some(p) if (p.is_lowercase() || p.is_ascii_digit()) && c.is_uppercase() => true,
            Some(p) if p.is_uppercase() && c.is_uppercase() => next.is_some_and(char::is_lowercase),
            _ => false,
        };
        if boundary && i > start {
            out.push((base + start, base + i));
            start = i;
        }
        prev = Some(c);
    }
    out.push((base + start, base + word.len()));
}

/// Base64 blobs, long hex strings, and anything too long to be a word.
pub fn is_blob(raw: &str) -> bool {
    if raw.len() > MAX_TOKEN_BYTES {
        return true;
    }
    if raw.len() < 24 {
        return false;
    }
    let hex = raw.chars().all(|c| c.is_ascii_hexdigit());
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    let upper = raw.chars().filter(char::is_ascii_uppercase).count();
    let lower = raw.chars().filter(char::is_ascii_lowercase).count();
    let alnum = raw.chars().all(|c| c.is_ascii_alphanumeric());
    // Random text mixes cases and digits everywhere; identifiers do not.
    hex || (alnum && digits >= 3 && upper >= 3 && lower >= 3 && raw.len() >= 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn case_and_accents_fold() {
        assert_eq!(texts("Café NAÏVE Zürich"), ["cafe", "naive", "zurich"]);
    }

    #[test]
    fn identifiers_whole_and_by_parts() {
        assert_eq!(texts("snake_case"), ["snake_case", "snake", "case"]);
        assert_eq!(texts("camelCase"), ["camelcase", "camel", "case"]);
        assert_eq!(texts("np.array("), ["np.array", "np", "array"]);
        assert_eq!(
            texts("std::fs::read"),
            ["std::fs::read", "std", "fs", "read", "std::fs", "fs::read"]
        );
        assert_eq!(texts("HTTPServer"), ["httpserver", "http", "server"]);
        assert_eq!(
            texts("parseHTTP2Request"),
            ["parsehttp2request", "parse", "http2", "request"]
        );
        assert_eq!(
            texts("end. Next"),
            ["end", "next"],
            "a full stop is not a joiner"
        );
        assert_eq!(texts("UPPER lower Title"), ["upper", "lower", "title"]);
        let t = tokens("use np.array here");
        assert_eq!(
            t.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            [0, 1, 1, 1, 2]
        );
    }

    #[test]
    fn the_lean_scan_finds_what_the_analyzer_gives() {
        let text = "Use std::fs::read_to_string(path) and np.array; HTTPServer handles \
                    parseHTTP2Request, snake_case_name, the Read To String and \
                    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 read";
        let terms: Vec<String> = [
            "read",
            "to_string",
            "path",
            "np.array",
            "server",
            "http2",
            "case_name",
            "string",
            "the",
            "9f86d0",
        ]
        .map(String::from)
        .to_vec();
        let mut want = Vec::new();
        for (pos, tok) in tokens(text) {
            for (i, t) in terms.iter().enumerate() {
                if *t == tok {
                    want.push((i, pos));
                }
            }
        }
        let mut got = Vec::new();
        find_ascii(text, &terms, &mut |i, pos| got.push((i, pos)));
        want.sort_unstable();
        got.sort_unstable();
        assert!(want.len() > 10, "{want:?}");
        assert_eq!(got, want);
    }

    #[test]
    fn cjk_bigrams_find_words_inside_sentences() {
        assert_eq!(
            texts("東京都に住む"),
            ["東京", "京都", "都に", "に住", "住む"]
        );
        assert_eq!(texts("日"), ["日"]);
        assert_eq!(texts("한국어 공부"), ["한국", "국어", "공부"]);
        assert_eq!(texts("rust和go"), ["rust", "和", "go"]);
        let t = tokens("a 東京都 b");
        assert_eq!(t.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    #[test]
    fn blobs_are_skipped() {
        let b64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg";
        assert_eq!(texts(&format!("image {b64} done")), ["image", "done"]);
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(texts(&format!("hash {sha}")), ["hash"]);
        assert_eq!(
            texts("a_very_long_but_ordinary_identifier_name").len(),
            1 + 7 + 6 + 5,
            "the whole, its 7 atoms, and every run of 2 and of 3 atoms"
        );
    }
}
