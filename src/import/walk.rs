//! The files an import reads: the files named, and the `.json`, `.jsonl`
//! and `.toon` files found under the folders named.
//!
//! Two things of ChatGPT's data export are read differently. A folder that
//! holds `conversations.json` or `conversations-NNN.json` as ChatGPT writes
//! them (the file says so, or `chat.html` or `user.json` lies beside it) is
//! an unpacked export: only those files are read, not its `user.json`,
//! `message_feedback.json`, images or subfolders (one note says so). A
//! `.zip` is read when named, and found in a folder only when it holds
//! `conversations*.json` (an export as downloaded); other zips are noted
//! as skipped.
//!
//! Every real folder is read once and every real file is imported once,
//! however many paths (symlinks, the same folder named twice) lead to it: a
//! symlink that leads back to a folder above it is a loop, reported as
//! skipped, never followed. Only regular files are read from folders (a fifo
//! named `x.json` would block the import forever). The walk keeps its own
//! stack, so a deep tree cannot overflow the thread's.

use std::collections::{HashMap, HashSet};
use std::fs::Metadata;
use std::path::{Path, PathBuf};

use super::PathNote;
use crate::error::Error;

/// A file to read.
#[derive(Debug, Clone)]
pub(super) struct Input {
    /// The path as met.
    pub path: PathBuf,
    /// Named by the user (not found in a folder): an empty one is an error,
    /// not something to skip.
    pub named: bool,
    /// The file's metadata when the walk met it.
    pub meta: Metadata,
    /// Its canonical path, when the walk knows it without asking (a file
    /// that is not a symlink, in a folder whose canonical path it took).
    pub canonical: Option<PathBuf>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// Files to read, in order: the named paths in their order, a folder's
    /// files sorted by path.
    pub files: Vec<Input>,
    /// Paths not read, and why.
    pub skipped: Vec<PathNote>,
    /// Paths that could not be read (a missing file, a folder without
    /// permission), with the error.
    pub failed: Vec<(PathBuf, Error)>,
}

/// What a file or folder is, whatever path leads to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    /// Device and inode.
    Inode(u64, u64),
    /// The canonical path, where there are no inodes.
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

#[cfg(unix)]
fn identity(meta: &Metadata, _path: &Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity::Inode(meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &Metadata, path: &Path) -> Identity {
    Identity::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// The files to import for `paths`.
pub(super) fn expand(paths: &[PathBuf]) -> Found {
    let mut walk = Walk::default();
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) => walk.found.failed.push((p.clone(), Error::io(p, e))),
            Ok(meta) if meta.is_dir() => walk.folder(p, &meta),
            Ok(meta) => walk.file(p, &meta, true, None),
        }
    }
    walk.found
}

/// What an import looks for in folders, for messages.
pub(super) const LOOKED_FOR: &str =
    ".json, .jsonl and .toon files, ChatGPT export zips and llm's logs.db";

/// True for the extensions an import looks for in folders.
fn is_session_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "jsonl" | "toon")
    )
}

/// The `llm` CLI's database, by its name (other SQLite files in a folder
/// are not sessions).
fn is_llm_db(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "logs.db")
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// The conversation files of a folder's entries when the folder is an
/// unpacked ChatGPT export: it holds regular files named
/// `conversations*.json`, and one of them reads as ChatGPT's or a file
/// only an export has lies beside them.
fn chatgpt_export(entries: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let conversations: Vec<PathBuf> = entries
        .iter()
        .filter(|p| super::chatgpt::is_conversations_name(&name(p)) && p.is_file())
        .cloned()
        .collect();
    if conversations.is_empty() {
        return None;
    }
    let beside = entries.iter().any(|p| {
        matches!(
            name(p).as_str(),
            "chat.html" | "user.json" | "message_feedback.json"
        )
    });
    let says = || {
        conversations
            .iter()
            .any(|p| matches!(super::detect(p), Ok(super::Format::ChatGpt)))
    };
    (beside || says()).then_some(conversations)
}

#[derive(Default)]
struct Walk {
    found: Found,
    /// Files read so far, with the first path that led to each.
    files: HashMap<Identity, PathBuf>,
    /// Folders read so far.
    folders: HashSet<Identity>,
}

/// A folder being read: what it is and the entries left.
struct Frame {
    id: Identity,
    entries: std::vec::IntoIter<Entry>,
    /// The folder's canonical path.
    canonical: Option<PathBuf>,
}

/// An entry of a folder, and whether it is a symlink (from the listing).
struct Entry {
    path: PathBuf,
    symlink: bool,
}

impl Walk {
    fn skip(&mut self, path: &Path, reason: impl Into<String>) {
        self.found.skipped.push(PathNote {
            path: path.display().to_string(),
            reason: reason.into(),
        });
    }

    fn file(&mut self, path: &Path, meta: &Metadata, named: bool, canonical: Option<PathBuf>) {
        let id = identity(meta, path);
        if let Some(first) = self.files.get(&id) {
            let reason = format!(
                "the same file as {} (a file is imported once)",
                first.display()
            );
            self.skip(path, reason);
            return;
        }
        self.files.insert(id, path.to_path_buf());
        self.found.files.push(Input {
            path: path.to_path_buf(),
            named,
            meta: meta.clone(),
            canonical,
        });
    }

