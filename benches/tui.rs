//! `cargo bench --bench tui`: how fast the full-screen TUI is on a big store.
//!
//! Prints, and writes to target/bench/tui.json:
//! - time to first frame with 100k sessions / 10M messages (one of them
//!   60,000 messages long): in-process (`App::new`, the first commands run
//!   with `run_now`, one `TestBackend` draw; warm, median of 20) and with
//!   the real binary in a pseudo-terminal (from spawn until the screen shows
//!   `sessions (100,000)`; the first run and the median of 5 more);
//! - frame time while scrolling (120x40): `j` 1,000 times in the list, and
//!   `j` and `ctrl-d` 1,000 times each in the 60,000-message history: key
//!   -> `App::update` -> `run_now` on the commands -> update -> draw;
//! - `G` in the 60,000-message history, in-process (median of 20; it
//!   checks the title only, not that the messages are painted);
//! - key to frame in the real binary in a pty (120x40), each a series of
//!   120: from the write of a key to the first screen that shows what the
//!   key asks for and nothing `loading…` (the reader thread checks the
//!   parsed screen after each chunk of output and keeps the instant it
//!   arrived): `G` in the 60,000-message session (from its first
//!   message), `:N` enter to random messages of it (only the enter is
//!   timed), and `j` in the list opening the next session. A frame not
//!   shown within 5 s is a timeout; a series stops after 3. With
//!   SCROLLBACK_BENCH_BASELINE=/path/to/another/scrollback the same series
//!   run against that binary too, printed beside;
//! - keystroke to painted search results over 1M messages: the last key of
//!   a query -> `Command::Search` -> `run_now` -> `SearchDone` -> draw;
//! - resident memory of the real binary after browsing the big store.
//!
//! In-process, the loads a key asks for run inside its frame; the app runs
//! them on worker threads and draws meanwhile, so these frame times bound
//! what a person waits for the pane to be filled, not how long the UI
//! thread blocks. Frames that loaded a new window (list rows, a page of
//! history) are also reported apart.
//!
//! The stores are built once, under target/bench/ (tui-store.db and
//! tui-search.db, with their search indexes), and reused while complete.
//! SCROLLBACK_BENCH_QUICK=1 runs at 1/10 scale (other files).
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::too_many_lines
)]

mod common;

use common::bigstore::{Spec, disk_mb, ensure_store};

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use scrollback::search::Search;
use scrollback::tui::app::App;
use scrollback::tui::command::Command;
use scrollback::tui::event::Event;
use scrollback::tui::keymap::Keymap;
use scrollback::tui::layout::Pane;
use scrollback::tui::runtime::run_now;
use scrollback::tui::theme::Theme;
use scrollback::tui::view;
use scrollback::{ListQuery, Store};

const COLS: u16 = 120;
const ROWS: u16 = 40;

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile (0..=100) of samples in ms.
fn pct(samples: &[f64], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    common::median_ms(&mut s)
}

fn max(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::MIN, f64::max)
}

/// 1234567 -> "1,234,567", as the TUI writes counts.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

// ---------------------------------------------------------------------------
// The stores
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The app in-process
// ---------------------------------------------------------------------------

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// The app on a store, drawn on a `TestBackend`.
struct Harness {
    store: Store,
    search: Search,
    app: App,
    term: Terminal<TestBackend>,
    theme: Theme,
    /// List windows and history windows loaded by the last frame.
    list_loads: usize,
    history_loads: usize,
}

impl Harness {
    fn new(db: &Path) -> Harness {
        let store = Store::open(db).unwrap();
        let search = Search::open(&store, &|_, _| {}).unwrap();
        let (app, _) = App::new(COLS, ROWS, Keymap::default(), scrollback::domain::now());
        Harness {
            store,
            search,
            app,
            term: Terminal::new(TestBackend::new(COLS, ROWS)).unwrap(),
            theme: Theme::new(true, &std::collections::BTreeMap::new()).0,
            list_loads: 0,
            history_loads: 0,
        }
    }

    /// Runs commands, and those their events ask for, until none is left.
    fn settle(&mut self, cmds: Vec<Command>) {
        let mut queue: VecDeque<Command> = cmds.into();
        while let Some(c) = queue.pop_front() {
            match c {
                Command::Copy { .. }
                | Command::External { .. }
                | Command::SetMouse(_)
                | Command::SyncIndex => {}
                c => {
                    match c {
                        Command::LoadList { .. } => self.list_loads += 1,
                        Command::LoadHistory { .. } => self.history_loads += 1,
                        _ => {}
                    }
                    let ev = run_now(&mut self.store, &mut self.search, c, &[]);
                    queue.extend(self.app.update(ev));
                }
            }
        }
    }

    fn draw(&mut self) {
        let (app, theme) = (&self.app, &self.theme);
        self.term.draw(|f| view::draw(f, app, theme)).unwrap();
    }

    /// A fresh app, its first loads run, one frame drawn.
    fn first_frame(&mut self) -> Duration {
        self.term = Terminal::new(TestBackend::new(COLS, ROWS)).unwrap();
        let t = Instant::now();
        let (app, cmds) = App::new(COLS, ROWS, Keymap::default(), scrollback::domain::now());
        self.app = app;
        self.settle(cmds);
        self.draw();
        t.elapsed()
    }

    /// One event through the whole loop: update, commands, draw.
    fn frame(&mut self, ev: Event) -> Duration {
        self.list_loads = 0;
        self.history_loads = 0;
        let t = Instant::now();
        let cmds = self.app.update(ev);
        self.settle(cmds);
        self.draw();
        t.elapsed()
    }

