//! Human-readable output of the CLI. JSON output is serde's; this is the rest.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::domain::{CleanupPlan, Message, Session, format_relative};
use crate::store::{CompressReport, ImportReport, SessionStats, StoreStats};

/// A table of sessions: name, messages, last update, source, tags, title.
pub fn session_table(sessions: &[Session], now: Timestamp) -> String {
    let name_w = sessions
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<name_w$}  {:>6}  {:>9}  {:<12}  TAGS / TITLE",
        "NAME", "MSGS", "UPDATED", "SOURCE"
    );
    for s in sessions {
        let mark = match (s.trashed, s.archived, s.parent.is_some()) {
            (true, _, _) => 'T',
            (_, true, _) => 'A',
            (_, _, true) => '>',
            _ => ' ',
        };
        let mut rest = s
            .tags
            .iter()
            .map(|t| format!("#{t}"))
            .collect::<Vec<_>>()
            .join(" ");
        if !s.title.is_empty() {
            if !rest.is_empty() {
                rest.push_str("  ");
            }
            rest.push_str(&s.title);
        }
        let _ = writeln!(
            out,
            "{mark} {:<name_w$}  {:>6}  {:>9}  {:<12}  {}",
            fit(&s.name, name_w),
            s.message_count,
            format_relative(s.updated_at, now),
            fit(&s.source, 12),
            fit(&rest, 60)
        );
    }
    out
}

/// The header block of `show`.
/// `archived_parent`: the parent's name and archive file, when it was
/// moved out to one.
pub fn session_header(
    s: &Session,
    archived_parent: Option<&(String, String)>,
    now: Timestamp,
) -> String {
    let mut out = String::new();
    let title = if s.title.is_empty() {
        String::new()
    } else {
        format!(": {}", s.title)
    };
    let _ = writeln!(out, "{}{title}", s.name);
    let _ = writeln!(
        out,
        "uid {}  source {}  {} messages  created {} ({})  updated {}",
        s.uid,
        s.source,
        s.message_count,
        day(s.created_at),
        format_relative(s.created_at, now),
        format_relative(s.updated_at, now),
    );
    if let Some(r) = &s.source_ref {
        let _ = writeln!(out, "source ref {r}");
    }
    if let Some(p) = &s.parent {
        let p = match archived_parent {
            Some((name, file)) => format!("{name} ({p}), parent in archive {file},"),
            None => p.to_string(),
        };
        match s.fork_seq {
            Some(k) => writeln!(out, "branched from {p} after message {k}"),
            None => writeln!(out, "branched from {p}"),
        }
        .ok();
    }
    if s.archived || s.trashed {
        let state = [(s.archived, "archived"), (s.trashed, "in the trash")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "state: {state}");
    }
    if !s.tags.is_empty() {
        let _ = writeln!(out, "tags: {}", s.tags.join(", "));
    }
    if !s.metadata.is_empty() {
        let meta = s
            .metadata
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect::<Vec<_>>()
            .join("  ");
        let _ = writeln!(out, "metadata: {meta}");
    }
    out
}

