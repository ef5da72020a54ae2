//! What the integration tests share: the `scrollback` binary run with HOME
//! and the XDG folders inside a test's own directory, no scrollback
//! variables from the environment, and no stdin (so nothing waits for a
//! person).

#![allow(dead_code)] // each test file uses what it needs

pub mod import;

use std::path::Path;
use std::process::{Command, Stdio};

/// `scrollback`, isolated from the user's files and environment.
pub fn scrollback(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scrollback"));
    c.env_remove("SCROLLBACK_CONFIG")
        .env_remove("SCROLLBACK_DB")
        .env_remove("SCROLLBACK_DATA_DIR")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdin(Stdio::null());
    c
}

/// `scrollback --db DB`, isolated.
pub fn scrollback_on(home: &Path, db: &Path) -> Command {
    let mut c = scrollback(home);
    c.arg("--db").arg(db);
    c
}
