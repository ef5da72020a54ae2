//! Snapshots of what the TUI draws: every screen and dialog, rendered by the
//! real views into a `TestBackend`, at 80x24 and 120x40, with colour and
//! without (NO_COLOR), on the demo store with a frozen clock.
//!
//! Each snapshot holds the screen as text (one line per row, trailing
//! spaces cut), then the runs of non-default styles per row, so colour and
//! NO_COLOR differ. Update with `INSTA_UPDATE=always cargo test --test
//! tui_snapshots` and review the files under `tests/snapshots/`.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};
use scrollback::search::Search;
use scrollback::store::StoreOptions;
use scrollback::tui::app::App;
use scrollback::tui::command::Command;
use scrollback::tui::event::Event;
use scrollback::tui::keymap::Keymap;
use scrollback::tui::layout::Pane;
use scrollback::tui::runtime::run_now;
use scrollback::tui::text;
use scrollback::tui::theme::Theme;
use scrollback::{NewMessage, Role, Store};

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

fn frozen() -> Timestamp {
    "2026-11-21T12:00:00Z".parse().unwrap()
}

struct Harness {
    app: App,
    store: Store,
    search: Search,
    protected: Vec<String>,
}

impl Harness {
    fn demo(width: u16, height: u16) -> Harness {
        Self::with_store(
            scrollback::demo::store(StoreOptions::default()).unwrap(),
            width,
            height,
        )
    }

    fn with_store(store: Store, width: u16, height: u16) -> Harness {
        let search = Search::open(&store, &|_, _| {}).unwrap();
        let (app, first) = App::new(width, height, Keymap::default(), frozen());
        let mut h = Harness {
            app,
            store,
            search,
            protected: vec!["keep".into()],
        };
        h.pump(first);
        h
    }

    /// Runs commands as the workers would, feeding the answers back.
    /// Terminal commands are dropped: nothing here copies or spawns.
    fn pump(&mut self, cmds: Vec<Command>) {
        let mut queue: VecDeque<Command> = cmds.into();
        let mut steps = 0;
        while let Some(c) = queue.pop_front() {
            steps += 1;
            assert!(steps < 10_000, "the app and the runtime never settle");
            if matches!(
                c,
                Command::Copy { .. } | Command::External { .. } | Command::SetMouse(_)
            ) {
                continue;
            }
            let mutation = matches!(c, Command::Mutate(_));
            let event = run_now(&mut self.store, &mut self.search, c, &self.protected);
            if mutation {
                self.search.sync(&|_, _| {}).unwrap();
            }
            queue.extend(self.app.update(event));
        }
    }

    fn send(&mut self, code: KeyCode, mods: KeyModifiers) {
        let cmds = self.app.update(Event::Key(KeyEvent::new(code, mods)));
        self.pump(cmds);
    }

    fn key(&mut self, c: char) {
        self.send(KeyCode::Char(c), KeyModifiers::NONE);
    }

    fn key_code(&mut self, code: KeyCode) {
        self.send(code, KeyModifiers::NONE);
    }

    fn typ(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.key_code(KeyCode::Enter);
            } else {
                self.key(c);
            }
        }
    }

    fn current_name(&self) -> String {
        self.app.list.current().unwrap().name.clone()
    }

    /// Moves the list selection to a session with j.
    fn select(&mut self, name: &str) {
        self.key('g');
        for _ in 0..self.app.list.total {
            if self.current_name() == name {
                return;
            }
            self.key('j');
        }
        assert_eq!(self.current_name(), name);
    }

    /// Opens a session in the history (focused), at message `seq`.
    fn open_at(&mut self, name: &str, seq: u64) {
        self.select(name);
        self.key_code(KeyCode::Enter);
        assert_eq!(self.app.focus, Pane::History);
        if seq > 0 {
            self.key(':');
            self.typ(&seq.to_string());
            self.key_code(KeyCode::Enter);
        }
        assert_eq!(self.app.history.as_ref().unwrap().cursor, seq);
    }
}

// ---------------------------------------------------------------------------
// Rendering to text
// ---------------------------------------------------------------------------

fn buffer(app: &App, color: bool) -> Buffer {
    let (theme, warnings) = Theme::new(color, &BTreeMap::new());
    assert!(warnings.is_empty());
    let mut term = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    term.draw(|f| scrollback::tui::view::draw(f, app, &theme))
        .unwrap();
    term.backend().buffer().clone()
}

