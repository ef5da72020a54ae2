//! Markdown export: a heading per session, a line of facts, then each message
//! under a heading that names its role, model and time.

use std::io::{self, Write};

use crate::domain::{Message, Session};

pub fn write_session(out: &mut dyn Write, s: &Session, messages: &[Message]) -> io::Result<()> {
    let title = if s.title.is_empty() {
        &s.name
    } else {
        &s.title
    };
    writeln!(out, "# {title}\n")?;
    writeln!(out, "- name: `{}`", s.name)?;
    writeln!(out, "- uid: `{}`", s.uid)?;
    writeln!(out, "- source: {}", s.source)?;
    writeln!(out, "- created: {}", fmt_time(s.created_at))?;
    writeln!(out, "- updated: {}", fmt_time(s.updated_at))?;
    if !s.tags.is_empty() {
        writeln!(out, "- tags: {}", s.tags.join(", "))?;
    }
    for (k, v) in &s.metadata {
        writeln!(
            out,
            "- {k}: {}",
            v.as_str().map_or_else(|| v.to_string(), str::to_string)
        )?;
    }
    if let Some(parent) = &s.parent {
        match s.fork_seq {
            Some(k) => writeln!(out, "- branched from `{parent}` after message {k}")?,
            None => writeln!(out, "- branched from `{parent}`")?,
        }
    }
    for m in messages {
        let mut head = format!("## {}", m.role);
        if let Some(model) = &m.model {
            head.push_str(&format!(" · {model}"));
        }
        head.push_str(&format!(" · {}", fmt_time(m.created_at)));
        writeln!(out, "\n{head}\n")?;
        writeln!(out, "{}", m.content.trim_end())?;
    }
    Ok(())
}

fn fmt_time(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M UTC").to_string()
}
