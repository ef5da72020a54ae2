//! Importers: read the files other tools write and turn each session into a
//! [`SessionDoc`] for the store. Every importer streams its input.
//!
//! Each file is imported in a transaction of its own: a bad file leaves
//! nothing of it behind, and in an import of several files the other files
//! are imported all the same (see [`import_paths`]). Between two files other
//! writers (`scrollback add`, the TUI) get the database.
//!
//! Formats: scrollback's own JSON and JSONL (exact round trip of `export`),
//! and the session files of agent frameworks: one-JSON-file-per-session
//! (`session-file`), an SDK's session export (`sdk-export`), and `.toon`
//! session files (JSON or real TOON).

mod chatgpt;
mod claude;
mod codex;
mod detect;
mod gemini;
pub mod ids;
pub mod json;
mod llm;
mod native;
mod openwebui;
mod seed;
mod sharegpt;
pub mod stash;
pub mod toon;
pub mod tree;
mod walk;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::domain::{MessageDoc, SessionDoc};
use crate::error::{Error, Result};
use crate::jobs::{JobControl, ProgressFn};
use crate::store::{
    Added, FileReport, FileState, ImportBatch, ImportOptions, ImportReport, OutboxSpan, Store,
};

pub use detect::detect;

/// A file (or folder) an import did not import, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathNote {
    /// The path as met (under the folder it was found in).
    pub path: String,
    /// Why: "empty", "a symlink loop: ...", or the error, naming the file,
    /// the place in it and what was expected.
    pub reason: String,
}

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
    /// Claude Code: a project folder's `<session>.jsonl` files and subagent transcripts.
    ClaudeCode,
    /// OpenAI Codex CLI rollout files (both generations).
    Codex,
    /// A ChatGPT data export: the zip, `conversations.json` or `conversations-NNN.json`.
    ChatGpt,
    /// The `llm` CLI's logs.db (SQLite, either schema or both).
    Llm,
    /// An Open WebUI export: an array of chat rows, or one bare chat.
    OpenWebUi,
    /// Gemini CLI session files (the JSONL log, or the older single JSON).
    Gemini,
    /// scrollback's own archive files (`.sbz`, written by `archive --to`).
    Archive,
}

