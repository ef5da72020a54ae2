//! The `scrollback` command line: parses arguments, opens the store, runs one
//! subcommand. Data goes to stdout, diagnostics to stderr. This module calls
//! the library (store, import, export) and never the TUI.

mod archive;
mod args;
mod log;
mod print;
mod serve;
mod sync;

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{CommandFactory, Parser};
use serde_json::Value;

pub use args::Cli;
use args::{CleanupArgs, Command, ExportArg, ListArgs, OrderArg, RoleArg, SortArg};

use crate::config::Config;
use crate::domain::{
    CleanupAction, ListQuery, MergeOrder, NewMessage, NewSession, Role, Session, SessionId, Sort,
    StateFilter, now, parse_before,
};
use crate::error::Error;
use crate::export::ExportFormat;
use crate::import::{Format, ImportRequest};
use crate::jobs::JobControl;
use crate::search::{Limit, Rebuilt, Search};
use crate::store::{ImportOptions, Store};

/// Exit code for "no such session".
pub const EXIT_NOT_FOUND: u8 = 3;

/// The full-screen browser, which `scrollback` without a subcommand opens:
/// given by the binary, so that this module never depends on the TUI.
pub type Browse = fn(Store, &Config, bool) -> anyhow::Result<()>;

/// Parses the command line, runs it, and maps the outcome to an exit code.
pub fn main(browse: Option<Browse>) -> ExitCode {
    let cli = Cli::parse();
    match run(&cli, browse) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let not_found = e.downcast_ref::<Error>().is_some_and(Error::is_not_found);
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let line = one_line(&e);
            tracing::error!("{line}");
            eprintln!("scrollback: error: {}", crate::sanitize::message(&line));
            ExitCode::from(if not_found { EXIT_NOT_FOUND } else { 1 })
        }
    }
}

/// An error and its causes on one line, each said once: the library's
/// errors already name their cause, which the chain then repeats.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = Some(io::ErrorKind::BrokenPipe);
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().map(io::Error::kind) == pipe
            || c.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == pipe
            || match c.downcast_ref::<Error>() {
                Some(Error::Io { source, .. }) => Some(source.kind()) == pipe,
                Some(Error::Json(j)) => j.io_error_kind() == pipe,
                _ => false,
            }
    })
}

/// Loads the config: `--config`/`SCROLLBACK_CONFIG` (must exist), else the
/// default file if present, else the built-in defaults. Warnings go to stderr.
fn load_config(path: Option<&PathBuf>) -> Result<Config> {
    let (path, required) = match path {
        Some(p) => (Some(p.clone()), true),
        None => (crate::paths::default_config_file(), false),
    };
    let Some(path) = path.filter(|p| required || p.exists()) else {
        return Ok(Config::default());
    };
    let (config, warnings) = Config::load(&path)?;
    for w in warnings {
        eprintln!("scrollback: warning: {}", crate::sanitize::message(&w));
    }
    Ok(config)
}

/// Starts the log beside the database (not for the demo, which writes
/// nothing).
fn start_log(cli: &Cli, config: &Config) {
    if cli.demo || in_memory(cli, config) {
        return;
    }
    let configured = match log::level(&config.log.level) {
        log::Setting::Off => None,
        log::Setting::At(level) => Some(level),
        log::Setting::Unknown => {
            eprintln!(
                "scrollback: warning: {}",
                crate::sanitize::message(&format!(
                    "`log.level` = {:?} is not one of off, error, warn, info, debug, trace; info is used",
                    config.log.level
                ))
            );
            Some(tracing::Level::INFO)
        }
    };
    let level = match cli.verbose {
        0 => configured,
        1 => Some(tracing::Level::INFO.max(configured.unwrap_or(tracing::Level::INFO))),
        2 => Some(tracing::Level::DEBUG),
        _ => Some(tracing::Level::TRACE),
    };
    let Some(level) = level else { return };
    let Ok(db) = db_path(cli, config) else { return };
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    // The store creates it too, private, if it is missing.
    if crate::paths::create_private_dir(&dir).is_ok() {
        log::init(&dir, level);
    }
    tracing::debug!(args = ?std::env::args().collect::<Vec<_>>(), "start");
}

