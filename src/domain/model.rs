//! Sessions and messages as the rest of the program sees them, and the JSON
//! document shape (`SessionDoc`) that export writes and import reads.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// The store's internal row id of a session. Not shown to people; use [`Uid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub i64);

/// The stable public id of a session: printed, exported, kept across imports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Uid(pub String);

impl Uid {
    /// A fresh random uid (UUID v4, hyphenated, lower case).
    pub fn new_random() -> Self {
        Uid(uuid::Uuid::new_v4().to_string())
    }

    /// The uid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// Output of a tool call.
    Tool,
}

impl Role {
    /// All roles, in display order.
    pub const ALL: [Role; 4] = [Role::System, Role::User, Role::Assistant, Role::Tool];

    /// The role's name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "system" => Ok(Role::System),
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            "tool" => Ok(Role::Tool),
            _ => Err(Error::invalid(
                "role",
                s,
                "one of system, user, assistant, tool",
            )),
        }
    }
}

/// What a message is, beside who wrote it: plain text, or one of the parts
/// agent tools write (reasoning, tool calls and their output, text the tool
/// injected, compaction summaries, images). The browser folds every kind but
/// `text` and `summary` by default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Plain text.
    #[default]
    Text,
    /// The model's reasoning, kept and marked.
    Thinking,
    /// A call of a tool: a one-line summary (`Bash: cargo test`) as the text,
    /// the full input in the metadata (`input`).
    ToolCall,
    /// A tool's output; the metadata's `call_id` names the call it answers.
    ToolResult,
    /// Text the tool injected: instructions files, environment blocks, meta
    /// lines, interruption markers.
    Context,
    /// A compaction summary.
    Summary,
    /// A placeholder for an image or attachment: what and how large, never the bytes.
    Image,
}

impl Kind {
    /// Every kind, in display order.
    pub const ALL: [Kind; 7] = [
        Kind::Text,
        Kind::Thinking,
        Kind::ToolCall,
        Kind::ToolResult,
        Kind::Context,
        Kind::Summary,
        Kind::Image,
    ];

    /// The kind's name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Thinking => "thinking",
            Kind::ToolCall => "tool_call",
            Kind::ToolResult => "tool_result",
            Kind::Context => "context",
            Kind::Summary => "summary",
            Kind::Image => "image",
        }
    }

    /// True for the kinds the browser folds by default.
    pub fn folded_by_default(self) -> bool {
        matches!(
            self,
            Kind::Thinking | Kind::ToolCall | Kind::ToolResult | Kind::Context | Kind::Image
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "kind",
                    s,
                    "one of text, thinking, tool_call, tool_result, context, summary, image",
                )
            })
    }
}

/// Token counts reported by the model's API for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tokens {
    /// Prompt (input) tokens.
    #[serde(default)]
    pub input: u64,
    /// Completion (output) tokens.
    #[serde(default)]
    pub output: u64,
}

/// A session as stored, without its messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// Internal row id.
    #[serde(skip)]
    pub id: SessionId,
    /// Stable public id.
    pub uid: Uid,
    /// Unique human handle.
    pub name: String,
    /// Free text title.
    pub title: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Last change to its messages, name or title.
    pub updated_at: Timestamp,
    /// Number of messages.
    pub message_count: u64,
    /// Number of characters over all messages.
    pub char_count: u64,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Free-form metadata (a JSON object).
    pub metadata: Map<String, Value>,
    /// Where it came from (`scrollback` for sessions made here).
    pub source: String,
    /// The source tool's own id for it, if imported.
    pub source_ref: Option<String>,
    /// Uid of the session it was branched from.
    pub parent: Option<Uid>,
    /// Seq of the parent's last message it holds, if a branch.
    pub fork_seq: Option<u64>,
    /// Whether it is archived.
    pub archived: bool,
    /// Whether it is in the trash.
    pub trashed: bool,
    /// When it was archived.
    pub archived_at: Option<Timestamp>,
    /// When it was moved to the trash.
    pub trashed_at: Option<Timestamp>,
}

/// One message as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Position in the session, 0-based and dense.
    pub seq: u64,
    /// Who wrote it.
    pub role: Role,
    /// What it is.
    pub kind: Kind,
    /// The text.
    pub content: String,
    /// When it was written.
    pub created_at: Timestamp,
    /// The model that wrote it, for assistant messages.
    pub model: Option<String>,
    /// Token counts, when known.
    pub tokens: Option<Tokens>,
    /// Free-form metadata (a JSON object).
    pub metadata: Map<String, Value>,
    /// The source tool's own id for it, if imported.
    pub source_id: Option<String>,
}