    fn screen(&self) -> String {
        let buf = self.term.backend().buffer();
        let mut s = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                s.push_str(buf[(x, y)].symbol());
            }
            s.push('\n');
        }
        s
    }

    fn expect(&self, text: &str) {
        let s = self.screen();
        assert!(s.contains(text), "the frame lacks {text:?}:\n{s}");
    }
}

// ---------------------------------------------------------------------------
// The real binary in a pseudo-terminal
// ---------------------------------------------------------------------------

/// A test of the parsed screen (its text, rows joined by newlines).
type Pred = Box<dyn Fn(&str) -> bool + Send>;

/// A screen that holds `text`.
fn shows(text: &str) -> Pred {
    let text = text.to_string();
    Box::new(move |s| s.contains(&text))
}

/// What the reader thread watches for, and when it first held.
struct Watch {
    pred: Pred,
    /// What `pred` looks for, for messages.
    what: String,
    /// When the reader first saw a screen that satisfies `pred`.
    seen: Option<Instant>,
    /// When the first byte of output came (the alternate screen).
    first_output: Option<Instant>,
}

struct Pty {
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    parser: Arc<Mutex<vt100::Parser>>,
    watch: Arc<Mutex<Watch>>,
    eof: Arc<AtomicBool>,
    _master: Box<dyn MasterPty + Send>,
    started: Instant,
}

