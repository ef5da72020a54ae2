//! Creating a session, empty or with the messages of a template session.

use super::{FieldMut, FieldRef, Fields, FormState, LineField, checked_name};
use crate::tui::command::Mutation;

#[derive(Debug)]
pub struct NewSession {
    pub name: LineField,
    /// The name of a session to copy the messages of; may be empty.
    pub template: LineField,
    pub state: FormState,
}

impl NewSession {
    pub fn new() -> NewSession {
        NewSession {
            name: LineField::new("name", ""),
            template: LineField::new("template (optional)", ""),
            state: FormState::default(),
        }
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        Ok(Mutation::New {
            name: checked_name(&self.name)?,
            template: self.template.trimmed(),
        })
    }
}

impl Fields for NewSession {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        "new session".into()
    }
    fn info(&self) -> Vec<String> {
        vec!["a template is any session, e.g. one tagged `template`".into()]
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.name).into(), (&self.template).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.name).into(), (&mut self.template).into()]
    }
}

impl Default for NewSession {
    fn default() -> Self {
        NewSession::new()
    }
}
