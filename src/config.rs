//! Configuration: the defaults in `config.example.toml` (embedded), under the
//! user's file, under environment variables, under flags.
//!
//! A bad user file never stops the program: unknown keys and values of the
//! wrong type become warnings naming the key, and the default is kept.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::error::{Error, Result};

/// The documented defaults, embedded in the binary.
pub const DEFAULT_CONFIG: &str = include_str!("../config.example.toml");

/// Tables whose keys the user names (any key is known); their values must
/// still have the type of the defaults' values.
const OPEN_TABLES: &[&str] = &["resume"];

/// All settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Where and how sessions are stored.
    pub storage: StorageConfig,
    /// The TUI.
    pub ui: UiConfig,
    /// Search.
    pub search: SearchConfig,
    /// Cleanup rules.
    pub cleanup: CleanupConfig,
    /// The log file.
    pub log: LogConfig,
    /// `[resume]`: source name to the command that resumes its sessions
    /// (see [`crate::resume`]). Any source may be named.
    #[serde(default)]
    pub resume: std::collections::BTreeMap<String, String>,
    /// The session folders of other tools kept in step with the store.
    pub sync: SyncConfig,
    /// Rules that keep the store within bounds.
    pub retention: RetentionConfig,
    /// The HTTP API.
    pub serve: ServeConfig,
    /// The MCP server.
    pub mcp: McpConfig,
}

/// `[serve]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: String,
    /// Bearer token file ("": beside the database).
    pub token_file: PathBuf,
    /// Largest request body, in MB.
    pub max_body_mb: u64,
    /// Longest a request may take, in seconds.
    pub timeout_secs: u64,
    /// How long a write waits for another writer, in seconds.
    pub busy_timeout_secs: u64,
}

/// `[mcp]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpConfig {
    /// Offer the `tag_session` tool.
    pub allow_tagging: bool,
}

/// `[retention]`: each rule is off when empty or 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionConfig {
    /// Sessions not updated for this long (`24h`, `30d`) ...
    pub max_age: String,
    /// ... are archived, trashed or purged.
    pub max_age_action: crate::domain::CleanupAction,
    /// At most this many live sessions: the oldest ...
    pub max_sessions: u64,
    /// ... are archived, trashed or purged.
    pub max_sessions_action: crate::domain::CleanupAction,
    /// At most this many turns per session (the oldest go).
    pub max_turns: u64,
    /// At most this many MB of text per session (the oldest turns go).
    pub max_session_mb: u64,
    /// How often `watch` applies the policy (`1h`; empty: never).
    pub every: String,
}

impl RetentionConfig {
    /// The policy as of `now`.
    pub fn policy(&self, now: jiff::Timestamp) -> Result<crate::store::RetentionPolicy> {
        let age = (!self.max_age.trim().is_empty())
            .then(|| crate::domain::parse_before(self.max_age.trim(), now))
            .transpose()?;
        let some = |n: u64| (n > 0).then_some(n);
        Ok(crate::store::RetentionPolicy {
            updated_before: age,
            age_action: age.map(|_| self.max_age_action),
            max_sessions: some(self.max_sessions),
            count_action: some(self.max_sessions).map(|_| self.max_sessions_action),
            max_turns: some(self.max_turns),
            max_bytes: some(self.max_session_mb).map(|mb| mb.saturating_mul(1 << 20)),
        })
    }
}

/// `[sync]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncConfig {
    /// Folders or files to sync besides the usual places.
    pub paths: Vec<PathBuf>,
    /// Sources to leave out: a tool's name (`codex`) or a path.
    pub exclude: Vec<String>,
    /// The TUI syncs every source in the background when it starts.
    pub on_start: bool,
    /// The TUI follows the sources while it runs (as `scrollback watch`).
    pub watch: bool,
    /// Seconds between two looks at the sources where the system gives no
    /// notifications of changes.
    pub poll_secs: u64,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogConfig {
    /// `off`, `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
}

/// `[ui]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiConfig {
    /// Capture the mouse (M toggles it at run time).
    pub mouse: bool,
    /// Key bindings: action name to keys.
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
    /// Colours: element to colour name.
    pub theme: std::collections::BTreeMap<String, String>,
}

/// `[search]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Index writer memory, MiB.
    pub writer_memory_mb: u64,
    /// Sessions per page of results.
    pub result_limit: usize,
}

