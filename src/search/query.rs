//! The search query language: turns what a person types into the search box
//! (`rust async`, `"exact phrase"`, `tok*`, `a OR b`, `-word`, `role:user`,
//! `after:30d`, ...) into a [`ParsedQuery`] for the search engine to run.
//!
//! Parsing is pure: it needs no index and no clock (the caller passes `now`
//! for relative times such as `after:7d`). Errors carry the character range
//! of the offending part so they can be shown with a caret under it.

use std::fmt;

use jiff::Timestamp;

use crate::domain::Role;

/// A parsed query: every clause must match (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// The clauses, all of which must hold for a message to match.
    pub clauses: Vec<Clause>,
}

/// One clause: any of its alternatives may match (OR), or, when negated,
/// its single alternative must not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// Whether the clause excludes messages (`-word`, `NOT word`).
    pub negated: bool,
    /// The alternatives (at least one; exactly one when `negated`).
    pub alternatives: Vec<Term>,
}

/// A single search term or filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word, as typed (tokenising and case folding are the caller's job).
    Word(String),
    /// A prefix (`tok*`), without the `*`.
    Prefix(String),
    /// A phrase: the text inside the quotes, unescaped.
    Phrase(String),
    /// `role:` filter.
    Role(Role),
    /// `tag:` filter.
    Tag(String),
    /// `session:` filter: a session name or uid prefix.
    Session(String),
    /// `source:` filter.
    Source(String),
    /// `model:` filter.
    Model(String),
    /// `after:` filter: messages at or after this moment.
    After(Timestamp),
    /// `before:` filter: messages before this moment.
    Before(Timestamp),
}

/// Why a query could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Char offset of the start of the offending part of the query.
    pub start: usize,
    /// Char offset just past the offending part.
    pub end: usize,
    /// What is wrong, for people.
    pub message: String,
}

impl QueryError {
    fn new(start: usize, end: usize, message: impl Into<String>) -> Self {
        Self {
            start,
            end,
            message: message.into(),
        }
    }

    /// Two lines: the query, then carets (at least one) under the offending part.
    #[must_use]
    pub fn pointer(&self, query: &str) -> String {
        let carets = self.end.saturating_sub(self.start).max(1);
        format!("{query}\n{}{}", " ".repeat(self.start), "^".repeat(carets))
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.start + 1)
    }
}

impl std::error::Error for QueryError {}

/// Parses `query`; `now` anchors relative times such as `after:30d`.
///
/// # Errors
///
/// A [`QueryError`] pointing at the first part of the query that is not
/// valid: an unclosed quote, a misplaced `OR`, `NOT` or `-`, a too-short
/// prefix, a bad filter value, an empty query, or one with only exclusions.
pub fn parse(query: &str, now: Timestamp) -> Result<ParsedQuery, QueryError> {
    let chars: Vec<char> = query.chars().collect();
    let atoms = lex(&chars)?;
    let (Some(first), Some(last)) = (atoms.first(), atoms.last()) else {
        return Err(QueryError::new(0, chars.len(), "empty query"));
    };
    let only_exclusions = QueryError::new(
        first.start,
        last.end,
        "a query needs at least one term to match, not only exclusions",
    );
    let mut parser = Parser {
        atoms: atoms.into_iter().peekable(),
        now,
    };

    let mut clauses: Vec<Clause> = Vec::new();
    let mut pending_or: Option<Atom> = None;
    // The range of the previous term if it was excluded (it cannot precede OR).
    let mut last_excluded: Option<(usize, usize)> = None;
    while let Some(atom) = parser.atoms.next() {
        if atom.is_keyword("OR") {
            if clauses.is_empty() || pending_or.is_some() {
                return Err(atom.error("OR needs a term on each side"));
            }
            if let Some((start, end)) = last_excluded {
                return Err(QueryError::new(start, end, NEGATED_IN_OR));
            }
            pending_or = Some(atom);
            continue;
        }
        let start = atom.start;
        let (negated, term, end) = if atom.is_keyword("NOT") {
            parser.not(&atom)?
        } else {
            parser.term(&atom)?
        };
        match (pending_or.take(), clauses.last_mut()) {
            (Some(_), _) if negated => return Err(QueryError::new(start, end, NEGATED_IN_OR)),
            (Some(_), Some(clause)) => clause.alternatives.push(term),
            _ => clauses.push(Clause {
                negated,
                alternatives: vec![term],
            }),
        }
        last_excluded = negated.then_some((start, end));
    }
    if let Some(or) = pending_or {
        return Err(or.error("OR needs a term on each side"));
    }
    if clauses.iter().all(|c| c.negated) {
        return Err(only_exclusions);
    }
    Ok(ParsedQuery { clauses })
}

