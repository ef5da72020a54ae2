//! Events: what reaches `App::update`. Terminal input, and the answers of
//! the runtime to commands.

use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use crate::domain::{CleanupPlan, Message, Session, SessionId};
use crate::search::Hit;
use crate::store::{SessionStats, StoreStats};

/// Something happened.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // moved once, from a worker to the UI
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    ListLoaded {
        generation: u64,
        total: u64,
        offset: u64,
        rows: Vec<Session>,
    },
    HistoryLoaded {
        session: Session,
        from: u64,
        messages: Vec<Message>,
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
        select: Option<SessionId>,
        trashed: Vec<SessionId>,
    },
    /// Something failed: the message for the status bar.
    Failed(String),
    /// Progress of a long job (import, indexing).
    Progress {
        label: String,
        done: u64,
        total: u64,
    },
}

/// What the metadata pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaInfo {
    pub session: Session,
    pub stats: SessionStats,
    pub parent: Option<Session>,
    pub branches: Vec<Session>,
}
