//! A yes/no question. It carries what yes does (a change to the store, or
//! throwing a draft away) and, when it interrupted another dialog, that
//! dialog, which no brings back as it was.

use super::{Dialog, FieldMut, FieldRef, Fields, FormState};
use crate::tui::command::Mutation;

/// What yes does.
#[derive(Debug, Clone, PartialEq)]
pub enum Yes {
    Mutate(Mutation),
    /// Close the dialog asked about without doing anything.
    Discard,
}

#[derive(Debug)]
pub struct Confirm {
    pub title: String,
    pub info: Vec<String>,
    pub yes: Yes,
    /// The dialog to go back to on no; after a yes that changes the store,
    /// the dialog that waits for the answer.
    pub back: Option<Box<Dialog>>,
    pub state: FormState,
}

impl Confirm {
    /// Asks before `mutation`.
    pub fn new(title: impl Into<String>, info: Vec<String>, mutation: Mutation) -> Confirm {
        Confirm {
            title: title.into(),
            info,
            yes: Yes::Mutate(mutation),
            back: None,
            state: FormState::default(),
        }
    }

    /// Asks before throwing away what was typed in `draft`.
    pub fn discard(draft: Dialog) -> Confirm {
        Confirm {
            title: "discard what you typed?".into(),
            info: vec!["y discards it, n goes back to it".into()],
            yes: Yes::Discard,
            back: Some(Box::new(draft)),
            state: FormState::default(),
        }
    }

    /// No brings `dialog` back.
    #[must_use]
    pub fn over(mut self, dialog: Dialog) -> Confirm {
        self.back = Some(Box::new(dialog));
        self
    }
}

impl Fields for Confirm {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        self.title.clone()
    }
    fn info(&self) -> Vec<String> {
        self.info.clone()
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        Vec::new()
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        Vec::new()
    }
}
