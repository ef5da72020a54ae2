//! The search screen: a query box searched as you type, the hits best
//! first, and opening a hit at its message with the session's other hits
//! to step through.

use jiff::Timestamp;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::app::{App, Screen};
use super::command::Command;
use super::keymap::Layer;
use super::layout::Pane;
use crate::domain::Session;
use crate::search::Hit;

/// The search screen.
#[derive(Debug, Clone, Default)]
pub struct SearchView {
    pub input: String,
    pub generation: u64,
    pub shown: u64,
    pub results: Vec<Hit>,
    pub selected: usize,
    pub error: Option<String>,
    pub archived: bool,
}

impl SearchView {
    pub(super) fn step(&mut self, forward: bool) {
        self.selected = if forward {
            (self.selected + 1).min(self.results.len().saturating_sub(1))
        } else {
            self.selected.saturating_sub(1)
        };
    }
}

impl App {
    pub(super) fn search_key(&mut self, k: KeyEvent) -> Vec<Command> {
        match self.keymap.lookup(&[Layer::Input], &k) {
            Some(Action::Cancel) => {
                self.screen = Screen::Main;
                return Vec::new();
            }
            Some(Action::Accept) => return self.open_hit(),
            Some(Action::NextItem) => {
                self.search.step(true);
                return Vec::new();
            }
            Some(Action::PrevItem) => {
                self.search.step(false);
                return Vec::new();
            }
            Some(Action::ToggleArchived) => {
                self.search.archived = !self.search.archived;
                self.say(if self.search.archived {
                    "searching archived sessions too"
                } else {
                    "archived sessions left out"
                });
                return self.run_search();
            }
            Some(Action::ClearInput) => {
                self.search.input.clear();
                return self.run_search();
            }
            _ => {}
        }
        match k.code {
            KeyCode::Backspace => {
                self.search.input.pop();
                self.run_search()
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.search.input.push(c);
                self.run_search()
            }
            _ => Vec::new(),
        }
    }

    fn open_hit(&mut self) -> Vec<Command> {
        let Some(hit) = self.search.results.get(self.search.selected).cloned() else {
            return Vec::new();
        };
        self.screen = Screen::Main;
        self.focus = Pane::History;
        let seq = hit.message.as_ref().map(|m| m.seq);
        let known = self
            .list
            .rows
            .iter()
            .find(|s| s.id == hit.session_id)
            .cloned()
            .unwrap_or_else(|| placeholder(&hit));
        let mut cmds = self.open_elsewhere(known, seq);
        if let Some(h) = self.history.as_mut() {
            h.terms = hit
                .highlights
                .iter()
                .filter_map(|&[a, b]| hit.snippet.get(a..b))
                .map(str::to_lowercase)
                .collect();
            h.hits = seq.into_iter().collect();
        }
        cmds.push(Command::SessionHits {
            id: hit.session_id,
            text: self.search.input.clone(),
        });
        cmds
    }

    pub(super) fn run_search(&mut self) -> Vec<Command> {
        self.search.generation += 1;
        if self.search.input.trim().is_empty() {
            self.search.results.clear();
            self.search.error = None;
            self.search.shown = self.search.generation;
            return Vec::new();
        }
        vec![Command::Search {
            generation: self.search.generation,
            text: self.search.input.clone(),
            archived: self.search.archived,
        }]
    }
}

/// What a hit tells of its session, until the session itself arrives.
fn placeholder(hit: &Hit) -> Session {
    Session {
        id: hit.session_id,
        uid: hit.session.uid.clone(),
        name: hit.session.name.clone(),
        title: hit.session.title.clone(),
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        message_count: 0,
        char_count: 0,
        tags: Vec::new(),
        metadata: serde_json::Map::new(),
        source: hit.session.source.clone(),
        source_ref: hit.session.source_ref.clone(),
        parent: None,
        fork_seq: None,
        archived: false,
        trashed: false,
        archived_at: None,
        trashed_at: None,
    }
}