const NEGATED_IN_OR: &str = "an excluded term cannot be part of an OR group";
const WHEN_EXPECTED: &str = crate::domain::MOMENT_EXPECTED;

/// A lexical unit: a quoted string or a run of other non-blank characters.
#[derive(Debug)]
struct Atom {
    text: String,
    quoted: bool,
    /// Directly follows the previous atom, with no blank in between.
    glued: bool,
    start: usize,
    end: usize,
}

impl Atom {
    fn is_keyword(&self, keyword: &str) -> bool {
        !self.quoted && self.text == keyword
    }

    fn error(&self, message: impl Into<String>) -> QueryError {
        QueryError::new(self.start, self.end, message)
    }
}

/// Splits the query into atoms; a quote inside quotes is written `\"`, a
/// backslash before a quote `\\`.
fn lex(chars: &[char]) -> Result<Vec<Atom>, QueryError> {
    let mut atoms = Vec::new();
    let (mut i, mut glued) = (0, false);
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            (i, glued) = (i + 1, false);
            continue;
        }
        let start = i;
        let mut text = String::new();
        if c == '"' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(QueryError::new(start, start + 1, "unclosed quote")),
                    Some('"') => break,
                    Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                        text.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(&c) => {
                        text.push(c);
                        i += 1;
                    }
                }
            }
            i += 1;
        } else {
            while let Some(&c) = chars.get(i).filter(|c| !c.is_whitespace() && **c != '"') {
                text.push(c);
                i += 1;
            }
        }
        let quoted = c == '"';
        atoms.push(Atom {
            text,
            quoted,
            glued,
            start,
            end: i,
        });
        glued = true;
    }
    Ok(atoms)
}

/// A parsed term: whether it is excluded, the term, and the char offset
/// just past it (it starts where its first atom does).
type Parsed = (bool, Term, usize);

struct Parser {
    atoms: std::iter::Peekable<std::vec::IntoIter<Atom>>,
    now: Timestamp,
}

impl Parser {
    /// `NOT term`: the next atom, which must be a term that is not itself excluded.
    fn not(&mut self, not: &Atom) -> Result<Parsed, QueryError> {
        let atom = self
            .atoms
            .next_if(|a| !a.is_keyword("OR") && !a.is_keyword("NOT"))
            .ok_or_else(|| not.error("NOT must be followed by a term to exclude"))?;
        match self.term(&atom)? {
            (true, _, end) => Err(QueryError::new(
                not.start,
                end,
                "NOT cannot exclude an excluded term",
            )),
            (false, term, end) => Ok((true, term, end)),
        }
    }