impl Format {
    /// Every format, with its name.
    pub const ALL: [(Format, &'static str); 13] = [
        (Format::ClaudeCode, "claude-code"),
        (Format::Codex, "codex"),
        (Format::Gemini, "gemini"),
        (Format::ChatGpt, "chatgpt"),
        (Format::Llm, "llm"),
        (Format::OpenWebUi, "open-webui"),
        (Format::ShareGpt, "sharegpt"),
        (Format::Json, "json"),
        (Format::Jsonl, "jsonl"),
        (Format::SessionFile, "session-file"),
        (Format::SdkExport, "sdk-export"),
        (Format::Toon, "toon"),
        (Format::Archive, "sbz"),
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
    /// Take the paths as found in a folder, not named: a file that holds
    /// no session of a known tool is noted and left, not an error (what a
    /// sync of the files that changed in a tool's folder wants).
    pub found: bool,
    /// Called with (bytes read, total bytes).
    pub progress: &'a ProgressFn<'a>,
    /// Cancellation.
    pub control: &'a JobControl,
}

/// Imports every file of the request, each file in a transaction of its
/// own: a file is all or nothing, and a file that fails does not keep the
/// others out.
///
/// When some files fail, the others are imported and the result is
/// [`Error::SomeFilesFailed`], whose report lists each failure with its
/// reason; when the only file fails, its own error. Errors of the store
/// itself (busy, damaged, cancelled) stop the import at once: the files
/// imported before stay, and running the same import again adds only the rest.
pub fn import_paths(store: &mut Store, req: &ImportRequest<'_>) -> Result<ImportReport> {
    import_each(store, req, &mut |_, _| Ok(()))?.finish()
}

/// Called after each session an import writes, with the batch (to read it
/// back inside the transaction) and what was written.
pub type OnAdded<'f> = dyn FnMut(&ImportBatch<'_>, Added) -> Result<()> + 'f;

/// What [`import_each`] did.
#[derive(Debug)]
pub struct ImportRun {
    /// What was imported, skipped and what failed.
    pub report: ImportReport,
    /// The outbox rows of the files committed (consecutive ones merged).
    pub spans: Vec<OutboxSpan>,
    /// True when a file failed after `on_added` had been called for some of
    /// its sessions: those sessions are not in the store, so whatever the
    /// caller did with them must be undone.
    pub discarded: bool,
    /// The error of the only file, when there was one file and it failed.
    only: Option<Error>,
}

impl ImportRun {
    /// The report, or the error when some files failed (see [`import_paths`]).
    pub fn finish(self) -> Result<ImportReport> {
        match self.only {
            Some(e) => Err(e),
            None if self.report.failed.is_empty() => Ok(self.report),
            None => Err(Error::SomeFilesFailed(Box::new(self.report))),
        }
    }
}

/// After holding the write lock this long over several files, an import
/// pauses for [`PAUSE`] before the next file, so that a writer waiting for
/// the lock gets it: SQLite's busy handler tries again every 100 ms, and
/// the moment between two files is far shorter than that.
const LOCK_SHARE: Duration = Duration::from_secs(2);
const PAUSE: Duration = Duration::from_millis(150);

/// Imports the files of the request one transaction each, calling
/// `on_added` after each session is written (inside its file's
/// transaction). Failed files are in the report; call [`ImportRun::finish`]
/// for the outcome.
pub fn import_each(
    store: &mut Store,
    req: &ImportRequest<'_>,
    on_added: &mut OnAdded<'_>,
) -> Result<ImportRun> {
    let mut found = walk::expand(req.paths);
    if req.found {
        for f in &mut found.files {
            f.named = false;
        }
    }
    let mut attempted = found.files.len() + found.failed.len();
    let mut failures = found.failed;
    let mut run = ImportRun {
        report: ImportReport {
            skipped_files: found.skipped,
            ..ImportReport::default()
        },
        spans: Vec::new(),
        discarded: false,
        only: None,
    };
    // Many files (a sync of a tool's folder): what was remembered of them
    // is read in one query, not one per file.
    let known_files = (found.files.len() >= MANY_FILES && !req.options.reread)
        .then(|| store.import_file_states())
        .transpose()?;
    let size = |i: &walk::Input| i.meta.len();
    let total: u64 = found.files.iter().map(size).sum();
    let mut done = 0u64;
    let mut held = Duration::ZERO;
    for (i, input) in found.files.iter().enumerate() {
        req.control.check()?;
        let started = Instant::now();
        let mut touched = false;
        let state = (!req.options.new_id).then(|| state_of(input)).flatten();
        let prev = match (&state, req.options.reread, &known_files) {
            (Some(now), false, Some(all)) => all.get(&now.path).cloned(),
            (Some(now), false, None) => store.import_file_state(&now.path)?,
            _ => None,
        };
        let known = unchanged(prev.as_ref(), state.as_ref(), req.format);
        let known = known.filter(|k| !(k.format == NOT_SESSIONS && input.named));
        if let Some(prev) = known {
            run.report.files_unchanged += 1;
            done += size(input);
            if prev.format == NOT_SESSIONS {
                (req.progress)(done, total);
                continue;
            }
            run.report.per_file.push(FileReport {
                path: input.path.display().to_string(),
                format: prev.format,
                unchanged_file: true,
                ..FileReport::default()
            });
            (req.progress)(done, total);
            continue;
        }
        // In a folder, a file no importer recognises (a tool's settings, its
        // prompt history, an index) is noted and left, not an error: the
        // folder is the tool's, not all of it sessions. Named, it is an error.
        let tail = prev
            .as_ref()
            .and_then(|p| tail_of(&input.path, p, state.as_ref(), req.format));
        let detected = match req.format {
            Some(_) => None,
            None if input.named || tail.is_some() => None,
            None => Some(detect(&input.path)),
        };
        if let Some(Err(Error::UnknownFormat(why))) = &detected {
            let seen = why
                .split_once("cannot tell which tool wrote this file ")
                .and_then(|(_, rest)| rest.split("; pass --format").next())
                .unwrap_or_default();
            run.report.skipped_files.push(PathNote {
                path: input.path.display().to_string(),
                reason: format!("not a session file of a tool scrollback reads {seen}"),
            });
            // Remembered, so that the next import of the folder does not
            // open it again while it stays as it is.
            if let Some(st) = &state {
                store.remember_file(&FileState {
                    format: NOT_SESSIONS.into(),
                    mtime_ns: if settled(st) { st.mtime_ns } else { 0 },
                    ..st.clone()
                })?;
            }
            attempted -= 1;
            done += size(input);
            (req.progress)(done, total);
            continue;
        }
        let file = FileInput {
            input,
            state: state.as_ref(),
            format: detected.and_then(Result::ok),
            tail,
            since: prev.as_ref().and_then(|p| since_of(p, state.as_ref())),
            sessions_before: prev.as_ref().map_or(0, |p| p.sessions),
        };
        match import_file(store, req, &file, done, total, on_added, &mut touched) {
            Ok(Some((report, span))) => {
                run.report.merge(report);
                run.report.files += 1;
                match run.spans.last_mut() {
                    Some(last) if last.upto == span.after => last.upto = span.upto,
                    _ if span.upto > span.after => run.spans.push(span),
                    _ => {}
                }
            }
            Ok(None) => {
                run.report.empty_files += 1;
                run.report.skipped_files.push(PathNote {
                    path: input.path.display().to_string(),
                    reason: "empty".into(),
                });
            }
            Err(e) if stops_the_import(&e) => return Err(e),
            Err(e) => {
                run.discarded |= touched;
                failures.push((input.path.clone(), e));
            }
        }
        done += size(input);
        (req.progress)(done, total);
        held += started.elapsed();
        if held >= LOCK_SHARE && i + 1 < found.files.len() {
            std::thread::sleep(PAUSE);
            held = Duration::ZERO;
        }
    }
    // A folder named that gave no session file is more likely the wrong
    // folder than nothing to do.
    for p in req.paths.iter().filter(|_| !req.found) {
        let read_any = run
            .report
            .per_file
            .iter()
            .any(|f| Path::new(&f.path).starts_with(p))
            || failures.iter().any(|(f, _)| f.starts_with(p));
        if read_any || !std::fs::metadata(p).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let left: Vec<String> = run
            .report
            .skipped_files
            .iter()
            .filter(|n| Path::new(&n.path).starts_with(p))
            .map(|n| {
                Path::new(&n.path)
                    .file_name()
                    .map_or_else(|| n.path.clone(), |f| f.to_string_lossy().into_owned())
            })
            .collect();
        let others = match left.len() {
            0 => String::new(),
            1..=3 => format!("; left as not sessions: {}", left.join(", ")),
            n => format!(
                "; left as not sessions: {} and {} more",
                left[..3].join(", "),
                n - 3
            ),
        };
        failures.push((
            p.clone(),
            Error::Parse {
                path: p.clone(),
                location: "the whole folder".into(),
                reason: format!(
                    "no session files in it (looked for {}){others}",
                    walk::LOOKED_FOR
                ),
            },
        ));
        attempted += 1;
    }
    run.report.failed = failures
        .iter()
        .map(|(path, e)| PathNote {
            path: path.display().to_string(),
            reason: naming(path, e),
        })
        .collect();
    if attempted == 1 && failures.len() == 1 {
        run.only = failures.pop().map(|(_, e)| e);
    }
    Ok(run)
}

/// Errors of the store, the index or the job rather than of a file: the
/// import stops, since the next files would meet them too. Anything not
/// known to be the file's fault is taken for such an error.
pub(crate) fn stops_the_import(e: &Error) -> bool {
    match e {
        Error::Parse { .. }
        | Error::Truncated { .. }
        | Error::UnknownFormat(_)
        | Error::Io { .. }
        | Error::Invalid { .. }
        | Error::MessageTooLarge { .. }
        | Error::NameTaken(_)
        | Error::NotFound(_)
        | Error::Ambiguous { .. }
        | Error::Json(_) => false,
        // A constraint the file's data breaks (a duplicate, a bad parent).
        Error::Sqlite(s) => s.sqlite_error_code() != Some(rusqlite::ErrorCode::ConstraintViolation),
        _ => true,
    }
}

/// The error's text, starting with the file when the error does not name it.
fn naming(path: &Path, e: &Error) -> String {
    let text = e.to_string();
    let name = path.display().to_string();
    if text.contains(&name) {
        text
    } else {
        format!("{name}: {text}")
    }
}

/// A file to import, and what it was like before it was read.
struct FileInput<'a> {
    input: &'a walk::Input,
    state: Option<&'a FileState>,
    /// The format, when already detected.
    format: Option<Format>,
    /// Where to go on reading, when the file is a log that only grew.
    tail: Option<(Format, TailPoint)>,
    /// For llm's logs.db, the same file as last read: where that read
    /// stopped (the database is read from there, not the bytes).
    since: Option<TailPoint>,
    /// Sessions the file gave on its last read.
    sessions_before: u64,
}

