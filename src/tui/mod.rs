//! The full-screen TUI: terminal setup and restore, and the loop
//! key -> Action -> `App::update` -> Commands -> runtime -> Events -> update -> draw.
//!
//! The terminal is restored on quit, on error, on Ctrl-C and on panic.

pub mod action;
pub mod app;
pub mod command;
pub mod dialog;
pub mod event;
pub mod keymap;
pub mod layout;
pub mod runtime;
pub mod sanitize;
pub mod text;
pub mod theme;
pub mod view;

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Sender, channel};

use anyhow::{Context, Result};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self as ct, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use crate::config::Config;
use crate::store::Store;
use app::App;
use command::Command;
use event::Event;
use keymap::Keymap;
use runtime::{Runtime, SearchSetup};
use theme::Theme;

/// Runs the TUI on a store until the user quits.
pub fn run(store: Store, config: &Config, demo: bool) -> Result<()> {
    let (keymap, mut warnings) = Keymap::with_overrides(&config.ui.keys);
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (theme, theme_warnings) = Theme::new(!no_color, &config.ui.theme);
    warnings.extend(theme_warnings);
    for w in &warnings {
        eprintln!("scrollback: warning: config: {w}");
    }
    let (tx, rx) = channel::<Event>();
    let writer_memory = usize::try_from(config.search.writer_memory_mb.saturating_mul(1 << 20))
        .unwrap_or(usize::MAX);
    let runtime = Runtime::start(
        store,
        &tx,
        config.cleanup.protected_tags.clone(),
        SearchSetup { writer_memory },
    )?;

    let mut term = TerminalGuard::enter(config.ui.mouse)?;
    spawn_input(tx);
    let size = term.terminal.size()?;
    let (mut app, first) = App::new(size.width, size.height, keymap, crate::domain::now());
    app.found_folders = found_folders();
    app.demo = demo;
    app.mouse = config.ui.mouse;
    for c in first {
        dispatch(&runtime, &mut term, c)?;
    }
    if let Some(w) = warnings.first() {
        app.status.message = format!("config: {w}");
        app.status.error = true;
    }
    loop {
        term.terminal.draw(|f| view::draw(f, &app, &theme))?;
        let Ok(ev) = rx.recv() else { break };
        let mut cmds = app.update(ev);
        // Apply everything already waiting before drawing again.
        while let Ok(ev) = rx.try_recv() {
            cmds.extend(app.update(ev));
        }
        app.now = crate::domain::now();
        for c in cmds {
            dispatch(&runtime, &mut term, c)?;
        }
        if app.quit {
            break;
        }
    }
    drop(term);
    Ok(())
}

fn dispatch(runtime: &Runtime, term: &mut TerminalGuard, c: Command) -> Result<()> {
    match c {
        Command::Copy { text, .. } => TerminalGuard::osc52(&text),
        Command::SetMouse(on) => term.set_mouse(on),
        Command::External { editor, text } => term.external(editor, &text),
        other => {
            runtime.send(other);
            Ok(())
        }
    }
}

fn spawn_input(tx: Sender<Event>) {
    std::thread::spawn(move || {
        loop {
            let ev = match ct::read() {
                Ok(ct::Event::Key(k)) => Event::Key(k),
                Ok(ct::Event::Mouse(m)) => Event::Mouse(m),
                Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(ev).is_err() {
                return;
            }
        }
    });
}

/// The terminal in raw mode on the alternate screen; dropping it restores
/// the terminal, and a panic restores it before the message is printed.
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<io::Stdout>>,
    mouse: bool,
}

impl TerminalGuard {
    fn enter(mouse: bool) -> Result<TerminalGuard> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            hook(info);
        }));
        enable_raw_mode().context(
            "the TUI needs a terminal (use a subcommand for scripts: scrollback --help)",
        )?;
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen)?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        terminal.clear()?;
        Ok(TerminalGuard { terminal, mouse })
    }

    fn set_mouse(&mut self, on: bool) -> Result<()> {
        self.mouse = on;
        if on {
            execute!(io::stdout(), EnableMouseCapture)?;
        } else {
            execute!(io::stdout(), DisableMouseCapture)?;
        }
        Ok(())
    }

    /// Puts text on the clipboard with OSC 52 (works over SSH; wrapped for tmux).
    fn osc52(text: &str) -> Result<()> {
        let b64 = base64(text.as_bytes());
        let seq = format!("\u{1b}]52;c;{b64}\u{7}");
        let seq = if std::env::var_os("TMUX").is_some() {
            format!(
                "\u{1b}Ptmux;{}\u{1b}\\",
                seq.replace('\u{1b}', "\u{1b}\u{1b}")
            )
        } else {
            seq
        };
        let mut out = io::stdout();
        out.write_all(seq.as_bytes())?;
        out.flush()?;
        Ok(())
    }

    /// Hands the terminal to $PAGER or $EDITOR on a temporary file with `text`.
    fn external(&mut self, editor: bool, text: &str) -> Result<()> {
        let var = if editor { "EDITOR" } else { "PAGER" };
        let program = std::env::var(var)
            .ok()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| if editor { "vi".into() } else { "less".into() });
        let dir = tempfile_dir();
        let path = dir.join(format!("scrollback-{}.md", std::process::id()));
        std::fs::write(&path, text)?;
        restore_terminal();
        let mut parts = program.split_whitespace();
        let status = std::process::Command::new(parts.next().unwrap_or("less"))
            .args(parts)
            .arg(&path)
            .status();
        let _ = std::fs::remove_file(&path);
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen)?;
        if self.mouse {
            execute!(io::stdout(), EnableMouseCapture)?;
        }
        self.terminal.clear()?;
        status.with_context(|| format!("could not run {program} (${var})"))?;
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
        let _ = self.terminal.show_cursor();
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

fn tempfile_dir() -> PathBuf {
    std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

/// Standard base64 (RFC 4648) with padding.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Session folders of other tools that exist on this machine.
pub fn found_folders() -> Vec<(String, PathBuf)> {
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return Vec::new();
    };
    [
        ("Claude Code", home.join(".claude/projects")),
        ("Codex", home.join(".codex/sessions")),
        ("Gemini CLI", home.join(".gemini/tmp")),
        ("llm", home.join(".config/io.datasette.llm/logs.db")),
    ]
    .into_iter()
    .filter(|(_, p)| p.exists())
    .map(|(n, p)| (n.to_string(), p))
    .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), enc);
        }
    }
}
