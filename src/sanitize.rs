//! Making text safe to put on a terminal: the one sanitizer for every byte
//! a person reads. The TUI cleans each string it draws ([`clean`],
//! [`clean_with`]); the command line writes all its human output, and its
//! errors, through [`Human`], which cleans a byte stream. No escape sequence
//! from a session, a file or another tool may move the cursor, set the
//! title, write the clipboard, ring the bell or reorder text (bidi
//! controls). Data outputs (`--json`, exports to files and pipes) are not
//! cleaned: they stay faithful.

use std::io::{self, Write};

/// Replaces every control character (C0, DEL, C1) with a visible `�`, tabs
/// with four spaces, and keeps newlines only when `keep_newlines`. Bidi
/// overrides, which can reorder what is shown, are replaced too.
pub fn clean_with(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' => out.push_str("    "),
            c if is_unsafe(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// [`clean_with`] for one line: newlines become spaces.
pub fn clean(text: &str) -> String {
    let mut s = clean_with(text, true);
    if s.contains('\n') {
        s = s.replace('\n', " ");
    }
    s
}

/// Characters that must never reach a terminal as they are.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Where the command line marks its own highlights in human output:
/// [`Human`] turns these into reverse video on a colour terminal (or
/// brackets otherwise). They are the only styling that reaches a terminal.
pub const MARK_ON: char = '\u{E000}';
pub const MARK_OFF: char = '\u{E001}';

/// A writer for human-readable output: every control character (C0 but
/// newline and tab, DEL, C1), every bidi control and every invalid UTF-8
/// byte becomes `�`; [`MARK_ON`] and [`MARK_OFF`] become the highlight.
/// UTF-8 sequences split across writes are put back together.
pub struct Human<W: Write> {
    inner: W,
    pending: Vec<u8>,
    marks: (&'static str, &'static str),
}

impl<W: Write> Human<W> {
    /// `styled`: highlights in reverse video (a colour terminal), else in
    /// brackets.
    pub fn new(inner: W, styled: bool) -> Human<W> {
        Human {
            inner,
            pending: Vec::new(),
            marks: if styled {
                ("\u{1b}[7m", "\u{1b}[27m")
            } else {
                ("[", "]")
            },
        }
    }

    fn emit(&mut self, text: &str) -> io::Result<()> {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '\n' | '\t' => out.push(c),
                MARK_ON => out.push_str(self.marks.0),
                MARK_OFF => out.push_str(self.marks.1),
                c if is_unsafe(c) => out.push('\u{FFFD}'),
                c => out.push(c),
            }
        }
        self.inner.write_all(out.as_bytes())
    }
}

impl<W: Write> Write for Human<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let mut at = 0;
        loop {
            match std::str::from_utf8(&self.pending[at..]) {
                Ok(text) => {
                    let text = text.to_string();
                    self.emit(&text)?;
                    self.pending.clear();
                    break;
                }
                Err(e) => {
                    let good = at + e.valid_up_to();
                    let text = String::from_utf8_lossy(&self.pending[at..good]).into_owned();
                    self.emit(&text)?;
                    match e.error_len() {
                        Some(bad) => {
                            self.emit("\u{FFFD}")?;
                            at = good + bad;
                        }
                        // An incomplete sequence at the end: wait for the rest.
                        None => {
                            self.pending.drain(..good);
                            break;
                        }
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            // Bytes that never became a character.
            self.pending.clear();
            self.emit("\u{FFFD}")?;
        }
        self.inner.flush()
    }
}

/// A message for a person (an error, a warning), cleaned as [`Human`]
/// cleans output, highlights as brackets.
pub fn message(text: &str) -> String {
    let mut out = Vec::new();
    let mut h = Human::new(&mut out, false);
    let _ = h.write_all(text.as_bytes());
    let _ = h.flush();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_are_defused() {
        let nasty =
            "a\u{1b}[2Jb\u{1b}]0;title\u{7}c\u{1b}]52;c;aGk=\u{7}d\u{9b}31me\r\n\tf\u{202E}g";
        let s = clean_with(nasty, true);
        assert_eq!(
            s,
            "a\u{FFFD}[2Jb\u{FFFD}]0;title\u{FFFD}c\u{FFFD}]52;c;aGk=\u{FFFD}d\u{FFFD}31me\u{FFFD}\n    f\u{FFFD}g"
        );
        assert!(!clean("x\ny").contains('\n'));
    }

    #[test]
    fn the_human_writer_cleans_a_stream_split_anywhere() {
        let nasty = "a\u{1b}]0;title\u{7}b\u{9b}2J日本\r\n\tc\u{202E}d\u{E000}hit\u{E001}";
        let want = "a\u{FFFD}]0;title\u{FFFD}b\u{FFFD}2J日本\u{FFFD}\n\tc\u{FFFD}d[hit]";
        let bytes = nasty.as_bytes();
        for cut in 0..=bytes.len() {
            let mut out = Vec::new();
            let mut h = Human::new(&mut out, false);
            h.write_all(&bytes[..cut]).expect("writes to a Vec");
            h.write_all(&bytes[cut..]).expect("writes to a Vec");
            h.flush().expect("writes to a Vec");
            assert_eq!(String::from_utf8(out).expect("UTF-8"), want, "cut at {cut}");
        }
        // Invalid UTF-8 and a truncated sequence at the end.
        let mut out = Vec::new();
        let mut h = Human::new(&mut out, true);
        h.write_all(b"x\xff\xfey\xe6\x97").expect("writes to a Vec");
        h.flush().expect("writes to a Vec");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "x\u{FFFD}\u{FFFD}y\u{FFFD}"
        );
        assert_eq!(message("p\u{1b}[31mq\u{E000}"), "p\u{FFFD}[31mq[");
    }

    proptest! {
        #[test]
        fn the_human_writer_lets_no_control_through(bytes in proptest::collection::vec(any::<u8>(), 0..200), cut in 0usize..200) {
            let cut = cut.min(bytes.len());
            let mut out = Vec::new();
            let mut h = Human::new(&mut out, false);
            h.write_all(&bytes[..cut]).expect("writes to a Vec");
            h.write_all(&bytes[cut..]).expect("writes to a Vec");
            h.flush().expect("writes to a Vec");
            let text = String::from_utf8(out).expect("writes to a Vec");
            prop_assert!(text.chars().all(|c| c == '\n' || c == '\t' || !is_unsafe(c)));
        }

        #[test]
        fn nothing_unsafe_gets_through(text in any::<String>(), keep in any::<bool>()) {
            let s = clean_with(&text, keep);
            prop_assert!(s.chars().all(|c| !is_unsafe(c) || (keep && c == '\n')));
            let defused = ['\u{1b}', '\u{7}', '\u{9b}'].iter().all(|c| !s.contains(*c));
            prop_assert!(defused);
        }

        #[test]
        fn escape_heavy_input_is_defused(parts in prop::collection::vec(prop_oneof![
            Just("\u{1b}[".to_string()), Just("\u{1b}]".to_string()), Just("\u{9b}".to_string()),
            Just("\u{90}".to_string()), Just("\u{7}".to_string()), Just("\r".to_string()), "[ -~]{0,6}",
        ], 0..40)) {
            let s = clean(&parts.concat());
            prop_assert!(s.chars().all(|c| !c.is_control()));
        }
    }
}
