//! How the app opens dialogs, hands them keys, acts on what they submit and
//! feeds them the answers of the workers (previews, the store's verdict).
//!
//! A dialog that asked the store for a change stays, with what was typed,
//! until the answer comes (`FormState::waiting`): it closes on success and
//! shows the error otherwise, so the user can fix the input.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{
    Branch, Cleanup, Compose, Confirm, Dialog, Export, Import, Merge, Metadata, NewSession,
    Outcome, Rename, Retitle, Tags, Yes,
};
use crate::domain::{CleanupPlan, SessionId};
use crate::export::ExportFormat;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::command::{Command, Mutation};
use crate::tui::layout::Pane;

impl App {
    /// Opens a dialog about the session on screen.
    pub(crate) fn open_session_dialog(&mut self, a: Action) -> Vec<Command> {
        let Some(s) = self.target() else {
            return Vec::new();
        };
        let dialog = match a {
            Action::Rename => Dialog::Rename(Rename::new(&s)),
            Action::Retitle => Dialog::Retitle(Retitle::new(&s)),
            Action::Branch => {
                if s.message_count == 0 {
                    self.fail("an empty session has nothing to branch from");
                    return Vec::new();
                }
                let at = match (&self.history, self.focus) {
                    (Some(h), Pane::History) if h.session.id == s.id => h.cursor,
                    _ => s.message_count - 1,
                };
                Dialog::Branch(Branch::new(&s, at))
            }
            Action::Tags => Dialog::Tags(Tags::new(&s, &self.known_tags)),
            Action::Metadata => Dialog::Metadata(Metadata::new(&s)),
            Action::Compose => Dialog::Compose(Compose::new(&s)),
            Action::Export => {
                let (ids, what): (Vec<SessionId>, String) = if self.list.marked.is_empty() {
                    (vec![s.id], s.name.clone())
                } else {
                    let ids: Vec<SessionId> = self.list.marked.keys().copied().collect();
                    let what = format!("{} marked sessions", ids.len());
                    (ids, what)
                };
                Dialog::Export(Export::new(ids, what, &s.name))
            }
            _ => return Vec::new(),
        };
        self.dialog = Some(dialog);
        Vec::new()
    }

    pub(crate) fn open_new_dialog(&mut self) {
        self.dialog = Some(Dialog::NewSession(NewSession::new()));
    }

    pub(crate) fn open_import_dialog(&mut self) {
        self.dialog = Some(Dialog::Import(Import::new(&self.found_folders)));
    }

    pub(crate) fn open_merge_dialog(&mut self) -> Vec<Command> {
        if self.list.marked.len() < 2 {
            self.fail("mark two or more sessions with space first");
            return Vec::new();
        }
        let (merge, preview) = Merge::new(
            self.list.marked.keys().copied().collect(),
            self.list.marked.values().cloned().collect(),
        );
        self.dialog = Some(Dialog::Merge(merge));
        vec![preview]
    }

    pub(crate) fn open_cleanup_dialog(&mut self) -> Vec<Command> {
        let mut cleanup = Cleanup::new(self.now);
        let preview = cleanup.preview(self.now);
        self.dialog = Some(Dialog::Cleanup(cleanup));
        preview.into_iter().collect()
    }

    pub(crate) fn dialog_key(&mut self, k: KeyEvent) -> Vec<Command> {
        let now = self.now;
        let Some(dialog) = self.dialog.as_mut() else {
            return Vec::new();
        };
        if let Dialog::Confirm(_) = dialog {
            return self.confirm_key(k);
        }
        if dialog.state().waiting.is_some() {
            // The answer to the last try is on its way.
            return Vec::new();
        }
        match dialog.key(k) {
            Outcome::Stay => Vec::new(),
            Outcome::Changed => dialog.changed(now),
            Outcome::Cancel => {
                self.dialog = self
                    .dialog
                    .take()
                    .filter(Dialog::is_draft)
                    .map(|draft| Dialog::Confirm(Confirm::discard(draft)));
                Vec::new()
            }
            Outcome::Submit => self.submit_dialog(),
        }
    }