/// The screen as text: one line per row, the symbols of the cells in order
/// (cells hidden under a wide character skipped), trailing spaces cut.
fn screen_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0usize;
        for x in area.left()..area.right() {
            let cell = &buf[(x, y)];
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = cell.symbol();
            line.push_str(sym);
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn style_name(fg: Color, bg: Color, m: Modifier) -> String {
    let mut parts = Vec::new();
    if fg != Color::Reset {
        parts.push(format!("fg={fg:?}"));
    }
    if bg != Color::Reset {
        parts.push(format!("bg={bg:?}"));
    }
    if !m.is_empty() {
        let names: Vec<&str> = m.iter_names().map(|(n, _)| n).collect();
        parts.push(names.join("|"));
    }
    parts.join(" ")
}

/// Per row, the runs of cells with a non-default style: `x0..x1 style`.
fn screen_styles(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut runs: Vec<(u16, u16, String)> = Vec::new();
        for x in area.left()..area.right() {
            let c = &buf[(x, y)];
            let name = style_name(c.fg, c.bg, c.modifier);
            match runs.last_mut() {
                Some((_, end, n)) if *n == name && *end == x => *end = x + 1,
                _ => runs.push((x, x + 1, name)),
            }
        }
        let runs: Vec<String> = runs
            .into_iter()
            .filter(|(_, _, n)| !n.is_empty())
            .map(|(a, b, n)| format!("{a}..{b} {n}"))
            .collect();
        if !runs.is_empty() {
            writeln!(out, "{y:>2}: {}", runs.join(", ")).unwrap();
        }
    }
    out
}

fn render(app: &App, color: bool) -> String {
    let buf = buffer(app, color);
    format!(
        "{}--- styles ---\n{}",
        screen_text(&buf),
        screen_styles(&buf)
    )
}

/// Snapshots a scenario at both sizes, with colour and without.
fn snapshot_all(name: &str, setup: impl Fn(&mut Harness)) {
    for (w, h) in [(80, 24), (120, 40)] {
        snapshot_sized(name, w, h, &setup);
    }
}

fn snapshot_sized(name: &str, w: u16, h: u16, setup: &impl Fn(&mut Harness)) {
    let mut harness = Harness::demo(w, h);
    setup(&mut harness);
    for color in [true, false] {
        let suffix = if color { "color" } else { "nocolor" };
        let text = render(&harness.app, color);
        insta::assert_snapshot!(format!("{name}_{w}x{h}_{suffix}"), text);
    }
}

// ---------------------------------------------------------------------------
// Screens
// ---------------------------------------------------------------------------

#[test]
fn main_screen() {
    snapshot_all("main", |_| {});
}

#[test]
fn history_focused() {
    snapshot_all("history", |h| h.open_at("rust-async-deep-dive", 0));
}

#[test]
fn meta_focused_with_a_branch_selected() {
    snapshot_all("meta_branch", |h| {
        h.select("api-redesign");
        h.key_code(KeyCode::BackTab);
        assert_eq!(h.app.focus, Pane::Meta);
        h.key('j');
        assert_eq!(h.app.meta_cursor, 1);
    });
}

/// The first message of a session that is folded at the app's width.
fn first_folded(h: &Harness, name: &str, role: Role) -> u64 {
    let (_, cols) = h.app.history_size();
    let s = h.store.session(name).unwrap();
    h.store
        .all_messages(s.id)
        .unwrap()
        .iter()
        .find(|m| {
            m.role == role && {
                let (_, hidden) = text::body(m, cols.saturating_sub(1), false);
                hidden > 0 || role == Role::Tool
            }
        })
        .unwrap()
        .seq
}

#[test]
fn folded_long_message() {
    snapshot_all("folded_long", |h| {
        let seq = first_folded(h, "rust-async-deep-dive", Role::Assistant);
        h.open_at("rust-async-deep-dive", seq);
    });
}

#[test]
fn folded_tool_message() {
    snapshot_all("folded_tool", |h| {
        let seq = first_folded(h, "tiler-fix-gap-layout", Role::Tool);
        h.open_at("tiler-fix-gap-layout", seq);
    });
}

