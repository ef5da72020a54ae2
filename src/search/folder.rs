//! The index folder: whose it is, which of its files are the index's, and
//! whether those files are intact.
//!
//! The folder carries a marker file that scrollback writes when it creates
//! the folder. A folder without the marker is taken only when it is empty or
//! when it can only be an index made before the marker existed (tantivy's
//! files and scrollback's version file, nothing else); anything else there
//! is someone's, and is refused: never written, never deleted. Inside a
//! marked folder, clearing removes only the files that tantivy or scrollback
//! write, one by one, never a folder.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tantivy::directory::error::LockError;
use tantivy::directory::{Directory, DirectoryLock, Lock, MmapDirectory};
use tantivy::index::SegmentComponent;
use tantivy::{Index, IndexMeta};

use crate::error::{Error, Result};
use crate::jobs::ProgressFn;

/// The marker: scrollback made this folder, and everything in it that has
/// the name of an index file is the index's.
pub const MARKER: &str = ".scrollback-index";
const MARKER_TEXT: &str = "scrollback search index 1\n\
    This folder is derived from the database beside it and is rebuilt from it when needed.\n";
/// The schema version of the index, written once the index is created.
pub const VERSION_FILE: &str = "scrollback-index-version";
/// Which files of the index were found intact, and as what (size, times).
const CHECKED: &str = ".scrollback-checked";
const WRITER_LOCK: &str = ".tantivy-writer.lock";
const META_LOCK: &str = ".tantivy-meta.lock";

fn not_ours(dir: &Path) -> Error {
    Error::NotAnIndex {
        dir: dir.to_path_buf(),
    }
}

/// Makes sure the folder at `dir` is the index's: creates it (with its
/// marker) when missing, marks it when it is empty or an index made before
/// the marker existed, and refuses anything else without touching it.
pub fn claim(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            crate::paths::create_private_dir(dir)?;
            return mark(dir);
        }
        Err(e) => return Err(Error::io(dir, e)),
        Ok(m) if !m.is_dir() => return Err(not_ours(dir)),
        Ok(_) => {}
    }
    if is_marked(dir) {
        return Ok(());
    }
    let mut index_files = false;
    let mut anything = false;
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let is_file = entry
            .file_type()
            .map_err(|e| Error::io(entry.path(), e))?
            .is_file();
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|_| is_file) else {
            return Err(not_ours(dir));
        };
        if name == MARKER {
            // Marked since the look above: another scrollback is making
            // this index right now.
            return Ok(());
        }
        if !(is_tantivys(name) || name == VERSION_FILE) {
            return Err(not_ours(dir));
        }
        index_files |= name == "meta.json" || name == VERSION_FILE;
        anything |= !is_lock_or_temp(name);
    }
    // Segment files without the meta.json that names them are no index.
    if anything && !index_files {
        return Err(not_ours(dir));
    }
    mark(dir)
}

fn is_marked(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
}

fn mark(dir: &Path) -> Result<()> {
    let path = dir.join(MARKER);
    fs::write(&path, MARKER_TEXT).map_err(|e| Error::io(path, e))
}

/// Files tantivy writes in an index folder: its meta files, its locks, the
/// temporary files of its atomic writes and the files of segments.
fn is_tantivys(name: &str) -> bool {
    matches!(name, "meta.json" | ".managed.json") || is_lock_or_temp(name) || is_segment_file(name)
}