    fn submit_dialog(&mut self) -> Vec<Command> {
        let Some(dialog) = self.dialog.as_mut() else {
            return Vec::new();
        };
        let submitted = match dialog {
            Dialog::Rename(d) => d.submit(),
            Dialog::Retitle(d) => Ok(d.submit()),
            Dialog::Branch(d) => d.submit(),
            Dialog::Tags(d) => d.submit(),
            Dialog::Metadata(d) => d.submit(),
            Dialog::Compose(d) => d.submit(),
            Dialog::NewSession(d) => d.submit(),
            Dialog::Export(d) => d.submit(),
            Dialog::Import(d) => d.submit(),
            Dialog::Merge(d) => d.submit(),
            Dialog::Cleanup(d) => d.submit(),
            Dialog::Confirm(_) => return Vec::new(),
        };
        let mutation = match submitted {
            Ok(m) => m,
            Err(e) => {
                dialog.state_mut().error = Some(e);
                return Vec::new();
            }
        };
        match dialog {
            Dialog::Merge(_) => self.list.marked.clear(),
            Dialog::Import(_) => self.status.job = Some(("importing".into(), 0, 1)),
            _ => {}
        }
        let cmd = self.mutate(mutation);
        self.wait_for_answer();
        vec![cmd]
    }

    /// The dialog on screen waits for the answer to the last mutation.
    fn wait_for_answer(&mut self) {
        let ticket = self.mutations_sent;
        if let Some(d) = self.dialog.as_mut() {
            let state = d.state_mut();
            state.waiting = Some(ticket);
            state.error = None;
        }
    }

    fn confirm_key(&mut self, k: KeyEvent) -> Vec<Command> {
        let yes = match k.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => true,
            KeyCode::Char('n' | 'N') | KeyCode::Esc => false,
            _ => return Vec::new(),
        };
        let Some(Dialog::Confirm(c)) = self.dialog.take() else {
            return Vec::new();
        };
        self.dialog = c.back.map(|b| *b);
        match (yes, c.yes) {
            (true, Yes::Discard) => {
                self.dialog = None;
                Vec::new()
            }
            (true, Yes::Mutate(m)) => {
                let cmd = self.mutate(m);
                self.wait_for_answer();
                vec![cmd]
            }
            (false, Yes::Discard) => Vec::new(),
            (false, Yes::Mutate(_)) => {
                self.say("left as it was");
                Vec::new()
            }
        }
    }

    /// An export would replace a file: ask first. The export dialog, if it
    /// is the one that asked, comes back on no and waits on yes.
    pub(crate) fn export_exists(
        &mut self,
        path: PathBuf,
        ids: Vec<SessionId>,
        format: ExportFormat,
    ) -> Vec<Command> {
        self.mutations_answered += 1;
        let ticket = self.mutations_answered;
        let asker = self
            .dialog
            .take_if(|d| d.state().waiting == Some(ticket))
            .map(|mut d| {
                d.state_mut().waiting = None;
                d
            });
        let confirm = Confirm::new(
            format!("{} exists: replace it?", path.display()),
            vec!["y replaces the file, n keeps it".into()],
            Mutation::Export {
                ids,
                format,
                path,
                overwrite: true,
            },
        );
        self.dialog = Some(Dialog::Confirm(match asker {
            Some(d) => confirm.over(d),
            None => confirm,
        }));
        Vec::new()
    }

    pub(crate) fn cleanup_previewed(&mut self, plan: Result<CleanupPlan, String>) -> Vec<Command> {
        if let Some(Dialog::Cleanup(c)) = self.dialog.as_mut().map(Dialog::beneath_mut) {
            c.previewed(plan);
        }
        Vec::new()
    }

    pub(crate) fn merge_previewed(&mut self, count: Result<usize, String>) -> Vec<Command> {
        if let Some(Dialog::Merge(m)) = self.dialog.as_mut().map(Dialog::beneath_mut) {
            m.previewed(count);
        }
        Vec::new()
    }
}