/// `[storage]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageConfig {
    /// Where sessions are kept: a SQLite file, or memory only.
    pub backend: Backend,
    /// Directory of the database; empty means the platform default.
    pub data_dir: PathBuf,
    /// Largest message accepted, in bytes.
    pub max_message_bytes: u64,
    /// Store long message contents zstd-compressed.
    pub compress_messages: bool,
    /// With `compress_messages`: contents of at least this many bytes are
    /// compressed.
    pub compress_min_bytes: u64,
}

/// `storage.backend`: where sessions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The SQLite file (`--db`, or `scrollback.db` in the data directory).
    Sqlite,
    /// Memory only: every command starts from an empty store and writes
    /// nothing to disk (a `--db` given still opens that file).
    Memory,
}

/// `[cleanup]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanupConfig {
    /// Tags whose sessions cleanup never touches.
    pub protected_tags: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        toml::from_str(DEFAULT_CONFIG).expect("the embedded default config is valid")
    }
}

impl Config {
    /// Reads `path` over the defaults. Returns the config and the warnings
    /// (unknown keys, values of the wrong type) to show the user. A file that
    /// is not TOML at all is an error.
    pub fn load(path: &Path) -> Result<(Config, Vec<String>)> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let user: Table = text.parse().map_err(|e: toml::de::Error| Error::Parse {
            path: path.to_path_buf(),
            location: e
                .span()
                .map_or_else(|| "config".to_string(), |s| location_of(&text, s.start)),
            reason: e.message().to_string(),
        })?;
        let (config, warnings) = Self::merge(&user);
        let warnings = warnings
            .into_iter()
            .map(|w| format!("config {}: {w}", path.display()))
            .collect();
        Ok((config, warnings))
    }

    /// Lays `user` over the defaults key by key, keeping each key only if the
    /// result still deserialises.
    pub fn merge(user: &Table) -> (Config, Vec<String>) {
        let mut table: Table = DEFAULT_CONFIG
            .parse()
            .expect("the embedded default config is valid");
        let mut warnings = Vec::new();
        for (section, value) in user {
            let Some(Value::Table(defaults)) = table.get(section).cloned() else {
                warnings.push(format!("unknown key `{section}` (ignored)"));
                continue;
            };
            let Value::Table(entries) = value else {
                warnings.push(format!(
                    "`{section}` should be a table like [{section}] (ignored)"
                ));
                continue;
            };
            for (key, v) in entries {
                if OPEN_TABLES.contains(&section.as_str()) && !v.is_str() {
                    warnings.push(format!(
                        "`{section}.{key}` should be text (a command like \"tool --resume {{id}}\"); ignored"
                    ));
                    continue;
                }
                if !defaults.contains_key(key) && !OPEN_TABLES.contains(&section.as_str()) {
                    warnings.push(format!("unknown key `{section}.{key}` (ignored)"));
                    continue;
                }
                let mut trial = table.clone();
                if let Some(Value::Table(t)) = trial.get_mut(section) {
                    t.insert(key.clone(), v.clone());
                }
                match Value::Table(trial.clone()).try_into::<Config>() {
                    Ok(_) => table = trial,
                    Err(e) => warnings.push(format!(
                        "`{section}.{key}` has an unusable value ({}); the default is kept",
                        e.message().trim()
                    )),
                }
            }
        }
        let mut config: Config = Value::Table(table).try_into().unwrap_or_default();
        warnings.extend(config.clamp());
        (config, warnings)
    }

    /// Brings values out of their range to the nearest bound, with a warning
    /// each (a value that would make every search or import fail is worse
    /// than one a little off).
    fn clamp(&mut self) -> Vec<String> {
        fn bound<T: Copy + PartialOrd + std::fmt::Display>(
            key: &str,
            v: &mut T,
            lo: T,
            hi: T,
            warnings: &mut Vec<String>,
        ) {
            let to = if *v < lo {
                lo
            } else if *v > hi {
                hi
            } else {
                return;
            };
            warnings.push(format!(
                "`{key}` = {v} is out of range ({lo} to {hi}); {to} is used"
            ));
            *v = to;
        }
        let mut w = Vec::new();
        bound(
            "search.writer_memory_mb",
            &mut self.search.writer_memory_mb,
            15,
            2048,
            &mut w,
        );
        bound(
            "search.result_limit",
            &mut self.search.result_limit,
            1,
            1000,
            &mut w,
        );
        bound("sync.poll_secs", &mut self.sync.poll_secs, 1, 3600, &mut w);
        bound(
            "storage.max_message_bytes",
            &mut self.storage.max_message_bytes,
            1,
            1_000_000_000,
            &mut w,
        );
        bound(
            "storage.compress_min_bytes",
            &mut self.storage.compress_min_bytes,
            1,
            1_000_000_000,
            &mut w,
        );
        w
    }

    /// The data directory this config points at (the platform default when empty).
    pub fn data_dir(&self) -> Option<PathBuf> {
        if self.storage.data_dir.as_os_str().is_empty() {
            crate::paths::default_data_dir()
        } else {
            Some(self.storage.data_dir.clone())
        }
    }

    /// Store options derived from this config.
    pub fn store_options(&self) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            max_message_bytes: usize::try_from(self.storage.max_message_bytes)
                .unwrap_or(usize::MAX),
            compress_min_bytes: self
                .storage
                .compress_messages
                .then(|| usize::try_from(self.storage.compress_min_bytes).unwrap_or(usize::MAX)),
        }
    }
}

