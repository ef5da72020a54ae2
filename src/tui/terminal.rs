//! The terminal: raw mode on the alternate screen, the input thread, and
//! leaving both for a while ($PAGER, $EDITOR, ctrl-z) and coming back.
//!
//! The input thread reads keys with a short poll and parks when asked: a
//! program given the terminal reads its own keys, and the cursor position
//! query of a redraw gets its answer, because nothing else reads stdin then.
//! A panic in any thread restores the terminal before its message is
//! printed, and ends the process.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self as ct, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste,
    EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use super::event::Event;

/// How long the input thread waits for a key before it looks whether it
/// should park.
const POLL: Duration = Duration::from_millis(40);

#[derive(Default)]
struct Gate {
    paused: bool,
    parked: bool,
}

/// The input thread, which can be parked while another program has the
/// terminal.
#[derive(Clone)]
pub struct Input {
    gate: Arc<(Mutex<Gate>, Condvar)>,
}

impl Input {
    /// Starts reading terminal events into `tx`.
    pub fn spawn(tx: Sender<Event>) -> io::Result<Input> {
        let input = Input {
            gate: Arc::new((Mutex::new(Gate::default()), Condvar::new())),
        };
        let gate = Arc::clone(&input.gate);
        std::thread::Builder::new()
            .name("scrollback-input".into())
            .spawn(move || {
                let (lock, cv) = &*gate;
                loop {
                    {
                        let mut g = lock.lock().unwrap_or_else(PoisonError::into_inner);
                        while g.paused {
                            g.parked = true;
                            cv.notify_all();
                            g = cv.wait(g).unwrap_or_else(PoisonError::into_inner);
                        }
                        g.parked = false;
                    }
                    match ct::poll(POLL) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(_) => return,
                    }
                    let ev = match ct::read() {
                        Ok(ct::Event::Key(k)) => Event::Key(k),
                        Ok(ct::Event::Mouse(m)) => Event::Mouse(m),
                        Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                        Ok(ct::Event::Paste(text)) => Event::Paste(text),
                        Ok(_) => continue,
                        Err(_) => return,
                    };
                    if tx.send(ev).is_err() {
                        return;
                    }
                }
            })?;
        Ok(input)
    }

    /// Parks the thread and waits until it no longer reads the terminal.
    pub fn pause(&self) {
        let (lock, cv) = &*self.gate;
        let mut g = lock.lock().unwrap_or_else(PoisonError::into_inner);
        g.paused = true;
        while !g.parked {
            let (next, timeout) = cv
                .wait_timeout(g, Duration::from_secs(2))
                .unwrap_or_else(PoisonError::into_inner);
            g = next;
            if timeout.timed_out() {
                // The thread has ended (its terminal is gone): nothing reads.
                break;
            }
        }
    }

    /// Lets the thread read again.
    pub fn resume(&self) {
        let (lock, cv) = &*self.gate;
        let mut g = lock.lock().unwrap_or_else(PoisonError::into_inner);
        g.paused = false;
        cv.notify_all();
    }
}

