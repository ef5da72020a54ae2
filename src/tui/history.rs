//! The history pane: a window of one session's messages around a cursor.
//!
//! What is drawn comes only from the loaded window. Every move ends in
//! [`App::settle_history`], which puts the first drawn message (`top`) where
//! the loaded messages can fill the pane and asks for a new window when the
//! cursor's surroundings are not loaded. Each request carries a generation;
//! only the answer to the latest one is used, and an answer that does not
//! cover the cursor (the session changed meanwhile) asks again. So the pane
//! always ends up showing messages, whatever keys came in whatever order.

use std::collections::HashSet;

use super::action::Action;
use super::app::App;
use super::command::Command;
use super::event::HistoryPage;
use super::layout::{Pane, areas, inner};
use super::text;
use crate::domain::{Message, Session, SessionId};

/// Messages fetched around the history cursor.
pub const HISTORY_WINDOW: u64 = 300;

/// The history of one session: a window of messages and a cursor.
#[derive(Debug, Clone)]
pub struct HistoryView {
    /// The session as last loaded (or as the list or a link knew it).
    pub session: Session,
    /// Whether a page of this session has arrived yet.
    pub loaded: bool,
    pub first: u64,
    pub messages: Vec<Message>,
    pub cursor: u64,
    /// The first message drawn.
    pub top: u64,
    pub expanded: HashSet<u64>,
    pub hits: Vec<u64>,
    pub terms: Vec<String>,
    /// The generation and first seq of the page request in flight.
    pub pending: Option<(u64, u64)>,
    /// Why the last page could not be loaded.
    pub error: Option<String>,
    /// Moves made before the first page came, whose targets depend on the
    /// session's length: replayed when it is known.
    pub early_moves: Vec<Action>,
    /// Messages added to the session (a live session synced) since it was
    /// shown, below a cursor that was not at its end. With the cursor at the
    /// end, new messages are followed instead (as `tail -f` does).
    pub new_below: u64,
}

impl HistoryView {
    fn new(session: Session, cursor: u64) -> HistoryView {
        HistoryView {
            session,
            loaded: false,
            first: 0,
            messages: Vec::new(),
            cursor,
            top: cursor,
            expanded: HashSet::new(),
            hits: Vec::new(),
            terms: Vec::new(),
            pending: None,
            error: None,
            early_moves: Vec::new(),
            new_below: 0,
        }
    }

    pub fn message(&self, seq: u64) -> Option<&Message> {
        seq.checked_sub(self.first)
            .and_then(|i| self.messages.get(usize::try_from(i).ok()?))
    }

    fn end(&self) -> u64 {
        self.first + self.messages.len() as u64
    }

    /// Whether the message under the cursor and what follows it on screen
    /// are loaded.
    pub fn covers(&self, from: u64, to: u64) -> bool {
        self.loaded && from >= self.first && to <= self.end()
    }

    /// True while the pane waits for a page.
    pub fn loading(&self) -> bool {
        self.pending.is_some()
    }
}

impl App {
    /// Opens a session in the history pane at `seq` (or its first message).
    /// `session` is what the caller knows of it; the page that arrives
    /// brings it up to date.
    pub fn open_session(&mut self, session: Session, seq: Option<u64>) -> Vec<Command> {
        let id = session.id;
        let cursor = seq.unwrap_or(0);
        let same = match self.history.as_mut().filter(|h| h.session.id == id) {
            Some(h) => {
                h.cursor = cursor;
                h.top = cursor;
                h.hits.clear();
                h.terms.clear();
                h.early_moves.clear();
                true
            }
            None => {
                self.history = Some(HistoryView::new(session, cursor));
                false
            }
        };
        if self.meta.as_ref().is_some_and(|m| m.session.id != id) {
            self.meta = None;
            self.meta_cursor = 0;
            self.meta_top = 0;
        }
        // The session shown, opened again, is read again.
        let mut cmds = if same {
            self.request_page()
        } else {
            self.settle_history()
        };
        cmds.push(Command::LoadMeta { id });
        cmds
    }

