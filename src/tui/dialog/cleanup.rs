//! Cleanup: criteria, an action, and a live preview of the sessions it
//! would touch, asked of the store worker (`Command::PreviewCleanup`) when
//! they change. Only the plan of the criteria on screen can be carried out
//! (an answer to an earlier question is dropped), and purging it wants its
//! session count typed first. "archive to file" moves the sessions out into
//! a new archive file (`.sbz`), as `archive --to` does.

use std::path::PathBuf;

use jiff::Timestamp;

use super::{CheckField, ChoiceField, FieldMut, FieldRef, Fields, FormState, LineField};
use crate::domain::{CleanupAction, CleanupCriteria, CleanupPlan, parse_before};
use crate::tui::command::{Command, Mutation};

/// The actions offered, in order; `None` is "archive to file".
pub const ACTIONS: [(Option<CleanupAction>, &str); 4] = [
    (Some(CleanupAction::Archive), "archive"),
    (Some(CleanupAction::Trash), "trash"),
    (Some(CleanupAction::Purge), "purge"),
    (None, "archive to file"),
];

#[derive(Debug)]
pub struct Cleanup {
    pub older_than: LineField,
    pub empty: CheckField,
    pub with_tag: LineField,
    pub without_tag: LineField,
    pub source: LineField,
    pub larger_than: LineField,
    pub action: ChoiceField,
    /// Where "archive to file" writes.
    pub file: LineField,
    pub purge_count: LineField,
    /// The preview of the criteria as they are, when it is in.
    pub plan: Option<CleanupPlan>,
    /// What the last preview asked for.
    asked: Option<(CleanupCriteria, CleanupAction)>,
    pub state: FormState,
}

impl Cleanup {
    /// A dialog with its defaults; `now` dates the archive file's name.
    pub fn new(now: Timestamp) -> Cleanup {
        Cleanup {
            older_than: LineField::new("older than", "90d"),
            empty: CheckField::new("empty", false),
            with_tag: LineField::new("with tag", ""),
            without_tag: LineField::new("without tag", ""),
            source: LineField::new("source", ""),
            larger_than: LineField::new("more messages than", ""),
            action: ChoiceField::new("action", ACTIONS.iter().map(|(_, n)| *n).collect()),
            file: LineField::new("to file", &default_file(now)),
            purge_count: LineField::new("type the count to purge", ""),
            plan: None,
            asked: None,
            state: FormState::default(),
        }
    }

    /// The plan to preview: "archive to file" takes every matching
    /// session (archived and trashed too), as a purge plan does.
    pub fn chosen(&self) -> CleanupAction {
        ACTIONS
            .get(self.action.index())
            .map_or(CleanupAction::Archive, |(a, _)| {
                a.unwrap_or(CleanupAction::Purge)
            })
    }

    /// Whether the sessions go out to a file.
    pub fn to_file(&self) -> bool {
        ACTIONS
            .get(self.action.index())
            .is_some_and(|(a, _)| a.is_none())
    }

