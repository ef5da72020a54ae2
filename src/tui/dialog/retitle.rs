//! Changing a session's free text title; an empty title clears it.

use super::{FieldMut, FieldRef, Fields, FormState, LineField};
use crate::domain::{Session, SessionId};
use crate::tui::command::Mutation;

#[derive(Debug)]
pub struct Retitle {
    pub id: SessionId,
    pub session: String,
    pub title: LineField,
    pub state: FormState,
}

impl Retitle {
    pub fn new(session: &Session) -> Retitle {
        Retitle {
            id: session.id,
            session: session.name.clone(),
            title: LineField::new("title", &session.title),
            state: FormState::default(),
        }
    }

    pub fn submit(&self) -> Mutation {
        Mutation::Retitle {
            id: self.id,
            title: self.title.text().trim().to_string(),
        }
    }
}

impl Fields for Retitle {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        format!("title of {}", self.session)
    }
    fn info(&self) -> Vec<String> {
        vec!["a free text title; empty clears it".into()]
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.title).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.title).into()]
    }
}
