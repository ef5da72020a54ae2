//! The bundled demo sessions (`--demo`): hand-written sessions that show what
//! scrollback does (branches, tags, metadata, code, a long session, several
//! sources), loaded into an in-memory store. Nothing is written to disk.

use crate::domain::SessionDoc;
use crate::error::Result;
use crate::store::{ImportOptions, Store, StoreOptions};

/// The demo files, as (file name, JSON text).
pub const FILES: &[(&str, &str)] = &[
    (
        "01-api-redesign.json",
        include_str!("../assets/demo/01-api-redesign.json"),
    ),
    (
        "02-api-redesign-graphql.json",
        include_str!("../assets/demo/02-api-redesign-graphql.json"),
    ),
    (
        "03-api-redesign-grpc.json",
        include_str!("../assets/demo/03-api-redesign-grpc.json"),
    ),
    (
        "04-rust-async-deep-dive.json",
        include_str!("../assets/demo/04-rust-async-deep-dive.json"),
    ),
    (
        "05-tiler-fix-gap-layout.json",
        include_str!("../assets/demo/05-tiler-fix-gap-layout.json"),
    ),
    (
        "06-postgres-slow-dau-query.json",
        include_str!("../assets/demo/06-postgres-slow-dau-query.json"),
    ),
    (
        "07-pandas-to-polars-orders-job.json",
        include_str!("../assets/demo/07-pandas-to-polars-orders-job.json"),
    ),
    (
        "08-nas-restic-backup-script.json",
        include_str!("../assets/demo/08-nas-restic-backup-script.json"),
    ),
    (
        "09-tui-localisation-ja-zh.json",
        include_str!("../assets/demo/09-tui-localisation-ja-zh.json"),
    ),
    (
        "10-postmortem-db-failover-march.json",
        include_str!("../assets/demo/10-postmortem-db-failover-march.json"),
    ),
    (
        "11-code-review-template.json",
        include_str!("../assets/demo/11-code-review-template.json"),
    ),
    (
        "12-blog-post-sqlite-fts5.json",
        include_str!("../assets/demo/12-blog-post-sqlite-fts5.json"),
    ),
];

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
