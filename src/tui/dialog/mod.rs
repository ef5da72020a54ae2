//! Modal dialogs, all built on one [`Form`]: labelled fields (one-line text,
//! multi-line text, a choice, a check box), an information block above them,
//! and an error line. Esc cancels, Tab moves between fields, Enter confirms
//! (Ctrl-S in a multi-line field, where Enter starts a new line). What a form
//! does when confirmed is its [`Purpose`], read by `App::update`.

mod open;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use crate::domain::{CleanupAction, CleanupPlan, MergeOrder, Role, SessionId};
use crate::tui::command::Mutation;

/// What a confirmed form does.
#[derive(Debug, Clone)]
pub enum Purpose {
    Rename {
        id: SessionId,
    },
    Retitle {
        id: SessionId,
    },
    /// A yes/no question that carries the change to make on yes.
    Confirm {
        mutation: Box<Mutation>,
    },
    Branch {
        id: SessionId,
        at: u64,
    },
    NewSession,
    Tags {
        id: SessionId,
        current: Vec<String>,
        known: Vec<String>,
    },
    Metadata {
        id: SessionId,
    },
    Compose {
        id: SessionId,
    },
    Merge {
        ids: Vec<SessionId>,
        preview: Option<usize>,
    },
    Cleanup {
        plan: Option<CleanupPlan>,
    },
    Export {
        ids: Vec<SessionId>,
    },
    Import,
}

/// The kinds of fields.
pub enum Input {
    /// One line of text.
    Line(TextArea<'static>),
    /// Several lines of text.
    Text(TextArea<'static>),
    /// One of several options, changed with left/right or space.
    Choice { options: Vec<String>, index: usize },
    /// On or off, changed with space.
    Check(bool),
}

/// A labelled field.
pub struct Field {
    pub label: String,
    pub input: Input,
}

/// A modal form.
pub struct Form {
    pub title: String,
    pub info: Vec<String>,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
    pub purpose: Purpose,
    /// The mutation (by its count) whose answer the form waits for; it
    /// closes on success and shows the error otherwise.
    pub waiting: Option<u64>,
}

/// What a key did to a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing for the app to do.
    Stay,
    /// A field's value changed (live previews follow).
    Changed,
    /// Esc: close the form.
    Cancel,
    /// Enter: act on the form.
    Submit,
}

impl Form {
    pub fn new(title: impl Into<String>, purpose: Purpose) -> Form {
        Form {
            title: title.into(),
            info: Vec::new(),
            fields: Vec::new(),
            focus: 0,
            error: None,
            purpose,
            waiting: None,
        }
    }

    /// A yes/no question; yes makes `mutation`.
    pub fn confirm(title: impl Into<String>, info: Vec<String>, mutation: Mutation) -> Form {
        Form::new(
            title,
            Purpose::Confirm {
                mutation: Box::new(mutation),
            },
        )
        .info(info)
    }

    /// Puts the keyboard on field `i` (where the user types first).
    #[must_use]
    pub fn focus_on(mut self, i: usize) -> Form {
        self.focus = i.min(self.fields.len().saturating_sub(1));
        self
    }

    #[must_use]
    pub fn line(mut self, label: &str, value: &str) -> Form {
        let mut t = TextArea::new(vec![value.to_string()]);
        t.move_cursor(ratatui_textarea::CursorMove::End);
        self.fields.push(Field {
            label: label.into(),
            input: Input::Line(t),
        });
        self
    }

    #[must_use]
    pub fn text(mut self, label: &str, value: &str) -> Form {
        let lines: Vec<String> = if value.is_empty() {
            vec![String::new()]
        } else {
            value.lines().map(String::from).collect()
        };
        let mut t = TextArea::new(lines);
        t.move_cursor(ratatui_textarea::CursorMove::Bottom);
        t.move_cursor(ratatui_textarea::CursorMove::End);
        self.fields.push(Field {
            label: label.into(),
            input: Input::Text(t),
        });
        self
    }

    #[must_use]
    pub fn choice(mut self, label: &str, options: &[&str], index: usize) -> Form {
        self.fields.push(Field {
            label: label.into(),
            input: Input::Choice {
                options: options.iter().map(|s| (*s).to_string()).collect(),
                index,
            },
        });
        self
    }

    #[must_use]
    pub fn check(mut self, label: &str, on: bool) -> Form {
        self.fields.push(Field {
            label: label.into(),
            input: Input::Check(on),
        });
        self
    }

    #[must_use]
    pub fn info(mut self, lines: Vec<String>) -> Form {
        self.info = lines;
        self
    }

    /// The text of field `i` (all lines joined by newlines), or "".
    pub fn value(&self, i: usize) -> String {
        match self.fields.get(i).map(|f| &f.input) {
            Some(Input::Line(t) | Input::Text(t)) => t.lines().join("\n"),
            Some(Input::Choice { options, index }) => {
                options.get(*index).cloned().unwrap_or_default()
            }
            Some(Input::Check(on)) => {
                if *on {
                    "yes".into()
                } else {
                    String::new()
                }
            }
            None => String::new(),
        }
    }

    /// The selected option of field `i`.
    pub fn choice_index(&self, i: usize) -> usize {
        match self.fields.get(i).map(|f| &f.input) {
            Some(Input::Choice { index, .. }) => *index,
            _ => 0,
        }
    }

    /// Whether check box `i` is on.
    pub fn checked(&self, i: usize) -> bool {
        matches!(
            self.fields.get(i).map(|f| &f.input),
            Some(Input::Check(true))
        )
    }

