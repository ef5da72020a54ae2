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
