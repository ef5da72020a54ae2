//! The full-screen TUI: terminal setup and restore, and the loop
//! key -> Action -> `App::update` -> Commands -> runtime -> Events -> update -> draw.
//!
//! The terminal is restored on quit, on error, on Ctrl-C and on panic.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod cmdline;
pub mod command;
pub mod details;
pub mod dialog;
pub mod event;
pub mod history;
pub mod keymap;
pub mod layout;
pub mod list;
mod mouse;
pub mod runtime;
pub mod search;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod view;

use std::io;
use std::sync::mpsc::channel;

use anyhow::Result;

use crate::config::Config;
use crate::store::Store;
use app::App;
use command::Command;
use event::Event;
use keymap::Keymap;
use runtime::{Runtime, SearchSetup};
use terminal::{Input, TerminalGuard};
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
    let sync_store = (!demo).then(|| store.reopen()).transpose()?;
    let mut runtime = Runtime::start(
        store,
        &tx,
        config.cleanup.protected_tags.clone(),
        SearchSetup { writer_memory },
    )?;
    let sources = crate::sync::sources(&config.sync);
    if let Some(sync_store) = sync_store {
        runtime.start_sync(
            sync_store,
            runtime::SyncSetup {
                sources: sources.clone(),
                config: config.sync.clone(),
                watch: config.sync.watch,
                on_start: config.sync.on_start,
                poll: std::time::Duration::from_secs(config.sync.poll_secs),
            },
            &tx,
        )?;
    }

    let mut term = TerminalGuard::enter(config.ui.mouse)?;
    let input = Input::spawn(tx.clone())?;
    let size = term.terminal.size()?;
    let (mut app, first) = App::new(size.width, size.height, keymap, crate::domain::now());
    app.found_folders = sources
        .iter()
        .filter(|s| s.tool != "config")
        .map(|s| (s.tool.clone(), s.path.clone()))
        .collect();
    app.demo = demo;
    app.syncing = config.sync.on_start && !demo;
    app.resume_commands.clone_from(&config.resume);
    app.mouse = config.ui.mouse;
    for c in first {
        dispatch(&runtime, &mut term, &input, c, &tx);
    }
    if let Some(w) = warnings.first() {
        app.status.message = format!("config: {w}");
        app.status.error = true;
    }
    loop {
        {
            let _screen = terminal::SCREEN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            term.terminal.draw(|f| view::draw(f, &app, &theme))?;
        }
        let Ok(ev) = rx.recv() else { break };
        let mut cmds = app.update(ev);
        // Apply everything already waiting before drawing again.
        while let Ok(ev) = rx.try_recv() {
            cmds.extend(app.update(ev));
        }
        app.now = crate::domain::now();
        for c in cmds {
            dispatch(&runtime, &mut term, &input, c, &tx);
        }
        if app.quit {
            break;
        }
    }
    drop(term);
    Ok(())
}

/// Carries out a command: terminal work here, on the main thread, the
/// rest on the workers. Whatever happens comes back as an event.
fn dispatch(
    runtime: &Runtime,
    term: &mut TerminalGuard,
    input: &Input,
    c: Command,
    events: &std::sync::mpsc::Sender<Event>,
) {
    let answer = match c {
        Command::Copy { text, what } => Some(Event::Copied(clipboard::copy(
            &text,
            &what,
            &mut io::stdout(),
        ))),
        Command::SetMouse(on) => term
            .set_mouse(on)
            .err()
            .map(|e| Event::Failed(format!("mouse: {e}"))),
        Command::External { editor, text, edit } => external(term, input, editor, &text, edit),
        Command::Page { path } => {
            let r = term.run_on(input, false, &path);
            let _ = std::fs::remove_file(&path);
            r.err().map(|e| Event::Failed(format!("{e:#}")))
        }
        Command::Resume { plan } => {
            let ended = match term.run_program(input, &plan) {
                Ok(Ok(status)) => Ok(status),
                Ok(Err(e)) => Err(crate::resume::start_failed(&plan, &e)),
                Err(e) => Err(format!("{e:#}")),
            };
            Some(Event::Resumed {
                shown: plan.shown,
                ended,
            })
        }
        Command::Suspend => term
            .suspend(input)
            .err()
            .map(|e| Event::Failed(format!("{e:#}"))),
        Command::Sync => (!runtime.sync_now()).then(|| Event::Synced {
            message: "this store is not synced".into(),
            error: true,
            quiet: false,
        }),
        Command::CancelSync => {
            runtime.cancel_sync();
            None
        }
        other => {
            runtime.send(other);
            None
        }
    };
    if let Some(ev) = answer {
        let _ = events.send(ev);
    }
}

/// $PAGER or $EDITOR on a private temporary file with `text`; an edit of a
/// message comes back as `Event::Edited`.
fn external(
    term: &mut TerminalGuard,
    input: &Input,
    editor: bool,
    text: &str,
    edit: Option<(crate::domain::SessionId, u64)>,
) -> Option<Event> {
    let path = match terminal::private_temp(text) {
        Ok(p) => p,
        Err(e) => return Some(Event::Failed(format!("temporary file: {e}"))),
    };
    let ran = term.run_on(input, editor, &path);
    let after = std::fs::read(&path);
    let _ = std::fs::remove_file(&path);
    if let Err(e) = ran {
        return Some(Event::Failed(format!("{e:#}")));
    }
    let (id, seq) = edit?;
    match after {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(after) => Some(Event::Edited {
                id,
                seq,
                before: text.to_string(),
                after,
            }),
            Err(_) => Some(Event::Failed(
                "the edited file is not UTF-8 text: the edit is not saved".into(),
            )),
        },
        Err(e) => Some(Event::Failed(format!(
            "could not read the edited file back: {e}"
        ))),
    }
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
