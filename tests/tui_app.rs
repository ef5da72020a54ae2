//! The TUI's state machine, driven through `App::update` alone: keys, mouse
//! and runtime events in, state and commands out. Every command that the
//! store or search workers would run goes through `runtime::run_now` on a
//! demo store and its answer is fed back, exactly as the real loop does;
//! terminal commands (copy, pager/editor, mouse capture) are recorded.
//! No terminal, no threads, no sleeps; the clock is frozen.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines, clippy::cast_possible_truncation)]

use std::collections::{BTreeSet, VecDeque};

use jiff::Timestamp;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use scrollback::domain::{CleanupAction, ListQuery, StateFilter};
use scrollback::search::Search;
use scrollback::store::StoreOptions;
use scrollback::tui::app::{App, Screen};
use scrollback::tui::command::{Command, Mutation};
use scrollback::tui::dialog::{Dialog, FieldRef, FormState, Yes, metadata_lines};
use scrollback::tui::event::Event;
use scrollback::tui::history::HistoryView;
use scrollback::tui::keymap::Keymap;
use scrollback::tui::layout::Pane;
use scrollback::tui::list::parse_filter;
use scrollback::tui::runtime::run_now;
use scrollback::tui::text;
use scrollback::{MergeOrder, NewMessage, NewSession, Role, Session, Sort, Store};
use serde_json::json;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// The open dialog as the given kind, or a panic naming what is open.
macro_rules! dialog {
    ($h:expr, $kind:ident) => {
        match $h.app.dialog.as_ref() {
            Some(Dialog::$kind(d)) => d,
            other => panic!("expected a {} dialog, found {other:?}", stringify!($kind)),
        }
    };
}

/// What a field holds: its text, the option chosen, or the box's state.
fn field_text(f: FieldRef<'_>) -> String {
    match f {
        FieldRef::Line(l) => l.text(),
        FieldRef::Text(t) => t.text(),
        FieldRef::Choice(c) => c.selected().to_string(),
        FieldRef::Check(c) => if c.on { "[x]" } else { "[ ]" }.to_string(),
    }
}

const FROZEN_NOW: &str = "2026-11-21T12:00:00Z";

fn frozen() -> Timestamp {
    FROZEN_NOW.parse().unwrap()
}

/// An app on a store, with the store and the search index that answer its
/// commands.
struct Harness {
    app: App,
    store: Store,
    search: Search,
    /// Protected tags given to cleanup previews.
    protected: Vec<String>,
    /// Terminal commands (Copy, External, SetMouse, Resume), in order.
    terminal: Vec<Command>,
}

impl Harness {
    /// The demo store (12 sessions, one archived), started and settled.
    fn demo(width: u16, height: u16) -> Harness {
        Self::with_store(
            scrollback::demo::store(StoreOptions::default()).unwrap(),
            width,
            height,
            Vec::new(),
        )
    }

    fn with_store(store: Store, width: u16, height: u16, protected: Vec<String>) -> Harness {
        let search = Search::open(&store, &|_, _| {}).unwrap();
        let (app, first) = App::new(width, height, Keymap::default(), frozen());
        let mut h = Harness {
            app,
            store,
            search,
            protected,
            terminal: Vec::new(),
        };
        h.pump(first);
        h
    }

    /// Runs commands as the workers would and feeds the answers back, until
    /// nothing is left to do.
    fn pump(&mut self, cmds: Vec<Command>) {
        let mut queue: VecDeque<Command> = cmds.into();
        let mut steps = 0;
        while let Some(c) = queue.pop_front() {
            steps += 1;
            assert!(steps < 10_000, "the app and the runtime never settle");
            match c {
                Command::Copy { .. }
                | Command::External { .. }
                | Command::SetMouse(_)
                | Command::Page { .. }
                | Command::Resume { .. }
                | Command::Suspend
                | Command::Sync
                | Command::CancelSync => {
                    self.terminal.push(c);
                    continue;
                }
                Command::SyncIndex => {
                    self.search.sync(&|_, _| {}).unwrap();
                    continue;
                }
                _ => {}
            }
            let mutation = matches!(c, Command::Mutate(_));
            let event = run_now(&mut self.store, &mut self.search, c, &self.protected);
            if mutation {
                // The store worker asks the index to catch up after a change.
                self.search.sync(&|_, _| {}).unwrap();
            }
            queue.extend(self.app.update(event));
        }
    }

    /// Feeds an event and pumps what it asks for; returns its commands.
    fn event(&mut self, e: Event) -> Vec<Command> {
        let cmds = self.app.update(e);
        self.pump(cmds.clone());
        cmds
    }

    /// A key press, without running its commands.
    fn press(&mut self, code: KeyCode, mods: KeyModifiers) -> Vec<Command> {
        self.app.update(Event::Key(KeyEvent::new(code, mods)))
    }

    /// A key press; its commands are run, and returned.
    fn send(&mut self, code: KeyCode, mods: KeyModifiers) -> Vec<Command> {
        self.event(Event::Key(KeyEvent::new(code, mods)))
    }

    fn key(&mut self, c: char) -> Vec<Command> {
        self.send(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn key_code(&mut self, code: KeyCode) -> Vec<Command> {
        self.send(code, KeyModifiers::NONE)
    }

    fn ctrl(&mut self, c: char) -> Vec<Command> {
        self.send(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    /// Types text; a newline is Enter.
    fn typ(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.key_code(KeyCode::Enter);
            } else {
                self.key(c);
            }
        }
    }

    /// Empties the focused text field of the dialog with backspaces.
    fn clear_field(&mut self) {
        let n = self.focused_text().chars().count();
        for _ in 0..n {
            self.key_code(KeyCode::Backspace);
        }
        assert_eq!(self.focused_text(), "");
    }

    fn mouse(&mut self, kind: MouseEventKind, column: u16, row: u16) -> Vec<Command> {
        self.event(Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }))
    }

    fn dialog(&self) -> &Dialog {
        self.app.dialog.as_ref().expect("a dialog is open")
    }

    fn state(&self) -> &FormState {
        self.dialog().state()
    }

    /// The error shown in the dialog.
    fn error(&self) -> Option<&str> {
        self.state().error.as_deref()
    }

    /// The lines the dialog shows above its fields.
    fn info(&self) -> Vec<String> {
        self.dialog().view().info
    }

    /// The label of the field with the keyboard.
    fn focused(&self) -> &'static str {
        self.dialog().focused().expect("a focused field").label()
    }

    fn focused_text(&self) -> String {
        field_text(self.dialog().focused().expect("a focused field"))
    }

    /// Esc on a dialog holding typed text: it asks first, and y throws the
    /// text away.
    fn discard(&mut self) {
        self.key_code(KeyCode::Esc);
        assert_eq!(dialog!(self, Confirm).yes, Yes::Discard, "esc asks first");
        self.key('y');
        assert!(self.app.dialog.is_none());
    }

    fn history(&self) -> &HistoryView {
        self.app.history.as_ref().expect("a session is open")
    }

    fn current_name(&self) -> String {
        self.app.list.current().expect("a selection").name.clone()
    }

    /// Names of the loaded list rows, in order.
    fn names(&self) -> Vec<String> {
        self.app.list.rows.iter().map(|s| s.name.clone()).collect()
    }

    fn session(&self, name: &str) -> Session {
        self.store.session(name).unwrap()
    }

    /// Moves the list selection to a session with j (from the top).
    fn select(&mut self, name: &str) {
        if self.app.focus != Pane::List {
            self.key_code(KeyCode::Esc);
        }
        assert_eq!(self.app.focus, Pane::List);
        self.key('g');
        for _ in 0..self.app.list.total {
            if self.current_name() == name {
                return;
            }
            self.key('j');
        }
        assert_eq!(self.current_name(), name, "{name} is not in the list");
    }

    /// Selects a session and opens it with Enter (the history gets the focus).
    fn open(&mut self, name: &str) {
        self.select(name);
        self.key_code(KeyCode::Enter);
        assert_eq!(self.app.focus, Pane::History);
        assert_eq!(self.history().session.name, name);
        assert!(!self.history().loading());
    }
}

fn live_demo_names() -> BTreeSet<String> {
    let store = scrollback::demo::store(StoreOptions::default()).unwrap();
    store
        .list(&ListQuery::default())
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect()
}

/// The fuzzy rule of the filter: the letters in order, any case.
fn fuzzy(name: &str, pattern: &str) -> bool {
    let mut chars = name.chars().flat_map(char::to_lowercase);
    pattern
        .chars()
        .flat_map(char::to_lowercase)
        .all(|p| chars.any(|c| c == p))
}

fn is_load_list(c: &Command) -> bool {
    matches!(c, Command::LoadList { .. })
}

// ---------------------------------------------------------------------------
// Startup
// ---------------------------------------------------------------------------

#[test]
fn startup_loads_the_list_and_opens_the_first_session() {
    let (app, first) = App::new(80, 24, Keymap::default(), frozen());
    assert!(!app.list.loaded);
    assert!(app.history.is_none());
    assert!(
        matches!(&first[0], Command::LoadList { offset: 0, query, .. } if *query == ListQuery::default()),
        "{first:?}"
    );
    assert!(first.contains(&Command::LoadTags));

    let h = Harness::demo(80, 24);
    let app = &h.app;
    assert!(app.list.loaded);
    assert_eq!(app.list.total, 11, "12 demo sessions, one archived");
    assert_eq!(app.list.rows.len(), 11);
    assert_eq!(app.list.selected, 0);
    assert!(!app.welcome());
    assert_eq!(app.screen, Screen::Main);
    assert_eq!(app.focus, Pane::List);
    // Most recently updated first.
    assert_eq!(h.current_name(), "tiler-fix-gap-layout");
    assert!(
        !h.names()
            .contains(&"postmortem-db-failover-march".to_string())
    );
    let hist = h.history();
    assert_eq!(hist.session.name, "tiler-fix-gap-layout");
    assert_eq!(hist.cursor, 0);
    assert_eq!(hist.messages.len() as u64, hist.session.message_count);
    assert!(!hist.loading());
    let meta = app.meta.as_ref().unwrap();
    assert_eq!(meta.session.name, "tiler-fix-gap-layout");
    assert_eq!(meta.stats.messages, 39);
    assert_eq!(app.known_tags, h.store.tag_names().unwrap());
    assert!(app.known_tags.contains(&"rust".to_string()));
    assert!(!app.quit);
    assert!(app.status.message.is_empty());
}

#[test]
fn an_empty_store_shows_the_welcome() {
    let h = Harness::with_store(Store::open_in_memory().unwrap(), 80, 24, Vec::new());
    assert!(h.app.list.loaded);
    assert_eq!(h.app.list.total, 0);
    assert!(h.app.welcome());
    assert!(h.app.history.is_none());
}

#[test]
fn stale_list_windows_are_dropped() {
    let mut h = Harness::demo(80, 24);
    let gen_now = h.app.list.generation;
    let cmds = h.app.update(Event::ListLoaded {
        generation: gen_now - 1,
        total: 1,
        offset: 0,
        rows: Vec::new(),
        located: None,
    });
    assert!(cmds.is_empty());
    assert_eq!(h.app.list.total, 11);
}

// ---------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------

#[test]
fn list_navigation_moves_the_selection_and_opens_it() {
    let mut h = Harness::demo(80, 24);
    let names = h.names();

    let cmds = h.key('j');
    assert_eq!(h.app.list.selected, 1);
    let blog = h.session(&names[1]).id;
    assert!(cmds.iter().any(
        |c| matches!(c, Command::LoadHistory { id: got, from: 0, limit: 300, .. } if *got == blog)
    ));
    assert!(cmds.contains(&Command::LoadMeta { id: blog }));
    assert_eq!(h.history().session.name, names[1]);
    assert_eq!(h.app.meta.as_ref().unwrap().session.name, names[1]);
    assert_eq!(h.app.focus, Pane::List, "moving does not take the focus");

    h.key('k');
    assert_eq!(h.app.list.selected, 0);
    assert_eq!(h.history().session.name, names[0]);
    h.key('k');
    assert_eq!(h.app.list.selected, 0, "stops at the top");

    h.key('G');
    assert_eq!(h.app.list.selected, 10);
    assert_eq!(h.history().session.name, names[10]);
    h.key('j');
    assert_eq!(h.app.list.selected, 10, "stops at the bottom");
    h.key('g');
    assert_eq!(h.app.list.selected, 0);
    h.key_code(KeyCode::End);
    assert_eq!(h.app.list.selected, 10);
    h.key_code(KeyCode::Home);
    assert_eq!(h.app.list.selected, 0);
    h.key_code(KeyCode::Down);
    assert_eq!(h.app.list.selected, 1);
    h.key_code(KeyCode::Up);
    assert_eq!(h.app.list.selected, 0);
    // Moving onto the session already shown asks for nothing.
    assert!(h.key('g').is_empty());
}

#[test]
fn list_pages_follow_the_pane_height() {
    // 80x16: the list pane is 15 rows, 13 inside the border: a page is 13,
    // half a page 6.
    let mut h = Harness::demo(80, 16);
    h.ctrl('d');
    assert_eq!(h.app.list.selected, 6);
    assert_eq!(h.history().session.name, h.names()[6]);
    h.ctrl('d');
    assert_eq!(h.app.list.selected, 10, "clamped to the last");
    h.ctrl('u');
    assert_eq!(h.app.list.selected, 4);
    h.ctrl('u');
    assert_eq!(h.app.list.selected, 0);
    h.key_code(KeyCode::PageDown);
    assert_eq!(h.app.list.selected, 10);
    h.key_code(KeyCode::PageUp);
    assert_eq!(h.app.list.selected, 0);
    h.ctrl('f');
    assert_eq!(h.app.list.selected, 10);
    h.ctrl('b');
    assert_eq!(h.app.list.selected, 0);
    // The selection stays inside the visible rows.
    h.key('G');
    assert!(h.app.list.top <= 10 && 10 < h.app.list.top + 13);
}

#[test]
fn leaving_the_loaded_window_reloads_the_list_around_the_selection() {
    let mut h = Harness::demo(80, 24);
    let rows: Vec<Session> = h.app.list.rows[..10].to_vec();
    let generation = h.app.list.generation;
    let cmds = h.app.update(Event::ListLoaded {
        generation,
        total: 1000,
        offset: 0,
        rows,
        located: None,
    });
    assert!(cmds.is_empty(), "the selection did not change: {cmds:?}");
    assert_eq!(h.app.list.total, 1000);

    // Inside the window: no reload.
    let cmds = h.press(KeyCode::Char('j'), KeyModifiers::NONE);
    assert!(!cmds.iter().any(is_load_list), "{cmds:?}");

    let cmds = h.press(KeyCode::Char('G'), KeyModifiers::NONE);
    assert_eq!(h.app.list.selected, 999);
    assert_eq!(
        cmds,
        vec![Command::LoadList {
            generation: generation + 1,
            query: ListQuery::default(),
            offset: 849,
            limit: 300,
            locate: None,
        }]
    );
    assert!(h.app.list.top <= 999 && 999 < h.app.list.top + 21);

    // Back to the top (still loaded, the reload was never answered), then
    // one step past the 10 loaded rows.
    let cmds = h.press(KeyCode::Char('g'), KeyModifiers::NONE);
    assert!(!cmds.iter().any(is_load_list), "{cmds:?}");
    let generation = h.app.list.generation;
    let ten = h.store.list(&ListQuery::default()).unwrap()[..10].to_vec();
    h.app.update(Event::ListLoaded {
        generation,
        total: 1000,
        offset: 0,
        rows: ten,
        located: None,
    });
    for _ in 0..9 {
        let cmds = h.press(KeyCode::Char('j'), KeyModifiers::NONE);
        assert!(!cmds.iter().any(is_load_list));
    }
    let cmds = h.press(KeyCode::Char('j'), KeyModifiers::NONE);
    assert_eq!(h.app.list.selected, 10);
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::LoadList {
                offset: 0,
                limit: 300,
                ..
            }]
        ),
        "{cmds:?}"
    );
    let cmds = h.press(KeyCode::PageDown, KeyModifiers::NONE);
    assert_eq!(h.app.list.selected, 31);
    assert!(cmds.iter().any(is_load_list));
}

#[test]
fn a_list_window_that_arrives_opens_the_selection() {
    // With a window reload pending, the answer arriving (and holding the
    // selection) opens that session.
    let mut h = Harness::demo(80, 24);
    let cmds = h.key('G');
    assert!(!cmds.iter().any(is_load_list));
    let g = h.app.list.generation;
    let rows = h.app.list.rows.clone();
    let cmds = h.app.update(Event::ListLoaded {
        generation: g,
        total: 11,
        offset: 0,
        rows,
        located: None,
    });
    assert!(cmds.is_empty(), "same selection, nothing to open");
}

