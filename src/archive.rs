//! Archive files (`.sbz`): sessions moved out of the store into one
//! compressed file, and brought back exactly.
//!
//! The format: a zstd stream of JSON lines. The first line is the
//! [`Header`]: the format's name and version, the counts of sessions and
//! messages, their time range, and the SHA-256 of everything after the
//! header line. Each line after it is one session exactly as `export
//! --format jsonl` writes it (ids, times, tags, metadata, lineage, every
//! message with its kind). The header is a zstd frame of its own and the
//! sessions follow in more frames, so `zstd -dc FILE.sbz | tail -n +2 |
//! sha256sum` checks the checksum by hand. Both ways stream: writing reads
//! a session at a time from the store, reading decodes a line at a time.
//!
//! Writing is careful: the sessions go to a temporary file beside the
//! target, the header and those sessions to a second one, which is read
//! back and verified (counts, uids, checksum) before it gets the final name
//! (never over an existing file). Only then does [`archive`] remove the
//! sessions from the store, in one transaction. A kill at any point leaves
//! every session in the store or in a verified archive.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{SessionDoc, SessionId};
use crate::error::{Error, Result};
use crate::jobs::{JobControl, ProgressFn};
use crate::store::Store;

/// The `format` of a header.
pub const FORMAT: &str = "scrollback-archive";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// The file name extension.
pub const EXTENSION: &str = "sbz";
/// zstd's magic number: how an archive is told from other files.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Longest header line read, in bytes.
const MAX_HEADER: u64 = 64 * 1024;
/// Longest session line read when listing or counting, in bytes (1 GiB).
const MAX_LINE: u64 = 1 << 30;

/// The first line of an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format's version.
    pub version: u32,
    /// Sessions in the archive.
    pub sessions: u64,
    /// Messages over all its sessions.
    pub messages: u64,
    /// The earliest session or message time, if any.
    pub first: Option<Timestamp>,
    /// The latest.
    pub last: Option<Timestamp>,
    /// Bytes of the lines after the header, uncompressed.
    pub content_bytes: u64,
    /// `sha256:` and the hex SHA-256 of those bytes.
    pub checksum: String,
    /// When the archive was written.
    pub created_at: Timestamp,
}

/// What [`write`] made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// The archive file.
    pub path: PathBuf,
    /// Its header.
    pub header: Header,
    /// Its size on disk.
    pub file_bytes: u64,
    /// Each session as it was read: its message count and last update,
    /// so that one that changed since is not removed with it.
    #[serde(skip)]
    pub states: Vec<(SessionId, u64, Timestamp)>,
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// A temporary name beside `path`: hidden, and never the final name.
fn beside(path: &Path, what: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{what}"))
}

/// A new file readable by its owner only (truncated if a stale one is there).
fn private_file(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).read(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| Error::io(path, e))
}

fn widen(range: &mut (Option<Timestamp>, Option<Timestamp>), t: Timestamp) {
    range.0 = Some(range.0.map_or(t, |f| f.min(t)));
    range.1 = Some(range.1.map_or(t, |l| l.max(t)));
}

