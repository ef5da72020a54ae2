//! A decoder for TOON (Token-Oriented Object Notation) into JSON values,
//! covering what session files use: indented objects, `key: value` pairs,
//! inline primitive arrays (`tags[2]: a,b`), tabular arrays
//! (`messages[2]{role,content}:` followed by one row per element), and list
//! arrays (`items[2]:` followed by `- ` items). Delimiters: comma (default),
//! tab or pipe as declared in the header (`[2|]`). Strings may be quoted with
//! `\"`, `\\`, `\n`, `\r`, `\t` escapes.

use serde_json::{Map, Number, Value};

/// Where and why a TOON document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToonError {
    /// 1-based line.
    pub line: usize,
    /// What was expected.
    pub reason: String,
}

#[derive(Debug, Clone)]
struct Line {
    no: usize,
    indent: usize,
    text: String,
}

/// Deepest nesting of objects and arrays read (as serde_json's limit): a
/// deeper file is an error, never a stack overflow.
pub const MAX_DEPTH: usize = super::json::MAX_DEPTH;

/// Decodes a TOON document.
pub fn decode(text: &str) -> Result<Value, ToonError> {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_end();
        if trimmed.trim().is_empty() {
            continue;
        }
        let indent = trimmed.len() - trimmed.trim_start_matches(' ').len();
        if trimmed[indent..].starts_with('\t') {
            return Err(err(i + 1, "indentation must use spaces, not tabs"));
        }
        lines.push(Line {
            no: i + 1,
            indent,
            text: trimmed[indent..].to_string(),
        });
    }
    let Some(first) = lines.first() else {
        return Ok(Value::Object(Map::new()));
    };
    let mut pos = 0;
    if first.text.starts_with('[') {
        let first = first.clone();
        let (value, next) = array_after_key(&mut lines, 0, &first, &first.text, 0)?;
        pos = next;
        if pos < lines.len() {
            return Err(err(
                lines[pos].no,
                "unexpected content after the root array",
            ));
        }
        return Ok(value);
    }
    if lines.len() == 1 && split_key(&first.text).is_none() {
        return Ok(primitive(&first.text));
    }
    let obj = object(&mut lines, &mut pos, 0, 0)?;
    if pos < lines.len() {
        return Err(err(lines[pos].no, "unexpected indentation"));
    }
    Ok(Value::Object(obj))
}

fn err(line: usize, reason: impl Into<String>) -> ToonError {
    ToonError {
        line,
        reason: reason.into(),
    }
}

/// Fields at exactly `indent`, starting at `*pos`.
fn object(
    lines: &mut Vec<Line>,
    pos: &mut usize,
    indent: usize,
    depth: usize,
) -> Result<Map<String, Value>, ToonError> {
    if depth >= MAX_DEPTH {
        let no = lines.get(*pos).map_or(0, |l| l.no);
        return Err(err(no, super::json::nested_too_deep()));
    }
    let mut map = Map::new();
    while *pos < lines.len() && lines[*pos].indent == indent {
        let line = lines[*pos].clone();
        let Some((key, rest)) = split_key(&line.text) else {
            return Err(err(line.no, "expected `key: value` or `key[N]: ...`"));
        };
        if rest.starts_with('[') {
            let (value, next) = array_after_key(lines, *pos, &line, rest, depth + 1)?;
            map.insert(key, value);
            *pos = next;
            continue;
        }
        let rest = rest
            .strip_prefix(':')
            .ok_or_else(|| err(line.no, "expected `:` after the key"))?
            .trim();
        *pos += 1;
        if rest.is_empty() {
            let child = lines.get(*pos).map(|l| l.indent).filter(|&i| i > indent);
            let value = match child {
                Some(ci) => Value::Object(object(lines, pos, ci, depth + 1)?),
                None => Value::Object(Map::new()),
            };
            map.insert(key, value);
        } else {
            map.insert(key, primitive(rest));
        }
    }
    Ok(map)
}

/// Parses `[N<delim>]{fields}: inline` at `lines[at]` and the lines that
/// belong to it; returns the array and the index of the next line.
fn array_after_key(
    lines: &mut Vec<Line>,
    at: usize,
    line: &Line,
    header: &str,
    depth: usize,
) -> Result<(Value, usize), ToonError> {
    if depth >= MAX_DEPTH {
        return Err(err(line.no, super::json::nested_too_deep()));
    }
    let close = header
        .find(']')
        .ok_or_else(|| err(line.no, "expected `]` closing the array length"))?;
    let inside = header[1..close].trim_start_matches('#');
    let (digits, delim) = match inside.chars().last() {
        Some('\t') => (&inside[..inside.len() - 1], '\t'),
        Some('|') => (&inside[..inside.len() - 1], '|'),
        _ => (inside, ','),
    };
    let n: usize = digits.parse().map_err(|_| {
        err(
            line.no,
            format!("expected an array length, found {digits:?}"),
        )
    })?;
    let mut rest = &header[close + 1..];
    let mut fields = None;
    if rest.starts_with('{') {
        let end = rest
            .find('}')
            .ok_or_else(|| err(line.no, "expected `}` closing the field list"))?;
        fields = Some(
            split(&rest[1..end], delim)
                .iter()
                .map(|f| unquote(f))
                .collect::<Vec<_>>(),
        );
        rest = &rest[end + 1..];
    }
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| err(line.no, "expected `:` after the array header"))?
        .trim();
    let indent = line.indent;
    let mut pos = at + 1;
    // The header's length is the file's word: never more room than lines left.
    let mut items = Vec::with_capacity(n.min(lines.len() - at));
    if let Some(fields) = fields {
        while pos < lines.len() && lines[pos].indent > indent {
            let row = &lines[pos];
            let cells = split(&row.text, delim);
            if cells.len() != fields.len() {
                return Err(err(
                    row.no,
                    format!(
                        "expected {} values in this row, found {}",
                        fields.len(),
                        cells.len()
                    ),
                ));
            }
            let obj = fields
                .iter()
                .cloned()
                .zip(cells.iter().map(|c| primitive(c)))
                .collect();
            items.push(Value::Object(obj));
            pos += 1;
        }
    } else if !rest.is_empty() {
        items = split(rest, delim).iter().map(|c| primitive(c)).collect();
    } else {
        while pos < lines.len() && lines[pos].indent > indent && lines[pos].text.starts_with('-') {
            let item_indent = lines[pos].indent;
            let body = lines[pos].text[1..].trim_start().to_string();
            if body.is_empty() {
                items.push(Value::Object(Map::new()));
                pos += 1;
            } else if body.starts_with('[') {
                let l = lines[pos].clone();
                let (v, next) = array_after_key(lines, pos, &l, &body, depth + 1)?;
                items.push(v);
                pos = next;
            } else if split_key(&body).is_some() {
                // An object item: its first field sits on the dash line.
                lines[pos] = Line {
                    no: lines[pos].no,
                    indent: item_indent + 2,
                    text: body,
                };
                items.push(Value::Object(object(
                    lines,
                    &mut pos,
                    item_indent + 2,
                    depth + 1,
                )?));
            } else {
                items.push(primitive(&body));
                pos += 1;
            }
        }
    }
    if items.len() != n {
        return Err(err(
            line.no,
            format!("the header says {n} elements, found {}", items.len()),
        ));
    }
    Ok((Value::Array(items), pos))
}

