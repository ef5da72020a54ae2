//! Importers: read the files other tools write and turn each session into a
//! [`SessionDoc`] for the store. Every importer streams its input, and a whole
//! `import` is one transaction: a bad file leaves nothing behind.
//!
//! Formats: scrollback's own JSON and JSONL (exact round trip of `export`),
//! and the session files of agent frameworks: one-JSON-file-per-session
//! (`session-file`), an SDK's session export (`sdk-export`), and `.toon`
//! session files (JSON or real TOON).

mod detect;
pub mod json;
mod native;
mod seed;
mod sharegpt;
pub mod toon;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::domain::SessionDoc;
use crate::error::{Error, Result};
use crate::jobs::{JobControl, ProgressFn};
use crate::store::{Added, ImportBatch, ImportOptions, ImportReport, Store};

pub use detect::detect;

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// scrollback JSON: one session object or an array of them.
    Json,
    /// scrollback JSON Lines: one session object per line.
    Jsonl,
    /// A session module's file: `{messages, metadata}`, named after the session.
    SessionFile,
    /// An orchestration SDK's session export: `{id, title, metadata, messages}`.
    SdkExport,
    /// A `.toon` session file: `{session_id, created_at, messages}` as JSON or TOON.
    Toon,
    /// ShareGPT: an array of `{id, conversations: [{from, value}]}`.
    ShareGpt,
}

impl Format {
    /// Every format, with its name.
    pub const ALL: [(Format, &'static str); 6] = [
        (Format::Json, "json"),
        (Format::Jsonl, "jsonl"),
        (Format::SessionFile, "session-file"),
        (Format::SdkExport, "sdk-export"),
        (Format::Toon, "toon"),
        (Format::ShareGpt, "sharegpt"),
    ];

    /// The format's name as given to `--format`.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("json", |(_, n)| n)
    }

    fn names() -> String {
        Self::ALL
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                Error::UnknownFormat(format!(
                    "unknown format {s:?}; expected one of {}",
                    Self::names()
                ))
            })
    }
}

/// What to import and how.
pub struct ImportRequest<'a> {
    /// Files, or directories to search for `.json`, `.jsonl` and `.toon` files.
    pub paths: &'a [PathBuf],
    /// The format of every file; detected per file when `None`.
    pub format: Option<Format>,
    /// Id handling.
    pub options: ImportOptions,
    /// Import the complete sessions of a truncated file instead of failing.
    pub partial: bool,
    /// Called with (bytes read, total bytes).
    pub progress: &'a ProgressFn<'a>,
    /// Cancellation.
    pub control: &'a JobControl,
}

/// Imports every file of the request in one transaction: all of it or, on
/// any error, none of it.
pub fn import_paths(store: &mut Store, req: &ImportRequest<'_>) -> Result<ImportReport> {
    let mut batch = store.begin_import(req.options)?;
    read_into(&mut batch, req, &mut |_, _| Ok(()))?;
    batch.commit()
}

/// Called after each session an import writes, with the batch (to read it
/// back inside the transaction) and what was written.
pub type OnAdded<'f> = dyn FnMut(&ImportBatch<'_>, Added) -> Result<()> + 'f;

/// Reads every file of the request into `batch`, calling `on_added` after
/// each session is written. The caller commits (or drops) the batch.
pub fn read_into(
    batch: &mut ImportBatch<'_>,
    req: &ImportRequest<'_>,
    on_added: &mut OnAdded<'_>,
) -> Result<()> {
    let files = expand(req.paths)?;
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let mut done = 0u64;
    for file in &files {
        let format = match req.format {
            Some(f) => f,
            None => detect(file)?,
        };
        let base = done;
        let progress = |n: u64| (req.progress)(base + n, total);
        let counting = Counting {
            inner: open(file)?,
            read: 0,
            report: &progress,
        };
        let reader = BufReader::with_capacity(1 << 18, counting);
        match import_file(batch, file, format, reader, req.control, on_added) {
            Err(e @ Error::Truncated { .. }) if req.partial => {
                batch.report_mut().truncated = Some(e.to_string());
            }
            other => other?,
        }
        done += std::fs::metadata(file).map_or(0, |m| m.len());
        (req.progress)(done, total);
        batch.report_mut().files += 1;
    }
    Ok(())
}

/// Where a reader delivers what it reads.
pub(crate) trait Sink {
    /// One whole session.
    fn session(&mut self, doc: SessionDoc) -> Result<()>;
    /// Messages or items of unknown kinds that were left out.
    fn skipped(&mut self, n: u64);
}

/// Delivers into an import batch, naming the file and session on errors.
struct BatchSink<'b, 'a> {
    batch: &'b mut ImportBatch<'a>,
    path: &'b Path,
    control: &'b JobControl,
    on_added: &'b mut OnAdded<'b>,
    index: u64,
}

impl Sink for BatchSink<'_, '_> {
    fn session(&mut self, doc: SessionDoc) -> Result<()> {
        self.control.check()?;
        self.index += 1;
        let name = doc.name.clone().unwrap_or_default();
        let added = self
            .batch
            .add(doc)
            .map_err(|e| in_session(self.path, self.index, &name, e))?;
        match added {
            Some(a) => (self.on_added)(self.batch, a),
            None => Ok(()),
        }
    }

    fn skipped(&mut self, n: u64) {
        self.batch.report_mut().skipped += n;
    }
}

fn import_file<R: BufRead>(
    batch: &mut ImportBatch<'_>,
    path: &Path,
    format: Format,
    reader: R,
    control: &JobControl,
    on_added: &mut OnAdded<'_>,
) -> Result<()> {
    let sink = &mut BatchSink {
        batch,
        path,
        control,
        on_added,
        index: 0,
    };
    match format {
        Format::Json => native::read_json(path, reader, sink),
        Format::Jsonl => native::read_jsonl(path, reader, sink),
        Format::SessionFile => seed::read_session_file(path, reader, sink),
        Format::SdkExport => seed::read_sdk_export(path, reader, sink),
        Format::Toon => seed::read_toon(path, reader, sink),
        Format::ShareGpt => sharegpt::read(path, reader, sink),
    }
}

/// Wraps an error raised while storing session `index` of `path` so that it
/// names the file and the session.
fn in_session(path: &Path, index: u64, name: &str, e: Error) -> Error {
    match e {
        e @ (Error::Parse { .. } | Error::Cancelled | Error::Io { .. } | Error::Sqlite(_)) => e,
        e => Error::Parse {
            path: path.to_path_buf(),
            location: if name.is_empty() {
                format!("session {index}")
            } else {
                format!("session {index} ({name:?})")
            },
            reason: e.to_string(),
        },
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

/// Files named directly, plus `.json`, `.jsonl` and `.toon` files found under
/// directories (sorted, so imports are repeatable).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("json" | "jsonl" | "toon")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// A reader that reports how many bytes went through it.
struct Counting<'a, R> {
    inner: R,
    read: u64,
    report: &'a dyn Fn(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let before = self.read >> 20;
        self.read += n as u64;
        if self.read >> 20 != before {
            (self.report)(self.read);
        }
        Ok(n)
    }
}

/// The file's stem as a session name: control characters and slashes
/// replaced, cut to the name limit.
pub(crate) fn name_from_path(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    clean_name(&stem)
}

/// Makes a valid session name out of any text (empty input gives "session").
pub(crate) fn clean_name(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c == '/' || c.is_control() { '-' } else { c })
        .take(crate::domain::names::MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        "session".to_string()
    } else {
        cleaned
    }
}