/// What is needed to add a message; missing time means "now".
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Who wrote it.
    pub role: Role,
    /// What it is.
    pub kind: Kind,
    /// The text.
    pub content: String,
    /// When it was written (default: now).
    pub created_at: Option<Timestamp>,
    /// The model that wrote it.
    pub model: Option<String>,
    /// Token counts.
    pub tokens: Option<Tokens>,
    /// Metadata object.
    pub metadata: Map<String, Value>,
    /// The source tool's own id.
    pub source_id: Option<String>,
}

impl NewMessage {
    /// A message with a role and text, stamped when it is added.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        NewMessage {
            role,
            kind: Kind::Text,
            content: content.into(),
            created_at: None,
            model: None,
            tokens: None,
            metadata: Map::new(),
            source_id: None,
        }
    }
}

impl From<Message> for NewMessage {
    fn from(m: Message) -> Self {
        NewMessage {
            role: m.role,
            kind: m.kind,
            content: m.content,
            created_at: Some(m.created_at),
            model: m.model,
            tokens: m.tokens,
            metadata: m.metadata,
            source_id: m.source_id,
        }
    }
}

/// What is needed to create a session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSession {
    /// Unique handle (required).
    pub name: String,
    /// Title (default: empty).
    pub title: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Metadata object.
    pub metadata: Map<String, Value>,
    /// Name or uid of a session to start from: its title (if none is given),
    /// tags, metadata and messages are copied.
    pub template: Option<String>,
}

impl NewSession {
    /// A session with just a name.
    pub fn named(name: impl Into<String>) -> Self {
        NewSession {
            name: name.into(),
            ..NewSession::default()
        }
    }
}

/// A whole session as one JSON document: what `export` writes and `import`
/// reads. Reading is lenient: only `name` or `uid` and `messages` matter,
/// everything else has a default; derived keys (`message_count`, `archived`,
/// ...) are ignored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionDoc {
    /// Stable id; a new one is made when absent.
    pub uid: Option<Uid>,
    /// Unique handle; derived from the file or uid when absent.
    pub name: Option<String>,
    /// Title.
    pub title: String,
    /// Creation time (default: first message's time, else now).
    pub created_at: Option<Timestamp>,
    /// Last update (default: last message's time, else `created_at`).
    pub updated_at: Option<Timestamp>,
    /// Archive time.
    pub archived_at: Option<Timestamp>,
    /// Trash time.
    pub trashed_at: Option<Timestamp>,
    /// Tags.
    pub tags: Vec<String>,
    /// Metadata object.
    pub metadata: Map<String, Value>,
    /// Origin (default `scrollback`).
    pub source: Option<String>,
    /// Origin's id.
    pub source_ref: Option<String>,
    /// Parent uid (lineage).
    pub parent: Option<Uid>,
    /// Fork point in the parent.
    pub fork_seq: Option<u64>,
    /// The messages in order.
    pub messages: Vec<MessageDoc>,
}

/// A message inside a [`SessionDoc`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageDoc {
    /// Position (ignored on import: the position in the array counts).
    pub seq: Option<u64>,
    /// Who wrote it.
    pub role: Option<Role>,
    /// What it is (default: text).
    pub kind: Kind,
    /// The text.
    pub content: String,
    /// When (default: the session's creation time).
    pub created_at: Option<Timestamp>,
    /// Model.
    pub model: Option<String>,
    /// Token counts.
    pub tokens: Option<Tokens>,
    /// Metadata object.
    pub metadata: Map<String, Value>,
    /// Source id.
    pub source_id: Option<String>,
    /// Where an import set the message aside while it read the rest of a
    /// large file (its text and metadata are then empty here). Never read
    /// nor written as JSON.
    #[serde(skip)]
    pub stash: Option<Stashed>,
}

/// A message set aside on disk during an import: where it lies in the
/// import's stash file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stashed {
    /// Byte offset in the stash file.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

impl SessionDoc {
    /// The document for a stored session and its messages.
    pub fn from_stored(s: &Session, messages: Vec<Message>) -> Self {
        SessionDoc {
            uid: Some(s.uid.clone()),
            name: Some(s.name.clone()),
            title: s.title.clone(),
            created_at: Some(s.created_at),
            updated_at: Some(s.updated_at),
            archived_at: s.archived_at,
            trashed_at: s.trashed_at,
            tags: s.tags.clone(),
            metadata: s.metadata.clone(),
            source: Some(s.source.clone()),
            source_ref: s.source_ref.clone(),
            parent: s.parent.clone(),
            fork_seq: s.fork_seq,
            messages: messages.into_iter().map(MessageDoc::from).collect(),
        }
    }
}

impl From<Message> for MessageDoc {
    fn from(m: Message) -> Self {
        MessageDoc {
            seq: Some(m.seq),
            role: Some(m.role),
            kind: m.kind,
            content: m.content,
            created_at: Some(m.created_at),
            model: m.model,
            tokens: m.tokens,
            metadata: m.metadata,
            source_id: m.source_id,
            stash: None,
        }
    }
}
