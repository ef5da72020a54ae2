//! Exporters: sessions out as scrollback JSON (an array), JSON Lines (one
//! session per line) or Markdown (for reading). JSON and JSONL import back
//! exactly. Messages are read a page at a time, so exporting a huge store
//! needs little memory.

mod markdown;

use std::io::Write;
use std::str::FromStr;

use crate::domain::{SessionDoc, SessionId};
use crate::error::{Error, Result};
use crate::jobs::{JobControl, ProgressFn};
use crate::store::Store;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// A JSON array of session documents.
    #[default]
    Json,
    /// One session document per line.
    Jsonl,
    /// Markdown for people.
    Markdown,
}

impl FromStr for ExportFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "json" => Ok(Self::Json),
            "jsonl" => Ok(Self::Jsonl),
            "md" | "markdown" => Ok(Self::Markdown),
            _ => Err(Error::UnknownFormat(format!(
                "unknown export format {s:?}; expected one of json, jsonl, md"
            ))),
        }
    }
}

impl ExportFormat {
    /// The file name extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Jsonl => "jsonl",
            Self::Markdown => "md",
        }
    }
}

/// Writes the sessions `ids`, in that order, to `out`.
/// Progress is reported in sessions.
pub fn export(
    store: &Store,
    ids: &[SessionId],
    format: ExportFormat,
    out: &mut dyn Write,
    progress: &ProgressFn<'_>,
    control: &JobControl,
) -> Result<()> {
    let io = |e| Error::io("output", e);
    if format == ExportFormat::Json {
        out.write_all(b"[").map_err(io)?;
    }
    let total = ids.len() as u64;
    for (i, &id) in ids.iter().enumerate() {
        control.check()?;
        let session = store.session_by_id(id)?;
        let messages = store.all_messages(id)?;
        match format {
            ExportFormat::Json | ExportFormat::Jsonl => {
                if format == ExportFormat::Json {
                    out.write_all(if i == 0 { b"\n" } else { b",\n" })
                        .map_err(io)?;
                }
                serde_json::to_writer(&mut *out, &SessionDoc::from_stored(&session, messages))?;
                if format == ExportFormat::Jsonl {
                    out.write_all(b"\n").map_err(io)?;
                }
            }
            ExportFormat::Markdown => {
                if i > 0 {
                    out.write_all(b"\n\n").map_err(io)?;
                }
                markdown::write_session(out, &session, &messages).map_err(io)?;
            }
        }
        progress(i as u64 + 1, total);
    }
    if format == ExportFormat::Json {
        out.write_all(b"\n]\n").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Exports to a file: written beside it under a temporary name (mode 0600)
/// and renamed over it only when complete, so a failed export leaves no
/// half file and never touches what was there. A new file stays 0600; one
/// that existed keeps its permissions. A symlink at `path` is followed: its
/// target is what gets replaced, the link stays. Anything but a regular
/// file (a device, a fifo, a folder) is refused.
pub fn export_to_file(
    store: &Store,
    ids: &[SessionId],
    format: ExportFormat,
    path: &std::path::Path,
    progress: &ProgressFn<'_>,
    control: &JobControl,
) -> Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => path.to_path_buf(),
    };
    if let Ok(m) = std::fs::metadata(&target)
        && !m.is_file()
    {
        // A device, a pipe, a folder: never replaced, never written.
        return Err(Error::invalid(
            "export target",
            &target.display().to_string(),
            "a regular file or a new name (to write to a pipe or a device, leave out -o \
             and redirect the output)",
        ));
    }
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .to_path_buf();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // A failure to create it is a failure to write the target (the
    // temporary name is ours, not the user's).
    let file = options.open(&tmp).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    let result = export(store, ids, format, &mut w, progress, control).and_then(|()| {
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        if let Ok(old) = std::fs::metadata(&target) {
            std::fs::set_permissions(&tmp, old.permissions()).map_err(|e| Error::io(&tmp, e))?;
        }
        std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
