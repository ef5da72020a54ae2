//! Importing a file or a folder of sessions: a path (Tab completes it, `~`
//! is home) and a format, `auto` by default. Folders of session files found
//! on this machine are listed as suggestions.

use std::path::PathBuf;

use super::{ChoiceField, FieldMut, FieldRef, Fields, FormState, LineField};
use crate::import::Format;
use crate::tui::command::Mutation;

#[derive(Debug)]
pub struct Import {
    pub path: LineField,
    /// `auto`, then every format by name.
    pub format: ChoiceField,
    /// Session folders found on this machine: what they hold, where.
    pub found: Vec<(String, PathBuf)>,
    pub state: FormState,
}

impl Import {
    pub fn new(found: &[(String, PathBuf)]) -> Import {
        let names = std::iter::once("auto")
            .chain(Format::ALL.iter().map(|(_, n)| *n))
            .collect();
        Import {
            path: LineField::path("path", ""),
            format: ChoiceField::new("format", names),
            found: found.to_vec(),
            state: FormState::default(),
        }
    }

    /// The format chosen; `None` guesses it from each file.
    pub fn chosen(&self) -> Option<Format> {
        self.format
            .index()
            .checked_sub(1)
            .and_then(|i| Format::ALL.get(i))
            .map(|(f, _)| *f)
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        let path = self.path.trimmed().ok_or("give a path")?;
        Ok(Mutation::Import {
            path: crate::paths::expand_tilde(&path),
            format: self.chosen(),
        })
    }
}

impl Fields for Import {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        "import".into()
    }
    fn info(&self) -> Vec<String> {
        let mut info =
            vec!["a file or a folder: session files of agent tools, exports, logs.db".to_string()];
        info.extend(
            self.found
                .iter()
                .map(|(what, p)| format!("found {what}: {}", p.display())),
        );
        info
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.path).into(), (&self.format).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.path).into(), (&mut self.format).into()]
    }
}