/// The database file: `--db`/`SCROLLBACK_DB`, else `scrollback.db` in the
/// data directory (`SCROLLBACK_DATA_DIR`, else the config's, else the platform's).
fn db_path(cli: &Cli, config: &Config) -> Result<PathBuf> {
    if let Some(db) = &cli.db {
        return Ok(db.clone());
    }
    let dir = std::env::var_os("SCROLLBACK_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| config.data_dir())
        .ok_or_else(|| anyhow!("cannot find a data directory: set --db PATH or SCROLLBACK_DB"))?;
    Ok(dir.join("scrollback.db"))
}

fn open_store(cli: &Cli, config: &Config) -> Result<Store> {
    if cli.demo {
        return Ok(crate::demo::store(config.store_options())?);
    }
    if in_memory(cli, config) {
        return Ok(Store::open_in_memory_with(config.store_options())?);
    }
    let path = db_path(cli, config)?;
    Ok(Store::open_with(&path, config.store_options())?)
}

/// `cleanup --policy`: the config's retention policy, planned, shown and
/// applied (after a yes) in one transaction, logged.
fn retention(
    store: &mut Store,
    config: &Config,
    a: &CleanupArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let policy = config.retention.policy(now())?;
    if policy.is_empty() {
        bail!(
            "no retention rule is set: set max_age, max_sessions, max_turns or max_session_mb under [retention] in the config"
        );
    }
    let plan = store.retention_plan(&policy, &config.cleanup.protected_tags)?;
    if a.dry_run {
        if a.json {
            write_json(out, &plan)?;
        } else {
            write!(out, "{}", print::retention_plan(&plan, now()))?;
        }
        return Ok(());
    }
    if plan.is_empty() {
        writeln!(out, "the store is within the policy: nothing to do")?;
        return Ok(());
    }
    if !a.yes {
        eprint!("{}", print::retention_plan(&plan, now()));
    }
    confirm(a.yes, "apply this retention policy")?;
    let run = store.apply_retention(&plan, "cleanup")?;
    if a.json {
        write_json(out, &run)?;
    } else {
        writeln!(out, "{}", print::retention_run(&run))?;
    }
    Ok(())
}

/// True when the config keeps sessions in memory and no database file is
/// named (`--db`, `SCROLLBACK_DB`), which wins over the config.
fn in_memory(cli: &Cli, config: &Config) -> bool {
    config.storage.backend == crate::config::Backend::Memory && cli.db.is_none()
}

/// Runs a parsed command line; without a subcommand, `browse`.
pub fn run(cli: &Cli, browse: Option<Browse>) -> Result<()> {
    let config = load_config(cli.config.as_ref())?;
    start_log(cli, &config);
    let Some(command) = &cli.command else {
        if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
            bail!(
                "the full-screen browser needs a terminal; for scripts use a subcommand (scrollback --help)"
            );
        }
        let Some(browse) = browse else {
            bail!("this build has no full-screen browser: use a subcommand (scrollback --help)");
        };
        let store = open_store(cli, &config)?;
        return browse(store, &config, cli.demo);
    };
    if let Command::Completions { shell } = command {
        clap_complete::generate(*shell, &mut Cli::command(), "scrollback", &mut io::stdout());
        return Ok(());
    }
    if let Command::Resume { name, print, json } = command {
        let store = open_store(cli, &config)?;
        return resume(store, &config, name, *print || cli.demo, *json);
    }
    if let Command::Serve { listen, token_file } = command {
        let store = open_store(cli, &config)?;
        let db = (!cli.demo && !in_memory(cli, &config))
            .then(|| db_path(cli, &config))
            .transpose()?;
        return serve::serve(
            store,
            &config,
            listen.as_deref(),
            token_file.as_ref(),
            db.as_deref(),
        );
    }
    if let Command::Mcp = command {
        return serve::mcp(open_store(cli, &config)?, &config);
    }
    let mut store = open_store(cli, &config)?;
    if let Command::Sources { json } | Command::Sync { json } | Command::Watch { json } = command {
        // Only a database file has a lock file beside it.
        let db = (!cli.demo && !in_memory(cli, &config))
            .then(|| db_path(cli, &config))
            .transpose()?;
        let started = std::time::Instant::now();
        tracing::info!(command = command.name(), "started");
        sync::run(&config, &store, command, *json, db.as_deref())?;
        tracing::info!(
            command = command.name(),
            secs = started.elapsed().as_secs_f64(),
            "finished"
        );
        return Ok(());
    }
    // Everything a person reads goes through the sanitizer; data (--json,
    // an export to a pipe) is written as it is.
    let styled = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out: Box<dyn Write> = if writes_data(command) {
        Box::new(io::stdout().lock())
    } else {
        Box::new(crate::sanitize::Human::new(io::stdout().lock(), styled))
    };
    let started = std::time::Instant::now();
    tracing::info!(command = command.name(), "started");
    run_command(&config, &mut store, command, &mut *out)?;
    tracing::info!(
        command = command.name(),
        secs = started.elapsed().as_secs_f64(),
        "finished"
    );
    // A write that fails at the end (a full disk, a closed stdout) is an
    // error too: nothing is reported as done that was not written.
    out.flush().context("writing the output")?;
    Ok(())
}

