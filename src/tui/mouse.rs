//! The mouse: the wheel scrolls the pane under the pointer, a click gives a
//! pane the keyboard and selects a row of the list.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::action::Action;
use super::app::{App, Screen};
use super::command::Command;
use super::layout::{Pane, areas};

impl App {
    pub(super) fn mouse_event(&mut self, m: MouseEvent) -> Vec<Command> {
        if self.dialog.is_some() || self.screen != Screen::Main {
            match m.kind {
                MouseEventKind::ScrollDown if self.screen == Screen::Search => {
                    self.search.step(true);
                }
                MouseEventKind::ScrollUp if self.screen == Screen::Search => {
                    self.search.step(false);
                }
                _ => {}
            }
            return Vec::new();
        }
        let a = areas(self.width, self.height, self.focus);
        let hit = |r: Option<ratatui::layout::Rect>| {
            r.is_some_and(|r| r.contains((m.column, m.row).into()))
        };
        let pane = if hit(a.list) {
            Pane::List
        } else if hit(a.history) {
            Pane::History
        } else if hit(a.meta) {
            Pane::Meta
        } else {
            return Vec::new();
        };
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                // The wheel scrolls the pane under the pointer and gives it the keyboard.
                self.focus = pane;
                self.navigate(if m.kind == MouseEventKind::ScrollDown {
                    Action::Down
                } else {
                    Action::Up
                })
            }
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                if pane == Pane::List
                    && let Some(r) = a.list
                {
                    let row = u64::from(m.row.saturating_sub(r.y + 1));
                    let index = self.list.top + row;
                    let in_rows =
                        m.row > r.y && usize::try_from(row).is_ok_and(|row| row < self.list_rows());
                    if index < self.list.total && in_rows {
                        return self.select_row(index);
                    }
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
