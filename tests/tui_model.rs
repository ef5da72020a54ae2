//! A model-based test of the TUI: random sequences of what a person does
//! (moves in the list and the history, `:N` jumps, filters, sorts, searches,
//! lineage jumps, marks, trash and undo, views, resizes, and now and then a
//! change made by another process) against the real `App` and the real
//! workers (threads, a SQLite file, the tantivy index), checking after every
//! step, once the workers are idle, that what the screen says is true:
//! nothing is left `loading…`, the list shows the store's sessions and
//! highlights the one in the history, the history header names the message
//! under the cursor and that message is drawn with the cursor mark, `d`
//! trashed exactly the session on screen (or the marked ones) and `u`
//! restored what the last `d` trashed, and no worker reported a failure.
//! Where the keys alone say where the app must end (moves in the list or a
//! history, moves typed right after a filter or right after opening a
//! session, `:N`, enter on a search hit or a lineage link), it is checked
//! that it ends there: a key typed before an answer arrives is not lost.
//!
//! Keys within one step are typed without waiting ("fast typing"); a
//! `Round` between them lets the answers in flight arrive first, so keys
//! also land between an answer and the loads it asks for.
//!
//! The store (sessions of 1, 50, 400, 5,000 and 60,000 messages, small
//! ones, branches, an archived one, an empty one) and its index are built
//! once per run and copied for each case. `PROPTEST_CASES` overrides the
//! number of cases. Sequences that once failed are replayed by
//! `found_sequences_pass`.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use scrollback::domain::{MessageDoc, ts_from_ms};
use scrollback::search::{Search, index_dir};
use scrollback::store::ImportOptions;
use scrollback::tui::app::{App, Screen};
use scrollback::tui::command::{Command, Mutation};
use scrollback::tui::details;
use scrollback::tui::event::Event;
use scrollback::tui::keymap::Keymap;
use scrollback::tui::layout::{Pane, areas};
use scrollback::tui::runtime::{Runtime, SearchSetup};
use scrollback::tui::theme::Theme;
use scrollback::tui::view::{draw, thousands};
use scrollback::{
    ListQuery, NewMessage, NewSession, Role, Session, SessionDoc, SessionId, StateFilter, Store,
    Uid,
};

// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

/// The sessions: name, messages, tags.
const SESSIONS: &[(&str, u64, &[&str])] = &[
    ("one", 1, &[]),
    ("fifty", 50, &["work"]),
    ("four-hundred", 400, &[]),
    ("five-thousand", 5_000, &["work"]),
    ("sixty-thousand", 60_000, &[]),
    ("notes-alpha", 3, &["work"]),
    ("notes-beta", 7, &[]),
    ("notes-gamma", 12, &["work", "ideas"]),
    ("scratch", 2, &[]),
    ("empty-draft", 0, &[]),
    ("old-archived", 20, &["work"]),
];

/// Branches, in order: (parent, name, fork point). `fifty-alt` has a parent
/// and a branch of its own; `fifty` has two branches.
const BRANCHES: &[(&str, &str, u64)] = &[
    ("fifty", "fifty-alt", 20),
    ("five-thousand", "five-thousand-alt", 4_321),
    ("four-hundred", "four-hundred-alt", 250),
    ("fifty", "fifty-early", 3),
    ("fifty-alt", "fifty-alt-deep", 10),
];

const BASE_MS: i64 = 1_750_000_000_000;

fn frozen() -> Timestamp {
    "2026-11-21T12:00:00Z".parse().unwrap()
}

/// Message `j` of session `si`: short lines, long paragraphs that wrap, code
/// blocks, tool output, 40-line messages (folded until expanded), and the
/// words the searches look for.
fn content(si: usize, j: u64) -> String {
    let mut s = format!("session {si} message {j}.");
    if j % 997 == 5 {
        s.push_str(" A zebra crossed the road.");
    }
    if si == 4 && j == 45_678 {
        s.push_str(" The quokka smiled.");
    }
    if (5..=8).contains(&si) && j == 1 {
        s.push_str(" A marmot whistled.");
    }
    match j % 23 {
        7 => {
            for k in 0..40 {
                let _ = write!(s, "\nline {k} of a long message");
            }
        }
        3 | 15 => {
            s.push_str("\nhere is the code:\n```rust\n");
            for k in 0..5 {
                let _ = writeln!(s, "fn f{k}() -> u64 {{ {k} }}");
            }
            s.push_str("```\nthat is all.");
        }
        1 | 9 | 18 => {
            for _ in 0..12 {
                s.push_str(" the quick brown fox jumps over the lazy dog");
            }
        }
        _ => {}
    }
    s
}

fn role(j: u64) -> Role {
    if j % 29 == 13 {
        Role::Tool
    } else if j.is_multiple_of(2) {
        Role::User
    } else {
        Role::Assistant
    }
}