    /// A term starting at `atom`, with its optional `-` and, for `-"..."` and
    /// `field:"..."`, the quoted atom glued to it.
    fn term(&mut self, atom: &Atom) -> Result<Parsed, QueryError> {
        let (start, mut end) = (atom.start, atom.end);
        if atom.quoted {
            return Ok((false, phrase(atom)?, end));
        }
        let (negated, body) = match atom.text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, atom.text.as_str()),
        };
        let term = if body.is_empty() {
            let quoted = self
                .next_glued_quote()
                .ok_or_else(|| atom.error("`-` must be directly followed by a term to exclude"))?;
            end = quoted.end;
            phrase(&quoted)?
        } else if let Some((field, name, value)) = body
            .split_once(':')
            .and_then(|(name, value)| Field::parse(name).map(|field| (field, name, value)))
        {
            let quoted = if value.is_empty() {
                self.next_glued_quote()
            } else {
                None
            };
            let (value, value_start) = match quoted {
                Some(quoted) => {
                    end = quoted.end;
                    (quoted.text, quoted.start)
                }
                None => (value.to_string(), end - value.chars().count()),
            };
            if value.is_empty() {
                let name = name.to_ascii_lowercase();
                return Err(QueryError::new(
                    start,
                    end,
                    format!("`{name}:` needs a value"),
                ));
            }
            let bad_value = |message: String| QueryError::new(value_start, end, message);
            field.term(value, self.now).map_err(bad_value)?
        } else if let Some(prefix) = body.strip_suffix('*') {
            if prefix.chars().count() < 2 {
                return Err(atom.error("a prefix search needs at least 2 characters before `*`"));
            }
            Term::Prefix(prefix.to_string())
        } else {
            Term::Word(body.to_string())
        };
        Ok((negated, term, end))
    }

    fn next_glued_quote(&mut self) -> Option<Atom> {
        self.atoms.next_if(|a| a.quoted && a.glued)
    }
}

fn phrase(atom: &Atom) -> Result<Term, QueryError> {
    if atom.text.trim().is_empty() {
        return Err(atom.error("empty phrase"));
    }
    Ok(Term::Phrase(atom.text.clone()))
}

/// The known `name:` filters.
#[derive(Debug, Clone, Copy)]
enum Field {
    Role,
    Tag,
    Session,
    Source,
    Model,
    After,
    Before,
}

impl Field {
    fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "role" => Self::Role,
            "tag" => Self::Tag,
            "session" => Self::Session,
            "source" => Self::Source,
            "model" => Self::Model,
            "after" => Self::After,
            "before" => Self::Before,
            _ => return None,
        })
    }

    /// The filter for a non-empty `value`, or what is wrong with the value.
    fn term(self, value: String, now: Timestamp) -> Result<Term, String> {
        let when = |value: &str| {
            parse_when(value, now)
                .ok_or_else(|| format!("invalid time `{value}`: expected {WHEN_EXPECTED}"))
        };
        Ok(match self {
            Self::Role => Term::Role(value.to_ascii_lowercase().parse().map_err(|_| {
                format!("unknown role `{value}`: expected one of system, user, assistant, tool")
            })?),
            Self::Tag => Term::Tag(value),
            Self::Session => Term::Session(value),
            Self::Source => Term::Source(value),
            Self::Model => Term::Model(value),
            Self::After => Term::After(when(&value)?),
            Self::Before => Term::Before(when(&value)?),
        })
    }
}