/// The terminal in raw mode on the alternate screen; dropping it restores
/// the terminal.
pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<io::Stdout>>,
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode().context(
            "the TUI needs a terminal (use a subcommand for scripts: scrollback --help)",
        )?;
        let mut out = io::stdout();
        // A paste arrives whole, never as keys that would act.
        execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        terminal.clear()?;
        Ok(TerminalGuard { terminal, mouse })
    }

    pub fn set_mouse(&mut self, on: bool) -> Result<()> {
        self.mouse = on;
        if on {
            execute!(io::stdout(), EnableMouseCapture)?;
        } else {
            execute!(io::stdout(), DisableMouseCapture)?;
        }
        Ok(())
    }

    /// Gives the terminal back to the shell while `f` runs (the input
    /// thread parked), then takes it again and redraws everything.
    pub fn away<T>(&mut self, input: &Input, f: impl FnOnce() -> T) -> Result<T> {
        input.pause();
        restore_terminal();
        let _ = self.terminal.show_cursor();
        let result = {
            let _keys = KeysToTheProgram::hold();
            f()
        };
        let back = self.back();
        input.resume();
        back?;
        Ok(result)
    }

    fn back(&mut self) -> Result<()> {
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        if self.mouse {
            execute!(io::stdout(), EnableMouseCapture)?;
        }
        self.terminal.clear()?;
        Ok(())
    }

    /// Runs $PAGER (`editor` false) or $EDITOR on `file`.
    pub fn run_on(&mut self, input: &Input, editor: bool, file: &Path) -> Result<()> {
        let var = if editor { "EDITOR" } else { "PAGER" };
        let program = std::env::var(var)
            .ok()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| {
                editor
                    .then(|| std::env::var("VISUAL").ok())
                    .flatten()
                    .filter(|p| !p.trim().is_empty())
            })
            .unwrap_or_else(|| if editor { "vi".into() } else { "less".into() });
        let status = self.away(input, || {
            let mut parts = program.split_whitespace();
            std::process::Command::new(parts.next().unwrap_or("less"))
                .args(parts)
                .arg(file)
                .status()
        })?;
        let status = status.with_context(|| format!("could not run {program} (${var})"))?;
        if editor && !status.success() {
            anyhow::bail!("{program} (${var}) exited with {status}: the edit is not saved");
        }
        Ok(())
    }

    /// Runs the program that resumes a session, in its directory, with the
    /// terminal, and waits for it to end.
    pub fn run_program(
        &mut self,
        input: &Input,
        plan: &crate::resume::ResumePlan,
    ) -> Result<io::Result<std::process::ExitStatus>> {
        self.away(input, || {
            let mut c = std::process::Command::new(&plan.program);
            c.args(&plan.args);
            if let Some(dir) = &plan.dir {
                c.current_dir(dir);
            }
            c.status()
        })
    }

    /// Stops the process until the shell brings it back (ctrl-z).
    pub fn suspend(&mut self, input: &Input) -> Result<()> {
        self.away(input, || {
            let _ = std::process::Command::new("kill")
                .args(["-s", "TSTP", &std::process::id().to_string()])
                .status();
        })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
        let _ = self.terminal.show_cursor();
    }
}

/// While another program has the terminal, ctrl-c and ctrl-\ are its
/// keys: the terminal sends SIGINT and SIGQUIT to the whole foreground job,
/// scrollback included, and they must not end scrollback under the program
/// (a coding agent is interrupted with ctrl-c). They do nothing to
/// scrollback while held; at any other time they end it as they always did.
struct KeysToTheProgram;

#[cfg(unix)]
static OURS_TO_END: std::sync::OnceLock<Arc<std::sync::atomic::AtomicBool>> =
    std::sync::OnceLock::new();

impl KeysToTheProgram {
    fn hold() -> KeysToTheProgram {
        #[cfg(unix)]
        {
            let ends = OURS_TO_END.get_or_init(|| {
                let ends = Arc::new(std::sync::atomic::AtomicBool::new(true));
                for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGQUIT] {
                    let _ =
                        signal_hook::flag::register_conditional_default(signal, Arc::clone(&ends));
                }
                ends
            });
            ends.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        KeysToTheProgram
    }
}

impl Drop for KeysToTheProgram {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(ends) = OURS_TO_END.get() {
            ends.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// Leaves raw mode and the alternate screen, stops mouse reporting and
/// shows the cursor. Safe to call more than once.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
    let _ = io::stdout().flush();
}

/// Held while the screen is drawn; a panic takes it for good, so that no
/// frame lands on the restored terminal after it.
pub static SCREEN: Mutex<()> = Mutex::new(());

/// A panic anywhere restores the terminal, then prints its message. A
/// panic off the main thread also ends the process: the TUI cannot go on
/// without its worker, and the terminal is no longer its own.
fn install_panic_hook() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Wait for a frame being drawn to finish (not for ever: the panic
        // may be the drawing thread's own), then keep the screen.
        let start = std::time::Instant::now();
        loop {
            match SCREEN.try_lock() {
                Ok(g) => {
                    std::mem::forget(g);
                    break;
                }
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    std::mem::forget(p.into_inner());
                    break;
                }
                Err(std::sync::TryLockError::WouldBlock)
                    if start.elapsed() < Duration::from_millis(300) =>
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(std::sync::TryLockError::WouldBlock) => break,
            }
        }
        restore_terminal();
        hook(info);
        if std::thread::current().name() != Some("main") {
            std::process::exit(101);
        }
    }));
}

/// A new private temporary file holding `text` (mode 0600, a name nobody
/// else can have chosen first).
pub fn private_temp(text: &str) -> io::Result<PathBuf> {
    let dir = std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let path = dir.join(format!("scrollback-{}.md", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&path)?;
    f.write_all(text.as_bytes())?;
    Ok(path)
}
