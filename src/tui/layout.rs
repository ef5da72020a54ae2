//! Where the panes go, from the terminal size alone. Shared by the views
//! (to draw) and `App::update` (to scroll and to map mouse clicks).

use ratatui::layout::{Constraint, Layout, Rect};

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    List,
    History,
    Meta,
}

/// The areas of the main screen. In a narrow terminal only the focused
/// pane is shown (`single`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub list: Option<Rect>,
    pub history: Option<Rect>,
    pub meta: Option<Rect>,
    pub status: Rect,
    pub single: bool,
}

/// Below this width (or height) the main screen shows one pane at a time.
pub const MIN_SPLIT_WIDTH: u16 = 80;
pub const MIN_SPLIT_HEIGHT: u16 = 16;

pub fn areas(width: u16, height: u16, focus: Pane) -> Areas {
    let full = Rect::new(0, 0, width, height);
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(full);
    if width < MIN_SPLIT_WIDTH || height < MIN_SPLIT_HEIGHT {
        let mut a = Areas {
            list: None,
            history: None,
            meta: None,
            status,
            single: true,
        };
        match focus {
            Pane::List => a.list = Some(body),
            Pane::History => a.history = Some(body),
            Pane::Meta => a.meta = Some(body),
        }
        return a;
    }
    let list_w = (width * 35 / 100).clamp(30, 60);
    let [list, right] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(20)]).areas(body);
    let meta_h = (body.height * 30 / 100).clamp(7, 16);
    let [history, meta] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(meta_h)]).areas(right);
    Areas {
        list: Some(list),
        history: Some(history),
        meta: Some(meta),
        status,
        single: false,
    }
}

/// Rows and columns inside a bordered pane.
pub fn inner(r: Rect) -> (usize, usize) {
    (
        usize::from(r.height.saturating_sub(2)),
        usize::from(r.width.saturating_sub(2)),
    )
}
