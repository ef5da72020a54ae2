//! Commands: the side effects `App::update` asks for. The runtime carries
//! them out (store and search work on worker threads, terminal work on the
//! main thread) and answers with events.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::domain::{
    CleanupAction, CleanupCriteria, CleanupPlan, ListQuery, MergeOrder, Role, SessionId,
};
use crate::export::ExportFormat;
use crate::import::Format;

/// A side effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Count and load a window of the session list.
    LoadList {
        generation: u64,
        query: ListQuery,
        offset: u64,
        limit: u64,
    },
    /// Load a window of a session's messages (and the session).
    LoadHistory {
        id: SessionId,
        from: u64,
        limit: u64,
    },
    /// Load the metadata pane of a session.
    LoadMeta { id: SessionId },
    /// Run a search; only the latest generation matters.
    Search {
        generation: u64,
        text: String,
        archived: bool,
    },
    /// Seqs of the messages of one session that match a query.
    SessionHits { id: SessionId, text: String },
    /// Load the store statistics.
    LoadStats,
    /// Load the tag names in use (for completion).
    LoadTags,
    /// Preview a cleanup.
    PreviewCleanup {
        criteria: CleanupCriteria,
        action: CleanupAction,
    },
    /// Count the messages of a merge.
    PreviewMerge {
        ids: Vec<SessionId>,
        order: MergeOrder,
    },
    /// Change the store.
    Mutate(Mutation),
    /// Put text on the clipboard with OSC 52.
    Copy { text: String, what: String },
    /// Hand the terminal to $PAGER or $EDITOR with this text.
    External { editor: bool, text: String },
    /// Turn mouse capture on or off.
    SetMouse(bool),
    /// Let the index catch up with the store (after a change).
    SyncIndex,
}

/// A change to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    Rename {
        id: SessionId,
        name: String,
    },
    Tags {
        id: SessionId,
        add: Vec<String>,
        remove: Vec<String>,
    },
    Metadata {
        id: SessionId,
        metadata: Map<String, Value>,
    },
    Branch {
        id: SessionId,
        name: String,
        at: u64,
    },
    Merge {
        ids: Vec<SessionId>,
        name: String,
        order: MergeOrder,
    },
    Cleanup {
        plan: CleanupPlan,
    },
    Trash {
        ids: Vec<SessionId>,
    },
    Restore {
        ids: Vec<SessionId>,
    },
    Compose {
        id: SessionId,
        role: Role,
        text: String,
    },
    New {
        name: String,
        template: Option<String>,
    },
    Export {
        ids: Vec<SessionId>,
        format: ExportFormat,
        path: PathBuf,
    },
    Import {
        path: PathBuf,
        format: Option<Format>,
    },
}