/// Whether a command's stdout is data, written as it is: `--json`, or an
/// export to stdout that is not a terminal.
fn writes_data(command: &Command) -> bool {
    match command {
        Command::Show { json, .. }
        | Command::Import { json, .. }
        | Command::Search { json, .. }
        | Command::Stats { json, .. }
        | Command::Compress { json } => *json,
        Command::List(a) => a.json,
        Command::Cleanup(a) => a.json,
        Command::Archive(a) => a.json,
        Command::Export { output, .. } => output.is_none() && !io::stdout().is_terminal(),
        _ => false,
    }
}

#[allow(clippy::too_many_lines)] // one arm per subcommand; the long ones are functions
fn run_command(
    config: &Config,
    store: &mut Store,
    command: &Command,
    out: &mut dyn Write,
) -> Result<()> {
    let now = now();
    match command {
        Command::New {
            name,
            title,
            tags,
            meta,
            template,
        } => {
            let mut new = NewSession::named(name.clone());
            new.title.clone_from(title);
            new.tags.clone_from(tags);
            new.template.clone_from(template);
            for m in meta {
                if let (k, Some(v)) = parse_meta(m)? {
                    new.metadata.insert(k, v);
                }
            }
            let s = store.create_session(&new)?;
            writeln!(out, "created {} ({})", s.name, s.uid)?;
        }
        Command::Add {
            name,
            role,
            model,
            text,
        } => {
            let s = store.session(name)?;
            let content = match text.as_deref() {
                Some("-") | None => read_stdin()?,
                Some(t) => t.to_string(),
            };
            let mut m = NewMessage::new(role_of(*role), content);
            m.model.clone_from(model);
            let m = store.add_message(s.id, m)?;
            writeln!(out, "added message {} to {}", m.seq, s.name)?;
        }
        Command::Show {
            name,
            json,
            last,
            from,
            limit,
        } => {
            let s = store.session(name)?;
            let messages = match (last, from) {
                (Some(n), _) => store.last_messages(s.id, *n)?,
                (None, from) => {
                    store.messages(s.id, from.unwrap_or(0), limit.unwrap_or(u64::MAX >> 1))?
                }
            };
            let messages = match (last, limit) {
                (Some(_), Some(l)) => messages
                    .into_iter()
                    .take(usize::try_from(*l).unwrap_or(usize::MAX))
                    .collect(),
                _ => messages,
            };
            if *json {
                let mut v = serde_json::to_value(&s)?;
                v["messages"] = serde_json::to_value(&messages)?;
                write_json(out, &v)?;
            } else {
                let archived_parent = match &s.parent {
                    Some(uid) => store.archived_in(uid)?,
                    None => None,
                };
                write!(
                    out,
                    "{}",
                    print::session_header(&s, archived_parent.as_ref(), now)
                )?;
                for m in &messages {
                    write!(out, "\n{}", print::message(m))?;
                }
            }
        }
        Command::List(a) => list(store, a, out)?,
        Command::Rename { old, new } => {
            let s = store.session(old)?;
            store.rename(s.id, new)?;
            writeln!(out, "renamed {old} to {new}")?;
        }
        Command::Retitle { name, title } => {
            let s = store.session(name)?;
            store.retitle(s.id, title)?;
            writeln!(out, "retitled {}", s.name)?;
        }
        Command::Tag { name, changes } => {
            let s = store.session(name)?;
            let (mut add, mut remove) = (Vec::new(), Vec::new());
            for c in changes {
                match c.strip_prefix('-') {
                    Some(t) => remove.push(t.to_string()),
                    None => add.push(c.strip_prefix('+').unwrap_or(c).to_string()),
                }
            }
            let s = store.update_tags(s.id, &add, &remove)?;
            writeln!(
                out,
                "{}: tags {}",
                s.name,
                if s.tags.is_empty() {
                    "(none)".into()
                } else {
                    s.tags.join(", ")
                }
            )?;
        }
        Command::Meta { name, changes } => {
            let s = store.session(name)?;
            let changes = changes
                .iter()
                .map(|c| parse_meta(c))
                .collect::<Result<Vec<_>>>()?;
            let s = store.update_metadata(s.id, &changes)?;
            writeln!(out, "{}: metadata {}", s.name, Value::Object(s.metadata))?;
        }
        Command::Branch { src, new, at } => {
            let p = store.session(src)?;
            let b = store.branch(p.id, new, *at)?;
            let at = b
                .fork_seq
                .map_or_else(String::new, |k| format!(" after message {k}"));
            writeln!(
                out,
                "branched {} from {}{at} ({} messages)",
                b.name, p.name, b.message_count
            )?;
        }
        Command::Copy { src, new } => {
            let p = store.session(src)?;
            let c = store.copy(p.id, new)?;
            writeln!(
                out,
                "copied {} to {} ({} messages)",
                p.name, c.name, c.message_count
            )?;
        }
        Command::Merge {
            sessions,
            into,
            order,
            dry_run,
        } => {
            let ids = resolve_all(store, sessions)?;
            let order = match order {
                OrderArg::Time => MergeOrder::Time,
                OrderArg::Given => MergeOrder::Given,
            };
            if *dry_run {
                let n = store.merge_preview(&ids, order)?;
                writeln!(
                    out,
                    "would merge {} sessions into {into} ({n} messages)",
                    ids.len()
                )?;
            } else {
                let m = store.merge(&ids, into, order)?;
                writeln!(
                    out,
                    "merged {} sessions into {} ({} messages)",
                    ids.len(),
                    m.name,
                    m.message_count
                )?;
            }
        }
        Command::Truncate {
            name,
            keep,
            dry_run,
        } => {
            let s = store.session(name)?;
            if *dry_run {
                let n = s.message_count.saturating_sub(*keep);
                writeln!(
                    out,
                    "would remove {n} of {} messages from {}",
                    s.message_count, s.name
                )?;
            } else {
                let n = store.truncate(s.id, *keep)?;
                writeln!(out, "removed {n} messages from {}", s.name)?;
            }
        }
        Command::Clear { name, yes } => {
            let s = store.session(name)?;
            confirm(
                *yes,
                &format!("remove all {} messages of {}", s.message_count, s.name),
            )?;
            let n = store.clear(s.id)?;
            writeln!(out, "removed {n} messages from {}", s.name)?;
        }
        Command::Rm { names } => {
            let ids = resolve_all(store, names)?;
            let n = store.trash(&ids)?;
            writeln!(
                out,
                "moved {n} sessions to the trash (scrollback restore NAME brings one back)"
            )?;
        }
        Command::Restore { names } => {
            let ids = resolve_all(store, names)?;
            let n = store.restore(&ids)?;
            writeln!(out, "restored {n} sessions from the trash")?;
        }
        Command::Purge {
            names,
            trashed,
            yes,
            dry_run,
        } => {
            let ids = if *trashed {
                store.trashed_ids()?
            } else {
                resolve_all(store, names)?
            };
            if *dry_run {
                writeln!(out, "would delete {} sessions for good", ids.len())?;
            } else {
                confirm(*yes, &format!("delete {} sessions for good", ids.len()))?;
                let n = store.purge(&ids)?;
                writeln!(out, "deleted {n} sessions for good")?;
            }
        }
        Command::Archive(a) => archive::archive(store, config, a, out)?,
        Command::Unarchive { names } => {
            let ids = resolve_all(store, names)?;
            let n = store.unarchive(&ids)?;
            writeln!(out, "unarchived {n} sessions")?;
        }
        Command::Cleanup(a) => cleanup(store, config, a, out)?,
        Command::Import {
            paths,
            format,
            new_id,
            reread,
            partial,
            json,
        } => {
            let format = format.as_deref().map(str::parse::<Format>).transpose()?;
            let mut search = open_search(store, config)?;
            let bar = progress_bar("importing", true);
            let report = search.import(&ImportRequest {
                paths,
                format,
                partial: *partial,
                found: false,
                options: ImportOptions {
                    new_id: *new_id,
                    reread: *reread,
                },
                progress: &|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
                control: &JobControl::new(),
            });
            bar.finish_and_clear();
            let report = match report {
                // Some files failed: with --json the report (with its
                // `failed` list) is still the output; the exit code says it.
                Err(Error::SomeFilesFailed(r)) if *json => {
                    write_json(out, &*r)?;
                    return Err(Error::SomeFilesFailed(r).into());
                }
                other => other?,
            };
            tracing::info!(
                files = report.files,
                sessions_added = report.sessions_added,
                sessions_grown = report.sessions_grown,
                messages_added = report.messages_added,
                skipped = report.skipped,
                "import done"
            );
            if let Some(cut) = &report.truncated {
                eprintln!(
                    "scrollback: warning: {}",
                    crate::sanitize::message(&cut.clone())
                );
            }
            if *json {
                write_json(out, &report)?;
            } else {
                write!(out, "{}", print::import_report(&report))?;
            }
        }
        Command::Search {
            query,
            in_archive: Some(file),
            json,
            limit,
            ..
        } => archive::search_in(
            file,
            query,
            limit.unwrap_or(config.search.result_limit),
            *json,
            out,
        )?,
        Command::Search {
            query,
            in_archive: None,
            json,
            limit,
            offset,
            archived,
        } => {
            let mut search = open_search(store, config)?;
            let results = search.query(
                query,
                Limit {
                    limit: limit.unwrap_or(config.search.result_limit),
                    offset: *offset,
                    archived: *archived,
                    snippets: true,
                },
            )?;
            if *json {
                write_json(out, &results.hits)?;
            } else if results.hits.is_empty() {
                writeln!(out, "no matches")?;
            } else {
                write!(out, "{}", print::search_hits(&results.hits, now))?;
            }
        }
        Command::Reindex => {
            let memory = usize::try_from(config.search.writer_memory_mb.saturating_mul(1 << 20))
                .unwrap_or(usize::MAX);
            let bar = progress_bar_units("reindexing", "changes");
            // From whatever the folder holds (missing, damaged, half
            // written): nothing is caught up first.
            let rebuilt = Search::reindex(store, memory, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            let (search, report) = rebuilt?;
            tracing::info!(sessions = report.sessions, "reindex done");
            if report.busy {
                // Emptied, with every session queued: the process that took
                // the writer meanwhile fills it (or the next command does).
                writeln!(
                    out,
                    "the index was emptied; another scrollback process is writing it and \
                     fills it from the store"
                )?;
            } else {
                writeln!(
                    out,
                    "reindexed {} sessions ({} MB of index)",
                    report.sessions,
                    search.index().size_on_disk() / 1_000_000
                )?;
            }
        }
        Command::Export {
            names,
            all,
            format,
            output,
        } => {
            let ids = if *all {
                store
                    .list(&ListQuery {
                        state: StateFilter::All,
                        sort: Sort::Created,
                        ..ListQuery::default()
                    })?
                    .into_iter()
                    .rev()
                    .map(|s| s.id)
                    .collect()
            } else {
                resolve_all(store, names)?
            };
            let format = match format {
                ExportArg::Json => ExportFormat::Json,
                ExportArg::Jsonl => ExportFormat::Jsonl,
                ExportArg::Md => ExportFormat::Markdown,
            };
            export(store, &ids, format, output.as_ref(), out)?;
        }
        Command::Stats { name, json } => stats(store, name.as_deref(), *json, out)?,
        Command::Doctor => {
            let report = store.doctor()?;
            for line in &report.findings {
                writeln!(out, "{line}")?;
            }
            let mut search = open_search(store, config)?;
            match search.rebuilt() {
                Rebuilt::No => {}
                Rebuilt::Missing => writeln!(out, "search index: missing; built from the store")?,
                Rebuilt::Replaced(why) => {
                    writeln!(out, "search index: damaged ({why}); rebuilt from the store")?;
                }
            }
            // Every file against its checksum, not only the counts.
            let bar = progress_bar_units("checking the index", "bytes");
            let damage = search.verify(&|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            match damage? {
                None => writeln!(out, "search index: every file intact")?,
                Some(why) => {
                    writeln!(out, "search index: damaged ({why}); rebuilt from the store")?;
                }
            }
            let bar = progress_bar_units("repairing the index", "changes");
            let drift = search.repair(&|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            match drift? {
                0 => writeln!(out, "search index: in step with the store")?,
                n => writeln!(
                    out,
                    "search index: {n} sessions differed from the store and were reindexed"
                )?,
            }
            if !report.healthy {
                bail!("the database has problems that doctor cannot repair (see above)");
            }
        }
        Command::Compress { json } => {
            let bar = progress_bar_percent("compress");
            let report = store.compress_stored(&|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            let report = report?;
            if *json {
                write_json(out, &report)?;
            } else {
                write!(out, "{}", print::compress_report(&report))?;
            }
        }
        Command::Completions { .. } => unreachable!("handled before the store is opened"),
        Command::Sources { .. } | Command::Sync { .. } | Command::Watch { .. } => {
            unreachable!("handled by sync::run")
        }
        Command::Resume { .. } => unreachable!("handled with a store of its own"),
        Command::Serve { .. } | Command::Mcp => unreachable!("handled before"),
    }
    Ok(())
}

/// `resume NAME`: prints the command with `--print` (and in the demo,
/// which runs nothing), else runs it in the session's directory in place of
/// this process (so that its exit code, its signals and the terminal are
/// its own).
fn resume(store: Store, config: &Config, name: &str, print: bool, json: bool) -> Result<()> {
    let session = store.session(name)?;
    let plan = crate::resume::plan_in(&store, &session, &config.resume)
        .map_err(|why| anyhow!("cannot resume {}: {why}", session.name))?;
    drop(store);
    if print {
        if json {
            let mut out = io::stdout().lock();
            write_json(
                &mut out,
                &serde_json::json!({
                    "program": plan.program,
                    "args": plan.args,
                    "dir": plan.dir,
                    "command": plan.shown,
                }),
            )?;
            out.flush().context("writing the output")?;
        } else {
            let mut out = crate::sanitize::Human::new(io::stdout().lock(), false);
            writeln!(out, "{}", plan.command_line())?;
            out.flush().context("writing the output")?;
        }
        return Ok(());
    }
    tracing::info!(session = %session.name, command = %plan.command_line(), "resume");
    let mut child = std::process::Command::new(&plan.program);
    child.args(&plan.args);
    if let Some(dir) = &plan.dir {
        child.current_dir(dir);
    }
    #[cfg(unix)]
    let failed = std::os::unix::process::CommandExt::exec(&mut child);
    #[cfg(not(unix))]
    let failed = match child.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    };
    Err(anyhow!(
        "cannot resume {}: {}",
        session.name,
        crate::resume::start_failed(&plan, &failed)
    ))
}

fn stats(store: &Store, name: Option<&str>, json: bool, out: &mut dyn Write) -> Result<()> {
    if let Some(name) = name {
        let s = store.session(name)?;
        let st = store.session_stats(s.id)?;
        if json {
            return write_json(out, &st);
        }
        write!(out, "{}", print::session_stats(&s.name, &st))?;
    } else {
        let st = store.store_stats()?;
        let retention = store.retention_log()?;
        if json {
            let mut v = serde_json::to_value(&st)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("retention".into(), serde_json::to_value(&retention)?);
            }
            return write_json(out, &v);
        }
        write!(out, "{}", print::store_stats(&st))?;
        if let Some(last) = &retention.last {
            let at = last
                .ran_at
                .map(|t| crate::domain::format_relative(t, now()))
                .unwrap_or_default();
            writeln!(
                out,
                "retention runs  {} (last {at}: {}); in all {} archived, {} trashed, {} purged, {} messages trimmed",
                retention.runs,
                print::retention_run(last),
                retention.total.archived,
                retention.total.trashed,
                retention.total.purged,
                retention.total.messages_removed
            )?;
        }
    }
    Ok(())
}

/// Pretty JSON and a newline: the shape of every `--json` output.
fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn list(store: &Store, a: &ListArgs, out: &mut dyn Write) -> Result<()> {
    let metadata = a
        .wheres
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| anyhow!("--where {w:?}: expected KEY=VALUE"))
        })
        .collect::<Result<Vec<_>>>()?;
    let q = ListQuery {
        tags: a.tags.clone(),
        metadata,
        source: a.source.clone(),
        updated_before: a
            .older_than
            .as_deref()
            .map(|s| parse_before(s, now()))
            .transpose()?,
        state: if a.all {
            StateFilter::All
        } else if a.archived {
            StateFilter::Archived
        } else if a.trashed {
            StateFilter::Trashed
        } else {
            StateFilter::Live
        },
        sort: match a.sort {
            SortArg::Updated => Sort::Updated,
            SortArg::Created => Sort::Created,
            SortArg::Name => Sort::Name,
            SortArg::Size => Sort::Size,
        },
        limit: a.limit,
        offset: 0,
        after: None,
        name_like: None,
    };
    let sessions = store.list(&q)?;
    if a.json {
        write_json(out, &sessions)?;
    } else if sessions.is_empty() {
        writeln!(out, "no sessions match")?;
    } else {
        write!(out, "{}", print::session_table(&sessions, now()))?;
    }
    Ok(())
}

