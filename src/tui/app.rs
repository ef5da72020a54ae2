//! The TUI's state and its one entry point, [`App::update`]: an event in,
//! the state changed, the side effects out as [`Command`]s. No I/O happens
//! here, so every behaviour can be tested without a terminal.
//!
//! One session is on screen: the history pane's. The list selection follows
//! it (see `list.rs`), and every session action reads it through
//! [`App::target`], which refuses, with a message, when nothing is shown or
//! the list is between two queries. The list, the history, the search screen,
//! the mouse, the command line and the dialogs live in their own files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;
use super::cmdline::Prompt;
use super::command::{Command, Mutation};
use super::details;
use super::dialog::Dialog;
use super::event::{Event, MetaInfo};
use super::history::HistoryView;
use super::keymap::{Keymap, Layer};
use super::layout::{Pane, areas, inner};
use super::list::ListView;
use super::search::SearchView;
use crate::domain::{Session, SessionId, StateFilter};
use crate::resume::ResumePlan;
use crate::store::StoreStats;

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Main,
    Search,
    Stats,
    Help,
}

/// What the status bar says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub message: String,
    pub error: bool,
    pub job: Option<(String, u64, u64)>,
}

/// The whole state of the TUI.
#[allow(clippy::struct_excessive_bools)] // independent switches (quit, demo, mouse, a sync running)
pub struct App {
    pub width: u16,
    pub height: u16,
    pub now: Timestamp,
    pub keymap: Keymap,
    pub screen: Screen,
    pub focus: Pane,
    pub list: ListView,
    pub history: Option<HistoryView>,
    /// Generation of the latest history page request.
    pub history_generation: u64,
    pub meta: Option<MetaInfo>,
    /// The details pane's cursor line and first line drawn.
    pub meta_cursor: usize,
    pub meta_top: usize,
    pub search: SearchView,
    pub stats: Option<(StoreStats, Vec<Session>)>,
    pub help_scroll: u16,
    pub dialog: Option<Dialog>,
    /// The `:` command line, while it is open.
    pub prompt: Option<Prompt>,
    pub status: Status,
    /// A status message too long for the status bar, shown whole in a popup.
    pub popup: Option<String>,
    pub last_trashed: Vec<SessionId>,
    pub mouse: bool,
    pub known_tags: Vec<String>,
    pub quit: bool,
    /// Session folders found on this machine, for the welcome screen.
    pub found_folders: Vec<(String, PathBuf)>,
    /// True for the in-memory demo store.
    pub demo: bool,
    /// A sync of the sources was asked for and has not finished.
    pub syncing: bool,
    /// The config's `[resume]` commands, source to command.
    pub resume_commands: BTreeMap<String, String>,
    /// Mutations asked for and answered (the store worker answers each, in
    /// order), so a dialog knows which answer is its own.
    pub mutations_sent: u64,
    pub mutations_answered: u64,
}

impl App {
    /// A new app of the given size; `commands` are its first loads.
    pub fn new(width: u16, height: u16, keymap: Keymap, now: Timestamp) -> (App, Vec<Command>) {
        let mut app = App {
            width,
            height,
            now,
            keymap,
            screen: Screen::Main,
            focus: Pane::List,
            list: ListView::default(),
            history: None,
            history_generation: 0,
            meta: None,
            meta_cursor: 0,
            meta_top: 0,
            search: SearchView::default(),
            stats: None,
            help_scroll: 0,
            dialog: None,
            prompt: None,
            status: Status::default(),
            popup: None,
            last_trashed: Vec::new(),
            mouse: true,
            known_tags: Vec::new(),
            quit: false,
            found_folders: Vec::new(),
            demo: false,
            syncing: false,
            resume_commands: crate::resume::DEFAULT_COMMANDS
                .iter()
                .map(|(s, c)| ((*s).to_string(), (*c).to_string()))
                .collect(),
            mutations_sent: 0,
            mutations_answered: 0,
        };
        let cmds = vec![app.reload_list_at(0, None), Command::LoadTags];
        (app, cmds)
    }

    /// True when the store is empty and no filter hides anything.
    pub fn welcome(&self) -> bool {
        self.list.loaded
            && self.list.total == 0
            && self.list.filter.is_empty()
            && self.list.query.state == StateFilter::Live
    }

    /// The session on screen (the history pane's), if any.
    pub fn shown(&self) -> Option<&Session> {
        self.history.as_ref().map(|h| &h.session)
    }

