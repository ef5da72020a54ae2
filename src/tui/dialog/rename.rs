//! Renaming a session: one line, the new name, checked before the store is
//! asked.

use super::{FieldMut, FieldRef, Fields, FormState, LineField, checked_name};
use crate::domain::{Session, SessionId};
use crate::tui::command::Mutation;

#[derive(Debug)]
pub struct Rename {
    pub id: SessionId,
    /// The name it has now.
    pub old: String,
    pub name: LineField,
    pub state: FormState,
}

impl Rename {
    pub fn new(session: &Session) -> Rename {
        Rename {
            id: session.id,
            old: session.name.clone(),
            name: LineField::new("new name", &session.name),
            state: FormState::default(),
        }
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        Ok(Mutation::Rename {
            id: self.id,
            name: checked_name(&self.name)?,
        })
    }
}

impl Fields for Rename {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        format!("rename {}", self.old)
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.name).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.name).into()]
    }
}
