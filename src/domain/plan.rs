//! Queries and plans: what to list, what a merge produces, what a cleanup
//! touches. Built without I/O so they can be previewed and tested; the store
//! executes them.

use jiff::Timestamp;
use serde::Serialize;

use super::model::{Message, Uid};

/// Which sessions a listing includes, by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// Neither archived nor trashed.
    #[default]
    Live,
    /// Archived and not trashed.
    Archived,
    /// In the trash.
    Trashed,
    /// Everything.
    All,
}

/// Order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently updated first.
    #[default]
    Updated,
    /// Most recently created first.
    Created,
    /// By name, A to Z.
    Name,
    /// Most messages first.
    Size,
}

/// A listing: filters are ANDed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Sessions carrying every one of these tags.
    pub tags: Vec<String>,
    /// Sessions whose metadata has every `key = value` (compared as text).
    pub metadata: Vec<(String, String)>,
    /// Sessions from this source.
    pub source: Option<String>,
    /// Sessions last updated before this moment.
    pub updated_before: Option<Timestamp>,
    /// Sessions whose name holds these characters in this order, any case
    /// (a fuzzy match: `apr` matches `api-redesign`).
    pub name_like: Option<String>,
    /// By state.
    pub state: StateFilter,
    /// Order.
    pub sort: Sort,
    /// At most this many.
    pub limit: Option<u64>,
    /// Skip this many first.
    pub offset: u64,
    /// Start just after this session (keyset paging: a page far down costs
    /// what the first does, and rows added or removed meanwhile shift
    /// nothing).
    pub after: Option<ListCursor>,
}

/// Where the next page of a listing starts: the sort key and id of the last
/// session of the page before, in the listing's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// The sort the cursor was made for.
    pub sort: Sort,
    /// The last session's value of the sort key (a time in milliseconds, a
    /// message count, or its name).
    pub key: CursorKey,
    /// The last session's internal id (ties in the sort key).
    pub id: super::SessionId,
}

/// The value of a listing's sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorKey {
    /// Times and counts.
    Number(i64),
    /// Names.
    Text(String),
}

impl ListCursor {
    /// The cursor after `s` in a listing sorted by `sort`.
    pub fn after(s: &super::Session, sort: Sort) -> Self {
        let key = match sort {
            Sort::Updated => CursorKey::Number(super::ts_to_ms(s.updated_at)),
            Sort::Created => CursorKey::Number(super::ts_to_ms(s.created_at)),
            Sort::Size => CursorKey::Number(i64::try_from(s.message_count).unwrap_or(i64::MAX)),
            Sort::Name => CursorKey::Text(s.name.clone()),
        };
        ListCursor {
            sort,
            key,
            id: s.id,
        }
    }

    /// An opaque token, safe in a URL: hex of `sort.id.key`.
    pub fn encode(&self) -> String {
        let sort = match self.sort {
            Sort::Updated => 'u',
            Sort::Created => 'c',
            Sort::Name => 'n',
            Sort::Size => 's',
        };
        let key = match &self.key {
            CursorKey::Number(n) => n.to_string(),
            CursorKey::Text(t) => t.clone(),
        };
        let text = format!("{sort}.{}.{key}", self.id.0);
        let mut hex = String::with_capacity(text.len() * 2);
        for b in text.bytes() {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        hex
    }

    /// Reads a token made by [`encode`](Self::encode); `None` when it is not one.
    pub fn decode(token: &str) -> Option<Self> {
        if !token.len().is_multiple_of(2) || !token.is_ascii() {
            return None;
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, '.');
        let sort = match parts.next()? {
            "u" => Sort::Updated,
            "c" => Sort::Created,
            "n" => Sort::Name,
            "s" => Sort::Size,
            _ => return None,
        };
        let id = super::SessionId(parts.next()?.parse().ok()?);
        let key = parts.next()?;
        let key = if sort == Sort::Name {
            CursorKey::Text(key.to_string())
        } else {
            CursorKey::Number(key.parse().ok()?)
        };
        Some(ListCursor { sort, key, id })
    }
}

/// What a cleanup does to the sessions its plan names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CleanupAction {
    /// Set them aside (still searchable with a flag, restorable).
    Archive,
    /// Move them to the trash (restorable until purged).
    Trash,
    /// Delete them for good.
    Purge,
}