    /// The session a session action acts on: the one on screen. `None`, with
    /// the reason in the status bar, when nothing is shown or the list is
    /// between two queries (what it highlights is not settled yet).
    pub fn target(&mut self) -> Option<Session> {
        if self.list.requery.is_some() {
            self.fail("the list is loading: try again");
            return None;
        }
        let Some(shown) = self.shown().cloned() else {
            self.fail("no session selected");
            return None;
        };
        if !self.list.detached && self.list.current().is_none_or(|s| s.id != shown.id) {
            self.fail("the list is loading: try again");
            return None;
        }
        Some(shown)
    }

    /// A mutation, counted so that its answer can be matched.
    pub fn mutate(&mut self, m: Mutation) -> Command {
        self.mutations_sent += 1;
        Command::Mutate(m)
    }

    /// Handles one event.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.key(k),
            Event::Paste(text) => self.paste(&text),
            Event::Key(_) | Event::Barrier(_) => Vec::new(),
            Event::Mouse(m) => self.mouse_event(m),
            Event::Resize(w, h) => {
                self.width = w;
                self.height = h;
                self.keep_list_selection_visible();
                self.keep_meta_cursor_visible();
                self.settle_history()
            }
            Event::ListLoaded {
                generation,
                total,
                offset,
                rows,
                located,
            } => self.list_loaded(generation, total, offset, rows, located),
            Event::HistoryLoaded {
                id,
                generation,
                page,
            } => self.history_loaded(id, generation, page),
            Event::MetaLoaded(info) => {
                if self.shown().is_some_and(|s| s.id == info.session.id) {
                    let same = self
                        .meta
                        .as_ref()
                        .is_some_and(|m| m.session.id == info.session.id);
                    self.meta = Some(*info);
                    if !same {
                        self.meta_cursor = 0;
                        self.meta_top = 0;
                    }
                    self.keep_meta_cursor_visible();
                }
                Vec::new()
            }
            Event::SearchDone { generation, result } => {
                if generation == self.search.generation {
                    self.search.shown = generation;
                    match result {
                        Ok(hits) => {
                            self.search.results = hits;
                            self.search.error = None;
                            self.search.selected = 0;
                        }
                        Err(e) => self.search.error = Some(e),
                    }
                }
                Vec::new()
            }
            Event::SessionHits { id, seqs } => {
                if let Some(h) = self.history.as_mut().filter(|h| h.session.id == id) {
                    h.hits = seqs;
                }
                Vec::new()
            }
            Event::StatsLoaded(stats, largest) => {
                self.stats = Some((*stats, largest));
                Vec::new()
            }
            Event::TagsLoaded(tags) => {
                self.known_tags = tags;
                Vec::new()
            }
            Event::CleanupPreview(plan) => self.cleanup_previewed(plan),
            Event::MergePreview(count) => self.merge_previewed(count),
            Event::Done {
                message,
                select,
                trashed,
            } => self.done(message, select, trashed),
            Event::MutationFailed(message) => {
                self.mutations_answered += 1;
                let ticket = self.mutations_answered;
                if let Some(f) = self
                    .dialog
                    .as_mut()
                    .map(Dialog::state_mut)
                    .filter(|f| f.waiting == Some(ticket))
                {
                    f.waiting = None;
                    // The dialog shows two wrapped rows of its error; a
                    // longer one is also shown whole, over the dialog.
                    let row = usize::from(self.width.saturating_sub(4).clamp(20, 76)) - 2;
                    if unicode_width::UnicodeWidthStr::width(message.as_str()) > 2 * row {
                        self.popup = Some(message.clone());
                    }
                    f.error = Some(message);
                } else {
                    self.fail_async(&message);
                }
                // What the panes showed may have been changed ahead of the
                // answer (a trashed session hidden): read them again.
                let mut cmds = vec![self.reload_list()];
                cmds.extend(self.refresh_history());
                cmds
            }
            Event::Failed(message) => {
                self.fail_async(&message);
                Vec::new()
            }
            Event::Synced {
                message,
                error,
                quiet,
            } => {
                self.syncing = false;
                if error {
                    self.fail(&message);
                } else if !quiet {
                    self.say(&message);
                }
                Vec::new()
            }
            Event::Progress { label, done, total } => {
                self.status.job = (done < total).then_some((label, done, total));
                Vec::new()
            }
            Event::Copied(result) => {
                match result {
                    Ok(m) => self.say(&m),
                    Err(e) => self.fail(&e),
                }
                Vec::new()
            }
            Event::Edited {
                id,
                seq,
                before,
                after,
            } => self.edited(id, seq, before, after),
            Event::SessionText { what, text } => vec![Command::Copy { text, what }],
            Event::PagerFile(path) => vec![Command::Page { path }],
            Event::Found(session) => self.open_elsewhere(session, None),
            Event::ResumePlanned { name, plan } => self.resume_planned(&name, plan),
            Event::Resumed { shown, ended } => {
                match ended {
                    Ok(status) => {
                        let how = status
                            .code()
                            .map_or_else(|| status.to_string(), |c| format!("exit {c}"));
                        self.status = Status {
                            message: format!("back from {shown} ({how})"),
                            error: !status.success(),
                            job: None,
                        };
                    }
                    Err(why) => self.fail_async(&why),
                }
                Vec::new()
            }
            Event::ExportExists { path, ids, format } => self.export_exists(path, ids, format),
            Event::StoreChanged => {
                let mut cmds = vec![self.reload_list(), Command::LoadTags];
                cmds.extend(self.refresh_history());
                cmds
            }
        }
    }

    fn done(
        &mut self,
        message: String,
        select: Option<Session>,
        trashed: Vec<SessionId>,
    ) -> Vec<Command> {
        self.mutations_answered += 1;
        let ticket = self.mutations_answered;
        if self
            .dialog
            .as_ref()
            .is_some_and(|d| d.state().waiting == Some(ticket))
        {
            self.dialog = None;
        }
        self.status = Status {
            message,
            error: false,
            job: None,
        };
        if !trashed.is_empty() {
            self.last_trashed = trashed;
        }
        let mut cmds = vec![Command::LoadTags];
        match select {
            Some(session) => cmds.extend(self.open_elsewhere(session, None)),
            None => {
                cmds.push(self.reload_list());
                cmds.extend(self.refresh_history());
            }
        }
        cmds
    }

    fn edited(&mut self, id: SessionId, seq: u64, before: String, after: String) -> Vec<Command> {
        if before == after {
            self.say("the message is unchanged");
            return Vec::new();
        }
        let name = self
            .shown()
            .filter(|s| s.id == id)
            .map_or_else(|| format!("#{}", id.0), |s| s.name.clone());
        let lines = after.lines().count();
        self.dialog = Some(Dialog::confirm(
            "save the edited message?",
            vec![
                format!(
                    "message #{seq} of {}: {} → {} lines",
                    crate::sanitize::clean(&name),
                    before.lines().count(),
                    lines
                ),
                "y saves it (the search index follows), n throws the edit away".into(),
            ],
            Mutation::EditMessage {
                id,
                seq,
                expected: before,
                content: after,
            },
        ));
        Vec::new()
    }

    // ----- keys -----

    /// Pasted text goes into the one-line box that is open (search,
    /// filter, command line) as typed text, line breaks as spaces and other
    /// control characters dropped. Anywhere else it is ignored: a paste
    /// never acts as keys.
    fn paste(&mut self, text: &str) -> Vec<Command> {
        let boxed = self.dialog.is_none()
            && self.popup.is_none()
            && (self.prompt.is_some() || self.list.filtering || self.screen == Screen::Search);
        if !boxed {
            self.say(
                "pasted text ignored: paste into the search (/), filter (f) or command (:) box",
            );
            return Vec::new();
        }
        let mut cmds = Vec::new();
        for c in text.chars() {
            let c = match c {
                '\n' | '\r' | '\t' => ' ',
                c if c.is_control() => continue,
                c => c,
            };
            cmds.extend(self.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        cmds
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Command> {
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Vec::new();
        }
        if self.popup.is_some() {
            // Any key closes the popup.
            self.popup = None;
            return Vec::new();
        }
        if self.dialog.is_some() {
            return self.dialog_key(k);
        }
        if self.prompt.is_some() {
            return self.prompt_key(k);
        }
        if self.list.filtering {
            return self.filter_key(k);
        }
        match self.screen {
            Screen::Search => self.search_key(k),
            Screen::Help | Screen::Stats => {
                match self.keymap.lookup(&[Layer::Main, Layer::Global], &k) {
                    Some(Action::Down) => self.help_scroll = self.help_scroll.saturating_add(1),
                    Some(Action::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
                    Some(Action::Top) => self.help_scroll = 0,
                    Some(Action::Quit | Action::Back | Action::Help | Action::Stats) => {
                        self.screen = Screen::Main;
                    }
                    Some(Action::Search) => return self.act(Action::Search),
                    Some(Action::Suspend) => return vec![Command::Suspend],
                    _ => {}
                }
                Vec::new()
            }
            Screen::Main => {
                let pane = match self.focus {
                    Pane::List => Layer::List,
                    Pane::History => Layer::History,
                    Pane::Meta => Layer::Main,
                };
                match self.keymap.lookup(&[pane, Layer::Main, Layer::Global], &k) {
                    Some(a) => self.act(a),
                    None => Vec::new(),
                }
            }
        }
    }

    /// Carries out an action on the main screen.
    pub fn act(&mut self, a: Action) -> Vec<Command> {
        self.status.message.clear();
        self.status.error = false;
        match a {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => {
                self.screen = Screen::Help;
                self.help_scroll = 0;
                Vec::new()
            }
            Action::Stats => {
                self.screen = Screen::Stats;
                self.help_scroll = 0;
                vec![Command::LoadStats]
            }
            Action::Search => {
                self.screen = Screen::Search;
                Vec::new()
            }
            Action::NextPane | Action::PrevPane => {
                let order = [Pane::List, Pane::History, Pane::Meta];
                let i = order.iter().position(|p| *p == self.focus).unwrap_or(0);
                let step = if a == Action::NextPane { 1 } else { 2 };
                self.focus = order[(i + step) % 3];
                Vec::new()
            }
            Action::ToggleMouse => {
                self.mouse = !self.mouse;
                self.say(if self.mouse {
                    "mouse on"
                } else {
                    "mouse off: the terminal selects text"
                });
                vec![Command::SetMouse(self.mouse)]
            }
            Action::Suspend => vec![Command::Suspend],
            Action::CommandLine => {
                self.prompt = Some(Prompt::default());
                Vec::new()
            }
            Action::Back => {
                if self.syncing && self.status.job.is_some() {
                    self.say("cancelling the sync…");
                    return vec![Command::CancelSync];
                }
                if self.focus != Pane::List {
                    self.focus = Pane::List;
                } else if !self.list.filter.is_empty() {
                    return self.clear_filter();
                } else if self.list.query.state != StateFilter::Live {
                    self.list.query.state = StateFilter::Live;
                    self.say("live sessions");
                    return vec![self.requery()];
                }
                Vec::new()
            }
            Action::Down
            | Action::Up
            | Action::Top
            | Action::Bottom
            | Action::HalfPageDown
            | Action::HalfPageUp
            | Action::PageDown
            | Action::PageUp => self.navigate(a),
            Action::Open => match self.focus {
                Pane::List => {
                    let cmds = match self.list.current().cloned() {
                        Some(s) if self.shown().is_some_and(|h| h.id == s.id) => Vec::new(),
                        Some(s) => {
                            // The selected row, opened: the list is its own again.
                            self.list.detached = false;
                            self.open_session(s, None)
                        }
                        None => Vec::new(),
                    };
                    self.focus = Pane::History;
                    cmds
                }
                Pane::History => self.act(Action::Expand),
                Pane::Meta => self.follow_link(),
            },
            Action::Expand => {
                if let Some(h) = self.history.as_mut()
                    && !h.expanded.remove(&h.cursor)
                {
                    h.expanded.insert(h.cursor);
                }
                self.settle_history()
            }
            Action::NextHit | Action::PrevHit => self.step_hit(a == Action::NextHit),
            Action::Filter => {
                self.list.filtering = true;
                self.focus = Pane::List;
                Vec::new()
            }
            Action::Sort => self.cycle_sort(),
            Action::ViewState => self.cycle_view(),
            Action::Mark => {
                if let Some(s) = self.list.current() {
                    let (id, name) = (s.id, s.name.clone());
                    if self.list.marked.remove(&id).is_none() {
                        self.list.marked.insert(id, name);
                    }
                    return self.navigate_list(Action::Down);
                }
                Vec::new()
            }
            Action::Undo => {
                if self.last_trashed.is_empty() {
                    self.say("nothing to undo");
                    return Vec::new();
                }
                let ids = std::mem::take(&mut self.last_trashed);
                vec![self.mutate(Mutation::Restore { ids })]
            }
            Action::Delete => self.delete(),
            Action::Restore => {
                let Some(s) = self.target() else {
                    return Vec::new();
                };
                let ids = vec![s.id];
                if s.trashed {
                    vec![self.mutate(Mutation::Restore { ids })]
                } else if s.archived {
                    vec![self.mutate(Mutation::Unarchive { ids })]
                } else {
                    self.fail("U restores a session from the trash or the archive (v shows them)");
                    Vec::new()
                }
            }
            Action::Archive => {
                let ids = self.marked_or_target();
                if ids.is_empty() {
                    return Vec::new();
                }
                vec![self.mutate(Mutation::Archive { ids })]
            }
            Action::Purge => self.purge(),
            Action::Copy => {
                let Some(h) = &self.history else {
                    self.fail("no session selected");
                    return Vec::new();
                };
                match h.message(h.cursor) {
                    Some(m) => vec![Command::Copy {
                        text: m.content.clone(),
                        what: format!("message #{}", m.seq),
                    }],
                    None => {
                        self.fail("the message is still loading");
                        Vec::new()
                    }
                }
            }
            Action::CopySession => match self.target() {
                Some(s) => vec![Command::PrepareSession {
                    id: s.id,
                    pager: false,
                }],
                None => Vec::new(),
            },
            Action::Pager => {
                if self.focus == Pane::History
                    && let Some(h) = &self.history
                    && let Some(m) = h.message(h.cursor)
                {
                    let text = format!("{} · {}\n\n{}", m.role, m.created_at, m.content);
                    return vec![Command::External {
                        editor: false,
                        text,
                        edit: None,
                    }];
                }
                match self.target() {
                    Some(s) => vec![Command::PrepareSession {
                        id: s.id,
                        pager: true,
                    }],
                    None => Vec::new(),
                }
            }
            Action::Editor => {
                let Some(s) = self.target() else {
                    return Vec::new();
                };
                let h = self.history.as_ref().filter(|h| h.session.id == s.id);
                match h.and_then(|h| h.message(h.cursor)) {
                    Some(m) => vec![Command::External {
                        editor: true,
                        text: m.content.clone(),
                        edit: Some((s.id, m.seq)),
                    }],
                    None => {
                        self.fail("no message under the cursor to edit");
                        Vec::new()
                    }
                }
            }
            Action::Resume => match self.target() {
                Some(s) => vec![Command::PlanResume {
                    id: s.id,
                    commands: self.resume_commands.clone(),
                }],
                None => Vec::new(),
            },
            Action::Rename
            | Action::Retitle
            | Action::Branch
            | Action::Tags
            | Action::Metadata
            | Action::Compose
            | Action::Export => self.open_session_dialog(a),
            Action::NewSession => {
                self.open_new_dialog();
                Vec::new()
            }
            Action::Import => {
                self.open_import_dialog();
                Vec::new()
            }
            Action::Sync => {
                if self.demo {
                    self.fail("the demo sessions are in memory: nothing is synced into them");
                    return Vec::new();
                }
                if self.syncing {
                    self.say("a sync is running (esc cancels it)");
                    return Vec::new();
                }
                self.syncing = true;
                self.say("syncing the tools' session folders (esc cancels)");
                vec![Command::Sync]
            }
            Action::Merge => self.open_merge_dialog(),
            Action::Cleanup => self.open_cleanup_dialog(),
            // Keys of text boxes: they mean nothing on the main screen.
            Action::Cancel
            | Action::Accept
            | Action::NextItem
            | Action::PrevItem
            | Action::ClearInput
            | Action::ToggleArchived => Vec::new(),
        }
    }

    /// The answer to `R`: the program handed the terminal, or the reason
    /// it cannot be (and, in the demo, what would run).
    fn resume_planned(&mut self, name: &str, plan: Result<ResumePlan, String>) -> Vec<Command> {
        match plan {
            Err(why) => {
                self.fail_async(&format!("cannot resume {name}: {why}"));
                Vec::new()
            }
            Ok(plan) if self.demo => {
                self.say(&format!(
                    "the demo runs nothing; resuming {name} would run: {}",
                    plan.command_line()
                ));
                Vec::new()
            }
            Ok(plan) => vec![Command::Resume { plan }],
        }
    }

    pub(super) fn say(&mut self, message: &str) {
        self.status.message = message.to_string();
        self.status.error = false;
    }

    pub(super) fn fail(&mut self, message: &str) {
        self.status.message = message.to_string();
        self.status.error = true;
    }

    /// The error of work that ran in the background: in the status bar, and
    /// whole in a popup when it is too long for it (an import error names a
    /// file, a line and what was expected).
    pub(super) fn fail_async(&mut self, message: &str) {
        self.fail(message);
        let room = usize::from(self.width).saturating_sub(4);
        if unicode_width::UnicodeWidthStr::width(message) > room || message.contains('\n') {
            self.popup = Some(message.to_string());
        }
    }

    /// The marked sessions when the list has the focus and some are marked,
    /// else the session on screen.
    fn marked_or_target(&mut self) -> Vec<SessionId> {
        if self.focus == Pane::List && !self.list.marked.is_empty() {
            return std::mem::take(&mut self.list.marked).into_keys().collect();
        }
        self.target().map(|s| vec![s.id]).unwrap_or_default()
    }

    fn delete(&mut self) -> Vec<Command> {
        if self.list.query.state == StateFilter::Trashed {
            self.fail("already in the trash: U restores it, D deletes it for good");
            return Vec::new();
        }
        let ids = self.marked_or_target();
        if ids.is_empty() {
            return Vec::new();
        }
        if self.shown().is_some_and(|s| ids.contains(&s.id)) {
            self.history = None;
            self.meta = None;
            self.focus = Pane::List;
        }
        vec![self.mutate(Mutation::Trash { ids })]
    }

    fn purge(&mut self) -> Vec<Command> {
        if self.list.query.state == StateFilter::Live {
            self.fail("D deletes for good from the trash or the archive (v shows them); d moves to the trash");
            return Vec::new();
        }
        let ids = self.marked_or_target();
        let Some(first) = ids.first() else {
            return Vec::new();
        };
        let what = if ids.len() == 1 {
            self.list
                .rows
                .iter()
                .chain(self.shown())
                .find(|s| s.id == *first)
                .map_or_else(|| "1 session".into(), |s| crate::sanitize::clean(&s.name))
        } else {
            format!("{} sessions", ids.len())
        };
        self.dialog = Some(Dialog::confirm(
            format!("delete {what} for good?"),
            vec![
                "its messages, tags and metadata are deleted: this cannot be undone".into(),
                "y deletes, n keeps it".into(),
            ],
            Mutation::Purge { ids },
        ));
        Vec::new()
    }

    pub(super) fn navigate(&mut self, a: Action) -> Vec<Command> {
        match self.focus {
            Pane::List => self.navigate_list(a),
            Pane::History => self.navigate_history(a),
            Pane::Meta => {
                let n = self.meta.as_ref().map_or(0, |m| details::lines(m).len());
                let page = self.meta_rows().max(2);
                let c = self.meta_cursor;
                let last = n.saturating_sub(1);
                self.meta_cursor = match a {
                    Action::Down => (c + 1).min(last),
                    Action::Up => c.saturating_sub(1),
                    Action::Top => 0,
                    Action::Bottom => last,
                    Action::HalfPageDown => (c + page / 2).min(last),
                    Action::HalfPageUp => c.saturating_sub(page / 2),
                    Action::PageDown => (c + page).min(last),
                    _ => c.saturating_sub(page),
                };
                self.keep_meta_cursor_visible();
                Vec::new()
            }
        }
    }

    /// Rows of the details pane's text.
    pub fn meta_rows(&self) -> usize {
        let a = areas(self.width, self.height, Pane::Meta);
        a.meta.map_or(5, |r| inner(r).0)
    }

    fn keep_meta_cursor_visible(&mut self) {
        let n = self.meta.as_ref().map_or(0, |m| details::lines(m).len());
        self.meta_cursor = self.meta_cursor.min(n.saturating_sub(1));
        let rows = self.meta_rows().max(1);
        if self.meta_cursor < self.meta_top {
            self.meta_top = self.meta_cursor;
        } else if self.meta_cursor >= self.meta_top + rows {
            self.meta_top = self.meta_cursor + 1 - rows;
        }
        self.meta_top = self.meta_top.min(n.saturating_sub(rows));
    }

    /// Enter on a lineage line of the details: opens that session at its
    /// fork point, and the list selection follows.
    fn follow_link(&mut self) -> Vec<Command> {
        let link = self.meta.as_ref().and_then(|m| {
            details::lines(m)
                .into_iter()
                .nth(self.meta_cursor)
                .and_then(|l| l.link)
        });
        match link {
            Some((session, seq)) => {
                self.focus = Pane::History;
                self.open_elsewhere(session, seq)
            }
            None => Vec::new(),
        }
    }
}