/// What the files an import of `paths` looks at are now (the files named,
/// and the files found in the folders named, not yet told apart by their
/// content), from the walk's own look at them: no file is opened.
pub fn file_states_under(paths: &[PathBuf]) -> Vec<FileState> {
    walk::expand(paths)
        .files
        .iter()
        .filter_map(state_of)
        .collect()
}

/// Whether a file changed since an import remembered it as `prev`: a log
/// read up to its end that has not grown since has not.
pub fn changed_since(prev: &FileState, now: &FileState) -> bool {
    if prev.file_id != now.file_id {
        return true;
    }
    if prev.size == now.size && prev.mtime_ns == now.mtime_ns {
        return false;
    }
    let point: Option<TailPoint> = prev
        .tail
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    point.is_none_or(|p| p.upto != now.size)
}

/// What a file the walk met is now, to compare with what an import
/// remembered: `None` for what is not a regular file (a pipe can change
/// without a trace).
fn state_of(input: &walk::Input) -> Option<FileState> {
    let meta = &input.meta;
    if !meta.is_file() {
        return None;
    }
    let canonical = match &input.canonical {
        Some(c) => c.clone(),
        None => std::fs::canonicalize(&input.path).ok()?,
    };
    let mtime_ns = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())?;
    let mut file_id = identity(meta);
    // A SQLite file written in WAL mode changes in its log first (a
    // session file of another kind has no log to look for).
    let mut wal = canonical.clone().into_os_string();
    wal.push("-wal");
    let text = matches!(
        canonical.extension().and_then(|e| e.to_str()),
        Some("json" | "jsonl" | "toon")
    );
    if let Some(w) = (!text).then(|| std::fs::metadata(&wal).ok()).flatten() {
        let at = w
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        file_id.push_str(&format!(";wal {} {at}", w.len()));
    }
    Some(FileState {
        path: canonical.to_string_lossy().into_owned(),
        format: String::new(),
        size: meta.len(),
        mtime_ns,
        file_id,
        tail: None,
        sessions: 0,
    })
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!("{}:{}", meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> String {
    String::new()
}

/// The remembered state of a file that has not changed since its last
/// import (same identity, size and time, read as the same format).
fn unchanged(
    prev: Option<&FileState>,
    now: Option<&FileState>,
    format: Option<Format>,
) -> Option<FileState> {
    let (prev, now) = (prev?, now?);
    let same = prev.size == now.size
        && prev.mtime_ns == now.mtime_ns
        && prev.file_id == now.file_id
        && format.is_none_or(|f| f.name() == prev.format);
    same.then(|| prev.clone())
}

/// Where the last read of llm's logs.db stopped, when it is the same file
/// (its journal aside).
fn since_of(prev: &FileState, now: Option<&FileState>) -> Option<TailPoint> {
    let file = |id: &str| id.split(';').next().unwrap_or_default().to_string();
    let same = prev.format == Format::Llm.name()
        && now.is_some_and(|n| file(&n.file_id) == file(&prev.file_id));
    same.then(|| serde_json::from_str(prev.tail.as_deref()?).ok())
        .flatten()
}

/// Where to go on reading a log that only grew since its last read: the
/// same file (identity), at least as long as what was read, and the bytes
/// before the read point as they were.
fn tail_of(
    path: &Path,
    prev: &FileState,
    now: Option<&FileState>,
    format: Option<Format>,
) -> Option<(Format, TailPoint)> {
    let now = now?;
    let point: TailPoint = serde_json::from_str(prev.tail.as_deref()?).ok()?;
    let log = LOGS.into_iter().find(|f| f.name() == prev.format)?;
    let same = prev.file_id == now.file_id
        && now.size >= point.upto
        && format.is_none_or(|f| f == log)
        && !point.guard.is_empty();
    (same && guard_at(path, point.upto).ok()? == point.guard).then_some((log, point))
}

/// A file modified this recently may still be being written within the
/// same tick of its clock: it is not remembered, and the next import reads
/// it again (what the store has is recognised, nothing is doubled).
const SETTLED: Duration = Duration::from_secs(2);

fn settled(state: &FileState) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let settled = i64::try_from(SETTLED.as_nanos()).unwrap_or(i64::MAX);
    now.saturating_sub(state.mtime_ns) >= settled
}