fn location_of(text: &str, byte: usize) -> String {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    format!("line {line}, column {col}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_example_file() {
        let c = Config::default();
        assert_eq!(c.storage.max_message_bytes, 33_554_432);
        assert_eq!(c.cleanup.protected_tags, vec!["keep".to_string()]);
        assert!(c.storage.data_dir.as_os_str().is_empty());
        assert!(!c.storage.compress_messages);
        assert_eq!(c.storage.compress_min_bytes, 4096);
        assert_eq!(c.store_options().compress_min_bytes, None);
    }

    #[test]
    fn compression_is_a_threshold_in_the_store_options() {
        let user: Table = "[storage]\ncompress_messages = true\ncompress_min_bytes = 100\n"
            .parse()
            .expect("toml");
        let (c, warnings) = Config::merge(&user);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.store_options().compress_min_bytes, Some(100));
        let user: Table = "[storage]\ncompress_messages = \"yes\"\ncompress_min_bytes = 0\n"
            .parse()
            .expect("toml");
        let (c, warnings) = Config::merge(&user);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("storage.compress_messages"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("`storage.compress_min_bytes` = 0 is out of range"),
            "{warnings:?}"
        );
        assert!(!c.storage.compress_messages);
        assert_eq!(c.storage.compress_min_bytes, 1);
    }

    #[test]
    fn values_out_of_range_are_clamped_with_a_warning() {
        let user: Table = "[search]\nwriter_memory_mb = 16384\nresult_limit = 0\n\
                           [storage]\nmax_message_bytes = 5_000_000_000\n"
            .parse()
            .expect("toml");
        let (c, warnings) = Config::merge(&user);
        assert_eq!(c.search.writer_memory_mb, 2048);
        assert_eq!(c.search.result_limit, 1);
        assert_eq!(c.storage.max_message_bytes, 1_000_000_000);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].contains("`search.writer_memory_mb` = 16384 is out of range"),
            "{warnings:?}"
        );
    }

    #[test]
    fn user_values_override_and_bad_keys_warn() {
        let user: Table = "[storage]\nmax_message_bytes = 10\ncolour = 'red'\n\
                           [cleanup]\nprotected_tags = 'oops'\n[nonsense]\nx = 1\n"
            .parse()
            .expect("valid toml");
        let (c, warnings) = Config::merge(&user);
        assert_eq!(c.storage.max_message_bytes, 10);
        assert_eq!(c.cleanup.protected_tags, vec!["keep".to_string()]);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("storage.colour")));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("cleanup.protected_tags"))
        );
        assert!(warnings.iter().any(|w| w.contains("`nonsense`")));
    }

    #[test]
    fn resume_defaults_are_the_built_in_commands() {
        let c = Config::default();
        let built_in: std::collections::BTreeMap<String, String> = crate::resume::DEFAULT_COMMANDS
            .iter()
            .map(|(s, c)| ((*s).to_string(), (*c).to_string()))
            .collect();
        assert_eq!(c.resume, built_in);
    }

    #[test]
    fn resume_takes_any_source_and_warns_on_values_that_are_not_text() {
        let user: Table = "[resume]\naider = 'aider --restore {id}'\ncodex = 'my-codex {id}'\n\
                           llm = 3\nclaude-code = ['claude']\n"
            .parse()
            .expect("toml");
        let (c, warnings) = Config::merge(&user);
        assert_eq!(c.resume["aider"], "aider --restore {id}");
        assert_eq!(c.resume["codex"], "my-codex {id}");
        assert_eq!(c.resume["llm"], "llm chat --cid {id}");
        assert_eq!(c.resume["claude-code"], "claude --resume {id}");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings.iter().any(|w| w.contains("`resume.llm`")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("`resume.claude-code`")),
            "{warnings:?}"
        );
    }
}
