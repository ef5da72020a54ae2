//! The session list: a window of rows over the store, its selection, the
//! filter box and the sort. The list and the history pane show one session:
//! every change here ends in [`App::sync_shown`], which opens the selected
//! row, or clears the panes when the list is empty.

use std::collections::BTreeMap;

use jiff::Timestamp;
use ratatui::crossterm::event::{KeyEvent, KeyModifiers};

use super::action::Action;
use super::app::App;
use super::command::Command;
use super::keymap::Layer;
use super::layout::{Pane, areas, inner};
use crate::domain::{ListQuery, Session, SessionId, Sort, StateFilter, parse_before};

/// Rows of the session list fetched around the selection.
pub const LIST_WINDOW: u64 = 300;

/// The session list: a window of rows over the store.
#[derive(Debug, Clone, Default)]
pub struct ListView {
    pub query: ListQuery,
    pub filter: String,
    pub filtering: bool,
    pub generation: u64,
    pub loaded: bool,
    pub total: u64,
    pub offset: u64,
    pub rows: Vec<Session>,
    pub selected: u64,
    pub top: u64,
    pub marked: BTreeMap<SessionId, String>,
    /// The session shown is not the selected row (it was opened from a
    /// search hit or a lineage link and the list leaves it out): no row is
    /// highlighted until the selection moves.
    pub detached: bool,
    /// The generation of a request for a new query (filter, sort, view):
    /// until it arrives the rows belong to the old query.
    pub requery: Option<u64>,
    /// The session the request in flight locates.
    pub locating: Option<SessionId>,
    /// Moves made while a new query loads: they apply to its rows.
    pub early_moves: Vec<Action>,
}

impl ListView {
    pub fn row(&self, index: u64) -> Option<&Session> {
        index
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(usize::try_from(i).ok()?))
    }

    /// The selected row, when it is loaded.
    pub fn current(&self) -> Option<&Session> {
        self.row(self.selected)
    }

    /// The row drawn highlighted.
    pub fn highlighted(&self) -> Option<u64> {
        (!self.detached && self.total > 0).then_some(self.selected)
    }
}

/// Names of the list's views, as the title shows them.
pub fn state_name(s: StateFilter) -> &'static str {
    match s {
        StateFilter::Live => "sessions",
        StateFilter::Archived => "archived",
        StateFilter::Trashed => "trash",
        StateFilter::All => "everything",
    }
}

impl App {
    /// Asks for the list again around `around`, or around `locate` when that
    /// session is in it.
    pub fn reload_list_at(&mut self, around: u64, locate: Option<SessionId>) -> Command {
        self.list.generation += 1;
        self.list.locating = locate;
        Command::LoadList {
            generation: self.list.generation,
            query: self.list.query.clone(),
            offset: around.saturating_sub(LIST_WINDOW / 2),
            limit: LIST_WINDOW,
            locate,
        }
    }

    /// Asks for the list again, keeping the session shown selected when it
    /// is still in the list.
    pub fn reload_list(&mut self) -> Command {
        let shown = self.history.as_ref().map(|h| h.session.id);
        self.reload_list_at(self.list.selected, shown)
    }

    /// Asks for the list of a new query, from the top.
    pub fn requery(&mut self) -> Command {
        self.list.selected = 0;
        self.list.top = 0;
        self.list.detached = false;
        self.list.early_moves.clear();
        let c = self.reload_list_at(0, None);
        self.list.requery = Some(self.list.generation);
        c
    }

    pub(super) fn list_loaded(
        &mut self,
        generation: u64,
        total: u64,
        offset: u64,
        rows: Vec<Session>,
        located: Option<u64>,
    ) -> Vec<Command> {
        if generation != self.list.generation {
            return Vec::new();
        }
        let shown = self.history.as_ref().map(|h| h.session.id);
        if self.list.locating.is_some() && self.list.locating != shown {
            // Another session was opened while this window was on its way
            // (a key moved the selection): locate that one instead.
            return vec![self.reload_list()];
        }
        self.list.requery = None;
        self.list.loaded = true;
        self.list.total = total;
        self.list.offset = offset;
        self.list.rows = rows;
        // The session shown, when the list has it, is the selection; when
        // it does not, a detached list stays so (nothing highlighted) and an
        // attached one keeps its index, whose row sync_shown opens.
        if let Some(pos) = located {
            self.list.selected = pos;
            self.list.detached = false;
        }
        if total == 0 {
            self.list.selected = 0;
        } else if self.list.selected >= total {
            self.list.selected = total - 1;
        }
        let early = std::mem::take(&mut self.list.early_moves);
        if !early.is_empty() && total > 0 {
            let target = early
                .into_iter()
                .fold(self.list.selected, |at, a| self.move_target(a, at));
            return self.select_row(target);
        }
        self.keep_list_selection_visible();
        self.sync_shown()
    }

    /// Makes the history show the selected row (or nothing, for an empty
    /// list), unless the list is detached from what is shown.
    pub(super) fn sync_shown(&mut self) -> Vec<Command> {
        if self.list.detached || !self.list.loaded {
            return Vec::new();
        }
        if self.list.total == 0 {
            self.history = None;
            self.meta = None;
            return Vec::new();
        }
        let Some(row) = self.list.current().cloned() else {
            // The rows around the selection are on their way.
            return Vec::new();
        };
        if self
            .history
            .as_ref()
            .is_some_and(|h| h.session.id == row.id)
        {
            return Vec::new();
        }
        self.open_session(row, None)
    }

    pub(super) fn list_rows(&self) -> usize {
        let a = areas(self.width, self.height, Pane::List);
        a.list.map_or(10, |r| {
            inner(r).0.saturating_sub(usize::from(
                self.list.filtering || !self.list.filter.is_empty(),
            ))
        })
    }

