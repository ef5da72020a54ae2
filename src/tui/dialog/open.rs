//! Opening the dialogs, their keys, and what confirming each one does.

use std::collections::BTreeSet;

use jiff::Timestamp;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{
    CLEANUP_ACTIONS, COMPOSE_ROLES, Form, MERGE_ORDERS, Outcome, Purpose, metadata_lines,
    parse_metadata,
};
use crate::domain::{CleanupCriteria, CleanupPlan, SessionId, parse_before, validate_name};
use crate::export::ExportFormat;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::command::{Command, Mutation};
use crate::tui::layout::Pane;
use crate::tui::sanitize::clean;

impl App {
    pub(crate) fn open_session_dialog(&mut self, a: Action) -> Vec<Command> {
        let Some(s) = self.target() else {
            return Vec::new();
        };
        let name = clean(&s.name);
        let form = match a {
            Action::Rename => Form::new(format!("rename {name}"), Purpose::Rename { id: s.id })
                .line("new name", &s.name),
            Action::Retitle => Form::new(format!("title of {name}"), Purpose::Retitle { id: s.id })
                .line("title", &s.title)
                .info(vec!["a free text title; empty clears it".into()]),
            Action::Branch => {
                let at = match (&self.history, self.focus) {
                    (Some(h), Pane::History) if h.session.id == s.id => h.cursor,
                    _ => s.message_count.saturating_sub(1),
                };
                if s.message_count == 0 {
                    self.fail("an empty session has nothing to branch from");
                    return Vec::new();
                }
                Form::new(format!("branch {name}"), Purpose::Branch { id: s.id, at })
                    .line("new session", &format!("{}-branch", s.name))
                    .info(vec![format!(
                        "holds messages 0..={at} of {name} ({} of {})",
                        at + 1,
                        s.message_count
                    )])
            }
            Action::Tags => {
                let current = s.tags.clone();
                Form::new(
                    format!("tags of {name}"),
                    Purpose::Tags {
                        id: s.id,
                        current: current.clone(),
                        known: self.known_tags.clone(),
                    },
                )
                .line("tags", &current.join(" "))
                .info(vec![
                    "the tags it should carry, space separated; -tag removes one; tab completes"
                        .into(),
                    format!("known: {}", self.known_tags.join(" ")),
                ])
            }
            Action::Metadata => Form::new(
                format!("metadata of {name}"),
                Purpose::Metadata { id: s.id },
            )
            .text(
                "key = value lines (ctrl-s saves)",
                &metadata_lines(&s.metadata),
            ),
            Action::Compose => Form::new(
                format!("add a message to {name}"),
                Purpose::Compose { id: s.id },
            )
            .choice("role", &["user", "assistant", "system", "tool"], 0)
            .text("text (ctrl-s adds it)", "")
            .focus_on(1),
            Action::Export => {
                let ids: Vec<SessionId> = if self.list.marked.is_empty() {
                    vec![s.id]
                } else {
                    self.list.marked.keys().copied().collect()
                };
                let what = if ids.len() == 1 {
                    name.clone()
                } else {
                    format!("{} marked sessions", ids.len())
                };
                Form::new("export", Purpose::Export { ids })
                    .choice("format", &["json", "jsonl", "md"], 0)
                    .line("path", &format!("{}.json", s.name))
                    .info(vec![format!("exports {what}")])
            }
            _ => return Vec::new(),
        };
        self.dialog = Some(form);
        Vec::new()
    }

