//! The fields dialogs are made of (one line of text, several lines, a
//! choice, a check box) and the keys they share: Tab, BackTab and the arrows
//! move between fields, Enter confirms (Ctrl-S in a multi-line field, where
//! Enter starts a new line), Ctrl-U empties a text field, Esc cancels. A
//! field knows nothing of the dialog it is in; a dialog lists its fields in
//! order through [`Fields`].

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use super::path::complete_path;

/// Where the error, the focus and the pending store answer of a dialog live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormState {
    /// Why the last try was refused, shown at the bottom of the dialog.
    pub error: Option<String>,
    /// The mutation (by its count) whose answer the dialog waits for; it
    /// closes on success and shows the error otherwise.
    pub waiting: Option<u64>,
    /// The position of the focused field in [`Fields::fields`].
    pub focus: usize,
}

/// What every dialog shows and how its fields are reached, in order.
pub trait Fields {
    fn state(&self) -> &FormState;
    fn state_mut(&mut self) -> &mut FormState;
    fn title(&self) -> String;
    /// The lines above the fields.
    fn info(&self) -> Vec<String> {
        Vec::new()
    }
    fn fields(&self) -> Vec<FieldRef<'_>>;
    /// The same fields as [`Fields::fields`], in the same order.
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>>;

    /// Puts the keyboard on the field whose [`FieldRef::id`] is `id`.
    fn focus_on(&mut self, id: FieldId) {
        if let Some(i) = self.fields().iter().position(|f| f.id() == id) {
            self.state_mut().focus = i;
        }
    }
}

/// Names a field of a dialog for [`Fields::focus_on`]: its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldId(*const ());

/// Text typed in a field, and what it was when the dialog opened.
#[derive(Debug, Clone)]
struct Editor {
    area: TextArea<'static>,
    initial: String,
}

impl Editor {
    fn new(value: &str) -> Editor {
        Editor {
            area: area_with(value),
            initial: value.to_string(),
        }
    }

    fn text(&self) -> String {
        self.area.lines().join("\n")
    }
}

/// A text area holding `value`, the cursor at its end.
fn area_with(value: &str) -> TextArea<'static> {
    let mut lines: Vec<String> = value.lines().map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let mut t = TextArea::new(lines);
    t.move_cursor(CursorMove::Bottom);
    t.move_cursor(CursorMove::End);
    t
}

/// One line of text; a path field completes file names with Tab.
#[derive(Debug, Clone)]
pub struct LineField {
    pub label: &'static str,
    editor: Editor,
    paths: bool,
    /// What the last completion found, when there was more than one.
    candidates: Vec<String>,
}

impl LineField {
    pub fn new(label: &'static str, value: &str) -> LineField {
        LineField {
            label,
            editor: Editor::new(value),
            paths: false,
            candidates: Vec::new(),
        }
    }

    /// A field for a file or folder: Tab completes instead of moving on.
    pub fn path(label: &'static str, value: &str) -> LineField {
        LineField {
            paths: true,
            ..LineField::new(label, value)
        }
    }

    pub fn text(&self) -> String {
        self.editor.text()
    }

    /// The text without surrounding blanks, `None` when that is empty.
    pub fn trimmed(&self) -> Option<String> {
        Some(self.text().trim().to_string()).filter(|s| !s.is_empty())
    }

    pub fn area(&self) -> &TextArea<'static> {
        &self.editor.area
    }

    /// Replaces the text; the cursor goes to its end.
    pub fn set_text(&mut self, value: &str) {
        self.editor.area = area_with(value);
        self.candidates.clear();
    }

    /// Whether the text differs from what the dialog opened with.
    pub fn changed(&self) -> bool {
        self.text() != self.editor.initial
    }

    /// Takes the text as it is now for the one the dialog opened with: for
    /// text the dialog itself changed, which is not the user's draft.
    pub fn settle(&mut self) {
        self.editor.initial = self.text();
    }

    pub fn completes_paths(&self) -> bool {
        self.paths
    }

    /// The completions offered by the last Tab, when it found several.
    pub fn candidates(&self) -> &[String] {
        &self.candidates
    }

    /// Completes the path typed so far; true when the text changed.
    pub fn complete_path(&mut self) -> bool {
        let typed = self.text();
        let found = complete_path(&typed);
        let changed = found.text != typed;
        if changed {
            self.set_text(&found.text);
        }
        self.candidates = if found.candidates.len() > 1 {
            found.candidates
        } else {
            Vec::new()
        };
        changed
    }

    pub fn id(&self) -> FieldId {
        FieldId(std::ptr::from_ref(self).cast())
    }

    fn input(&mut self, k: KeyEvent) -> bool {
        let changed = self.editor.area.input(k);
        if changed {
            self.candidates.clear();
        }
        changed
    }
}

