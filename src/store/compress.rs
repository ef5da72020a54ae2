//! Message contents stored compressed (`storage.compress_messages`).
//!
//! SQLite's columns take a value of any type, so `message.content` holds
//! either kind: TEXT is the content itself, a BLOB is a zstd frame of it
//! (with the content's size in the frame header). Writers store a frame for
//! a content of at least the configured size; every reader tells the two
//! apart by type, so a store may hold both at once and the option can be
//! turned on or off at any time.

use std::cell::RefCell;

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};

use super::Store;
use super::rows::to_i64;
use crate::error::Result;

/// zstd's level: its default, fast to write and about as small as text gets
/// without costing imports noticeably.
const LEVEL: i32 = 3;

/// No frame holds more than this (the largest message limit the config
/// allows is below it, and a larger text is stored as it is): a frame that
/// says otherwise is damaged, and is refused before anything is allocated
/// for it.
const MAX_CONTENT: u64 = 1 << 30;

/// A stored content that cannot be read back as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged {
    /// Which message, when the reader knows ("message 3 of session #12").
    pub at: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl Damaged {
    /// How every description of damaged content starts, so that the error
    /// of an SQL function (which reaches the caller as SQLite's text) is
    /// still recognised as this one.
    pub const PREFIX: &str = "stored message content is damaged";

    fn new(reason: impl Into<String>) -> Self {
        Damaged {
            at: None,
            reason: reason.into(),
        }
    }

    /// The same damage, naming the message.
    #[must_use]
    pub fn at(mut self, at: String) -> Self {
        self.at = Some(at);
        self
    }
}

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", Self::PREFIX)?;
        if let Some(at) = &self.at {
            write!(f, " ({at})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for Damaged {}

/// A content as it goes into the `content` column.
#[derive(Debug)]
pub(super) enum Stored<'a> {
    /// As it is, TEXT.
    Text(&'a str),
    /// A zstd frame, BLOB.
    Frame(Vec<u8>),
}

impl Stored<'_> {
    /// Bytes it takes in the column.
    pub(super) fn len(&self) -> usize {
        match self {
            Stored::Text(t) => t.len(),
            Stored::Frame(f) => f.len(),
        }
    }
}

impl ToSql for Stored<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Stored::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Stored::Frame(f) => ToSqlOutput::Borrowed(ValueRef::Blob(f)),
        })
    }
}

/// What to store for `text`: a frame when compression is on (`min` is the
/// threshold) and the text is at least that long, and the frame is smaller
/// than the text (one that does not shrink, such as a short text under a
/// low threshold, stays as it is).
pub(super) fn encode(text: &str, min: Option<usize>) -> Result<Stored<'_>> {
    match min {
        Some(min) if text.len() >= min && text.len() as u64 <= MAX_CONTENT => {
            let frame = compress(text)?;
            Ok(if frame.len() < text.len() {
                Stored::Frame(frame)
            } else {
                Stored::Text(text)
            })
        }
        _ => Ok(Stored::Text(text)),
    }
}

thread_local! {
    // zstd's contexts are worth keeping: an import compresses message after
    // message, and a page of history decompresses as many.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// A zstd frame of `text`, its size in the header.
pub(super) fn compress(text: &str) -> Result<Vec<u8>> {
    let failed = |e: std::io::Error| crate::error::Error::Invalid {
        what: "message",
        value: format!("{} bytes", text.len()),
        expected: format!("content zstd can compress ({e})"),
    };
    COMPRESSOR.with_borrow_mut(|c| {
        let c = match c {
            Some(c) => c,
            None => c.insert(zstd::bulk::Compressor::new(LEVEL).map_err(failed)?),
        };
        c.compress(text.as_bytes()).map_err(failed)
    })
}

/// The size of the content in a frame's header, read without decompressing.
pub(super) fn content_size(frame: &[u8]) -> Result<u64, Damaged> {
    match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= MAX_CONTENT => Ok(n),
        Ok(Some(n)) => Err(Damaged::new(format!(
            "its zstd frame claims {n} bytes of content, more than any message holds"
        ))),
        Ok(None) => Err(Damaged::new(
            "its zstd frame does not give the content's size",
        )),
        Err(_) => Err(Damaged::new(format!(
            "its {} bytes are not a zstd frame",
            frame.len()
        ))),
    }
}

