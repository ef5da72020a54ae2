//! The log: `tracing` events written to `scrollback.log` beside the
//! database, never to the terminal, so that a person can report what went
//! wrong. The file is rotated when it passes [`ROTATE_BYTES`] (one older
//! file, `scrollback.log.1`, is kept). The level comes from `-v` (info,
//! debug, trace) or the config's `log.level`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::Level;

/// Size at which the log is rotated.
pub const ROTATE_BYTES: u64 = 5 << 20;

/// What the config's `log.level` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Off,
    At(Level),
    Unknown,
}

/// Reads a `log.level` value.
pub fn level(name: &str) -> Setting {
    match name.trim().to_ascii_lowercase().as_str() {
        "off" => Setting::Off,
        "error" => Setting::At(Level::ERROR),
        "warn" => Setting::At(Level::WARN),
        "info" => Setting::At(Level::INFO),
        "debug" => Setting::At(Level::DEBUG),
        "trace" => Setting::At(Level::TRACE),
        _ => Setting::Unknown,
    }
}

/// Starts writing events at `level` and above to `dir/scrollback.log`.
/// A log that cannot be opened is not an error: the command runs without.
pub fn init(dir: &Path, level: Level) {
    let Ok(file) = Rotating::open(dir.join("scrollback.log")) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_max_level(level)
        .with_target(false)
        .try_init();
}

/// A log file that moves itself aside when it grows too large.
struct Rotating {
    path: PathBuf,
    file: File,
    size: u64,
}

impl Rotating {
    fn open(path: PathBuf) -> io::Result<Rotating> {
        let file = open_private(&path)?;
        let size = file.metadata()?.len();
        Ok(Rotating { path, file, size })
    }

    fn rotate(&mut self) -> io::Result<()> {
        let old = PathBuf::from(format!("{}.1", self.path.display()));
        std::fs::rename(&self.path, old)?;
        self.file = open_private(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for Rotating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size + buf.len() as u64 > ROTATE_BYTES {
            // Another process may have rotated it already: keep writing.
            let _ = self.rotate();
        }
        let n = self.file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
