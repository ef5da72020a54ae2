//! Modal dialogs. Each dialog is its own type, in its own file, with named
//! fields, a constructor and a `submit` that checks what was typed and makes
//! the change to ask the store for. What they share lives here and in
//! `field.rs`: the field widgets and their keys, the error, focus and
//! pending answer of every dialog ([`FormState`]), and [`View`], all the
//! drawing code needs to know of any dialog. `flow.rs` connects them to the
//! app: opening, keys, submitting, previews, answers.
//!
//! Esc closes a dialog at once unless the user typed something into it: then
//! a [`Confirm`] asks before the draft is thrown away.
//!
//! A dialog never changes the store itself (its `submit` returns the
//! [`Mutation`] for `App::mutate` to send) and reads no file, except to
//! complete a path in `path.rs`.

mod branch;
mod cleanup;
mod compose;
mod confirm;
mod export;
mod field;
mod flow;
mod import;
mod merge;
mod metadata;
mod new_session;
mod path;
mod rename;
mod retitle;
mod tags;

use jiff::Timestamp;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

pub use branch::Branch;
pub use cleanup::Cleanup;
pub use compose::Compose;
pub use confirm::{Confirm, Yes};
pub use export::{Export, with_extension};
pub use field::{
    CheckField, ChoiceField, FieldId, FieldMut, FieldRef, Fields, FormState, LineField, Outcome,
    TextField,
};
pub use import::Import;
pub use merge::Merge;
pub use metadata::{Metadata, metadata_lines, parse_metadata};
pub use new_session::NewSession;
pub use path::{Completion, complete_path};
pub use rename::Rename;
pub use retitle::Retitle;
pub use tags::Tags;

use crate::tui::command::{Command, Mutation};

/// The dialog on screen.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one at a time, made on a key press
pub enum Dialog {
    Rename(Rename),
    Retitle(Retitle),
    Branch(Branch),
    Tags(Tags),
    Metadata(Metadata),
    Compose(Compose),
    NewSession(NewSession),
    Export(Export),
    Import(Import),
    Merge(Merge),
    Cleanup(Cleanup),
    Confirm(Confirm),
}

/// Everything the view needs to draw a dialog.
#[derive(Debug)]
pub struct View<'a> {
    pub title: String,
    pub info: Vec<String>,
    pub fields: Vec<FieldRef<'a>>,
    pub focus: usize,
    pub error: Option<&'a str>,
}

/// Completions shown under the information, at most.
const CANDIDATES_SHOWN: usize = 8;

macro_rules! each {
    ($dialog:expr, $d:ident => $body:expr) => {
        match $dialog {
            Dialog::Rename($d) => $body,
            Dialog::Retitle($d) => $body,
            Dialog::Branch($d) => $body,
            Dialog::Tags($d) => $body,
            Dialog::Metadata($d) => $body,
            Dialog::Compose($d) => $body,
            Dialog::NewSession($d) => $body,
            Dialog::Export($d) => $body,
            Dialog::Import($d) => $body,
            Dialog::Merge($d) => $body,
            Dialog::Cleanup($d) => $body,
            Dialog::Confirm($d) => $body,
        }
    };
}

impl Dialog {
    /// A yes/no question; yes makes `mutation`.
    pub fn confirm(title: impl Into<String>, info: Vec<String>, mutation: Mutation) -> Dialog {
        Dialog::Confirm(Confirm::new(title, info, mutation))
    }

    pub fn form(&self) -> &dyn Fields {
        each!(self, d => d)
    }

    pub fn form_mut(&mut self) -> &mut dyn Fields {
        each!(self, d => d)
    }

    pub fn state(&self) -> &FormState {
        self.form().state()
    }

    pub fn state_mut(&mut self) -> &mut FormState {
        self.form_mut().state_mut()
    }

    /// The field with the keyboard.
    pub fn focused(&self) -> Option<FieldRef<'_>> {
        let focus = self.state().focus;
        self.form().fields().into_iter().nth(focus)
    }

    /// The dialog the user works on: this one, or the one a question about
    /// it covers (answers of the workers go there).
    pub fn beneath_mut(&mut self) -> &mut Dialog {
        match self {
            Dialog::Confirm(Confirm { back: Some(b), .. }) => b.beneath_mut(),
            d => d,
        }
    }

    /// Whether the user typed something: a text differs from how it opened.
    pub fn is_draft(&self) -> bool {
        self.form().fields().iter().any(FieldRef::edited)
    }

    pub fn view(&self) -> View<'_> {
        let form = self.form();
        let mut info = form.info();
        if let Some(FieldRef::Line(l)) = self.focused()
            && !l.candidates().is_empty()
        {
            let shown = l.candidates().iter().take(CANDIDATES_SHOWN);
            let mut line = shown.cloned().collect::<Vec<_>>().join("  ");
            if let Some(more) = l.candidates().len().checked_sub(CANDIDATES_SHOWN)
                && more > 0
            {
                line.push_str(&format!("  … and {more} more"));
            }
            info.push(line);
        }
        View {
            title: form.title(),
            info,
            fields: form.fields(),
            focus: form.state().focus,
            error: form.state().error.as_deref(),
        }
    }

    /// The keys the status bar offers while this dialog is up.
    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        if let Dialog::Confirm(_) = self {
            return vec![("y", "yes"), ("n", "no")];
        }
        match self.focused() {
            Some(FieldRef::Line(l)) if l.completes_paths() => vec![
                ("esc", "cancel"),
                ("tab", "complete"),
                ("↓", "next field"),
                ("enter", "ok"),
            ],
            Some(FieldRef::Text(_)) => {
                vec![("esc", "cancel"), ("tab", "next field"), ("ctrl-s", "ok")]
            }
            _ => vec![("esc", "cancel"), ("tab", "next field"), ("enter", "ok")],
        }
    }

    /// A key for a dialog other than a [`Confirm`].
    fn key(&mut self, k: KeyEvent) -> Outcome {
        match self {
            Dialog::Tags(t) if k.code == KeyCode::Tab => t.complete(),
            _ => field::key(self.form_mut(), k),
        }
    }

    /// After a field changed: what the dialog needs asked (live previews).
    fn changed(&mut self, now: Timestamp) -> Vec<Command> {
        match self {
            Dialog::Cleanup(c) => c.preview(now).into_iter().collect(),
            Dialog::Merge(m) => m.changed().into_iter().collect(),
            Dialog::Export(e) => {
                e.follow_format();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

/// The trimmed text of a name field, if it is a valid session name.
fn checked_name(field: &LineField) -> Result<String, String> {
    let name = field.text().trim().to_string();
    crate::domain::validate_name(&name).map_err(|e| e.to_string())?;
    Ok(name)
}