#[test]
fn tab_and_backtab_cycle_the_focus() {
    let mut h = Harness::demo(80, 24);
    assert_eq!(h.app.focus, Pane::List);
    for want in [Pane::History, Pane::Meta, Pane::List, Pane::History] {
        assert!(h.key_code(KeyCode::Tab).is_empty());
        assert_eq!(h.app.focus, want);
    }
    h.key_code(KeyCode::Esc);
    assert_eq!(h.app.focus, Pane::List);
    for want in [Pane::Meta, Pane::History, Pane::List] {
        h.key_code(KeyCode::BackTab);
        assert_eq!(h.app.focus, want);
    }
    // h and left leave the history too.
    h.key_code(KeyCode::Tab);
    h.key('h');
    assert_eq!(h.app.focus, Pane::List);
    h.key_code(KeyCode::Tab);
    h.key_code(KeyCode::Left);
    assert_eq!(h.app.focus, Pane::List);
}

#[test]
fn enter_on_the_list_opens_and_focuses_the_history() {
    let mut h = Harness::demo(80, 24);
    let cmds = h.key('j');
    let id = h.app.list.current().unwrap().id;
    // Moving the selection opened it already.
    assert!(cmds.iter().any(
        |c| matches!(c, Command::LoadHistory { id: got, from: 0, limit: 300, .. } if *got == id)
    ));
    assert!(cmds.contains(&Command::LoadMeta { id }));
    // Enter gives it the keyboard; it is not read again.
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(h.app.focus, Pane::History);
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(h.history().session.id, id);
    // l and right open too.
    h.key_code(KeyCode::Esc);
    h.key('j');
    h.key('l');
    assert_eq!(h.app.focus, Pane::History);
    assert_eq!(h.history().session.name, h.names()[2]);
    h.key_code(KeyCode::Esc);
    h.key('j');
    h.key_code(KeyCode::Right);
    assert_eq!(h.app.focus, Pane::History);
    assert_eq!(h.history().session.name, h.names()[3]);
}

// ---------------------------------------------------------------------------
// The history
// ---------------------------------------------------------------------------

#[test]
fn history_cursor_moves() {
    let mut h = Harness::demo(80, 24);
    h.open("rust-async-deep-dive");
    assert_eq!(h.history().session.message_count, 120);
    assert_eq!(h.history().cursor, 0);

    h.key('G');
    assert_eq!(h.history().cursor, 119);
    assert!(h.history().top <= 119);
    assert!(h.history().top > 100, "scrolled to the end");
    h.key('j');
    assert_eq!(h.history().cursor, 119, "stops at the end");
    h.key('g');
    assert_eq!((h.history().cursor, h.history().top), (0, 0));
    h.key('k');
    assert_eq!(h.history().cursor, 0);
    h.key('j');
    h.key('j');
    assert_eq!(h.history().cursor, 2);
    h.key('k');
    assert_eq!(h.history().cursor, 1);
    h.ctrl('d');
    assert_eq!(h.history().cursor, 6);
    h.key_code(KeyCode::PageDown);
    assert_eq!(h.history().cursor, 16);
    h.ctrl('u');
    assert_eq!(h.history().cursor, 11);
    h.key_code(KeyCode::PageUp);
    assert_eq!(h.history().cursor, 1);
    h.key_code(KeyCode::End);
    assert_eq!(h.history().cursor, 119);
    h.key_code(KeyCode::Home);
    assert_eq!(h.history().cursor, 0);
    // The list selection does not move with the history.
    assert_eq!(h.current_name(), "rust-async-deep-dive");
}

#[test]
fn a_long_history_loads_windows_around_the_cursor() {
    let mut store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let s = store
        .create_session(&NewSession::named("a-long-one"))
        .unwrap();
    let msgs: Vec<NewMessage> = (0..1000)
        .map(|i| NewMessage::new(Role::User, format!("message number {i}")))
        .collect();
    store.add_messages(s.id, &msgs).unwrap();
    let mut h = Harness::with_store(store, 80, 24, Vec::new());
    h.open("a-long-one");
    assert_eq!((h.history().first, h.history().messages.len()), (0, 300));

    let cmds = h.key('G');
    assert!(
        matches!(cmds.as_slice(), [Command::LoadHistory { id, from: 899, limit: 300, .. }] if *id == s.id),
        "{cmds:?}"
    );
    let hist = h.history();
    assert_eq!((hist.cursor, hist.first), (999, 899));
    assert_eq!(hist.message(999).unwrap().content, "message number 999");
    assert!(!hist.loading());

    h.key(':');
    h.typ("500");
    let cmds = h.key_code(KeyCode::Enter);
    assert!(matches!(
        cmds.as_slice(),
        [Command::LoadHistory { from: 400, .. }]
    ));
    assert_eq!(h.history().cursor, 500);
    assert_eq!(
        h.history().message(500).unwrap().content,
        "message number 500"
    );
    // Close to the cursor: already loaded, nothing asked.
    assert!(h.key('j').is_empty());
}

/// The demo store and a Claude Code session recorded in `cwd`
/// (`claude-resumable`, id `c1`), with a branch of it (`claude-branch`).
fn with_claude_session(cwd: &std::path::Path) -> Harness {
    use scrollback::domain::{MessageDoc, SessionDoc};
    let mut store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let doc = |name: &str, source_ref: &str| SessionDoc {
        name: Some(name.into()),
        source: Some("claude-code".into()),
        source_ref: Some(source_ref.into()),
        metadata: json!({"cwd": cwd, "resume_command": "claude --resume c1"})
            .as_object()
            .unwrap()
            .clone(),
        messages: vec![MessageDoc {
            role: Some(Role::User),
            content: "hello".into(),
            ..MessageDoc::default()
        }],
        ..SessionDoc::default()
    };
    store
        .import_docs(
            [doc("claude-resumable", "c1"), doc("claude-branch", "c1@m2")],
            scrollback::store::ImportOptions::default(),
        )
        .unwrap();
    // Wide: the reasons fit in the status bar, without a popup.
    Harness::with_store(store, 240, 40, Vec::new())
}

#[test]
fn r_hands_the_terminal_to_the_tool_in_the_session_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_claude_session(dir.path());
    h.open("claude-resumable");
    let id = h.session("claude-resumable").id;
    let cmds = h.key('R');
    assert!(
        matches!(cmds.as_slice(), [Command::PlanResume { id: i, commands }]
            if *i == id && commands["claude-code"] == "claude --resume {id}"),
        "{cmds:?}"
    );
    let [Command::Resume { plan }] = h.terminal.as_slice() else {
        panic!("the terminal is not handed over: {:?}", h.terminal);
    };
    assert_eq!(plan.program, "claude");
    assert_eq!(plan.args, vec!["--resume", "c1"]);
    assert_eq!(plan.dir.as_deref(), Some(dir.path()));
    let shown = plan.shown.clone();
    // `:resume` alone does the same (with a name, it opens that session).
    h.terminal.clear();
    h.key(':');
    h.typ("resume\n");
    assert!(h.app.prompt.is_none());
    assert!(
        matches!(h.terminal.as_slice(), [Command::Resume { plan: p }] if p.shown == shown),
        "{:?}",
        h.terminal
    );
    // The program ended: the status bar says so, with its exit code.
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        h.event(Event::Resumed {
            shown: shown.clone(),
            ended: Ok(std::process::ExitStatus::from_raw(0)),
        });
        assert_eq!(
            h.app.status.message,
            "back from claude --resume c1 (exit 0)"
        );
        assert!(!h.app.status.error);
        h.event(Event::Resumed {
            shown: shown.clone(),
            ended: Ok(std::process::ExitStatus::from_raw(3 << 8)),
        });
        assert_eq!(
            h.app.status.message,
            "back from claude --resume c1 (exit 3)"
        );
        assert!(h.app.status.error);
    }
    h.event(Event::Resumed {
        shown,
        ended: Err("`claude` is not installed".into()),
    });
    assert_eq!(h.app.status.message, "`claude` is not installed");
    assert!(h.app.status.error);
}

#[test]
fn r_on_a_session_that_cannot_be_resumed_says_why_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_claude_session(dir.path());
    h.open("claude-branch");
    h.key('R');
    assert!(h.terminal.is_empty(), "{:?}", h.terminal);
    assert_eq!(
        h.app.status.message,
        "cannot resume claude-branch: it is a branch, and Claude Code resumes only its own sessions"
    );
    assert!(h.app.status.error);
    // Made here: no tool to resume it in.
    h.open("blog-post-sqlite-fts5");
    h.key('R');
    assert!(h.terminal.is_empty(), "{:?}", h.terminal);
    assert!(
        h.app
            .status
            .message
            .starts_with("cannot resume blog-post-sqlite-fts5: it comes from scrollback, "),
        "{}",
        h.app.status.message
    );
    // The working directory is gone.
    let cwd = dir.path().to_path_buf();
    drop(dir);
    h.open("claude-resumable");
    h.key('R');
    assert!(h.terminal.is_empty(), "{:?}", h.terminal);
    assert_eq!(
        h.app.status.message,
        format!(
            "cannot resume claude-resumable: its working directory {} no longer exists",
            cwd.display()
        )
    );
}

#[test]
fn in_the_demo_r_shows_the_command_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_claude_session(dir.path());
    h.app.demo = true;
    h.open("claude-resumable");
    h.key('R');
    assert!(h.terminal.is_empty(), "{:?}", h.terminal);
    assert_eq!(
        h.app.status.message,
        format!(
            "the demo runs nothing; resuming claude-resumable would run: cd {} && claude --resume c1",
            scrollback::resume::quote(&dir.path().to_string_lossy())
        )
    );
}

#[test]
fn z_and_enter_fold_and_expand_the_message() {
    let mut h = Harness::demo(80, 24);
    h.open("tiler-fix-gap-layout");
    h.key('j');
    assert!(h.history().expanded.is_empty());
    h.key('z');
    assert!(h.history().expanded.contains(&1));
    h.key('z');
    assert!(!h.history().expanded.contains(&1));
    h.key_code(KeyCode::Enter);
    assert!(h.history().expanded.contains(&1));
    h.key_code(KeyCode::Enter);
    assert!(h.history().expanded.is_empty());
}

#[test]
fn the_command_line_jumps_to_a_message_number() {
    let mut h = Harness::demo(80, 24);
    // Only with a session open.
    let mut empty = Harness::with_store(Store::open_in_memory().unwrap(), 80, 24, Vec::new());
    empty.key(':');
    empty.typ("3\n");
    assert_eq!(
        empty.app.prompt.as_ref().unwrap().error.as_deref(),
        Some("no session open to jump in")
    );

    h.open("rust-async-deep-dive");
    h.key(':');
    assert!(h.app.prompt.is_some());
    h.typ("42");
    assert_eq!(h.app.prompt.as_ref().unwrap().input, "42");
    h.key_code(KeyCode::Enter);
    assert!(h.app.prompt.is_none());
    assert_eq!(h.history().cursor, 42);
    assert_eq!(h.history().top, 42, "a jump puts the message at the top");

    h.key(':');
    h.typ("forty\n");
    assert!(
        h.app
            .prompt
            .as_ref()
            .unwrap()
            .error
            .as_deref()
            .unwrap()
            .starts_with("unknown command :forty"),
        "{:?}",
        h.app.prompt
    );
    assert_eq!(h.history().cursor, 42);
    h.key_code(KeyCode::Esc);
    assert!(h.app.prompt.is_none());

    h.key(':');
    h.typ("1,000\n");
    assert_eq!(h.history().cursor, 119, "clamped to the last message");
}

// ---------------------------------------------------------------------------
// Sort and filter
// ---------------------------------------------------------------------------

#[test]
fn sort_cycles_and_reloads() {
    let mut h = Harness::demo(80, 24);
    assert_eq!(h.app.list.query.sort, Sort::Updated);
    let expect = [
        (Sort::Created, "sorted by creation", "tiler-fix-gap-layout"),
        (Sort::Name, "sorted by name", "api-redesign"),
        (Sort::Size, "sorted by size", "rust-async-deep-dive"),
        (
            Sort::Updated,
            "sorted by last update",
            "tiler-fix-gap-layout",
        ),
    ];
    for (sort, status, first) in expect {
        let cmds = h.key('s');
        assert!(
            matches!(&cmds[..], [Command::LoadList { query, offset: 0, .. }] if query.sort == sort),
            "{cmds:?}"
        );
        assert_eq!(h.app.list.query.sort, sort);
        assert_eq!(h.app.status.message, status);
        assert_eq!(h.names()[0], first);
        assert_eq!(h.app.list.total, 11);
    }
    // By name, the rows really are in name order.
    h.key('s');
    h.key('s');
    let names = h.names();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // The selection (row 0) is opened.
    assert_eq!(h.history().session.name, "api-redesign");
}

