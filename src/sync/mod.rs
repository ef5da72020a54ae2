//! Sources and sync: the session folders other tools write on this machine,
//! and keeping the store in step with them.
//!
//! A *source* is a folder (or file) a tool writes its sessions to: Claude
//! Code's `~/.claude/projects`, Codex's `~/.codex/sessions` and
//! `archived_sessions`, Gemini CLI's `~/.gemini/tmp`, the `llm` CLI's
//! `logs.db`, and whatever the config adds. A sync imports every source
//! the way `import` does, so it is as incremental: a file unchanged since
//! its last read is not opened, a transcript that grew is read from where
//! its last read stopped, and anything else is read again whole, matched
//! by the tools' ids so that nothing is doubled.
//!
//! Two syncs (two `sync` commands, a `sync` and a `watch`, the TUI's) take
//! turns on a lock file beside the database: each pass finds the store as
//! the pass before left it.

#[cfg(feature = "watch")]
pub mod watch;

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::SyncConfig;
use crate::error::{Error, Result};
use crate::import::{ImportRequest, PathNote};
use crate::jobs::{JobControl, ProgressFn};
use crate::store::{ImportOptions, ImportReport, Store};

/// A place a tool writes its sessions to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The tool (`claude-code`, `codex`, `gemini`, `llm`), or `config` for
    /// a path the config adds.
    pub tool: String,
    /// The folder or file.
    pub path: PathBuf,
}

/// The usual places of each tool under `home`, with the environment
/// variables the tools themselves follow.
fn usual_places(home: &Path, env: &dyn Fn(&str) -> Option<PathBuf>) -> Vec<Source> {
    let place = |tool: &str, path: PathBuf| Source {
        tool: tool.into(),
        path,
    };
    let claude = env("CLAUDE_CONFIG_DIR").unwrap_or_else(|| home.join(".claude"));
    let codex = env("CODEX_HOME").unwrap_or_else(|| home.join(".codex"));
    let llm = env("LLM_USER_PATH").unwrap_or_else(|| {
        env("XDG_CONFIG_HOME")
            .unwrap_or_else(|| home.join(".config"))
            .join("io.datasette.llm")
    });
    let mut out = vec![
        place("claude-code", claude.join("projects")),
        place("codex", codex.join("sessions")),
        place("codex", codex.join("archived_sessions")),
        place("gemini", home.join(".gemini/tmp")),
        place("llm", llm.join("logs.db")),
    ];
    if cfg!(target_os = "macos") && env("LLM_USER_PATH").is_none() {
        out.push(place(
            "llm",
            home.join("Library/Application Support/io.datasette.llm/logs.db"),
        ));
    }
    out
}

/// The sources on this machine: the usual places that exist, and the
/// config's paths (kept even when missing, so that `sources` can say so),
/// less what the config excludes.
pub fn sources(config: &SyncConfig) -> Vec<Source> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let Some(home) = env("HOME") else {
        return configured(config);
    };
    let mut out: Vec<Source> = usual_places(&home, &env)
        .into_iter()
        .filter(|s| s.path.exists())
        .collect();
    out.extend(configured(config));
    out.retain(|s| !excluded(config, s));
    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(std::fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone())));
    out
}

fn configured(config: &SyncConfig) -> Vec<Source> {
    config
        .paths
        .iter()
        .map(|p| Source {
            tool: "config".into(),
            path: crate::paths::expand_tilde(&p.to_string_lossy()),
        })
        .collect()
}

fn excluded(config: &SyncConfig, s: &Source) -> bool {
    config.exclude.iter().any(|x| {
        x == &s.tool || {
            let p = crate::paths::expand_tilde(x);
            p.is_absolute() && s.path.starts_with(&p)
        }
    })
}

/// What a source holds, beside what the store has of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    /// The tool.
    pub tool: String,
    /// The folder or file.
    pub path: PathBuf,
    /// False when the path is not there (a path the config adds).
    pub exists: bool,
    /// Session files in it (what an import of it would look at).
    pub files: u64,
    /// Their size in bytes.
    pub bytes: u64,
    /// Sessions in the store that came from these files.
    pub sessions: u64,
    /// Files never synced.
    pub new: u64,
    /// Files that grew or changed since they were last synced.
    pub changed: u64,
}

/// Looks at every source's files (their size and time only; no file is
/// opened) and compares them with what the last sync remembered.
pub fn status(store: &Store, sources: &[Source]) -> Result<Vec<SourceStatus>> {
    let known = store.import_file_states()?;
    let mut out = Vec::with_capacity(sources.len());
    for s in sources {
        let mut st = SourceStatus {
            tool: s.tool.clone(),
            path: s.path.clone(),
            exists: s.path.exists(),
            files: 0,
            bytes: 0,
            sessions: 0,
            new: 0,
            changed: 0,
        };
        for now in crate::import::file_states_under(std::slice::from_ref(&s.path)) {
            st.files += 1;
            st.bytes += now.size;
            match known.get(&now.path) {
                None => st.new += 1,
                Some(prev) => {
                    st.sessions += prev.sessions;
                    if crate::import::changed_since(prev, &now) {
                        st.changed += 1;
                    }
                }
            }
        }
        out.push(st);
    }
    Ok(out)
}

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// The sources synced.
    pub sources: Vec<Source>,
    /// What the import of them did (files read, read on, unchanged;
    /// sessions and messages added; what failed and why).
    #[serde(flatten)]
    pub import: ImportReport,
    /// Files that were there when the sync began and gone when it came to
    /// read them (a tool deleting its old files): nothing of them is lost
    /// from the store.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<PathNote>,
}

