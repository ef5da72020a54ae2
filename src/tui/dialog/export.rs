//! Exporting sessions to a file: a format and a path. The path's extension
//! follows the format chosen, unless the user typed a path of their own
//! that ends in no known extension; Tab completes the path; `~` is home.
//! An existing file is replaced only after a yes (see `Confirm`).

use super::{ChoiceField, FieldMut, FieldRef, Fields, FormState, LineField};
use crate::domain::SessionId;
use crate::export::ExportFormat;
use crate::tui::command::Mutation;

/// The formats offered, in order.
pub const FORMATS: [ExportFormat; 3] = [
    ExportFormat::Json,
    ExportFormat::Jsonl,
    ExportFormat::Markdown,
];

#[derive(Debug)]
pub struct Export {
    pub ids: Vec<SessionId>,
    /// What is exported, for people: a name or "3 marked sessions".
    pub what: String,
    pub format: ChoiceField,
    pub path: LineField,
    /// The format the path's extension was last set for.
    extension_of: ExportFormat,
    pub state: FormState,
}

impl Export {
    /// Exports `ids`; the path starts as `<stem>.json`.
    pub fn new(ids: Vec<SessionId>, what: String, stem: &str) -> Export {
        let mut e = Export {
            ids,
            what,
            format: ChoiceField::new("format", FORMATS.iter().map(|f| f.extension()).collect()),
            path: LineField::path("path", &format!("{stem}.json")),
            extension_of: ExportFormat::Json,
            state: FormState::default(),
        };
        e.focus_on(e.path.id());
        e
    }

    pub fn chosen(&self) -> ExportFormat {
        FORMATS
            .get(self.format.index())
            .copied()
            .unwrap_or_default()
    }

    /// After a change: a new format renames the path's extension. If the
    /// user had not edited the path, the renamed one counts as how the dialog
    /// opened (it is no draft: Esc still closes at once).
    pub fn follow_format(&mut self) {
        let format = self.chosen();
        if format == self.extension_of {
            return;
        }
        self.extension_of = format;
        if let Some(renamed) = with_extension(&self.path.text(), format) {
            let pristine = !self.path.changed();
            self.path.set_text(&renamed);
            if pristine {
                self.path.settle();
            }
        }
    }

    pub fn submit(&self) -> Result<Mutation, String> {
        let path = self.path.trimmed().ok_or("give a path")?;
        Ok(Mutation::Export {
            ids: self.ids.clone(),
            format: self.chosen(),
            path: crate::paths::expand_tilde(&path),
            overwrite: false,
        })
    }
}

/// `path` with its extension replaced by the one of `format`, when it ends in
/// the extension of an export format; `None` when it ends in anything else.
pub fn with_extension(path: &str, format: ExportFormat) -> Option<String> {
    let (stem, ext) = path.rsplit_once('.')?;
    let known = FORMATS.iter().any(|f| f.extension() == ext);
    (known && !stem.is_empty() && !stem.ends_with('/'))
        .then(|| format!("{stem}.{}", format.extension()))
}

impl Fields for Export {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        "export".into()
    }
    fn info(&self) -> Vec<String> {
        vec![format!("exports {}", self.what)]
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![(&self.format).into(), (&self.path).into()]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![(&mut self.format).into(), (&mut self.path).into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_follows_the_format_only_when_it_is_known() {
        use ExportFormat::{Json, Jsonl, Markdown};
        assert_eq!(with_extension("a.json", Markdown).as_deref(), Some("a.md"));
        assert_eq!(with_extension("a.md", Jsonl).as_deref(), Some("a.jsonl"));
        assert_eq!(
            with_extension("~/out/a.b.jsonl", Json).as_deref(),
            Some("~/out/a.b.json")
        );
        assert_eq!(with_extension("a.txt", Markdown), None);
        assert_eq!(with_extension("backup", Markdown), None);
        assert_eq!(with_extension("dir.json/file", Markdown), None);
        assert_eq!(with_extension(".json", Markdown), None);
        assert_eq!(with_extension("dir/.md", Json), None);
    }
}