#[test]
fn filter_by_tag_narrows_and_esc_clears() {
    let mut h = Harness::demo(80, 24);
    let cmds = h.key('f');
    assert!(cmds.is_empty());
    assert!(h.app.list.filtering);
    h.typ("tag:rust");
    assert_eq!(h.app.list.filter, "tag:rust");
    assert_eq!(h.app.list.query.tags, vec!["rust".to_string()]);
    assert_eq!(h.app.list.total, 3);
    let got: BTreeSet<String> = h.names().into_iter().collect();
    let want: BTreeSet<String> = [
        "rust-async-deep-dive",
        "tiler-fix-gap-layout",
        "tui-localisation-ja-zh",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(got, want);
    assert!(
        h.app
            .list
            .rows
            .iter()
            .all(|s| s.tags.contains(&"rust".into()))
    );

    let cmds = h.key_code(KeyCode::Esc);
    assert!(cmds.iter().any(is_load_list));
    assert!(!h.app.list.filtering);
    assert_eq!(h.app.list.filter, "");
    assert_eq!(h.app.list.query, ListQuery::default());
    assert_eq!(h.app.list.total, 11);
}

#[test]
fn filter_kept_with_enter_then_cleared_with_esc() {
    let mut h = Harness::demo(80, 24);
    h.key('f');
    h.typ("older:30d");
    h.key_code(KeyCode::Enter);
    assert!(!h.app.list.filtering);
    assert_eq!(h.app.list.filter, "older:30d");
    let cut = frozen()
        .checked_sub(jiff::SignedDuration::from_hours(30 * 24))
        .unwrap();
    assert_eq!(h.app.list.query.updated_before, Some(cut));
    assert_eq!(h.app.list.total, 8);
    assert!(h.app.list.rows.iter().all(|s| s.updated_at < cut));
    // Keys move the list again while the filter stays.
    h.key('j');
    assert_eq!(h.app.list.selected, 1);
    assert_eq!(h.app.list.filter, "older:30d");
    // Esc (back) on the list clears it.
    let cmds = h.key_code(KeyCode::Esc);
    assert!(cmds.iter().any(is_load_list));
    assert_eq!(h.app.list.filter, "");
    assert_eq!(h.app.list.total, 11);
    // Nothing more to clear.
    assert!(h.key_code(KeyCode::Esc).is_empty());
}

#[test]
fn filter_by_source_metadata_and_fuzzy_name() {
    let mut h = Harness::demo(80, 24);
    h.key('f');
    h.typ("source:codex");
    assert_eq!(h.names(), ["pandas-to-polars-orders-job"]);
    h.ctrl('u');
    assert_eq!(h.app.list.filter, "");
    assert_eq!(h.app.list.total, 11);

    h.typ("project=ledgerly");
    let got: BTreeSet<String> = h.names().into_iter().collect();
    assert_eq!(
        got,
        ["api-redesign", "api-redesign-graphql", "api-redesign-grpc"]
            .iter()
            .map(ToString::to_string)
            .collect::<BTreeSet<_>>(),
        "the archived postmortem is left out"
    );
    h.ctrl('u');

    h.typ("apr");
    let got: BTreeSet<String> = h.names().into_iter().collect();
    let want: BTreeSet<String> = live_demo_names()
        .into_iter()
        .filter(|n| fuzzy(n, "apr"))
        .collect();
    assert_eq!(got, want);
    for n in ["api-redesign", "api-redesign-graphql", "api-redesign-grpc"] {
        assert!(got.contains(n), "{n} matches apr");
    }
    assert!(!got.contains("tiler-fix-gap-layout"));

    // Words combine (AND).
    h.typ(" tag:research");
    assert_eq!(h.names(), ["api-redesign-graphql"]);
    // Backspace widens again.
    for _ in 0..13 {
        h.key_code(KeyCode::Backspace);
    }
    assert_eq!(h.app.list.filter, "apr");
    assert_eq!(h.app.list.total as usize, want.len());
}

#[test]
fn a_bad_filter_sets_an_error_and_keeps_the_list() {
    let mut h = Harness::demo(80, 24);
    h.key('f');
    h.typ("tag:rust");
    assert_eq!(h.app.list.total, 3);
    h.typ(" ");
    let before = h.names();
    for c in "older:xyz".chars() {
        let cmds = h.key(c);
        if c == ':' || "xyz".contains(c) {
            assert!(cmds.is_empty(), "{c}: {cmds:?}");
            assert!(h.app.status.error);
            assert!(
                h.app.status.message.contains("span"),
                "{}",
                h.app.status.message
            );
        }
    }
    // "tag:rust older" was the last good filter: nothing is named "older".
    assert_eq!(h.app.list.filter, "tag:rust older:xyz");
    assert!(h.app.list.query.updated_before.is_none());
    assert_eq!(h.app.list.total, 0);
    assert!(before.len() == 3);
    // Fixing the filter clears the error.
    for _ in 0..3 {
        h.key_code(KeyCode::Backspace);
    }
    h.typ("30d");
    assert!(!h.app.status.error);
    assert!(h.app.status.message.is_empty());
    let got: BTreeSet<String> = h.names().into_iter().collect();
    assert_eq!(
        got,
        ["rust-async-deep-dive", "tui-localisation-ja-zh"]
            .iter()
            .map(ToString::to_string)
            .collect::<BTreeSet<_>>(),
        "the rust sessions updated before 2026-10-22"
    );

    // parse_filter itself.
    assert!(parse_filter("older:xyz", frozen()).is_err());
    let q = parse_filter("tag:a tag:b source:x k=v some name", frozen()).unwrap();
    assert_eq!(q.tags, ["a", "b"]);
    assert_eq!(q.source.as_deref(), Some("x"));
    assert_eq!(q.metadata, [("k".to_string(), "v".to_string())]);
    assert_eq!(q.name_like.as_deref(), Some("somename"));
}

#[test]
fn a_bad_filter_alone_keeps_the_previous_rows() {
    let mut h = Harness::demo(80, 24);
    h.key('f');
    h.typ("older");
    let total = h.app.list.total;
    let names = h.names();
    let generation = h.app.list.generation;
    for c in ":xyz".chars() {
        assert!(h.key(c).is_empty());
    }
    assert!(h.app.status.error);
    assert_eq!(h.app.list.generation, generation, "no reload was asked");
    assert_eq!(h.app.list.total, total);
    assert_eq!(h.names(), names);
}

// ---------------------------------------------------------------------------
// Mark and merge
// ---------------------------------------------------------------------------

#[test]
fn merge_needs_two_marked_sessions() {
    let mut h = Harness::demo(80, 24);
    assert!(h.key('m').is_empty());
    assert!(h.app.status.error);
    assert!(h.app.status.message.contains("mark two"));
    assert!(h.app.dialog.is_none());
    h.key(' ');
    assert_eq!(h.app.list.marked.len(), 1);
    assert!(h.key('m').is_empty());
    assert!(h.app.status.error);
    assert!(h.app.dialog.is_none());
}

#[test]
fn space_marks_and_moves_down_and_unmarks() {
    let mut h = Harness::demo(80, 24);
    let first = h.app.list.current().unwrap().id;
    h.key(' ');
    assert!(h.app.list.marked.contains_key(&first));
    assert_eq!(h.app.list.selected, 1);
    assert_eq!(h.history().session.name, h.names()[1], "the next is opened");
    h.key('k');
    h.key(' ');
    assert!(h.app.list.marked.is_empty(), "space again unmarks");
    assert_eq!(h.app.list.selected, 1);
    // At the end it marks and stays.
    h.key('G');
    h.key(' ');
    assert_eq!(h.app.list.marked.len(), 1);
    assert_eq!(h.app.list.selected, 10);
}

#[test]
fn merge_two_marked_sessions() {
    let mut h = Harness::demo(80, 24);
    let a = h.session("tiler-fix-gap-layout");
    let b = h.session("blog-post-sqlite-fts5");
    h.key(' ');
    h.key(' ');
    assert_eq!(h.app.list.marked.len(), 2);
    let cmds = h.press(KeyCode::Char('m'), KeyModifiers::NONE);
    let mut ids = vec![a.id, b.id];
    ids.sort();
    assert_eq!(
        cmds,
        vec![Command::PreviewMerge {
            ids: ids.clone(),
            order: MergeOrder::Time
        }]
    );
    let first_name = if ids[0] == a.id { &a.name } else { &b.name };
    let name = format!("{first_name}-merged");
    assert_eq!(dialog!(h, Merge).preview, None);
    assert_eq!(dialog!(h, Merge).name.text(), name);
    assert_eq!(h.info().last().unwrap(), "counting messages…");
    h.pump(cmds);
    assert_eq!(
        dialog!(h, Merge).preview,
        Some(51),
        "39 + 12 messages, nothing shared"
    );
    assert_eq!(
        h.info().last().unwrap(),
        "the merged session will hold 51 messages"
    );
    assert!(h.info()[0].starts_with("1. "));

    // The order choice asks for a new preview.
    h.key_code(KeyCode::Tab);
    let cmds = h.key_code(KeyCode::Right);
    assert_eq!(
        cmds,
        vec![Command::PreviewMerge {
            ids: ids.clone(),
            order: MergeOrder::Given
        }]
    );
    h.key_code(KeyCode::Left);

    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Merge {
            ids,
            name: name.clone(),
            order: MergeOrder::Time
        })]
    );
    assert!(h.app.dialog.is_none());
    assert!(h.app.list.marked.is_empty());
    let merged = h.session(&name);
    assert_eq!(merged.message_count, 51);
    assert_eq!(h.app.list.total, 12);
    assert_eq!(h.current_name(), name, "the new session is selected");
    assert_eq!(h.history().session.id, merged.id, "and opened");
    assert_eq!(h.history().messages.len(), 51);
    assert!(!h.app.status.error);
    assert!(
        h.app.status.message.contains("merged 2 sessions"),
        "{}",
        h.app.status.message
    );
    // The sources stay.
    assert_eq!(h.session(&a.name).message_count, 39);
}

#[test]
fn merge_preview_matches_the_merge_of_related_sessions() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign-graphql");
    h.key(' ');
    h.select("api-redesign");
    h.key(' ');
    h.key('m');
    let n = dialog!(h, Merge).preview.expect("a preview");
    assert!(n < 20, "the shared prefix is counted once: {n}");
    h.clear_field();
    h.typ("api-all");
    h.key_code(KeyCode::Enter);
    assert_eq!(h.session("api-all").message_count as usize, n);
}

#[test]
fn merge_with_a_bad_name_keeps_the_dialog() {
    let mut h = Harness::demo(80, 24);
    h.key(' ');
    h.key(' ');
    h.key('m');
    h.clear_field();
    let cmds = h.key_code(KeyCode::Enter);
    assert!(cmds.is_empty());
    assert!(h.error().unwrap().contains("invalid name"));
    assert_eq!(h.app.list.marked.len(), 2, "marks kept until the merge");
    h.discard();
    assert_eq!(h.app.list.marked.len(), 2);
}

// ---------------------------------------------------------------------------
// Branch
// ---------------------------------------------------------------------------

#[test]
fn branch_at_the_history_cursor() {
    let mut h = Harness::demo(80, 24);
    h.open("rust-async-deep-dive");
    h.key(':');
    h.typ("41");
    h.key_code(KeyCode::Enter);
    assert_eq!(h.history().cursor, 41);
    let src = h.session("rust-async-deep-dive");

    h.key('b');
    assert_eq!((dialog!(h, Branch).id, dialog!(h, Branch).at), (src.id, 41));
    assert_eq!(
        dialog!(h, Branch).name.text(),
        "rust-async-deep-dive-branch"
    );
    assert_eq!(
        h.info(),
        ["holds messages 0..=41 of rust-async-deep-dive (42 of 120)"]
    );
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Branch {
            id: src.id,
            name: "rust-async-deep-dive-branch".into(),
            at: 41
        })]
    );
    let b = h.session("rust-async-deep-dive-branch");
    assert_eq!(b.message_count, 42);
    assert_eq!(b.parent.as_ref(), Some(&src.uid));
    assert_eq!(b.fork_seq, Some(41));
    let theirs = h.store.messages(src.id, 0, 42).unwrap();
    let ours = h.store.all_messages(b.id).unwrap();
    assert_eq!(
        ours.iter().map(|m| &m.content).collect::<Vec<_>>(),
        theirs.iter().map(|m| &m.content).collect::<Vec<_>>()
    );
    // The branch is shown, and the status says what happened.
    assert_eq!(h.history().session.id, b.id);
    assert_eq!(h.current_name(), "rust-async-deep-dive-branch");
    assert!(h.app.status.message.contains("branched"));
    // The source gained a branch in its details.
    h.select("rust-async-deep-dive");
    let meta = h.app.meta.as_ref().unwrap();
    assert_eq!(meta.session.id, src.id);
    assert!(meta.branches.iter().any(|s| s.id == b.id));
}

#[test]
fn branch_from_the_list_takes_every_message() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    h.key('b');
    assert_eq!(dialog!(h, Branch).at, 9);
    h.clear_field();
    h.typ("no/slashes");
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert!(h.error().unwrap().contains("invalid name"));
    h.clear_field();
    h.typ("api-copy");
    h.key_code(KeyCode::Enter);
    assert!(h.app.dialog.is_none());
    assert_eq!(h.session("api-copy").message_count, 10);
}

// ---------------------------------------------------------------------------
// Rename, tags, metadata
// ---------------------------------------------------------------------------

#[test]
fn rename_valid_invalid_and_taken() {
    let mut h = Harness::demo(80, 24);
    h.select("blog-post-sqlite-fts5");
    let id = h.session("blog-post-sqlite-fts5").id;
    h.key('r');
    assert_eq!(dialog!(h, Rename).id, id);
    assert_eq!(h.dialog().view().title, "rename blog-post-sqlite-fts5");
    assert_eq!(dialog!(h, Rename).name.text(), "blog-post-sqlite-fts5");

    h.clear_field();
    h.typ("bad/name");
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert!(h.app.dialog.is_some(), "the dialog stays open");
    assert!(h.error().unwrap().contains("invalid name"));
    assert!(h.store.session("bad/name").is_err());

    h.clear_field();
    h.typ("fts5-blog-post");
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Rename {
            id,
            name: "fts5-blog-post".into()
        })]
    );
    assert!(h.app.dialog.is_none());
    assert_eq!(h.session("fts5-blog-post").id, id);
    assert!(h.store.session("blog-post-sqlite-fts5").is_err());
    assert_eq!(h.app.status.message, "renamed to fts5-blog-post");
    assert_eq!(h.current_name(), "fts5-blog-post", "the selection follows");
    assert_eq!(h.history().session.name, "fts5-blog-post");

    // A taken name fails in the store: the status says so.
    h.key('r');
    h.clear_field();
    h.typ("api-redesign");
    h.key_code(KeyCode::Enter);
    // The dialog stays, with what was typed and the store's error.
    assert_eq!(dialog!(h, Rename).name.text(), "api-redesign");
    assert!(
        h.error().unwrap().contains("already exists"),
        "{:?}",
        h.error()
    );
    assert_eq!(h.session("fts5-blog-post").id, id);
    // Fixed, it goes through.
    h.typ("-v2\n");
    assert!(h.app.dialog.is_none());
    assert_eq!(h.session("api-redesign-v2").id, id);
}

#[test]
fn tags_dialog_adds_removes_and_completes() {
    let mut h = Harness::demo(80, 24);
    h.select("rust-async-deep-dive");
    let id = h.session("rust-async-deep-dive").id;
    h.key('t');
    let d = dialog!(h, Tags);
    assert_eq!(d.id, id);
    assert_eq!(d.current, ["keep", "research", "rust"]);
    assert!(d.known.contains(&"planning".to_string()));
    assert_eq!(d.tags.text(), "keep research rust");
    assert_eq!(
        h.info()[0],
        "the tags it should carry, space separated; -tag removes one; tab completes"
    );
    assert!(h.info()[1].starts_with("known: "));

    h.clear_field();
    h.typ("rust research pla");
    h.key_code(KeyCode::Tab);
    assert_eq!(dialog!(h, Tags).tags.text(), "rust research planning");
    // Nothing to complete: unchanged.
    h.typ(" zz");
    h.key_code(KeyCode::Tab);
    assert_eq!(dialog!(h, Tags).tags.text(), "rust research planning zz");
    for _ in 0..3 {
        h.key_code(KeyCode::Backspace);
    }
    // A full tag is not completed further.
    h.key_code(KeyCode::Tab);
    assert_eq!(dialog!(h, Tags).tags.text(), "rust research planning");

    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Tags {
            id,
            add: vec!["planning".into()],
            remove: vec!["keep".into()],
        })]
    );
    assert!(h.app.dialog.is_none());
    assert_eq!(
        h.session("rust-async-deep-dive").tags,
        ["planning", "research", "rust"]
    );
    assert_eq!(h.app.status.message, "tags: planning, research, rust");
    // The open history and the details follow.
    assert_eq!(
        h.app.meta.as_ref().unwrap().session.tags,
        ["planning", "research", "rust"]
    );
    assert_eq!(h.history().session.tags, ["planning", "research", "rust"]);
}

#[test]
fn tags_dialog_refuses_bad_tags_and_accepts_plus() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    h.key('t');
    h.typ(" a,b");
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert!(h.error().unwrap().contains("invalid tag"));
    for _ in 0..4 {
        h.key_code(KeyCode::Backspace);
    }
    h.typ(" +fresh");
    h.key_code(KeyCode::Enter);
    assert!(h.app.dialog.is_none());
    assert!(
        h.session("api-redesign")
            .tags
            .contains(&"fresh".to_string())
    );
}

#[test]
fn tags_dialog_minus_removes_a_tag() {
    let mut h = Harness::demo(80, 24);
    h.select("rust-async-deep-dive");
    let id = h.session("rust-async-deep-dive").id;
    h.key('t');
    assert_eq!(dialog!(h, Tags).tags.text(), "keep research rust");
    h.typ(" -ke");
    h.key_code(KeyCode::Tab);
    assert_eq!(dialog!(h, Tags).tags.text(), "keep research rust -keep");
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Tags {
            id,
            add: Vec::new(),
            remove: vec!["keep".into()],
        })]
    );
    assert!(h.app.dialog.is_none());
    assert_eq!(h.session("rust-async-deep-dive").tags, ["research", "rust"]);
    assert_eq!(h.app.status.message, "tags: research, rust");
    assert_eq!(h.history().session.tags, ["research", "rust"]);
}

#[test]
fn metadata_dialog_edits_removes_and_types_values() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    let before = h.session("api-redesign");
    assert!(before.metadata.contains_key("billable"));
    h.key('e');
    assert_eq!(dialog!(h, Metadata).id, before.id);
    let shown = metadata_lines(&before.metadata);
    assert_eq!(dialog!(h, Metadata).lines.text(), shown);
    let lines = shown.lines().count();
    assert_eq!(lines, 4);

    // A line without `=`: the error names it, nothing is saved.
    h.typ("\nnonsense");
    assert!(h.ctrl('s').is_empty());
    assert!(h.app.dialog.is_some(), "the dialog stays open");
    let error = h.error().unwrap().to_string();
    assert!(error.contains(&format!("line {}", lines + 1)), "{error}");
    assert!(error.contains("nonsense"), "{error}");
    assert_eq!(h.session("api-redesign").metadata, before.metadata);

    // Rewritten: billable dropped, priority changed, two keys added.
    h.ctrl('u');
    assert_eq!(dialog!(h, Metadata).lines.text(), "");
    h.typ("project = ledgerly\ntopic = api design\npriority := 5\nreviewed := true\nowner = ana");
    let cmds = h.ctrl('s');
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::Mutate(Mutation::Metadata { id, .. })] if *id == before.id
        ),
        "{cmds:?}"
    );
    assert!(h.app.dialog.is_none());
    assert_eq!(h.app.status.message, "metadata saved");
    assert!(!h.app.status.error);
    let after = h.session("api-redesign").metadata;
    assert!(!after.contains_key("billable"), "{after:?}");
    assert_eq!(
        serde_json::Value::Object(after.clone()),
        json!({
            "project": "ledgerly",
            "topic": "api design",
            "priority": 5,
            "reviewed": true,
            "owner": "ana",
        })
    );
    assert_eq!(after["priority"], json!(5));
    assert!(after["priority"].is_number());
    assert_eq!(after["reviewed"], json!(true));
    assert!(after["owner"].is_string());
    // The details pane follows.
    assert_eq!(h.app.meta.as_ref().unwrap().session.metadata, after);
    // Opened again, the dialog shows the saved lines.
    h.key('e');
    assert_eq!(dialog!(h, Metadata).lines.text(), metadata_lines(&after));
}

#[test]
fn metadata_dialog_refuses_an_empty_key() {
    let mut h = Harness::demo(80, 24);
    h.select("code-review-template");
    let before = h.session("code-review-template").metadata;
    h.key('e');
    assert_eq!(dialog!(h, Metadata).lines.text(), "kind = template");
    h.typ("\n = 3");
    assert!(h.ctrl('s').is_empty());
    assert_eq!(h.error(), Some("line 2: \"= 3\": the key is empty"));
    h.discard();
    assert_eq!(h.session("code-review-template").metadata, before);
}

// ---------------------------------------------------------------------------
// Compose, new session
// ---------------------------------------------------------------------------

