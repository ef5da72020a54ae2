//! A session's metadata as lines, edited as text: `key = text` sets text,
//! `key := json` a number, a boolean or a list (the command line's grammar).
//! The whole map is replaced on save: a line removed is a key removed.

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
                "key = text, key := json lines (ctrl-s saves)",
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

/// Reads the dialog's `key = text` / `key := json` lines (the one grammar
/// of metadata, see [`crate::domain::meta`]).
pub fn parse_metadata(text: &str) -> Result<Map<String, Value>, String> {
    crate::domain::meta::parse_lines(text)
}

/// Renders metadata as the dialog's lines; [`parse_metadata`] reads them
/// back to the same map.
pub fn metadata_lines(m: &Map<String, Value>) -> String {
    crate::domain::meta::render_lines(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_lines_round_trip_and_errors_name_the_line() {
        let m = parse_metadata("topic = rust\npriority := 2\n# note\n\nbillable := true\ntext = 2")
            .expect("parses");
        assert_eq!(m["topic"], "rust");
        assert_eq!(m["priority"], 2);
        assert_eq!(m["billable"], true);
        assert_eq!(m["text"], "2", "= sets text, as on the command line");
        assert_eq!(parse_metadata(&metadata_lines(&m)).expect("round trip"), m);
        assert_eq!(
            parse_metadata("a = 1\nnonsense").expect_err("bad line"),
            "line 2: \"nonsense\": expected `key = text`, `key := json` or `key =` (to remove it)"
        );
        assert!(
            parse_metadata(" = 3")
                .expect_err("empty key")
                .starts_with("line 1")
        );
    }
}
