//! Drawing: pure functions from the app's state to a frame. Only what is
//! visible is built: the list and the history are windows over the store.

mod dialog;
mod main_panes;
mod screens;

pub use main_panes::thousands;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};

use super::action::Action;
use super::app::{App, Screen};
use super::layout::{Pane, areas};
use super::theme::Theme;

/// Draws the whole screen.
pub fn draw(f: &mut Frame<'_>, app: &App, theme: &Theme) {
    let area = f.area();
    let a = areas(area.width, area.height, app.focus);
    // Every full screen sits above the status bar.
    let body = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    match app.screen {
        Screen::Main if app.welcome() => screens::welcome(f, app, theme, body),
        Screen::Main => main_panes::draw(f, app, theme, &a),
        Screen::Search => screens::search(f, app, theme, body),
        Screen::Stats => screens::stats(f, app, theme, body),
        Screen::Help => screens::help(f, app, theme, body),
    }
    match &app.prompt {
        Some(p) => prompt(f, p, theme, a.status),
        None => status(f, app, theme, a.status),
    }
    if let Some(d) = &app.dialog {
        dialog::draw(f, d, theme);
    }
    if let Some(text) = &app.popup {
        popup(f, text, theme);
    }
}

/// The `:` command line on the status row, its completions above it.
fn prompt(f: &mut Frame<'_>, p: &crate::tui::cmdline::Prompt, theme: &Theme, area: Rect) {
    let mut spans = vec![
        Span::styled(":", theme.accent),
        Span::raw(crate::sanitize::clean(&p.input)),
        Span::styled("▏", theme.accent),
    ];
    if let Some(e) = &p.error {
        spans.push(Span::styled(
            format!("  {}", crate::sanitize::clean(e)),
            theme.error,
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
    if p.completions.len() > 1 && area.y > 0 {
        let above = Rect {
            y: area.y - 1,
            height: 1,
            ..area
        };
        let spans: Vec<Span<'_>> = p
            .completions
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let word = c.rsplit(' ').find(|w| !w.is_empty()).unwrap_or(c);
                let style = if p.completion == Some(i) {
                    theme.selected
                } else {
                    theme.dim
                };
                Span::styled(format!(" {} ", crate::sanitize::clean(word)), style)
            })
            .collect();
        f.render_widget(ratatui::widgets::Clear, above);
        f.render_widget(Paragraph::new(Line::from(spans)), above);
    }
}

/// A message too long for the status bar, whole, over the panes.
fn popup(f: &mut Frame<'_>, text: &str, theme: &Theme) {
    let area = f.area();
    let w = area.width.saturating_sub(4).clamp(10, 90);
    let inner_w = usize::from(w.saturating_sub(2)).max(1);
    let lines: Vec<Line<'_>> = crate::sanitize::clean_with(text, true)
        .lines()
        .flat_map(|l| super::text::wrap(l, inner_w))
        .map(Line::raw)
        .collect();
    let room = area.height.saturating_sub(2).max(3);
    let h = (u16::try_from(lines.len()).unwrap_or(room) + 2).min(room);
    let r = Rect {
        x: (area.width.saturating_sub(w)) / 2,
        y: (area.height.saturating_sub(h)) / 2,
        width: w.min(area.width),
        height: h,
    };
    f.render_widget(ratatui::widgets::Clear, r);
    let b = block(
        Line::styled(" message · any key closes ", theme.title),
        true,
        theme,
    );
    f.render_widget(Paragraph::new(lines).block(b), r);
}

/// A bordered block with a title, highlighted when it has the focus.
pub(super) fn block<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            theme.focus_border
        } else {
            theme.border
        })
        .title(title)
}

fn status(f: &mut Frame<'_>, app: &App, theme: &Theme, area: Rect) {
    let key = |a: Action| {
        app.keymap
            .keys_for(a)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    let hints: Vec<(String, &str)> = if let Some(d) = &app.dialog {
        d.hints()
            .into_iter()
            .map(|(k, what)| (k.to_string(), what))
            .collect()
    } else if app.screen == Screen::Main && app.welcome() {
        vec![
            (key(Action::Import), "import"),
            (key(Action::NewSession), "new session"),
            (key(Action::Help), "help"),
            (key(Action::Quit), "quit"),
        ]
    } else if app.list.filtering {
        vec![
            ("esc".into(), "clear"),
            ("enter".into(), "keep"),
            (String::new(), "tag:x key=v source:x older:30d"),
        ]
    } else {
        match app.screen {
            Screen::Search => vec![
                ("esc".into(), "back"),
                ("↑↓".into(), "move"),
                ("enter".into(), "open"),
                ("ctrl-a".into(), "archived"),
            ],
            Screen::Stats | Screen::Help => vec![("esc".into(), "back"), ("j/k".into(), "scroll")],
            Screen::Main => match app.focus {
                Pane::History => vec![
                    (format!("{}/{}", key(Action::Down), key(Action::Up)), "move"),
                    (key(Action::Expand), "expand"),
                    (key(Action::Branch), "branch"),
                    (key(Action::Copy), "copy"),
                    (key(Action::Search), "search"),
                    (key(Action::Help), "help"),
                ],
                _ => vec![
                    (format!("{}/{}", key(Action::Down), key(Action::Up)), "move"),
                    (key(Action::Search), "search"),
                    (key(Action::Filter), "filter"),
                    (key(Action::Mark), "mark"),
                    (key(Action::Merge), "merge"),
                    (key(Action::Cleanup), "cleanup"),
                    (key(Action::Help), "help"),
                    (key(Action::Quit), "quit"),
                ],
            },
        }
    };
    // The last action's result comes first: at 80 columns the hints give way.
    let mut spans: Vec<Span<'_>> = Vec::new();
    if !app.status.message.is_empty() {
        let style = if app.status.error {
            theme.error
        } else {
            theme.title
        };
        spans.push(Span::styled(
            format!(" {} ", crate::sanitize::clean(&app.status.message)),
            style,
        ));
        spans.push(Span::styled("│", theme.dim));
    }
    for (k, what) in hints {
        if !k.is_empty() {
            spans.push(Span::styled(format!(" {k}"), theme.accent));
        }
        spans.push(Span::raw(format!(" {what} ")));
    }
    let mut right = String::new();
    if let Some((label, done, total)) = &app.status.job {
        let pct = if *total == 0 { 0 } else { done * 100 / total };
        right = format!(" [{label} {pct}%] ");
    }
    let right_w = u16::try_from(unicode_width::UnicodeWidthStr::width(right.as_str())).unwrap_or(0);
    let left = Rect {
        width: area.width.saturating_sub(right_w),
        ..area
    };
    f.render_widget(Paragraph::new(Line::from(spans)).style(Style::new()), left);
    if right_w > 0 && area.width > right_w {
        let r = Rect {
            x: area.x + area.width - right_w,
            width: right_w,
            ..area
        };
        f.render_widget(Paragraph::new(Span::styled(right, theme.accent)), r);
    }
}