#[test]
fn compose_adds_a_message_with_the_chosen_role() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    let before = h.session("api-redesign");
    h.key('a');
    assert_eq!(dialog!(h, Compose).id, before.id);
    // The keyboard starts where the user types: the text.
    assert_eq!(h.focused(), "text (ctrl-s adds it)");
    assert_eq!(dialog!(h, Compose).role.selected(), "user");
    h.key_code(KeyCode::BackTab);
    assert_eq!(h.focused(), "role");
    for want in ["assistant", "system", "tool", "user", "assistant"] {
        assert!(h.key_code(KeyCode::Right).is_empty());
        assert_eq!(dialog!(h, Compose).role.selected(), want);
    }

    // Nothing typed: refused, the dialog stays.
    assert!(h.ctrl('s').is_empty());
    assert_eq!(h.error(), Some("the message is empty"));
    h.key_code(KeyCode::Tab);
    assert_eq!(h.focused(), "text (ctrl-s adds it)");
    h.typ("   ");
    assert!(h.ctrl('s').is_empty(), "blanks are empty too");
    assert!(h.app.dialog.is_some());
    assert_eq!(h.session("api-redesign").message_count, 10);

    h.ctrl('u');
    h.typ("First line\nsecond line");
    let cmds = h.ctrl('s');
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Compose {
            id: before.id,
            role: Role::Assistant,
            text: "First line\nsecond line".into(),
        })]
    );
    assert!(h.app.dialog.is_none());
    let after = h.session("api-redesign");
    assert_eq!(after.message_count, before.message_count + 1);
    let all = h.store.all_messages(after.id).unwrap();
    let last = all.last().unwrap();
    assert_eq!(last.seq, before.message_count);
    assert_eq!(last.role, Role::Assistant);
    assert_eq!(last.content, "First line\nsecond line");
    assert_eq!(
        h.app.status.message,
        format!("added message {} (G goes to the end)", last.seq)
    );
    // The session stays selected and open, with the new message.
    assert_eq!(h.current_name(), "api-redesign");
    assert_eq!(h.history().session.message_count, 11);
    h.key_code(KeyCode::Tab);
    h.key('G');
    assert_eq!(
        h.history().message(10).unwrap().content,
        "First line\nsecond line"
    );
}

#[test]
fn compose_on_the_open_session_from_the_history() {
    let mut h = Harness::demo(80, 24);
    h.open("tui-localisation-ja-zh");
    h.key('a');
    h.key_code(KeyCode::BackTab);
    for _ in 0..3 {
        h.key_code(KeyCode::Right);
    }
    assert_eq!(dialog!(h, Compose).role.selected(), "tool");
    h.key_code(KeyCode::Tab);
    h.typ("ok");
    h.ctrl('s');
    let s = h.session("tui-localisation-ja-zh");
    assert_eq!(s.message_count, 9);
    let last = h.store.messages(s.id, 8, 1).unwrap();
    assert_eq!((last[0].role, last[0].content.as_str()), (Role::Tool, "ok"));
}

#[test]
fn new_session_is_created_selected_and_opened() {
    let mut h = Harness::demo(80, 24);
    let cmds = h.key('+');
    assert!(cmds.is_empty());
    assert_eq!(dialog!(h, NewSession).name.text(), "");
    assert_eq!(dialog!(h, NewSession).template.text(), "");
    h.typ("fresh-notes");
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::New {
            name: "fresh-notes".into(),
            template: None,
        })]
    );
    assert!(h.app.dialog.is_none());
    let s = h.session("fresh-notes");
    assert_eq!(s.message_count, 0);
    assert!(s.tags.is_empty());
    assert_eq!(h.app.list.total, 12);
    assert_eq!(
        h.current_name(),
        "fresh-notes",
        "the new session is selected"
    );
    assert_eq!(h.history().session.id, s.id, "and opened");
    assert!(h.history().messages.is_empty());
    assert!(!h.history().loading());
    assert_eq!(h.app.meta.as_ref().unwrap().session.id, s.id);
    assert_eq!(h.app.status.message, "created fresh-notes");
    assert!(!h.app.status.error);
}

#[test]
fn new_session_from_a_template_starts_with_its_messages() {
    let mut h = Harness::demo(80, 24);
    let template = h.session("code-review-template");
    let want = h.store.all_messages(template.id).unwrap();
    assert!(!want.is_empty());
    h.key('+');
    h.typ("review-login-flow");
    h.key_code(KeyCode::Tab);
    h.typ("code-review-template");
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::New {
            name: "review-login-flow".into(),
            template: Some("code-review-template".into()),
        })]
    );
    let s = h.session("review-login-flow");
    assert_eq!(s.message_count, template.message_count);
    let got = h.store.all_messages(s.id).unwrap();
    assert_eq!(
        got.iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect::<Vec<_>>(),
        want.iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect::<Vec<_>>()
    );
    assert!(!s.tags.contains(&"template".to_string()));
    assert_eq!(h.current_name(), "review-login-flow");
    assert_eq!(h.history().session.id, s.id);
    assert_eq!(h.history().messages.len(), want.len());
    assert_eq!(h.history().messages[0].content, want[0].content);
}

#[test]
fn new_session_with_a_taken_name_or_an_unknown_template_fails() {
    let mut h = Harness::demo(80, 24);
    // A bad name is refused in the dialog.
    h.key('+');
    h.typ("a/b");
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert!(h.error().unwrap().contains("invalid name"));
    h.discard();

    // A taken name fails in the store.
    h.key('+');
    h.typ("api-redesign");
    let cmds = h.press(KeyCode::Enter, KeyModifiers::NONE);
    assert!(
        h.state().waiting.is_some(),
        "the dialog waits for the store"
    );
    let [c] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let ev = run_now(&mut h.store, &mut h.search, c.clone(), &[]);
    let Event::MutationFailed(msg) = &ev else {
        panic!("{ev:?}")
    };
    assert!(msg.contains("already exists"), "{msg}");
    h.event(ev.clone());
    // The error shows in the dialog, which keeps what was typed.
    assert_eq!(h.error(), Some(msg.as_str()));
    assert_eq!(dialog!(h, NewSession).name.text(), "api-redesign");
    assert!(h.state().waiting.is_none());
    assert_eq!(h.app.list.total, 11);
    h.discard();

    // An unknown template.
    h.key('+');
    h.typ("from-nothing");
    h.key_code(KeyCode::Tab);
    h.typ("no-such-template");
    let cmds = h.press(KeyCode::Enter, KeyModifiers::NONE);
    let [c] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let ev = run_now(&mut h.store, &mut h.search, c.clone(), &[]);
    let Event::MutationFailed(msg) = &ev else {
        panic!("{ev:?}")
    };
    assert!(msg.contains("no-such-template"), "{msg}");
    h.event(ev.clone());
    assert_eq!(h.error(), Some(msg.as_str()));
    assert_eq!(dialog!(h, NewSession).template.text(), "no-such-template");
    assert!(h.store.session("from-nothing").is_err());
    assert_eq!(h.store.list(&ListQuery::default()).unwrap().len(), 11);
}

// ---------------------------------------------------------------------------
// Export, import
// ---------------------------------------------------------------------------

#[test]
fn export_json_writes_an_array_with_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.json");
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    let s = h.session("api-redesign");
    h.key('x');
    assert_eq!(dialog!(h, Export).ids, [s.id]);
    assert_eq!(dialog!(h, Export).format.selected(), "json");
    assert_eq!(dialog!(h, Export).path.text(), "api-redesign.json");
    assert_eq!(h.info(), ["exports api-redesign"]);
    // The keyboard starts on the path.
    assert_eq!(h.focused(), "path");
    h.clear_field();
    // An empty path is refused.
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert_eq!(h.error(), Some("give a path"));
    h.typ(path.to_str().unwrap());
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Export {
            ids: vec![s.id],
            format: scrollback::export::ExportFormat::Json,
            path: path.clone(),
            overwrite: false,
        })]
    );
    assert!(h.app.dialog.is_none());
    assert!(path.exists());
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let arr = doc.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0]["name"], "api-redesign");
    assert_eq!(arr[0]["uid"], json!(s.uid.as_str()));
    assert_eq!(arr[0]["messages"].as_array().unwrap().len(), 10);
    assert_eq!(
        h.app.status.message,
        format!("exported 1 sessions to {}", path.display())
    );
    assert!(!h.app.status.error);
}

#[test]
fn export_jsonl_of_marked_sessions_writes_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.jsonl");
    let mut h = Harness::demo(80, 24);
    let names = h.names();
    h.key(' ');
    h.key(' ');
    h.key('x');
    assert_eq!(h.info(), ["exports 2 marked sessions"]);
    h.key_code(KeyCode::BackTab);
    h.key_code(KeyCode::Right);
    assert_eq!(dialog!(h, Export).format.selected(), "jsonl");
    h.key_code(KeyCode::Tab);
    assert_eq!(h.focused(), "path");
    h.clear_field();
    h.typ(path.to_str().unwrap());
    let cmds = h.key_code(KeyCode::Enter);
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::Mutate(Mutation::Export { ids, format: scrollback::export::ExportFormat::Jsonl, .. })] if ids.len() == 2
        ),
        "{cmds:?}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let got: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["name"].as_str().unwrap().to_string()
        })
        .collect();
    let want: BTreeSet<String> = names[..2].iter().cloned().collect();
    assert_eq!(got, want);
    assert_eq!(
        h.app.status.message,
        format!("exported 2 sessions to {}", path.display())
    );
}

#[test]
fn export_to_an_unwritable_path_fails_in_the_status_bar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("out.json");
    let mut h = Harness::demo(80, 24);
    h.key('x');
    h.clear_field();
    h.typ(path.to_str().unwrap());
    let cmds = h.key_code(KeyCode::Enter);
    assert_eq!(cmds.len(), 1);
    assert!(!path.exists());
    // The dialog stays with the path, the error in it.
    assert_eq!(dialog!(h, Export).path.text(), path.to_str().unwrap());
    let e = h.error().unwrap().to_string();
    assert!(e.contains("no-such-dir"), "{e}");
}

#[test]
fn importing_an_export_of_the_same_store_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.json");
    let mut h = Harness::demo(80, 24);
    // Export two sessions through the dialog.
    h.key(' ');
    h.key(' ');
    h.key('x');
    h.clear_field();
    h.typ(path.to_str().unwrap());
    h.key_code(KeyCode::Enter);
    assert!(path.exists());
    let before = h.store.list(&ListQuery::default()).unwrap();
    let messages_before: u64 = before.iter().map(|s| s.message_count).sum();

    h.key('i');
    assert_eq!(dialog!(h, Import).format.selected(), "auto");
    assert_eq!(h.focused(), "path");
    // An empty path is refused.
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert_eq!(h.error(), Some("give a path"));
    h.typ(path.to_str().unwrap());
    let cmds = h.press(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Import {
            path: path.clone(),
            format: None,
        })]
    );
    assert!(h.state().waiting.is_some());
    assert_eq!(h.app.status.job, Some(("importing".into(), 0, 1)));
    h.pump(cmds);
    assert!(h.app.dialog.is_none());
    assert_eq!(
        h.app.status.message,
        "imported 0 new sessions (0 messages), 0 grew"
    );
    assert!(!h.app.status.error);
    assert_eq!(h.app.status.job, None);
    let after = h.store.list(&ListQuery::default()).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(
        after.iter().map(|s| s.message_count).sum::<u64>(),
        messages_before
    );
    assert_eq!(h.app.list.total, 11);
}

#[test]
fn importing_a_missing_file_fails_in_the_status_bar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.json");
    let mut h = Harness::demo(80, 24);
    h.key('i');
    h.typ(path.to_str().unwrap());
    h.key_code(KeyCode::Enter);
    let e = h.error().unwrap().to_string();
    assert!(e.contains("missing.json"), "{e}");
    assert_eq!(h.app.list.total, 11);
}

#[test]
fn a_long_error_is_shown_whole_and_the_dialog_stays() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir
        .path()
        .join("a-folder-with-a-rather-long-name-for-exports")
        .join("and-another-one-below-it-just-as-long");
    std::fs::create_dir_all(&deep).unwrap();
    let path = deep.join("broken-session-export.json");
    std::fs::write(&path, "[{\"name\": \"x\", \"messages\": [{\"role\": 7}]}]").unwrap();
    let mut h = Harness::demo(80, 24);
    h.key('i');
    h.typ(path.to_str().unwrap());
    h.key_code(KeyCode::Enter);
    let e = h.error().unwrap().to_string();
    assert!(e.len() > 2 * 74, "a long error: {e}");
    assert_eq!(h.app.popup.as_deref(), Some(e.as_str()), "shown whole");
    // Any key closes the popup; the dialog and its input stay.
    h.key('x');
    assert!(h.app.popup.is_none());
    assert_eq!(h.error(), Some(e.as_str()));
    assert_eq!(h.app.list.total, 11);
}

// ---------------------------------------------------------------------------
// Delete and undo
// ---------------------------------------------------------------------------

#[test]
fn delete_trashes_the_selection_and_undo_restores_it() {
    let mut h = Harness::demo(80, 24);
    h.select("blog-post-sqlite-fts5");
    let s = h.session("blog-post-sqlite-fts5");
    assert_eq!(h.history().session.id, s.id);
    let cmds = h.press(KeyCode::Char('d'), KeyModifiers::NONE);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Trash { ids: vec![s.id] })]
    );
    assert!(h.app.history.is_none(), "the history showed it: closed");
    assert!(h.app.meta.is_none());
    assert_eq!(h.app.focus, Pane::List);
    h.pump(cmds);
    assert!(h.session("blog-post-sqlite-fts5").trashed);
    assert_eq!(h.app.list.total, 10);
    assert!(!h.names().contains(&s.name));
    assert_eq!(h.app.last_trashed, [s.id]);
    assert_eq!(
        h.app.status.message,
        "moved 1 sessions to the trash (u undoes)"
    );
    // The row that took its place is shown.
    assert_eq!(h.history().session.id, h.app.list.current().unwrap().id);
    assert_ne!(h.history().session.id, s.id);

    let cmds = h.key('u');
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Restore { ids: vec![s.id] })]
    );
    assert!(!h.session("blog-post-sqlite-fts5").trashed);
    assert_eq!(h.app.list.total, 11);
    assert_eq!(h.app.status.message, "restored 1 sessions");
    assert!(h.app.last_trashed.is_empty());
    assert_eq!(h.current_name(), "blog-post-sqlite-fts5", "selected again");
    assert_eq!(h.history().session.id, s.id, "and opened");

    // Nothing more to undo.
    assert!(h.key('u').is_empty());
    assert_eq!(h.app.status.message, "nothing to undo");
    assert!(!h.app.status.error);
}

#[test]
fn delete_with_marked_sessions_trashes_them_all() {
    let mut h = Harness::demo(80, 24);
    let names = h.names();
    h.key(' ');
    h.key(' ');
    assert_eq!(h.app.list.selected, 2);
    let shown = h.history().session.id;
    assert_eq!(shown, h.session(&names[2]).id);
    let mut ids = vec![h.session(&names[0]).id, h.session(&names[1]).id];
    ids.sort();
    let cmds = h.press(KeyCode::Char('d'), KeyModifiers::NONE);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Trash { ids: ids.clone() })]
    );
    assert!(h.app.list.marked.is_empty());
    assert_eq!(
        h.history().session.id,
        shown,
        "the open session was not marked: it stays"
    );
    h.pump(cmds);
    assert!(h.session(&names[0]).trashed);
    assert!(h.session(&names[1]).trashed);
    assert!(!h.session(&names[2]).trashed);
    assert_eq!(h.app.list.total, 9);
    assert_eq!(
        h.app.status.message,
        "moved 2 sessions to the trash (u undoes)"
    );
    assert_eq!(h.app.last_trashed, ids);

    h.key('u');
    assert!(!h.session(&names[0]).trashed);
    assert!(!h.session(&names[1]).trashed);
    assert_eq!(h.app.list.total, 11);
    assert_eq!(h.app.status.message, "restored 2 sessions");
}

#[test]
fn delete_from_the_history_trashes_the_open_session() {
    let mut h = Harness::demo(80, 24);
    // A lineage jump from api-redesign to its branch: the list follows.
    h.select("api-redesign");
    h.key_code(KeyCode::BackTab);
    h.key('j');
    h.key_code(KeyCode::Enter);
    assert_eq!(h.app.focus, Pane::History);
    assert_eq!(h.history().session.name, "api-redesign-grpc");
    assert_eq!(h.current_name(), "api-redesign-grpc");
    let grpc = h.session("api-redesign-grpc").id;

    let cmds = h.press(KeyCode::Char('d'), KeyModifiers::NONE);
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Trash { ids: vec![grpc] })]
    );
    assert!(h.app.history.is_none());
    assert_eq!(h.app.focus, Pane::List);
    h.pump(cmds);
    assert!(h.session("api-redesign-grpc").trashed);
    assert!(
        !h.session("api-redesign").trashed,
        "the list's selection is kept"
    );
    assert_eq!(h.app.list.total, 10);
    assert!(!h.names().contains(&"api-redesign-grpc".to_string()));
    assert!(h.app.history.as_ref().is_none_or(|v| v.session.id != grpc));

    h.key('u');
    assert!(!h.session("api-redesign-grpc").trashed);
    assert_eq!(h.app.list.total, 11);
}

