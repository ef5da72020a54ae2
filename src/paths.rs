//! Where scrollback keeps its files, and creating them private.
//!
//! The data directory follows the XDG base directory rules on Linux (and the
//! platform's conventions elsewhere): `$XDG_DATA_HOME/scrollback`, usually
//! `~/.local/share/scrollback`. The config file lives in
//! `$XDG_CONFIG_HOME/scrollback/config.toml`.

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use etcetera::BaseStrategy;

use crate::error::{Error, Result};

/// The default data directory.
pub fn default_data_dir() -> Option<PathBuf> {
    etcetera::choose_base_strategy()
        .ok()
        .map(|s| s.data_dir().join("scrollback"))
}

/// The default config file.
pub fn default_config_file() -> Option<PathBuf> {
    etcetera::choose_base_strategy()
        .ok()
        .map(|s| s.config_dir().join("scrollback").join("config.toml"))
}

/// Creates a directory and its missing parents; the ones created here get
/// mode 0700. Existing directories are left as they are.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dir(parent)?;
    }
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    match b.create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Makes sure `file` exists, creating it (and its directory) private: mode
/// 0600 for the file, 0700 for new directories. An existing file is untouched.
pub fn prepare_private_file(file: &Path) -> Result<()> {
    if let Some(dir) = file.parent() {
        create_private_dir(dir)?;
    }
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(file, e)),
    }
}

/// A path as a person types it: a leading `~` or `~/` is their home.
pub fn expand_tilde(typed: &str) -> PathBuf {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    if typed == "~" {
        return home().unwrap_or_else(|| PathBuf::from(typed));
    }
    match (typed.strip_prefix("~/"), home()) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(typed),
    }
}
