//! Events: what reaches `App::update`. Terminal input, and the answers of
//! the runtime to commands.

use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use crate::domain::{CleanupPlan, Message, Session, SessionId};
use crate::resume::ResumePlan;
use crate::search::Hit;
use crate::store::{SessionStats, StoreStats};

/// Something happened.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // moved once, from a worker to the UI
pub enum Event {
    Key(KeyEvent),
    /// Text pasted into the terminal (bracketed paste), whole.
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    ListLoaded {
        generation: u64,
        total: u64,
        offset: u64,
        rows: Vec<Session>,
        /// Where the session asked to be located is in the list, if it is.
        located: Option<u64>,
    },
    HistoryLoaded {
        id: SessionId,
        generation: u64,
        page: Result<HistoryPage, String>,
    },
    MetaLoaded(Box<MetaInfo>),
    SearchDone {
        generation: u64,
        result: Result<Vec<Hit>, String>,
    },
    SessionHits {
        id: SessionId,
        seqs: Vec<u64>,
    },
    StatsLoaded(Box<StoreStats>, Vec<Session>),
    TagsLoaded(Vec<String>),
    CleanupPreview(Result<CleanupPlan, String>),
    MergePreview(Result<usize, String>),
    /// A mutation finished: what to say, and which session to show.
    Done {
        message: String,
        select: Option<Session>,
        trashed: Vec<SessionId>,
    },
    /// A mutation failed: why (shown in the dialog that asked for it, if
    /// one waits, else in the status bar).
    MutationFailed(String),
    /// Something failed: the message for the status bar.
    Failed(String),
    /// The clipboard took the text (what to say), or why not.
    Copied(Result<String, String>),
    /// The editor closed on a message: its text before and after.
    Edited {
        id: SessionId,
        seq: u64,
        before: String,
        after: String,
    },
    /// A session rendered for the clipboard.
    SessionText {
        what: String,
        text: String,
    },
    /// A session rendered into a temporary file for the pager.
    PagerFile(std::path::PathBuf),
    /// Another process changed the store.
    StoreChanged,
    /// Every command a worker had before `Command::Barrier(n)` is done.
    Barrier(u64),
    /// A session asked for by name.
    Found(Session),
    /// An export would replace this file: it answers the export mutation,
    /// and the app asks before trying again with `overwrite`.
    ExportExists {
        path: std::path::PathBuf,
        ids: Vec<SessionId>,
        format: crate::export::ExportFormat,
    },
    /// A sync pass finished (or failed, or was cancelled): what to say;
    /// `quiet` for a pass of the watch that brought nothing.
    Synced {
        message: String,
        error: bool,
        quiet: bool,
    },
    /// How to resume a session (its name), or why it cannot be.
    ResumePlanned {
        name: String,
        plan: Result<ResumePlan, String>,
    },
    /// The program that resumed a session ended (its command line, and
    /// how it ended), or could not start (why).
    Resumed {
        shown: String,
        ended: Result<std::process::ExitStatus, String>,
    },
    /// Progress of a long job (import, indexing).
    Progress {
        label: String,
        done: u64,
        total: u64,
    },
}

/// A window of a session's messages, with the session as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub session: Session,
    pub from: u64,
    pub messages: Vec<Message>,
}

/// What the metadata pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaInfo {
    pub session: Session,
    pub stats: SessionStats,
    pub parent: Option<Session>,
    pub branches: Vec<Session>,
    /// The parent's name and archive file, when it was moved out to one.
    pub archived_parent: Option<(String, String)>,
}