    pub(super) fn keep_list_selection_visible(&mut self) {
        let rows = self.list_rows().max(1) as u64;
        if self.list.selected < self.list.top {
            self.list.top = self.list.selected;
        } else if self.list.selected >= self.list.top + rows {
            self.list.top = self.list.selected + 1 - rows;
        }
    }

    /// Moves the selection to `index` and shows that session.
    pub(super) fn select_row(&mut self, index: u64) -> Vec<Command> {
        let total = self.list.total;
        if total == 0 {
            return Vec::new();
        }
        self.list.selected = index.min(total - 1);
        self.list.detached = false;
        self.keep_list_selection_visible();
        let sel = self.list.selected;
        let end = self.list.offset + self.list.rows.len() as u64;
        if sel < self.list.offset || sel >= end {
            return vec![self.reload_list_at(sel, None)];
        }
        self.sync_shown()
    }

    pub(super) fn navigate_list(&mut self, a: Action) -> Vec<Command> {
        if self.list.requery.is_some() {
            // The rows of the new query are on their way: the move is
            // made on them.
            self.list.early_moves.push(a);
            return Vec::new();
        }
        if self.list.total == 0 {
            return Vec::new();
        }
        let target = self.move_target(a, self.list.selected);
        self.select_row(target)
    }

    /// Where a move from row `s` lands.
    fn move_target(&self, a: Action, s: u64) -> u64 {
        let total = self.list.total;
        if total == 0 {
            return 0;
        }
        let page = self.list_rows().max(2) as u64;
        match a {
            Action::Down => (s + 1).min(total - 1),
            Action::Up => s.saturating_sub(1),
            Action::Top => 0,
            Action::Bottom => total - 1,
            Action::HalfPageDown => (s + page / 2).min(total - 1),
            Action::HalfPageUp => s.saturating_sub(page / 2),
            Action::PageDown => (s + page).min(total - 1),
            _ => s.saturating_sub(page),
        }
    }

    pub(super) fn cycle_sort(&mut self) -> Vec<Command> {
        self.list.query.sort = match self.list.query.sort {
            Sort::Updated => Sort::Created,
            Sort::Created => Sort::Name,
            Sort::Name => Sort::Size,
            Sort::Size => Sort::Updated,
        };
        self.say(&format!("sorted by {}", sort_name(self.list.query.sort)));
        vec![self.requery()]
    }

    /// Shows the live sessions, the archived ones or the trash.
    pub(super) fn cycle_view(&mut self) -> Vec<Command> {
        self.list.query.state = match self.list.query.state {
            StateFilter::Live => StateFilter::Archived,
            StateFilter::Archived => StateFilter::Trashed,
            StateFilter::Trashed | StateFilter::All => StateFilter::Live,
        };
        self.list.marked.clear();
        self.say(match self.list.query.state {
            StateFilter::Archived => "archived sessions: U unarchives, D deletes for good",
            StateFilter::Trashed => "the trash: U restores, D deletes for good",
            _ => "live sessions",
        });
        vec![self.requery()]
    }

    pub(super) fn filter_key(&mut self, k: KeyEvent) -> Vec<Command> {
        use ratatui::crossterm::event::KeyCode;
        match self.keymap.lookup(&[Layer::Input], &k) {
            Some(Action::Cancel) => {
                self.list.filtering = false;
                self.list.filter.clear();
                return self.apply_filter();
            }
            Some(Action::Accept | Action::NextItem | Action::PrevItem) => {
                self.list.filtering = false;
                return Vec::new();
            }
            Some(Action::ClearInput) => {
                self.list.filter.clear();
                return self.apply_filter();
            }
            _ => {}
        }
        match k.code {
            KeyCode::Backspace => {
                self.list.filter.pop();
                self.apply_filter()
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.list.filter.push(c);
                self.apply_filter()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn apply_filter(&mut self) -> Vec<Command> {
        match parse_filter(&self.list.filter, self.now) {
            Ok(mut q) => {
                q.sort = self.list.query.sort;
                q.state = self.list.query.state;
                self.list.query = q;
                self.status.error = false;
                self.status.message.clear();
                vec![self.requery()]
            }
            Err(e) => {
                self.fail(&e);
                Vec::new()
            }
        }
    }

    /// Clears the filter (esc on the list).
    pub(super) fn clear_filter(&mut self) -> Vec<Command> {
        self.list.filter.clear();
        self.list.query = ListQuery {
            sort: self.list.query.sort,
            state: self.list.query.state,
            ..ListQuery::default()
        };
        vec![self.requery()]
    }
}

pub fn sort_name(s: Sort) -> &'static str {
    match s {
        Sort::Updated => "last update",
        Sort::Created => "creation",
        Sort::Name => "name",
        Sort::Size => "size",
    }
}

/// The list filter: `tag:x`, `source:x`, `older:30d`, `key=value`, and any
/// other words as a fuzzy match on the name (their letters in order).
pub fn parse_filter(text: &str, now: Timestamp) -> Result<ListQuery, String> {
    let mut q = ListQuery::default();
    let mut name = String::new();
    for word in text.split_whitespace() {
        if let Some(t) = word.strip_prefix("tag:") {
            q.tags.push(t.to_string());
        } else if let Some(s) = word.strip_prefix("source:") {
            q.source = Some(s.to_string());
        } else if let Some(s) = word.strip_prefix("older:") {
            q.updated_before = Some(parse_before(s, now).map_err(|e| e.to_string())?);
        } else if let Some((k, v)) = word.split_once('=') {
            q.metadata.push((k.to_string(), v.to_string()));
        } else {
            name.push_str(word);
        }
    }
    q.name_like = (!name.is_empty()).then_some(name);
    Ok(q)
}