/// Imports `paths` (sources, or files in them that changed) the way a
/// sync does: found in a folder (a file of no known tool is noted, not an
/// error), a line still being written left for the next pass, each file
/// on its own (one that fails does not keep the others out).
///
/// Errors of the store or the index stop the sync and are returned; the
/// files' own errors are in the report's `failed`.
pub fn sync_paths(
    import: &mut Importer<'_>,
    paths: &[PathBuf],
    progress: &ProgressFn<'_>,
    control: &JobControl,
) -> Result<SyncReport> {
    let req = ImportRequest {
        paths,
        format: None,
        options: ImportOptions::default(),
        partial: true,
        found: true,
        progress,
        control,
    };
    let mut import = match import(&req) {
        Ok(r) => r,
        Err(Error::SomeFilesFailed(r)) => *r,
        // One path whose own error is the whole outcome: it failed alone.
        Err(e) if !crate::import::stops_the_import(&e) && paths.len() == 1 => ImportReport {
            failed: vec![PathNote {
                path: paths[0].display().to_string(),
                reason: e.to_string(),
            }],
            ..ImportReport::default()
        },
        Err(e) => return Err(e),
    };
    let (gone, failed): (Vec<PathNote>, Vec<PathNote>) = std::mem::take(&mut import.failed)
        .into_iter()
        .partition(|f| !Path::new(&f.path).exists());
    import.failed = failed;
    Ok(SyncReport {
        sources: Vec::new(),
        import,
        gone,
    })
}

/// What imports for a sync: [`crate::search::Search::import`] (the store and the index
/// at once), or [`crate::import::import_paths`] on a store whose index
/// follows through its outbox.
pub type Importer<'a> = dyn FnMut(&ImportRequest<'_>) -> Result<ImportReport> + 'a;

/// Syncs every source.
pub fn sync(
    import: &mut Importer<'_>,
    sources: &[Source],
    progress: &ProgressFn<'_>,
    control: &JobControl,
) -> Result<SyncReport> {
    let paths: Vec<PathBuf> = sources
        .iter()
        .filter(|s| s.path.exists())
        .map(|s| s.path.clone())
        .collect();
    let mut report = if paths.is_empty() {
        SyncReport::default()
    } else {
        sync_paths(import, &paths, progress, control)?
    };
    report.sources = sources.to_vec();
    Ok(report)
}

/// Held while a sync pass runs: two passes (of two processes, or two
/// threads) take turns. Dropping it lets the next one in.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
}

impl SyncLock {
    /// Takes the lock of the store at `db`, calling `waiting` first when
    /// another sync holds it (and then waiting for it).
    pub fn acquire(db: &Path, waiting: impl FnOnce()) -> Result<SyncLock> {
        let mut name = db.as_os_str().to_owned();
        name.push(".sync-lock");
        let path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        Ok(SyncLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_places_follow_the_tools_variables() {
        let home = Path::new("/h");
        let none = |_: &str| None;
        let places: Vec<(String, PathBuf)> = usual_places(home, &none)
            .into_iter()
            .map(|s| (s.tool, s.path))
            .collect();
        assert!(places.contains(&("claude-code".into(), "/h/.claude/projects".into())));
        assert!(places.contains(&("codex".into(), "/h/.codex/sessions".into())));
        assert!(places.contains(&("codex".into(), "/h/.codex/archived_sessions".into())));
        assert!(places.contains(&("gemini".into(), "/h/.gemini/tmp".into())));
        assert!(places.contains(&("llm".into(), "/h/.config/io.datasette.llm/logs.db".into())));
        let set = |k: &str| match k {
            "CLAUDE_CONFIG_DIR" => Some(PathBuf::from("/c")),
            "CODEX_HOME" => Some(PathBuf::from("/x")),
            "LLM_USER_PATH" => Some(PathBuf::from("/l")),
            _ => None,
        };
        let places: Vec<PathBuf> = usual_places(home, &set)
            .into_iter()
            .map(|s| s.path)
            .collect();
        assert!(places.contains(&"/c/projects".into()));
        assert!(places.contains(&"/x/sessions".into()));
        assert!(places.contains(&"/l/logs.db".into()));
    }

    #[test]
    fn exclusions_by_tool_and_by_path() {
        let config = SyncConfig {
            paths: Vec::new(),
            exclude: vec!["codex".into(), "/h/.gemini".into()],
            on_start: false,
            watch: false,
            poll_secs: 10,
        };
        let s = |tool: &str, p: &str| Source {
            tool: tool.into(),
            path: p.into(),
        };
        assert!(excluded(&config, &s("codex", "/h/.codex/sessions")));
        assert!(excluded(&config, &s("gemini", "/h/.gemini/tmp")));
        assert!(!excluded(&config, &s("claude-code", "/h/.claude/projects")));
        assert!(!excluded(&config, &s("config", "/h/.geminix")));
    }
}