/// Writes the sessions `ids` to a new archive at `path` and verifies it.
/// Fails, leaving nothing under `path`, if `path` exists, if a write fails
/// (a full disk), or if what was written does not read back as written.
pub fn write(
    store: &Store,
    ids: &[SessionId],
    path: &Path,
    progress: &ProgressFn<'_>,
    control: &JobControl,
) -> Result<Written> {
    if path.exists() {
        return Err(Error::invalid(
            "archive file",
            &path.display().to_string(),
            "a new file: it exists already, and an archive never replaces a file",
        ));
    }
    let content = beside(path, "content.tmp");
    let whole = beside(path, "tmp");
    let result = write_files(store, ids, path, &content, &whole, progress, control);
    let _ = std::fs::remove_file(&content);
    if result.is_err() {
        let _ = std::fs::remove_file(&whole);
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn write_files(
    store: &Store,
    ids: &[SessionId],
    path: &Path,
    content: &Path,
    whole: &Path,
    progress: &ProgressFn<'_>,
    control: &JobControl,
) -> Result<Written> {
    // Errors name the file asked for: the temporary ones are ours.
    let io = |_: &Path| {
        let p = path.to_path_buf();
        move |e| Error::io(p, e)
    };
    // The sessions: read and written as JSON here, hashed, compressed and
    // written to disk on a second thread, a megabyte at a time.
    let mut range = (None, None);
    let mut messages = 0u64;
    let mut states = Vec::with_capacity(ids.len());
    // What the session rows say, to check what reads back against.
    let mut wanted: HashSet<String> = HashSet::with_capacity(ids.len());
    let mut expected = 0u64;
    let (hash, content_bytes) = {
        let file = private_file(content)?;
        let encoder = zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 20, file), 3)
            .map_err(io(content))?;
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let writer = std::thread::spawn(move || -> std::io::Result<_> {
            let mut out = Hashing {
                inner: encoder,
                hash: Sha256::new(),
                bytes: 0,
            };
            for chunk in receive {
                out.write_all(&chunk)?;
            }
            let Hashing { inner, hash, bytes } = out;
            let file = inner
                .finish()?
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)?;
            file.sync_all()?;
            Ok((hash.finalize(), bytes))
        });
        let total = ids.len() as u64;
        let mut chunk = Vec::with_capacity(2 << 20);
        let mut read = || -> Result<()> {
            for (i, &id) in ids.iter().enumerate() {
                control.check()?;
                let session = store.session_by_id(id)?;
                let msgs = store.all_messages(id)?;
                states.push((id, msgs.len() as u64, session.updated_at));
                wanted.insert(session.uid.0.clone());
                expected += session.message_count;
                widen(&mut range, session.created_at);
                widen(&mut range, session.updated_at);
                for m in &msgs {
                    widen(&mut range, m.created_at);
                }
                messages += msgs.len() as u64;
                serde_json::to_writer(&mut chunk, &SessionDoc::from_stored(&session, msgs))?;
                chunk.push(b'\n');
                if chunk.len() >= 1 << 20 {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(2 << 20));
                    if send.send(full).is_err() {
                        // The writer stopped: its error says why.
                        return Ok(());
                    }
                }
                progress(i as u64 + 1, total);
            }
            let _ = send.send(std::mem::take(&mut chunk));
            Ok(())
        };
        let reading = read();
        drop(send);
        let written = writer.join().map_err(|_| {
            Error::invalid("archive", "writer", "a writer thread that does not panic")
        })?;
        reading?;
        written.map_err(io(content))?
    };
    let header = Header {
        format: FORMAT.to_string(),
        version: VERSION,
        sessions: ids.len() as u64,
        messages,
        first: range.0,
        last: range.1,
        content_bytes,
        checksum: format!("sha256:{}", hex(&hash)),
        created_at: crate::domain::now(),
    };
    // The header as a frame of its own, then the sessions' frames.
    {
        let mut out = BufWriter::with_capacity(1 << 20, private_file(whole)?);
        let mut line = serde_json::to_vec(&header)?;
        line.push(b'\n');
        let frame = zstd::stream::encode_all(&line[..], 3).map_err(io(whole))?;
        out.write_all(&frame).map_err(io(whole))?;
        let mut sessions = File::open(content).map_err(io(content))?;
        std::io::copy(&mut sessions, &mut out).map_err(io(whole))?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        file.sync_all().map_err(io(whole))?;
    }
    // Read back: the header, every line, the checksum, and exactly the
    // sessions asked for.
    let mut uids = HashSet::with_capacity(ids.len());
    let read = read_light(whole, &|_, _| {}, &mut |doc| {
        if let Some(uid) = doc.uid {
            uids.insert(uid);
        }
    })
    .map_err(|e| match e {
        Error::Io { .. } | Error::Cancelled => e,
        e => Error::invalid(
            "archive",
            &path.display().to_string(),
            format!("what was written does not read back: {e}"),
        ),
    })?;
    if read != header || uids != wanted || read.messages != expected {
        return Err(Error::invalid(
            "archive",
            &path.display().to_string(),
            format!(
                "what was written does not read back as written ({} sessions and {} messages \
                 read, {} and {} written)",
                read.sessions, read.messages, header.sessions, expected
            ),
        ));
    }
    // The final name, never over a file that appeared meanwhile.
    match std::fs::hard_link(whole, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(whole);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::invalid(
                "archive file",
                &path.display().to_string(),
                "a new file: one appeared there while the archive was written",
            ));
        }
        Err(_) => std::fs::rename(whole, path).map_err(io(path))?,
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    let file_bytes = std::fs::metadata(path).map_err(io(path))?.len();
    Ok(Written {
        path: path.to_path_buf(),
        header,
        file_bytes,
        states,
    })
}