/// Builds the store and its search index in `dir`; returns the db path.
fn build_template(dir: &Path) -> PathBuf {
    let db = dir.join("template.db");
    let mut store = Store::open(&db).unwrap();
    let mut batch = store.begin_import(ImportOptions::default()).unwrap();
    for (si, (name, n, tags)) in SESSIONS.iter().enumerate() {
        let created = BASE_MS + i64::try_from(si).unwrap() * 3_600_000;
        let messages = (0..*n)
            .map(|j| MessageDoc {
                role: Some(role(j)),
                content: content(si, j),
                created_at: Some(ts_from_ms(created + i64::try_from(j).unwrap() * 1_000)),
                ..MessageDoc::default()
            })
            .collect();
        batch
            .add(SessionDoc {
                uid: Some(Uid(format!("model-{si:04}"))),
                name: Some((*name).to_string()),
                title: format!("the {name} session"),
                created_at: Some(ts_from_ms(created)),
                tags: tags.iter().map(|t| (*t).to_string()).collect(),
                messages,
                ..SessionDoc::default()
            })
            .unwrap();
    }
    batch.commit().unwrap();
    for (parent, name, at) in BRANCHES {
        let p = store.session(parent).unwrap();
        store.branch(p.id, name, Some(*at)).unwrap();
    }
    let archived = store.session("old-archived").unwrap();
    store.archive(&[archived.id]).unwrap();
    drop(Search::open(&store, &|_, _| {}).unwrap());
    drop(store);
    db
}

/// The store built once and shared by the tests running at the same time;
/// removed when the last of them is done with it.
struct Shared {
    _dir: tempfile::TempDir,
    db: PathBuf,
    users: usize,
}

static TEMPLATE: Mutex<Option<Shared>> = Mutex::new(None);

struct Template(PathBuf);

impl Template {
    fn get() -> Template {
        let mut t = TEMPLATE.lock().unwrap_or_else(PoisonError::into_inner);
        let shared = t.get_or_insert_with(|| {
            let dir = tempfile::tempdir().unwrap();
            let started = Instant::now();
            let db = build_template(dir.path());
            eprintln!(
                "tui_model: store and index built in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Shared {
                _dir: dir,
                db,
                users: 0,
            }
        });
        shared.users += 1;
        Template(shared.db.clone())
    }
}

impl Drop for Template {
    fn drop(&mut self) {
        let mut t = TEMPLATE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = t.as_mut() {
            shared.users -= 1;
            if shared.users == 0 {
                *t = None;
            }
        }
    }
}

/// Copies the store and its index into `dir`; returns the new db path.
fn copy_store(template: &Path, dir: &Path) -> PathBuf {
    let db = dir.join("scrollback.db");
    for ext in ["", "-wal"] {
        let from = PathBuf::from(format!("{}{ext}", template.display()));
        if from.exists() {
            std::fs::copy(&from, format!("{}{ext}", db.display())).unwrap();
        }
    }
    copy_dir(&index_dir(template), &index_dir(&db));
    db
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------
// What the user does
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    J,
    K,
    Top,
    Bottom,
    CtrlD,
    CtrlU,
    PageDown,
    PageUp,
    Tab,
    BackTab,
    Esc,
    Enter,
    Space,
    Delete,
    Undo,
    View,
    Sort,
    /// `:N` enter.
    Jump(u64),
    /// Not a key: the answers to what is in flight arrive (one barrier
    /// round), and their follow-ups are sent but not answered yet.
    Round,
    /// Not a key: the terminal is resized.
    Resize(u16, u16),
}

impl Key {
    fn events(self) -> Vec<KeyEvent> {
        let plain = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let (code, mods) = match self {
            Key::Jump(n) => {
                let mut keys = vec![plain(':')];
                keys.extend(n.to_string().chars().map(plain));
                keys.push(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
                return keys;
            }
            Key::Round | Key::Resize(..) => return Vec::new(),
            Key::J => (KeyCode::Char('j'), KeyModifiers::NONE),
            Key::K => (KeyCode::Char('k'), KeyModifiers::NONE),
            Key::Top => (KeyCode::Char('g'), KeyModifiers::NONE),
            Key::Bottom => (KeyCode::Char('G'), KeyModifiers::SHIFT),
            Key::CtrlD => (KeyCode::Char('d'), KeyModifiers::CONTROL),
            Key::CtrlU => (KeyCode::Char('u'), KeyModifiers::CONTROL),
            Key::PageDown => (KeyCode::PageDown, KeyModifiers::NONE),
            Key::PageUp => (KeyCode::PageUp, KeyModifiers::NONE),
            Key::Tab => (KeyCode::Tab, KeyModifiers::NONE),
            Key::BackTab => (KeyCode::BackTab, KeyModifiers::SHIFT),
            Key::Esc => (KeyCode::Esc, KeyModifiers::NONE),
            Key::Enter => (KeyCode::Enter, KeyModifiers::NONE),
            Key::Space => (KeyCode::Char(' '), KeyModifiers::NONE),
            Key::Delete => (KeyCode::Char('d'), KeyModifiers::NONE),
            Key::Undo => (KeyCode::Char('u'), KeyModifiers::NONE),
            Key::View => (KeyCode::Char('v'), KeyModifiers::NONE),
            Key::Sort => (KeyCode::Char('s'), KeyModifiers::NONE),
        };
        vec![KeyEvent::new(code, mods)]
    }
}

/// A change another process makes to the store meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Adds messages to the session on screen (or to `scratch`).
    Append(u64),
    /// Moves the session on screen (or `notes-beta`) to the trash.
    TrashShown,
    /// Creates a session.
    NewSession,
}

