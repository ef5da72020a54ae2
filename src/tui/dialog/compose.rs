//! Adding a message to a session: a role and the text (Enter starts a new
//! line, Ctrl-S adds it). The keyboard starts in the text.

use super::{ChoiceField, FieldMut, FieldRef, Fields, FormState, TextField};
use crate::domain::{Role, Session, SessionId};
use crate::tui::command::Mutation;

/// The roles offered, in order.
pub const ROLES: [(Role, &str); 4] = [
    (Role::User, "user"),
    (Role::Assistant, "assistant"),
    (Role::System, "system"),
    (Role::Tool, "tool"),
];

#[derive(Debug)]
pub struct Compose {
    pub id: SessionId,
    pub session: String,
    pub role: ChoiceField,
    pub text: TextField,
    pub state: FormState,
}

impl Compose {
    pub fn new(session: &Session) -> Compose {
        let mut c = Compose {
            id: session.id,
            session: session.name.clone(),
            role: ChoiceField::new("role", ROLES.iter().map(|(_, n)| *n).collect()),
            text: TextField::new("text (ctrl-s adds it)", ""),
            state: FormState::default(),
        };
        c.focus_on(c.text.id());
        c
    }

    pub fn role(&self) -> Role {
        ROLES.get(self.role.index()).map_or(Role::User, |(r, _)| *r)
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        let text = self.text.text();
        if text.trim().is_empty() {
            return Err("the message is empty".into());
        }
        Ok(Mutation::Compose {
            id: self.id,
            role: self.role(),
            text,
        })
    }
}

impl Fields for Compose {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        format!("add a message to {}", self.session)
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.role).into(), (&self.text).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.role).into(), (&mut self.text).into()]
    }
}
