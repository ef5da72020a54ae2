//! Character counts, one way everywhere: Unicode scalar values, as Rust's
//! `str::chars` counts them. SQLite's own `length()` stops at the first NUL,
//! so the store's SQL uses `chars()`, registered on every connection.
//!
//! A compressed content (a BLOB, see [`super::compress`]) counts as its
//! text: `chars()` decompresses it, and `text_len()` gives its size in bytes
//! from the frame's header alone.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

use super::compress;
use crate::error::Result;

/// The count of a text, as stored in `char_count`.
pub fn count(text: &str) -> u64 {
    text.chars().count() as u64
}

/// Registers `chars(content)` and `text_len(content)` on a connection.
pub(super) fn register(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("chars", 1, flags, |ctx| {
        let n = match ctx.get_raw(0) {
            ValueRef::Text(t) => count(&String::from_utf8_lossy(t)),
            ValueRef::Blob(b) => count(&compress::decompress(b).map_err(damaged)?),
            ValueRef::Null => 0,
            ValueRef::Integer(i) => count(&i.to_string()),
            ValueRef::Real(f) => count(&f.to_string()),
        };
        Ok(clamp(n))
    })?;
    // The size in bytes of the text a content holds: what
    // `length(CAST(content AS BLOB))` gives for text, and for a compressed
    // content the size of the text inside (the header says it: nothing is
    // decompressed).
    conn.create_scalar_function("text_len", 1, flags, |ctx: &Context<'_>| {
        let n = match ctx.get_raw(0) {
            ValueRef::Text(t) => t.len() as u64,
            ValueRef::Blob(b) => compress::content_size(b).map_err(damaged)?,
            ValueRef::Null => 0,
            ValueRef::Integer(i) => i.to_string().len() as u64,
            ValueRef::Real(f) => f.to_string().len() as u64,
        };
        Ok(clamp(n))
    })?;
    Ok(())
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// SQLite passes on only the text of a function's error; it starts with
/// [`compress::Damaged::PREFIX`], which is how the caller knows it again.
fn damaged(d: compress::Damaged) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(Box::new(d))
}
