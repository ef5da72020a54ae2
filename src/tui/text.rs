//! Text layout shared by `App::update` (to keep the cursor in view) and the
//! history view (to draw): wrapping to a width, code blocks, folding of long
//! messages and tool output. All text is sanitised here, once.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::domain::{Message, Role};
use crate::sanitize::clean_with;

/// Lines of a long message shown until it is expanded.
pub const FOLD_LINES: usize = 12;

/// One line of a message body as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLine {
    pub text: String,
    pub code: bool,
}

/// Wraps one line (no newlines) to `width` display columns, at spaces when
/// it can, inside words when it must.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    if line.width() <= width {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    for word in line.split_inclusive(' ') {
        let w = word.width();
        if cur_w + w <= width {
            cur.push_str(word);
            cur_w += w;
            continue;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur).trim_end().to_string());
            cur_w = 0;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if cur_w + cw > width && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            cur.push(c);
            cur_w += cw;
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur.trim_end().to_string());
    }
    out
}

/// The body of a message as drawn at `width`: sanitised, wrapped, code
/// blocks marked (their fences dropped), folded unless `expanded`.
/// Returns the lines and how many were folded away. A folded message is
/// read only as far as its fold: a message of megabytes costs what its
/// first lines cost (the lines past the fold are counted, not wrapped).
///
/// Tool calls, tool output, reasoning, injected context and image
/// placeholders are folded to one line (`▸ first line (N lines)`) until
/// expanded.
pub fn body(m: &Message, width: usize, expanded: bool) -> (Vec<BodyLine>, usize) {
    if (m.role == Role::Tool || m.kind.folded_by_default()) && !expanded {
        let first = m
            .content
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let n = m.content.lines().count();
        let summary = if n > 1 {
            format!("▸ {} ({n} lines)", clean_with(first.trim(), false))
        } else {
            format!("▸ {}", clean_with(first.trim(), false))
        };
        let line = wrap(&summary, width).into_iter().next().unwrap_or_default();
        return (
            vec![BodyLine {
                text: line,
                code: false,
            }],
            0,
        );
    }
    let mut out = Vec::new();
    let mut code = false;
    let mut lines = m.content.lines();
    while let Some(raw) = lines.next() {
        if raw.trim_start().starts_with("```") {
            code = !code;
            continue;
        }
        let line = clean_with(raw, false);
        let w = if code { width.saturating_sub(2) } else { width };
        for piece in wrap(&line, w) {
            out.push(BodyLine { text: piece, code });
        }
        if !expanded && out.len() > FOLD_LINES + 2 {
            // Folded: what is left is only counted.
            let rest = lines.filter(|l| !l.trim_start().starts_with("```")).count();
            let hidden = out.len() - FOLD_LINES + rest;
            out.truncate(FOLD_LINES);
            return (out, hidden);
        }
    }
    if out.is_empty() {
        out.push(BodyLine {
            text: String::new(),
            code: false,
        });
    }
    (out, 0)
}

/// Rows a message takes: header, body, a fold line if folded, a blank line.
pub fn height(m: &Message, width: usize, expanded: bool) -> usize {
    let (lines, hidden) = body(m, width, expanded);
    1 + lines.len() + usize::from(hidden > 0) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(role: Role, content: &str) -> Message {
        Message {
            seq: 0,
            role,
            kind: crate::domain::Kind::Text,
            content: content.into(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            model: None,
            tokens: None,
            metadata: serde_json::Map::new(),
            source_id: None,
        }
    }

    #[test]
    fn wraps_at_spaces_and_inside_long_words() {
        assert_eq!(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("東京都東京都", 4), ["東京", "都東", "京都"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn code_blocks_folding_and_tools() {
        let (lines, hidden) = body(
            &msg(Role::Assistant, "hi\n```rust\nfn x() {}\n```\nbye"),
            40,
            false,
        );
        assert_eq!(hidden, 0);
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.text.as_str(), l.code))
                .collect::<Vec<_>>(),
            [("hi", false), ("fn x() {}", true), ("bye", false)]
        );
        let long = (0..40)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let (lines, hidden) = body(&msg(Role::User, &long), 40, false);
        assert_eq!((lines.len(), hidden), (FOLD_LINES, 40 - FOLD_LINES));
        assert_eq!(body(&msg(Role::User, &long), 40, true).0.len(), 40);
        let (lines, _) = body(&msg(Role::Tool, "\nrunning 3 tests\nok\nok"), 40, false);
        assert_eq!(lines[0].text, "▸ running 3 tests (4 lines)");
        assert_eq!(height(&msg(Role::Tool, "a\nb"), 40, false), 3);
        assert_eq!(
            body(&msg(Role::Tool, "one line"), 40, false).0[0].text,
            "▸ one line"
        );
        // Reasoning and tool calls fold like tool output; text and summaries do not.
        let mut thinking = msg(Role::Assistant, "let me see\nwhich file\nholds it");
        thinking.kind = crate::domain::Kind::Thinking;
        let (lines, _) = body(&thinking, 40, false);
        assert_eq!(lines[0].text, "▸ let me see (3 lines)");
        assert_eq!(body(&thinking, 40, true).0.len(), 3);
        let mut summary = msg(Role::User, "one\ntwo");
        summary.kind = crate::domain::Kind::Summary;
        assert_eq!(body(&summary, 40, false).0.len(), 2);
    }

    #[test]
    fn control_characters_never_survive() {
        let (lines, _) = body(&msg(Role::User, "a\u{1b}[2Jb\u{7}"), 40, true);
        assert_eq!(lines[0].text, "a\u{FFFD}[2Jb\u{FFFD}");
        // A carriage return ends a line (CRLF) or is defused.
        let (lines, _) = body(&msg(Role::User, "one\r\ntwo\rthree"), 40, true);
        assert_eq!(lines[0].text, "one");
        assert_eq!(lines[1].text, "two\u{FFFD}three");
        let (lines, _) = body(&msg(Role::Tool, "\u{1b}]0;x\u{7}\nok"), 40, false);
        assert_eq!(lines[0].text, "▸ \u{FFFD}]0;x\u{FFFD} (2 lines)");
    }

    #[test]
    fn a_folded_message_counts_what_it_does_not_wrap() {
        // 50,000 lines: the fold shows the first ones and counts the rest.
        let long = (0..50_000).fold(String::new(), |mut s, i| {
            s.push_str("line ");
            s.push_str(&i.to_string());
            s.push('\n');
            s
        });
        let (lines, hidden) = body(&msg(Role::User, &long), 40, false);
        assert_eq!(lines.len(), FOLD_LINES);
        assert_eq!(lines[0].text, "line 0");
        assert_eq!(FOLD_LINES + hidden, 50_000);
        // Wrapped lines before the fold count as lines too.
        let wide = format!("{}\n{long}", "word ".repeat(40));
        let (lines, hidden) = body(&msg(Role::User, &wide), 40, false);
        assert_eq!(lines.len(), FOLD_LINES);
        assert_eq!(FOLD_LINES + hidden, 50_000 + 5);
    }
}
