//! Making text from sessions safe to put on a terminal. Every string that
//! came from a session, a file or another tool goes through [`clean`] before
//! it reaches the screen: no escape sequence in a message may move the
//! cursor, set the title, write the clipboard or ring the bell.

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

    proptest! {
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
