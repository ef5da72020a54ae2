//! The `:` command line: runs any action by name and the verbs chat tools
//! use (`:new NAME`, `:resume NAME`, `:clear`, `:status`, `:sessions`,
//! `:tag +x -y`, `:export md PATH`, `:help`); a bare number jumps to that
//! message. Tab completes command names, then tags and session names.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::app::{App, Screen};
use super::command::{Command, Mutation};
use super::dialog::Dialog;
use super::keymap::Layer;
use super::layout::Pane;
use crate::domain::{ListQuery, validate_name};
use crate::export::ExportFormat;
use crate::sanitize::clean;

/// The command line while it is open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    pub input: String,
    /// Why the last command was refused (the line stays for a fix).
    pub error: Option<String>,
    /// Completions of the word being typed, and the one shown.
    pub completions: Vec<String>,
    pub completion: Option<usize>,
}

/// The verbs of the command line, with what they take and do.
pub const VERBS: &[(&str, &str, &str)] = &[
    ("new", "NAME", "create a session and open it"),
    (
        "resume",
        "[NAME]",
        "open a session by name; alone, resume this one in its tool (R)",
    ),
    ("open", "NAME", "open a session by name"),
    (
        "clear",
        "",
        "delete every message of this session (asks first)",
    ),
    ("status", "", "what this session is: counts, tags, source"),
    ("sessions", "", "back to the session list, filter cleared"),
    ("tag", "+x -y", "add and remove tags"),
    ("title", "TEXT", "set this session's title"),
    ("rename", "NAME", "rename this session"),
    ("export", "json|jsonl|md PATH", "export this session"),
    ("help", "", "the keys and these commands"),
    ("quit", "", "quit (also :q)"),
];

/// Every action by the name the config uses (`page_down`).
fn action_names() -> Vec<(String, Action)> {
    super::keymap::all_actions()
        .into_iter()
        .filter_map(|a| {
            serde_json::to_value(a)
                .ok()
                .and_then(|v| v.as_str().map(|s| (s.to_string(), a)))
        })
        .collect()
}