/// Splits `key: ...` or `key[N]...` into the key and what follows it.
fn split_key(text: &str) -> Option<(String, &str)> {
    if let Some(stripped) = text.strip_prefix('"') {
        let end = closing_quote(stripped)?;
        let key = unquote(&text[..end + 2]);
        let rest = &text[end + 2..];
        return (rest.starts_with(':') || rest.starts_with('[')).then_some((key, rest));
    }
    let i = text.find([':', '['])?;
    let key = text[..i].trim();
    (!key.is_empty() && !key.contains([' ', ','])).then(|| (key.to_string(), &text[i..]))
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits on `delim` outside quotes.
fn split(text: &str, delim: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' && quoted {
            cur.push(c);
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
            cur.push(c);
        } else if c == delim && !quoted {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn primitive(token: &str) -> Value {
    let t = token.trim();
    if t.starts_with('"') {
        return Value::String(unquote(t));
    }
    match t {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Null,
        _ => {}
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
    if !leading_zero && digits.starts_with(|c: char| c.is_ascii_digit()) {
        if let Ok(i) = t.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Some(n) = t.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tabular_session() {
        let text = "session_id: abc-123\ncreated_at: \"2026-01-02T03:04:05Z\"\nmessages[2]{role,content}:\n  user,\"Hello, world\"\n  assistant,Hi there\n";
        assert_eq!(
            decode(text).expect("decodes"),
            json!({"session_id": "abc-123", "created_at": "2026-01-02T03:04:05Z",
                   "messages": [{"role": "user", "content": "Hello, world"},
                                {"role": "assistant", "content": "Hi there"}]})
        );
    }

    #[test]
    fn list_items_nested_objects_and_inline_arrays() {
        let text = "meta:\n  owner: ana\n  tags[2|]: a|b c\nmessages[2]:\n  - role: user\n    content: \"line1\\nline2\"\n  - role: assistant\n    content: 42\n";
        assert_eq!(
            decode(text).expect("decodes"),
            json!({"meta": {"owner": "ana", "tags": ["a", "b c"]},
                   "messages": [{"role": "user", "content": "line1\nline2"},
                                {"role": "assistant", "content": 42}]})
        );
    }

    #[test]
    fn primitives() {
        assert_eq!(primitive("007"), json!("007"));
        assert_eq!(primitive("-1.5"), json!(-1.5));
        assert_eq!(primitive("true"), json!(true));
        assert_eq!(primitive("2026-01-01"), json!("2026-01-01"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // 2,000 levels of `a:` objects, and of `- [1]:` list items.
        let nested = |levels: usize, line: &str, extra: usize| -> String {
            (0..levels).map(|i| " ".repeat(i + extra) + line).collect()
        };
        let objects = nested(2_000, "a:\n", 0);
        let e = decode(&objects).expect_err("too deep");
        assert!(e.reason.contains("deeper than 128"), "{e:?}");
        let lists = nested(2_000, "- [1]:\n", 1);
        let e = decode(&format!("[1]:\n{lists}")).expect_err("too deep");
        assert!(e.reason.contains("deeper than 128"), "{e:?}");
        // 100 levels are fine.
        let ok = nested(100, "a:\n", 0);
        assert!(decode(&ok).is_ok());
    }

    #[test]
    fn a_huge_array_length_is_an_error_not_an_allocation() {
        let e = decode("messages[99999999999999]{role,content}:\n  user,hi\n").expect_err("count");
        assert!(e.reason.contains("says 99999999999999"), "{}", e.reason);
        let e = decode("tags[18446744073709551615]: a,b\n").expect_err("count");
        assert!(e.reason.contains("found 2"), "{}", e.reason);
    }

    #[test]
    fn errors_name_the_line() {
        let e = decode("messages[3]{role,content}:\n  user,hi\n").expect_err("count mismatch");
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("says 3"), "{}", e.reason);
        let e = decode("a: 1\nmessages[1]{role,content}:\n  user\n").expect_err("short row");
        assert_eq!(e.line, 3);
    }
}
