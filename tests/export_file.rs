//! `export -o`: the one writer for the command line and the TUI. A new file
//! is private (0600, whatever the umask), an existing one keeps its mode, a
//! symlink is followed and stays a symlink, anything but a regular file is
//! refused, and a failed export leaves nothing behind.

#![allow(clippy::unwrap_used)]
#![cfg(unix)]

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

fn sb(dir: &Path) -> Command {
    let mut c = common::scrollback(dir);
    c.arg("--demo");
    c
}

fn export(dir: &Path, to: &Path) -> std::process::Output {
    sb(dir)
        .args(["export", "--all", "-o"])
        .arg(to)
        .output()
        .unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_file_is_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("all.json");
    // A permissive umask, as the shell would pass it on.
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_scrollback"))
        .args(["--demo", "export", "--all", "-o"])
        .arg(&to)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(mode(&to), 0o600);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&to).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 12);
}

#[test]
fn an_existing_file_keeps_its_mode_and_a_symlink_stays() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.json");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.json");
    symlink(&target, &link).unwrap();
    let out = export(dir.path(), &link);
    assert!(out.status.success(), "{out:?}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(mode(&target), 0o640);
    assert!(std::fs::read_to_string(&target).unwrap().starts_with('['));
    // Nothing left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn devices_fifos_and_folders_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    for to in [Path::new("/dev/null"), &fifo, &folder] {
        let before = std::fs::symlink_metadata(to).unwrap();
        let out = export(dir.path(), to);
        assert!(!out.status.success(), "{to:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("regular file"), "{err}");
        let after = std::fs::symlink_metadata(to).unwrap();
        assert_eq!(before.file_type(), after.file_type(), "{to:?}");
    }
}

#[test]
fn a_failed_export_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("missing").join("all.json");
    let out = export(dir.path(), &to);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    assert!(!dir.path().join("missing").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