/// One step of the user; the workers are let finish after each.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// One key.
    Key(Key),
    /// Moves typed fast, without waiting between them.
    Burst(Vec<Key>),
    /// Any keys typed fast (`d` or `u` at most once), with rounds of answers
    /// arriving between some.
    Rapid(Vec<Key>),
    /// (esc to the list,) `f`, ctrl-u, the text, enter, then keys typed at
    /// once.
    Filter(&'static str, Vec<Key>),
    /// `/`, ctrl-u, the word; once the results are in, enter (esc if none).
    Search(&'static str),
    /// (esc to the list,) `j`, tab, and moves in the history of the session
    /// just opened, before its first page arrives.
    NextThen(Vec<Key>),
    /// (esc to the list,) backtab to the details, `j` n times, enter.
    Lineage(usize),
    Resize(u16, u16),
    /// Another process changes the store.
    Other(Change),
}

fn moves() -> impl Strategy<Value = Key> + Clone {
    prop_oneof![
        Just(Key::J),
        Just(Key::K),
        Just(Key::Top),
        Just(Key::Bottom),
        Just(Key::CtrlD),
        Just(Key::CtrlU),
        Just(Key::PageDown),
        Just(Key::PageUp),
    ]
}

fn jump() -> impl Strategy<Value = Key> + Clone {
    prop_oneof![0u64..60, 0u64..6_000, 0u64..70_000, Just(1_000_000u64)].prop_map(Key::Jump)
}

fn resize() -> impl Strategy<Value = (u16, u16)> + Clone {
    (60u16..=200, 20u16..=60)
}

fn rapid() -> impl Strategy<Value = Vec<Key>> {
    let key = prop_oneof![
        10 => moves(),
        2 => Just(Key::Tab),
        2 => Just(Key::Esc),
        2 => Just(Key::Enter),
        1 => Just(Key::BackTab),
        1 => Just(Key::Space),
        1 => Just(Key::View),
        1 => Just(Key::Sort),
        1 => jump(),
        1 => Just(Key::Delete),
        1 => Just(Key::Undo),
        2 => Just(Key::Round),
        1 => resize().prop_map(|(w, h)| Key::Resize(w, h)),
    ];
    vec(key, 2..8).prop_map(|mut keys| {
        // One `d` or `u` at most: the test knows what it must change.
        let mut seen = false;
        keys.retain(|k| {
            let store_key = matches!(k, Key::Delete | Key::Undo);
            let again = seen && store_key;
            seen |= store_key;
            !again
        });
        keys
    })
}

fn step() -> impl Strategy<Value = Step> {
    let panes = prop_oneof![Just(Key::Tab), Just(Key::Esc), Just(Key::Enter)];
    let filter = prop_oneof![
        Just("tag:work"),
        Just("fifty"),
        Just("thousand"),
        Just("alt"),
        Just("notes"),
        Just("tag:nosuch"),
        Just("tag:work five"),
    ];
    let word = prop_oneof![
        Just("zebra"),
        Just("quokka"),
        Just("marmot"),
        Just("nosuchword")
    ];
    let list_keys = prop_oneof![
        3 => Just(Key::Space),
        3 => Just(Key::Delete),
        2 => Just(Key::Undo),
        2 => Just(Key::View),
        2 => Just(Key::Sort),
    ];
    let change = prop_oneof![
        (1u64..5).prop_map(Change::Append),
        Just(Change::TrashShown),
        Just(Change::NewSession),
    ];
    prop_oneof![
        30 => moves().prop_map(Step::Key),
        8 => vec(moves(), 2..8).prop_map(Step::Burst),
        8 => rapid().prop_map(Step::Rapid),
        3 => vec(moves(), 1..4).prop_map(Step::NextThen),
        10 => panes.prop_map(Step::Key),
        5 => jump().prop_map(Step::Key),
        4 => (filter, vec(moves(), 0..3)).prop_map(|(f, keys)| Step::Filter(f, keys)),
        3 => word.prop_map(Step::Search),
        4 => (0usize..4).prop_map(Step::Lineage),
        12 => list_keys.prop_map(Step::Key),
        2 => resize().prop_map(|(w, h)| Step::Resize(w, h)),
        2 => change.prop_map(Step::Other),
    ]
}

// ---------------------------------------------------------------------------
// The app on the real workers
// ---------------------------------------------------------------------------

/// How long one step may take to settle before the test gives up.
const SETTLE_LIMIT: Duration = Duration::from_mins(1);

struct Sim {
    app: App,
    runtime: Option<Runtime>,
    rx: Receiver<Event>,
    barrier: u64,
    /// Terminal commands (copy, pager, mouse, suspend): recorded, never run.
    terminal: Vec<Command>,
    /// A separate connection: what the store holds, and another process's
    /// changes.
    check: Store,
    /// Sessions made by `Change::NewSession`.
    made: u64,
    /// What the workers reported as failed (nothing should).
    failures: Vec<String>,
}

impl Sim {
    fn start(db: &Path) -> Sim {
        let (tx, rx) = channel();
        let runtime = Runtime::start(
            Store::open(db).unwrap(),
            &tx,
            vec![],
            SearchSetup {
                writer_memory: 64 << 20,
            },
        )
        .unwrap();
        drop(tx);
        let (app, first) = App::new(120, 40, Keymap::default(), frozen());
        let mut sim = Sim {
            app,
            runtime: Some(runtime),
            rx,
            barrier: 0,
            terminal: Vec::new(),
            check: Store::open(db).unwrap(),
            made: 0,
            failures: Vec::new(),
        };
        sim.dispatch(first);
        sim
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().unwrap()
    }

    /// Sends commands to the workers; true if any went to them.
    fn dispatch(&mut self, cmds: Vec<Command>) -> bool {
        let mut sent = false;
        for c in cmds {
            match c {
                Command::Copy { .. }
                | Command::External { .. }
                | Command::Page { .. }
                | Command::SetMouse(_)
                | Command::Suspend => self.terminal.push(c),
                c => {
                    assert!(
                        !matches!(c, Command::Mutate(Mutation::Import { .. })),
                        "no step imports"
                    );
                    self.runtime().send(c);
                    sent = true;
                }
            }
        }
        sent
    }

    fn press(&mut self, k: Key) {
        match k {
            Key::Round => {
                if let Err(e) = self.round() {
                    panic!("{e}\n{}", dump(&self.app));
                }
                return;
            }
            Key::Resize(w, h) => {
                let cmds = self.app.update(Event::Resize(w, h));
                self.dispatch(cmds);
                return;
            }
            _ => {}
        }
        for e in k.events() {
            let cmds = self.app.update(Event::Key(e));
            self.dispatch(cmds);
        }
        if matches!(k, Key::Jump(_)) && self.app.prompt.is_some() {
            // Refused (no session open): the line stays open; close it.
            self.press(Key::Esc);
        }
    }

    fn type_text(&mut self, s: &str) {
        for c in s.chars() {
            let cmds = self.app.update(Event::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
            self.dispatch(cmds);
        }
    }

    /// Lets the workers finish everything: rounds of barriers until a round
    /// in which no event asked for more work.
    fn settle(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + SETTLE_LIMIT;
        while self.round_until(deadline)? {}
        Ok(())
    }

    /// One barrier round: every answer to what was sent before is fed to the
    /// app (its commands sent); true if they asked for more work.
    fn round(&mut self) -> Result<bool, String> {
        self.round_until(Instant::now() + SETTLE_LIMIT)
    }

    fn round_until(&mut self, deadline: Instant) -> Result<bool, String> {
        self.barrier += 1;
        let n = self.barrier;
        self.runtime().barrier(n);
        let mut answers = 0;
        let mut more = false;
        while answers < Runtime::WORKERS {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Event::Barrier(b)) if b == n => answers += 1,
                Ok(e) => {
                    if let Event::Failed(m)
                    | Event::MutationFailed(m)
                    | Event::HistoryLoaded { page: Err(m), .. } = &e
                    {
                        self.failures.push(m.clone());
                    }
                    let cmds = self.app.update(e);
                    more |= self.dispatch(cmds);
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the workers did not settle within {SETTLE_LIMIT:?} \
                         ({answers} of {} barriers answered)",
                        Runtime::WORKERS
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("the workers are gone (a worker panicked?)".into());
                }
            }
        }
        Ok(more)
    }

    /// Stops the workers and waits until they are gone, so that the case's
    /// files can be removed.
    fn stop(mut self) {
        drop(self.runtime.take());
        let deadline = Instant::now() + SETTLE_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => panic!("the workers did not stop"),
            }
        }
    }

    fn trashed(&self) -> BTreeSet<SessionId> {
        self.check.trashed_ids().unwrap().into_iter().collect()
    }

    /// What `d` must trash if pressed now: the marked sessions when the list
    /// has the focus and some are marked, else the session on screen (none
    /// when the app refuses, or in the trash view).
    fn delete_target(&mut self) -> (BTreeSet<SessionId>, Option<String>) {
        let app = &mut self.app;
        if app.list.query.state == StateFilter::Trashed {
            return (BTreeSet::new(), None);
        }
        if app.focus == Pane::List && !app.list.marked.is_empty() {
            return (app.list.marked.keys().copied().collect(), None);
        }
        let shown = app.shown().map(|s| s.name.clone());
        match app.target() {
            Some(s) => (BTreeSet::from([s.id]), None),
            None => (
                BTreeSet::new(),
                shown.map(|n| format!("{n} is on screen but d refuses: {}", app.status.message)),
            ),
        }
    }

    /// Another process changes the store.
    fn change(&mut self, c: Change) {
        let shown = self.app.shown().map(|s| s.id);
        let by_name = |s: &Store, name: &str| s.session(name).unwrap().id;
        match c {
            Change::Append(n) => {
                let id = shown.unwrap_or_else(|| by_name(&self.check, "scratch"));
                let messages: Vec<NewMessage> = (0..n)
                    .map(|i| NewMessage::new(Role::User, format!("added elsewhere {i}")))
                    .collect();
                self.check.add_messages(id, &messages).unwrap();
            }
            Change::TrashShown => {
                let id = shown.unwrap_or_else(|| by_name(&self.check, "notes-beta"));
                self.check.trash(&[id]).unwrap();
            }
            Change::NewSession => {
                self.made += 1;
                let s = self
                    .check
                    .create_session(&NewSession::named(format!("elsewhere-{}", self.made)))
                    .unwrap();
                self.check
                    .add_message(s.id, NewMessage::new(Role::User, "made elsewhere"))
                    .unwrap();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The screen
// ---------------------------------------------------------------------------

fn render(app: &App) -> Buffer {
    let (theme, _) = Theme::new(false, &BTreeMap::new());
    let mut term = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    term.draw(|f| draw(f, app, &theme)).unwrap();
    term.backend().buffer().clone()
}

/// The cells of row `y` from `x0` to `x1` as text (cells hidden under a wide
/// character skipped), trailing spaces cut.
fn row_text(buf: &Buffer, y: u16, x0: u16, x1: u16) -> String {
    let mut line = String::new();
    let mut skip = 0usize;
    for x in x0..x1 {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let sym = buf[(x, y)].symbol();
        line.push_str(sym);
        skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
    }
    line.trim_end().to_string()
}

fn screen_text(buf: &Buffer) -> String {
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| row_text(buf, y, a.left(), a.right()) + "\n")
        .collect()
}

/// Inside a bordered pane.
fn inside(r: Rect) -> Rect {
    Rect {
        x: r.x + 1,
        y: r.y + 1,
        width: r.width.saturating_sub(2),
        height: r.height.saturating_sub(2),
    }
}

/// What the test knows of the app, for failure messages.
fn dump(app: &App) -> String {
    let mut s = String::new();
    let l = &app.list;
    let _ = writeln!(
        s,
        "size {}x{} screen {:?} focus {:?} prompt {:?} popup {:?} dialog {}",
        app.width,
        app.height,
        app.screen,
        app.focus,
        app.prompt.as_ref().map(|p| (&p.input, &p.error)),
        app.popup,
        app.dialog.is_some()
    );
    let _ = writeln!(
        s,
        "list: state {:?} sort {:?} filter {:?} filtering {} loaded {} total {} offset {} \
         rows {} selected {} top {} detached {} requery {:?} marked {:?} current {:?}",
        l.query.state,
        l.query.sort,
        l.filter,
        l.filtering,
        l.loaded,
        l.total,
        l.offset,
        l.rows.len(),
        l.selected,
        l.top,
        l.detached,
        l.requery,
        l.marked.values().collect::<Vec<_>>(),
        l.current().map(|r| (&r.name, r.id))
    );
    match &app.history {
        Some(h) => {
            let _ = writeln!(
                s,
                "history: {} ({:?}) count {} loaded {} first {} messages {} cursor {} top {} \
                 pending {:?} error {:?} expanded {:?}",
                h.session.name,
                h.session.id,
                h.session.message_count,
                h.loaded,
                h.first,
                h.messages.len(),
                h.cursor,
                h.top,
                h.pending,
                h.error,
                h.expanded
            );
        }
        None => s.push_str("history: none\n"),
    }
    let _ = writeln!(
        s,
        "meta: {:?} cursor {} top {}; status {:?} (error {}) job {:?}; last_trashed {:?}",
        app.meta.as_ref().map(|m| &m.session.name),
        app.meta_cursor,
        app.meta_top,
        app.status.message,
        app.status.error,
        app.status.job,
        app.last_trashed
    );
    s.push_str("screen:\n");
    s.push_str(&screen_text(&render(app)));
    s
}

/// The list says what the store holds: its count, its loaded rows in order,
/// "shown: not in this list" only when that is so, and the highlighted row
/// is drawn, reversed, with its name.
fn check_list(sim: &Sim, buf: &Buffer) -> Result<(), String> {
    let app = &sim.app;
    let l = &app.list;
    if !l.loaded {
        return Err("the list never loaded".into());
    }
    let total = sim.check.count(&l.query).unwrap();
    if total != l.total {
        return Err(format!(
            "the list title says {} sessions, the store has {total}",
            l.total
        ));
    }
    let rows = sim
        .check
        .list(&ListQuery {
            offset: l.offset,
            limit: Some(l.rows.len() as u64),
            ..l.query.clone()
        })
        .unwrap();
    let names = |r: &[Session]| r.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    if names(&rows) != names(&l.rows) {
        return Err(format!(
            "the list rows from {} are {:?}, the store's {:?}",
            l.offset,
            names(&l.rows),
            names(&rows)
        ));
    }
    if total > 0 && !l.detached && l.current().is_none() {
        return Err(format!(
            "the selected row {} is not loaded (rows {}..{})",
            l.selected,
            l.offset,
            l.offset + l.rows.len() as u64
        ));
    }
    if let Some(h) = &app.history {
        let at = sim.check.position(&l.query, h.session.id).unwrap();
        match (l.detached, at) {
            (true, Some(i)) => {
                return Err(format!(
                    "the list says the session shown is not in it, but {} is its row {i}",
                    h.session.name
                ));
            }
            (false, None) => {
                return Err(format!(
                    "the list highlights row {} though the session shown ({}) is not in it",
                    l.selected, h.session.name
                ));
            }
            _ => {}
        }
    }
    // The highlighted row is on screen.
    let (Some(i), Some(r)) = (
        l.highlighted(),
        areas(app.width, app.height, app.focus).list,
    ) else {
        return Ok(());
    };
    let Some(row) = l.row(i) else {
        return Ok(());
    };
    let body = inside(r);
    let filter_row = u64::from(l.filtering || !l.filter.is_empty());
    let rows_drawn = u64::from(body.height).saturating_sub(filter_row);
    if i < l.top || i >= l.top + rows_drawn {
        return Err(format!(
            "the highlighted row {i} is off screen (rows {}..{} drawn)",
            l.top,
            l.top + rows_drawn
        ));
    }
    let y = body.y + u16::try_from(i - l.top).unwrap();
    let text = row_text(buf, y, body.x, body.right());
    let prefix: String = row.name.chars().take(8).collect();
    if !text
        .chars()
        .skip(2)
        .collect::<String>()
        .starts_with(&prefix)
        || !buf[(body.x + 2, y)].modifier.contains(Modifier::REVERSED)
    {
        return Err(format!(
            "the highlighted row {i} ({}) is drawn as `{text}`, not reversed with its name",
            row.name
        ));
    }
    Ok(())
}

/// Every invariant of a settled screen.
fn check_screen(sim: &Sim) -> Result<(), String> {
    let app = &sim.app;
    if !sim.failures.is_empty() {
        return Err(format!("the workers reported failures: {:?}", sim.failures));
    }
    if app.screen != Screen::Main {
        return Err(format!(
            "the steps end on the main screen, not {:?}",
            app.screen
        ));
    }
    let buf = render(app);
    if screen_text(&buf).contains("loading…") {
        return Err("a pane still shows `loading…` after the workers finished".into());
    }
    // The history shows the selected session.
    let l = &app.list;
    if let Some(i) = l.highlighted()
        && let Some(row) = l.row(i)
    {
        match &app.history {
            Some(h) if h.session.id == row.id => {}
            Some(h) => {
                return Err(format!(
                    "the list highlights {} (row {i}) but the history shows {}",
                    row.name, h.session.name
                ));
            }
            None => {
                return Err(format!(
                    "the list highlights {} (row {i}) but the history shows nothing",
                    row.name
                ));
            }
        }
    }
    if l.loaded && l.total == 0 && !l.detached && app.history.is_some() {
        return Err("the list is empty but the history still shows a session".into());
    }
    check_list(sim, &buf)?;
    let Some(h) = &app.history else {
        return Ok(());
    };
    if app.meta.as_ref().map(|m| m.session.id) != Some(h.session.id) {
        return Err(format!(
            "the details show {:?}, not the session on screen {}",
            app.meta.as_ref().map(|m| &m.session.name),
            h.session.name
        ));
    }
    // The session as the store has it.
    let stored = sim
        .check
        .session_by_id(h.session.id)
        .map_err(|e| format!("the session shown is not in the store: {e}"))?;
    if (&stored.name, stored.message_count) != (&h.session.name, h.session.message_count) {
        return Err(format!(
            "the history shows {} with {} messages, the store has {} with {}",
            h.session.name, h.session.message_count, stored.name, stored.message_count
        ));
    }
    let count = h.session.message_count;
    if count == 0 {
        return Ok(());
    }
    if h.cursor >= count {
        return Err(format!("the cursor {} is past the end ({count})", h.cursor));
    }
    let Some(m) = h.message(h.cursor) else {
        return Err(format!(
            "the message under the cursor (#{}) is not in the loaded window {}..{}",
            h.cursor,
            h.first,
            h.first + h.messages.len() as u64
        ));
    };
    let truth = sim.check.messages(h.session.id, h.cursor, 1).unwrap();
    if m.seq != h.cursor || truth.first().map(|t| (t.seq, &t.content)) != Some((m.seq, &m.content))
    {
        return Err(format!(
            "the window's message #{} (seq {}) is not the store's",
            h.cursor, m.seq
        ));
    }
    // What the history pane draws, when it is on screen.
    let Some(r) = areas(app.width, app.height, app.focus).history else {
        return Ok(());
    };
    let title = row_text(&buf, r.y, r.x, r.right());
    let want = format!("msg {}/{}", thousands(h.cursor + 1), thousands(count));
    if !title.contains(&want) {
        return Err(format!("the history title `{title}` does not say `{want}`"));
    }
    let body = inside(r);
    let marked: Vec<String> = (body.top()..body.bottom())
        .map(|y| row_text(&buf, y, body.left(), body.right()))
        .filter(|t| t.starts_with('▌'))
        .collect();
    let tag = format!("#{}", h.cursor);
    match marked.as_slice() {
        [one] if one.ends_with(&format!(" {tag}")) => Ok(()),
        [one] => Err(format!(
            "the cursor mark is on `{one}`, not on message {tag}"
        )),
        [] => Err(format!(
            "message {tag} under the cursor is not drawn with `▌`"
        )),
        more => Err(format!(
            "{} lines carry the cursor mark: {more:?}",
            more.len()
        )),
    }
}

// ---------------------------------------------------------------------------
// One case
// ---------------------------------------------------------------------------

/// Where a step must leave the app, as the keys say.
#[derive(Debug)]
enum Expect {
    /// The list selection at this row, and the history on that row's session.
    ListAt(u64),
    /// The history on this session, its cursor on this message (clamped to
    /// the session's last).
    HistoryAt(SessionId, u64),
}

/// Where moves take an index from `at` in `0..total`, `page` a screen.
fn moved(keys: &[Key], mut at: u64, total: u64, page: u64) -> u64 {
    let last = total.saturating_sub(1);
    for k in keys {
        at = match k {
            Key::J => (at + 1).min(last),
            Key::K => at.saturating_sub(1),
            Key::Top => 0,
            Key::Bottom => last,
            Key::CtrlD => (at + page / 2).min(last),
            Key::CtrlU => at.saturating_sub(page / 2),
            Key::PageDown => (at + page).min(last),
            Key::PageUp => at.saturating_sub(page),
            _ => at,
        };
    }
    at
}

/// What moves typed now must do: in the list, move the selection by the
/// pane's height; in a loaded history, move the cursor by ten messages.
fn expect_moves(app: &App, keys: &[Key]) -> Option<Expect> {
    match app.focus {
        Pane::List => {
            let l = &app.list;
            if l.total == 0 {
                return None;
            }
            let r = areas(app.width, app.height, Pane::List).list?;
            let filter_row = u64::from(l.filtering || !l.filter.is_empty());
            let page = (u64::from(inside(r).height).saturating_sub(filter_row)).max(2);
            Some(Expect::ListAt(moved(keys, l.selected, l.total, page)))
        }
        Pane::History => {
            let h = app.history.as_ref().filter(|h| h.loaded)?;
            let count = h.session.message_count;
            (count > 0).then(|| Expect::HistoryAt(h.session.id, moved(keys, h.cursor, count, 10)))
        }
        Pane::Meta => None,
    }
}

fn check_expect(sim: &Sim, expect: Option<&Expect>) -> Result<(), String> {
    let app = &sim.app;
    match expect {
        None => Ok(()),
        Some(Expect::ListAt(i)) => {
            if app.list.selected == *i && !app.list.detached {
                Ok(())
            } else {
                Err(format!(
                    "the keys move the list selection to row {i}, it is on {} (detached {})",
                    app.list.selected, app.list.detached
                ))
            }
        }
        Some(Expect::HistoryAt(id, seq)) => {
            let count = sim.check.session_by_id(*id).unwrap().message_count;
            let seq = (*seq).min(count.saturating_sub(1));
            match &app.history {
                Some(h) if h.session.id == *id && h.cursor == seq => Ok(()),
                Some(h) => Err(format!(
                    "the keys open session {id:?} at message {seq}; the history shows {} ({:?}) at {}",
                    h.session.name, h.session.id, h.cursor
                )),
                None => Err(format!(
                    "the keys open session {id:?} at message {seq}; the history shows nothing"
                )),
            }
        }
    }
}

fn is_move(k: &Key) -> bool {
    matches!(
        k,
        Key::J
            | Key::K
            | Key::Top
            | Key::Bottom
            | Key::CtrlD
            | Key::CtrlU
            | Key::PageDown
            | Key::PageUp
    )
}

/// Runs a step and checks what it must have trashed or restored.
fn run_step(sim: &mut Sim, step: &Step) -> Result<(), String> {
    let to_list = |sim: &mut Sim| {
        if sim.app.focus != Pane::List {
            sim.press(Key::Esc);
        }
    };
    let before = sim.trashed();
    // What `d` must trash, when the step presses it.
    let mut trash: Option<BTreeSet<SessionId>> = None;
    // What `u` must restore: what the last `d` trashed, when pressed.
    let mut restore: Option<BTreeSet<SessionId>> = None;
    let mut expect = None;
    match step {
        Step::Key(Key::Delete) => {
            let (ids, refused) = sim.delete_target();
            if let Some(why) = refused {
                return Err(format!("the workers are idle, yet {why}"));
            }
            trash = Some(ids);
            sim.press(Key::Delete);
        }
        Step::Key(Key::Undo) => {
            restore = Some(sim.app.last_trashed.iter().copied().collect());
            sim.press(Key::Undo);
        }
        Step::Key(Key::Jump(n)) => {
            expect = sim
                .app
                .history
                .as_ref()
                .map(|h| Expect::HistoryAt(h.session.id, *n));
            sim.press(Key::Jump(*n));
        }
        Step::Key(Key::Enter) if sim.app.focus == Pane::List => {
            let shown = sim.app.history.as_ref().map(|h| (h.session.id, h.cursor));
            expect = sim.app.list.current().map(|s| match shown {
                Some((id, cursor)) if id == s.id => Expect::HistoryAt(id, cursor),
                _ => Expect::HistoryAt(s.id, 0),
            });
            sim.press(Key::Enter);
        }
        Step::Key(k) if is_move(k) => {
            expect = expect_moves(&sim.app, &[*k]);
            sim.press(*k);
        }
        Step::Key(k) => sim.press(*k),
        Step::Burst(keys) => {
            expect = expect_moves(&sim.app, keys);
            for k in keys {
                sim.press(*k);
            }
        }
        Step::Rapid(keys) => {
            for k in keys {
                match k {
                    Key::Delete => trash = Some(sim.delete_target().0),
                    Key::Undo => restore = Some(sim.app.last_trashed.iter().copied().collect()),
                    _ => {}
                }
                sim.press(*k);
            }
        }
        Step::Filter(text, keys) => {
            to_list(sim);
            sim.type_text("f");
            // The box keeps the last filter: clear it first.
            sim.press(Key::CtrlU);
            sim.type_text(text);
            sim.press(Key::Enter);
            // Moves typed before the filtered list arrives move in it.
            let total = sim.check.count(&sim.app.list.query).unwrap();
            let r = areas(sim.app.width, sim.app.height, Pane::List).list;
            if total > 0
                && let Some(r) = r
                && sim.app.list.filter == *text
            {
                let page = u64::from(inside(r).height).saturating_sub(1).max(2);
                expect = Some(Expect::ListAt(moved(keys, 0, total, page)));
            }
            for k in keys {
                sim.press(*k);
            }
        }
        Step::Search(word) => {
            sim.type_text("/");
            // The box keeps the last query: clear it first.
            sim.press(Key::CtrlU);
            sim.type_text(word);
            sim.settle()?;
            let s = &sim.app.search;
            expect = s.results.get(s.selected).map(|hit| {
                Expect::HistoryAt(hit.session_id, hit.message.as_ref().map_or(0, |m| m.seq))
            });
            sim.press(Key::Enter);
            if sim.app.screen == Screen::Search {
                // No hit to open.
                sim.press(Key::Esc);
            }
        }
        Step::NextThen(keys) => {
            to_list(sim);
            let (app, check) = (&sim.app, &sim.check);
            let l = &app.list;
            let next = (l.selected + 1).min(l.total.saturating_sub(1));
            expect = match (&app.history, l.row(next)) {
                // At the last row, j leaves the session shown (unless the
                // list is detached from it: then j opens the selected row).
                (Some(h), _) if next == l.selected && !l.detached => Some(Expect::HistoryAt(
                    h.session.id,
                    moved(keys, h.cursor, h.session.message_count, 10),
                )),
                (_, Some(row)) => {
                    let count = check.session_by_id(row.id).unwrap().message_count;
                    Some(Expect::HistoryAt(row.id, moved(keys, 0, count, 10)))
                }
                _ => None,
            };
            sim.press(Key::J);
            sim.press(Key::Tab);
            for k in keys {
                sim.press(*k);
            }
        }
        Step::Lineage(n) => {
            to_list(sim);
            sim.press(Key::BackTab);
            for _ in 0..*n {
                sim.press(Key::J);
            }
            expect = sim.app.meta.as_ref().and_then(|m| {
                let link = details::lines(m)
                    .into_iter()
                    .nth(sim.app.meta_cursor)?
                    .link?;
                Some(Expect::HistoryAt(link.0.id, link.1.unwrap_or(0)))
            });
            sim.press(Key::Enter);
        }
        Step::Resize(w, h) => sim.press(Key::Resize(*w, *h)),
        Step::Other(c) => sim.change(*c),
    }
    sim.settle()?;
    check_expect(sim, expect.as_ref())?;
    let after = sim.trashed();
    let newly: BTreeSet<_> = after.difference(&before).copied().collect();
    let restored: BTreeSet<_> = before.difference(&after).copied().collect();
    let want_trashed: BTreeSet<_> = match (&trash, step) {
        (Some(ids), _) => ids.difference(&before).copied().collect(),
        // Another process trashed it.
        (None, Step::Other(Change::TrashShown)) => newly.clone(),
        (None, _) => BTreeSet::new(),
    };
    let want_restored: BTreeSet<_> = restore.map_or_else(BTreeSet::new, |ids| {
        ids.intersection(&before).copied().collect()
    });
    if newly != want_trashed {
        return Err(format!(
            "{newly:?} were trashed; the session on screen (or the marked ones) when d was \
             pressed: {want_trashed:?}"
        ));
    }
    if restored != want_restored {
        return Err(format!(
            "{restored:?} left the trash; what the last d trashed when u was pressed: \
             {want_restored:?}"
        ));
    }
    Ok(())
}

fn fail(at: &str, what: &str, app: &App) -> TestCaseError {
    TestCaseError::fail(format!("{at}: {what}\n{}", dump(app)))
}

fn run_case(template: &Path, steps: &[Step]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_store(template, dir.path());
    let mut sim = Sim::start(&db);
    if let Err(e) = sim.settle().and_then(|()| check_screen(&sim)) {
        let err = fail("at startup", &e, &sim.app);
        sim.stop();
        return Err(err);
    }
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = run_step(&mut sim, step).and_then(|()| check_screen(&sim)) {
            let err = fail(&format!("after step {} ({step:?})", i + 1), &e, &sim.app);
            sim.stop();
            return Err(err);
        }
    }
    sim.stop();
    Ok(())
}

#[test]
fn what_the_screen_shows_is_true() {
    let template = Template::get();
    let config = ProptestConfig {
        cases: 96,
        max_shrink_iters: 400,
        max_shrink_time: 120_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(steps in vec(step(), 1..40))| {
        run_case(&template.0, &steps)?;
    });
}

/// Minimal sequences the model found, replayed as they were shrunk.
#[test]
fn found_sequences_pass() {
    use Key::{Bottom, Enter, Esc, J, K, Tab, View};
    let template = Template::get();
    let found: Vec<(&str, Vec<Step>)> = vec![
        (
            "G then j in a long history whose page has not arrived",
            vec![Step::Rapid(vec![J, J, J, Tab, Bottom, J])],
        ),
        (
            "G then k typed before the first page of a session arrives",
            vec![Step::NextThen(vec![Bottom, K])],
        ),
        (
            "moves typed while a filtered list loads count rows of the list before",
            vec![Step::Filter("fifty", vec![Bottom, K])],
        ),
        (
            "j typed while a filtered list loads is lost when the list before was empty",
            vec![
                Step::Filter("tag:nosuch", vec![]),
                Step::Filter("tag:work", vec![J]),
            ],
        ),
        (
            "enter on the list after opening a search hit the list leaves out",
            vec![
                Step::Key(View),
                Step::Search("zebra"),
                Step::Key(Esc),
                Step::Key(Enter),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (what, steps) in found {
        match catch_unwind(AssertUnwindSafe(|| run_case(&template.0, &steps))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{what}: {steps:?}\n{e}")),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default();
                failures.push(format!("{what}: {steps:?}\npanicked: {msg}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