    /// Opens a session that is not (or not yet) the list's selection: a
    /// search hit, a lineage link, a session just made. The list follows it.
    pub fn open_elsewhere(&mut self, session: Session, seq: Option<u64>) -> Vec<Command> {
        let id = session.id;
        self.list.detached = true;
        let mut cmds = self.open_session(session, seq);
        cmds.push(self.reload_list_at(self.list.selected, Some(id)));
        cmds
    }

    pub(super) fn history_loaded(
        &mut self,
        id: SessionId,
        generation: u64,
        page: Result<HistoryPage, String>,
    ) -> Vec<Command> {
        let Some(h) = self.history.as_mut().filter(|h| h.session.id == id) else {
            return Vec::new();
        };
        if h.pending.map(|(g, _)| g) != Some(generation) {
            // A newer request is in flight: its answer will do.
            return Vec::new();
        }
        h.pending = None;
        match page {
            Ok(page) => {
                let before = h.loaded.then_some(h.session.message_count);
                h.session = page.session;
                h.first = page.from;
                h.messages = page.messages;
                h.loaded = true;
                h.error = None;
                let count = h.session.message_count;
                let last = count.saturating_sub(1);
                match before {
                    // The session grew: followed from its end, else counted.
                    Some(b) if count > b && b > 0 && h.cursor + 1 >= b => h.cursor = last,
                    Some(b) if count > b => h.new_below += count - b,
                    _ => {}
                }
                h.cursor = h.cursor.min(last);
                h.top = h.top.min(h.cursor);
                if h.cursor == last {
                    h.new_below = 0;
                }
            }
            Err(e) => {
                h.error = Some(e.clone());
                self.fail(&e);
                return Vec::new();
            }
        }
        let early = std::mem::take(&mut h.early_moves);
        let mut cmds = Vec::new();
        for a in early {
            cmds.extend(self.navigate_history(a));
        }
        cmds.extend(self.settle_history());
        cmds
    }

    /// Moves the cursor to `target`; `top_at_target` puts that message at
    /// the top of the pane (a jump) instead of scrolling just enough.
    pub(super) fn jump_history(&mut self, target: u64, top_at_target: bool) -> Vec<Command> {
        let Some(h) = self.history.as_mut() else {
            return Vec::new();
        };
        let count = if h.loaded {
            h.session.message_count
        } else {
            u64::MAX
        };
        let target = target.min(count.saturating_sub(1));
        h.cursor = target;
        if target + 1 >= count {
            h.new_below = 0;
        }
        if top_at_target {
            h.top = target;
        }
        self.settle_history()
    }

    pub(super) fn navigate_history(&mut self, a: Action) -> Vec<Command> {
        let Some(h) = self.history.as_mut() else {
            return Vec::new();
        };
        if !h.loaded {
            // The session's length is not known yet: the move is made when
            // its first page comes.
            h.early_moves.push(a);
            return Vec::new();
        }
        let total = h.session.message_count;
        if total == 0 {
            return Vec::new();
        }
        // Messages take three rows or more: ten are about a screen.
        let page = 10;
        let c = h.cursor;
        let last = total - 1;
        match a {
            Action::Top => self.jump_history(0, true),
            Action::Bottom => self.jump_history(last, true),
            Action::Down => self.jump_history((c + 1).min(last), false),
            Action::Up => self.jump_history(c.saturating_sub(1), false),
            Action::HalfPageDown => self.jump_history(c.saturating_add(page / 2).min(last), false),
            Action::HalfPageUp => self.jump_history(c.saturating_sub(page / 2), false),
            Action::PageDown => self.jump_history(c.saturating_add(page).min(last), false),
            _ => self.jump_history(c.saturating_sub(page), false),
        }
    }

