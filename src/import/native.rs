//! scrollback's own JSON and JSONL: what `export` writes, read back exactly.

use std::io::{BufRead, Read};
use std::path::Path;

use super::Sink;
use super::json::{for_each_element, for_each_line};
use crate::domain::SessionDoc;
use crate::error::Result;

/// One session object or an array of them.
pub fn read_json<R: Read>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    let mut first = true;
    for_each_element(path, reader, "sessions", |mut doc: SessionDoc| {
        if doc.name.is_none() && doc.uid.is_none() && first {
            doc.name = Some(super::name_from_path(path));
        }
        first = false;
        sink.session(doc)
    })?;
    Ok(())
}

/// One session object per line.
pub fn read_jsonl<R: BufRead>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    for_each_line(path, reader, |doc: SessionDoc, line| {
        sink.session(doc).map_err(|e| match e {
            crate::Error::Parse {
                path,
                location,
                reason,
            } => crate::Error::Parse {
                path,
                location: format!("line {line}, {location}"),
                reason,
            },
            other => other,
        })
    })?;
    Ok(())
}
