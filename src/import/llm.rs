//! llm importer (being written).

use std::path::Path;

use super::Sink;
use crate::error::{Error, Result};

/// Reads a llm file.
pub fn read(path: &Path, _sink: &mut dyn Sink) -> Result<()> {
    Err(Error::UnknownFormat(format!(
        "{}: the llm importer is not written yet",
        path.display()
    )))
}