#[test]
fn delete_in_an_empty_store_does_nothing() {
    let mut h = Harness::with_store(Store::open_in_memory().unwrap(), 80, 24, Vec::new());
    assert!(h.key('d').is_empty());
    assert!(h.key('u').is_empty());
    assert_eq!(h.app.status.message, "nothing to undo");
}

// ---------------------------------------------------------------------------
// Cleanup
// ---------------------------------------------------------------------------

/// Names of the sessions in the cleanup dialog's plan.
fn plan_names(h: &Harness) -> BTreeSet<String> {
    let plan = dialog!(h, Cleanup).plan.as_ref().expect("a cleanup plan");
    plan.sessions.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn cleanup_archives_and_spares_protected_sessions() {
    let store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let mut h = Harness::with_store(store, 80, 24, vec!["keep".into()]);
    let cmds = h.press(KeyCode::Char('c'), KeyModifiers::NONE);
    assert!(dialog!(h, Cleanup).plan.is_none());
    assert_eq!(dialog!(h, Cleanup).older_than.text(), "90d");
    assert_eq!(dialog!(h, Cleanup).action.selected(), "archive");
    assert_eq!(h.focused(), "older than");
    let cut = frozen()
        .checked_sub(jiff::SignedDuration::from_hours(90 * 24))
        .unwrap();
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::PreviewCleanup {
                criteria,
                action: CleanupAction::Archive,
            }] if criteria.updated_before == Some(cut) && !criteria.empty && criteria.tag.is_none()
        ),
        "{cmds:?}"
    );
    h.pump(cmds);
    assert!(h.error().is_none());
    let plan = dialog!(h, Cleanup).plan.as_ref().expect("a preview");
    assert_eq!(plan.protected_tags, ["keep"]);
    let names = plan_names(&h);
    assert_eq!(
        names,
        ["pandas-to-polars-orders-job", "postgres-slow-dau-query"]
            .iter()
            .map(ToString::to_string)
            .collect::<BTreeSet<_>>()
    );
    for s in &names {
        assert!(!h.session(s).tags.contains(&"keep".to_string()));
    }
    assert_eq!(h.info()[0], "would archive 2 sessions (40 messages)");
    assert_eq!(h.info()[1], "sessions tagged keep are protected");

    let cmds = h.key_code(KeyCode::Enter);
    assert!(matches!(
        cmds.as_slice(),
        [Command::Mutate(Mutation::Cleanup { plan })] if plan.sessions.len() == 2
    ));
    assert!(h.app.dialog.is_none());
    for s in &names {
        assert!(h.session(s).archived, "{s}");
    }
    assert!(!h.session("rust-async-deep-dive").archived);
    assert_eq!(h.app.status.message, "archived 2 sessions");
    assert_eq!(h.app.list.total, 9);
}

#[test]
fn cleanup_without_protection_plans_the_kept_sessions_too() {
    let mut h = Harness::demo(80, 24);
    h.key('c');
    let names = plan_names(&h);
    assert_eq!(names.len(), 5, "{names:?}");
    for n in [
        "rust-async-deep-dive",
        "nas-restic-backup-script",
        "code-review-template",
    ] {
        assert!(names.contains(n), "{n}");
    }
    assert!(!h.info().iter().any(|l| l.contains("protected")));
}

#[test]
fn cleanup_purge_needs_the_count_typed() {
    let store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let mut h = Harness::with_store(store, 80, 24, vec!["keep".into()]);
    h.key('c');
    for _ in 0..6 {
        h.key_code(KeyCode::Tab);
    }
    assert_eq!(h.focused(), "action");
    let cmds = h.key_code(KeyCode::Right);
    assert!(
        matches!(
            &cmds[..],
            [Command::PreviewCleanup {
                action: CleanupAction::Trash,
                ..
            }]
        ),
        "{cmds:?}"
    );
    // Unlike archive, trash (and purge) include the archived postmortem.
    assert_eq!(
        h.info()[0],
        "would move to the trash 3 sessions (49 messages)"
    );
    assert!(plan_names(&h).contains("postmortem-db-failover-march"));
    h.key_code(KeyCode::Right);
    assert_eq!(dialog!(h, Cleanup).action.selected(), "purge");
    assert_eq!(
        h.info()[0],
        "would DELETE FOR GOOD 3 sessions (49 messages)"
    );

    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert_eq!(
        h.error(),
        Some("purge deletes for good: type 3 in the last field to confirm")
    );
    assert_eq!(h.focused(), "type the count to purge");
    h.typ("2");
    assert!(h.key_code(KeyCode::Enter).is_empty(), "the wrong count");
    assert!(h.app.dialog.is_some());
    h.key_code(KeyCode::Backspace);
    h.typ("3");
    let cmds = h.key_code(KeyCode::Enter);
    assert!(matches!(
        cmds.as_slice(),
        [Command::Mutate(Mutation::Cleanup { plan })] if plan.action == CleanupAction::Purge
    ));
    assert!(h.store.session("pandas-to-polars-orders-job").is_err());
    assert!(h.store.session("postgres-slow-dau-query").is_err());
    assert!(h.store.session("postmortem-db-failover-march").is_err());
    assert!(h.store.session("rust-async-deep-dive").is_ok(), "kept");
    assert_eq!(h.app.status.message, "deleted for good 3 sessions");
    assert_eq!(h.app.list.total, 9);
}

#[test]
fn cleanup_to_the_trash_and_criteria_errors() {
    let store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let mut h = Harness::with_store(store, 80, 24, vec!["keep".into()]);
    h.key('c');
    // No criterion at all.
    h.clear_field();
    assert_eq!(h.error(), Some("give at least one criterion"));
    assert!(dialog!(h, Cleanup).plan.is_none());
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert_eq!(h.error(), Some("give at least one criterion"));
    // A bad span.
    h.typ("xyz");
    assert!(h.error().unwrap().contains("span"));
    assert!(dialog!(h, Cleanup).plan.is_none());
    h.clear_field();
    // Nothing matches.
    h.typ("1000d");
    assert!(h.error().is_none());
    assert_eq!(plan_names(&h).len(), 0);
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert_eq!(h.error(), Some("nothing matches these criteria"));
    // By tag, to the trash.
    h.clear_field();
    h.key_code(KeyCode::Tab);
    h.key_code(KeyCode::Tab);
    h.typ("sql");
    assert_eq!(
        plan_names(&h),
        ["blog-post-sqlite-fts5", "postgres-slow-dau-query"]
            .iter()
            .map(ToString::to_string)
            .collect::<BTreeSet<_>>()
    );
    h.key_code(KeyCode::Down);
    h.key_code(KeyCode::Down);
    h.key_code(KeyCode::Down);
    h.key_code(KeyCode::Down);
    assert_eq!(h.focused(), "action");
    h.key_code(KeyCode::Right);
    h.key_code(KeyCode::Enter);
    assert!(h.app.dialog.is_none());
    assert!(h.session("blog-post-sqlite-fts5").trashed);
    assert_eq!(h.app.status.message, "moved to the trash 2 sessions");
    // The empty check box: no demo session is empty.
    h.key('c');
    h.key_code(KeyCode::Tab);
    h.key(' ');
    assert!(dialog!(h, Cleanup).empty.on);
    assert_eq!(plan_names(&h).len(), 0);
    h.key_code(KeyCode::Esc);
    assert!(h.app.dialog.is_none());
}

#[test]
fn only_the_plan_of_the_criteria_shown_can_be_carried_out() {
    let mut h = Harness::demo(80, 24);
    // The preview asked for on opening is not answered yet.
    let first = h.press(KeyCode::Char('c'), KeyModifiers::NONE);
    // 30d is typed before any answer comes.
    let mut later = Vec::new();
    for _ in 0..3 {
        later.extend(h.press(KeyCode::Backspace, KeyModifiers::NONE));
    }
    for c in "30d".chars() {
        later.extend(h.press(KeyCode::Char(c), KeyModifiers::NONE));
    }
    assert_eq!(later.len(), 1, "only 30d makes criteria: {later:?}");
    // The answer about 90d comes late: it is not the plan of 30d.
    h.pump(first);
    assert!(dialog!(h, Cleanup).plan.is_none());
    assert!(h.press(KeyCode::Enter, KeyModifiers::NONE).is_empty());
    assert_eq!(h.error(), Some("waiting for the preview"));
    h.pump(later);
    let cut = frozen()
        .checked_sub(jiff::SignedDuration::from_hours(30 * 24))
        .unwrap();
    let plan = dialog!(h, Cleanup).plan.clone().expect("the plan of 30d");
    assert_eq!(plan.criteria.updated_before, Some(cut));
    assert!(h.error().is_none());
    // Typing the purge count changes no criterion: no new question.
    h.key_code(KeyCode::BackTab);
    assert_eq!(h.focused(), "type the count to purge");
    assert!(h.press(KeyCode::Char('1'), KeyModifiers::NONE).is_empty());
    assert_eq!(dialog!(h, Cleanup).plan.as_ref(), Some(&plan));

    // An answer that comes while esc asks about the draft reaches it.
    h.key_code(KeyCode::Backspace);
    h.key_code(KeyCode::Down);
    h.key_code(KeyCode::Tab);
    assert_eq!(h.focused(), "older than");
    h.clear_field();
    let mut pending = Vec::new();
    for c in "60d".chars() {
        pending.extend(h.press(KeyCode::Char(c), KeyModifiers::NONE));
    }
    h.key_code(KeyCode::Esc);
    dialog!(h, Confirm);
    h.pump(pending);
    h.key('n');
    let cut = frozen()
        .checked_sub(jiff::SignedDuration::from_hours(60 * 24))
        .unwrap();
    let plan = dialog!(h, Cleanup).plan.as_ref().expect("the plan of 60d");
    assert_eq!(plan.criteria.updated_before, Some(cut));
}

// ---------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------

