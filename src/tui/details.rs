//! The details pane's lines, built once from what was loaded and shared by
//! `App::update` (to move its cursor, scroll and follow lineage links) and
//! the view (to draw).

use super::event::MetaInfo;
use super::view::thousands;
use crate::domain::{Session, SessionId};

/// One line of the details pane.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailLine {
    pub label: &'static str,
    pub value: String,
    /// A lineage link: the session it names and the message to open it at.
    pub link: Option<(Session, Option<u64>)>,
}

impl DetailLine {
    fn kv(label: &'static str, value: String) -> DetailLine {
        DetailLine {
            label,
            value,
            link: None,
        }
    }

    pub fn link_id(&self) -> Option<SessionId> {
        self.link.as_ref().map(|(s, _)| s.id)
    }
}

/// The lines of the details pane, lineage first.
pub fn lines(m: &MetaInfo) -> Vec<DetailLine> {
    let s = &m.session;
    let mut out = Vec::new();
    let at = |k: Option<u64>| k.map_or_else(String::new, |k| format!(" at msg {k}"));
    if let Some(p) = &m.parent {
        out.push(DetailLine {
            label: "parent",
            value: format!("{}{}", p.name, at(s.fork_seq)),
            // The parent opens where this branch left it.
            link: Some((p.clone(), s.fork_seq)),
        });
    } else if let Some((name, file)) = &m.archived_parent {
        out.push(DetailLine::kv(
            "parent",
            format!("{name}{} (in archive {file})", at(s.fork_seq)),
        ));
    } else if let Some(uid) = &s.parent {
        out.push(DetailLine::kv(
            "parent",
            format!("{uid} (not in the store)"),
        ));
    }
    for (i, br) in m.branches.iter().enumerate() {
        out.push(DetailLine {
            label: if i == 0 { "branches" } else { "" },
            value: format!("{}{}", br.name, at(br.fork_seq)),
            // A branch opens at its fork point: what follows is its own.
            link: Some((br.clone(), br.fork_seq)),
        });
    }
    out.push(DetailLine::kv(
        "title",
        if s.title.is_empty() {
            "(none: T sets one)".into()
        } else {
            s.title.clone()
        },
    ));
    out.push(DetailLine::kv("uid", s.uid.0.clone()));
    out.push(DetailLine::kv(
        "source",
        match &s.source_ref {
            Some(r) => format!("{} ({r})", s.source),
            None => s.source.clone(),
        },
    ));
    out.push(DetailLine::kv(
        "times",
        format!(
            "created {} · updated {}",
            s.created_at.strftime("%Y-%m-%d %H:%M"),
            s.updated_at.strftime("%Y-%m-%d %H:%M")
        ),
    ));
    if s.archived || s.trashed {
        out.push(DetailLine::kv(
            "state",
            if s.trashed {
                "in the trash (U restores)".into()
            } else {
                "archived (U unarchives)".into()
            },
        ));
    }
    if !s.tags.is_empty() {
        out.push(DetailLine::kv(
            "tags",
            s.tags
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" "),
        ));
    }
    let roles = m
        .stats
        .roles
        .iter()
        .map(|r| format!("{} {}", r.role, thousands(r.messages)))
        .collect::<Vec<_>>()
        .join(" · ");
    out.push(DetailLine::kv(
        "messages",
        format!(
            "{} ({roles}) · {} chars",
            thousands(m.stats.messages),
            thousands(m.stats.chars)
        ),
    ));
    if !m.stats.models.is_empty() {
        out.push(DetailLine::kv(
            "models",
            m.stats
                .models
                .iter()
                .map(|c| format!("{} ({})", c.name, c.count))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if m.stats.tokens_in + m.stats.tokens_out > 0 {
        out.push(DetailLine::kv(
            "tokens",
            format!(
                "{} in · {} out",
                thousands(m.stats.tokens_in),
                thousands(m.stats.tokens_out)
            ),
        ));
    }
    for (k, v) in &s.metadata {
        out.push(DetailLine::kv(
            "meta",
            format!(
                "{k} = {}",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            ),
        ));
    }
    out
}
