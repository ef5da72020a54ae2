//! scrollback's own JSON and JSONL: what `export` writes, read back exactly.
//!
//! Reading is lenient (only `name` or `uid` and `messages` matter), but an
//! object with none of a session's keys is not taken for an empty session:
//! it is an error naming the file and the line, so that another tool's file
//! forced through `--format json` or `jsonl` (a Claude Code transcript, say)
//! is refused instead of filling the store with empty sessions.

use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, de::Error as _};

use super::Sink;
use super::json::{for_each_element, for_each_line};
use crate::domain::SessionDoc;
use crate::error::Result;

/// The keys of a session document (see [`SessionDoc`]): an object needs one
/// of them to be read as a session.
const SESSION_KEYS: [&str; 14] = [
    "uid",
    "name",
    "title",
    "created_at",
    "updated_at",
    "archived_at",
    "trashed_at",
    "tags",
    "metadata",
    "source",
    "source_ref",
    "parent",
    "fork_seq",
    "messages",
];

/// One session object or an array of them.
pub fn read_json<R: Read>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    let mut first = true;
    for_each_element(path, reader, "sessions", |Checked(mut doc)| {
        if doc.name.is_none() && doc.uid.is_none() && first {
            doc.name = Some(super::name_from_path(path));
        }
        first = false;
        sink.session(doc)
    })?;
    Ok(())
}

/// One session object per line.
pub fn read_jsonl<R: BufRead>(path: &Path, reader: R, sink: &mut dyn Sink) -> Result<()> {
    for_each_line(path, reader, |Checked(doc), line| {
        sink.session(doc).map_err(|e| match e {
            crate::Error::Parse {
                path,
                location,
                reason,
            } => crate::Error::Parse {
                path,
                location: format!("line {line}, {location}"),
                reason,
            },
            other => other,
        })
    })?;
    Ok(())
}

/// A [`SessionDoc`] read from an object that has at least one of its keys.
struct Checked(SessionDoc);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scrollback session object {\"name\", \"messages\": [...], ...}")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Checked, A::Error> {
        let mut keys = Keys::default();
        let doc = SessionDoc::deserialize(MapAccessDeserializer::new(Recording {
            inner: map,
            keys: &mut keys,
        }))?;
        if keys.session {
            Ok(Checked(doc))
        } else {
            Err(A::Error::custom(not_a_session(&keys)))
        }
    }
}

/// The keys met in an object: the first few, and whether one is a session's.
#[derive(Default)]
struct Keys {
    first: Vec<String>,
    more: bool,
    session: bool,
}

const KEYS_SHOWN: usize = 6;

fn not_a_session(keys: &Keys) -> String {
    let found = if keys.first.is_empty() {
        "an empty object".to_string()
    } else {
        format!(
            "an object with the keys {}{}",
            keys.first.join(", "),
            if keys.more { ", ..." } else { "" }
        )
    };
    let has = |k: &str| keys.first.iter().any(|x| x == k);
    let hint = if has("type") && (has("sessionId") || has("uuid")) {
        " (this looks like a line of a Claude Code transcript, which is not a scrollback export)"
    } else {
        ""
    };
    format!(
        "not a scrollback session: found {found}{hint}; expected a session object with \
         \"name\" or \"uid\" and \"messages\": [...]"
    )
}

/// Passes a map through, noting its keys.
struct Recording<'k, A> {
    inner: A,
    keys: &'k mut Keys,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Recording<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.inner.next_key::<String>()? else {
            return Ok(None);
        };
        self.keys.session |= SESSION_KEYS.contains(&key.as_str());
        if self.keys.first.len() < KEYS_SHOWN {
            self.keys.first.push(key.chars().take(40).collect());
        } else {
            self.keys.more = true;
        }
        let de: StringDeserializer<A::Error> = key.into_deserializer();
        seed.deserialize(de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> std::result::Result<SessionDoc, String> {
        serde_json::from_str::<Checked>(text)
            .map(|c| c.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_object_without_session_keys_is_not_a_session() {
        let e = read(r#"{"foo": 1}"#).expect_err("not a session");
        assert!(
            e.contains("not a scrollback session") && e.contains("foo"),
            "{e}"
        );
        let e = read(r#"{"type":"user","message":{"role":"user","content":"hi"},"uuid":"a","sessionId":"s"}"#)
            .expect_err("Claude Code");
        assert!(e.contains("Claude Code"), "{e}");
        let e = read("{}").expect_err("empty");
        assert!(e.contains("empty object"), "{e}");
        let e = read("[1]").expect_err("not an object");
        assert!(e.contains("expected a scrollback session object"), "{e}");
    }

    #[test]
    fn sessions_read_as_before() {
        let doc =
            read(r#"{"name": "a", "extra": true, "messages": [{"role": "user", "content": "x"}]}"#)
                .expect("a session");
        assert_eq!(doc.name.as_deref(), Some("a"));
        assert_eq!(doc.messages.len(), 1);
        assert!(read(r#"{"uid": "u-1"}"#).is_ok());
        // Errors inside a session still say what was expected.
        let e = read(r#"{"name": "a", "messages": 3}"#).expect_err("bad messages");
        assert!(e.contains("invalid type"), "{e}");
    }
}
