//! Pure types and rules of scrollback: sessions, messages, names, spans, and
//! the plans for branch, merge and cleanup. No I/O happens here; the store
//! turns these values into SQL.

pub mod meta;
mod model;
pub mod names;
mod plan;
pub mod retention;
mod time;

pub use model::{
    Kind, Message, MessageDoc, NewMessage, NewSession, Role, Session, SessionDoc, SessionId,
    Stashed, Tokens, Uid,
};
pub use names::{validate_name, validate_tag};
pub use plan::{
    CleanupAction, CleanupCriteria, CleanupPlan, CursorKey, ListCursor, ListQuery, MergeInput,
    MergeOrder, PlannedSession, Sort, StateFilter, plan_merge,
};
pub use time::{
    MOMENT_EXPECTED, format_relative, now, parse_before, parse_moment, parse_time, ts_from_ms,
    ts_to_ms,
};