/// Opens an archive and reads its header. A file that is not zstd, or
/// whose first line is not a header, is refused as not an archive.
fn open(path: &Path) -> Result<(Header, impl BufRead + Send + use<>)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| Error::io(path, e))?;
    if n < 4 || magic != ZSTD_MAGIC {
        return Err(not_an_archive(path, "it is not zstd-compressed"));
    }
    drop(file);
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let decoder = zstd::stream::read::Decoder::new(file).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, decoder);
    let mut line = Vec::new();
    (&mut reader)
        .take(MAX_HEADER)
        .read_until(b'\n', &mut line)
        .map_err(|e| damaged(path, "the header", &e))?;
    let header: Header = serde_json::from_slice(&line)
        .ok()
        .filter(|h: &Header| h.format == FORMAT)
        .ok_or_else(|| not_an_archive(path, "its first line is not a scrollback-archive header"))?;
    if header.version > VERSION {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            location: "header".into(),
            reason: format!(
                "archive format version {} is newer than this scrollback reads ({VERSION}); upgrade scrollback",
                header.version
            ),
        });
    }
    Ok((header, reader))
}

fn not_an_archive(path: &Path, why: &str) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        location: "start".into(),
        reason: format!("not a scrollback archive (.sbz): {why}"),
    }
}

fn damaged(path: &Path, where_: &str, e: &std::io::Error) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        location: where_.to_string(),
        reason: format!("the archive is damaged or cut short ({e}); nothing was taken from it"),
    }
}

/// The header of an archive, without reading the rest.
pub fn read_header(path: &Path) -> Result<Header> {
    open(path).map(|(h, _)| h)
}

/// Reads every session line of an archive in order, giving each (and its
/// number, from 1) to `each`, which parses it and says how many messages
/// it holds; then checks the whole file: the counts and the checksum as the
/// header says. `progress` sees (content bytes read, content bytes).
fn read_lines(
    path: &Path,
    progress: &ProgressFn<'_>,
    each: &mut dyn FnMut(&[u8], u64) -> Result<u64>,
) -> Result<Header> {
    let (header, reader) = open(path)?;
    // Decompressing and hashing on a second thread, a megabyte of lines at
    // a time; parsing (and storing, for an import) here.
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(4);
    let owned = path.to_path_buf();
    let reading = std::thread::spawn(move || read_chunks(&owned, reader, &send));
    let mut sessions = 0u64;
    let mut messages = 0u64;
    let mut bytes = 0u64;
    let mut last_report = 0u64;
    let mut parsed = Ok(());
    'chunks: for chunk in receive {
        for line in &chunk {
            sessions += 1;
            bytes += line.len() as u64;
            match each(line, sessions) {
                Ok(n) => messages += n,
                Err(e) => {
                    parsed = Err(e);
                    break 'chunks;
                }
            }
        }
        if bytes - last_report > 4 << 20 {
            last_report = bytes;
            progress(bytes, header.content_bytes);
        }
    }
    // A parse that failed stops the reader (its channel is gone); a read
    // that failed ends the chunks: either error is the answer.
    let read = reading
        .join()
        .map_err(|_| Error::invalid("archive", "reader", "a reader thread that does not panic"))?;
    parsed?;
    let (hash, bytes, lines) = read?;
    progress(bytes, header.content_bytes);
    if lines != sessions {
        return Err(Error::invalid(
            "archive",
            "reader",
            "every line read to be parsed",
        ));
    }
    let sum = format!("sha256:{}", hex(&hash));
    if sum != header.checksum || bytes != header.content_bytes {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            location: "end".into(),
            reason: format!(
                "the checksum does not match the header ({sum} over {bytes} bytes; the header says {} over {}): the archive is damaged; nothing was taken from it",
                header.checksum, header.content_bytes
            ),
        });
    }
    if sessions != header.sessions || messages != header.messages {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            location: "end".into(),
            reason: format!(
                "{sessions} sessions and {messages} messages, where the header says {} and {}: the archive is damaged",
                header.sessions, header.messages
            ),
        });
    }
    Ok(header)
}