/// Imports one file in one transaction. `None` for an empty file found in a
/// folder (an empty file named by the user is an error).
fn import_file(
    store: &mut Store,
    req: &ImportRequest<'_>,
    file: &FileInput<'_>,
    base: u64,
    total: u64,
    on_added: &mut OnAdded<'_>,
    touched: &mut bool,
) -> Result<Option<(ImportReport, OutboxSpan)>> {
    let input = file.input;
    let path = input.path.as_path();
    let progress = |n: u64| (req.progress)(base + n, total);
    if let Some((log, point)) = &file.tail
        && let Some(done) =
            import_tail(store, req, file, *log, point, &progress, on_added, touched)?
    {
        return Ok(Some(done));
    }
    if is_blank(path)? {
        if input.named {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                location: "empty".into(),
                reason: "no sessions in it".into(),
            });
        }
        return Ok(None);
    }
    let format = match req.format.or(file.format) {
        Some(f) => f,
        None => detect(path)?,
    };
    let bytes = std::cell::Cell::new(0);
    let counting = Counting {
        inner: open(path)?,
        read: &bytes,
        report: &progress,
    };
    let reader = BufReader::with_capacity(1 << 18, counting);
    let mut batch = store.begin_import(req.options)?;
    let mut sink = BatchSink::new(&mut batch, path, req.control, on_added, touched, None);
    let mut went_on = false;
    let read = match (format, &file.since) {
        (Format::Llm, Some(point)) => {
            llm::read_since(path, &mut sink, Some(point)).map(|on| went_on = on)
        }
        _ => read_file(&mut sink, path, format, reader),
    };
    let sessions = sink.index;
    let sink_point = sink.point.take();
    batch.report_mut().bytes_read += bytes.get();
    batch.report_mut().read_on += u64::from(went_on);
    match read {
        Err(e @ Error::Truncated { .. }) if req.partial => {
            batch.report_mut().truncated = Some(e.to_string());
        }
        other => other?,
    }
    if sessions == 0 && input.named && !went_on && batch.report_mut().truncated.is_none() {
        // A file given by name that holds no session (`[]`, an object
        // with nothing in it) is more likely the wrong file than a no-op.
        return Err(Error::Parse {
            path: path.to_path_buf(),
            location: "the whole file".into(),
            reason: "no sessions in it".into(),
        });
    }
    // A file cut short (taken with --partial) is remembered too: when it
    // grows, its size tells, and it is read again.
    let point = sink_point.filter(|_| LOGS.contains(&format) || format == Format::Llm);
    // Read on from a point, the file's other sessions were not read: they
    // are as they were.
    let sessions = went_on.then(|| {
        let r = batch.report_mut();
        let before = file.sessions_before;
        r.sessions_unchanged += before.saturating_sub(r.sessions_grown + r.sessions_unchanged);
        before + r.sessions_added
    });
    finish_file(batch, path, file.state, format, point, sessions).map(Some)
}

