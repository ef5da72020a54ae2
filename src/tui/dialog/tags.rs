//! The tags of a session: one line holding the tags it should carry
//! (`-tag` takes one away, `+tag` is the same as `tag`); Tab completes the
//! last word from the tags in use.

use std::collections::BTreeSet;

use super::{FieldMut, FieldRef, Fields, FormState, LineField, Outcome};
use crate::domain::{Session, SessionId, validate_tag};
use crate::tui::command::Mutation;

#[derive(Debug)]
pub struct Tags {
    pub id: SessionId,
    pub session: String,
    /// The tags it carries now.
    pub current: Vec<String>,
    /// Every tag in use, for completion.
    pub known: Vec<String>,
    pub tags: LineField,
    pub state: FormState,
}

impl Tags {
    pub fn new(session: &Session, known: &[String]) -> Tags {
        Tags {
            id: session.id,
            session: session.name.clone(),
            current: session.tags.clone(),
            known: known.to_vec(),
            tags: LineField::new("tags", &session.tags.join(" ")),
            state: FormState::default(),
        }
    }

    /// Tab: completes the last word.
    pub fn complete(&mut self) -> Outcome {
        match complete_tag(&self.tags.text(), &self.known) {
            Some(done) => {
                self.tags.set_text(&done);
                Outcome::Changed
            }
            None => Outcome::Stay,
        }
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        let words = self.tags.text();
        let dropped: BTreeSet<&str> = words
            .split_whitespace()
            .filter_map(|w| w.strip_prefix('-'))
            .collect();
        let wanted: BTreeSet<String> = words
            .split_whitespace()
            .filter(|w| !w.starts_with('-'))
            .map(|t| t.trim_start_matches('+'))
            .filter(|t| !dropped.contains(t))
            .map(str::to_string)
            .collect();
        if let Some(e) = wanted.iter().find_map(|t| validate_tag(t).err()) {
            return Err(e.to_string());
        }
        let have: BTreeSet<String> = self.current.iter().cloned().collect();
        Ok(Mutation::Tags {
            id: self.id,
            add: wanted.difference(&have).cloned().collect(),
            remove: have.difference(&wanted).cloned().collect(),
        })
    }
}

/// `value` with its last word completed to the first known tag it starts
/// (keeping a `+` or `-` before it), or `None` when there is nothing to add.
fn complete_tag(value: &str, known: &[String]) -> Option<String> {
    let (head, last) = value.rsplit_once(' ').unwrap_or(("", value));
    let bare = last.trim_start_matches(['+', '-']);
    let done = known
        .iter()
        .find(|t| !bare.is_empty() && t.starts_with(bare) && t.as_str() != bare)?;
    let sign = &last[..last.len() - bare.len()];
    Some(if head.is_empty() {
        format!("{sign}{done}")
    } else {
        format!("{head} {sign}{done}")
    })
}

impl Fields for Tags {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        format!("tags of {}", self.session)
    }
    fn info(&self) -> Vec<String> {
        vec![
            "the tags it should carry, space separated; -tag removes one; tab completes".into(),
            format!("known: {}", self.known.join(" ")),
        ]
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.tags).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.tags).into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_is_completed_with_its_sign() {
        let known = ["keep".to_string(), "planning".to_string()];
        assert_eq!(
            complete_tag("rust pla", &known).as_deref(),
            Some("rust planning")
        );
        assert_eq!(complete_tag("-ke", &known).as_deref(), Some("-keep"));
        assert_eq!(complete_tag("a +p", &known).as_deref(), Some("a +planning"));
        assert_eq!(complete_tag("keep", &known), None, "already whole");
        assert_eq!(complete_tag("a ", &known), None, "no word");
        assert_eq!(complete_tag("zz", &known), None);
    }
}