/// One message with a header line, its text indented.
pub fn message(m: &Message) -> String {
    let mut head = format!("[{}] {}", m.seq, m.role);
    if m.kind != crate::domain::Kind::Text {
        let _ = write!(head, " {}", m.kind.as_str().replace('_', " "));
    }
    if let Some(model) = &m.model {
        let _ = write!(head, " · {model}");
    }
    let _ = write!(head, " · {}", m.created_at.strftime("%Y-%m-%d %H:%M"));
    if let Some(t) = m.tokens {
        let _ = write!(head, " · {}/{} tokens", t.input, t.output);
    }
    let mut out = format!("{head}\n");
    for line in m.content.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// A cleanup plan, as `cleanup --dry-run` shows it.
pub fn plan(p: &CleanupPlan, now: Timestamp) -> String {
    let verb = match p.action {
        crate::domain::CleanupAction::Archive => "archive",
        crate::domain::CleanupAction::Trash => "move to the trash",
        crate::domain::CleanupAction::Purge => "delete for good",
    };
    let mut out = format!(
        "would {verb} {} sessions ({} messages)",
        p.sessions.len(),
        p.message_count()
    );
    if !p.protected_tags.is_empty() {
        let _ = write!(
            out,
            "; sessions tagged {} are protected",
            p.protected_tags.join(", ")
        );
    }
    out.push('\n');
    out.push_str(&planned(&p.sessions, now));
    out
}

/// Planned sessions, a line each.
pub fn planned(sessions: &[crate::domain::PlannedSession], now: Timestamp) -> String {
    let mut out = String::new();
    for s in sessions {
        let _ = writeln!(
            out,
            "  {:<40}  {:>6} msgs  updated {}",
            fit(&s.name, 40),
            s.message_count,
            format_relative(s.updated_at, now)
        );
    }
    out
}

/// Files listed one per line after an import's totals, at most.
const PER_FILE_LINES: usize = 50;

/// What an import did: a line of totals, then a line per file read (with
/// the format found and what was skipped, and why), renamed sessions and
/// paths skipped. Files not read because they had not changed are counted.
pub fn import_report(r: &ImportReport) -> String {
    let mut out = format!(
        "imported {} new sessions ({} messages) from {} files; {} grew, {} unchanged",
        r.sessions_added, r.messages_added, r.files, r.sessions_grown, r.sessions_unchanged
    );
    if r.branches_added > 0 {
        let _ = write!(
            out,
            "; {} of the new sessions are branches or child sessions",
            r.branches_added
        );
    }
    if r.files_unchanged > 0 {
        let _ = write!(
            out,
            "; {} files unchanged since the last import, not read",
            r.files_unchanged
        );
    }
    if r.skipped > 0 {
        let _ = write!(out, "; {} items skipped", r.skipped);
    }
    if r.empty_files > 0 {
        let _ = write!(out, "; {} empty files skipped", r.empty_files);
    }
    let read: Vec<_> = r.per_file.iter().filter(|f| !f.unchanged_file).collect();
    for (i, f) in read.iter().enumerate() {
        if i == PER_FILE_LINES {
            let _ = write!(
                out,
                "\n  ... and {} more files (`import --json` lists every file)",
                read.len() - i
            );
            break;
        }
        let _ = write!(out, "\n  {}: {}: {} new", f.path, f.format, f.sessions_new);
        if f.branches > 0 {
            let _ = write!(out, " ({} branches or child sessions)", f.branches);
        }
        let _ = write!(
            out,
            ", {} grew, {} unchanged, {} messages",
            f.sessions_grown, f.sessions_unchanged, f.messages
        );
        for s in &f.skipped {
            let _ = write!(out, "\n    skipped {} {}: {}", s.count, s.what, s.reason);
        }
    }
    for x in &r.renamed {
        let _ = write!(out, "\n  {:?} was taken: imported as {:?}", x.from, x.to);
    }
    for note in &r.skipped_files {
        let _ = write!(out, "\n  skipped {}: {}", note.path, note.reason);
    }
    out.push('\n');
    out
}

/// Statistics of one session.
pub fn session_stats(name: &str, st: &SessionStats) -> String {
    let mut out = format!(
        "{name}: {} messages, {} characters (avg {})\n",
        st.messages, st.chars, st.avg_chars
    );
    for r in &st.roles {
        let _ = writeln!(
            out,
            "  {:<10} {:>6} messages  {:>9} chars  avg {}",
            r.role.as_str(),
            r.messages,
            r.chars,
            r.avg_chars
        );
    }
    if !st.models.is_empty() {
        let models = st
            .models
            .iter()
            .map(|m| format!("{} ({})", m.name, m.count))
            .collect::<Vec<_>>();
        let _ = writeln!(out, "models: {}", models.join(", "));
    }
    if st.tokens_in + st.tokens_out > 0 {
        let _ = writeln!(out, "tokens: {} in, {} out", st.tokens_in, st.tokens_out);
    }
    if let (Some(a), Some(b)) = (st.first_activity, st.last_activity) {
        let _ = writeln!(
            out,
            "activity: {} .. {}",
            a.strftime("%Y-%m-%d %H:%M"),
            b.strftime("%Y-%m-%d %H:%M")
        );
    }
    out
}

/// Statistics of the store.
pub fn store_stats(st: &StoreStats) -> String {
    let mut out = format!(
        "{} sessions ({} live, {} archived, {} in the trash), {} messages, {} characters\n",
        st.sessions, st.live, st.archived, st.trashed, st.messages, st.chars
    );
    for (label, counts) in [
        ("roles", &st.roles),
        ("sources", &st.sources),
        ("tags", &st.tags),
        ("models", &st.models),
    ] {
        if !counts.is_empty() {
            let list = counts
                .iter()
                .take(10)
                .map(|c| format!("{} ({})", c.name, c.count))
                .collect::<Vec<_>>();
            let _ = writeln!(out, "{label}: {}", list.join(", "));
        }
    }
    let c = &st.compressed;
    if c.messages > 0 {
        let _ = writeln!(
            out,
            "compressed: {} messages, {} stored as {} (saves {}, {}%)",
            c.messages,
            size(c.original_bytes),
            size(c.stored_bytes),
            size(c.saved_bytes),
            percent(c.saved_bytes, c.original_bytes)
        );
    }
    if !st.days.is_empty() {
        let _ = writeln!(out, "messages per day (last 14 active days):");
        let max = st.days.iter().map(|d| d.count).max().unwrap_or(1).max(1);
        for d in st.days.iter().rev().take(14).rev() {
            let bar = "#".repeat(usize::try_from(d.count * 40 / max).unwrap_or(40).max(1));
            let _ = writeln!(out, "  {} {:>7} {bar}", d.name, d.count);
        }
    }
    out
}

/// What `compress` changed.
pub fn compress_report(r: &CompressReport) -> String {
    let mut out = String::new();
    if r.compressed + r.decompressed == 0 {
        out.push_str("every message is already stored as the config says: nothing to do");
    } else {
        let mut done = Vec::new();
        if r.compressed > 0 {
            done.push(format!("compressed {} messages", r.compressed));
        }
        if r.decompressed > 0 {
            done.push(format!("decompressed {} messages", r.decompressed));
        }
        let _ = write!(
            out,
            "{}: {} became {}",
            done.join(", "),
            size(r.bytes_before),
            size(r.bytes_after)
        );
    }
    if r.incompressible > 0 {
        let _ = write!(
            out,
            "\n{} messages stay text: compressing them would not make them smaller",
            r.incompressible
        );
    }
    if r.file_bytes_released > 0 {
        let _ = write!(
            out,
            "\nthe database file gave back {}",
            size(r.file_bytes_released)
        );
    }
    out.push('\n');
    out
}

/// A size for people: `512 B`, `12.0 KB`, `3.4 MB`, `1.2 GB`.
pub fn size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if bytes >= 1 << 30 {
        format!("{:.1} GB", b / f64::from(1u32 << 30))
    } else if bytes >= 1 << 20 {
        format!("{:.1} MB", b / f64::from(1u32 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// `part` of `whole` in whole percent, rounded down (0 of nothing).
fn percent(part: u64, whole: u64) -> u64 {
    (u128::from(part) * 100)
        .checked_div(u128::from(whole))
        .map_or(0, |p| u64::try_from(p).unwrap_or(100))
}

fn day(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d").to_string()
}

/// Search results: a line per session (name, role, time, other hits), then
/// the snippet with the matched words marked (reverse video at a terminal,
/// `[...]` otherwise).
pub fn search_hits(hits: &[crate::search::Hit], now: Timestamp) -> String {
    let mut out = String::new();
    for h in hits {
        let mut head = h.session.name.clone();
        if let Some(m) = &h.message {
            let _ = write!(
                head,
                "  #{} {} · {}",
                m.seq,
                m.role,
                format_relative(m.created_at, now)
            );
        } else {
            head.push_str("  (name, title or tags)");
        }
        if h.other_hits > 0 {
            let _ = write!(head, "  (+{} more)", h.other_hits);
        }
        let _ = writeln!(out, "{head}");
        // The output's sanitizer draws the marks (reverse video or brackets).
        let (open, close) = (
            crate::sanitize::MARK_ON.to_string(),
            crate::sanitize::MARK_OFF.to_string(),
        );
        let mut line = String::new();
        let mut at = 0;
        for &[a, b] in &h.highlights {
            line.push_str(&h.snippet[at..a]);
            line.push_str(&open);
            line.push_str(&h.snippet[a..b]);
            line.push_str(&close);
            at = b;
        }
        line.push_str(&h.snippet[at..]);
        let _ = writeln!(out, "    {line}");
    }
    out
}

/// Cuts `s` to `width` characters, marking the cut with `…`.
fn fit(s: &str, width: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= width {
        clean
    } else {
        let mut cut: String = clean.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A retention plan, for a person.
pub fn retention_plan(plan: &crate::store::RetentionPlan, now: Timestamp) -> String {
    let mut out = String::new();
    for (what, p) in [
        ("older than max_age", &plan.by_age),
        ("over max_sessions", &plan.by_count),
    ] {
        if let Some(p) = p.as_ref().filter(|p| !p.sessions.is_empty()) {
            let _ = writeln!(out, "{what}: {} sessions", p.sessions.len());
            out.push_str(&self::plan(p, now));
        }
    }
    if !plan.trims.is_empty() {
        let _ = writeln!(
            out,
            "over max_turns or max_session_mb: {} sessions lose their oldest turns",
            plan.trims.len()
        );
        for t in &plan.trims {
            let _ = writeln!(
                out,
                "  {}: messages {} to {} of {} go",
                t.name,
                t.from_seq,
                t.to_seq.saturating_sub(1),
                t.message_count
            );
        }
    }
    if out.is_empty() {
        out.push_str("the store is within the policy: nothing to do\n");
    }
    out
}

/// What a retention run did, in one line.
pub fn retention_run(run: &crate::store::RetentionRun) -> String {
    format!(
        "retention ({}): {} archived, {} trashed, {} purged; {} sessions trimmed ({} messages removed)",
        run.trigger, run.archived, run.trashed, run.purged, run.trimmed, run.messages_removed
    )
}