/// Remembers the file and what its read brought, and commits.
fn finish_file(
    mut batch: ImportBatch<'_>,
    path: &Path,
    state: Option<&FileState>,
    format: Format,
    point: Option<TailPoint>,
    sessions: Option<u64>,
) -> Result<(ImportReport, OutboxSpan)> {
    let r = batch.report_mut();
    let sessions = sessions.unwrap_or(r.sessions_added + r.sessions_grown + r.sessions_unchanged);
    if let Some(state) = state {
        let tail = match point {
            Some(mut p) => {
                p.guard = guard_at(path, p.upto)?;
                serde_json::to_string(&p).ok()
            }
            None => None,
        };
        // A file just written is remembered without its time, so that the
        // next import looks at it again: a change within the same tick of
        // the clock leaves no trace in the time (a log is then read on from
        // where this read stopped; another file is read whole).
        let settled = settled(state);
        batch.remember_file(&FileState {
            format: format.name().to_string(),
            mtime_ns: if settled { state.mtime_ns } else { 0 },
            tail,
            sessions,
            ..state.clone()
        })?;
    }
    let r = batch.report_mut();
    let file_report = FileReport {
        path: path.display().to_string(),
        format: format.name().to_string(),
        unchanged_file: false,
        sessions_new: r.sessions_added,
        branches: r.branches_added,
        sessions_grown: r.sessions_grown,
        sessions_unchanged: r.sessions_unchanged,
        messages: r.messages_added,
        skipped: r.skipped_items.clone(),
    };
    r.per_file.push(file_report);
    batch.commit_with_span()
}

