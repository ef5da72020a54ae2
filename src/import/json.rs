//! Streaming JSON readers shared by the importers: a top-level array (or a
//! single object) read one element at a time, and JSON Lines read one line at
//! a time. Neither needs the whole file in memory, and every error names the
//! file, the line and column, and what was expected.

use std::fmt;
use std::io::{BufRead, Read};
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{self, DeserializeOwned, Deserializer as _, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, Result};

/// Calls `f` with each element of a top-level JSON array, or once with a
/// top-level object. Returns how many elements were read.
///
/// A file cut off in the middle reports where it ends and how many complete
/// elements come before that point. An error returned by `f` stops the read
/// and is returned as it is.
pub fn for_each_element<T, R, F>(
    path: &Path,
    reader: R,
    what: &'static str,
    mut f: F,
) -> Result<u64>
where
    T: DeserializeOwned,
    R: Read,
    F: FnMut(T) -> Result<()>,
{
    let mut failed = None;
    let mut count = 0;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let outcome = de.deserialize_any(Each {
        f: &mut f,
        count: &mut count,
        failed: &mut failed,
        what,
        _t: PhantomData,
    });
    if let Some(e) = failed {
        return Err(e);
    }
    outcome.and_then(|()| de.end()).map_err(|e| {
        if e.is_eof() {
            Error::Truncated {
                path: path.to_path_buf(),
                location: location(&e),
                complete: count,
                what,
            }
        } else {
            json_error(path, &e)
        }
    })?;
    Ok(count)
}

/// Calls `f` with each of a sequence of top-level objects: JSON Lines, or
/// one object, or objects one after another however they are laid out.
/// Returns how many were read; a cut in the middle of one is
/// [`Error::Truncated`] after the complete ones.
pub fn for_each_object<T, R, F>(path: &Path, reader: R, what: &'static str, mut f: F) -> Result<u64>
where
    T: DeserializeOwned,
    R: Read,
    F: FnMut(T) -> Result<()>,
{
    let mut count = 0;
    for item in serde_json::Deserializer::from_reader(reader).into_iter::<T>() {
        let item = item.map_err(|e| {
            if e.is_eof() {
                Error::Truncated {
                    path: path.to_path_buf(),
                    location: location(&e),
                    complete: count,
                    what,
                }
            } else {
                json_error(path, &e)
            }
        })?;
        f(item)?;
        count += 1;
    }
    Ok(count)
}

/// The first byte of the input that is not white space, left unread (a
/// buffer of nothing but white space before it is consumed); `None` at the end.
pub fn first_byte<R: BufRead>(path: &Path, reader: &mut R) -> Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(&b) = buf.iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok(Some(b));
        }
        let n = buf.len();
        reader.consume(n);
    }
}

/// Calls `f` with each non-blank line of a JSON Lines file, parsed, and its
/// 1-based line number. Returns how many lines were parsed.
pub fn for_each_line<T, R, F>(path: &Path, reader: R, f: F) -> Result<u64>
where
    T: DeserializeOwned,
    R: BufRead,
    F: FnMut(T, u64) -> Result<()>,
{
    for_each_line_upto(path, reader, &mut LinesRead::default(), f)
}

/// How much of a JSON Lines file its complete lines take: where a later
/// read of a log that grew starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinesRead {
    /// Bytes, each line with its `\n`.
    pub bytes: u64,
    /// Lines, blank ones included.
    pub lines: u64,
}

/// [`for_each_line`] on a reader that starts after the lines `at` counts
/// (the first line it gives is numbered `at.lines + 1`), keeping in `at`
/// what the complete lines read so far take.
pub fn for_each_line_upto<T, R, F>(
    path: &Path,
    mut reader: R,
    at: &mut LinesRead,
    mut f: F,
) -> Result<u64>
where
    T: DeserializeOwned,
    R: BufRead,
    F: FnMut(T, u64) -> Result<()>,
{
    let mut buf = Vec::new();
    let mut line_no = at.lines;
    let mut count = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(count);
        }
        line_no += 1;
        let complete = buf.ends_with(b"\n");
        if buf.iter().all(u8::is_ascii_whitespace) {
            if complete {
                at.bytes += n as u64;
                at.lines += 1;
            }
            continue;
        }
        let value: T = serde_json::from_slice(&buf).map_err(|e| {
            let location = format!("line {line_no}, column {}", e.column());
            if e.is_eof() && !buf.ends_with(b"\n") {
                Error::Truncated {
                    path: path.to_path_buf(),
                    location,
                    complete: count,
                    what: "lines",
                }
            } else {
                Error::Parse {
                    path: path.to_path_buf(),
                    location,
                    reason: strip_position(&e),
                }
            }
        })?;
        f(value, line_no)?;
        if complete {
            at.bytes += n as u64;
            at.lines += 1;
        }
        count += 1;
    }
}

/// A serde_json error as [`Error::Parse`], with the position moved into the location.
pub fn json_error(path: &Path, e: &serde_json::Error) -> Error {
    let mut reason = strip_position(e);
    if e.is_eof() {
        reason = format!("the file ends here, in the middle of a value (truncated?): {reason}");
    }
    Error::Parse {
        path: path.to_path_buf(),
        location: location(e),
        reason,
    }
}

fn location(e: &serde_json::Error) -> String {
    if e.line() == 0 {
        "start of file".to_string()
    } else {
        format!("line {}, column {}", e.line(), e.column())
    }
}

/// Deepest nesting of arrays and objects serde_json reads (its recursion
/// limit, which keeps a hostile file from overflowing the stack).
pub const MAX_DEPTH: usize = 128;

/// The error's reason without its position (which goes to the location);
/// serde_json's recursion limit said the way a person understands it.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    if s.starts_with("recursion limit exceeded") {
        return nested_too_deep();
    }
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The reason given for a file nested deeper than [`MAX_DEPTH`] (the TOON
/// reader says the same).
pub fn nested_too_deep() -> String {
    format!(
        "objects and arrays are nested deeper than {MAX_DEPTH} levels, the most scrollback reads"
    )
}

struct Each<'a, T, F> {
    f: &'a mut F,
    count: &'a mut u64,
    failed: &'a mut Option<Error>,
    what: &'a str,
    _t: PhantomData<T>,
}

impl<T, F> Each<'_, T, F>
where
    F: FnMut(T) -> Result<()>,
{
    fn give<E: de::Error>(&mut self, item: T) -> Result<(), E> {
        match (self.f)(item) {
            Ok(()) => {
                *self.count += 1;
                Ok(())
            }
            Err(e) => {
                *self.failed = Some(e);
                Err(E::custom("stopped"))
            }
        }
    }
}

impl<'de, T, F> Visitor<'de> for Each<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Result<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON array of {} or a single object", self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            self.give::<A::Error>(item)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<(), A::Error> {
        let item = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.give::<A::Error>(item)
    }
}