    /// Reads a folder and every folder under it, depth first, in path order.
    fn folder(&mut self, root: &Path, meta: &Metadata) {
        let id = identity(meta, root);
        if !self.folders.insert(id.clone()) {
            self.skip(root, "a folder already read through another path");
            return;
        }
        let Some(entries) = self.listing(root) else {
            return;
        };
        let canonical = std::fs::canonicalize(root).ok();
        let mut stack = vec![Frame {
            id,
            entries,
            canonical,
        }];
        while let Some(top) = stack.last_mut() {
            let Some(Entry { path, symlink }) = top.entries.next() else {
                stack.pop();
                continue;
            };
            // One canonical path per folder, not one per file.
            let canonical = match (&top.canonical, symlink, path.file_name()) {
                (Some(dir), false, Some(name)) => Some(dir.join(name)),
                _ => None,
            };
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                    if link {
                        // A link to nothing, or to itself: nothing to read.
                        self.skip(&path, format!("a symlink that leads nowhere ({e})"));
                    } else if is_session_file(&path) {
                        self.found.failed.push((path.clone(), Error::io(&path, e)));
                    }
                    continue;
                }
            };
            if meta.is_dir() {
                let id = identity(&meta, &path);
                if stack.iter().any(|f| f.id == id) {
                    self.skip(
                        &path,
                        "a symlink loop: it leads back to a folder that holds it (not followed)",
                    );
                } else if !self.folders.insert(id.clone()) {
                    self.skip(&path, "a folder already read through another path");
                } else if let Some(entries) = self.listing(&path) {
                    let canonical = canonical.or_else(|| std::fs::canonicalize(&path).ok());
                    stack.push(Frame {
                        id,
                        entries,
                        canonical,
                    });
                }
            } else if is_session_file(&path) {
                if meta.is_file() {
                    self.file(&path, &meta, false, canonical);
                } else {
                    self.skip(&path, "not a regular file (a fifo, a socket or a device)");
                }
            } else if is_llm_db(&path) && meta.is_file() {
                self.file(&path, &meta, false, canonical);
            } else if is_zip(&path) && meta.is_file() {
                if super::chatgpt::is_export_zip(&path) {
                    self.file(&path, &meta, false, canonical);
                } else {
                    self.skip(
                        &path,
                        "a zip that is not a ChatGPT export (no conversations*.json in it)",
                    );
                }
            }
        }
    }

    /// The entries of a folder to walk, sorted. `None` when it cannot be read
    /// (a failure noted), or when it is an unpacked ChatGPT export: its
    /// conversation files are taken here and the rest is left out, noted.
    fn listing(&mut self, dir: &Path) -> Option<std::vec::IntoIter<Entry>> {
        let entries = self.entries(dir)?;
        let paths: Vec<PathBuf> = entries.as_slice().iter().map(|e| e.path.clone()).collect();
        let Some(conversations) = chatgpt_export(&paths) else {
            return Some(entries);
        };
        let others = entries.len() - conversations.len();
        for path in conversations {
            match std::fs::metadata(&path) {
                Ok(meta) => self.file(&path, &meta, false, None),
                Err(e) => self.found.failed.push((path.clone(), Error::io(&path, e))),
            }
        }
        if others > 0 {
            self.skip(
                dir,
                format!(
                    "a ChatGPT export: only its conversations*.json files are read \
                     ({others} other entries left out)"
                ),
            );
        }
        None
    }

    /// The entries of a folder, sorted; `None` (and a failure noted) when it
    /// cannot be read.
    fn entries(&mut self, dir: &Path) -> Option<std::vec::IntoIter<Entry>> {
        let read = std::fs::read_dir(dir).and_then(|entries| {
            entries
                .map(|e| {
                    e.map(|e| Entry {
                        path: e.path(),
                        // Unknown (an error) counts as a symlink: asked about later.
                        symlink: e.file_type().map_or(true, |t| t.is_symlink()),
                    })
                })
                .collect::<std::io::Result<Vec<_>>>()
        });
        match read {
            Ok(mut entries) => {
                entries.sort_by(|a, b| a.path.cmp(&b.path));
                Some(entries.into_iter())
            }
            Err(e) => {
                self.found
                    .failed
                    .push((dir.to_path_buf(), Error::io(dir, e)));
                None
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(found: &Found, root: &Path) -> Vec<String> {
        found
            .files
            .iter()
            .map(|i| {
                i.path
                    .strip_prefix(root)
                    .unwrap_or(&i.path)
                    .display()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn loops_are_skipped_and_files_read_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        std::fs::write(root.join("a/one.json"), "{}").expect("write");
        std::fs::write(root.join("a/b/two.jsonl"), "{}").expect("write");
        std::fs::write(root.join("a/b/notes.txt"), "x").expect("write");
        symlink(root.join("a"), root.join("a/b/up")).expect("link");
        symlink(".", root.join("a/self")).expect("link");
        symlink("one.json", root.join("a/same.json")).expect("link");
        symlink("gone.json", root.join("a/dangling.json")).expect("link");
        let found = expand(&[root.join("a"), root.join("a/one.json")]);
        assert_eq!(names(&found, root), ["a/b/two.jsonl", "a/one.json"]);
        assert!(found.failed.is_empty(), "{:?}", found.failed);
        let reasons: Vec<&str> = found.skipped.iter().map(|n| n.reason.as_str()).collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert_eq!(
            reasons
                .iter()
                .filter(|r| r.contains("symlink loop"))
                .count(),
            2,
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("leads nowhere")),
            "{reasons:?}"
        );
        assert_eq!(
            reasons.iter().filter(|r| r.contains("same file")).count(),
            2,
            "{reasons:?}"
        );
    }
}