/// Reads on from where the last read of a log stopped, in one transaction,
/// when what follows continues the session stored from it. `None` when it
/// does not (a rewind, a new branch, the session changed in the store):
/// nothing is written, and the caller reads the whole file.
#[allow(clippy::too_many_arguments)] // the file, where to go on, and the import's own
fn import_tail(
    store: &mut Store,
    req: &ImportRequest<'_>,
    file: &FileInput<'_>,
    format: Format,
    point: &TailPoint,
    progress: &dyn Fn(u64),
    on_added: &mut OnAdded<'_>,
    touched: &mut bool,
) -> Result<Option<(ImportReport, OutboxSpan)>> {
    use std::io::{Seek, SeekFrom};
    let path = file.input.path.as_path();
    let mut f = open(path)?;
    f.seek(SeekFrom::Start(point.upto))
        .map_err(|e| Error::io(path, e))?;
    let bytes = std::cell::Cell::new(0);
    let counting = Counting {
        inner: f,
        read: &bytes,
        report: &|n| progress(point.upto + n),
    };
    let reader = BufReader::with_capacity(1 << 16, counting);
    let mut batch = store.begin_import(req.options)?;
    let continues = Some(point.last_source.clone());
    let mut sink = BatchSink::new(&mut batch, path, req.control, on_added, touched, continues);
    let read = match format {
        Format::Codex => codex::read_tail(path, reader, &mut sink, point),
        _ => claude::read_tail(path, reader, &mut sink, point),
    };
    let went_on = match read {
        Ok(went_on) => went_on,
        Err(e) if stops_the_import(&e) => return Err(e),
        // Whatever is wrong with the new lines, the whole read says it
        // with the place in the file.
        Err(_) => false,
    };
    let (mismatch, next) = (sink.mismatch, sink.point.take());
    if !went_on || mismatch {
        return Ok(None);
    }
    let r = batch.report_mut();
    r.read_on += 1;
    r.bytes_read += bytes.get();
    finish_file(
        batch,
        path,
        file.state,
        format,
        next,
        Some(file.sessions_before),
    )
    .map(Some)
}

/// True when the file holds nothing but white space (or nothing at all).
/// Only a regular file is looked at: a pipe (`<(...)`) can be read once.
fn is_blank(path: &Path) -> Result<bool> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(false);
    }
    let mut file = open(path)?;
    let mut buf = [0u8; 8192];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(true);
        }
        if !buf[..n].iter().all(u8::is_ascii_whitespace) {
            return Ok(false);
        }
    }
}

/// Where a reader delivers what it reads.
pub(crate) trait Sink {
    /// One whole session.
    fn session(&mut self, doc: SessionDoc) -> Result<()>;
    /// `n` items left out: `what` names them (`line type "progress"`,
    /// `content block "document"`), `reason` says why. Counted per file in
    /// the import's report; never silent.
    fn skip(&mut self, what: &str, reason: &str, n: u64);
    /// Where the importer sets large messages aside while it reads on (see
    /// [`stash`]); sessions holding stand-ins are delivered in slices.
    fn stash(&mut self) -> &mut stash::Stash;
    /// For an append-only log read to its end: where the next read of the
    /// file can start, if it only grew.
    fn resume_point(&mut self, _point: TailPoint) {}
}

/// Where a later read of an append-only log can go on from: the session the
/// log holds and what the importer needs to tell that the new lines
/// continue it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TailPoint {
    /// Bytes of the file read, up to the end of a complete line.
    pub upto: u64,
    /// Lines read (the next read numbers its lines from there).
    #[serde(default)]
    pub lines: u64,
    /// Hash of the bytes (at most [`GUARD_BYTES`]) before `upto`, taken
    /// when the point was saved: a file rewritten in place is read whole.
    #[serde(default)]
    pub guard: String,
    /// The session's source reference.
    pub source_ref: String,
    /// Source id of its last message: the store must still end there.
    pub last_source: String,
    /// The id of the last line read (what the next line names as parent).
    pub line: String,
    /// The format's own: for Claude Code, the API id of the last reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The last calls made (id, tool name), whose results may follow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<(String, String)>,
    /// For Claude Code: the lines the session's last node holds (new lines
    /// may hang off any of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaf: Vec<String>,
    /// The format's own state (for Codex, what its reader holds but the
    /// messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<serde_json::Value>,
}

/// The formats whose files are logs that a read can go on from.
const LOGS: [Format; 2] = [Format::ClaudeCode, Format::Codex];

/// From this many files on, an import reads what it remembered of every
/// file at once.
const MANY_FILES: usize = 64;

/// The format remembered for a file found in a folder that holds no
/// session of a known tool.
const NOT_SESSIONS: &str = "none";

/// How much of a log before its read point is hashed (see [`TailPoint::guard`]).
const GUARD_BYTES: u64 = 4096;

/// Hash of the `GUARD_BYTES` before `upto` in the file.
fn guard_at(path: &Path, upto: u64) -> Result<String> {
    use std::io::{Seek, SeekFrom};
    let mut f = open(path)?;
    let from = upto.saturating_sub(GUARD_BYTES);
    f.seek(SeekFrom::Start(from))
        .map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::with_capacity(usize::try_from(upto - from).unwrap_or(0));
    f.take(upto - from)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    if (buf.len() as u64) < upto - from {
        return Ok(String::new());
    }
    Ok(ids::ContentHash::new().bytes(&buf).hex())
}