    pub(super) fn step_hit(&mut self, forward: bool) -> Vec<Command> {
        let Some(h) = &self.history else {
            return Vec::new();
        };
        let c = h.cursor;
        let next = if forward {
            h.hits.iter().find(|&&s| s > c).copied()
        } else {
            h.hits.iter().rev().find(|&&s| s < c).copied()
        };
        match next {
            Some(seq) => {
                let n = h.hits.iter().position(|&s| s == seq).unwrap_or(0) + 1;
                let total = h.hits.len();
                self.say(&format!("hit {n} of {total}"));
                self.jump_history(seq, false)
            }
            None => {
                self.say(if h.hits.is_empty() {
                    "no search hits in this session"
                } else {
                    "no more hits this way"
                });
                Vec::new()
            }
        }
    }

    /// Rows and columns of the history pane's text.
    pub fn history_size(&self) -> (usize, usize) {
        let a = areas(self.width, self.height, Pane::History);
        a.history.map_or((10, 40), inner)
    }

    /// Puts `top` where the loaded messages show the cursor and fill the
    /// pane, and asks for the window around the cursor when it is not
    /// loaded (unless that request is already in flight).
    pub(super) fn settle_history(&mut self) -> Vec<Command> {
        let (rows, cols) = self.history_size();
        let Some(h) = self.history.as_mut() else {
            return Vec::new();
        };
        place_top(h, rows, cols);
        let count = h.session.message_count;
        // The cursor, what is drawn above it, and a screen's worth after it.
        let from = h.top.min(h.cursor);
        let to = h.cursor.saturating_add(rows as u64).min(count);
        if h.loaded && (count == 0 || h.covers(from, to)) {
            return Vec::new();
        }
        if let Some((_, pending_from)) = h.pending
            && from >= pending_from
            && to <= pending_from.saturating_add(HISTORY_WINDOW)
        {
            return Vec::new();
        }
        self.request_page()
    }

    /// Asks for the window around the cursor; its answer supersedes any
    /// request in flight.
    fn request_page(&mut self) -> Vec<Command> {
        self.history_generation += 1;
        let generation = self.history_generation;
        let Some(h) = self.history.as_mut() else {
            return Vec::new();
        };
        let want = h.cursor.saturating_sub(HISTORY_WINDOW / 3);
        h.pending = Some((generation, want));
        vec![Command::LoadHistory {
            id: h.session.id,
            generation,
            from: want,
            limit: HISTORY_WINDOW,
        }]
    }

    /// Reads the page shown again (after a change to the session).
    /// What is shown stays on screen until the new page replaces it.
    pub(super) fn refresh_history(&mut self) -> Vec<Command> {
        let Some(id) = self.history.as_ref().map(|h| h.session.id) else {
            return Vec::new();
        };
        let mut cmds = self.request_page();
        cmds.push(Command::LoadMeta { id });
        cmds
    }
}

/// Chooses the first message drawn: the cursor's message must fit, every
/// message drawn must be loaded, and at the end of a session the pane is
/// filled from above rather than left half empty.
fn place_top(h: &mut HistoryView, rows: usize, cols: usize) {
    if h.top > h.cursor {
        h.top = h.cursor;
    }
    if h.message(h.cursor).is_none() {
        // Not loaded yet: the pane waits on the cursor's message.
        h.top = h.cursor;
        return;
    }
    if h.message(h.top).is_none() {
        h.top = h.cursor;
    }
    let height = |h: &HistoryView, seq: u64| {
        h.message(seq)
            .map_or(rows, |m| text::height(m, cols, h.expanded.contains(&seq)))
    };
    // Scroll down until the cursor's message fits (its header at least).
    let mut used: usize = (h.top..h.cursor).map(|s| height(h, s)).sum();
    while h.top < h.cursor && used + height(h, h.cursor).min(rows) > rows {
        used -= height(h, h.top);
        h.top += 1;
    }
    // Fill the pane from above when the messages below end early.
    let below: usize = (h.top..h.session.message_count.min(h.end()))
        .take(rows)
        .map(|s| height(h, s))
        .sum();
    let last_loaded = h.end() >= h.session.message_count;
    if last_loaded && below < rows {
        let mut free = rows - below;
        while h.top > h.first {
            let ht = height(h, h.top - 1);
            if ht > free {
                break;
            }
            free -= ht;
            h.top -= 1;
        }
    }
}