impl Pty {
    /// Starts `bin` on `db`, watching for `text` from the first byte.
    fn spawn(bin: &Path, home: &Path, db: &Path, text: &str) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(bin);
        cmd.arg("--db");
        cmd.arg(db);
        cmd.cwd(home);
        for v in ["SCROLLBACK_CONFIG", "SCROLLBACK_DB", "SCROLLBACK_DATA_DIR"] {
            cmd.env_remove(v);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", home);
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_DATA_HOME", home.join("data"));
        let watch = Arc::new(Mutex::new(Watch {
            pred: shows(text),
            what: format!("{text:?}"),
            seen: None,
            first_output: None,
        }));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let started = Instant::now();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let eof = Arc::new(AtomicBool::new(false));
        {
            let (parser, watch, writer, eof) = (
                Arc::clone(&parser),
                Arc::clone(&watch),
                Arc::clone(&writer),
                Arc::clone(&eof),
            );
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                let mut tail: Vec<u8> = Vec::new();
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let now = Instant::now();
                    let mut p = parser.lock().unwrap();
                    p.process(&buf[..n]);
                    // Answer cursor position queries as a terminal does.
                    tail.extend_from_slice(&buf[..n]);
                    let queries = tail.windows(4).filter(|w| *w == b"\x1b[6n").count();
                    tail.drain(..tail.len().saturating_sub(3));
                    if queries > 0 {
                        let (r, c) = p.screen().cursor_position();
                        let mut w = writer.lock().unwrap();
                        for _ in 0..queries {
                            let _ = write!(w, "\x1b[{};{}R", r + 1, c + 1);
                        }
                        let _ = w.flush();
                    }
                    // After each chunk: does the screen show what is
                    // watched for? `now` is when the chunk arrived.
                    let mut wt = watch.lock().unwrap();
                    wt.first_output.get_or_insert(now);
                    if wt.seen.is_none() && (wt.pred)(&p.screen().contents()) {
                        wt.seen = Some(now);
                    }
                }
                eof.store(true, Ordering::SeqCst);
            });
        }
        Pty {
            writer,
            child,
            parser,
            watch,
            eof,
            _master: pair.master,
            started,
        }
    }

    /// Writes keys (a dead binary's terminal takes none: ignored, the
    /// wait that follows reports it).
    fn keys(&self, s: &str) {
        let mut w = self.writer.lock().unwrap();
        let _ = w.write_all(s.as_bytes());
        let _ = w.flush();
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Watches for `pred` from now on; whether the screen shows it already.
    fn arm(&self, pred: Pred, what: &str) -> bool {
        // The reader's lock order: the screen, then the watch.
        let p = self.parser.lock().unwrap();
        let mut w = self.watch.lock().unwrap();
        w.seen = pred(&p.screen().contents()).then(Instant::now);
        w.pred = pred;
        w.what = what.to_string();
        w.seen.is_some()
    }

    /// Waits, `timeout` at most, until the reader has seen a screen that
    /// satisfies the watched predicate; when it first did, or the screen
    /// at the end of the wait.
    fn wait(&mut self, timeout: Duration) -> Result<Instant, String> {
        let start = Instant::now();
        loop {
            if let Some(t) = self.watch.lock().unwrap().seen {
                return Ok(t);
            }
            if self.eof.load(Ordering::SeqCst) || self.child.try_wait().ok().flatten().is_some() {
                // Let the reader parse what the binary wrote last.
                std::thread::sleep(Duration::from_millis(50));
                if let Some(t) = self.watch.lock().unwrap().seen {
                    return Ok(t);
                }
                return Err(format!("(the binary exited)\n{}", self.screen()));
            }
            if start.elapsed() > timeout {
                return Err(self.screen());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Watches for `pred` and waits for it, `timeout` at most.
    fn wait_until(&mut self, pred: Pred, what: &str, timeout: Duration) -> Result<Instant, String> {
        self.arm(pred, what);
        self.wait(timeout).map_err(|screen| {
            format!(
                "waited {:.0} s for {what}; screen:\n{screen}",
                timeout.as_secs_f64()
            )
        })
    }

    /// Waits (60 s at most) until the watched text shows; when it first did.
    fn seen(&mut self) -> Instant {
        match self.wait(Duration::from_mins(1)) {
            Ok(t) => t,
            Err(screen) => {
                let what = self.watch.lock().unwrap().what.clone();
                let _ = self.child.kill();
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
        }
    }

    /// Watches for new text (from now on) and waits for it.
    fn wait_for(&mut self, text: &str) -> Instant {
        self.arm(shows(text), &format!("{text:?}"));
        self.seen()
    }

    /// Writes `key` and times it to the first screen that satisfies
    /// `pred` (`timeout` at most).
    fn time_key(&mut self, key: &str, pred: Pred, what: &str, timeout: Duration) -> Sample {
        if self.arm(pred, what) {
            return Sample::Lost(format!(
                "{what} shows before the key is written; screen:\n{}",
                self.screen()
            ));
        }
        let t0 = Instant::now();
        self.keys(key);
        match self.wait(timeout) {
            Ok(t) => Sample::Shown(t.saturating_duration_since(t0)),
            Err(screen) => Sample::TimedOut(screen),
        }
    }

    fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
    }

    fn quit(mut self) {
        self.keys("q");
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("the TUI did not quit");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        while !self.eof.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Quits (`esc` closes a dialog first), or kills the binary if it does
    /// not quit within 5 s: never panics.
    fn close(mut self) {
        self.keys("\x1b");
        std::thread::sleep(Duration::from_millis(50));
        self.keys("q");
        let start = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if start.elapsed() > Duration::from_secs(5) {
                break; // dropping kills it
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Pty {
    /// Kills the binary if it still runs (a panic, a timed-out series).
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Key to frame in the real binary
// ---------------------------------------------------------------------------

/// Samples per key-to-frame series.
const K2F_SAMPLES: usize = 120;
/// A frame that has not shown after this long never will, as far as the
/// series is concerned: the sample is a timeout.
const K2F_TIMEOUT: Duration = Duration::from_secs(5);
/// A series stops after this many timeouts (or lost samples).
const K2F_MAX_TIMEOUTS: usize = 3;
/// The target: p99 of key to frame.
const K2F_TARGET_MS: f64 = 50.0;

/// One key timed to its frame.
enum Sample {
    /// The frame showed this long after the key was written.
    Shown(Duration),
    /// It did not show within `K2F_TIMEOUT`; the screen at the end.
    TimedOut(String),
    /// Getting ready for the key failed (why, with the screen): no sample.
    Lost(String),
}

/// A binary under measure.
struct Bin {
    path: PathBuf,
    home: PathBuf,
    db: PathBuf,
}

impl Bin {
    fn spawn(&self, text: &str) -> Pty {
        Pty::spawn(&self.path, &self.home, &self.db, text)
    }
}

/// One key-to-frame measurement: how to get the binary ready, and one
/// timed key from there.
trait Scenario {
    /// A fresh binary, ready for the first sample.
    fn setup(&mut self, bin: &Bin) -> Result<Pty, String>;
    /// Gets ready for sample `i` (untimed) and times its key.
    fn sample(&mut self, p: &mut Pty, i: usize) -> Sample;
}

/// A series of key-to-frame samples.
#[derive(Default)]
struct KeySeries {
    samples: Vec<f64>,
    attempts: usize,
    timeouts: usize,
    /// The screen when the first timeout gave up.
    first_timeout: Option<String>,
    /// Why the series stopped before its samples were taken, if it did
    /// for another reason than timeouts.
    broke: Option<String>,
}

impl KeySeries {
    fn ok(&self) -> bool {
        self.timeouts == 0 && self.broke.is_none() && !self.samples.is_empty()
    }

    fn p99(&self) -> f64 {
        if self.samples.is_empty() {
            f64::INFINITY
        } else {
            pct(&self.samples, 99.0)
        }
    }

    /// What the screen said when it gave up.
    fn why(&self) -> &'static str {
        match &self.first_timeout {
            Some(s) if s.contains("(the binary exited)") => "the binary exited",
            Some(s) if s.contains("loading…") => "stays on loading…",
            _ => "the frame never shows",
        }
    }

    fn text(&self) -> String {
        let mut out = if self.samples.is_empty() && self.timeouts > 0 {
            format!(
                "never ({} of {} timed out: {})",
                self.timeouts,
                self.attempts,
                self.why()
            )
        } else if self.samples.is_empty() {
            "no samples".to_string()
        } else {
            let mut t = format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms of {}",
                pct(&self.samples, 50.0),
                pct(&self.samples, 99.0),
                max(&self.samples),
                self.samples.len()
            );
            if self.timeouts > 0 {
                t.push_str(&format!(
                    ", and {} of {} timed out ({}): stopped",
                    self.timeouts,
                    self.attempts,
                    self.why()
                ));
            }
            t
        };
        if let Some(b) = &self.broke {
            out.push_str(&format!(
                " [series broken: {}]",
                b.lines().next().unwrap_or_default()
            ));
        }
        out
    }

    fn json(&self) -> serde_json::Value {
        let stat = |p: f64| (!self.samples.is_empty()).then(|| pct(&self.samples, p));
        json!({
            "p50_ms": stat(50.0), "p99_ms": stat(99.0),
            "max_ms": (!self.samples.is_empty()).then(|| max(&self.samples)),
            "samples": self.samples.len(), "attempts": self.attempts,
            "timeouts": self.timeouts, "timeout_s": K2F_TIMEOUT.as_secs(),
            "first_timeout_screen": self.first_timeout, "broken": self.broke,
            "samples_ms": self.samples,
        })
    }
}

/// Runs `n` samples of a scenario on a binary. A timeout starts over in a
/// fresh binary (the one that timed out may be stuck); the series stops
/// after `K2F_MAX_TIMEOUTS` timeouts, or as many samples lost getting
/// ready. Never panics on what the binary shows.
fn key_series(bin: &Bin, sc: &mut dyn Scenario, n: usize) -> KeySeries {
    let mut s = KeySeries::default();
    let mut p = match sc.setup(bin) {
        Ok(p) => p,
        Err(e) => {
            s.broke = Some(e);
            return s;
        }
    };
    let mut lost = 0;
    let mut i = 0;
    while s.samples.len() < n {
        match sc.sample(&mut p, i) {
            Sample::Shown(d) => {
                s.attempts += 1;
                s.samples.push(ms(d));
                i += 1;
                continue;
            }
            Sample::TimedOut(screen) => {
                s.attempts += 1;
                s.timeouts += 1;
                s.first_timeout.get_or_insert(screen);
                i += 1;
                if s.timeouts >= K2F_MAX_TIMEOUTS {
                    break;
                }
            }
            Sample::Lost(why) => {
                lost += 1;
                if lost >= K2F_MAX_TIMEOUTS {
                    s.broke = Some(why);
                    break;
                }
            }
        }
        drop(p); // kills it
        p = match sc.setup(bin) {
            Ok(p) => p,
            Err(e) => {
                s.broke = Some(e);
                return s;
            }
        };
    }
    p.close();
    s
}

/// Whether the screen shows the header of message `seq` (`  #seq`, not
/// followed by another digit).
fn has_header(screen: &str, seq: u64) -> bool {
    let pat = format!("#{seq}");
    screen.match_indices(&pat).any(|(i, _)| {
        screen[..i].ends_with(' ')
            && !screen[i + pat.len()..].starts_with(|c: char| c.is_ascii_digit())
    })
}

/// A screen with the history titled `title` that shows the header of
/// message `seq`, and nothing still loading.
fn history_at(title: String, seq: u64) -> Pred {
    Box::new(move |s| s.contains(&title) && has_header(s, seq) && !s.contains("loading…"))
}

/// A few rows of a screen, for a report: the top rows (the panes'
/// titles), any row still loading, the status line.
fn short_screen(screen: &str) -> Vec<String> {
    let rows: Vec<&str> = screen.lines().collect();
    let mut keep: Vec<usize> = (0..rows.len().min(3)).collect();
    keep.extend(
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.contains("loading…") || r.contains("(the binary exited)"))
            .map(|(i, _)| i)
            .take(3),
    );
    keep.extend(rows.len().saturating_sub(2)..rows.len());
    keep.sort_unstable();
    keep.dedup();
    let mut out = Vec::new();
    let mut last = None;
    for i in keep {
        if last.is_some_and(|l| l + 1 < i) {
            out.push("⋮".to_string());
        }
        out.push(format!("{:>2} {}", i, rows[i].trim_end()));
        last = Some(i);
    }
    out
}

/// The long session open in the history pane with the focus, its first
/// message painted.
#[derive(Clone)]
struct LongSession {
    name: String,
    len: u64,
    uid: String,
    count_text: String,
}

impl LongSession {
    fn open(&self, bin: &Bin) -> Result<Pty, String> {
        let t = K2F_TIMEOUT * 6;
        let mut p = bin.spawn(&self.count_text);
        p.wait(t)
            .map_err(|s| format!("no first frame; screen:\n{s}"))?;
        let (name, len) = (&self.name, thousands(self.len));
        p.keys("f");
        p.wait_until(shows("filter: "), "the filter", t)?;
        p.keys(name);
        p.wait_until(shows("sessions (1)"), "the filtered list", t)?;
        p.keys("\r"); // keep the filter
        p.wait_until(
            history_at(format!(" {name} · msg 1/{len} "), 0),
            "the long session",
            t,
        )?;
        // The details load after the history: wait for them, then give
        // the history the focus with tab (enter would load it again).
        p.wait_until(shows(&self.uid), "the details", t)?;
        p.keys("\t");
        let focused = format!("┏ {name} ");
        p.wait_until(
            Box::new(move |s| s.contains("b branch") || s.contains(&focused)),
            "the history's focus",
            t,
        )?;
        Ok(p)
    }

    fn at(&self, seq: u64) -> (Pred, String) {
        let title = format!(
            " {} · msg {}/{} ",
            self.name,
            thousands(seq + 1),
            thousands(self.len)
        );
        let what = format!("{title:?} with #{seq} and nothing loading");
        (history_at(title, seq), what)
    }
}

/// a. `G` in the long session, from its first message.
struct JumpEnd(LongSession);

impl Scenario for JumpEnd {
    fn setup(&mut self, bin: &Bin) -> Result<Pty, String> {
        self.0.open(bin)
    }

    fn sample(&mut self, p: &mut Pty, _: usize) -> Sample {
        let l = &self.0;
        let (start, what) = l.at(0);
        if !p.arm(start, &what) {
            p.keys("g");
            if let Err(s) = p.wait(K2F_TIMEOUT) {
                return Sample::Lost(format!("g did not come back to {what}; screen:\n{s}"));
            }
        }
        let (end, what) = l.at(l.len - 1);
        p.time_key("G", end, &what, K2F_TIMEOUT)
    }
}

/// b. `:N` Enter in the long session, to random messages.
struct JumpTo {
    long: LongSession,
    targets: Vec<u64>,
}

impl Scenario for JumpTo {
    fn setup(&mut self, bin: &Bin) -> Result<Pty, String> {
        self.long.open(bin)
    }

    fn sample(&mut self, p: &mut Pty, i: usize) -> Sample {
        let n = self.targets[i % self.targets.len()];
        let before: Vec<String> = p.screen().lines().map(str::to_string).collect();
        // `:` opens a dialog or a command line: wait for a change.
        p.keys(":");
        if let Err(e) = p.wait_until(
            Box::new(move |s| s.lines().ne(before.iter().map(String::as_str))),
            "`:` to show",
            K2F_TIMEOUT,
        ) {
            return Sample::Lost(e);
        }
        // The rest of that frame, then the screen the digits change.
        std::thread::sleep(Duration::from_millis(20));
        let before: Vec<String> = p.screen().lines().map(str::to_string).collect();
        // The digits typed, on a row that did not show them before.
        let digits = n.to_string();
        p.keys(&digits);
        let typed = digits.clone();
        if let Err(e) = p.wait_until(
            Box::new(move |s| {
                s.lines().enumerate().any(|(r, line)| {
                    line.contains(&typed) && before.get(r).is_none_or(|b| b != line)
                })
            }),
            &format!("the typed {digits} to show"),
            K2F_TIMEOUT,
        ) {
            return Sample::Lost(e);
        }
        let (at, what) = self.long.at(n);
        p.time_key("\r", at, &what, K2F_TIMEOUT)
    }
}

/// c. `j` in the list opens the next session.
struct OpenNext {
    /// The first sessions of the list, in its order: names and uids.
    order: Vec<(String, String)>,
    count_text: String,
    /// Where the selection is.
    at: usize,
}

impl OpenNext {
    fn shown(&self, i: usize) -> (Pred, String) {
        let title = format!(" {} · msg 1/", self.order[i].0);
        let what = format!("{title:?} with #0 and nothing loading");
        (history_at(title, 0), what)
    }
}

impl Scenario for OpenNext {
    fn setup(&mut self, bin: &Bin) -> Result<Pty, String> {
        let t = K2F_TIMEOUT * 6;
        let mut p = bin.spawn(&self.count_text);
        p.wait(t)
            .map_err(|s| format!("no first frame; screen:\n{s}"))?;
        let (first, what) = self.shown(0);
        p.wait_until(first, &what, t)?;
        p.wait_until(shows(&self.order[0].1), "the details", t)?;
        self.at = 0;
        Ok(p)
    }

    fn sample(&mut self, p: &mut Pty, _: usize) -> Sample {
        let next = self.at + 1;
        if next >= self.order.len() {
            return Sample::Lost("past the sessions read from the store".into());
        }
        let (pred, what) = self.shown(next);
        let s = p.time_key("j", pred, &what, K2F_TIMEOUT);
        if let Sample::Shown(_) = s {
            self.at = next;
            // Start the next sample from rest: the details loaded too.
            if let Err(e) = p.wait_until(shows(&self.order[next].1), "the details", K2F_TIMEOUT) {
                return Sample::Lost(e);
            }
        }
        s
    }
}

/// Prints one key-to-frame line (beside the baseline's, if any) and the
/// screens of first timeouts; returns its JSON.
fn report_key_series(
    label: &str,
    cur: &KeySeries,
    base: Option<&KeySeries>,
    base_path: Option<&Path>,
) -> serde_json::Value {
    let ok = cur.ok() && cur.p99() <= K2F_TARGET_MS;
    let mut line = format!(
        "key→frame    {label} (real binary): {}  (target p99 <= {K2F_TARGET_MS:.0} ms: {})",
        cur.text(),
        verdict(ok)
    );
    if let Some(b) = base {
        line.push_str(&format!(" | baseline {}", b.text()));
    }
    println!("{line}");
    for (who, s) in [("this tree", Some(cur)), ("baseline", base)] {
        if let Some(screen) = s.and_then(|s| s.first_timeout.as_ref()) {
            println!(
                "             {who}, the screen {} s after the key of its first timeout:",
                K2F_TIMEOUT.as_secs()
            );
            for r in short_screen(screen) {
                println!("               │{r}");
            }
        }
        if let Some(b) = s.and_then(|s| s.broke.as_ref()) {
            println!("             {who}, the series broke off:");
            for r in b.lines().take(1) {
                println!("               {r}");
            }
            let screen = b.split_once('\n').map_or("", |(_, s)| s);
            for r in short_screen(screen) {
                println!("               │{r}");
            }
        }
    }
    json!({
        "current": cur.json(),
        "baseline": base.map(KeySeries::json),
        "baseline_binary": base_path.map(|p| p.display().to_string()),
        "target_p99_ms": K2F_TARGET_MS,
        "ok": ok,
    })
}

// ---------------------------------------------------------------------------
// The measurements
// ---------------------------------------------------------------------------

/// Frame times of a series, with those of the frames that moved the
/// pane's window over the store (a new list window, a new page of history)
/// apart.
struct Frames {
    p50: f64,
    p99: f64,
    max: f64,
    n: usize,
    /// Frames that loaded a new window, and their median.
    loading: usize,
    loading_p50: f64,
    /// p99 of the other frames.
    other_p99: f64,
}

/// Runs `n` frames of `ev` and sums them up; `window` tells whether a
/// frame loaded a new window.
fn series(h: &mut Harness, n: usize, ev: &Event, window: fn(&Harness) -> bool) -> Frames {
    let mut all = Vec::with_capacity(n);
    let mut loading = Vec::new();
    let mut other = Vec::new();
    for _ in 0..n {
        let d = ms(h.frame(ev.clone()));
        all.push(d);
        if window(h) {
            loading.push(d);
        } else {
            other.push(d);
        }
    }
    Frames {
        p50: pct(&all, 50.0),
        p99: pct(&all, 99.0),
        max: max(&all),
        n,
        loading: loading.len(),
        loading_p50: if loading.is_empty() {
            0.0
        } else {
            median(&loading)
        },
        other_p99: if other.is_empty() {
            0.0
        } else {
            pct(&other, 99.0)
        },
    }
}

fn frames_json(f: &Frames) -> serde_json::Value {
    json!({
        "p50_ms": f.p50, "p99_ms": f.p99, "max_ms": f.max, "frames": f.n,
        "loading_frames": f.loading, "loading_p50_ms": f.loading_p50,
        "p99_without_loads_ms": f.other_p99,
    })
}

fn print_frames(label: &str, f: &Frames) {
    println!(
        "{label:<36} p50 {:>6.3} ms  p99 {:>6.3} ms  max {:>6.2} ms  (target p99 <= 2 ms: {})",
        f.p50,
        f.p99,
        f.max,
        verdict(f.p99 <= 2.0)
    );
    println!(
        "{:<36} {} of {} frames loaded a new window (median {:.3} ms); p99 of the others {:.3} ms",
        "", f.loading, f.n, f.loading_p50, f.other_p99
    );
}

/// The search queries: common and rare words, several words, a prefix, a
/// phrase, OR, a negation, a filter.
fn queries() -> Vec<String> {
    let w = common::tui_word;
    vec![
        "session".into(),
        "latency".into(),
        "deploy server".into(),
        "async future".into(),
        "schema migration".into(),
        "budget travel".into(),
        "poem story garden".into(),
        "the cache".into(),
        w(100),
        w(300),
        w(1_000),
        w(3_000),
        w(10_000),
        w(30_000),
        w(45_000),
        format!("{} {}", w(150), w(400)),
        format!("session {}", w(2_000)),
        format!("{} {} {}", w(90), w(120), w(700)),
        "mig*".into(),
        "thr*".into(),
        format!("{}*", &w(5_000)[..3]),
        "\"cache thread\"".into(),
        "\"merge branch\"".into(),
        "poem OR recipe".into(),
        format!("{} OR {}", w(20_000), w(25_000)),
        "session -cache".into(),
        "role:user latency".into(),
        "tag:rust compiler".into(),
        "explain closure iterator".into(),
        format!("review {}", w(12_345)),
    ]
}

fn main() {
    let quick = std::env::var_os("SCROLLBACK_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    // Absolute: the binary in the pty runs elsewhere.
    let dir = dir.canonicalize().unwrap();
    let suffix = if quick { "-quick" } else { "" };
    let big_spec = Spec {
        sessions: 100_000 / scale,
        messages: 10_000_000 / scale as u64,
        big: 60_000 / scale,
        seed: 7,
    };
    let search_spec = Spec {
        sessions: 20_000 / scale,
        messages: 1_000_000 / scale as u64,
        big: 0,
        seed: 11,
    };
    let big_db = dir.join(format!("tui-store{suffix}.db"));
    let search_db = dir.join(format!("tui-search{suffix}.db"));
    println!(
        "scrollback TUI benchmark ({} cores){}",
        common::cores(),
        if quick {
            " [quick: 1/10 scale]"
        } else {
            " [full scale]"
        }
    );
    let built_big = ensure_store(&big_db, &big_spec);
    let built_search = ensure_store(&search_db, &search_spec);
    let (db_mb, idx_mb) = disk_mb(&big_db);
    let count_text = format!("sessions ({})", thousands(big_spec.sessions as u64));
    println!(
        "store         {} sessions, {} messages (one of {}): {db_mb:.0} MB + index {idx_mb:.0} MB",
        big_spec.sessions, big_spec.messages, big_spec.big
    );
    let big_name = big_spec.big_name();
    let big_len = thousands(big_spec.big as u64);

    // --- first frame, in-process ---
    let mut h = Harness::new(&big_db);
    h.first_frame(); // warm up
    h.expect(&count_text);
    let first: Vec<f64> = (0..20).map(|_| ms(h.first_frame())).collect();
    h.expect(&count_text);
    let ff_inproc = median(&first);
    let ff_inproc_max = max(&first);
    println!(
        "first frame   in-process (App::new + run_now + draw): median {ff_inproc:.2} ms, max {ff_inproc_max:.2} ms of 20  (target <= 50 ms warm: {})",
        verdict(ff_inproc <= 50.0)
    );
    // The same with the store and the index opened, as the binary does.
    let t = Instant::now();
    let mut h2 = Harness::new(&big_db);
    let open_ms = ms(t.elapsed());
    let with_open = open_ms + ms(h2.first_frame());
    drop(h2);
    println!(
        "              in-process, store and index opened too: {with_open:.2} ms (opening {open_ms:.2} ms)"
    );

    // --- first frame, real binary in a pty ---
    let home = tempfile::tempdir().unwrap();
    let this = Bin {
        path: PathBuf::from(env!("CARGO_BIN_EXE_scrollback")),
        home: home.path().to_path_buf(),
        db: big_db.clone(),
    };
    let mut pty_runs = Vec::new();
    let mut pty_output = Vec::new();
    for _ in 0..6 {
        let mut p = this.spawn(&count_text);
        let seen = p.seen();
        pty_runs.push(ms(seen - p.started));
        let first_output = p.watch.lock().unwrap().first_output.unwrap_or(seen);
        pty_output.push(ms(first_output - p.started));
        p.quit();
    }
    let pty_first = pty_runs[0];
    let pty_warm = median(&pty_runs[1..]);
    let pty_output_warm = median(&pty_output[1..]);
    println!(
        "first frame   real binary in a pty, spawn to `{count_text}`: first {pty_first:.1} ms, warm median {pty_warm:.1} ms of 5 {:?}  (target <= 50 ms warm: {})",
        pty_runs[1..]
            .iter()
            .map(|x| (x * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        verdict(pty_warm <= 50.0)
    );
    println!(
        "              (of which spawn to the first output, the alternate screen: first {:.1} ms, warm median {pty_output_warm:.1} ms)",
        pty_output[0]
    );

    // --- scrolling the list ---
    h.first_frame();
    let list_frames = series(&mut h, 1_000, &key('j'), |h| h.list_loads > 0);
    h.expect("msg 1/");
    print_frames("frame         list, j x1000", &list_frames);

    // --- the long session's history ---
    let big = h
        .store
        .list(&ListQuery {
            name_like: Some(big_name.clone()),
            ..ListQuery::default()
        })
        .unwrap()
        .into_iter()
        .find(|s| s.name == big_name)
        .unwrap();
    let cmds = h.app.open_session(big, None);
    h.app.focus = Pane::History;
    h.settle(cmds);
    h.draw();
    h.expect(&format!(" {big_name} · msg 1/{big_len} "));
    let history_down = series(&mut h, 1_000, &key('j'), |h| h.history_loads > 0);
    h.expect(&format!(" {big_name} · msg 1,001/{big_len} "));
    print_frames("frame         history, j x1000", &history_down);
    let history_half_page = series(&mut h, 1_000, &ctrl('d'), |h| h.history_loads > 0);
    let at = thousands((1_000 + 5 * 1_000).min(big_spec.big as u64 - 1) + 1);
    h.expect(&format!(" {big_name} · msg {at}/{big_len} "));
    print_frames("frame         history, ctrl-d x1000", &history_half_page);

    // --- G in the long session ---
    let mut jumps = Vec::new();
    for _ in 0..20 {
        h.frame(key('g'));
        h.expect(&format!(" {big_name} · msg 1/{big_len} "));
        jumps.push(ms(h.frame(key('G'))));
        h.expect(&format!(" {big_name} · msg {big_len}/{big_len} "));
    }
    let jump = median(&jumps);
    println!(
        "jump          G to message {big_len}, in-process: median {jump:.3} ms, max {:.3} ms of 20  (target <= 2 ms: {})",
        max(&jumps),
        verdict(jump <= 2.0)
    );
    // The first sessions of the list, in its order, for `j` in the binary.
    let order: Vec<(String, String)> = h
        .store
        .list(&ListQuery {
            limit: Some(K2F_SAMPLES as u64 + 2),
            ..ListQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.uid.0))
        .collect();
    drop(h);

    // --- resident memory of the binary while browsing ---
    let mut p = this.spawn(&count_text);
    p.seen();
    let pid = p.pid();
    let rss_start = common::proc_status_mb(pid, "VmRSS").unwrap_or(0.0);
    // Down the list a page at a time, to the end and back.
    for _ in 0..5 {
        p.keys(&"j".repeat(40));
        p.keys("\x06"); // ctrl-f
    }
    let n = big_spec.sessions;
    p.keys("G");
    p.wait_for(" s-0 · msg 1/");
    p.keys("g");
    p.wait_for(&format!(" s-{} · msg 1/", n - 1));
    // Open the long session and page through it.
    p.keys("f");
    p.wait_for("filter: ");
    p.keys(&big_name);
    p.wait_for("sessions (1)");
    p.keys("\r"); // keep the filter
    p.wait_for(&format!(" {big_name} · msg 1/{big_len} "));
    // The list opened it: wait for its details, which load after its
    // history (keys sent while a history loads would be lost), then give
    // the history the focus with tab (enter would load it again).
    p.wait_for(&big_spec.uid(big_spec.sessions / 2));
    p.keys("\t");
    p.wait_for("b branch");
    for _ in 0..50 {
        p.keys("\x06\x06\x06\x06\x04"); // ctrl-f x4, ctrl-d
    }
    p.wait_for(&format!(" {big_name} · msg 2,251/{big_len} "));
    p.keys("G");
    p.wait_for(&format!(" {big_name} · msg {big_len}/{big_len} "));
    for _ in 0..50 {
        p.keys("\x02\x02\x02\x02"); // ctrl-b
    }
    p.keys("g");
    p.wait_for(&format!(" {big_name} · msg 1/{big_len} "));
    let rss = common::proc_status_mb(pid, "VmRSS").unwrap_or(0.0);
    let hwm = common::proc_status_mb(pid, "VmHWM").unwrap_or(0.0);
    let anon = common::proc_status_mb(pid, "RssAnon").unwrap_or(0.0);
    let file = common::proc_status_mb(pid, "RssFile").unwrap_or(0.0);
    println!(
        "memory        real binary after browsing: VmRSS {rss:.0} MB (anon {anon:.0}, file {file:.0}), peak {hwm:.0} MB, {rss_start:.0} MB at the first frame  (target <= 150 MB: {})",
        verdict(rss <= 150.0)
    );
    p.quit();

    // --- key to frame in the real binary, beside a baseline binary ---
    let baseline = std::env::var_os("SCROLLBACK_BENCH_BASELINE").map(|b| Bin {
        path: PathBuf::from(b),
        home: home.path().to_path_buf(),
        db: big_db.clone(),
    });
    let baseline = baseline.filter(|b| {
        let there = b.path.is_file();
        if !there {
            println!(
                "key→frame    baseline {} is not a file: no baseline",
                b.path.display()
            );
        }
        there
    });
    if let Some(b) = &baseline {
        println!("key→frame    baseline binary: {}", b.path.display());
    }
    let long = LongSession {
        name: big_name.clone(),
        len: big_spec.big as u64,
        uid: big_spec.uid(big_spec.sessions / 2),
        count_text: count_text.clone(),
    };
    let mut rng = common::Rng::new(2_024);
    let mut targets = Vec::with_capacity(K2F_SAMPLES * 2);
    let mut prev = 0;
    while targets.len() < K2F_SAMPLES * 2 {
        let n = rng.below(big_spec.big) as u64;
        if n != prev {
            targets.push(n);
            prev = n;
        }
    }
    let series = [
        ("g_end", format!("G in a {big_len}-message session")),
        (
            "jump_to",
            format!(":N enter in a {big_len}-message session"),
        ),
        (
            "open_next",
            format!(
                "j opens the next of {} sessions",
                thousands(big_spec.sessions as u64)
            ),
        ),
    ];
    let mut key_to_frame = serde_json::Map::new();
    for (key, label) in series {
        // A fresh scenario for each binary.
        let make = || -> Box<dyn Scenario> {
            match key {
                "g_end" => Box::new(JumpEnd(long.clone())),
                "jump_to" => Box::new(JumpTo {
                    long: long.clone(),
                    targets: targets.clone(),
                }),
                _ => Box::new(OpenNext {
                    order: order.clone(),
                    count_text: count_text.clone(),
                    at: 0,
                }),
            }
        };
        let cur = key_series(&this, make().as_mut(), K2F_SAMPLES);
        let base = baseline
            .as_ref()
            .map(|b| key_series(b, make().as_mut(), K2F_SAMPLES));
        let path = baseline.as_ref().map(|b| b.path.as_path());
        key_to_frame.insert(
            key.to_string(),
            report_key_series(&label, &cur, base.as_ref(), path),
        );
    }

    // --- keystroke to search results ---
    let (sdb_mb, sidx_mb) = disk_mb(&search_db);
    let mut h = Harness::new(&search_db);
    println!(
        "search store  {} sessions, {} messages: {sdb_mb:.0} MB + index {sidx_mb:.0} MB",
        search_spec.sessions, search_spec.messages
    );
    h.first_frame();
    h.frame(key('/'));
    let qs = queries();
    let mut search_samples = Vec::new();
    let mut empty = 0;
    for pass in 0..4 {
        for q in &qs {
            h.frame(ctrl('u'));
            let (typed, final_key) = q.split_at(q.len() - 1);
            for c in typed.chars() {
                let _ = h.app.update(key(c)); // superseded searches: not run
            }
            let d = h.frame(key(final_key.chars().next().unwrap()));
            assert!(
                h.app.search.error.is_none(),
                "{q}: {:?}",
                h.app.search.error
            );
            assert_eq!(h.app.search.shown, h.app.search.generation);
            if pass == 0 {
                empty += usize::from(h.app.search.results.is_empty());
            } else {
                search_samples.push(ms(d));
            }
        }
    }
    let s_p50 = median(&search_samples);
    let s_p99 = pct(&search_samples, 99.0);
    println!(
        "search        last key to painted results, {} queries x3: median {s_p50:.2} ms, p99 {s_p99:.2} ms, max {:.2} ms ({empty} queries without hits)  (target <= 16 ms: {})",
        qs.len(),
        max(&search_samples),
        verdict(s_p99 <= 16.0)
    );

    let report = json!({
        "scale": if quick { "quick (1/10)" } else { "full" },
        "cores": common::cores(),
        "store": {
            "sessions": big_spec.sessions, "messages": big_spec.messages,
            "long_session": big_spec.big, "db_mb": db_mb, "index_mb": idx_mb,
            "built_in_s": (built_big > 0.0).then_some(built_big),
        },
        "search_store": {
            "sessions": search_spec.sessions, "messages": search_spec.messages,
            "db_mb": sdb_mb, "index_mb": sidx_mb,
            "built_in_s": (built_search > 0.0).then_some(built_search),
        },
        "first_frame": {
            "in_process_median_ms": ff_inproc, "in_process_max_ms": ff_inproc_max,
            "in_process_with_open_ms": with_open,
            "pty_first_ms": pty_first, "pty_warm_median_ms": pty_warm, "pty_runs_ms": pty_runs,
            "pty_first_output_ms": pty_output,
            "target_ms": 50,
        },
        "frame": {
            "list_j": frames_json(&list_frames),
            "history_j": frames_json(&history_down),
            "history_ctrl_d": frames_json(&history_half_page),
            "target_ms": 2,
        },
        "jump_to_end": {"median_ms": jump, "max_ms": max(&jumps), "target_ms": 2},
        "search_keystroke_to_results": {
            "queries": qs.len(), "samples": search_samples.len(),
            "median_ms": s_p50, "p99_ms": s_p99, "max_ms": max(&search_samples),
            "target_ms": 16,
        },
        "key_to_frame": key_to_frame,
        "memory": {
            "vm_rss_mb": rss, "vm_hwm_mb": hwm, "rss_anon_mb": anon, "rss_file_mb": file,
            "rss_at_first_frame_mb": rss_start, "target_mb": 150,
        },
    });
    let out = dir.join("tui.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("wrote {}", out.display());
}
