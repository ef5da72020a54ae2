//! The TUI's state and its one entry point, [`App::update`]: an event in,
//! the state changed, the side effects out as [`Command`]s. No I/O happens
//! here, so every behaviour can be tested without a terminal.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use jiff::Timestamp;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::action::Action;
use super::command::{Command, Mutation};
use super::dialog::{
    CLEANUP_ACTIONS, COMPOSE_ROLES, Form, MERGE_ORDERS, Outcome, Purpose, metadata_lines,
    parse_metadata,
};
use super::event::{Event, MetaInfo};
use super::keymap::{Keymap, Layer};
use super::layout::{Pane, areas, inner};
use super::text;
use crate::domain::{
    CleanupCriteria, ListQuery, Message, Session, SessionId, Sort, parse_before, validate_name,
};
use crate::export::ExportFormat;
use crate::search::Hit;
use crate::store::StoreStats;

/// Rows of the session list fetched around the selection.
const LIST_WINDOW: u64 = 300;
/// Messages fetched around the history cursor.
const HISTORY_WINDOW: u64 = 300;

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Main,
    Search,
    Stats,
    Help,
}

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
    /// A session the selection should move to when the list next arrives
    /// (one that was just made or renamed).
    pub follow: Option<SessionId>,
}

impl ListView {
    pub fn row(&self, index: u64) -> Option<&Session> {
        index
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(usize::try_from(i).ok()?))
    }

    pub fn current(&self) -> Option<&Session> {
        self.row(self.selected)
    }
}

/// The history of one session: a window of messages and a cursor.
#[derive(Debug, Clone)]
pub struct HistoryView {
    pub session: Session,
    pub first: u64,
    pub messages: Vec<Message>,
    pub cursor: u64,
    pub top: u64,
    pub expanded: HashSet<u64>,
    pub hits: Vec<u64>,
    pub terms: Vec<String>,
    pub loading: bool,
}

impl HistoryView {
    pub fn message(&self, seq: u64) -> Option<&Message> {
        seq.checked_sub(self.first)
            .and_then(|i| self.messages.get(usize::try_from(i).ok()?))
    }
}

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

/// What the status bar says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub message: String,
    pub error: bool,
    pub job: Option<(String, u64, u64)>,
}