/// The reading side of [`read_lines`]: lines in chunks, hashed. Returns the
/// hash, the bytes and the lines read.
fn read_chunks(
    path: &Path,
    mut reader: impl BufRead,
    send: &std::sync::mpsc::SyncSender<Vec<Vec<u8>>>,
) -> Result<([u8; 32], u64, u64)> {
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    let mut lines = 0u64;
    let mut chunk: Vec<Vec<u8>> = Vec::new();
    let mut chunk_bytes = 0usize;
    loop {
        let mut line = Vec::new();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| damaged(path, &format!("session {}", lines + 1), &e))?;
        if n == 0 {
            break;
        }
        hash.update(&line);
        bytes += n as u64;
        if line.last() != Some(&b'\n') {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                location: format!("session {}", lines + 1),
                reason: "the archive ends in the middle of a session: it is cut short; nothing was taken from it".into(),
            });
        }
        lines += 1;
        chunk_bytes += n;
        chunk.push(line);
        if chunk_bytes >= 1 << 20 {
            chunk_bytes = 0;
            if send.send(std::mem::take(&mut chunk)).is_err() {
                // The parsing side stopped: its error is the answer.
                return Ok((hash.finalize().into(), bytes, lines));
            }
        }
    }
    if !chunk.is_empty() {
        let _ = send.send(chunk);
    }
    Ok((hash.finalize().into(), bytes, lines))
}

fn not_a_session(path: &Path, n: u64, e: &serde_json::Error) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        location: format!("session {n}"),
        reason: format!("not a session ({e}): the archive is damaged"),
    }
}

/// Reads every session of an archive in order, giving each to `each`, and
/// checks the whole file (see [`read_lines`]). The sessions seen before a
/// failure are not vouched for: a caller that keeps them must wait for
/// `Ok` (an import does: a file is one transaction).
pub fn read_sessions(
    path: &Path,
    progress: &ProgressFn<'_>,
    each: &mut dyn FnMut(SessionDoc) -> Result<()>,
) -> Result<Header> {
    read_lines(path, progress, &mut |line, n| {
        let doc: SessionDoc =
            serde_json::from_slice(line).map_err(|e| not_a_session(path, n, &e))?;
        let messages = doc.messages.len() as u64;
        each(doc)?;
        Ok(messages)
    })
}

/// What listing and checking need of a session line: its messages are
/// counted, not read.
#[derive(Deserialize)]
struct Light {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    updated_at: Option<Timestamp>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    messages: Counted,
}

/// The length of a JSON array, its elements skipped.
#[derive(Default)]
struct Counted(u64);

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Counted;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of messages")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Counted, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Counted(n))
            }
        }
        d.deserialize_seq(Visit)
    }
}

fn read_light(
    path: &Path,
    progress: &ProgressFn<'_>,
    each: &mut dyn FnMut(Light),
) -> Result<Header> {
    read_lines(path, progress, &mut |line, n| {
        let doc: Light = serde_json::from_slice(line).map_err(|e| not_a_session(path, n, &e))?;
        let messages = doc.messages.0;
        each(doc);
        Ok(messages)
    })
}

/// Checks an archive whole: every line a session, the counts and the
/// checksum as the header says.
pub fn verify(path: &Path, progress: &ProgressFn<'_>) -> Result<Header> {
    read_light(path, progress, &mut |_| {})
}

/// One session of an archive, as `archive --list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: Option<String>,
    /// Its title.
    pub title: String,
    /// Its messages.
    pub messages: u64,
    /// Its last update.
    pub updated_at: Option<Timestamp>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The session it was branched from.
    pub parent: Option<String>,
}