#[test]
fn expanded_tool_message() {
    snapshot_all("expanded_tool", |h| {
        let seq = first_folded(h, "tiler-fix-gap-layout", Role::Tool);
        h.open_at("tiler-fix-gap-layout", seq);
        h.key('z');
    });
}

#[test]
fn search_screen() {
    snapshot_all("search_tokio", |h| {
        h.key('/');
        h.typ("tokio");
        assert!(!h.app.search.results.is_empty());
    });
}

#[test]
fn stats_screen() {
    snapshot_all("stats", |h| h.key('S'));
}

#[test]
fn help_screen() {
    snapshot_all("help", |h| h.key('?'));
}

#[test]
fn welcome_screen() {
    for (w, ht) in [(80, 24), (120, 40)] {
        let h = Harness::with_store(Store::open_in_memory().unwrap(), w, ht);
        assert!(h.app.welcome());
        for color in [true, false] {
            let suffix = if color { "color" } else { "nocolor" };
            insta::assert_snapshot!(format!("welcome_{w}x{ht}_{suffix}"), render(&h.app, color));
        }
    }
}

#[test]
fn narrow_single_pane() {
    snapshot_sized("narrow", 60, 20, &|_| {});
    snapshot_sized("narrow_history", 60, 20, &|h| {
        h.open_at("api-redesign", 3);
    });
}

// ---------------------------------------------------------------------------
// Dialogs
// ---------------------------------------------------------------------------

#[test]
fn branch_dialog() {
    snapshot_all("dialog_branch", |h| {
        h.open_at("rust-async-deep-dive", 41);
        h.key('b');
    });
}

#[test]
fn merge_dialog() {
    snapshot_all("dialog_merge", |h| {
        h.key(' ');
        h.key(' ');
        h.key('m');
        assert!(h.app.dialog.as_ref().unwrap().state().error.is_none());
    });
}

#[test]
fn cleanup_dialog() {
    snapshot_all("dialog_cleanup", |h| {
        h.key('c');
        assert!(matches!(
            h.app.dialog.as_ref(),
            Some(scrollback::tui::dialog::Dialog::Cleanup(c)) if c.plan.is_some()
        ));
    });
}

#[test]
fn rename_dialog() {
    snapshot_all("dialog_rename", |h| {
        h.select("blog-post-sqlite-fts5");
        h.key('r');
    });
}

#[test]
fn tags_dialog() {
    snapshot_all("dialog_tags", |h| {
        h.select("rust-async-deep-dive");
        h.key('t');
        h.typ(" pla");
        h.key_code(KeyCode::Tab);
    });
}

#[test]
fn metadata_dialog() {
    snapshot_all("dialog_metadata", |h| {
        h.select("api-redesign");
        h.key('e');
    });
}

#[test]
fn compose_dialog() {
    snapshot_all("dialog_compose", |h| {
        h.key('a');
        // The keyboard starts in the text: back to the role, then on.
        h.key_code(KeyCode::BackTab);
        h.key_code(KeyCode::Right);
        h.key_code(KeyCode::Tab);
        h.typ("A first line\nand a second one");
    });
}

#[test]
fn new_session_dialog() {
    snapshot_all("dialog_new_session", |h| {
        h.key('+');
        h.typ("fresh-notes");
    });
}

#[test]
fn export_dialog() {
    snapshot_all("dialog_export", |h| {
        h.select("api-redesign");
        h.key('x');
    });
}

#[test]
fn import_dialog() {
    snapshot_all("dialog_import", |h| {
        h.key('i');
        h.typ("/tmp/sessions.json");
    });
}

#[test]
fn command_line_with_completions() {
    snapshot_all("command_line", |h| {
        h.open_at("rust-async-deep-dive", 0);
        h.key(':');
        h.typ("re");
        h.key_code(KeyCode::Tab);
    });
}

#[test]
fn dialog_error_line() {
    snapshot_all("dialog_rename_error", |h| {
        h.key('r');
        h.typ("/x");
        h.key_code(KeyCode::Enter);
        assert!(h.app.dialog.as_ref().unwrap().state().error.is_some());
    });
}

#[test]
fn filter_line() {
    snapshot_all("filter", |h| {
        h.key('f');
        h.typ("tag:rust");
        assert_eq!(h.app.list.total, 3);
    });
}

// ---------------------------------------------------------------------------
// Escape sequences never reach the terminal
// ---------------------------------------------------------------------------