/// (sessions added, grown, unchanged) so far.
fn counts(r: &ImportReport) -> (u64, u64, u64) {
    (r.sessions_added, r.sessions_grown, r.sessions_unchanged)
}

/// A session document without its messages.
fn head(doc: &SessionDoc) -> SessionDoc {
    SessionDoc {
        uid: doc.uid.clone(),
        name: doc.name.clone(),
        title: doc.title.clone(),
        created_at: doc.created_at,
        updated_at: doc.updated_at,
        archived_at: doc.archived_at,
        trashed_at: doc.trashed_at,
        tags: doc.tags.clone(),
        metadata: doc.metadata.clone(),
        source: doc.source.clone(),
        source_ref: doc.source_ref.clone(),
        parent: doc.parent.clone(),
        fork_seq: doc.fork_seq,
        messages: Vec::new(),
    }
}

/// A message delivered in an earlier slice: its id, which is all the store
/// reads of it (a branch made from it copies the stored messages).
fn stand_in(m: &MessageDoc) -> MessageDoc {
    MessageDoc {
        role: m.role,
        kind: m.kind,
        source_id: m.source_id.clone(),
        stash: Some(
            m.stash
                .unwrap_or(crate::domain::Stashed { offset: 0, len: 0 }),
        ),
        ..MessageDoc::default()
    }
}

/// Delivers into an import batch, naming the file and session on errors.
struct BatchSink<'b, 'a> {
    batch: &'b mut ImportBatch<'a>,
    path: &'b Path,
    control: &'b JobControl,
    on_added: &'b mut OnAdded<'b>,
    index: u64,
    /// Set once `on_added` was called.
    touched: &'b mut bool,
    stash: stash::Stash,
    /// Reading on from a log's read point: the source id the stored
    /// session must end with for the new messages to be appended.
    continues: Option<String>,
    /// Set when the stored session does not end there.
    mismatch: bool,
    /// Where the next read can go on from, as the importer says.
    point: Option<TailPoint>,
}

impl<'b, 'a> BatchSink<'b, 'a> {
    fn new(
        batch: &'b mut ImportBatch<'a>,
        path: &'b Path,
        control: &'b JobControl,
        on_added: &'b mut OnAdded<'b>,
        touched: &'b mut bool,
        continues: Option<String>,
    ) -> Self {
        BatchSink {
            batch,
            path,
            control,
            on_added,
            index: 0,
            touched,
            stash: stash::Stash::new(),
            continues,
            mismatch: false,
            point: None,
        }
    }

    fn deliver(&mut self, doc: SessionDoc, name: &str) -> Result<()> {
        let added = self
            .batch
            .add(doc)
            .map_err(|e| in_session(self.path, self.index, name, e))?;
        match added {
            Some(a) => {
                *self.touched = true;
                (self.on_added)(self.batch, a)
            }
            None => Ok(()),
        }
    }
}

impl Sink for BatchSink<'_, '_> {
    fn session(&mut self, doc: SessionDoc) -> Result<()> {
        self.control.check()?;
        self.index += 1;
        let name = doc.name.clone().unwrap_or_default();
        if let Some(after) = self.continues.clone() {
            let mut doc = doc;
            doc.messages = std::mem::take(&mut doc.messages)
                .into_iter()
                .map(|m| self.stash.take(m))
                .collect::<Result<_>>()?;
            return match self.batch.append_after(&doc, &after)? {
                None => {
                    self.mismatch = true;
                    Ok(())
                }
                Some(Some(a)) => {
                    *self.touched = true;
                    (self.on_added)(self.batch, a)
                }
                Some(None) => Ok(()),
            };
        }
        if !doc.messages.iter().any(|m| m.stash.is_some()) {
            return self.deliver(doc, &name);
        }
        // A session with messages on disk goes to the store in slices: each
        // holds stand-ins for the messages before it (their ids are what
        // the store matches) and its own messages whole.
        let before = counts(self.batch.report_mut());
        let total = doc.messages.len();
        let mut done = 0;
        let mut delivered = 0;
        while done < total {
            // Slices grow with what was delivered (each repeats the stand-ins
            // of all before it), up to four times the first.
            let slice_bytes =
                (delivered / 4).clamp(self.stash.slice_bytes(), 4 * self.stash.slice_bytes());
            let mut end = done;
            let mut bytes = 0;
            while end < total && (end == done || bytes < slice_bytes) {
                let m = &doc.messages[end];
                bytes += m.stash.map_or(m.content.len() as u64, |s| s.len);
                end += 1;
            }
            let mut messages: Vec<MessageDoc> = doc.messages[..done].iter().map(stand_in).collect();
            for m in &doc.messages[done..end] {
                messages.push(self.stash.take(m.clone())?);
            }
            let slice = SessionDoc {
                messages,
                ..head(&doc)
            };
            self.deliver(slice, &name)?;
            delivered += bytes;
            done = end;
        }
        // Counted once, as the whole session.
        let r = self.batch.report_mut();
        let (added, grown, unchanged) = counts(r);
        r.sessions_grown = before.1 + u64::from(added == before.0 && grown > before.1);
        r.sessions_unchanged =
            before.2 + u64::from(added == before.0 && grown == before.1 && unchanged > before.2);
        Ok(())
    }