/// Criteria of a cleanup, ANDed. At least one must be set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CleanupCriteria {
    /// Last updated before this moment.
    pub updated_before: Option<Timestamp>,
    /// Holding no messages.
    pub empty: bool,
    /// Carrying this tag.
    pub tag: Option<String>,
    /// Not carrying this tag.
    pub without_tag: Option<String>,
    /// From this source.
    pub source: Option<String>,
    /// Holding more than this many messages.
    pub larger_than: Option<u64>,
}

impl CleanupCriteria {
    /// True when no criterion is set (a cleanup of everything, which is refused).
    pub fn is_empty(&self) -> bool {
        self.updated_before.is_none()
            && !self.empty
            && self.tag.is_none()
            && self.without_tag.is_none()
            && self.source.is_none()
            && self.larger_than.is_none()
    }
}

/// One session named by a cleanup plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedSession {
    /// Internal id (not serialised).
    #[serde(skip)]
    pub id: super::SessionId,
    /// Public id.
    pub uid: Uid,
    /// Name.
    pub name: String,
    /// Messages it holds.
    pub message_count: u64,
    /// Last update.
    pub updated_at: Timestamp,
}

/// The sessions a cleanup would touch, and how. Apply it with `Store::apply_cleanup`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CleanupPlan {
    /// What will be done.
    pub action: CleanupAction,
    /// The criteria it was built from.
    pub criteria: CleanupCriteria,
    /// Tags whose sessions were left out because they are protected.
    pub protected_tags: Vec<String>,
    /// The sessions, oldest first.
    pub sessions: Vec<PlannedSession>,
}

impl CleanupPlan {
    /// Total messages in the planned sessions.
    pub fn message_count(&self) -> u64 {
        self.sessions.iter().map(|s| s.message_count).sum()
    }
}

/// How merged messages are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeOrder {
    /// By message time; ties keep the given order.
    #[default]
    Time,
    /// Session after session, in the order given.
    Given,
}

/// One input of a merge: a session's lineage and its messages.
#[derive(Debug, Clone)]
pub struct MergeInput {
    /// The session's uid.
    pub uid: Uid,
    /// Its parent's uid, if a branch.
    pub parent: Option<Uid>,
    /// Its messages, in seq order.
    pub messages: Vec<Message>,
}

/// Plans a merge: returns `(input index, message index)` pairs in the order
/// the merged session holds them.
///
/// Every message of every input appears once, except that a prefix shared
/// with an earlier input of the same lineage (siblings of one parent, or a
/// parent and its branch) appears only once, from the earlier input.
/// Messages are equal for this purpose when role, content, time and model match.
pub fn plan_merge(inputs: &[MergeInput], order: MergeOrder) -> Vec<(usize, usize)> {
    let mut picked = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let skip = inputs[..i]
            .iter()
            .filter(|earlier| related(earlier, input))
            .map(|earlier| shared_prefix(&earlier.messages, &input.messages))
            .max()
            .unwrap_or(0);
        picked.extend((skip..input.messages.len()).map(|j| (i, j)));
    }
    if order == MergeOrder::Time {
        // Stable: equal times keep the given order.
        picked.sort_by_key(|&(i, j)| inputs[i].messages[j].created_at);
    }
    picked
}

fn related(a: &MergeInput, b: &MergeInput) -> bool {
    a.uid == b.uid
        || (a.parent.is_some() && a.parent == b.parent)
        || a.parent.as_ref() == Some(&b.uid)
        || b.parent.as_ref() == Some(&a.uid)
}

fn shared_prefix(a: &[Message], b: &[Message]) -> usize {
    a.iter()
        .zip(b)
        .take_while(|(x, y)| {
            x.role == y.role
                && x.created_at == y.created_at
                && x.model == y.model
                && x.content == y.content
        })
        .count()
}
