//! Claude Code importer (being written).

use std::io::BufRead;
use std::path::Path;

use super::Sink;
use crate::error::{Error, Result};

/// Reads a Claude Code file.
pub fn read<R: BufRead>(path: &Path, _reader: R, _sink: &mut dyn Sink) -> Result<()> {
    Err(Error::UnknownFormat(format!(
        "{}: the Claude Code importer is not written yet",
        path.display()
    )))
}