fn cleanup(store: &mut Store, config: &Config, a: &CleanupArgs, out: &mut dyn Write) -> Result<()> {
    if a.policy {
        return retention(store, config, a, out);
    }
    let criteria = a.criteria.criteria()?;
    let action = if a.archive {
        CleanupAction::Archive
    } else if a.trash {
        CleanupAction::Trash
    } else {
        CleanupAction::Purge
    };
    let plan = store.cleanup_plan(&criteria, action, &config.cleanup.protected_tags)?;
    if a.dry_run {
        if a.json {
            write_json(out, &plan)?;
        } else {
            write!(out, "{}", print::plan(&plan, now()))?;
        }
        return Ok(());
    }
    if plan.sessions.is_empty() {
        writeln!(out, "nothing to clean up")?;
        return Ok(());
    }
    if !a.yes {
        eprint!("{}", print::plan(&plan, now()));
    }
    confirm(
        a.yes,
        &format!("apply this cleanup to {} sessions", plan.sessions.len()),
    )?;
    let n = store.apply_cleanup(&plan)?;
    tracing::info!(sessions = n, action = ?plan.action, "cleanup done");
    if a.json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({"action": plan.action, "sessions": n}),
        )?;
        writeln!(out)?;
    } else {
        writeln!(out, "cleaned up {n} sessions")?;
    }
    Ok(())
}

