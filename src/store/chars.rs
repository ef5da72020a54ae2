//! Character counts, one way everywhere: Unicode scalar values, as Rust's
//! `str::chars` counts them. SQLite's own `length()` stops at the first NUL,
//! so the store's SQL uses `chars()`, registered on every connection.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::error::Result;

/// The count of a text, as stored in `char_count`.
pub fn count(text: &str) -> u64 {
    text.chars().count() as u64
}

/// Registers `chars(text)` on a connection.
pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "chars",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            use rusqlite::types::ValueRef;
            let n = match ctx.get_raw(0) {
                ValueRef::Text(t) | ValueRef::Blob(t) => count(&String::from_utf8_lossy(t)),
                ValueRef::Null => 0,
                ValueRef::Integer(i) => count(&i.to_string()),
                ValueRef::Real(f) => count(&f.to_string()),
            };
            Ok(i64::try_from(n).unwrap_or(i64::MAX))
        },
    )?;
    Ok(())
}