    /// Replaces the text of field `i`.
    pub fn set_value(&mut self, i: usize, value: &str) {
        if let Some(Field {
            input: Input::Line(t) | Input::Text(t),
            ..
        }) = self.fields.get_mut(i)
        {
            *t = TextArea::new(
                value
                    .lines()
                    .map(String::from)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .chain(value.is_empty().then(String::new))
                    .collect(),
            );
            t.move_cursor(ratatui_textarea::CursorMove::Bottom);
            t.move_cursor(ratatui_textarea::CursorMove::End);
        }
    }

    /// Handles a key.
    pub fn key(&mut self, k: KeyEvent) -> Outcome {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Esc => return Outcome::Cancel,
            KeyCode::Tab if !self.fields.is_empty() => {
                self.focus = (self.focus + 1) % self.fields.len();
                return Outcome::Stay;
            }
            KeyCode::BackTab if !self.fields.is_empty() => {
                self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
                return Outcome::Stay;
            }
            KeyCode::Char('s') if ctrl => return Outcome::Submit,
            KeyCode::Char('u') if ctrl => {
                // Clears the field, as in a shell.
                if let Some(Field {
                    input: Input::Line(_) | Input::Text(_),
                    ..
                }) = self.fields.get(self.focus)
                {
                    self.set_value(self.focus, "");
                    return Outcome::Changed;
                }
            }
            _ => {}
        }
        let Some(field) = self.fields.get_mut(self.focus) else {
            return if k.code == KeyCode::Enter {
                Outcome::Submit
            } else {
                Outcome::Stay
            };
        };
        // Arrows move between fields, and so do j/k where they type nothing;
        // a text area keeps its arrows.
        let (up, down) = match field.input {
            Input::Text(_) => (false, false),
            Input::Line(_) => (k.code == KeyCode::Up, k.code == KeyCode::Down),
            Input::Choice { .. } | Input::Check(_) => (
                matches!(k.code, KeyCode::Up | KeyCode::Char('k')),
                matches!(k.code, KeyCode::Down | KeyCode::Char('j')),
            ),
        };
        if up || down {
            self.focus = if up {
                self.focus.saturating_sub(1)
            } else {
                (self.focus + 1).min(self.fields.len() - 1)
            };
            return Outcome::Stay;
        }
        match &mut field.input {
            Input::Line(t) => match k.code {
                KeyCode::Enter => Outcome::Submit,
                _ => {
                    if t.input(k) {
                        Outcome::Changed
                    } else {
                        Outcome::Stay
                    }
                }
            },
            Input::Text(t) => {
                if t.input(k) {
                    Outcome::Changed
                } else {
                    Outcome::Stay
                }
            }
            Input::Choice { options, index } => match k.code {
                KeyCode::Enter => Outcome::Submit,
                KeyCode::Left | KeyCode::Char('h') => {
                    *index = (*index + options.len() - 1) % options.len().max(1);
                    Outcome::Changed
                }
                KeyCode::Right | KeyCode::Char('l' | ' ') => {
                    *index = (*index + 1) % options.len().max(1);
                    Outcome::Changed
                }
                _ => Outcome::Stay,
            },
            Input::Check(on) => match k.code {
                KeyCode::Enter => Outcome::Submit,
                KeyCode::Char(' ' | 'x') => {
                    *on = !*on;
                    Outcome::Changed
                }
                _ => Outcome::Stay,
            },
        }
    }
}

/// The roles offered by the compose dialog, in order.
pub const COMPOSE_ROLES: [Role; 4] = [Role::User, Role::Assistant, Role::System, Role::Tool];

/// The actions offered by the cleanup dialog, in order.
pub const CLEANUP_ACTIONS: [CleanupAction; 3] = [
    CleanupAction::Archive,
    CleanupAction::Trash,
    CleanupAction::Purge,
];

/// Merge orders offered by the merge dialog, in order.
pub const MERGE_ORDERS: [MergeOrder; 2] = [MergeOrder::Time, MergeOrder::Given];

/// Parses the metadata dialog's `key = value` lines. Values are JSON when
/// they parse as JSON (numbers, true, "quoted"), else text. Blank lines and
/// lines starting with `#` are skipped. Errors name the line.
pub fn parse_metadata(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut map = serde_json::Map::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!(
                "line {}: expected `key = value`, found {line:?}",
                i + 1
            ));
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(format!("line {}: the key is empty", i + 1));
        }
        let value =
            serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
        map.insert(k.to_string(), value);
    }
    Ok(map)
}

/// Renders metadata as the dialog's `key = value` lines.
pub fn metadata_lines(m: &serde_json::Map<String, serde_json::Value>) -> String {
    m.iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s)
                if serde_json::from_str::<serde_json::Value>(s).is_err() =>
            {
                format!("{k} = {s}")
            }
            other => format!("{k} = {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_lines_round_trip_and_errors_name_the_line() {
        let m =
            parse_metadata("topic = rust\npriority = 2\n# note\n\nbillable = true\nquoted = \"2\"")
                .expect("parses");
        assert_eq!(m["topic"], "rust");
        assert_eq!(m["priority"], 2);
        assert_eq!(m["billable"], true);
        assert_eq!(m["quoted"], "2");
        assert_eq!(parse_metadata(&metadata_lines(&m)).expect("round trip"), m);
        assert_eq!(
            parse_metadata("a = 1\nnonsense").expect_err("bad line"),
            "line 2: expected `key = value`, found \"nonsense\""
        );
        assert!(
            parse_metadata(" = 3")
                .expect_err("empty key")
                .starts_with("line 1")
        );
    }
}