/// Several lines of text.
#[derive(Debug, Clone)]
pub struct TextField {
    pub label: &'static str,
    editor: Editor,
}

impl TextField {
    pub fn new(label: &'static str, value: &str) -> TextField {
        TextField {
            label,
            editor: Editor::new(value),
        }
    }

    /// The lines, joined by newlines.
    pub fn text(&self) -> String {
        self.editor.text()
    }

    pub fn area(&self) -> &TextArea<'static> {
        &self.editor.area
    }

    pub fn set_text(&mut self, value: &str) {
        self.editor.area = area_with(value);
    }

    /// Whether the text differs from what the dialog opened with.
    pub fn changed(&self) -> bool {
        self.text() != self.editor.initial
    }

    pub fn id(&self) -> FieldId {
        FieldId(std::ptr::from_ref(self).cast())
    }
}

/// One of several options, changed with left/right or space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceField {
    pub label: &'static str,
    options: Vec<&'static str>,
    index: usize,
}

impl ChoiceField {
    pub fn new(label: &'static str, options: Vec<&'static str>) -> ChoiceField {
        ChoiceField {
            label,
            options,
            index: 0,
        }
    }

    pub fn index(&self) -> usize {
        self.index
    }

    /// The option chosen.
    pub fn selected(&self) -> &'static str {
        self.options.get(self.index).copied().unwrap_or_default()
    }

    pub fn options(&self) -> &[&'static str] {
        &self.options
    }

    fn step(&mut self, forward: bool) {
        let n = self.options.len().max(1);
        self.index = if forward {
            (self.index + 1) % n
        } else {
            (self.index + n - 1) % n
        };
    }

    pub fn id(&self) -> FieldId {
        FieldId(std::ptr::from_ref(self).cast())
    }
}

/// On or off, changed with space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckField {
    pub label: &'static str,
    pub on: bool,
}

impl CheckField {
    pub fn new(label: &'static str, on: bool) -> CheckField {
        CheckField { label, on }
    }

    pub fn id(&self) -> FieldId {
        FieldId(std::ptr::from_ref(self).cast())
    }
}