    /// The archive file as typed, with `~/` for the home folder.
    fn file_path(&self) -> Option<PathBuf> {
        let text = self.file.trimmed()?;
        Some(match text.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map_or_else(|| PathBuf::from(&text), |h| PathBuf::from(h).join(rest)),
            None => PathBuf::from(text),
        })
    }

    /// The criteria as typed.
    pub fn criteria(&self, now: Timestamp) -> Result<CleanupCriteria, String> {
        let updated_before = self
            .older_than
            .trimmed()
            .map(|s| parse_before(&s, now))
            .transpose()
            .map_err(|e| e.to_string())?;
        let larger_than = self
            .larger_than
            .trimmed()
            .map(|s| {
                s.parse::<u64>()
                    .map_err(|_| format!("`more messages than` wants a number, not {s:?}"))
            })
            .transpose()?;
        let c = CleanupCriteria {
            updated_before,
            empty: self.empty.on,
            tag: self.with_tag.trimmed(),
            without_tag: self.without_tag.trimmed(),
            source: self.source.trimmed(),
            larger_than,
        };
        if c.is_empty() {
            return Err("give at least one criterion".into());
        }
        Ok(c)
    }

    /// After a change: the preview to ask for, if the criteria or the
    /// action changed, or why there is none.
    pub fn preview(&mut self, now: Timestamp) -> Option<Command> {
        match self.criteria(now) {
            Ok(criteria) => {
                let asked = (criteria, self.chosen());
                if self.asked.as_ref() == Some(&asked) {
                    return None;
                }
                self.plan = None;
                self.state.error = None;
                self.asked = Some(asked.clone());
                Some(Command::PreviewCleanup {
                    criteria: asked.0,
                    action: asked.1,
                })
            }
            Err(e) => {
                self.state.error = Some(e);
                self.plan = None;
                self.asked = None;
                None
            }
        }
    }

    /// A preview arrived: kept if it answers the last question.
    pub fn previewed(&mut self, plan: Result<CleanupPlan, String>) {
        match plan {
            Ok(plan) => {
                let answers = self
                    .asked
                    .as_ref()
                    .is_some_and(|(c, a)| *c == plan.criteria && *a == plan.action);
                if answers {
                    self.state.error = None;
                    self.plan = Some(plan);
                }
            }
            Err(e) => {
                self.state.error = Some(e);
                self.plan = None;
            }
        }
    }

    /// The plan previewed; a purge only with its count typed (the keyboard
    /// goes there when it is not).
    pub fn submit(&mut self) -> Result<Mutation, String> {
        let Some(plan) = &self.plan else {
            return Err(self
                .state
                .error
                .clone()
                .unwrap_or_else(|| "waiting for the preview".into()));
        };
        let n = plan.sessions.len();
        if n == 0 {
            return Err("nothing matches these criteria".into());
        }
        if self.to_file() {
            let Some(path) = self.file_path() else {
                self.focus_on(self.file.id());
                return Err("give the archive file's name (a new .sbz file)".into());
            };
            if std::fs::symlink_metadata(&path).is_ok() {
                self.focus_on(self.file.id());
                return Err(format!(
                    "{} exists: an archive goes to a new file",
                    path.display()
                ));
            }
            return Ok(Mutation::ArchiveToFile {
                ids: plan.sessions.iter().map(|s| s.id).collect(),
                path,
            });
        }
        if plan.action == CleanupAction::Purge && self.purge_count.text().trim() != n.to_string() {
            self.focus_on(self.purge_count.id());
            return Err(format!(
                "purge deletes for good: type {n} in the last field to confirm"
            ));
        }
        Ok(Mutation::Cleanup { plan: plan.clone() })
    }
}

impl Default for Cleanup {
    fn default() -> Self {
        Cleanup::new(crate::domain::now())
    }
}

/// The day's archive file in the home folder.
fn default_file(now: Timestamp) -> String {
    let day = now
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%d")
        .to_string();
    format!("~/scrollback-archive-{day}.sbz")
}

fn summary(plan: &CleanupPlan, to_file: Option<&str>) -> Vec<String> {
    let verb = match plan.action {
        CleanupAction::Archive => "archive",
        CleanupAction::Trash => "move to the trash",
        CleanupAction::Purge => "DELETE FOR GOOD",
    };
    let mut info = vec![match to_file {
        Some(file) => format!(
            "would move {} sessions ({} messages) to {file}",
            plan.sessions.len(),
            plan.message_count()
        ),
        None => format!(
            "would {verb} {} sessions ({} messages)",
            plan.sessions.len(),
            plan.message_count()
        ),
    }];
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
            .map(|s| format!("  {} ({} msgs)", s.name, s.message_count)),
    );
    if plan.sessions.len() > 6 {
        info.push(format!("  … and {} more", plan.sessions.len() - 6));
    }
    info
}

impl Fields for Cleanup {
    fn state(&self) -> &FormState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }
    fn title(&self) -> String {
        "cleanup".into()
    }
    fn info(&self) -> Vec<String> {
        let file = self.file.trimmed().unwrap_or_default();
        self.plan
            .as_ref()
            .map(|p| summary(p, self.to_file().then_some(file.as_str())))
            .unwrap_or_default()
    }
    fn fields(&self) -> Vec<FieldRef<'_>> {
        vec![
            (&self.older_than).into(),
            (&self.empty).into(),
            (&self.with_tag).into(),
            (&self.without_tag).into(),
            (&self.source).into(),
            (&self.larger_than).into(),
            (&self.action).into(),
            (&self.file).into(),
            (&self.purge_count).into(),
        ]
    }
    fn fields_mut(&mut self) -> Vec<FieldMut<'_>> {
        vec![
            (&mut self.older_than).into(),
            (&mut self.empty).into(),
            (&mut self.with_tag).into(),
            (&mut self.without_tag).into(),
            (&mut self.source).into(),
            (&mut self.larger_than).into(),
            (&mut self.action).into(),
            (&mut self.file).into(),
            (&mut self.purge_count).into(),
        ]
    }
}
