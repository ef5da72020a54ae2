//! Markdown export: YAML front matter with the session's facts (title,
//! source, times, tags, lineage, metadata), a heading with the title, then
//! each message under a heading that names its role, kind, model and time.
//! Tool calls show their input, tool output and injected text sit in code
//! blocks, and reasoning is quoted, so that the file reads well on its own.

use std::io::{self, Write};

use serde_json::Value;

use crate::domain::{Kind, Message, Session};

pub fn write_session(out: &mut dyn Write, s: &Session, messages: &[Message]) -> io::Result<()> {
    writeln!(out, "---")?;
    writeln!(out, "title: {}", yaml_str(&s.title))?;
    writeln!(out, "name: {}", yaml_str(&s.name))?;
    writeln!(out, "uid: {}", yaml_str(s.uid.as_str()))?;
    writeln!(out, "source: {}", yaml_str(&s.source))?;
    if let Some(r) = &s.source_ref {
        writeln!(out, "source_ref: {}", yaml_str(r))?;
    }
    writeln!(out, "created: {}", s.created_at)?;
    writeln!(out, "updated: {}", s.updated_at)?;
    if let Some(t) = s.archived_at {
        writeln!(out, "archived: {t}")?;
    }
    if let Some(t) = s.trashed_at {
        writeln!(out, "trashed: {t}")?;
    }
    let tags: Vec<String> = s.tags.iter().map(|t| yaml_str(t)).collect();
    writeln!(out, "tags: [{}]", tags.join(", "))?;
    if let Some(parent) = &s.parent {
        writeln!(out, "parent: {}", yaml_str(parent.as_str()))?;
        if let Some(k) = s.fork_seq {
            writeln!(out, "fork_seq: {k}")?;
        }
    }
    writeln!(out, "messages: {}", s.message_count)?;
    if !s.metadata.is_empty() {
        writeln!(out, "metadata:")?;
        for (k, v) in &s.metadata {
            // JSON is YAML: strings quoted and escaped, objects in flow style.
            writeln!(out, "  {}: {}", yaml_str(k), yaml_value(v))?;
        }
    }
    writeln!(out, "---")?;
    let title = if s.title.trim().is_empty() {
        &s.name
    } else {
        &s.title
    };
    writeln!(out, "\n# {}", one_line(title))?;
    for m in messages {
        let mut head = format!("## {}", m.role);
        if m.kind != Kind::Text {
            head.push_str(&format!(" · {}", m.kind.as_str().replace('_', " ")));
        }
        if let Some(model) = &m.model {
            head.push_str(&format!(" · {}", one_line(model)));
        }
        head.push_str(&format!(" · {}", fmt_time(m.created_at)));
        writeln!(out, "\n{head}\n")?;
        body(out, m)?;
    }
    Ok(())
}

fn body(out: &mut dyn Write, m: &Message) -> io::Result<()> {
    let text = m.content.trim_end();
    match m.kind {
        Kind::Text | Kind::Summary => writeln!(out, "{text}"),
        Kind::Image => writeln!(out, "*{}*", one_line(text)),
        Kind::Thinking => {
            for line in text.lines() {
                writeln!(out, "> {line}")?;
            }
            Ok(())
        }
        Kind::ToolCall => {
            writeln!(out, "`{}`", one_line(text).replace('`', "'"))?;
            if let Some(input) = m.metadata.get("input") {
                let pretty = serde_json::to_string_pretty(input).unwrap_or_default();
                writeln!(out)?;
                fenced(out, "json", &pretty)?;
            }
            Ok(())
        }
        Kind::ToolResult | Kind::Context => fenced(out, "text", text),
    }
}

/// A code block whose fence is longer than any run of backticks inside.
fn fenced(out: &mut dyn Write, lang: &str, text: &str) -> io::Result<()> {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{fence}{lang}\n{text}\n{fence}")
}

fn yaml_str(s: &str) -> String {
    Value::from(s).to_string()
}

fn yaml_value(v: &Value) -> String {
    v.to_string()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn fmt_time(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M UTC").to_string()
}
