//! Branching a session at a message: a new session holding its messages
//! up to and including that one, remembering where it came from.

use super::{FieldMut, FieldRef, Fields, FormState, LineField, checked_name};
use crate::domain::{Session, SessionId};
use crate::tui::command::Mutation;

#[derive(Debug)]
pub struct Branch {
    pub id: SessionId,
    pub source: String,
    /// The last message the branch holds.
    pub at: u64,
    /// Messages of the source.
    pub count: u64,
    pub name: LineField,
    pub state: FormState,
}

impl Branch {
    pub fn new(session: &Session, at: u64) -> Branch {
        Branch {
            id: session.id,
            source: session.name.clone(),
            at,
            count: session.message_count,
            name: LineField::new("new session", &format!("{}-branch", session.name)),
            state: FormState::default(),
        }
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        Ok(Mutation::Branch {
            id: self.id,
            name: checked_name(&self.name)?,
            at: self.at,
        })
    }
}

impl Fields for Branch {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        format!("branch {}", self.source)
    }
    fn info(&self) -> Vec<String> {
        vec![format!(
            "holds messages 0..={} of {} ({} of {})",
            self.at,
            self.source,
            self.at + 1,
            self.count
        )]
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.name).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.name).into()]
    }
}