fn export(
    store: &Store,
    ids: &[SessionId],
    format: ExportFormat,
    output: Option<&PathBuf>,
    out: &mut dyn Write,
) -> Result<()> {
    let bar = progress_bar("exporting", output.is_some());
    let progress = |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let control = JobControl::new();
    match output {
        None => crate::export::export(store, ids, format, out, &progress, &control)?,
        Some(path) => {
            crate::export::export_to_file(store, ids, format, path, &progress, &control)?;
            tracing::info!(sessions = ids.len(), path = %path.display(), "export done");
            eprintln!(
                "{}",
                crate::sanitize::message(&format!(
                    "wrote {} sessions to {}",
                    ids.len(),
                    path.display()
                ))
            );
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// Opens the search index of the store, saying so on stderr when it has to
/// be built or rebuilt, with a progress bar while it catches up.
fn open_search(store: &Store, config: &Config) -> Result<Search> {
    let bar = progress_bar_units("indexing", "changes");
    let memory = usize::try_from(config.search.writer_memory_mb.saturating_mul(1 << 20))
        .unwrap_or(usize::MAX);
    let (search, rebuilt) = Search::open_with(store, memory, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if let Rebuilt::Replaced(why) = rebuilt {
        eprintln!(
            "scrollback: {}",
            crate::sanitize::message(&format!(
                "the search index was rebuilt from the store: {why}"
            ))
        );
    }
    Ok(search)
}

fn progress_bar_units(what: &str, units: &str) -> indicatif::ProgressBar {
    if !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} [{{bar:30}}] {{pos}}/{{len}} {units} {{eta}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A bar of the share done, for work whose positions mean nothing to people.
fn progress_bar_percent(what: &str) -> indicatif::ProgressBar {
    if !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} [{{bar:30}}] {{percent:>3}}% {{eta}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn progress_bar(what: &str, show: bool) -> indicatif::ProgressBar {
    if !show || !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} [{{bar:30}}] {{percent:>3}}% {{bytes}}/{{total_bytes}} {{eta}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn resolve_all(store: &Store, names: &[String]) -> Result<Vec<SessionId>> {
    names
        .iter()
        .map(|n| Ok(store.session(n).map(|s: Session| s.id)?))
        .collect()
}

fn role_of(r: RoleArg) -> Role {
    match r {
        RoleArg::System => Role::System,
        RoleArg::User => Role::User,
        RoleArg::Assistant => Role::Assistant,
        RoleArg::Tool => Role::Tool,
    }
}

/// `K=V` sets a string, `K:=JSON` sets a JSON value, `K=` removes the key.
/// The key ends at the first `=`; a value may hold `=` or `:=`.
/// `KEY=TEXT`, `KEY:=JSON`, `KEY=` (remove): the one grammar of metadata.
fn parse_meta(s: &str) -> Result<(String, Option<Value>)> {
    crate::domain::meta::parse_assignment(s).map_err(|e| anyhow!(e))
}

fn read_stdin() -> Result<String> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        bail!("give the message text as an argument, or pipe it in");
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .context("reading the message from stdin")?;
    Ok(text)
}

/// Goes on when `yes`, or when a person at a terminal answers y; refuses otherwise.
fn confirm(yes: bool, what: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        bail!("refusing to {what} without --yes");
    }
    eprint!("{what}? [y/N] ");
    let mut answer = String::new();
    io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("cancelled; nothing was changed")
    }
}
