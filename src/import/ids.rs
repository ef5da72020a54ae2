//! Stable ids for what importers bring in: a session's uid is derived from
//! its source and the source's own id, so that every import of the same
//! conversation names the same session (and a branch can name its parent
//! before either is stored); a record without a usable id is identified by
//! a hash of its content.

use crate::domain::Uid;

/// FNV-1a, 128 bits: stable across builds and platforms (the standard
/// library's hasher is not), and plenty against accidental collisions.
#[derive(Clone, Copy)]
pub struct ContentHash(u128);

const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

impl Default for ContentHash {
    fn default() -> Self {
        ContentHash(OFFSET)
    }
}

impl ContentHash {
    /// A hash with nothing in it yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes.
    pub fn bytes(&mut self, data: &[u8]) -> &mut Self {
        for b in data {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
        self
    }

    /// Adds a string as one field: fields are separated, so that ("ab", "c")
    /// and ("a", "bc") differ.
    pub fn field(&mut self, text: &str) -> &mut Self {
        self.bytes(&(text.len() as u64).to_le_bytes())
            .bytes(text.as_bytes())
    }

    /// The hash as 32 hexadecimal digits.
    pub fn hex(&self) -> String {
        format!("{:032x}", self.0)
    }

    /// The hash as a UUID (version 8, "custom"), for uids.
    pub fn uuid(&self) -> uuid::Uuid {
        let mut bytes = self.0.to_be_bytes();
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        uuid::Uuid::from_bytes(bytes)
    }
}

/// The uid of the session that `source` calls `source_ref`: the same on every
/// import, different for every (source, reference).
pub fn uid_for(source: &str, source_ref: &str) -> Uid {
    Uid(ContentHash::new()
        .field("scrollback-import")
        .field(source)
        .field(source_ref)
        .uuid()
        .to_string())
}

/// A reference for a record that carries no usable id, made from its
/// content: `h:` and 32 hexadecimal digits.
pub fn content_ref<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = ContentHash::new();
    for f in fields {
        h.field(f);
    }
    format!("h:{}", h.hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_stable_distinct_and_well_formed() {
        let a = uid_for("claude-code", "abc");
        assert_eq!(a, uid_for("claude-code", "abc"));
        assert_ne!(a, uid_for("codex", "abc"));
        assert_ne!(uid_for("a", "bc"), uid_for("ab", "c"));
        let parsed = uuid::Uuid::parse_str(a.as_str()).expect("a uuid");
        assert_eq!(parsed.get_version_num(), 8);
    }

    #[test]
    fn content_refs_separate_fields() {
        assert_ne!(content_ref(["ab", "c"]), content_ref(["a", "bc"]));
        assert_eq!(content_ref(["x"]), content_ref(["x"]));
        // The FNV-1a 128 of the empty input is its offset basis.
        assert_eq!(ContentHash::new().hex(), "6c62272e07bb014262b821756295c58d");
    }
}