#[test]
fn search_as_you_type_drops_stale_answers_and_opens_a_hit() {
    let mut h = Harness::demo(80, 24);
    h.key('/');
    assert_eq!(h.app.screen, Screen::Search);
    let mut sent = Vec::new();
    for c in "tokio".chars() {
        let cmds = h.press(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(cmds.len(), 1);
        sent.push(cmds.into_iter().next().unwrap());
    }
    let gens: Vec<u64> = sent
        .iter()
        .map(|c| match c {
            Command::Search {
                generation,
                archived: false,
                ..
            } => *generation,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(gens.windows(2).all(|w| w[0] < w[1]), "{gens:?}");
    assert!(matches!(&sent[4], Command::Search { text, .. } if text == "tokio"));
    assert_eq!(h.app.search.generation, gens[4]);

    let stale = run_now(&mut h.store, &mut h.search, sent[1].clone(), &[]);
    let latest = run_now(&mut h.store, &mut h.search, sent[4].clone(), &[]);
    // The stale answer first: dropped.
    assert!(h.app.update(stale.clone()).is_empty());
    assert!(h.app.search.results.is_empty());
    assert_ne!(h.app.search.shown, h.app.search.generation);
    // The latest: shown.
    h.app.update(latest);
    assert_eq!(h.app.search.shown, gens[4]);
    let results = h.app.search.results.clone();
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .any(|r| r.session.name == "rust-async-deep-dive")
    );
    // The stale one after it: still dropped.
    h.app.update(stale);
    assert_eq!(h.app.search.results, results);

    // Move down and up in the results.
    h.key_code(KeyCode::Down);
    assert_eq!(h.app.search.selected, 1.min(results.len() - 1));
    h.key_code(KeyCode::Up);
    assert_eq!(h.app.search.selected, 0);

    let best = results[0].clone();
    let seq = best.message.as_ref().unwrap().seq;
    let cmds = h.press(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(h.app.screen, Screen::Main);
    assert_eq!(h.app.focus, Pane::History);
    assert!(cmds.contains(&Command::SessionHits {
        id: best.session_id,
        text: "tokio".into()
    }));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::LoadHistory { id, .. } if *id == best.session_id))
    );
    h.pump(cmds);
    let hist = h.history();
    assert_eq!(hist.session.id, best.session_id);
    assert_eq!(hist.cursor, seq);
    assert!(hist.top <= seq);
    assert!(
        hist.terms.contains(&"tokio".to_string()),
        "{:?}",
        hist.terms
    );
    assert!(hist.hits.contains(&seq));
    let hits = hist.hits.clone();
    assert!(hits.len() > 1, "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0] < w[1]));
    for s in &hits {
        let m = h.store.messages(best.session_id, *s, 1).unwrap();
        assert!(m[0].content.to_lowercase().contains("tokio"), "hit {s}");
    }

    // n and N step through the hits.
    h.key('G');
    h.key('g');
    assert_eq!(h.history().cursor, 0);
    let k = hits.iter().position(|&s| s > 0).unwrap();
    h.key('n');
    assert_eq!(h.history().cursor, hits[k]);
    assert_eq!(
        h.app.status.message,
        format!("hit {} of {}", k + 1, hits.len())
    );
    h.key('n');
    assert_eq!(h.history().cursor, hits[k + 1]);
    h.key('N');
    assert_eq!(h.history().cursor, hits[k]);
    h.key('G');
    h.key('N');
    assert_eq!(h.history().cursor, *hits.last().unwrap());
    assert_eq!(
        h.app.status.message,
        format!("hit {} of {}", hits.len(), hits.len())
    );
    h.key('n');
    assert_eq!(h.history().cursor, *hits.last().unwrap());
    assert_eq!(h.app.status.message, "no more hits this way");
}

#[test]
fn search_keys_clear_toggle_archived_and_report_errors() {
    let mut h = Harness::demo(80, 24);
    h.key('/');
    h.typ("postmortem");
    assert!(
        !h.app
            .search
            .results
            .iter()
            .any(|r| r.session.name == "postmortem-db-failover-march"),
        "archived sessions are left out"
    );
    let cmds = h.ctrl('a');
    assert!(matches!(
        &cmds[..],
        [Command::Search { archived: true, .. }]
    ));
    assert!(h.app.search.archived);
    assert!(
        h.app
            .search
            .results
            .iter()
            .any(|r| r.session.name == "postmortem-db-failover-march")
    );
    assert_eq!(h.app.status.message, "searching archived sessions too");

    // ctrl-u clears: no command, no results, nothing stale.
    let g = h.app.search.generation;
    assert!(h.ctrl('u').is_empty());
    assert!(h.app.search.input.is_empty());
    assert!(h.app.search.results.is_empty());
    assert_eq!(h.app.search.generation, g + 1);
    assert_eq!(h.app.search.shown, h.app.search.generation);

    // Backspace searches again.
    h.typ("tokioX");
    let cmds = h.key_code(KeyCode::Backspace);
    assert!(matches!(&cmds[..], [Command::Search { text, .. }] if text == "tokio"));

    // An error answer is shown, and cleared by the next good one.
    let g = h.app.search.generation;
    h.app.update(Event::SearchDone {
        generation: g,
        result: Err("bad query".into()),
    });
    assert_eq!(h.app.search.error.as_deref(), Some("bad query"));
    h.typ(" runtime");
    assert!(h.app.search.error.is_none());

    // Enter without results does nothing; Esc goes back.
    h.ctrl('u');
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert_eq!(h.app.screen, Screen::Search);
    h.key_code(KeyCode::Esc);
    assert_eq!(h.app.screen, Screen::Main);
}

#[test]
fn search_hit_outside_the_list_keeps_its_terms() {
    let mut h = Harness::demo(80, 24);
    h.key('f');
    h.typ("tag:sql");
    h.key_code(KeyCode::Enter);
    assert!(!h.app.list.filtering);
    let shown: BTreeSet<String> = h.names().into_iter().collect();
    assert!(!shown.contains("rust-async-deep-dive"), "{shown:?}");
    let target = h.session("rust-async-deep-dive");

    h.key('/');
    h.typ("tokio");
    let results = h.app.search.results.clone();
    let index = results
        .iter()
        .position(|r| r.session_id == target.id)
        .expect("a hit in rust-async-deep-dive");
    for _ in 0..index {
        h.key_code(KeyCode::Down);
    }
    assert_eq!(h.app.search.selected, index);
    let chosen = results[index].clone();
    let seq = chosen.message.as_ref().unwrap().seq;
    let cmds = h.press(KeyCode::Enter, KeyModifiers::NONE);
    // Shown at once from what the hit tells, loading; the list, which
    // leaves it out, highlights nothing.
    assert_eq!(h.history().session.id, target.id);
    assert!(!h.history().loaded);
    assert!(h.app.list.detached);
    assert!(cmds.contains(&Command::SessionHits {
        id: target.id,
        text: "tokio".into()
    }));
    h.pump(cmds);

    let want = h.search.session_hits("tokio", target.id).unwrap();
    assert!(want.len() > 1, "{want:?}");
    let hist = h.history();
    assert_eq!(hist.session.id, target.id);
    assert_eq!(hist.cursor, seq);
    assert!(!hist.loading());
    assert!(!hist.terms.is_empty());
    assert!(
        hist.terms.contains(&"tokio".to_string()),
        "{:?}",
        hist.terms
    );
    assert_eq!(hist.hits, want);
    assert!(hist.hits.contains(&seq));
    assert_eq!(h.app.meta.as_ref().unwrap().session.id, target.id);
    assert!(h.app.list.detached, "not in the filtered list");
    assert_eq!(h.app.list.highlighted(), None);
    // Session actions act on it, the session on screen.
    assert_eq!(h.app.target().unwrap().id, target.id);
    // The filter stays; n steps through the hits.
    assert_eq!(h.app.list.filter, "tag:sql");
    let k = want.iter().position(|&s| s > 0).unwrap();
    h.key('g');
    h.key('n');
    assert_eq!(h.history().cursor, want[k]);
    assert_eq!(
        h.app.status.message,
        format!("hit {} of {}", k + 1, want.len())
    );
}

// ---------------------------------------------------------------------------
// Other screens, terminal commands, quitting
// ---------------------------------------------------------------------------

#[test]
fn stats_and_help_screens_and_back() {
    let mut h = Harness::demo(80, 24);
    assert!(h.app.stats.is_none());
    let cmds = h.key('S');
    assert_eq!(cmds, vec![Command::LoadStats]);
    assert_eq!(h.app.screen, Screen::Stats);
    let (stats, largest) = h.app.stats.as_ref().unwrap();
    assert_eq!(stats.sessions, 12);
    assert_eq!(stats.archived, 1);
    assert_eq!(stats.live, 11);
    assert_eq!(largest[0].name, "rust-async-deep-dive");
    // j and k scroll; Esc goes back.
    h.key('j');
    assert_eq!(h.app.help_scroll, 1);
    h.key_code(KeyCode::Esc);
    assert_eq!(h.app.screen, Screen::Main);

    assert!(h.key('?').is_empty());
    assert_eq!(h.app.screen, Screen::Help);
    assert_eq!(h.app.help_scroll, 0);
    h.key('j');
    h.key('j');
    assert_eq!(h.app.help_scroll, 2);
    h.key('k');
    assert_eq!(h.app.help_scroll, 1);
    h.key('g');
    assert_eq!(h.app.help_scroll, 0);
    h.key_code(KeyCode::Esc);
    assert_eq!(h.app.screen, Screen::Main);
    // ? again closes the help; q on a screen goes back without quitting.
    h.key('?');
    h.key('?');
    assert_eq!(h.app.screen, Screen::Main);
    h.key('S');
    h.key('q');
    assert_eq!(h.app.screen, Screen::Main);
    assert!(!h.app.quit);
    // / from the help goes to the search.
    h.key('?');
    h.key('/');
    assert_eq!(h.app.screen, Screen::Search);
}

#[test]
fn m_toggles_the_mouse() {
    let mut h = Harness::demo(80, 24);
    assert!(h.app.mouse);
    let cmds = h.key('M');
    assert_eq!(cmds, vec![Command::SetMouse(false)]);
    assert!(!h.app.mouse);
    assert_eq!(h.app.status.message, "mouse off: the terminal selects text");
    let cmds = h.key('M');
    assert_eq!(cmds, vec![Command::SetMouse(true)]);
    assert!(h.app.mouse);
    assert_eq!(h.app.status.message, "mouse on");
    assert_eq!(
        h.terminal,
        [Command::SetMouse(false), Command::SetMouse(true)]
    );
}

#[test]
fn copy_the_message_or_the_session() {
    let mut h = Harness::demo(80, 24);
    h.open("api-redesign");
    h.key('j');
    h.key('j');
    let s = h.session("api-redesign");
    let all = h.store.all_messages(s.id).unwrap();
    let cmds = h.key('y');
    assert_eq!(
        cmds,
        vec![Command::Copy {
            text: all[2].content.clone(),
            what: "message #2".into(),
        }]
    );
    // The whole session (every message, not the loaded window), as the
    // Markdown export writes it, rendered by the store worker.
    let mut whole = Vec::new();
    scrollback::export::export(
        &h.store,
        &[s.id],
        scrollback::export::ExportFormat::Markdown,
        &mut whole,
        &|_, _| {},
        &scrollback::jobs::JobControl::new(),
    )
    .unwrap();
    let whole = String::from_utf8(whole).unwrap();
    let cmds = h.key('Y');
    assert_eq!(
        cmds,
        vec![Command::PrepareSession {
            id: s.id,
            pager: false
        }]
    );
    let copy = Command::Copy {
        text: whole,
        what: "session api-redesign".into(),
    };
    assert_eq!(h.terminal.last(), Some(&copy));
    // y on the list copies the session too.
    h.key_code(KeyCode::Esc);
    assert_eq!(h.app.focus, Pane::List);
    h.key('y');
    assert_eq!(h.terminal.last(), Some(&copy));
    assert_eq!(h.terminal.len(), 3);
    assert!(h.terminal.iter().all(|c| matches!(c, Command::Copy { .. })));
    // Nothing open: nothing to copy.
    let mut empty = Harness::with_store(Store::open_in_memory().unwrap(), 80, 24, Vec::new());
    assert!(empty.key('y').is_empty());
    assert_eq!(empty.app.status.message, "no session selected");
    assert!(empty.app.status.error);
}

#[test]
fn pager_and_editor_get_the_message_or_the_session() {
    let mut h = Harness::demo(80, 24);
    h.open("api-redesign");
    h.key('j');
    let s = h.session("api-redesign");
    let all = h.store.all_messages(s.id).unwrap();
    let one = format!(
        "{} · {}\n\n{}",
        all[1].role, all[1].created_at, all[1].content
    );
    let cmds = h.key('o');
    assert_eq!(
        cmds,
        vec![Command::External {
            editor: false,
            text: one,
            edit: None,
        }]
    );
    // The editor edits the message under the cursor, to be saved back.
    let cmds = h.key('E');
    assert_eq!(
        cmds,
        vec![Command::External {
            editor: true,
            text: all[1].content.clone(),
            edit: Some((s.id, 1)),
        }]
    );
    // From the list: the whole session, rendered by the store worker into
    // a private file for the pager.
    h.key_code(KeyCode::Esc);
    let cmds = h.key('o');
    assert_eq!(
        cmds,
        vec![Command::PrepareSession {
            id: s.id,
            pager: true
        }]
    );
    let page = h
        .terminal
        .iter()
        .find_map(|c| match c {
            Command::Page { path } => Some(path.clone()),
            _ => None,
        })
        .expect("the pager gets a file");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::remove_file(&page).unwrap();
    for m in &all {
        assert!(text.contains(m.content.trim()), "{}", m.seq);
    }
    assert_eq!(h.terminal.len(), 3);
}

#[test]
fn an_edited_message_is_saved_after_a_yes() {
    let mut h = Harness::demo(80, 24);
    h.open("api-redesign");
    h.key('j');
    let s = h.session("api-redesign");
    let before = h.store.all_messages(s.id).unwrap()[1].content.clone();
    // Unchanged: nothing to ask.
    h.event(Event::Edited {
        id: s.id,
        seq: 1,
        before: before.clone(),
        after: before.clone(),
    });
    assert!(h.app.dialog.is_none());
    assert_eq!(h.app.status.message, "the message is unchanged");
    // Changed, then n: the edit is thrown away.
    h.event(Event::Edited {
        id: s.id,
        seq: 1,
        before: before.clone(),
        after: "rewritten".into(),
    });
    assert!(matches!(
        &dialog!(h, Confirm).yes,
        Yes::Mutate(Mutation::EditMessage { seq: 1, content, .. }) if content == "rewritten"
    ));
    h.key('n');
    assert!(h.app.dialog.is_none());
    assert_eq!(h.store.all_messages(s.id).unwrap()[1].content, before);
    // y saves it, and the index follows.
    h.event(Event::Edited {
        id: s.id,
        seq: 1,
        before: before.clone(),
        after: "rewritten with zanzibarfoo".into(),
    });
    h.key('y');
    assert!(h.app.dialog.is_none());
    assert_eq!(
        h.store.all_messages(s.id).unwrap()[1].content,
        "rewritten with zanzibarfoo"
    );
    assert_eq!(h.app.status.message, "saved message #1");
    assert_eq!(
        h.history().message(1).unwrap().content,
        "rewritten with zanzibarfoo"
    );
    let hits = h.search.session_hits("zanzibarfoo", s.id).unwrap();
    assert_eq!(hits, vec![1]);
    // A stale edit (the message changed meanwhile) is refused, not applied.
    h.event(Event::Edited {
        id: s.id,
        seq: 1,
        before: before.clone(),
        after: "lost".into(),
    });
    h.key('y');
    assert!(h.app.status.error);
    assert!(
        h.app.status.message.contains("changed since"),
        "{}",
        h.app.status.message
    );
    assert_eq!(
        h.store.all_messages(s.id).unwrap()[1].content,
        "rewritten with zanzibarfoo"
    );
}

#[test]
fn q_quits_and_ctrl_c_quits_even_in_a_dialog() {
    let mut h = Harness::demo(80, 24);
    assert!(h.key('q').is_empty());
    assert!(h.app.quit);

    let mut h = Harness::demo(80, 24);
    h.key('r');
    assert!(h.app.dialog.is_some());
    // q is text in a dialog.
    h.key('q');
    assert!(!h.app.quit);
    assert!(dialog!(h, Rename).name.text().ends_with('q'));
    assert!(h.ctrl('c').is_empty());
    assert!(h.app.quit);

    // And in the filter and the search.
    let mut h = Harness::demo(80, 24);
    h.key('f');
    h.key('q');
    assert!(!h.app.quit);
    h.ctrl('c');
    assert!(h.app.quit);
    let mut h = Harness::demo(80, 24);
    h.key('/');
    h.ctrl('c');
    assert!(h.app.quit);
}

#[test]
fn key_releases_change_nothing() {
    let mut h = Harness::demo(80, 24);
    for code in [
        KeyCode::Char('j'),
        KeyCode::Char('q'),
        KeyCode::Char('d'),
        KeyCode::Enter,
        KeyCode::Tab,
    ] {
        let cmds = h.event(Event::Key(KeyEvent::new_with_kind(
            code,
            KeyModifiers::NONE,
            KeyEventKind::Release,
        )));
        assert!(cmds.is_empty(), "{code:?}");
    }
    let ctrl_c = KeyEvent::new_with_kind(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
        KeyEventKind::Release,
    );
    assert!(h.event(Event::Key(ctrl_c)).is_empty());
    assert!(!h.app.quit);
    assert_eq!(h.app.list.selected, 0);
    assert_eq!(h.app.focus, Pane::List);
    assert!(h.app.dialog.is_none());
    assert_eq!(h.app.list.total, 11);
    // A repeat counts as a press.
    h.event(Event::Key(KeyEvent::new_with_kind(
        KeyCode::Char('j'),
        KeyModifiers::NONE,
        KeyEventKind::Repeat,
    )));
    assert_eq!(h.app.list.selected, 1);
}

/// The dialogs about one session or none, the keys that open them, and the
/// field where the keyboard starts.
const DIALOGS: [(char, &str, &str); 10] = [
    ('b', "branch", "new session"),
    ('r', "rename", "new name"),
    ('T', "retitle", "title"),
    ('t', "tags", "tags"),
    (
        'e',
        "metadata",
        "key = text, key := json lines (ctrl-s saves)",
    ),
    ('a', "compose", "text (ctrl-s adds it)"),
    ('+', "new", "name"),
    ('x', "export", "path"),
    ('i', "import", "path"),
    ('c', "cleanup", "older than"),
];

#[test]
fn esc_closes_an_unchanged_dialog_at_once() {
    let mut h = Harness::demo(80, 24);
    h.open("rust-async-deep-dive");
    h.key_code(KeyCode::Esc);
    assert_eq!(h.app.focus, Pane::List);
    let total = h.app.list.total;
    for (c, what, _) in DIALOGS {
        h.key(c);
        assert!(h.app.dialog.is_some(), "{what}");
        // Moving around types nothing.
        h.key_code(KeyCode::Down);
        h.key_code(KeyCode::BackTab);
        h.key_code(KeyCode::Esc);
        assert!(h.app.dialog.is_none(), "{what}");
        assert_eq!(h.app.focus, Pane::List, "{what}");
        assert_eq!(h.app.screen, Screen::Main, "{what}");
    }
    // Merge, with two marked.
    h.key(' ');
    h.key(' ');
    h.key('m');
    dialog!(h, Merge);
    h.key_code(KeyCode::Esc);
    assert!(h.app.dialog.is_none());
    // The command line, from the history.
    h.key_code(KeyCode::Enter);
    assert_eq!(h.app.focus, Pane::History);
    h.key(':');
    assert!(h.app.prompt.is_some());
    h.key_code(KeyCode::Esc);
    assert!(h.app.prompt.is_none());
    assert_eq!(
        h.app.focus,
        Pane::History,
        "Esc closed the command line only"
    );
    // Nothing changed.
    assert_eq!(h.app.list.total, total);
    assert_eq!(h.store.list(&ListQuery::default()).unwrap().len(), 11);
    assert!(!h.app.quit);
}

#[test]
fn esc_on_a_draft_asks_before_throwing_it_away() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    let before = h.session("api-redesign");
    for (c, what, label) in DIALOGS {
        h.key(c);
        h.typ("zz");
        let typed = h.focused_text();
        assert!(typed.ends_with("zz"), "{what}: {typed:?}");
        assert!(h.dialog().is_draft(), "{what}");
        h.key_code(KeyCode::Esc);
        let confirm = dialog!(h, Confirm);
        assert_eq!(confirm.title, "discard what you typed?", "{what}");
        assert_eq!(confirm.yes, Yes::Discard, "{what}");
        // n goes back to the draft, as it was.
        h.key('n');
        assert_eq!(h.focused(), label, "{what}");
        assert_eq!(h.focused_text(), typed, "{what}");
        // So does esc on the question.
        h.key_code(KeyCode::Esc);
        dialog!(h, Confirm);
        h.key_code(KeyCode::Esc);
        assert_eq!(h.focused_text(), typed, "{what}");
        // y throws it away: nothing is done.
        h.discard();
        assert_eq!(h.app.screen, Screen::Main, "{what}");
    }
    assert_eq!(h.session("api-redesign"), before);
    assert_eq!(h.store.list(&ListQuery::default()).unwrap().len(), 11);
    // A confirm of its own closes on n without asking anything.
    h.key('v');
    h.key('D');
    dialog!(h, Confirm);
    h.key('n');
    assert!(h.app.dialog.is_none());
}

#[test]
fn the_keyboard_starts_where_the_user_types() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    for (c, what, label) in DIALOGS {
        h.key(c);
        assert_eq!(h.focused(), label, "{what}");
        let before = h.focused_text();
        h.typ("Q");
        assert_eq!(h.focused_text(), format!("{before}Q"), "{what}");
        h.discard();
    }
    h.key(' ');
    h.key(' ');
    h.key('m');
    assert_eq!(h.focused(), "new session");
}