/// The text in a frame.
pub(super) fn decompress(frame: &[u8]) -> Result<String, Damaged> {
    let size = content_size(frame)?;
    let size = usize::try_from(size).map_err(|_| Damaged::new("its content is too large"))?;
    let bytes = DECOMPRESSOR.with_borrow_mut(|d| {
        let d = match d {
            Some(d) => d,
            None => d.insert(
                zstd::bulk::Decompressor::new()
                    .map_err(|e| Damaged::new(format!("zstd cannot start ({e})")))?,
            ),
        };
        d.decompress(frame, size)
            .map_err(|e| Damaged::new(format!("its zstd frame does not decompress ({e})")))
    })?;
    if bytes.len() != size {
        return Err(Damaged::new(format!(
            "its zstd frame holds {} bytes, not the {size} its header gives",
            bytes.len()
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        Damaged::new(format!(
            "its content is not UTF-8 text (at byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads column `idx` of a row as a message's text: TEXT as it is, a BLOB
/// decompressed. Damage becomes an error that [`crate::Error`] turns into
/// [`crate::Error::DamagedMessage`], naming the message as `at` says.
pub(super) fn column(
    r: &rusqlite::Row<'_>,
    idx: usize,
    at: impl FnOnce() -> String,
) -> rusqlite::Result<String> {
    match r.get_ref(idx)? {
        ValueRef::Blob(frame) => decompress(frame).map_err(|d| {
            rusqlite::Error::FromSqlConversionFailure(
                idx,
                rusqlite::types::Type::Blob,
                Box::new(d.at(at())),
            )
        }),
        _ => r.get(idx),
    }
}

/// What [`Store::compress_stored`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompressReport {
    /// Messages that were text and are now stored compressed.
    pub compressed: u64,
    /// Messages that were compressed and are now text again.
    pub decompressed: u64,
    /// Messages at or over the threshold left as text because compressing
    /// them would not make them smaller.
    pub incompressible: u64,
    /// Bytes the changed messages took in the store before.
    pub bytes_before: u64,
    /// And after.
    pub bytes_after: u64,
    /// Bytes the database file gave back to the file system.
    pub file_bytes_released: u64,
}

/// Messages changed per transaction, at most...
const BATCH_ROWS: i64 = 256;
/// ... and bytes read per transaction, about: a stop loses at most one
/// batch's work, never data, and memory holds one message at a time.
const BATCH_BYTES: usize = 16 << 20;

impl Store {
    /// Brings the contents already stored in line with the options: with
    /// compression on, compresses the text contents at or over the threshold
    /// and decompresses the frames under it; with compression off,
    /// decompresses every frame. Works in batches of one transaction each,
    /// so a stop at any point leaves every message readable and keeps what
    /// was done. The texts do not change, so neither do the counts or the
    /// search index. `progress` is called with the position reached in the
    /// message table and its end.
    pub fn compress_stored(&mut self, progress: &dyn Fn(u64, u64)) -> Result<CompressReport> {
        let min = self.options.compress_min_bytes;
        let end: i64 =
            self.conn
                .query_row("SELECT coalesce(max(id), 0) FROM message", [], |r| r.get(0))?;
        let mut report = CompressReport::default();
        let mut last = 0i64;
        progress(0, super::rows::to_u64(end));
        loop {
            let tx = self.write()?;
            let ids: Vec<i64> = match min {
                Some(min) => tx
                    .prepare_cached(
                        "SELECT id FROM message WHERE id > ?1 AND id <= ?2 AND \
                         (typeof(content) = 'text' AND text_len(content) >= ?3 \
                          OR typeof(content) = 'blob' AND text_len(content) < ?3) \
                         ORDER BY id LIMIT ?4",
                    )?
                    .query_map(
                        rusqlite::params![last, end, to_i64(min as u64), BATCH_ROWS],
                        |r| r.get(0),
                    )?
                    .collect::<rusqlite::Result<_>>()?,
                None => tx
                    .prepare_cached(
                        "SELECT id FROM message WHERE id > ?1 AND id <= ?2 AND \
                         typeof(content) = 'blob' ORDER BY id LIMIT ?3",
                    )?
                    .query_map(rusqlite::params![last, end, BATCH_ROWS], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?,
            };
            if ids.is_empty() {
                break;
            }
            let mut read = 0usize;
            for id in ids {
                if read >= BATCH_BYTES {
                    break;
                }
                let (text, was, was_frame) = tx
                    .prepare_cached("SELECT content, session_id, seq FROM message WHERE id = ?1")?
                    .query_row([id], |r| {
                        let (was, was_frame) = match r.get_ref(0)? {
                            ValueRef::Text(t) => (t.len(), false),
                            ValueRef::Blob(b) => (b.len(), true),
                            _ => (0, false),
                        };
                        let text = column(r, 0, || {
                            format!(
                                "message {} of session #{}",
                                r.get::<_, i64>(2).unwrap_or_default(),
                                r.get::<_, i64>(1).unwrap_or_default()
                            )
                        })?;
                        Ok((text, was, was_frame))
                    })?;
                last = id;
                read += was.max(text.len());
                let now = encode(&text, min)?;
                match (&now, was_frame) {
                    (Stored::Text(_), false) => {
                        report.incompressible += 1;
                        continue;
                    }
                    (Stored::Frame(_), true) => continue,
                    (Stored::Frame(_), false) => report.compressed += 1,
                    (Stored::Text(_), true) => report.decompressed += 1,
                }
                report.bytes_before += was as u64;
                report.bytes_after += now.len() as u64;
                tx.prepare_cached("UPDATE message SET content = ?2 WHERE id = ?1")?
                    .execute(rusqlite::params![id, now])?;
            }
            tx.commit()?;
            progress(super::rows::to_u64(last), super::rows::to_u64(end));
        }
        report.file_bytes_released = self.release_free_pages()?;
        progress(super::rows::to_u64(end), super::rows::to_u64(end));
        Ok(report)
    }

    /// Gives the database's free pages back to the file system, a few
    /// thousand per transaction (a store made by scrollback has incremental
    /// auto-vacuum; in another this does nothing). Returns the bytes freed.
    pub fn release_free_pages(&mut self) -> Result<u64> {
        let pages = |c: &rusqlite::Connection| -> Result<(i64, i64)> {
            Ok((
                c.query_row("PRAGMA page_count", [], |r| r.get(0))?,
                c.query_row("PRAGMA page_size", [], |r| r.get(0))?,
            ))
        };
        let (before, page_size) = pages(&self.conn)?;
        loop {
            let free: i64 = self
                .conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
            if free == 0 {
                break;
            }
            let (was, _) = pages(&self.conn)?;
            // The pragma frees one page per step: step it to the end, in
            // the one transaction of the statement.
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum(4096)")?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            drop(rows);
            drop(stmt);
            if pages(&self.conn)?.0 >= was {
                break;
            }
        }
        let (after, _) = pages(&self.conn)?;
        Ok(super::rows::to_u64((before - after).max(0) * page_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_back_from_their_frames_unchanged() {
        let long = "lorem ipsum dolor sit amet ".repeat(400);
        for text in [
            "",
            "a",
            "plain ascii",
            "日本語のテキスト、中文文本，한국어 텍스트",
            "emoji 🦀🎉👩‍👩‍👧‍👦 and a flag 🇳🇱",
            "a NUL \0 inside",
            long.as_str(),
        ] {
            let frame = compress(text).expect("compress");
            assert_eq!(content_size(&frame), Ok(text.len() as u64), "{text:?}");
            assert_eq!(decompress(&frame).as_deref(), Ok(text), "{text:?}");
        }
        assert!(compress(&long).expect("compress").len() < long.len() / 10);
    }

    #[test]
    fn only_long_texts_that_shrink_are_stored_as_frames() {
        let long = "word ".repeat(1000);
        assert!(matches!(encode(&long, None), Ok(Stored::Text(_))));
        assert!(matches!(encode(&long, Some(10_000)), Ok(Stored::Text(_))));
        assert!(matches!(encode(&long, Some(5000)), Ok(Stored::Frame(_))));
        assert!(matches!(encode("", Some(0)), Ok(Stored::Text(""))));
        // A frame has a header: a short text would grow.
        assert!(matches!(encode("short text", Some(1)), Ok(Stored::Text(_))));
    }

    #[test]
    fn damaged_frames_are_errors_not_panics() {
        let frame = compress(&"some text ".repeat(100)).expect("compress");
        let mut cut = frame.clone();
        cut.truncate(frame.len() / 2);
        let mut flipped = frame.clone();
        let last = flipped.len() - 5;
        flipped[last] ^= 0xff;
        // A header claiming 2^32 bytes: refused before anything is allocated.
        let huge = [0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
        let bad_utf8 = compress_bytes(&[0xff, 0xfe, 0xfd]);
        for (what, blob) in [
            ("not a frame", b"just some bytes".to_vec()),
            ("empty", Vec::new()),
            ("cut short", cut),
            ("flipped", flipped),
            ("huge", huge.to_vec()),
            ("not UTF-8", bad_utf8),
        ] {
            let err = decompress(&blob).expect_err(what);
            assert!(
                err.to_string().starts_with(Damaged::PREFIX),
                "{what}: {err}"
            );
        }
        assert!(content_size(b"nope").is_err());
        assert!(content_size(&huge).is_err());
        let named = Damaged::new("x").at("message 3 of session #1".into());
        assert_eq!(
            named.to_string(),
            "stored message content is damaged (message 3 of session #1): x"
        );
    }

    #[test]
    fn a_column_reads_text_and_frames_alike_and_names_the_damaged() {
        let c = rusqlite::Connection::open_in_memory().expect("open");
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, content)")
            .expect("table");
        let long = "長い文章と絵文字 🦀 ".repeat(100);
        for text in ["short", long.as_str()] {
            let stored = encode(text, Some(100)).expect("encode");
            c.execute("INSERT INTO t (content) VALUES (?1)", [stored])
                .expect("insert");
        }
        c.execute("INSERT INTO t (content) VALUES (X'00010203')", [])
            .expect("insert");
        let types: Vec<String> = c
            .prepare("SELECT typeof(content) FROM t ORDER BY id")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(types, ["text", "blob", "blob"]);
        let read = |id: i64| -> Result<String> {
            Ok(
                c.query_row("SELECT content FROM t WHERE id = ?1", [id], |r| {
                    column(r, 0, || format!("row {id}"))
                })?,
            )
        };
        assert_eq!(read(1).expect("text"), "short");
        assert_eq!(read(2).expect("frame"), long);
        match read(3) {
            Err(crate::Error::DamagedMessage { detail }) => assert_eq!(
                detail,
                "stored message content is damaged (row 3): its 4 bytes are not a zstd frame"
            ),
            other => panic!("{other:?}"),
        }
    }

    fn compress_bytes(bytes: &[u8]) -> Vec<u8> {
        zstd::bulk::compress(bytes, LEVEL).expect("compress")
    }
}
