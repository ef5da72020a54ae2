//! A session's metadata as `key = value` lines, edited as text: values are
//! JSON when they parse as JSON (numbers, true, "quoted"), else text. The
//! whole map is replaced on save: a line removed is a key removed.

use serde_json::{Map, Value};

use super::{FieldMut, FieldRef, Fields, FormState, TextField};
use crate::domain::{Session, SessionId};
use crate::tui::command::Mutation;

#[derive(Debug)]
pub struct Metadata {
    pub id: SessionId,
    pub session: String,
    pub lines: TextField,
    pub state: FormState,
}

impl Metadata {
    pub fn new(session: &Session) -> Metadata {
        Metadata {
            id: session.id,
            session: session.name.clone(),
            lines: TextField::new(
                "key = value lines (ctrl-s saves)",
                &metadata_lines(&session.metadata),
            ),
            state: FormState::default(),
        }
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        Ok(Mutation::Metadata {
            id: self.id,
            metadata: parse_metadata(&self.lines.text())?,
        })
    }
}

impl Fields for Metadata {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        format!("metadata of {}", self.session)
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.lines).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.lines).into()]
    }
}

/// Parses `key = value` lines. Blank lines and lines starting with `#` are
/// skipped. Errors name the line.
pub fn parse_metadata(text: &str) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!(
                "line {}: expected `key = value`, found {line:?}",
                i + 1
            ));
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(format!("line {}: the key is empty", i + 1));
        }
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
        map.insert(k.to_string(), value);
    }
    Ok(map)
}

/// Renders metadata as `key = value` lines; [`parse_metadata`] reads them
/// back to the same map.
pub fn metadata_lines(m: &Map<String, Value>) -> String {
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) if serde_json::from_str::<Value>(s).is_err() => format!("{k} = {s}"),
            other => format!("{k} = {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_lines_round_trip_and_errors_name_the_line() {
        let m =
            parse_metadata("topic = rust\npriority = 2\n# note\n\nbillable = true\nquoted = \"2\"")
                .expect("parses");
        assert_eq!(m["topic"], "rust");
        assert_eq!(m["priority"], 2);
        assert_eq!(m["billable"], true);
        assert_eq!(m["quoted"], "2");
        assert_eq!(parse_metadata(&metadata_lines(&m)).expect("round trip"), m);
        assert_eq!(
            parse_metadata("a = 1\nnonsense").expect_err("bad line"),
            "line 2: expected `key = value`, found \"nonsense\""
        );
        assert!(
            parse_metadata(" = 3")
                .expect_err("empty key")
                .starts_with("line 1")
        );
    }
}
