//! scrollback: keep, find, branch, merge and clean up AI chat sessions.
//!
//! The library is the session manager behind the `scrollback` command: a
//! SQLite [`Store`] of sessions and messages with methods named for what they
//! do, importers for the files other tools write, and exporters.
//!
//! # Quick start
//!
//! ```
//! use scrollback::{ListQuery, NewMessage, NewSession, Role, Store};
//!
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("scrollback.db");
//! // Open (or create) a store. Every call below is saved when it returns.
//! let mut store = Store::open(&path)?;
//!
//! // Create a session and add messages.
//! let mut new = NewSession::named("project-planning");
//! new.title = "Planning the Q3 roadmap".into();
//! new.tags = vec!["work".into()];
//! let s = store.create_session(&new)?;
//! store.add_message(s.id, NewMessage::new(Role::System, "You are a helpful planner."))?;
//! store.add_message(s.id, NewMessage::new(Role::User, "What should we ship first?"))?;
//! store.add_message(s.id, NewMessage::new(Role::Assistant, "The importer: it unblocks search."))?;
//!
//! // It is saved: a store opened later sees it.
//! drop(store);
//! let mut store = Store::open(&path)?;
//!
//! // List sessions tagged "work".
//! let work = store.list(&ListQuery { tags: vec!["work".into()], ..ListQuery::default() })?;
//! assert_eq!(work[0].name, "project-planning");
//! assert_eq!(work[0].message_count, 3);
//!
//! // Branch after the user's question to try another answer.
//! let b = store.branch(work[0].id, "project-planning-alt", Some(1))?;
//! assert_eq!(b.message_count, 2);
//! assert_eq!(b.parent.as_ref(), Some(&work[0].uid));
//! let last = store.last_messages(b.id, 1)?;
//! assert_eq!(last[0].content, "What should we ship first?");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`domain`] (pure types and plans), [`store`] (SQLite),
//! [`search`] (the full-text index), [`import`] and [`export`] (file
//! formats), [`sync`] (the session folders of other tools, kept in step;
//! `watch` with the default `watch` feature), [`resume`] (the command that
//! resumes a session in the tool it came from), [`config`], [`paths`],
//! [`demo`], [`sanitize`] (text for a terminal). The command line (`cli`)
//! and the full-screen browser (`tui`) are the default features `cli` and
//! `tui`; `default-features = false` builds the library without them (and
//! without clap, indicatif, ratatui).

pub mod api;
pub mod archive;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod export;
pub mod import;
pub mod jobs;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod paths;
pub mod resume;
pub mod sanitize;
pub mod search;
#[cfg(feature = "serve")]
pub mod serve;
pub mod store;
pub mod sync;
#[cfg(feature = "tui")]
pub mod tui;

pub use domain::{
    CleanupAction, CleanupCriteria, CleanupPlan, ListQuery, MergeOrder, Message, NewMessage,
    NewSession, Role, Session, SessionDoc, SessionId, Sort, StateFilter, Tokens, Uid,
};
pub use error::{Error, Result};
pub use store::{Store, StoreOptions};