    pub(crate) fn dialog_key(&mut self, k: KeyEvent) -> Vec<Command> {
        let Some(form) = self.dialog.as_mut() else {
            return Vec::new();
        };
        if let Purpose::Confirm { .. } = &form.purpose {
            return match k.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => self.submit(),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                    self.dialog = None;
                    self.say("left as it was");
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        if form.waiting.is_some() {
            // The answer to the last try is on its way.
            return Vec::new();
        }
        // Tab completes tags in the tags dialog.
        if k.code == KeyCode::Tab
            && let Purpose::Tags { known, .. } = &form.purpose
        {
            let value = form.value(0);
            let (head, last) = value
                .rsplit_once(' ')
                .map_or(("", value.as_str()), |(h, l)| (h, l));
            let bare = last.trim_start_matches(['+', '-']);
            if let Some(done) = known
                .iter()
                .find(|t| !bare.is_empty() && t.starts_with(bare) && t.as_str() != bare)
            {
                let sign = &last[..last.len() - bare.len()];
                let joined = if head.is_empty() {
                    format!("{sign}{done}")
                } else {
                    format!("{head} {sign}{done}")
                };
                form.set_value(0, &joined);
            }
            return Vec::new();
        }
        match form.key(k) {
            Outcome::Stay => Vec::new(),
            Outcome::Cancel => {
                self.dialog = None;
                Vec::new()
            }
            Outcome::Changed => match &form.purpose {
                Purpose::Cleanup { .. } => self.cleanup_preview(),
                Purpose::Merge { ids, .. } if form.focus == 1 => {
                    let order = MERGE_ORDERS[form.choice_index(1).min(1)];
                    vec![Command::PreviewMerge {
                        ids: ids.clone(),
                        order,
                    }]
                }
                _ => Vec::new(),
            },
            Outcome::Submit => self.submit(),
        }
    }

    pub(crate) fn cleanup_preview(&mut self) -> Vec<Command> {
        let Some(form) = self.dialog.as_mut() else {
            return Vec::new();
        };
        match cleanup_criteria(form, self.now) {
            Ok(criteria) => {
                let action = CLEANUP_ACTIONS[form.choice_index(6).min(2)];
                vec![Command::PreviewCleanup { criteria, action }]
            }
            Err(e) => {
                form.error = Some(e);
                if let Purpose::Cleanup { plan } = &mut form.purpose {
                    *plan = None;
                }
                Vec::new()
            }
        }
    }

    fn submit(&mut self) -> Vec<Command> {
        let Some(form) = self.dialog.as_mut() else {
            return Vec::new();
        };
        let result: Result<Vec<Command>, String> = match &form.purpose {
            Purpose::Rename { id } => {
                let name = form.value(0).trim().to_string();
                validate_name(&name)
                    .map_err(|e| e.to_string())
                    .map(|()| vec![Command::Mutate(Mutation::Rename { id: *id, name })])
            }
            Purpose::Branch { id, at } => {
                let name = form.value(0).trim().to_string();
                validate_name(&name).map_err(|e| e.to_string()).map(|()| {
                    vec![Command::Mutate(Mutation::Branch {
                        id: *id,
                        name,
                        at: *at,
                    })]
                })
            }
            Purpose::NewSession => {
                let name = form.value(0).trim().to_string();
                let template = Some(form.value(1).trim().to_string()).filter(|t| !t.is_empty());
                validate_name(&name)
                    .map_err(|e| e.to_string())
                    .map(|()| vec![Command::Mutate(Mutation::New { name, template })])
            }
            Purpose::Tags { id, current, .. } => {
                // The field holds the tags wanted; `-tag` takes one away.
                let words = form.value(0);
                let dropped: BTreeSet<&str> = words
                    .split_whitespace()
                    .filter_map(|w| w.strip_prefix('-'))
                    .collect();
                let wanted: BTreeSet<String> = words
                    .split_whitespace()
                    .filter(|w| !w.starts_with('-'))
                    .map(|t| t.trim_start_matches('+'))
                    .filter(|t| !dropped.contains(t))
                    .map(str::to_string)
                    .collect();
                match wanted
                    .iter()
                    .find_map(|t| crate::domain::validate_tag(t).err())
                {
                    Some(e) => Err(e.to_string()),
                    None => {
                        let have: BTreeSet<String> = current.iter().cloned().collect();
                        let add = wanted.difference(&have).cloned().collect();
                        let remove = have.difference(&wanted).cloned().collect();
                        Ok(vec![Command::Mutate(Mutation::Tags {
                            id: *id,
                            add,
                            remove,
                        })])
                    }
                }
            }
            Purpose::Metadata { id } => parse_metadata(&form.value(0))
                .map(|metadata| vec![Command::Mutate(Mutation::Metadata { id: *id, metadata })]),
            Purpose::Compose { id } => {
                let text = form.value(1);
                if text.trim().is_empty() {
                    Err("the message is empty".into())
                } else {
                    let role = COMPOSE_ROLES[form.choice_index(0).min(3)];
                    Ok(vec![Command::Mutate(Mutation::Compose {
                        id: *id,
                        role,
                        text,
                    })])
                }
            }
            Purpose::Merge { ids, .. } => {
                let name = form.value(0).trim().to_string();
                let order = MERGE_ORDERS[form.choice_index(1).min(1)];
                validate_name(&name).map_err(|e| e.to_string()).map(|()| {
                    vec![Command::Mutate(Mutation::Merge {
                        ids: ids.clone(),
                        name,
                        order,
                    })]
                })
            }
            Purpose::Cleanup { plan } => match plan {
                None => Err(form
                    .error
                    .clone()
                    .unwrap_or_else(|| "waiting for the preview".into())),
                Some(p) if p.sessions.is_empty() => Err("nothing matches these criteria".into()),
                Some(p)
                    if p.action == crate::domain::CleanupAction::Purge
                        && form.value(7).trim() != p.sessions.len().to_string() =>
                {
                    form.focus = 7;
                    Err(format!(
                        "purge deletes for good: type {} in the last field to confirm",
                        p.sessions.len()
                    ))
                }
                Some(p) => Ok(vec![Command::Mutate(Mutation::Cleanup { plan: p.clone() })]),
            },
            Purpose::Export { ids } => {
                let format = [
                    ExportFormat::Json,
                    ExportFormat::Jsonl,
                    ExportFormat::Markdown,
                ][form.choice_index(0).min(2)];
                let path = form.value(1).trim().to_string();
                if path.is_empty() {
                    Err("give a path".into())
                } else {
                    Ok(vec![Command::Mutate(Mutation::Export {
                        ids: ids.clone(),
                        format,
                        path: crate::paths::expand_tilde(&path),
                        overwrite: false,
                    })])
                }
            }
            Purpose::Import => {
                let path = form.value(0).trim().to_string();
                let format = match form.choice_index(1) {
                    0 => None,
                    i => crate::import::Format::ALL.get(i - 1).map(|(f, _)| *f),
                };
                if path.is_empty() {
                    Err("give a path".into())
                } else {
                    Ok(vec![Command::Mutate(Mutation::Import {
                        path: crate::paths::expand_tilde(&path),
                        format,
                    })])
                }
            }
            Purpose::Retitle { id } => {
                let title = form.value(0).trim().to_string();
                Ok(vec![Command::Mutate(Mutation::Retitle { id: *id, title })])
            }
            Purpose::Confirm { mutation } => Ok(vec![Command::Mutate((**mutation).clone())]),
        };
        match result {
            Ok(cmds) => {
                if matches!(form.purpose, Purpose::Merge { .. }) {
                    self.list.marked.clear();
                }
                if matches!(form.purpose, Purpose::Import) {
                    self.status.job = Some(("importing".into(), 0, 1));
                }
                let confirm = matches!(form.purpose, Purpose::Confirm { .. });
                // The dialog stays, with what was typed, until the store
                // answers: an error shows in it and the user can fix it.
                let mut out = Vec::new();
                for c in cmds {
                    match c {
                        Command::Mutate(m) => out.push(self.mutate(m)),
                        other => out.push(other),
                    }
                }
                if let Some(f) = self.dialog.as_mut() {
                    if confirm {
                        self.dialog = None;
                    } else {
                        f.waiting = Some(self.mutations_sent);
                        f.error = None;
                    }
                }
                out
            }
            Err(e) => {
                if let Some(f) = self.dialog.as_mut() {
                    f.error = Some(e);
                }
                Vec::new()
            }
        }
    }

    pub(crate) fn open_new_dialog(&mut self) {
        self.dialog = Some(
            Form::new("new session", Purpose::NewSession)
                .line("name", "")
                .line("template (optional)", "")
                .info(vec![
                    "a template is any session, e.g. one tagged `template`".into(),
                ]),
        );
    }

    pub(crate) fn open_import_dialog(&mut self) {
        let names: Vec<&str> = std::iter::once("auto")
            .chain(crate::import::Format::ALL.iter().map(|(_, n)| *n))
            .collect();
        let mut info = vec!["a file or a folder of .json, .jsonl and .toon files".to_string()];
        info.extend(
            self.found_folders
                .iter()
                .map(|(what, p)| format!("found {what}: {}", p.display())),
        );
        self.dialog = Some(
            Form::new("import", Purpose::Import)
                .line("path", "")
                .choice("format", &names, 0)
                .info(info),
        );
    }

    pub(crate) fn open_merge_dialog(&mut self) -> Vec<Command> {
        if self.list.marked.len() < 2 {
            self.fail("mark two or more sessions with space first");
            return Vec::new();
        }
        let ids: Vec<SessionId> = self.list.marked.keys().copied().collect();
        let mut info: Vec<String> = self
            .list
            .marked
            .values()
            .enumerate()
            .map(|(i, n)| format!("{}. {}", i + 1, clean(n)))
            .collect();
        info.push("counting messages…".into());
        let first = self
            .list
            .marked
            .values()
            .next()
            .cloned()
            .unwrap_or_default();
        self.dialog = Some(
            Form::new(
                "merge",
                Purpose::Merge {
                    ids: ids.clone(),
                    preview: None,
                },
            )
            .line("new session", &format!("{first}-merged"))
            .choice("order", &["by message time", "as listed"], 0)
            .info(info),
        );
        vec![Command::PreviewMerge {
            ids,
            order: MERGE_ORDERS[0],
        }]
    }

    pub(crate) fn open_cleanup_dialog(&mut self) -> Vec<Command> {
        self.dialog = Some(
            Form::new("cleanup", Purpose::Cleanup { plan: None })
                .line("older than", "90d")
                .check("empty", false)
                .line("with tag", "")
                .line("without tag", "")
                .line("source", "")
                .line("more messages than", "")
                .choice("action", &["archive", "trash", "purge"], 0)
                .line("type the count to purge", ""),
        );
        self.cleanup_preview()
    }

    pub(crate) fn cleanup_previewed(&mut self, plan: Result<CleanupPlan, String>) -> Vec<Command> {
        if let Some(f) = self.dialog.as_mut()
            && let Purpose::Cleanup { plan: p } = &mut f.purpose
        {
            match plan {
                Ok(plan) => {
                    f.info = cleanup_info(&plan);
                    f.error = None;
                    *p = Some(plan);
                }
                Err(e) => {
                    f.error = Some(e);
                    *p = None;
                }
            }
        }
        Vec::new()
    }

    pub(crate) fn merge_previewed(&mut self, count: Result<usize, String>) -> Vec<Command> {
        if let Some(f) = self.dialog.as_mut()
            && let Purpose::Merge { preview, .. } = &mut f.purpose
        {
            match count {
                Ok(n) => {
                    *preview = Some(n);
                    f.error = None;
                    if let Some(last) = f.info.last_mut() {
                        *last = format!("the merged session will hold {n} messages");
                    }
                }
                Err(e) => f.error = Some(e),
            }
        }
        Vec::new()
    }
}

fn cleanup_criteria(form: &Form, now: Timestamp) -> Result<CleanupCriteria, String> {
    let text = |i: usize| Some(form.value(i).trim().to_string()).filter(|s| !s.is_empty());
    let updated_before = text(0)
        .map(|s| parse_before(&s, now))
        .transpose()
        .map_err(|e| e.to_string())?;
    let larger_than = text(5)
        .map(|s| {
            s.parse::<u64>()
                .map_err(|_| format!("`more messages than` wants a number, not {s:?}"))
        })
        .transpose()?;
    let c = CleanupCriteria {
        updated_before,
        empty: form.checked(1),
        tag: text(2),
        without_tag: text(3),
        source: text(4),
        larger_than,
    };
    if c.is_empty() {
        return Err("give at least one criterion".into());
    }
    Ok(c)
}

fn cleanup_info(plan: &crate::domain::CleanupPlan) -> Vec<String> {
    let verb = match plan.action {
        crate::domain::CleanupAction::Archive => "archive",
        crate::domain::CleanupAction::Trash => "move to the trash",
        crate::domain::CleanupAction::Purge => "DELETE FOR GOOD",
    };
    let mut info = vec![format!(
        "would {verb} {} sessions ({} messages)",
        plan.sessions.len(),
        plan.message_count()
    )];
    if !plan.protected_tags.is_empty() {
        info.push(format!(
            "sessions tagged {} are protected",
            plan.protected_tags.join(", ")
        ));
    }
    info.extend(
        plan.sessions
            .iter()
            .take(6)
            .map(|s| format!("  {} ({} msgs)", clean(&s.name), s.message_count)),
    );
    if plan.sessions.len() > 6 {
        info.push(format!("  … and {} more", plan.sessions.len() - 6));
    }
    info
}
