//! Where an import sets messages aside while it reads the rest of a large
//! file. A tree-shaped conversation can only be made into sessions once its
//! last line is read; holding every message of a 1 GB file until then would
//! take gigabytes. Past a budget of bytes held, an importer puts each large
//! message into the stash, an unnamed temporary file, and keeps a small
//! stand-in with its ids; the import takes the messages back a slice at a
//! time as it writes them to the store.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::domain::{MessageDoc, Stashed};
use crate::error::{Error, Result};

/// Bytes of messages an importer holds before it starts stashing (the
/// environment variable `SCROLLBACK_STASH_BUDGET` sets another, for tests).
pub const BUDGET: u64 = 32 << 20;
/// A message smaller than this is not worth stashing.
const SMALL: usize = 2048;

/// The stash of one file's import. The temporary file is made on first use
/// and gone when the stash is dropped (on Unix it has no name at all once
/// opened).
pub struct Stash {
    file: Option<File>,
    end: u64,
    held: u64,
    budget: u64,
}

impl Default for Stash {
    fn default() -> Self {
        let budget = std::env::var("SCROLLBACK_STASH_BUDGET")
            .ok()
            .and_then(|b| b.parse().ok())
            .unwrap_or(BUDGET);
        Stash {
            file: None,
            end: 0,
            held: 0,
            budget,
        }
    }
}

impl Stash {
    /// A stash that has set nothing aside.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of messages to take back at a time: a quarter of the budget,
    /// from 256 KB to 16 MB.
    pub fn slice_bytes(&self) -> u64 {
        (self.budget / 4).clamp(256 << 10, 16 << 20)
    }

    /// Takes a message the importer will hold until the end of the file:
    /// the message itself while under budget, else a stand-in (its role,
    /// kind, time, model, tokens, source id and small metadata) with the
    /// rest on disk.
    pub fn keep(&mut self, m: MessageDoc) -> Result<MessageDoc> {
        let size = m.content.len() + m.metadata.len() * 32;
        if self.held < self.budget || m.content.len() < SMALL {
            self.held += size as u64;
            return Ok(m);
        }
        // The text as it is, then the metadata as JSON.
        let mut bytes = Vec::with_capacity(8 + m.content.len() + 64);
        bytes.extend_from_slice(&(m.content.len() as u64).to_le_bytes());
        bytes.extend_from_slice(m.content.as_bytes());
        serde_json::to_writer(&mut bytes, &m.metadata)?;
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(temp_file()?),
        };
        file.seek(SeekFrom::Start(self.end))
            .and_then(|_| file.write_all(&bytes))
            .map_err(stash_error)?;
        let at = Stashed {
            offset: self.end,
            len: bytes.len() as u64,
        };
        self.end += at.len;
        // The stand-in keeps the small metadata (ids such as `call_id`) for
        // the importer to read; the whole of it comes back from the disk.
        let small = m
            .metadata
            .iter()
            .filter(|(_, v)| {
                !matches!(
                    v,
                    serde_json::Value::Object(_) | serde_json::Value::Array(_)
                )
            })
            .filter(|(_, v)| v.as_str().is_none_or(|t| t.len() <= 256))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(MessageDoc {
            content: String::new(),
            metadata: small,
            stash: Some(at),
            ..m
        })
    }

    /// The whole message back (a message never stashed comes back as it is).
    pub fn take(&mut self, m: MessageDoc) -> Result<MessageDoc> {
        let (Some(at), Some(file)) = (m.stash, self.file.as_mut()) else {
            return Ok(m);
        };
        let mut bytes = vec![0; usize::try_from(at.len).unwrap_or(usize::MAX)];
        file.seek(SeekFrom::Start(at.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(stash_error)?;
        let broken = || stash_error(std::io::Error::other("the stash file was changed"));
        let len = bytes
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= bytes.len() - 8)
            .ok_or_else(broken)?;
        let mut metadata: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes[8 + len..])?;
        bytes.truncate(8 + len);
        bytes.drain(..8);
        let content = String::from_utf8(bytes).map_err(|_| broken())?;
        // What the importer set on the stand-in since (token counts, say)
        // is kept.
        for (k, v) in &m.metadata {
            metadata.insert(k.clone(), v.clone());
        }
        Ok(MessageDoc {
            content,
            metadata,
            stash: None,
            ..m
        })
    }
}

fn stash_error(e: std::io::Error) -> Error {
    Error::io(std::env::temp_dir(), e)
}

/// An unnamed temporary file: created in the temporary folder, opened, and
/// (on Unix) removed at once, so nothing is left behind whatever happens.
fn temp_file() -> Result<File> {
    let dir = std::env::temp_dir();
    for _ in 0..16 {
        let path = dir.join(format!(
            "scrollback-import-{}-{}.stash",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&path) {
            Ok(f) => {
                #[cfg(unix)]
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    Err(Error::io(
        &dir,
        std::io::Error::other("no free name for a temporary file"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn past_the_budget_large_messages_go_to_disk_and_come_back_whole() {
        let mut stash = Stash::new();
        stash.held = stash.budget;
        let mut meta = serde_json::Map::new();
        meta.insert("call_id".into(), "c1".into());
        let m = MessageDoc {
            role: Some(Role::Tool),
            content: "output line\n".repeat(1000),
            metadata: meta.clone(),
            source_id: Some("u1".into()),
            ..MessageDoc::default()
        };
        let kept = stash.keep(m.clone()).expect("stash");
        assert!(kept.stash.is_some());
        assert!(kept.content.is_empty());
        assert_eq!(kept.metadata, meta, "small metadata stays for the importer");
        assert_eq!(kept.source_id.as_deref(), Some("u1"));
        let small = MessageDoc {
            content: "short".into(),
            ..MessageDoc::default()
        };
        assert_eq!(stash.keep(small.clone()).expect("small"), small);
        assert_eq!(stash.take(kept).expect("back"), m);
    }
}
