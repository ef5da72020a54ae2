//! Commands: the side effects `App::update` asks for. The runtime carries
//! them out (store and search work on worker threads, terminal work on the
//! main thread) and answers with events.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::domain::{
    CleanupAction, CleanupCriteria, CleanupPlan, ListQuery, MergeOrder, Role, SessionId,
};
use crate::export::ExportFormat;
use crate::import::Format;
use crate::resume::ResumePlan;

/// A side effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Count and load a window of the session list, from `offset`, or
    /// around `locate` when that session is in the list.
    LoadList {
        generation: u64,
        query: ListQuery,
        offset: u64,
        limit: u64,
        locate: Option<SessionId>,
    },
    /// Load a window of a session's messages (and the session); only the
    /// answer to the latest generation is used.
    LoadHistory {
        id: SessionId,
        generation: u64,
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
    /// Put text on the clipboard (OSC 52, or tmux's buffer).
    Copy { text: String, what: String },
    /// Hand the terminal to $PAGER or $EDITOR with this text; with `edit`,
    /// the edited text comes back as `Event::Edited` for that message.
    External {
        editor: bool,
        text: String,
        edit: Option<(SessionId, u64)>,
    },
    /// Hand the terminal to $PAGER on a prepared file (removed afterwards).
    Page { path: PathBuf },
    /// Render a whole session as Markdown: for the pager (into a private
    /// temporary file) or for the clipboard.
    PrepareSession { id: SessionId, pager: bool },
    /// Stop the process (ctrl-z) until the shell brings it back.
    Suspend,
    /// Sync every source (the tools' session folders) in the background.
    Sync,
    /// Stop the sync running (what it synced stays).
    CancelSync,
    /// Work out how to resume a session in the tool it came from, with the
    /// config's `[resume]` commands; answered by `Event::ResumePlanned`.
    PlanResume {
        id: SessionId,
        commands: BTreeMap<String, String>,
    },
    /// Hand the terminal to the program that resumes a session, in its
    /// directory; answered by `Event::Resumed` when it ends.
    Resume { plan: ResumePlan },
    /// Find a session by name (or uid prefix) and open it.
    OpenByName { name: String },
    /// Turn mouse capture on or off.
    SetMouse(bool),
    /// Let the index catch up with the store (after a change).
    SyncIndex,
    /// Answered with `Event::Barrier` once everything sent to the worker
    /// before it is done (tests and benchmarks wait for idle workers so).
    Barrier(u64),
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
    Retitle {
        id: SessionId,
        title: String,
    },
    Trash {
        ids: Vec<SessionId>,
    },
    Restore {
        ids: Vec<SessionId>,
    },
    Archive {
        ids: Vec<SessionId>,
    },
    Unarchive {
        ids: Vec<SessionId>,
    },
    Purge {
        ids: Vec<SessionId>,
    },
    /// Replace a message's text, if it still reads `expected`.
    EditMessage {
        id: SessionId,
        seq: u64,
        expected: String,
        content: String,
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
    /// Export to a file; an existing file is replaced only with `overwrite`.
    Export {
        ids: Vec<SessionId>,
        format: ExportFormat,
        path: PathBuf,
        overwrite: bool,
    },
    /// Delete every message of a session.
    Clear {
        id: SessionId,
    },
    Import {
        path: PathBuf,
        format: Option<Format>,
    },
    /// Move sessions out into a new archive file (`archive --to`).
    ArchiveToFile {
        ids: Vec<SessionId>,
        path: PathBuf,
    },
}