const NASTY: &str =
    "clear\u{1b}[2J title\u{1b}]0;title\u{7} clip\u{1b}]52;c;aGk=\u{7} csi\u{9b}31m bell\u{7} end";

/// Renders with and without colour; asserts no cell holds a control
/// character; returns the text of the coloured screen.
fn assert_defused(h: &Harness, what: &str) -> String {
    let mut shown = String::new();
    for color in [true, false] {
        let buf = buffer(&h.app, color);
        let text = screen_text(&buf);
        for cell in buf.content() {
            assert!(
                !cell.symbol().chars().any(char::is_control),
                "{what}: control character in {:?}\n{text}",
                cell.symbol()
            );
        }
        if color {
            shown = text;
        }
    }
    shown
}

#[test]
fn escape_sequences_are_defused_on_screen() {
    let mut store = scrollback::demo::store(StoreOptions::default()).unwrap();
    let s = store.session("api-redesign").unwrap();
    let mut m = NewMessage::new(Role::Assistant, format!("{NASTY}\nsecond {NASTY}"));
    m.model = Some(format!("model{NASTY}"));
    store.add_message(s.id, m).unwrap();
    store
        .add_message(s.id, NewMessage::new(Role::Tool, format!("{NASTY}\nmore")))
        .unwrap();
    store
        .update_metadata(s.id, &[("evil".into(), Some(NASTY.into()))])
        .unwrap();
    for (w, ht) in [(80, 24), (120, 40), (60, 20)] {
        let mut h = Harness::with_store(store.reopen().unwrap(), w, ht);
        h.open_at("api-redesign", 0);
        h.key('G');
        h.key('k');
        let hist = h.app.history.as_ref().unwrap();
        assert!(
            hist.message(hist.cursor)
                .unwrap()
                .content
                .contains('\u{1b}')
        );
        let text = assert_defused(&h, &format!("{w}x{ht} message"));
        assert!(text.contains("clear\u{FFFD}[2J"), "{w}x{ht}\n{text}");
        assert!(text.contains("modelclear\u{FFFD}[2J"), "{w}x{ht}\n{text}");
        h.key('j');
        let text = assert_defused(&h, &format!("{w}x{ht} folded tool"));
        assert!(text.contains("▸ clear\u{FFFD}[2J"), "{w}x{ht}\n{text}");
        h.key('z');
        assert_defused(&h, &format!("{w}x{ht} expanded tool"));
        // The details pane shows the metadata value.
        h.key_code(KeyCode::Tab);
        assert_defused(&h, &format!("{w}x{ht} details"));
        // The status bar and a dialog title show the session name.
        h.key('r');
        assert_defused(&h, &format!("{w}x{ht} dialog"));
    }
}

// ---------------------------------------------------------------------------
// Rendering checks
// ---------------------------------------------------------------------------

#[test]
fn dialog_errors_are_shown_whole() {
    let mut h = Harness::demo(120, 40);
    h.key('r');
    h.typ("/x");
    h.key_code(KeyCode::Enter);
    let error = h
        .app
        .dialog
        .as_ref()
        .unwrap()
        .state()
        .error
        .clone()
        .unwrap();
    assert!(error.contains("without '/'"), "{error}");
    let text = screen_text(&buffer(&h.app, false));
    assert!(text.contains("'/'"), "{text}");
}

#[test]
fn tags_dialog_label_is_separated_from_its_value() {
    for (w, ht) in [(80, 24), (120, 40)] {
        let mut h = Harness::demo(w, ht);
        h.select("rust-async-deep-dive");
        h.key('t');
        let Some(scrollback::tui::dialog::Dialog::Tags(tags)) = h.app.dialog.as_ref() else {
            panic!("no tags dialog");
        };
        assert_eq!(tags.tags.text(), "keep research rust");
        let text = screen_text(&buffer(&h.app, false));
        assert!(
            text.lines().any(|l| l.contains("tags: keep research rust")),
            "{w}x{ht}\n{text}"
        );
        assert!(!text.contains("tags:keep"), "{w}x{ht}\n{text}");
        // With colour too.
        let text = screen_text(&buffer(&h.app, true));
        assert!(
            text.contains("tags: keep research rust"),
            "{w}x{ht}\n{text}"
        );
    }
}