/// The header and the sessions of an archive, checked whole.
pub fn list(path: &Path, progress: &ProgressFn<'_>) -> Result<(Header, Vec<Entry>)> {
    let mut entries = Vec::new();
    let header = read_light(path, progress, &mut |doc| {
        entries.push(Entry {
            name: doc.name.unwrap_or_default(),
            uid: doc.uid,
            title: doc.title,
            messages: doc.messages.0,
            updated_at: doc.updated_at,
            tags: doc.tags,
            parent: doc.parent,
        });
    })?;
    Ok((header, entries))
}

/// What [`archive`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchiveReport {
    /// The file written.
    pub archive: Written,
    /// Sessions removed from the store (0 with `keep`).
    pub removed: usize,
    /// The database file's size before and after.
    pub db_bytes_before: u64,
    /// After the removal and the space given back.
    pub db_bytes_after: u64,
}

/// Writes the sessions `ids` to a new verified archive at `path`; then,
/// unless `keep`, removes them from the store in one transaction (noting
/// the file each went to) and gives the space back to the file system.
pub fn archive(
    store: &mut Store,
    ids: &[SessionId],
    path: &Path,
    keep: bool,
    progress: &ProgressFn<'_>,
    control: &JobControl,
) -> Result<ArchiveReport> {
    let db_bytes_before = store.file_bytes()?;
    let started = std::time::Instant::now();
    let written = write(store, ids, path, progress, control)?;
    let wrote = started.elapsed();
    let mut removed = 0;
    if !keep {
        let name = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        removed = store.remove_archived(&written.states, &name.display().to_string())?;
        let removing = started.elapsed();
        store.release_free_pages()?;
        tracing::info!(
            write_and_verify_secs = wrote.as_secs_f64(),
            remove_secs = removing.saturating_sub(wrote).as_secs_f64(),
            vacuum_secs = started.elapsed().saturating_sub(removing).as_secs_f64(),
            "archive stages"
        );
    }
    Ok(ArchiveReport {
        archive: written,
        removed,
        db_bytes_before,
        db_bytes_after: store.file_bytes()?,
    })
}

/// One session of an archive that a query matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchiveHit {
    /// The session's name.
    pub name: String,
    /// Its uid.
    pub uid: String,
    /// Its title.
    pub title: String,
    /// Seq of its best matching message.
    pub seq: Option<u64>,
    /// Text around the match.
    pub snippet: String,
    /// Relevance within its part of the archive.
    pub score: f32,
}

/// Sessions read into memory at a time by [`search`].
const SEARCH_BATCH: usize = 2000;

/// Searches an archive without importing it: a batch of sessions at a time
/// goes into a store and index in memory and is queried there, so memory
/// stays bounded however large the archive. Returns the best `limit`
/// sessions (scores are of each batch, so the order across batches is
/// approximate) once the whole file has checked out.
pub fn search(
    path: &Path,
    query: &str,
    limit: usize,
    progress: &ProgressFn<'_>,
) -> Result<(Header, Vec<ArchiveHit>)> {
    crate::search::query::parse(query, crate::domain::now())
        .map_err(|e| Error::Query(format!("{e}\n{}", e.pointer(query))))?;
    let mut hits: Vec<ArchiveHit> = Vec::new();
    let mut batch: Vec<SessionDoc> = Vec::new();
    let run = |docs: &mut Vec<SessionDoc>, hits: &mut Vec<ArchiveHit>| -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let mut store = Store::open_in_memory()?;
        store.import_docs(docs.drain(..), crate::store::ImportOptions::default())?;
        let mut search = crate::search::Search::open(&store, &|_, _| {})?;
        let results = search.query(
            query,
            crate::search::Limit {
                limit,
                offset: 0,
                archived: true,
                snippets: true,
            },
        )?;
        hits.extend(results.hits.into_iter().map(|h| ArchiveHit {
            name: h.session.name,
            uid: h.session.uid.0,
            title: h.session.title,
            seq: h.message.map(|m| m.seq),
            snippet: h.snippet,
            score: h.score,
        }));
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        Ok(())
    };
    let header = read_sessions(path, progress, &mut |doc| {
        batch.push(doc);
        if batch.len() >= SEARCH_BATCH {
            run(&mut batch, &mut hits)?;
        }
        Ok(())
    })?;
    run(&mut batch, &mut hits)?;
    Ok((header, hits))
}