impl App {
    pub(super) fn prompt_key(&mut self, k: KeyEvent) -> Vec<Command> {
        let Some(p) = self.prompt.as_mut() else {
            return Vec::new();
        };
        match self.keymap.lookup(&[Layer::Input], &k) {
            Some(Action::Cancel) => {
                self.prompt = None;
                return Vec::new();
            }
            Some(Action::Accept) => {
                let line = p.input.clone();
                return self.run_command_line(&line);
            }
            Some(Action::NextItem | Action::PrevItem) => {
                let forward = self.keymap.lookup(&[Layer::Input], &k) == Some(Action::NextItem);
                self.complete(forward);
                return Vec::new();
            }
            Some(Action::ClearInput) => {
                p.input.clear();
                p.completions.clear();
                p.completion = None;
                return Vec::new();
            }
            _ => {}
        }
        match k.code {
            KeyCode::Backspace => {
                if p.input.pop().is_none() {
                    // Backspace on an empty line closes it, as in vim.
                    self.prompt = None;
                    return Vec::new();
                }
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => p.input.push(c),
            _ => return Vec::new(),
        }
        p.completions.clear();
        p.completion = None;
        p.error = None;
        Vec::new()
    }

    /// Completes the word being typed: a command name first, then a tag
    /// (`:tag`) or a session name (`:resume`, `:open`).
    fn complete(&mut self, forward: bool) {
        let candidates = {
            let Some(p) = self.prompt.as_ref() else {
                return;
            };
            if p.completions.is_empty() {
                self.completions_for(&p.input)
            } else {
                p.completions.clone()
            }
        };
        let Some(p) = self.prompt.as_mut() else {
            return;
        };
        if candidates.is_empty() {
            return;
        }
        let n = candidates.len();
        let next = match p.completion {
            None if forward => 0,
            None => n - 1,
            Some(i) if forward => (i + 1) % n,
            Some(i) => (i + n - 1) % n,
        };
        p.input.clone_from(&candidates[next]);
        p.completions = candidates;
        p.completion = Some(next);
    }

    fn completions_for(&self, input: &str) -> Vec<String> {
        let (head, last) = input.rsplit_once(' ').map_or(("", input), |(h, l)| (h, l));
        if head.is_empty() {
            let mut names: Vec<String> = VERBS.iter().map(|(v, _, _)| (*v).to_string()).collect();
            names.extend(action_names().into_iter().map(|(n, _)| n));
            names.sort();
            names.dedup();
            return names
                .into_iter()
                .filter(|n| n.starts_with(last))
                .map(|n| {
                    let takes = VERBS.iter().any(|(v, args, _)| *v == n && !args.is_empty());
                    if takes { format!("{n} ") } else { n }
                })
                .collect();
        }
        let verb = head.split_whitespace().next().unwrap_or("");
        let words: Vec<String> = match verb {
            "tag" => {
                let sign = last.chars().next().filter(|c| *c == '+' || *c == '-');
                let bare = last.trim_start_matches(['+', '-']);
                self.known_tags
                    .iter()
                    .filter(|t| t.starts_with(bare))
                    .map(|t| format!("{}{t}", sign.map(String::from).unwrap_or_default()))
                    .collect()
            }
            "resume" | "open" | "rename" => self
                .list
                .rows
                .iter()
                .map(|s| s.name.clone())
                .filter(|n| n.starts_with(last))
                .collect(),
            "export" if head.split_whitespace().count() == 1 => ["json", "jsonl", "md"]
                .iter()
                .filter(|f| f.starts_with(last))
                .map(|f| (*f).to_string())
                .collect(),
            _ => Vec::new(),
        };
        words.into_iter().map(|w| format!("{head} {w}")).collect()
    }

    /// Runs a command line; an error keeps the line open for a fix.
    pub fn run_command_line(&mut self, line: &str) -> Vec<Command> {
        match self.command(line.trim()) {
            Ok(cmds) => {
                self.prompt = None;
                cmds
            }
            Err(e) => {
                if let Some(p) = self.prompt.as_mut() {
                    p.error = Some(e);
                } else {
                    self.fail(&e);
                }
                Vec::new()
            }
        }
    }

    fn command(&mut self, line: &str) -> Result<Vec<Command>, String> {
        let line = line.trim_start_matches(':').trim();
        if line.is_empty() {
            return Ok(Vec::new());
        }
        if let Ok(n) = line.replace(',', "").parse::<u64>() {
            if self.history.is_none() {
                return Err("no session open to jump in".into());
            }
            self.focus = Pane::History;
            self.prompt = None;
            return Ok(self.jump_history(n, true));
        }
        let (verb, rest) = line
            .split_once(char::is_whitespace)
            .map_or((line, ""), |(v, r)| (v, r.trim()));
        match verb {
            "q" | "quit" => {
                self.quit = true;
                Ok(Vec::new())
            }
            "help" | "h" => {
                self.screen = Screen::Help;
                self.help_scroll = 0;
                Ok(Vec::new())
            }
            "sessions" | "ls" => {
                self.screen = Screen::Main;
                self.focus = Pane::List;
                if self.list.filter.is_empty() {
                    Ok(Vec::new())
                } else {
                    Ok(self.clear_filter())
                }
            }
            "new" => {
                let name = rest.to_string();
                validate_name(&name).map_err(|e| e.to_string())?;
                Ok(vec![self.mutate(Mutation::New {
                    name,
                    template: None,
                })])
            }
            // The action `resume` shares the verb's name: the verb takes a
            // name, the action none.
            "resume" if rest.is_empty() => {
                self.prompt = None;
                Ok(self.act(Action::Resume))
            }
            "resume" | "open" => {
                if rest.is_empty() {
                    return Err(format!(":{verb} wants a session name"));
                }
                self.focus = Pane::History;
                self.list.filter.clear();
                self.list.query = ListQuery {
                    sort: self.list.query.sort,
                    state: self.list.query.state,
                    ..ListQuery::default()
                };
                Ok(vec![Command::OpenByName {
                    name: rest.to_string(),
                }])
            }
            "status" => {
                let s = self.session_for(verb)?;
                let mut lines = vec![
                    format!("{} · {}", clean(&s.name), s.uid),
                    format!(
                        "{} messages · {} chars · source {}",
                        s.message_count,
                        s.char_count,
                        clean(&s.source)
                    ),
                ];
                if !s.title.is_empty() {
                    lines.push(format!("title: {}", clean(&s.title)));
                }
                if !s.tags.is_empty() {
                    lines.push(format!("tags: {}", clean(&s.tags.join(" "))));
                }
                if let Some(h) = &self.history {
                    lines.push(format!("cursor at message #{}", h.cursor));
                }
                self.popup = Some(lines.join("\n"));
                Ok(Vec::new())
            }
            "clear" => {
                let s = self.session_for(verb)?;
                self.dialog = Some(Dialog::confirm(
                    format!("delete every message of {}?", clean(&s.name)),
                    vec![
                        format!(
                            "{} messages go; the session, its tags and metadata stay",
                            s.message_count
                        ),
                        "y clears it, n keeps them".into(),
                    ],
                    Mutation::Clear { id: s.id },
                ));
                Ok(Vec::new())
            }
            "tag" | "tags" => {
                let s = self.session_for(verb)?;
                let (mut add, mut remove) = (Vec::new(), Vec::new());
                for w in rest.split_whitespace() {
                    if let Some(t) = w.strip_prefix('-') {
                        remove.push(t.to_string());
                    } else {
                        add.push(w.trim_start_matches('+').to_string());
                    }
                }
                if add.is_empty() && remove.is_empty() {
                    return Err(":tag wants tags: :tag +keep -draft".into());
                }
                if let Some(e) = add
                    .iter()
                    .find_map(|t| crate::domain::validate_tag(t).err())
                {
                    return Err(e.to_string());
                }
                Ok(vec![self.mutate(Mutation::Tags {
                    id: s.id,
                    add,
                    remove,
                })])
            }
            "title" | "retitle" => {
                let s = self.session_for(verb)?;
                Ok(vec![self.mutate(Mutation::Retitle {
                    id: s.id,
                    title: rest.to_string(),
                })])
            }
            "rename" => {
                let s = self.session_for(verb)?;
                validate_name(rest).map_err(|e| e.to_string())?;
                Ok(vec![self.mutate(Mutation::Rename {
                    id: s.id,
                    name: rest.to_string(),
                })])
            }
            "export" => {
                let s = self.session_for(verb)?;
                let (format, path) = rest
                    .split_once(char::is_whitespace)
                    .map_or((rest, ""), |(f, p)| (f, p.trim()));
                let format: ExportFormat =
                    format.parse().map_err(|e: crate::Error| e.to_string())?;
                let path = if path.is_empty() {
                    format!("{}.{}", s.name, format.extension())
                } else {
                    path.to_string()
                };
                Ok(vec![self.mutate(Mutation::Export {
                    ids: vec![s.id],
                    format,
                    path: crate::paths::expand_tilde(&path),
                    overwrite: false,
                })])
            }
            other => match action_names().into_iter().find(|(n, _)| n == other) {
                Some((_, action)) => {
                    self.prompt = None;
                    Ok(self.act(action))
                }
                None => Err(format!(
                    "unknown command :{other} (tab completes; :help lists them)"
                )),
            },
        }
    }

    /// The session a command acts on (the one on screen).
    fn session_for(&mut self, verb: &str) -> Result<crate::domain::Session, String> {
        match self.target() {
            Some(s) => Ok(s),
            None => Err(format!(":{verb}: {}", self.status.message)),
        }
    }
}
