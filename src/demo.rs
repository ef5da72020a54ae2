//! The bundled demo sessions (`--demo`): hand-written sessions that show what
//! scrollback does (branches, tags, metadata, code, a long session, several
//! sources), loaded into an in-memory store. Nothing is written to disk.

use crate::domain::SessionDoc;
use crate::error::Result;
use crate::store::{ImportOptions, Store, StoreOptions};

/// The demo files, as (file name, JSON text).
pub const FILES: &[(&str, &str)] = &[];

/// An in-memory store holding the demo sessions.
pub fn store(options: StoreOptions) -> Result<Store> {
    let mut store = Store::open_in_memory_with(options)?;
    let docs = FILES
        .iter()
        .map(|(_, text)| serde_json::from_str::<SessionDoc>(text))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    store.import_docs(docs, ImportOptions::default())?;
    Ok(store)
}