/// The one time parser of the crate (`crate::domain::parse_moment`).
fn parse_when(value: &str, now: Timestamp) -> Option<Timestamp> {
    crate::domain::parse_moment(value, now)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn word(s: &str) -> Term {
        Term::Word(s.to_string())
    }

    fn yes(term: Term) -> Clause {
        Clause {
            negated: false,
            alternatives: vec![term],
        }
    }

    fn no(term: Term) -> Clause {
        Clause {
            negated: true,
            alternatives: vec![term],
        }
    }

    fn any(alternatives: Vec<Term>) -> Clause {
        Clause {
            negated: false,
            alternatives,
        }
    }

    fn clauses(query: &str) -> Vec<Clause> {
        parse(query, now())
            .unwrap_or_else(|e| panic!("{query:?}: {e}"))
            .clauses
    }

    fn error(query: &str) -> QueryError {
        parse(query, now()).expect_err(query)
    }

    #[test]
    fn words_phrases_and_groups() {
        let phrase = |s: &str| Term::Phrase(s.to_string());
        let cases = [
            ("rust async", vec![yes(word("rust")), yes(word("async"))]),
            (
                "  rust\tasync \n",
                vec![yes(word("rust")), yes(word("async"))],
            ),
            (
                "\"hello world\" rust",
                vec![yes(phrase("hello world")), yes(word("rust"))],
            ),
            (r#""say \"hi\"""#, vec![yes(phrase(r#"say "hi""#))]),
            (
                r#""C:\\" C:\dir"#,
                vec![yes(phrase(r"C:\")), yes(word(r"C:\dir"))],
            ),
            (r#""OR""#, vec![yes(phrase("OR"))]),
            (
                "a OR b c",
                vec![any(vec![word("a"), word("b")]), yes(word("c"))],
            ),
            (
                "x a OR b",
                vec![yes(word("x")), any(vec![word("a"), word("b")])],
            ),
            (
                "a OR b OR c",
                vec![any(vec![word("a"), word("b"), word("c")])],
            ),
            (
                r#""p q" OR tok* OR tag:x"#,
                vec![any(vec![
                    phrase("p q"),
                    Term::Prefix("tok".into()),
                    Term::Tag("x".into()),
                ])],
            ),
            (
                "a or b",
                vec![yes(word("a")), yes(word("or")), yes(word("b"))],
            ),
            (
                "x -y NOT z",
                vec![yes(word("x")), no(word("y")), no(word("z"))],
            ),
            ("not x", vec![yes(word("not")), yes(word("x"))]),
            (r#"k -"a b""#, vec![yes(word("k")), no(phrase("a b"))]),
            (
                "k -tok*",
                vec![yes(word("k")), no(Term::Prefix("tok".into()))],
            ),
            ("k --verbose", vec![yes(word("k")), no(word("-verbose"))]),
            ("tok*", vec![yes(Term::Prefix("tok".into()))]),
            ("東京 タワー", vec![yes(word("東京")), yes(word("タワー"))]),
            (
                "e-mail co-op",
                vec![yes(word("e-mail")), yes(word("co-op"))],
            ),
            ("(a b)", vec![yes(word("(a")), yes(word("b)"))]),
            ("a*b", vec![yes(word("a*b"))]),
            ("foo:bar", vec![yes(word("foo:bar"))]),
            (
                "http://x.org std::fs 12:30",
                vec![
                    yes(word("http://x.org")),
                    yes(word("std::fs")),
                    yes(word("12:30")),
                ],
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(clauses(query), expected, "{query:?}");
        }
    }

    #[test]
    fn filters() {
        let cases = [
            (
                "role:user tag:work",
                vec![yes(Term::Role(Role::User)), yes(Term::Tag("work".into()))],
            ),
            (
                "ROLE:Assistant Tag:Work",
                vec![
                    yes(Term::Role(Role::Assistant)),
                    yes(Term::Tag("Work".into())),
                ],
            ),
            (
                "role:system OR role:tool",
                vec![any(vec![Term::Role(Role::System), Term::Role(Role::Tool)])],
            ),
            (r#"session:"my s""#, vec![yes(Term::Session("my s".into()))]),
            (
                "session:01HX source:claude model:gpt-4o",
                vec![
                    yes(Term::Session("01HX".into())),
                    yes(Term::Source("claude".into())),
                    yes(Term::Model("gpt-4o".into())),
                ],
            ),
            ("tag::x", vec![yes(Term::Tag(":x".into()))]),
            (
                r#"tag:x"y z""#,
                vec![yes(Term::Tag("x".into())), yes(Term::Phrase("y z".into()))],
            ),
            (
                "k -role:user",
                vec![yes(word("k")), no(Term::Role(Role::User))],
            ),
            (
                r#"k -session:"a b""#,
                vec![yes(word("k")), no(Term::Session("a b".into()))],
            ),
            (
                "after:2026-01-01 before:30d",
                vec![
                    yes(Term::After(ts("2026-01-01T00:00:00Z"))),
                    yes(Term::Before(ts("2026-10-22T12:00:00Z"))),
                ],
            ),
            (
                "after:2026-01-01T10:00:00Z",
                vec![yes(Term::After(ts("2026-01-01T10:00:00Z")))],
            ),
            (
                // Without a zone: UTC, as on the command line.
                "after:2026-01-01T10:00:00",
                vec![yes(Term::After(ts("2026-01-01T10:00:00Z")))],
            ),
            (
                "after:2026-01-01T10:00:00+02:00",
                vec![yes(Term::After(ts("2026-01-01T08:00:00Z")))],
            ),
            (
                "after:2w before:12h",
                vec![
                    yes(Term::After(ts("2026-11-07T12:00:00Z"))),
                    yes(Term::Before(ts("2026-11-21T00:00:00Z"))),
                ],
            ),
            (
                "after:6mo before:1y",
                vec![
                    yes(Term::After(ts("2026-05-21T12:00:00Z"))),
                    yes(Term::Before(ts("2025-11-21T12:00:00Z"))),
                ],
            ),
            (
                "after:90m",
                vec![yes(Term::After(ts("2026-11-21T10:30:00Z")))],
            ),
        ];
        for (query, expected) in cases {
            assert_eq!(clauses(query), expected, "{query:?}");
        }
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let cases = [
            (r#"a "unclosed"#, 2, 3, "unclosed quote"),
            (r#"a "b\""#, 2, 3, "unclosed quote"),
            (r#"a """#, 2, 4, "empty phrase"),
            ("OR a", 0, 2, "OR needs a term on each side"),
            ("a OR", 2, 4, "OR needs a term on each side"),
            ("a OR OR b", 5, 7, "OR needs a term on each side"),
            (
                "-",
                0,
                1,
                "`-` must be directly followed by a term to exclude",
            ),
            ("a - b", 2, 3, "`-` must be directly followed"),
            (r#"a - "b""#, 2, 3, "`-` must be directly followed"),
            ("NOT", 0, 3, "NOT must be followed by a term to exclude"),
            ("a NOT", 2, 5, "NOT must be followed by a term"),
            ("a NOT OR b", 2, 5, "NOT must be followed by a term"),
            ("a NOT -b", 2, 8, "NOT cannot exclude an excluded term"),
            ("a*", 0, 2, "at least 2 characters before `*`"),
            ("x -a*", 2, 5, "at least 2 characters before `*`"),
            ("*", 0, 1, "at least 2 characters before `*`"),
            (
                "role:robot",
                5,
                10,
                "unknown role `robot`: expected one of system, user, assistant, tool",
            ),
            (
                "after:yesterdayish",
                6,
                18,
                "invalid time `yesterdayish`: expected a span back from now",
            ),
            ("after:2026-01-01Tnoon", 6, 21, "invalid time"),
            ("before:-3d", 7, 10, "invalid time"),
            (r#"before:"soon""#, 7, 13, "invalid time `soon`"),
            ("role:", 0, 5, "`role:` needs a value"),
            (r#"x Tag:"""#, 2, 8, "`tag:` needs a value"),
            ("", 0, 0, "empty query"),
            ("   ", 0, 3, "empty query"),
            (
                "-foo",
                0,
                4,
                "a query needs at least one term to match, not only exclusions",
            ),
            (" -foo NOT bar -role:user ", 1, 24, "not only exclusions"),
            (
                "a OR -b",
                5,
                7,
                "an excluded term cannot be part of an OR group",
            ),
            (
                "-a OR b",
                0,
                2,
                "an excluded term cannot be part of an OR group",
            ),
            (
                "a OR NOT b",
                5,
                10,
                "an excluded term cannot be part of an OR group",
            ),
        ];
        for (query, start, end, message) in cases {
            let e = error(query);
            assert_eq!((e.start, e.end), (start, end), "{query:?}: {e}");
            assert!(e.message.contains(message), "{query:?}: {e}");
        }
    }

    #[test]
    fn filters_alone_are_a_query() {
        assert_eq!(clauses("role:user after:7d").len(), 2);
        assert_eq!(
            clauses("-foo role:user"),
            vec![no(word("foo")), yes(Term::Role(Role::User))]
        );
    }

    #[test]
    fn offsets_count_chars_not_bytes() {
        let e = error("東京 OR");
        assert_eq!((e.start, e.end), (3, 5));
        assert_eq!(e.pointer("東京 OR"), "東京 OR\n   ^^");
    }

    #[test]
    fn display_and_pointer() {
        let e = error("a OR OR b");
        assert_eq!(e.to_string(), "OR needs a term on each side at column 6");
        assert_eq!(e.pointer("a OR OR b"), "a OR OR b\n     ^^");
        assert_eq!(error("").pointer(""), "\n^");
        let _: &dyn std::error::Error = &e;
    }
}