fn is_lock_or_temp(name: &str) -> bool {
    let temp = name
        .strip_prefix(".tmp")
        .is_some_and(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    temp || name == WRITER_LOCK || name == META_LOCK
}

/// `<32 hex digits>.<component>`, `<32 hex digits>.<opstamp>.del`.
fn is_segment_file(name: &str) -> bool {
    let Some((id, ext)) = name.split_once('.') else {
        return false;
    };
    let id_ok = id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    id_ok
        && (matches!(
            ext,
            "idx" | "term" | "pos" | "store" | "fast" | "fieldnorm" | "store.temp"
        ) || ext.strip_suffix(".del").is_some_and(digits))
}

/// Files scrollback writes in the index folder.
fn is_scrollbacks(name: &str) -> bool {
    name == MARKER
        || name == VERSION_FILE
        || name == CHECKED
        || name
            .strip_prefix(CHECKED)
            .and_then(|r| r.strip_suffix(".tmp"))
            .is_some_and(|pid| pid.starts_with('.'))
}

/// Removes the index from a marked folder: every file tantivy or scrollback
/// wrote there but the marker and the lock files (which other processes may
/// hold). Anything else in the folder stays, and no folder is removed. The
/// version file goes first, so that a clear cut short leaves a folder the
/// next open rebuilds.
pub fn clear(dir: &Path) -> Result<()> {
    if !is_marked(dir) {
        return Err(not_ours(dir));
    }
    remove(&dir.join(VERSION_FILE))?;
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let keep = name == MARKER || name == WRITER_LOCK || name == META_LOCK;
        let file = entry.file_type().is_ok_and(|t| !t.is_dir());
        if !keep && file && (is_tantivys(name) || is_scrollbacks(name)) {
            remove(&entry.path())?;
        }
    }
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Takes the index writer's lock of a (marked) folder, waiting a while for
/// another process that holds it. Held, no other process writes the index;
/// dropped, it is free again.
pub fn lock(dir: &Path) -> Result<DirectoryLock> {
    let start = Instant::now();
    loop {
        if let Some(held) = try_lock(dir)? {
            return Ok(held);
        }
        if start.elapsed() > LOCK_WAIT {
            return Err(busy(dir));
        }
        std::thread::sleep(POLL);
    }
}

/// How long to wait for the writer's lock, and how often to try.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);
pub const POLL: Duration = Duration::from_millis(50);

/// The index writer's lock, or `None` when another process holds it.
pub fn try_lock(dir: &Path) -> Result<Option<DirectoryLock>> {
    let directory = MmapDirectory::open(dir).map_err(|e| Error::Index {
        dir: dir.to_path_buf(),
        detail: e.to_string(),
    })?;
    let lock = Lock {
        filepath: PathBuf::from(WRITER_LOCK),
        is_blocking: false,
    };
    match directory.acquire_lock(&lock) {
        Ok(held) => Ok(Some(held)),
        Err(LockError::LockBusy) => Ok(None),
        Err(LockError::IoError(e)) => Err(Error::io(
            dir.join(WRITER_LOCK),
            std::io::Error::new(e.kind(), e.to_string()),
        )),
    }
}

/// The index must be rebuilt and another process keeps it busy.
pub fn busy(dir: &Path) -> Error {
    Error::Index {
        dir: dir.to_path_buf(),
        detail: "it needs rebuilding and another scrollback process is writing it; \
                 try again once that one is done"
            .into(),
    }
}

/// Checks the files of the index's last commit against the checksums in
/// their footers; returns what is wrong, or `None` when all are intact.
/// Files found intact before and unchanged since (same size, times and
/// inode) are not read again unless `all`. `progress` sees bytes read.
pub fn verify(index: &Index, dir: &Path, all: bool, progress: &ProgressFn<'_>) -> Option<String> {
    let metas = match index.load_metas() {
        Ok(m) => m,
        Err(e) => return Some(format!("its meta.json cannot be read: {e}")),
    };
    let checked = if all {
        BTreeMap::new()
    } else {
        read_checked(dir)
    };
    let mut intact = BTreeMap::new();
    let mut todo = Vec::new();
    for file in live_files(&metas) {
        let Some(name) = file.to_str().map(str::to_owned) else {
            continue;
        };
        match fs::metadata(dir.join(&file)) {
            Ok(m) => {
                let stamp = stamp(&m);
                if checked.get(&name) == Some(&stamp) {
                    intact.insert(name, stamp);
                } else {
                    todo.push((name, stamp, m.len()));
                }
            }
            Err(_) if !still_live(index, &file) => {}
            Err(e) => return Some(format!("{name} cannot be read: {e}")),
        }
    }
    let total = todo.iter().map(|(_, _, len)| len).sum();
    let mut done = 0;
    for (name, stamp, len) in todo {
        match index.directory().validate_checksum(Path::new(&name)) {
            Ok(true) => {
                intact.insert(name, stamp);
            }
            Ok(false) => return Some(format!("{name} is damaged (its checksum does not match)")),
            // Replaced by another process's commit meanwhile: not damage.
            Err(_) if !still_live(index, Path::new(&name)) => {}
            Err(e) => return Some(format!("{name} cannot be read: {e}")),
        }
        done += len;
        progress(done, total);
    }
    if intact != checked {
        write_checked(dir, &intact);
    }
    None
}

/// The files of the segments of a commit that exist on disk.
fn live_files(metas: &IndexMeta) -> Vec<PathBuf> {
    let mut files = metas.list_segment_files();
    for segment in &metas.segments {
        if !segment.has_deletes() {
            files.remove(&segment.relative_path(SegmentComponent::Delete));
        }
    }
    let mut files: Vec<PathBuf> = files.into_iter().collect();
    files.sort();
    files
}

/// Whether the index's latest commit still uses `file` (another process may
/// have merged its segment away since the commit we read).
fn still_live(index: &Index, file: &Path) -> bool {
    index
        .load_metas()
        .map_or(true, |m| live_files(&m).iter().any(|f| f == file))
}

/// What a file is now, as far as a change to it would show.
fn stamp(m: &fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!(
            "{} {}.{:09} {}.{:09} {}",
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
            m.ino()
        )
    }
    #[cfg(not(unix))]
    {
        let modified = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        format!("{} {modified}", m.len())
    }
}