/// A field of a dialog, to read or draw.
#[derive(Debug, Clone, Copy)]
pub enum FieldRef<'a> {
    Line(&'a LineField),
    Text(&'a TextField),
    Choice(&'a ChoiceField),
    Check(&'a CheckField),
}

/// A field of a dialog, to change.
pub enum FieldMut<'a> {
    Line(&'a mut LineField),
    Text(&'a mut TextField),
    Choice(&'a mut ChoiceField),
    Check(&'a mut CheckField),
}

impl FieldRef<'_> {
    pub fn label(&self) -> &'static str {
        match self {
            FieldRef::Line(f) => f.label,
            FieldRef::Text(f) => f.label,
            FieldRef::Choice(f) => f.label,
            FieldRef::Check(f) => f.label,
        }
    }

    pub fn id(&self) -> FieldId {
        match self {
            FieldRef::Line(f) => f.id(),
            FieldRef::Text(f) => f.id(),
            FieldRef::Choice(f) => f.id(),
            FieldRef::Check(f) => f.id(),
        }
    }

    /// Whether the user changed the text of this field.
    pub fn edited(&self) -> bool {
        match self {
            FieldRef::Line(f) => f.changed(),
            FieldRef::Text(f) => f.changed(),
            FieldRef::Choice(_) | FieldRef::Check(_) => false,
        }
    }
}

macro_rules! field_from {
    ($($ty:ident => $variant:ident),*) => {$(
        impl<'a> From<&'a $ty> for FieldRef<'a> {
            fn from(f: &'a $ty) -> Self {
                FieldRef::$variant(f)
            }
        }
        impl<'a> From<&'a mut $ty> for FieldMut<'a> {
            fn from(f: &'a mut $ty) -> Self {
                FieldMut::$variant(f)
            }
        }
    )*};
}

field_from!(LineField => Line, TextField => Text, ChoiceField => Choice, CheckField => Check);

/// What a key did to a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing for the app to do.
    Stay,
    /// A field's value changed (live previews follow).
    Changed,
    /// Esc: close the dialog.
    Cancel,
    /// Enter: act on the dialog.
    Submit,
}

/// The keys every dialog shares, applied to `form`.
pub fn key(form: &mut dyn Fields, k: KeyEvent) -> Outcome {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let focus = form.state().focus;
    let mut fields = form.fields_mut();
    let n = fields.len();
    let (moved, outcome) = match (k.code, fields.get_mut(focus)) {
        (KeyCode::Esc, _) => (None, Outcome::Cancel),
        (KeyCode::Char('s'), _) if ctrl => (None, Outcome::Submit),
        (KeyCode::Tab, Some(FieldMut::Line(l))) if l.completes_paths() => {
            (None, changed(l.complete_path()))
        }
        (KeyCode::Tab, Some(_)) => (Some((focus + 1) % n), Outcome::Stay),
        (KeyCode::BackTab, Some(_)) => (Some((focus + n - 1) % n), Outcome::Stay),
        (KeyCode::Char('u'), Some(FieldMut::Line(l))) if ctrl => {
            l.set_text("");
            (None, Outcome::Changed)
        }
        (KeyCode::Char('u'), Some(FieldMut::Text(t))) if ctrl => {
            t.set_text("");
            (None, Outcome::Changed)
        }
        (KeyCode::Enter, None) => (None, Outcome::Submit),
        (_, None) => (None, Outcome::Stay),
        (_, Some(field)) => match arrow(field, k.code) {
            Some(up) if up => (Some(focus.saturating_sub(1)), Outcome::Stay),
            Some(_) => (Some((focus + 1).min(n - 1)), Outcome::Stay),
            None => (None, field_key(field, k)),
        },
    };
    drop(fields);
    if let Some(i) = moved {
        form.state_mut().focus = i;
    }
    outcome
}

/// `Some(true)` for a key that moves to the field above, `Some(false)` below.
/// Arrows move between fields, and so do j/k where they type nothing; a text
/// area keeps its arrows.
fn arrow(field: &FieldMut<'_>, code: KeyCode) -> Option<bool> {
    let (up, down) = match field {
        FieldMut::Text(_) => (false, false),
        FieldMut::Line(_) => (code == KeyCode::Up, code == KeyCode::Down),
        FieldMut::Choice(_) | FieldMut::Check(_) => (
            matches!(code, KeyCode::Up | KeyCode::Char('k')),
            matches!(code, KeyCode::Down | KeyCode::Char('j')),
        ),
    };
    (up || down).then_some(up)
}

fn field_key(field: &mut FieldMut<'_>, k: KeyEvent) -> Outcome {
    match field {
        FieldMut::Line(_) | FieldMut::Choice(_) | FieldMut::Check(_)
            if k.code == KeyCode::Enter =>
        {
            Outcome::Submit
        }
        FieldMut::Line(l) => changed(l.input(k)),
        FieldMut::Text(t) => changed(t.editor.area.input(k)),
        FieldMut::Choice(c) => match k.code {
            KeyCode::Left | KeyCode::Char('h') => {
                c.step(false);
                Outcome::Changed
            }
            KeyCode::Right | KeyCode::Char('l' | ' ') => {
                c.step(true);
                Outcome::Changed
            }
            _ => Outcome::Stay,
        },
        FieldMut::Check(c) => match k.code {
            KeyCode::Char(' ' | 'x') => {
                c.on = !c.on;
                Outcome::Changed
            }
            _ => Outcome::Stay,
        },
    }
}

fn changed(yes: bool) -> Outcome {
    if yes { Outcome::Changed } else { Outcome::Stay }
}