    fn stash(&mut self) -> &mut stash::Stash {
        &mut self.stash
    }

    fn resume_point(&mut self, point: TailPoint) {
        self.point = Some(point);
    }

    fn skip(&mut self, what: &str, reason: &str, n: u64) {
        self.batch.report_mut().skip(what, reason, n);
    }
}

fn read_file<R: BufRead>(
    sink: &mut dyn Sink,
    path: &Path,
    format: Format,
    reader: R,
) -> Result<()> {
    match format {
        Format::Json => native::read_json(path, reader, sink),
        Format::Jsonl => native::read_jsonl(path, reader, sink),
        Format::SessionFile => seed::read_session_file(path, reader, sink),
        Format::SdkExport => seed::read_sdk_export(path, reader, sink),
        Format::Toon => seed::read_toon(path, reader, sink),
        Format::ShareGpt => sharegpt::read(path, reader, sink),
        Format::ClaudeCode => claude::read(path, reader, sink),
        Format::Codex => codex::read(path, reader, sink),
        Format::ChatGpt => chatgpt::read(path, reader, sink),
        Format::Llm => llm::read(path, sink),
        Format::OpenWebUi => openwebui::read(path, reader, sink),
        Format::Gemini => gemini::read(path, reader, sink),
        Format::Archive => read_archive(path, sink),
    }
}

/// An archive's sessions, the whole file checked (every line, the counts,
/// the checksum) by the end: a file is one transaction, so a damaged one
/// brings nothing in.
fn read_archive(path: &Path, sink: &mut dyn Sink) -> Result<()> {
    crate::archive::read_sessions(path, &|_, _| {}, &mut |doc| sink.session(doc))?;
    Ok(())
}

/// Wraps an error raised while storing session `index` of `path` so that it
/// names the file and the session.
fn in_session(path: &Path, index: u64, name: &str, e: Error) -> Error {
    match e {
        e @ (Error::Parse { .. } | Error::Io { .. }) => e,
        e if stops_the_import(&e) => e,
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

/// A reader that reports how many bytes went through it.
struct Counting<'a, R> {
    inner: R,
    read: &'a std::cell::Cell<u64>,
    report: &'a dyn Fn(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let before = self.read.get();
        let now = before + n as u64;
        self.read.set(now);
        if now >> 20 != before >> 20 {
            (self.report)(now);
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

/// Text cut to `max` characters, an ellipsis marking the cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Text on one line (runs of white space made one space), cut to `max`
/// characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    cut(&text.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

/// The title of a conversation that has none: the first line of the
/// person's first prompt, cut to 80 characters.
pub(crate) fn first_prompt_title(messages: &[MessageDoc]) -> String {
    messages
        .iter()
        .find(|m| m.role == Some(crate::domain::Role::User) && m.kind == crate::domain::Kind::Text)
        .and_then(|m| m.content.lines().find(|l| !l.trim().is_empty()))
        .map(|l| one_line(l, 80))
        .unwrap_or_default()
}

/// `tool-` and the first 8 characters of an id (a content hash's digits),
/// as a session name.
pub(crate) fn short_name(tool: &str, id: &str) -> String {
    let short: String = id.trim_start_matches("h:").chars().take(8).collect();
    clean_name(&format!("{tool}-{short}"))
}

/// When a conversation a tool marks archived, without saying when, was
/// archived: its last update, else its creation, else its last message.
pub(crate) fn archived_time(
    archived: bool,
    updated: Option<jiff::Timestamp>,
    created: Option<jiff::Timestamp>,
    messages: &[MessageDoc],
) -> Option<jiff::Timestamp> {
    archived.then(|| {
        updated
            .or(created)
            .or_else(|| messages.iter().rev().find_map(|m| m.created_at))
            .unwrap_or_else(jiff::Timestamp::now)
    })
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