fn read_checked(dir: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(dir.join(CHECKED))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(name, stamp)| (name.to_owned(), stamp.to_owned()))
        .collect()
}

/// Best effort: without the record, files are only read again.
fn write_checked(dir: &Path, intact: &BTreeMap<String, String>) {
    if !is_marked(dir) {
        return;
    }
    let mut text = String::new();
    for (name, stamp) in intact {
        text.push_str(name);
        text.push('\t');
        text.push_str(stamp);
        text.push('\n');
    }
    let temp = dir.join(format!("{CHECKED}.{}.tmp", std::process::id()));
    if fs::write(&temp, text).is_err() || fs::rename(&temp, dir.join(CHECKED)).is_err() {
        let _ = fs::remove_file(&temp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_index() {
        for name in [
            "meta.json",
            ".managed.json",
            ".tantivy-writer.lock",
            ".tantivy-meta.lock",
            ".tmpA1b2C3",
            "0123456789abcdef0123456789abcdef.idx",
            "0123456789abcdef0123456789abcdef.fieldnorm",
            "0123456789abcdef0123456789abcdef.store.temp",
            "0123456789abcdef0123456789abcdef.12.del",
        ] {
            assert!(is_tantivys(name), "{name}");
        }
        for name in [
            "a.jpg",
            "photos",
            "meta.json.bak",
            ".tmp",
            ".tmpabcdefg",
            "0123456789ABCDEF0123456789abcdef.idx",
            "0123456789abcdef0123456789abcde.idx",
            "0123456789abcdef0123456789abcdef.jpg",
            "0123456789abcdef0123456789abcdef..del",
            "0123456789abcdef0123456789abcdef.x.del",
            MARKER,
            VERSION_FILE,
        ] {
            assert!(!is_tantivys(name), "{name}");
        }
        assert!(is_scrollbacks(".scrollback-checked.123.tmp"));
        assert!(!is_scrollbacks(".scrollback-checkedx.tmp"));
        assert!(!is_scrollbacks("notes.txt"));
    }
}
