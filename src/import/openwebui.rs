//! Open WebUI importer (being written).

use std::io::BufRead;
use std::path::Path;

use super::Sink;
use crate::error::{Error, Result};

/// Reads a Open WebUI file.
pub fn read<R: BufRead>(path: &Path, _reader: R, _sink: &mut dyn Sink) -> Result<()> {
    Err(Error::UnknownFormat(format!(
        "{}: the Open WebUI importer is not written yet",
        path.display()
    )))
}
