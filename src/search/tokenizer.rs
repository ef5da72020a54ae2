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

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, TextAnalyzer, Token, TokenStream, Tokenizer};

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

/// The token stream of [`CodeTokenizer`]: all tokens are computed up front
/// (texts are messages, not books), then handed out one by one.
pub struct CodeTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream {
        let mut tokens = Vec::new();
        split(text, &mut tokens);
        CodeTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for CodeTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
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
        | 0xFF66..=0xFF9D)  // half-width Katakana
}

fn is_word(c: char) -> bool {
    (c.is_alphanumeric() || c == '_') && !is_cjk(c)
}

/// Joiners that may sit inside an identifier: `np.array`, `std::fs`.
fn joiner_len(rest: &str) -> usize {
    if rest.starts_with("::") {
        2
    } else if rest.starts_with('.') {
        1
    } else {
        0
    }
}

fn split(text: &str, out: &mut Vec<Token>) {
    let mut position = 0;
    let mut i = 0;
    let bytes = text.len();
    while i < bytes {
        let Some(c) = text[i..].chars().next() else { break };
        if is_cjk(c) {
            let start = i;
            let mut end = i;
            while let Some(ch) = text[end..].chars().next().filter(|&ch| is_cjk(ch)) {
                end += ch.len_utf8();
            }
            cjk_bigrams(text, start, end, &mut position, out);
            i = end;
        } else if is_word(c) {
            let start = i;
            let mut end = i;
            loop {
                while let Some(ch) = text[end..].chars().next().filter(|&ch| is_word(ch)) {
                    end += ch.len_utf8();
                }
                let j = joiner_len(&text[end..]);
                let after = text[end + j..].chars().next();
                if j > 0 && after.is_some_and(is_word) {
                    end += j;
                } else {
                    break;
                }
            }
            word(text, start, end, &mut position, out);
            i = end;
        } else {
            i += c.len_utf8();
        }
    }
}

fn push(out: &mut Vec<Token>, text: &str, from: usize, to: usize, position: usize) {
    out.push(Token {
        offset_from: from,
        offset_to: to,
        position,
        text: text[from..to].to_string(),
        position_length: 1,
    });
}

fn word(text: &str, start: usize, end: usize, position: &mut usize, out: &mut Vec<Token>) {
    let raw = &text[start..end];
    if is_blob(raw) {
        return;
    }
    let p = *position;
    *position += 1;
    push(out, text, start, end, p);
    let parts = parts(raw);
    if parts.len() > 1 {
        for (a, b) in parts {
            push(out, text, start + a, start + b, p);
        }
    }
}

/// Byte ranges of the parts of an identifier: split at `_`, `.`, `::`, and
/// at lower-to-upper case changes (`camelCase`, `HTTPServer` -> `HTTP`, `Server`).
pub fn parts(raw: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (k, &(i, c)) in chars.iter().enumerate() {
        if c == '_' || c == '.' || c == ':' {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
            continue;
        }
        let prev = k.checked_sub(1).map(|p| chars[p].1);
        let next = chars.get(k + 1).map(|&(_, n)| n);
        let boundary = match prev {
            Some(p) if p.is_lowercase() && c.is_uppercase() => true,
            Some(p) if p.is_uppercase() && c.is_uppercase() => next.is_some_and(char::is_lowercase),
            _ => false,
        };
        if boundary && let Some(s) = start.take() {
            out.push((s, i));
        }
        if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, raw.len()));
    }
    out
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

fn cjk_bigrams(text: &str, start: usize, end: usize, position: &mut usize, out: &mut Vec<Token>) {
    let idx: Vec<usize> = text[start..end].char_indices().map(|(i, _)| start + i).chain([end]).collect();
    let n = idx.len() - 1;
    if n == 1 {
        push(out, text, idx[0], idx[1], *position);
        *position += 1;
        return;
    }
    for k in 0..n - 1 {
        push(out, text, idx[k], idx[k + 2], *position);
        *position += 1;
    }
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
        assert_eq!(texts("std::fs::read"), ["std::fs::read", "std", "fs", "read"]);
        assert_eq!(texts("HTTPServer"), ["httpserver", "http", "server"]);
        assert_eq!(texts("end. Next"), ["end", "next"], "a full stop is not a joiner");
        let t = tokens("use np.array here");
        assert_eq!(t.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [0, 1, 1, 1, 2]);
    }

    #[test]
    fn cjk_bigrams_find_words_inside_sentences() {
        assert_eq!(texts("東京都に住む"), ["東京", "京都", "都に", "に住", "住む"]);
        assert_eq!(texts("日"), ["日"]);
        assert_eq!(texts("한국어 공부"), ["한국", "국어", "공부"]);
        assert_eq!(texts("rust和go"), ["rust", "和", "go"]);
    }

    #[test]
    fn blobs_are_skipped() {
        let b64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg";
        assert_eq!(texts(&format!("image {b64} done")), ["image", "done"]);
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(texts(&format!("hash {sha}")), ["hash"]);
        assert_eq!(
            texts("a_very_long_but_ordinary_identifier_name"),
            ["a_very_long_but_ordinary_identifier_name", "a", "very", "long", "but", "ordinary", "identifier", "name"]
        );
    }
}