/// The whole state of the TUI.
pub struct App {
    pub width: u16,
    pub height: u16,
    pub now: Timestamp,
    pub keymap: Keymap,
    pub screen: Screen,
    pub focus: Pane,
    pub list: ListView,
    pub history: Option<HistoryView>,
    pub meta: Option<MetaInfo>,
    pub meta_cursor: usize,
    pub search: SearchView,
    pub stats: Option<(StoreStats, Vec<Session>)>,
    pub help_scroll: u16,
    pub dialog: Option<Form>,
    pub status: Status,
    pub last_trashed: Vec<SessionId>,
    pub mouse: bool,
    pub known_tags: Vec<String>,
    pub quit: bool,
    /// Session folders found on this machine, for the welcome screen.
    pub found_folders: Vec<(String, PathBuf)>,
    /// True for the in-memory demo store.
    pub demo: bool,
    /// A session being opened, and the message to show first.
    pub pending_open: Option<(SessionId, u64)>,
    /// Search terms and hits waiting for a session's history to arrive.
    pub pending_marks: Option<(SessionId, Vec<String>, Vec<u64>)>,
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
            meta: None,
            meta_cursor: 0,
            search: SearchView::default(),
            stats: None,
            help_scroll: 0,
            dialog: None,
            status: Status::default(),
            last_trashed: Vec::new(),
            mouse: true,
            known_tags: Vec::new(),
            quit: false,
            found_folders: Vec::new(),
            demo: false,
            pending_open: None,
            pending_marks: None,
        };
        let cmds = vec![app.reload_list(0), Command::LoadTags];
        (app, cmds)
    }

    /// True when the store is empty and no filter hides anything.
    pub fn welcome(&self) -> bool {
        self.list.loaded && self.list.total == 0 && self.list.filter.is_empty()
    }

    /// The session the keys act on: the list's selection when the list has
    /// the focus, else the open session.
    pub fn current(&self) -> Option<&Session> {
        match (self.focus, &self.history) {
            (Pane::History | Pane::Meta, Some(h)) => Some(&h.session),
            _ => self
                .list
                .current()
                .or(self.history.as_ref().map(|h| &h.session)),
        }
    }

    /// Handles one event.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.key(k),
            Event::Key(_) => Vec::new(),
            Event::Mouse(m) => self.mouse_event(m),
            Event::Resize(w, h) => {
                self.width = w;
                self.height = h;
                self.keep_history_cursor_visible();
                self.keep_list_selection_visible();
                Vec::new()
            }
            Event::ListLoaded {
                generation,
                total,
                offset,
                rows,
            } => self.list_loaded(generation, total, offset, rows),
            Event::HistoryLoaded {
                session,
                from,
                messages,
            } => self.history_loaded(session, from, messages),
            Event::MetaLoaded(info) => {
                if self
                    .history
                    .as_ref()
                    .is_some_and(|h| h.session.id == info.session.id)
                    || self.meta.is_none()
                {
                    self.meta = Some(*info);
                    self.meta_cursor = 0;
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
                if let Some((_, _, hits)) =
                    self.pending_marks.as_mut().filter(|(pid, _, _)| *pid == id)
                {
                    hits.clone_from(&seqs);
                }
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
            Event::CleanupPreview(plan) => {
                if let Some(f) = self.dialog.as_mut()
                    && let Purpose::Cleanup { plan: p } = &mut f.purpose
                {
                    match plan {
                        Ok(plan) => {
                            f.info = cleanup_info(&plan);
                            f.error = None;
                            *p = Some(plan);
                        }
                        Err(e) => {
                            f.error = Some(e);
                            *p = None;
                        }
                    }
                }
                Vec::new()
            }
            Event::MergePreview(count) => {
                if let Some(f) = self.dialog.as_mut()
                    && let Purpose::Merge { preview, .. } = &mut f.purpose
                {
                    match count {
                        Ok(n) => {
                            *preview = Some(n);
                            f.error = None;
                            if let Some(last) = f.info.last_mut() {
                                *last = format!("the merged session will hold {n} messages");
                            }
                        }
                        Err(e) => f.error = Some(e),
                    }
                }
                Vec::new()
            }
            Event::Done {
                message,
                select,
                trashed,
            } => {
                self.status = Status {
                    message,
                    error: false,
                    job: None,
                };
                if !trashed.is_empty() {
                    self.last_trashed = trashed;
                }
                let mut cmds = vec![self.reload_list(self.list.selected), Command::LoadTags];
                if let Some(id) = select {
                    self.list.follow = Some(id);
                    cmds.extend(self.open(id, None));
                } else if let Some(h) = &self.history {
                    cmds.push(Command::LoadHistory {
                        id: h.session.id,
                        from: h.first,
                        limit: HISTORY_WINDOW,
                    });
                    cmds.push(Command::LoadMeta { id: h.session.id });
                }
                cmds
            }
            Event::Failed(message) => {
                self.status = Status {
                    message,
                    error: true,
                    job: None,
                };
                if let Some(h) = self.history.as_mut() {
                    h.loading = false;
                }
                Vec::new()
            }
            Event::Progress { label, done, total } => {
                self.status.job = (done < total).then_some((label, done, total));
                Vec::new()
            }
        }
    }

    // ----- keys -----

    fn key(&mut self, k: KeyEvent) -> Vec<Command> {
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return Vec::new();
        }
        if self.dialog.is_some() {
            return self.dialog_key(k);
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
            Action::Back => {
                if self.focus != Pane::List {
                    self.focus = Pane::List;
                } else if !self.list.filter.is_empty() {
                    self.list.filter.clear();
                    self.list.query = ListQuery {
                        sort: self.list.query.sort,
                        ..ListQuery::default()
                    };
                    return vec![self.reload_list(0)];
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
                    let cmds = self
                        .list
                        .current()
                        .map(|s| s.id)
                        .map(|id| self.open(id, None))
                        .unwrap_or_default();
                    self.focus = Pane::History;
                    cmds
                }
                Pane::History => self.act(Action::Expand),
                Pane::Meta => {
                    let target = self.meta.as_ref().and_then(|m| {
                        let mut targets: Vec<SessionId> = m.parent.iter().map(|p| p.id).collect();
                        targets.extend(m.branches.iter().map(|b| b.id));
                        targets.get(self.meta_cursor).copied()
                    });
                    match target {
                        Some(id) => {
                            self.focus = Pane::History;
                            self.open(id, None)
                        }
                        None => Vec::new(),
                    }
                }
            },
            Action::Expand => {
                if let Some(h) = self.history.as_mut()
                    && !h.expanded.remove(&h.cursor)
                {
                    h.expanded.insert(h.cursor);
                }
                self.keep_history_cursor_visible();
                Vec::new()
            }
            Action::NextHit | Action::PrevHit => self.step_hit(a == Action::NextHit),
            Action::Filter => {
                self.list.filtering = true;
                self.focus = Pane::List;
                Vec::new()
            }
            Action::Sort => {
                self.list.query.sort = match self.list.query.sort {
                    Sort::Updated => Sort::Created,
                    Sort::Created => Sort::Name,
                    Sort::Name => Sort::Size,
                    Sort::Size => Sort::Updated,
                };
                self.say(&format!("sorted by {}", sort_name(self.list.query.sort)));
                self.list.selected = 0;
                self.list.top = 0;
                vec![self.reload_list(0)]
            }
            Action::Mark => {
                if let Some(s) = self.list.current() {
                    let (id, name) = (s.id, s.name.clone());
                    if self.list.marked.remove(&id).is_none() {
                        self.list.marked.insert(id, name);
                    }
                    return self.navigate(Action::Down);
                }
                Vec::new()
            }
            Action::Undo => {
                if self.last_trashed.is_empty() {
                    self.say("nothing to undo");
                    return Vec::new();
                }
                let ids = std::mem::take(&mut self.last_trashed);
                vec![Command::Mutate(Mutation::Restore { ids })]
            }
            Action::Delete => {
                let ids: Vec<SessionId> =
                    if self.focus == Pane::List && !self.list.marked.is_empty() {
                        std::mem::take(&mut self.list.marked).into_keys().collect()
                    } else {
                        self.current().map(|s| vec![s.id]).unwrap_or_default()
                    };
                if ids.is_empty() {
                    return Vec::new();
                }
                if self
                    .history
                    .as_ref()
                    .is_some_and(|h| ids.contains(&h.session.id))
                {
                    self.history = None;
                    self.meta = None;
                    self.focus = Pane::List;
                }
                vec![Command::Mutate(Mutation::Trash { ids })]
            }
            Action::Copy => {
                let Some(h) = &self.history else {
                    return Vec::new();
                };
                match h.message(h.cursor) {
                    Some(m) => vec![Command::Copy {
                        text: m.content.clone(),
                        what: format!("message {}", m.seq),
                    }],
                    None => Vec::new(),
                }
            }
            Action::CopySession | Action::Pager | Action::Editor => self.whole_session_command(a),
            Action::JumpTo => {
                if self.history.is_some() {
                    self.dialog = Some(
                        Form::new("jump to message", Purpose::JumpTo)
                            .line("message # (as in the headers)", ""),
                    );
                }
                Vec::new()
            }
            Action::Rename
            | Action::Branch
            | Action::Tags
            | Action::Metadata
            | Action::Compose
            | Action::Export => self.open_session_dialog(a),
            Action::NewSession => {
                self.dialog = Some(
                    Form::new("new session", Purpose::NewSession)
                        .line("name", "")
                        .line("template (optional)", "")
                        .info(vec![
                            "a template is any session, e.g. one tagged `template`".into(),
                        ]),
                );
                Vec::new()
            }
            Action::Import => {
                let names: Vec<&str> = std::iter::once("auto")
                    .chain(crate::import::Format::ALL.iter().map(|(_, n)| *n))
                    .collect();
                let mut info =
                    vec!["a file or a folder of .json, .jsonl and .toon files".to_string()];
                info.extend(
                    self.found_folders
                        .iter()
                        .map(|(what, p)| format!("found {what}: {}", p.display())),
                );
                self.dialog = Some(
                    Form::new("import", Purpose::Import)
                        .line("path", "")
                        .choice("format", &names, 0)
                        .info(info),
                );
                Vec::new()
            }
            Action::Merge => {
                if self.list.marked.len() < 2 {
                    self.fail("mark two or more sessions with space first");
                    return Vec::new();
                }
                let ids: Vec<SessionId> = self.list.marked.keys().copied().collect();
                let mut info: Vec<String> = self
                    .list
                    .marked
                    .values()
                    .enumerate()
                    .map(|(i, n)| format!("{}. {}", i + 1, super::sanitize::clean(n)))
                    .collect();
                info.push("counting messages…".into());
                let first = self
                    .list
                    .marked
                    .values()
                    .next()
                    .cloned()
                    .unwrap_or_default();
                self.dialog = Some(
                    Form::new(
                        "merge",
                        Purpose::Merge {
                            ids: ids.clone(),
                            preview: None,
                        },
                    )
                    .line("new session", &format!("{first}-merged"))
                    .choice("order", &["by message time", "as listed"], 0)
                    .info(info),
                );
                vec![Command::PreviewMerge {
                    ids,
                    order: MERGE_ORDERS[0],
                }]
            }
            Action::Cleanup => {
                self.dialog = Some(
                    Form::new("cleanup", Purpose::Cleanup { plan: None })
                        .line("older than", "90d")
                        .check("empty", false)
                        .line("with tag", "")
                        .line("without tag", "")
                        .line("source", "")
                        .line("more messages than", "")
                        .choice("action", &["archive", "trash", "purge"], 0)
                        .line("type the count to purge", ""),
                );
                self.cleanup_preview()
            }
        }
    }

    fn say(&mut self, message: &str) {
        self.status.message = message.to_string();
        self.status.error = false;
    }

    fn fail(&mut self, message: &str) {
        self.status.message = message.to_string();
        self.status.error = true;
    }

    fn whole_session_command(&mut self, a: Action) -> Vec<Command> {
        let text = match (&self.history, self.focus) {
            (Some(h), Pane::History) if a != Action::CopySession => h
                .message(h.cursor)
                .map(|m| format!("{} · {}\n\n{}", m.role, m.created_at, m.content)),
            (Some(h), _) if self.current().is_some_and(|s| s.id == h.session.id) => Some(
                h.messages
                    .iter()
                    .map(|m| format!("## {} · {}\n\n{}\n", m.role, m.created_at, m.content))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            _ => None,
        };
        let Some(text) = text else {
            self.say("open a session first (enter)");
            return Vec::new();
        };
        match a {
            Action::CopySession => vec![Command::Copy {
                text,
                what: "session".into(),
            }],
            Action::Editor => vec![Command::External { editor: true, text }],
            _ => vec![Command::External {
                editor: false,
                text,
            }],
        }
    }

    fn open_session_dialog(&mut self, a: Action) -> Vec<Command> {
        let Some(s) = self.current().cloned() else {
            return Vec::new();
        };
        let name = super::sanitize::clean(&s.name);
        let form = match a {
            Action::Rename => Form::new(format!("rename {name}"), Purpose::Rename { id: s.id })
                .line("new name", &s.name),
            Action::Branch => {
                let at = match (&self.history, self.focus) {
                    (Some(h), Pane::History) if h.session.id == s.id => h.cursor,
                    _ => s.message_count.saturating_sub(1),
                };
                if s.message_count == 0 {
                    self.fail("an empty session has nothing to branch from");
                    return Vec::new();
                }
                Form::new(format!("branch {name}"), Purpose::Branch { id: s.id, at })
                    .line("new session", &format!("{}-branch", s.name))
                    .info(vec![format!(
                        "holds messages 0..={at} of {name} ({} of {})",
                        at + 1,
                        s.message_count
                    )])
            }
            Action::Tags => {
                let current = s.tags.clone();
                Form::new(
                    format!("tags of {name}"),
                    Purpose::Tags {
                        id: s.id,
                        current: current.clone(),
                        known: self.known_tags.clone(),
                    },
                )
                .line("tags", &current.join(" "))
                .info(vec![
                    "the tags it should carry, space separated; -tag removes one; tab completes"
                        .into(),
                    format!("known: {}", self.known_tags.join(" ")),
                ])
            }
            Action::Metadata => Form::new(
                format!("metadata of {name}"),
                Purpose::Metadata { id: s.id },
            )
            .text(
                "key = value lines (ctrl-s saves)",
                &metadata_lines(&s.metadata),
            ),
            Action::Compose => Form::new(
                format!("add a message to {name}"),
                Purpose::Compose { id: s.id },
            )
            .choice("role", &["user", "assistant", "system", "tool"], 0)
            .text("text (ctrl-s adds it)", ""),
            Action::Export => {
                let ids: Vec<SessionId> = if self.list.marked.is_empty() {
                    vec![s.id]
                } else {
                    self.list.marked.keys().copied().collect()
                };
                let what = if ids.len() == 1 {
                    name.clone()
                } else {
                    format!("{} marked sessions", ids.len())
                };
                Form::new("export", Purpose::Export { ids })
                    .choice("format", &["json", "jsonl", "md"], 0)
                    .line("path", &format!("{}.json", s.name))
                    .info(vec![format!("exports {what}")])
            }
            _ => return Vec::new(),
        };
        self.dialog = Some(form);
        Vec::new()
    }

    fn dialog_key(&mut self, k: KeyEvent) -> Vec<Command> {
        let Some(form) = self.dialog.as_mut() else {
            return Vec::new();
        };
        // Tab completes tags in the tags dialog.
        if k.code == KeyCode::Tab
            && let Purpose::Tags { known, .. } = &form.purpose
        {
            let value = form.value(0);
            let (head, last) = value
                .rsplit_once(' ')
                .map_or(("", value.as_str()), |(h, l)| (h, l));
            let bare = last.trim_start_matches(['+', '-']);
            if let Some(done) = known
                .iter()
                .find(|t| !bare.is_empty() && t.starts_with(bare) && t.as_str() != bare)
            {
                let sign = &last[..last.len() - bare.len()];
                let joined = if head.is_empty() {
                    format!("{sign}{done}")
                } else {
                    format!("{head} {sign}{done}")
                };
                form.set_value(0, &joined);
            }
            return Vec::new();
        }
        match form.key(k) {
            Outcome::Stay => Vec::new(),
            Outcome::Cancel => {
                self.dialog = None;
                Vec::new()
            }
            Outcome::Changed => match &form.purpose {
                Purpose::Cleanup { .. } => self.cleanup_preview(),
                Purpose::Merge { ids, .. } if form.focus == 1 => {
                    let order = MERGE_ORDERS[form.choice_index(1).min(1)];
                    vec![Command::PreviewMerge {
                        ids: ids.clone(),
                        order,
                    }]
                }
                _ => Vec::new(),
            },
            Outcome::Submit => self.submit(),
        }
    }

    fn cleanup_preview(&mut self) -> Vec<Command> {
        let Some(form) = self.dialog.as_mut() else {
            return Vec::new();
        };
        match cleanup_criteria(form, self.now) {
            Ok(criteria) => {
                let action = CLEANUP_ACTIONS[form.choice_index(6).min(2)];
                vec![Command::PreviewCleanup { criteria, action }]
            }
            Err(e) => {
                form.error = Some(e);
                if let Purpose::Cleanup { plan } = &mut form.purpose {
                    *plan = None;
                }
                Vec::new()
            }
        }
    }

    fn submit(&mut self) -> Vec<Command> {
        let Some(form) = self.dialog.as_mut() else {
            return Vec::new();
        };
        let result: Result<Vec<Command>, String> = match &form.purpose {
            Purpose::Rename { id } => {
                let name = form.value(0).trim().to_string();
                validate_name(&name)
                    .map_err(|e| e.to_string())
                    .map(|()| vec![Command::Mutate(Mutation::Rename { id: *id, name })])
            }
            Purpose::Branch { id, at } => {
                let name = form.value(0).trim().to_string();
                validate_name(&name).map_err(|e| e.to_string()).map(|()| {
                    vec![Command::Mutate(Mutation::Branch {
                        id: *id,
                        name,
                        at: *at,
                    })]
                })
            }
            Purpose::NewSession => {
                let name = form.value(0).trim().to_string();
                let template = Some(form.value(1).trim().to_string()).filter(|t| !t.is_empty());
                validate_name(&name)
                    .map_err(|e| e.to_string())
                    .map(|()| vec![Command::Mutate(Mutation::New { name, template })])
            }
            Purpose::Tags { id, current, .. } => {
                // The field holds the tags wanted; `-tag` takes one away.
                let words = form.value(0);
                let dropped: BTreeSet<&str> = words
                    .split_whitespace()
                    .filter_map(|w| w.strip_prefix('-'))
                    .collect();
                let wanted: BTreeSet<String> = words
                    .split_whitespace()
                    .filter(|w| !w.starts_with('-'))
                    .map(|t| t.trim_start_matches('+'))
                    .filter(|t| !dropped.contains(t))
                    .map(str::to_string)
                    .collect();
                match wanted
                    .iter()
                    .find_map(|t| crate::domain::validate_tag(t).err())
                {
                    Some(e) => Err(e.to_string()),
                    None => {
                        let have: BTreeSet<String> = current.iter().cloned().collect();
                        let add = wanted.difference(&have).cloned().collect();
                        let remove = have.difference(&wanted).cloned().collect();
                        Ok(vec![Command::Mutate(Mutation::Tags {
                            id: *id,
                            add,
                            remove,
                        })])
                    }
                }
            }
            Purpose::Metadata { id } => parse_metadata(&form.value(0))
                .map(|metadata| vec![Command::Mutate(Mutation::Metadata { id: *id, metadata })]),
            Purpose::Compose { id } => {
                let text = form.value(1);
                if text.trim().is_empty() {
                    Err("the message is empty".into())
                } else {
                    let role = COMPOSE_ROLES[form.choice_index(0).min(3)];
                    Ok(vec![Command::Mutate(Mutation::Compose {
                        id: *id,
                        role,
                        text,
                    })])
                }
            }
            Purpose::Merge { ids, .. } => {
                let name = form.value(0).trim().to_string();
                let order = MERGE_ORDERS[form.choice_index(1).min(1)];
                validate_name(&name).map_err(|e| e.to_string()).map(|()| {
                    vec![Command::Mutate(Mutation::Merge {
                        ids: ids.clone(),
                        name,
                        order,
                    })]
                })
            }
            Purpose::Cleanup { plan } => match plan {
                None => Err(form
                    .error
                    .clone()
                    .unwrap_or_else(|| "waiting for the preview".into())),
                Some(p) if p.sessions.is_empty() => Err("nothing matches these criteria".into()),
                Some(p)
                    if p.action == crate::domain::CleanupAction::Purge
                        && form.value(7).trim() != p.sessions.len().to_string() =>
                {
                    form.focus = 7;
                    Err(format!(
                        "purge deletes for good: type {} in the last field to confirm",
                        p.sessions.len()
                    ))
                }
                Some(p) => Ok(vec![Command::Mutate(Mutation::Cleanup { plan: p.clone() })]),
            },
            Purpose::Export { ids } => {
                let format = [
                    ExportFormat::Json,
                    ExportFormat::Jsonl,
                    ExportFormat::Markdown,
                ][form.choice_index(0).min(2)];
                let path = form.value(1).trim().to_string();
                if path.is_empty() {
                    Err("give a path".into())
                } else {
                    Ok(vec![Command::Mutate(Mutation::Export {
                        ids: ids.clone(),
                        format,
                        path: PathBuf::from(path),
                    })])
                }
            }
            Purpose::Import => {
                let path = form.value(0).trim().to_string();
                let format = match form.choice_index(1) {
                    0 => None,
                    i => crate::import::Format::ALL.get(i - 1).map(|(f, _)| *f),
                };
                if path.is_empty() {
                    Err("give a path".into())
                } else {
                    Ok(vec![Command::Mutate(Mutation::Import {
                        path: PathBuf::from(path),
                        format,
                    })])
                }
            }
            Purpose::JumpTo => match form.value(0).trim().replace(',', "").parse::<u64>() {
                Ok(n) => {
                    self.dialog = None;
                    return self.jump_history(n);
                }
                Err(_) => Err("type a message number".into()),
            },
        };
        match result {
            Ok(cmds) => {
                if matches!(form.purpose, Purpose::Merge { .. }) {
                    self.list.marked.clear();
                }
                if matches!(form.purpose, Purpose::Import) {
                    self.status.job = Some(("importing".into(), 0, 1));
                }
                self.dialog = None;
                cmds
            }
            Err(e) => {
                if let Some(f) = self.dialog.as_mut() {
                    f.error = Some(e);
                }
                Vec::new()
            }
        }
    }

    fn filter_key(&mut self, k: KeyEvent) -> Vec<Command> {
        match k.code {
            KeyCode::Esc => {
                self.list.filtering = false;
                self.list.filter.clear();
                self.apply_filter()
            }
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => {
                self.list.filtering = false;
                Vec::new()
            }
            KeyCode::Backspace => {
                self.list.filter.pop();
                self.apply_filter()
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.list.filter.clear();
                self.apply_filter()
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.list.filter.push(c);
                self.apply_filter()
            }
            _ => Vec::new(),
        }
    }

    fn apply_filter(&mut self) -> Vec<Command> {
        match parse_filter(&self.list.filter, self.now) {
            Ok(mut q) => {
                q.sort = self.list.query.sort;
                self.list.query = q;
                self.list.selected = 0;
                self.list.top = 0;
                self.status.error = false;
                self.status.message.clear();
                vec![self.reload_list(0)]
            }
            Err(e) => {
                self.fail(&e);
                Vec::new()
            }
        }
    }

    fn search_key(&mut self, k: KeyEvent) -> Vec<Command> {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Esc => {
                self.screen = Screen::Main;
                Vec::new()
            }
            KeyCode::Enter => {
                let Some(hit) = self.search.results.get(self.search.selected).cloned() else {
                    return Vec::new();
                };
                self.screen = Screen::Main;
                self.focus = Pane::History;
                let seq = hit.message.as_ref().map(|m| m.seq);
                let mut cmds = self.open(hit.session_id, seq);
                let terms: Vec<String> = hit
                    .highlights
                    .iter()
                    .filter_map(|&[a, b]| hit.snippet.get(a..b))
                    .map(str::to_lowercase)
                    .collect();
                let hits: Vec<u64> = seq.into_iter().collect();
                if let Some(h) = self
                    .history
                    .as_mut()
                    .filter(|h| h.session.id == hit.session_id)
                {
                    h.terms.clone_from(&terms);
                    h.hits.clone_from(&hits);
                }
                // The history may arrive later (a session outside the loaded list rows).
                self.pending_marks = Some((hit.session_id, terms, hits));
                cmds.push(Command::SessionHits {
                    id: hit.session_id,
                    text: self.search.input.clone(),
                });
                cmds
            }
            KeyCode::Down | KeyCode::Tab => {
                self.search.selected =
                    (self.search.selected + 1).min(self.search.results.len().saturating_sub(1));
                Vec::new()
            }
            KeyCode::Char('n' | 'j') if ctrl => {
                self.search.selected =
                    (self.search.selected + 1).min(self.search.results.len().saturating_sub(1));
                Vec::new()
            }
            KeyCode::Up | KeyCode::BackTab => {
                self.search.selected = self.search.selected.saturating_sub(1);
                Vec::new()
            }
            KeyCode::Char('p' | 'k') if ctrl => {
                self.search.selected = self.search.selected.saturating_sub(1);
                Vec::new()
            }
            KeyCode::Char('a') if ctrl => {
                self.search.archived = !self.search.archived;
                self.say(if self.search.archived {
                    "searching archived sessions too"
                } else {
                    "archived sessions left out"
                });
                self.run_search()
            }
            KeyCode::Char('u') if ctrl => {
                self.search.input.clear();
                self.run_search()
            }
            KeyCode::Backspace => {
                self.search.input.pop();
                self.run_search()
            }
            KeyCode::Char(c) if !ctrl => {
                self.search.input.push(c);
                self.run_search()
            }
            _ => Vec::new(),
        }
    }

    fn run_search(&mut self) -> Vec<Command> {
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

    // ----- the list -----

    /// Asks for the list again, keeping the selection near `around`.
    pub fn reload_list(&mut self, around: u64) -> Command {
        self.list.generation += 1;
        Command::LoadList {
            generation: self.list.generation,
            query: self.list.query.clone(),
            offset: around.saturating_sub(LIST_WINDOW / 2),
            limit: LIST_WINDOW,
        }
    }

    fn list_loaded(
        &mut self,
        generation: u64,
        total: u64,
        offset: u64,
        rows: Vec<Session>,
    ) -> Vec<Command> {
        if generation != self.list.generation {
            return Vec::new();
        }
        let before = self.list.current().map(|s| s.id);
        let first_load = !self.list.loaded;
        self.list.loaded = true;
        self.list.total = total;
        self.list.offset = offset;
        self.list.rows = rows;
        if let Some(id) = self.list.follow.take()
            && let Some(pos) = self.list.rows.iter().position(|s| s.id == id)
        {
            self.list.selected = offset + pos as u64;
            self.keep_list_selection_visible();
            return Vec::new();
        }
        if total == 0 {
            self.list.selected = 0;
        } else if self.list.selected >= total {
            self.list.selected = total - 1;
        }
        self.keep_list_selection_visible();
        let after = self.list.current().map(|s| s.id);
        match after {
            Some(id) if after != before && (first_load || self.focus == Pane::List) => {
                self.open(id, None)
            }
            _ => Vec::new(),
        }
    }

    fn list_rows(&self) -> usize {
        let a = areas(self.width, self.height, Pane::List);
        a.list.map_or(10, |r| {
            inner(r).0.saturating_sub(usize::from(
                self.list.filtering || !self.list.filter.is_empty(),
            ))
        })
    }

    fn keep_list_selection_visible(&mut self) {
        let rows = self.list_rows().max(1) as u64;
        if self.list.selected < self.list.top {
            self.list.top = self.list.selected;
        } else if self.list.selected >= self.list.top + rows {
            self.list.top = self.list.selected + 1 - rows;
        }
    }

    fn navigate(&mut self, a: Action) -> Vec<Command> {
        match self.focus {
            Pane::List => {
                let total = self.list.total;
                if total == 0 {
                    return Vec::new();
                }
                let page = self.list_rows().max(2) as u64;
                let s = self.list.selected;
                self.list.selected = match a {
                    Action::Down => (s + 1).min(total - 1),
                    Action::Up => s.saturating_sub(1),
                    Action::Top => 0,
                    Action::Bottom => total - 1,
                    Action::HalfPageDown => (s + page / 2).min(total - 1),
                    Action::HalfPageUp => s.saturating_sub(page / 2),
                    Action::PageDown => (s + page).min(total - 1),
                    _ => s.saturating_sub(page),
                };
                self.keep_list_selection_visible();
                let sel = self.list.selected;
                let end = self.list.offset + self.list.rows.len() as u64;
                if sel < self.list.offset || sel >= end {
                    return vec![self.reload_list(sel)];
                }
                match self.list.current().map(|s| s.id) {
                    Some(id) if self.history.as_ref().is_none_or(|h| h.session.id != id) => {
                        self.open(id, None)
                    }
                    _ => Vec::new(),
                }
            }
            Pane::History => {
                let Some(h) = self.history.as_mut() else {
                    return Vec::new();
                };
                let total = h.session.message_count;
                if total == 0 {
                    return Vec::new();
                }
                let c = h.cursor;
                let target = match a {
                    Action::Down => (c + 1).min(total - 1),
                    Action::Up => c.saturating_sub(1),
                    Action::Top => 0,
                    Action::Bottom => total - 1,
                    Action::HalfPageDown => (c + 5).min(total - 1),
                    Action::HalfPageUp => c.saturating_sub(5),
                    Action::PageDown => (c + 10).min(total - 1),
                    _ => c.saturating_sub(10),
                };
                self.jump_history(target)
            }
            Pane::Meta => {
                let n = self
                    .meta
                    .as_ref()
                    .map_or(0, |m| usize::from(m.parent.is_some()) + m.branches.len());
                self.meta_cursor = match a {
                    Action::Down => (self.meta_cursor + 1).min(n.saturating_sub(1)),
                    Action::Up => self.meta_cursor.saturating_sub(1),
                    Action::Top => 0,
                    Action::Bottom => n.saturating_sub(1),
                    _ => self.meta_cursor,
                };
                Vec::new()
            }
        }
    }

    // ----- the history -----

    /// Opens a session in the history pane, at `seq` or the start.
    pub fn open(&mut self, id: SessionId, seq: Option<u64>) -> Vec<Command> {
        let cursor = seq.unwrap_or(0);
        let from = cursor.saturating_sub(HISTORY_WINDOW / 3);
        if let Some(h) = self.history.as_mut().filter(|h| h.session.id == id) {
            h.cursor = cursor;
            h.top = cursor;
            h.hits.clear();
            h.terms.clear();
            h.loading = true;
        } else {
            let placeholder = self.list.rows.iter().find(|s| s.id == id).cloned();
            self.history = placeholder.map(|session| HistoryView {
                session,
                first: 0,
                messages: Vec::new(),
                cursor,
                top: cursor,
                expanded: HashSet::new(),
                hits: Vec::new(),
                terms: Vec::new(),
                loading: true,
            });
        }
        self.pending_open = Some((id, cursor));
        vec![
            Command::LoadHistory {
                id,
                from,
                limit: HISTORY_WINDOW,
            },
            Command::LoadMeta { id },
        ]
    }

    fn history_loaded(
        &mut self,
        session: Session,
        from: u64,
        messages: Vec<Message>,
    ) -> Vec<Command> {
        let same = self.history.as_ref().filter(|h| h.session.id == session.id);
        // Moves made while the session was loading are kept: the view's own
        // cursor wins over the one it was opened at.
        let cursor = match (same, self.pending_open) {
            (Some(h), _) => h.cursor,
            (None, Some((id, c))) if id == session.id => c,
            _ => return Vec::new(),
        };
        let (expanded, mut hits, mut terms, top) = same.map_or_else(
            || (HashSet::new(), Vec::new(), Vec::new(), cursor),
            |h| (h.expanded.clone(), h.hits.clone(), h.terms.clone(), h.top),
        );
        if let Some((_, t, h)) = self.pending_marks.take_if(|(id, _, _)| *id == session.id) {
            terms = t;
            hits = h;
        }
        self.pending_open = None;
        let last = session.message_count.saturating_sub(1);
        let cursor = cursor.min(last);
        self.history = Some(HistoryView {
            cursor,
            top: top.min(cursor),
            session,
            first: from,
            messages,
            expanded,
            hits,
            terms,
            loading: false,
        });
        self.keep_history_cursor_visible();
        Vec::new()
    }

    fn jump_history(&mut self, target: u64) -> Vec<Command> {
        let Some(h) = self.history.as_mut() else {
            return Vec::new();
        };
        let target = target.min(h.session.message_count.saturating_sub(1));
        h.cursor = target;
        let loaded = target >= h.first && target < h.first + h.messages.len() as u64;
        // Enough loaded after the cursor to fill a screen?
        let ahead = h.first + h.messages.len() as u64 >= (target + 40).min(h.session.message_count);
        self.keep_history_cursor_visible();
        if loaded && ahead {
            return Vec::new();
        }
        let h = self.history.as_mut().expect("checked above");
        h.loading = true;
        let from = target.saturating_sub(HISTORY_WINDOW / 3);
        vec![Command::LoadHistory {
            id: h.session.id,
            from,
            limit: HISTORY_WINDOW,
        }]
    }

    fn step_hit(&mut self, forward: bool) -> Vec<Command> {
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
                self.jump_history(seq)
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

    fn keep_history_cursor_visible(&mut self) {
        let (rows, cols) = self.history_size();
        let Some(h) = self.history.as_mut() else {
            return;
        };
        if h.cursor < h.top {
            h.top = h.cursor;
            return;
        }
        // Scroll down until the cursor's message fits (its header at least).
        loop {
            let mut used = 0;
            let mut fits = false;
            for seq in h.top..=h.cursor {
                let Some(m) = h.message(seq) else {
                    fits = true;
                    break;
                };
                let ht = text::height(m, cols, h.expanded.contains(&seq));
                if seq == h.cursor {
                    fits = used + ht.min(rows) <= rows;
                }
                used += ht;
            }
            if fits || h.top >= h.cursor {
                break;
            }
            h.top += 1;
        }
    }

    // ----- the mouse -----

    fn mouse_event(&mut self, m: MouseEvent) -> Vec<Command> {
        if self.dialog.is_some() || self.screen != Screen::Main {
            return match m.kind {
                MouseEventKind::ScrollDown if self.screen == Screen::Search => {
                    self.search.selected =
                        (self.search.selected + 1).min(self.search.results.len().saturating_sub(1));
                    Vec::new()
                }
                MouseEventKind::ScrollUp if self.screen == Screen::Search => {
                    self.search.selected = self.search.selected.saturating_sub(1);
                    Vec::new()
                }
                _ => Vec::new(),
            };
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
                        self.list.selected = index;
                        self.keep_list_selection_visible();
                        return self.select_current();
                    }
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn select_current(&mut self) -> Vec<Command> {
        match self.list.current().map(|s| s.id) {
            Some(id) if self.history.as_ref().is_none_or(|h| h.session.id != id) => {
                self.open(id, None)
            }
            _ => Vec::new(),
        }
    }
}

fn sort_name(s: Sort) -> &'static str {
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

fn cleanup_criteria(form: &Form, now: Timestamp) -> Result<CleanupCriteria, String> {
    let text = |i: usize| Some(form.value(i).trim().to_string()).filter(|s| !s.is_empty());
    let updated_before = text(0)
        .map(|s| parse_before(&s, now))
        .transpose()
        .map_err(|e| e.to_string())?;
    let larger_than = text(5)
        .map(|s| {
            s.parse::<u64>()
                .map_err(|_| format!("`more messages than` wants a number, not {s:?}"))
        })
        .transpose()?;
    let c = CleanupCriteria {
        updated_before,
        empty: form.checked(1),
        tag: text(2),
        without_tag: text(3),
        source: text(4),
        larger_than,
    };
    if c.is_empty() {
        return Err("give at least one criterion".into());
    }
    Ok(c)
}

fn cleanup_info(plan: &crate::domain::CleanupPlan) -> Vec<String> {
    let verb = match plan.action {
        crate::domain::CleanupAction::Archive => "archive",
        crate::domain::CleanupAction::Trash => "move to the trash",
        crate::domain::CleanupAction::Purge => "DELETE FOR GOOD",
    };
    let mut info = vec![format!(
        "would {verb} {} sessions ({} messages)",
        plan.sessions.len(),
        plan.message_count()
    )];
    if !plan.protected_tags.is_empty() {
        info.push(format!(
            "sessions tagged {} are protected",
            plan.protected_tags.join(", ")
        ));
    }
    info.extend(plan.sessions.iter().take(6).map(|s| {
        format!(
            "  {} ({} msgs)",
            super::sanitize::clean(&s.name),
            s.message_count
        )
    }));
    if plan.sessions.len() > 6 {
        info.push(format!("  … and {} more", plan.sessions.len() - 6));
    }
    info
}
