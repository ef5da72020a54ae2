//! Colours: the 16 named ANSI colours by default, so they follow the user's
//! palette; none at all with NO_COLOR, where selection is reverse video and
//! emphasis is bold or underline. Every colour can be set in `[ui.theme]`.

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

use crate::domain::Role;

/// Styles of everything the TUI draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub border: Style,
    pub focus_border: Style,
    pub title: Style,
    pub selected: Style,
    pub marked: Style,
    pub dim: Style,
    pub user: Style,
    pub assistant: Style,
    pub system: Style,
    pub tool: Style,
    pub code: Style,
    pub highlight: Style,
    pub error: Style,
    pub accent: Style,
}

/// Names usable in `[ui.theme]`.
pub const KEYS: &[&str] = &[
    "border",
    "focus",
    "title",
    "dim",
    "user",
    "assistant",
    "system",
    "tool",
    "code",
    "highlight",
    "error",
    "accent",
];

impl Theme {
    /// The default theme, or the plain one when `color` is false, with the
    /// config's colours applied. Returns warnings for unknown names or colours.
    pub fn new(color: bool, overrides: &BTreeMap<String, String>) -> (Theme, Vec<String>) {
        let fg = |c: Color| {
            if color {
                Style::new().fg(c)
            } else {
                Style::new()
            }
        };
        let mut t = Theme {
            color,
            border: fg(Color::DarkGray),
            focus_border: if color {
                Style::new().fg(Color::Cyan)
            } else {
                Style::new().add_modifier(Modifier::BOLD)
            },
            title: Style::new().add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            marked: if color {
                Style::new().fg(Color::Yellow)
            } else {
                Style::new().add_modifier(Modifier::UNDERLINED)
            },
            dim: if color {
                Style::new().fg(Color::DarkGray)
            } else {
                Style::new().add_modifier(Modifier::DIM)
            },
            user: fg(Color::Green).add_modifier(Modifier::BOLD),
            assistant: fg(Color::Blue).add_modifier(Modifier::BOLD),
            system: fg(Color::Magenta).add_modifier(Modifier::BOLD),
            tool: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            code: fg(Color::Cyan),
            highlight: if color {
                Style::new().fg(Color::Black).bg(Color::Yellow)
            } else {
                Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
            },
            error: fg(Color::Red).add_modifier(Modifier::BOLD),
            accent: fg(Color::Cyan),
        };
        let mut warnings = Vec::new();
        if !color {
            return (t, warnings);
        }
        for (k, v) in overrides {
            let Ok(c) = Color::from_str(v) else {
                warnings.push(format!("`ui.theme.{k}`: unknown colour {v:?} (ignored)"));
                continue;
            };
            let slot = match k.as_str() {
                "border" => &mut t.border,
                "focus" => &mut t.focus_border,
                "title" => &mut t.title,
                "dim" => &mut t.dim,
                "user" => &mut t.user,
                "assistant" => &mut t.assistant,
                "system" => &mut t.system,
                "tool" => &mut t.tool,
                "code" => &mut t.code,
                "highlight" => &mut t.highlight,
                "error" => &mut t.error,
                "accent" => &mut t.accent,
                _ => {
                    warnings.push(format!("unknown key `ui.theme.{k}` (ignored)"));
                    continue;
                }
            };
            *slot = slot.fg(c);
        }
        (t, warnings)
    }

    /// The style of a role's name.
    pub fn role(&self, r: Role) -> Style {
        match r {
            Role::User => self.user,
            Role::Assistant => self.assistant,
            Role::System => self.system,
            Role::Tool => self.tool,
        }
    }
}