#[test]
fn a_store_error_keeps_every_dialog_open_with_its_input() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    let dialogs = DIALOGS.iter().map(|(c, what, _)| (*c, *what));
    for (c, what) in dialogs.chain([('m', "merge")]) {
        if c == 'm' {
            h.key(' ');
            h.key(' ');
        }
        h.key(c);
        if c == 'e' {
            // (A line of its own: zz after a JSON value would spoil it.)
            h.typ("\nzz = zz");
        } else if c != 'c' {
            // (Cleanup's first field is a span: zz would spoil it.)
            h.typ("zz");
        }
        let text = h.focused_text();
        // Ctrl-S submits from any field.
        let cmds = h.press(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert!(
            matches!(cmds.as_slice(), [Command::Mutate(_)]),
            "{what}: {cmds:?}"
        );
        assert!(h.state().waiting.is_some(), "{what}");
        // Until the store answers, keys change nothing.
        h.key('q');
        assert_eq!(h.focused_text(), text, "{what}");
        h.event(Event::MutationFailed("the disk is full".into()));
        assert_eq!(h.error(), Some("the disk is full"), "{what}");
        assert!(h.state().waiting.is_none(), "{what}");
        assert_eq!(h.focused_text(), text, "{what}: the input is kept");
        // Fixed, it can be tried again.
        let cmds = h.press(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(cmds.len(), 1, "{what}");
        h.event(Event::MutationFailed("still full".into()));
        assert_eq!(h.error(), Some("still full"), "{what}");
        if h.dialog().is_draft() {
            h.discard();
        } else {
            h.key_code(KeyCode::Esc);
        }
        assert!(h.app.dialog.is_none(), "{what}");
    }
}

#[test]
fn the_export_path_follows_the_format() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    h.key('x');
    h.key_code(KeyCode::BackTab);
    assert_eq!(h.focused(), "format");
    for (format, path) in [
        ("jsonl", "api-redesign.jsonl"),
        ("md", "api-redesign.md"),
        ("json", "api-redesign.json"),
        ("md", "api-redesign.md"),
    ] {
        if format == "md" && dialog!(h, Export).format.selected() == "json" {
            h.key_code(KeyCode::Left);
        } else {
            h.key_code(KeyCode::Right);
        }
        assert_eq!(dialog!(h, Export).format.selected(), format);
        assert_eq!(dialog!(h, Export).path.text(), path);
    }
    // The dialog renamed it, the user typed nothing: esc closes at once.
    h.key_code(KeyCode::Esc);
    assert!(h.app.dialog.is_none());

    // A path the user typed follows too, when it ends in a known extension.
    h.key('x');
    h.clear_field();
    h.typ("out/notes.md");
    h.key_code(KeyCode::BackTab);
    h.key_code(KeyCode::Right);
    assert_eq!(dialog!(h, Export).path.text(), "out/notes.jsonl");
    // One of their own is left alone.
    h.key_code(KeyCode::Tab);
    h.clear_field();
    h.typ("backup");
    h.key_code(KeyCode::BackTab);
    h.key_code(KeyCode::Right);
    assert_eq!(dialog!(h, Export).format.selected(), "md");
    assert_eq!(dialog!(h, Export).path.text(), "backup");
    h.key_code(KeyCode::Tab);
    h.clear_field();
    h.typ("notes.txt");
    h.key_code(KeyCode::BackTab);
    h.key_code(KeyCode::Right);
    assert_eq!(dialog!(h, Export).path.text(), "notes.txt");

    // `~` is the home folder (the export is not run).
    let Some(home) = std::env::var_os("HOME") else {
        return;
    };
    h.key_code(KeyCode::Tab);
    h.clear_field();
    h.typ("~/api.json");
    let cmds = h.press(KeyCode::Enter, KeyModifiers::NONE);
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::Mutate(Mutation::Export { path, format: scrollback::export::ExportFormat::Json, overwrite: false, .. })]
                if *path == std::path::Path::new(&home).join("api.json")
        ),
        "{cmds:?}"
    );
}

#[test]
fn export_to_an_existing_file_asks_before_replacing_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.json");
    std::fs::write(&path, "old").unwrap();
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    h.key('x');
    h.clear_field();
    h.typ(path.to_str().unwrap());
    let cmds = h.key_code(KeyCode::Enter);
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::Mutate(Mutation::Export {
                overwrite: false,
                ..
            })]
        ),
        "{cmds:?}"
    );
    let confirm = dialog!(h, Confirm);
    assert_eq!(
        confirm.title,
        format!("{} exists: replace it?", path.display())
    );
    assert!(
        matches!(&confirm.yes, Yes::Mutate(Mutation::Export { path: p, overwrite: true, .. }) if *p == path),
        "{:?}",
        confirm.yes
    );
    assert!(matches!(confirm.back.as_deref(), Some(Dialog::Export(_))));
    // n keeps the file, and goes back to the export, path and all.
    h.key('n');
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    assert_eq!(dialog!(h, Export).path.text(), path.to_str().unwrap());
    assert!(h.state().waiting.is_none());
    assert_eq!(h.app.status.message, "left as it was");
    // Asked again, y replaces it.
    h.key_code(KeyCode::Enter);
    dialog!(h, Confirm);
    let cmds = h.key('y');
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::Mutate(Mutation::Export {
                overwrite: true,
                ..
            })]
        ),
        "{cmds:?}"
    );
    assert!(h.app.dialog.is_none());
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc[0]["name"], "api-redesign");
    assert_eq!(
        h.app.status.message,
        format!("exported 1 sessions to {}", path.display())
    );
    assert!(!h.app.status.error);
    // From the command line, the question comes alone; y replaces the file.
    h.key(':');
    h.typ(&format!("export md {}\n", path.display()));
    assert!(dialog!(h, Confirm).back.is_none());
    h.key('y');
    assert!(h.app.dialog.is_none());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("---\ntitle: ") && text.contains("\n---\n\n# "),
        "Markdown with front matter: {text}"
    );
}

#[test]
fn tab_completes_paths_in_the_import_and_export_dialogs() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["sessions one.json", "sessions two.json", "日本語.jsonl"] {
        std::fs::write(dir.path().join(f), "[]").unwrap();
    }
    std::fs::create_dir(dir.path().join("archive")).unwrap();
    let base = format!("{}/", dir.path().display());
    let mut h = Harness::demo(80, 24);
    h.key('i');
    h.typ(&format!("{base}se"));
    h.key_code(KeyCode::Tab);
    assert_eq!(dialog!(h, Import).path.text(), format!("{base}sessions "));
    assert_eq!(h.focused(), "path", "tab completes instead of moving on");
    assert_eq!(
        h.info().last().unwrap(),
        "sessions one.json  sessions two.json"
    );
    // Typing on drops the offer; tab again finishes the name.
    h.typ("t");
    assert!(!h.info().iter().any(|l| l.contains("sessions one.json")));
    h.key_code(KeyCode::Tab);
    assert_eq!(
        dialog!(h, Import).path.text(),
        format!("{base}sessions two.json")
    );
    // A folder gets its slash.
    h.clear_field();
    h.typ(&format!("{base}ar"));
    h.key_code(KeyCode::Tab);
    assert_eq!(dialog!(h, Import).path.text(), format!("{base}archive/"));
    // Nothing matches: nothing changes.
    h.typ("zz");
    h.key_code(KeyCode::Tab);
    assert_eq!(dialog!(h, Import).path.text(), format!("{base}archive/zz"));
    // Down moves to the next field, back-tab back.
    h.key_code(KeyCode::Down);
    assert_eq!(h.focused(), "format");
    h.key_code(KeyCode::BackTab);
    assert_eq!(h.focused(), "path");
    h.discard();

    // The export path completes too.
    h.key('x');
    h.clear_field();
    h.typ(&format!("{base}日"));
    h.key_code(KeyCode::Tab);
    assert_eq!(
        dialog!(h, Export).path.text(),
        format!("{base}日本語.jsonl")
    );
    assert_eq!(h.focused(), "path");
}

// ---------------------------------------------------------------------------
// The mouse
// ---------------------------------------------------------------------------

#[test]
fn a_click_on_a_list_row_selects_and_opens_it() {
    let (w, ht) = (80, 24);
    let mut h = Harness::demo(w, ht);
    let names = h.names();
    let list = scrollback::tui::layout::areas(w, ht, Pane::List)
        .list
        .unwrap();
    let cmds = h.mouse(
        MouseEventKind::Down(MouseButton::Left),
        list.x + 3,
        list.y + 1 + 3,
    );
    assert_eq!(h.app.list.selected, 3);
    assert_eq!(h.current_name(), names[3]);
    let id = h.session(&names[3]).id;
    assert!(cmds.iter().any(
        |c| matches!(c, Command::LoadHistory { id: got, from: 0, limit: 300, .. } if *got == id)
    ));
    assert_eq!(h.history().session.name, names[3]);
    assert_eq!(h.app.meta.as_ref().unwrap().session.id, id);
    assert_eq!(h.app.focus, Pane::List);
    // The first row, right under the border.
    h.mouse(
        MouseEventKind::Down(MouseButton::Left),
        list.x + 3,
        list.y + 1,
    );
    assert_eq!(h.app.list.selected, 0);
    assert_eq!(h.history().session.name, names[0]);
    // The border itself selects nothing.
    h.mouse(MouseEventKind::Down(MouseButton::Left), list.x + 3, list.y);
    assert_eq!(h.app.list.selected, 0);
    // Below the last row: nothing.
    h.mouse(
        MouseEventKind::Down(MouseButton::Left),
        list.x + 3,
        list.y + 1 + 11,
    );
    assert_eq!(h.app.list.selected, 0);
}

#[test]
fn a_click_on_the_history_focuses_it() {
    let (w, ht) = (120, 40);
    let mut h = Harness::demo(w, ht);
    let a = scrollback::tui::layout::areas(w, ht, Pane::List);
    let hist = a.history.unwrap();
    let cmds = h.mouse(
        MouseEventKind::Down(MouseButton::Left),
        hist.x + 2,
        hist.y + 2,
    );
    assert!(cmds.is_empty());
    assert_eq!(h.app.focus, Pane::History);
    let meta = a.meta.unwrap();
    h.mouse(
        MouseEventKind::Down(MouseButton::Left),
        meta.x + 2,
        meta.y + 2,
    );
    assert_eq!(h.app.focus, Pane::Meta);
}

#[test]
fn the_wheel_over_the_history_scrolls_it_and_focuses_it() {
    let (w, ht) = (80, 24);
    let mut h = Harness::demo(w, ht);
    assert_eq!(h.app.focus, Pane::List);
    assert_eq!(h.history().cursor, 0);
    let hist = scrollback::tui::layout::areas(w, ht, Pane::List)
        .history
        .unwrap();
    let (x, y) = (hist.x + 2, hist.y + 2);
    h.mouse(MouseEventKind::ScrollDown, x, y);
    assert_eq!(h.app.focus, Pane::History);
    assert_eq!(h.history().cursor, 1);
    h.mouse(MouseEventKind::ScrollDown, x, y);
    h.mouse(MouseEventKind::ScrollDown, x, y);
    assert_eq!(h.history().cursor, 3);
    h.mouse(MouseEventKind::ScrollUp, x, y);
    assert_eq!(h.history().cursor, 2);
    assert_eq!(h.app.list.selected, 0, "the list did not move");

    // Over the list, the wheel moves the selection.
    let list = scrollback::tui::layout::areas(w, ht, Pane::History)
        .list
        .unwrap();
    h.mouse(MouseEventKind::ScrollDown, list.x + 2, list.y + 2);
    assert_eq!(h.app.focus, Pane::List);
    assert_eq!(h.app.list.selected, 1);
    assert_eq!(h.history().session.name, h.names()[1]);
}

#[test]
fn the_mouse_does_nothing_under_a_dialog() {
    let (w, ht) = (80, 24);
    let mut h = Harness::demo(w, ht);
    h.key('r');
    let list = scrollback::tui::layout::areas(w, ht, Pane::List)
        .list
        .unwrap();
    assert!(
        h.mouse(
            MouseEventKind::Down(MouseButton::Left),
            list.x + 3,
            list.y + 4
        )
        .is_empty()
    );
    assert_eq!(h.app.list.selected, 0);
    assert!(h.app.dialog.is_some());
}

#[test]
fn a_click_on_the_filter_line_selects_nothing() {
    // 80x13: one pane at a time; the list is 12 rows, 10 inside, 9 rows of
    // sessions and the filter line at y 10.
    let mut h = Harness::demo(80, 13);
    h.key('f');
    assert_eq!(h.app.list.total, 11);
    h.mouse(MouseEventKind::Down(MouseButton::Left), 5, 10);
    assert_eq!(h.app.list.selected, 0);
}

// ---------------------------------------------------------------------------
// Resize, failures, progress
// ---------------------------------------------------------------------------

/// The cursor's message starts inside the history pane.
fn cursor_visible(app: &App) -> bool {
    let (rows, cols) = app.history_size();
    let h = app.history.as_ref().unwrap();
    if h.cursor < h.top {
        return false;
    }
    let above: usize = (h.top..h.cursor)
        .map(|s| text::height(h.message(s).unwrap(), cols, h.expanded.contains(&s)))
        .sum();
    above < rows
}

#[test]
fn resize_keeps_the_history_cursor_visible() {
    let mut h = Harness::demo(120, 40);
    h.open("rust-async-deep-dive");
    h.key(':');
    h.typ("60");
    h.key_code(KeyCode::Enter);
    assert!(cursor_visible(&h.app));
    for (w, ht) in [(60, 20), (200, 60), (80, 24), (40, 10), (120, 40)] {
        assert!(h.event(Event::Resize(w, ht)).is_empty());
        assert_eq!((h.app.width, h.app.height), (w, ht));
        assert!(cursor_visible(&h.app), "{w}x{ht}");
    }
    // With long messages expanded around it too.
    for _ in 0..5 {
        h.key('k');
        h.key('z');
    }
    h.key('G');
    for (w, ht) in [(50, 12), (160, 50)] {
        h.event(Event::Resize(w, ht));
        assert!(cursor_visible(&h.app), "{w}x{ht}");
    }
    // The list selection stays visible too.
    h.key_code(KeyCode::Esc);
    h.key('G');
    h.event(Event::Resize(80, 13));
    let l = &h.app.list;
    assert!(l.top <= l.selected && l.selected < l.top + 10);
}

#[test]
fn failures_and_progress_show_in_the_status_bar() {
    let mut h = Harness::demo(80, 24);
    h.event(Event::Failed("disk on fire".into()));
    assert_eq!(h.app.status.message, "disk on fire");
    assert!(h.app.status.error);
    // The next action clears it.
    h.key('j');
    assert!(!h.app.status.error);
    assert!(h.app.status.message.is_empty());

    h.event(Event::Progress {
        label: "indexing".into(),
        done: 3,
        total: 10,
    });
    assert_eq!(h.app.status.job, Some(("indexing".into(), 3, 10)));
    h.event(Event::Progress {
        label: "indexing".into(),
        done: 10,
        total: 10,
    });
    assert_eq!(h.app.status.job, None);

    // A history page that cannot be read stops the loading state and
    // says why, in the pane and the status bar.
    let id = h.history().session.id;
    h.app.history.as_mut().unwrap().pending = Some((77, 0));
    h.app.history_generation = 77;
    h.event(Event::HistoryLoaded {
        id,
        generation: 77,
        page: Err("gone".into()),
    });
    assert!(!h.history().loading());
    assert_eq!(h.history().error.as_deref(), Some("gone"));
    assert_eq!(h.app.status.message, "gone");
}

#[test]
fn details_of_a_branched_session_and_opening_its_lineage() {
    let mut h = Harness::demo(80, 24);
    h.select("api-redesign");
    let meta = h.app.meta.as_ref().unwrap();
    assert!(meta.parent.is_none());
    let branches: Vec<&str> = meta.branches.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(branches, ["api-redesign-graphql", "api-redesign-grpc"]);
    h.key_code(KeyCode::BackTab);
    assert_eq!(h.app.focus, Pane::Meta);
    let lines = scrollback::tui::details::lines(h.app.meta.as_ref().unwrap());
    assert_eq!(lines[0].value, "api-redesign-graphql at msg 3");
    h.key('j');
    assert_eq!(h.app.meta_cursor, 1);
    h.key('j');
    assert_eq!(h.app.meta_cursor, 2, "past the lineage: the other lines");
    assert!(h.key_code(KeyCode::Enter).is_empty(), "not a link");
    assert_eq!(h.app.focus, Pane::Meta);
    h.key('G');
    assert_eq!(h.app.meta_cursor, lines.len() - 1);
    h.key('g');
    h.key('j');
    // Enter opens the branch in the history, at its fork point.
    let fork = h.session("api-redesign-grpc").fork_seq.unwrap();
    h.key_code(KeyCode::Enter);
    assert_eq!(h.history().cursor, fork);
    assert_eq!(h.current_name(), "api-redesign-grpc", "the list follows");
    assert_eq!(h.app.focus, Pane::History);
    assert_eq!(h.history().session.name, "api-redesign-grpc");
    let meta = h.app.meta.as_ref().unwrap();
    assert_eq!(meta.parent.as_ref().unwrap().name, "api-redesign");
    assert_eq!(h.app.meta_cursor, 0);
    // And from there, the parent, at the fork point.
    h.key_code(KeyCode::Tab);
    h.key_code(KeyCode::Enter);
    assert_eq!(h.history().session.name, "api-redesign");
    assert_eq!(h.history().cursor, fork);
    assert_eq!(h.current_name(), "api-redesign");
}

#[test]
fn meta_of_another_session_is_ignored() {
    let mut h = Harness::demo(80, 24);
    let other = h.session("api-redesign");
    let ev = run_now(
        &mut h.store,
        &mut h.search,
        Command::LoadMeta { id: other.id },
        &[],
    );
    h.app.update(ev);
    assert_eq!(
        h.app.meta.as_ref().unwrap().session.name,
        "tiler-fix-gap-layout"
    );
}

// ---------------------------------------------------------------------------
// A list larger than one window
// ---------------------------------------------------------------------------

fn big_store(n: usize) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    for i in 0..n {
        store
            .create_session(&NewSession::named(format!("s{i:04}")))
            .unwrap();
    }
    store
}

