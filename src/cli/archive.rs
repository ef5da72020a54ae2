//! `archive --to FILE`, `archive --list FILE` and `search --in FILE`:
//! sessions moved out into archive files, shown, and searched there.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};

use super::args::ArchiveArgs;
use super::{confirm, print, progress_bar, write_json};
use crate::archive::{self, ArchiveReport};
use crate::config::Config;
use crate::domain::{CleanupAction, PlannedSession, SessionId, now};
use crate::jobs::JobControl;
use crate::store::Store;

/// `archive`: in the store (names alone), to a file (`--to`), or a file's
/// contents (`--list`).
pub(super) fn archive(
    store: &mut Store,
    config: &Config,
    a: &ArchiveArgs,
    out: &mut dyn Write,
) -> Result<()> {
    if let Some(file) = &a.list {
        return list(file, a.json, out);
    }
    let Some(file) = &a.to else {
        if !a.criteria.criteria()?.is_empty() {
            bail!("archive: criteria pick sessions to move to a file: give --to FILE");
        }
        if a.names.is_empty() {
            bail!(
                "archive: name sessions to archive, or give --to FILE (with criteria) or --list FILE"
            );
        }
        let ids = super::resolve_all(store, &a.names)?;
        let n = store.archive(&ids)?;
        writeln!(out, "archived {n} sessions")?;
        return Ok(());
    };
    let sessions = pick(store, config, a)?;
    if sessions.is_empty() {
        if a.json {
            write_json(out, &serde_json::json!({ "archive": null, "removed": 0 }))?;
        } else {
            writeln!(
                out,
                "no session matches: nothing to archive, no file written"
            )?;
        }
        return Ok(());
    }
    let messages: u64 = sessions.iter().map(|s| s.message_count).sum();
    let summary = format!(
        "{} sessions ({} messages) to {}{}",
        sessions.len(),
        messages,
        file.display(),
        if a.keep {
            ", keeping them in the store"
        } else {
            ", removing them from the store"
        }
    );
    if a.dry_run {
        if a.json {
            write_json(
                out,
                &serde_json::json!({ "dry_run": true, "to": file, "keep": a.keep, "sessions": sessions }),
            )?;
        } else {
            writeln!(out, "would archive {summary}:")?;
            write!(out, "{}", print::planned(&sessions, now()))?;
        }
        return Ok(());
    }
    if !a.yes {
        eprintln!("archive {summary}:");
        eprint!("{}", print::planned(&sessions, now()));
    }
    confirm(a.yes, &format!("archive {} sessions", sessions.len()))?;
    let ids: Vec<SessionId> = sessions.iter().map(|s| s.id).collect();
    let bar = progress_bar("archiving", true);
    let report = archive::archive(
        store,
        &ids,
        file,
        a.keep,
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
        &JobControl::new(),
    )?;
    bar.finish_and_clear();
    tracing::info!(
        sessions = report.archive.header.sessions,
        file = %file.display(),
        removed = report.removed,
        "archive done"
    );
    if a.json {
        write_json(out, &report)?;
    } else {
        writeln!(out, "{}", done_line(&report))?;
    }
    Ok(())
}

fn done_line(r: &ArchiveReport) -> String {
    let h = &r.archive.header;
    let mut line = format!(
        "archived {} sessions ({} messages, {} of JSON) to {} ({}, {}% of the JSON); verified",
        h.sessions,
        h.messages,
        print::size(h.content_bytes),
        r.archive.path.display(),
        print::size(r.archive.file_bytes),
        r.archive.file_bytes * 100 / h.content_bytes.max(1),
    );
    if r.removed > 0 {
        line.push_str(&format!(
            "; removed {} from the store, which went from {} to {}",
            r.removed,
            print::size(r.db_bytes_before),
            print::size(r.db_bytes_after)
        ));
    } else {
        line.push_str("; the store keeps them (--keep)");
    }
    line
}

/// The sessions named and those the criteria pick, in the store's order,
/// never one with a protected tag.
fn pick(store: &Store, config: &Config, a: &ArchiveArgs) -> Result<Vec<PlannedSession>> {
    let criteria = a.criteria.criteria()?;
    if criteria.is_empty() && a.names.is_empty() {
        bail!(
            "archive --to: name sessions or give criteria (--older-than, --empty, --tag, --without-tag, --source, --larger-than)"
        );
    }
    let protected = &config.cleanup.protected_tags;
    let mut picked: Vec<PlannedSession> = if criteria.is_empty() {
        Vec::new()
    } else {
        // Every matching session, archived and trashed ones too: all go to the file.
        store
            .cleanup_plan(&criteria, CleanupAction::Purge, protected)?
            .sessions
    };
    for name in &a.names {
        let s = store.session(name)?;
        if let Some(tag) = s.tags.iter().find(|t| protected.contains(t)) {
            bail!(
                "{} carries the protected tag {tag:?} (cleanup.protected_tags): it is never archived",
                s.name
            );
        }
        if !picked.iter().any(|p| p.id == s.id) {
            picked.push(PlannedSession {
                id: s.id,
                uid: s.uid.clone(),
                name: s.name.clone(),
                message_count: s.message_count,
                updated_at: s.updated_at,
            });
        }
    }
    Ok(picked)
}

/// `archive --list FILE`.
fn list(file: &Path, json: bool, out: &mut dyn Write) -> Result<()> {
    let bar = progress_bar("reading", true);
    let (header, entries) = archive::list(file, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if json {
        write_json(
            out,
            &serde_json::json!({ "header": header, "sessions": entries }),
        )?;
        return Ok(());
    }
    let when = |t: Option<jiff::Timestamp>| t.map_or_else(|| "-".to_string(), |t| t.to_string());
    writeln!(
        out,
        "{}: scrollback archive v{}, {} sessions, {} messages, {} to {}, written {}, {} of JSON, checksum {} (verified)",
        file.display(),
        header.version,
        header.sessions,
        header.messages,
        when(header.first),
        when(header.last),
        header.created_at,
        print::size(header.content_bytes),
        header.checksum
    )?;
    for e in &entries {
        let parent = e
            .parent
            .as_ref()
            .map(|p| format!("  (branch of {p})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<32} {:>7} msgs  {}  {}{parent}",
            e.name,
            e.messages,
            when(e.updated_at),
            e.title
        )?;
    }
    Ok(())
}

/// `search --in FILE QUERY`.
pub(super) fn search_in(
    file: &Path,
    query: &str,
    limit: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let bar = progress_bar("searching", true);
    let (_, hits) = archive::search(file, query, limit, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if json {
        write_json(out, &hits)?;
    } else if hits.is_empty() {
        writeln!(out, "no matches in {}", file.display())?;
    } else {
        for h in &hits {
            let at = h.seq.map(|s| format!(" #{s}")).unwrap_or_default();
            writeln!(out, "{}{at}  {}\n    {}", h.name, h.title, h.snippet)?;
        }
    }
    Ok(())
}