#[test]
fn a_big_list_loads_windows_as_the_selection_moves() {
    let mut h = Harness::with_store(big_store(700), 80, 24, Vec::new());
    assert_eq!(h.app.list.total, 700);
    assert_eq!(h.app.list.rows.len(), 300);
    h.key('G');
    assert_eq!(h.app.list.selected, 699);
    assert_eq!(h.app.list.offset, 549);
    assert!(h.app.list.current().is_some());
    assert_eq!(h.history().session.id, h.app.list.current().unwrap().id);
    h.key('g');
    assert_eq!(h.app.list.offset, 0);
    assert_eq!(h.history().session.id, h.app.list.current().unwrap().id);
    for _ in 0..20 {
        h.key_code(KeyCode::PageDown);
        assert!(
            h.app.list.current().is_some(),
            "row {} loaded",
            h.app.list.selected
        );
    }
    assert_eq!(h.app.list.query.state, StateFilter::Live);
}

#[test]
fn sorting_with_the_selection_far_down_starts_at_the_top() {
    let mut h = Harness::with_store(big_store(700), 80, 24, Vec::new());
    h.key('G');
    assert_eq!(h.app.list.selected, 699);
    assert_eq!(h.app.list.offset, 549);
    let cmds = h.press(KeyCode::Char('s'), KeyModifiers::NONE);
    assert!(
        matches!(
            &cmds[..],
            [Command::LoadList {
                offset: 0,
                query,
                ..
            }] if query.sort == Sort::Created
        ),
        "{cmds:?}"
    );
    assert_eq!(h.app.list.selected, 0);
    assert_eq!(h.app.list.top, 0);
    h.pump(cmds);
    assert_eq!(h.app.list.selected, 0);
    assert_eq!(h.app.list.offset, 0);
    assert_eq!(h.app.list.total, 700);
    let current = h.app.list.current().expect("the selected row is loaded");
    assert_eq!(current.id, h.app.list.rows[0].id);
    let id = current.id;
    assert_eq!(h.history().session.id, id, "and opened");
    assert!(!h.history().loading());
    assert_eq!(h.app.meta.as_ref().unwrap().session.id, id);
    assert_eq!(h.app.status.message, "sorted by creation");
}

#[test]
fn a_refresh_that_arrives_after_a_move_keeps_the_move() {
    // Another process changed the store: the list is read again, locating
    // the session shown. Before the answer comes, j moves to the next one.
    let mut h = Harness::demo(80, 24);
    let names = h.names();
    let refresh = h.app.update(Event::StoreChanged);
    assert!(refresh.iter().any(is_load_list));
    h.key('j');
    assert_eq!(h.history().session.name, names[1]);
    // The stale answer (locating the first session) is not applied: the
    // list is asked again for the session now shown.
    h.pump(refresh);
    assert_eq!(h.app.list.selected, 1);
    assert_eq!(h.current_name(), names[1]);
    assert_eq!(h.history().session.name, names[1]);
}

#[test]
fn an_empty_filter_leaves_nothing_to_act_on() {
    let mut h = Harness::demo(80, 24);
    h.key('f');
    h.typ("tag:nosuchtag\n");
    assert_eq!(h.app.list.total, 0);
    assert!(h.app.history.is_none(), "nothing on screen");
    let cmds = h.key('d');
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(h.app.status.message, "no session selected");
    assert!(
        h.store
            .list(&ListQuery {
                state: StateFilter::Trashed,
                ..ListQuery::default()
            })
            .unwrap()
            .is_empty()
    );
}

#[test]
fn keys_typed_before_a_filtered_list_arrives_act_on_nothing_stale() {
    // f, a burst of keys and d before the filtered list arrives: the
    // list is between two queries, so d is refused rather than aimed at
    // a row of the old list.
    let mut h = Harness::demo(80, 24);
    h.key('j');
    h.key('j');
    h.press(KeyCode::Char('f'), KeyModifiers::NONE);
    let mut pending = Vec::new();
    for c in "tag:work".chars() {
        pending.extend(h.press(KeyCode::Char(c), KeyModifiers::NONE));
    }
    pending.extend(h.press(KeyCode::Enter, KeyModifiers::NONE));
    let cmds = h.press(KeyCode::Char('d'), KeyModifiers::NONE);
    assert!(cmds.is_empty(), "{cmds:?}");
    assert_eq!(h.app.status.message, "the list is loading: try again");
    h.pump(pending);
    // Now the highlighted row, the history and d agree.
    let shown = h.history().session.clone();
    assert_eq!(h.current_name(), shown.name);
    assert!(shown.tags.contains(&"work".to_string()));
    let cmds = h.key('d');
    assert_eq!(
        cmds,
        vec![Command::Mutate(Mutation::Trash {
            ids: vec![shown.id]
        })]
    );
    assert!(h.session(&shown.name).trashed);
}

#[test]
fn archive_and_trash_views_restore_unarchive_and_purge() {
    let mut h = Harness::demo(80, 24);
    let names = h.names();
    // Archive the first session: it leaves the live list.
    h.key('A');
    assert!(h.session(&names[0]).archived);
    assert_eq!(h.app.list.total, 10);
    // The archive view shows it (and the demo's archived one).
    h.key('v');
    assert_eq!(h.app.list.query.state, StateFilter::Archived);
    assert!(h.names().contains(&names[0]));
    h.select(&names[0]);
    assert_eq!(h.history().session.name, names[0]);
    // d is not for here; D asks, n keeps it.
    h.key('D');
    assert!(matches!(
        &dialog!(h, Confirm).yes,
        Yes::Mutate(Mutation::Purge { .. })
    ));
    h.key('n');
    assert!(h.app.dialog.is_none());
    assert!(h.store.session(&names[0]).is_ok());
    // U unarchives: back in the live list.
    h.key('U');
    assert!(!h.session(&names[0]).archived);
    assert!(!h.names().contains(&names[0]));
    // The trash: d a session, v twice, U restores it.
    h.key('v');
    h.key('v');
    assert_eq!(h.app.list.query.state, StateFilter::Live);
    h.select(&names[1]);
    h.key('d');
    assert!(h.session(&names[1]).trashed);
    h.key('v');
    h.key('v');
    assert_eq!(h.app.list.query.state, StateFilter::Trashed);
    assert_eq!(h.names(), vec![names[1].clone()]);
    assert_eq!(h.history().session.name, names[1]);
    // D, y: gone for good.
    h.key('D');
    h.key('y');
    assert!(h.store.session(&names[1]).is_err());
    assert_eq!(h.app.list.total, 0);
    assert!(h.app.history.is_none());
    // D in the live view is refused with a hint.
    h.key('v');
    h.key('D');
    assert!(h.app.dialog.is_none());
    assert!(h.app.status.message.contains("trash or the archive"));
}

#[test]
fn the_title_is_shown_and_editable() {
    let mut h = Harness::demo(80, 24);
    h.key_code(KeyCode::Tab);
    let s = h.history().session.clone();
    h.key(':');
    h.typ("title A better title\n");
    assert_eq!(h.session(&s.name).title, "A better title");
    assert_eq!(h.history().session.title, "A better title");
    let lines = scrollback::tui::details::lines(h.app.meta.as_ref().unwrap());
    assert!(
        lines
            .iter()
            .any(|l| l.label == "title" && l.value == "A better title")
    );
}

#[test]
fn the_details_pane_scrolls_to_its_last_line() {
    let mut store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let s = store.session("api-redesign").unwrap();
    let keys: Vec<(String, Option<serde_json::Value>)> = (0..30)
        .map(|i| (format!("key{i:02}"), Some(json!(i))))
        .collect();
    store.update_metadata(s.id, &keys).unwrap();
    let mut h = Harness::with_store(store, 80, 24, Vec::new());
    h.select("api-redesign");
    h.key_code(KeyCode::BackTab);
    assert_eq!(h.app.focus, Pane::Meta);
    let n = scrollback::tui::details::lines(h.app.meta.as_ref().unwrap()).len();
    assert!(n > 30);
    h.key('G');
    assert_eq!(h.app.meta_cursor, n - 1);
    let rows = h.app.meta_rows();
    assert_eq!(h.app.meta_top, n - rows, "the last line is in view");
    h.key('g');
    assert_eq!((h.app.meta_cursor, h.app.meta_top), (0, 0));
}

/// The history pane's title as drawn.
fn history_title(app: &App) -> String {
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(app.width, app.height)).unwrap();
    let theme = scrollback::tui::theme::Theme::new(false, &std::collections::BTreeMap::default()).0;
    term.draw(|f| scrollback::tui::view::draw(f, app, &theme))
        .unwrap();
    let buf = term.backend().buffer().clone();
    (0..buf.area.width)
        .map(|x| buf[(x, 0)].symbol().to_string())
        .collect()
}

#[test]
fn a_session_that_grows_is_followed_at_its_end_and_counted_above_it() {
    let mut h = Harness::demo(120, 30);
    h.open("rust-async-deep-dive");
    let id = h.history().session.id;
    h.key('G');
    let count = h.history().session.message_count;
    assert_eq!(h.history().cursor, count - 1);
    // A sync (another connection) adds two messages: the cursor follows.
    for text in ["live one", "live two"] {
        h.store
            .add_message(id, NewMessage::new(Role::Assistant, text))
            .unwrap();
    }
    h.event(Event::StoreChanged);
    assert_eq!(h.history().session.message_count, count + 2);
    assert_eq!(h.history().cursor, count + 1, "followed to the new end");
    assert_eq!(h.history().new_below, 0);
    assert_eq!(
        h.history().message(count + 1).map(|m| m.content.as_str()),
        Some("live two")
    );
    // Read higher up, new messages are counted, not jumped to.
    h.key('g');
    for text in ["three", "four", "five"] {
        h.store
            .add_message(id, NewMessage::new(Role::User, text))
            .unwrap();
    }
    h.event(Event::StoreChanged);
    assert_eq!(h.history().cursor, 0);
    assert_eq!(h.history().new_below, 3);
    assert!(
        history_title(&h.app).contains("↓ 3 new (G)"),
        "{}",
        history_title(&h.app)
    );
    h.key('G');
    assert_eq!(h.history().cursor, count + 4);
    assert_eq!(h.history().new_below, 0);
    assert!(!history_title(&h.app).contains("new (G)"));
}

#[test]
fn a_sync_runs_in_the_background_and_esc_cancels_it() {
    let mut h = Harness::demo(100, 30);
    assert!(h.key('I').contains(&Command::Sync));
    assert!(h.app.syncing);
    // A second request while it runs starts nothing.
    assert!(!h.key('I').contains(&Command::Sync));
    h.event(Event::Progress {
        label: "syncing".into(),
        done: 3,
        total: 10,
    });
    assert_eq!(h.app.status.job, Some(("syncing".into(), 3, 10)));
    // Navigation goes on meanwhile.
    h.key('j');
    assert_eq!(h.app.list.selected, 1);
    assert!(h.key_code(KeyCode::Esc).contains(&Command::CancelSync));
    h.event(Event::Progress {
        label: String::new(),
        done: 1,
        total: 1,
    });
    h.event(Event::Synced {
        message: "sync cancelled; what it synced stays".into(),
        error: false,
        quiet: false,
    });
    assert!(!h.app.syncing);
    assert_eq!(h.app.status.message, "sync cancelled; what it synced stays");
    // A quiet pass of the watch says nothing.
    h.app.status.message.clear();
    h.event(Event::Synced {
        message: "synced: nothing".into(),
        error: false,
        quiet: true,
    });
    assert!(h.app.status.message.is_empty());
    // The demo store is never synced into.
    h.app.demo = true;
    assert!(!h.key('I').contains(&Command::Sync));
    assert!(h.app.status.error);
}

#[test]
fn a_paste_goes_into_the_open_box_and_never_acts_as_keys() {
    let mut h = Harness::demo(100, 30);
    let before = h.current_name();
    // On the main screen a paste is ignored: "dq" would delete and quit.
    let cmds = h.event(Event::Paste("dq\nD".into()));
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(!h.app.quit);
    assert_eq!(h.current_name(), before);
    assert!(h.app.status.message.contains("pasted text ignored"));
    // In the search box it is text: line breaks become spaces, escapes go.
    h.key('/');
    assert_eq!(h.app.screen, Screen::Search);
    h.event(Event::Paste("tokio\ncancel\u{1b}[31mlation".into()));
    assert_eq!(h.app.search.input, "tokio cancel[31mlation");
    assert!(!h.app.quit);
}

/// Every line of the screen as drawn.
fn screen_text(app: &App) -> String {
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(app.width, app.height)).unwrap();
    let theme = scrollback::tui::theme::Theme::new(false, &std::collections::BTreeMap::default()).0;
    term.draw(|f| scrollback::tui::view::draw(f, app, &theme))
        .unwrap();
    let buf = term.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_statistics_screen_shows_what_compression_saves() {
    let mut store = Store::open_in_memory_with(StoreOptions {
        compress_min_bytes: Some(100),
        ..StoreOptions::default()
    })
    .unwrap();
    let s = store
        .create_session(&scrollback::NewSession::named("long"))
        .unwrap();
    for i in 0..3 {
        store
            .add_message(
                s.id,
                scrollback::NewMessage::new(
                    scrollback::Role::User,
                    format!("{i} {}", "the same words again ".repeat(200_000)),
                ),
            )
            .unwrap();
    }
    let mut h = Harness::with_store(store, 120, 30, Vec::new());
    h.key('S');
    let text = screen_text(&h.app);
    assert!(text.contains("3 compressed messages save 13 MB"), "{text}");
    // Without compressed messages the line is the chart's title alone.
    let mut plain = Harness::demo(120, 30);
    plain.key('S');
    let text = screen_text(&plain.app);
    assert!(text.contains("messages per month"), "{text}");
    assert!(!text.contains("compressed"), "{text}");
}

#[test]
fn cleanup_archives_to_a_file_and_the_sessions_leave_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let mut h = Harness::with_store(store, 100, 30, vec!["keep".into()]);
    h.key('c');
    for _ in 0..6 {
        h.key_code(KeyCode::Tab);
    }
    assert_eq!(h.focused(), "action");
    for _ in 0..3 {
        h.key_code(KeyCode::Right);
    }
    assert_eq!(dialog!(h, Cleanup).action.selected(), "archive to file");
    // Every matching session goes, the archived one too (as for a purge),
    // never a protected one.
    let names = plan_names(&h);
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains("postmortem-db-failover-march"));
    let default = dialog!(h, Cleanup).file.text();
    assert!(
        default.starts_with("~/scrollback-archive-")
            && std::path::Path::new(&default).extension() == Some(std::ffi::OsStr::new("sbz")),
        "{default}"
    );
    assert!(
        h.info()[0].starts_with("would move 3 sessions (49 messages) to ~/scrollback-archive-"),
        "{:?}",
        h.info()
    );
    // An existing file is refused, and the keyboard goes to the name.
    let taken = dir.path().join("taken.sbz");
    std::fs::write(&taken, "x").unwrap();
    h.key_code(KeyCode::Tab);
    assert_eq!(h.focused(), "to file");
    h.press(KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert_eq!(h.focused_text(), "");
    h.typ(taken.to_str().unwrap());
    assert!(h.key_code(KeyCode::Enter).is_empty());
    assert!(h.error().unwrap().contains("exists"), "{:?}", h.error());
    assert_eq!(h.focused(), "to file");
    // A new file: written, verified, and the sessions leave the store.
    let file = dir.path().join("old.sbz");
    h.press(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.typ(file.to_str().unwrap());
    assert!(h.info()[0].contains("old.sbz"), "{:?}", h.info());
    let cmds = h.key_code(KeyCode::Enter);
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::Mutate(Mutation::ArchiveToFile { ids, path })] if ids.len() == 3 && *path == file
        ),
        "{cmds:?}"
    );
    assert!(h.app.dialog.is_none());
    assert!(
        h.app
            .status
            .message
            .starts_with("moved 3 sessions (49 messages) out to"),
        "{}",
        h.app.status.message
    );
    for n in &names {
        assert!(h.store.session(n).is_err(), "{n} left the store");
    }
    let header = scrollback::archive::verify(&file, &|_, _| {}).unwrap();
    assert_eq!(header.sessions, 3);
    assert_eq!(header.messages, 49);
    // 11 live sessions less the 2 live ones that left (the third was archived).
    assert_eq!(h.app.list.total, 9);
}

#[test]
fn a_branch_whose_parent_went_to_an_archive_file_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let parent = store.session("api-redesign").unwrap();
    let file = dir.path().join("api.sbz");
    scrollback::archive::archive(
        &mut store,
        &[parent.id],
        &file,
        false,
        &|_, _| {},
        &scrollback::jobs::JobControl::new(),
    )
    .unwrap();
    let mut h = Harness::with_store(store, 120, 30, Vec::new());
    h.open("api-redesign-grpc");
    let lines = scrollback::tui::details::lines(h.app.meta.as_ref().unwrap());
    let parent_line = lines
        .iter()
        .find(|l| l.label == "parent")
        .expect("a parent line");
    assert!(
        parent_line.value.starts_with("api-redesign")
            && parent_line.value.contains("(in archive ")
            && parent_line.value.contains("api.sbz"),
        "{}",
        parent_line.value
    );
}
