//! The command line, as clap definitions. Kept apart from what the commands
//! do so that `completions` and the help text come from one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// scrollback: keep, find, branch, merge and clean up your AI chat sessions.
///
/// A session is named by its name or by a unique prefix (4+ characters) of
/// its uid. Exit codes: 0 ok, 1 error, 2 usage, 3 session not found;
/// `resume` exits with the code of the program it runs.
#[derive(Debug, Parser)]
#[command(name = "scrollback", version, max_term_width = 100)]
pub struct Cli {
    /// Database file (default: scrollback.db in the data directory).
    #[arg(long, global = true, env = "SCROLLBACK_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Config file (default: ~/.config/scrollback/config.toml if present).
    #[arg(long, global = true, env = "SCROLLBACK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Work on the bundled demo sessions, in memory; nothing is written to disk.
    #[arg(long, global = true)]
    pub demo: bool,
    /// More detail in the log file (scrollback.log beside the database):
    /// -v info, -vv debug, -vvv trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a session.
    New {
        name: String,
        #[arg(long, default_value = "")]
        title: String,
        /// A tag (repeat for more).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// A metadata entry KEY=VALUE (or KEY:=JSON); repeat for more.
        #[arg(long = "meta", value_name = "K=V")]
        meta: Vec<String>,
        /// Start from this session: its tags, metadata and messages are copied.
        #[arg(long, value_name = "NAME")]
        template: Option<String>,
    },
    /// Append a message; the text is an argument, or read from stdin when it is `-` or absent.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        model: Option<String>,
        text: Option<String>,
    },
    /// Print a session and its messages.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
        /// Only the last N messages.
        #[arg(long, value_name = "N", conflicts_with = "from")]
        last: Option<u64>,
        /// Start at this message seq.
        #[arg(long, value_name = "SEQ")]
        from: Option<u64>,
        /// At most N messages.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// Resume a session in the tool it came from (Claude Code, Codex, Gemini
    /// CLI, llm, or a command of [resume] in the config): runs the tool in
    /// the session's working directory, and exits with its exit code.
    Resume {
        name: String,
        /// Print the command (`cd DIR && COMMAND`, shell-quoted) instead of
        /// running it.
        #[arg(long)]
        print: bool,
        /// With --print: {program, args, dir, command} as JSON.
        #[arg(long, requires = "print")]
        json: bool,
    },
    /// List sessions.
    List(ListArgs),
    /// Give a session a new name.
    Rename { old: String, new: String },
    /// Set a session's title.
    Retitle { name: String, title: String },
    /// Add (+T or T) and remove (-T) tags.
    Tag {
        name: String,
        #[arg(allow_hyphen_values = true, required = true, value_name = "+T|-T")]
        changes: Vec<String>,
    },
    /// Set (K=V, K:=JSON) and remove (K=) metadata keys.
    Meta {
        name: String,
        #[arg(required = true, value_name = "K=V|K=")]
        changes: Vec<String>,
    },
    /// Make a new session from messages 0..=SEQ of another (default: all).
    Branch {
        src: String,
        new: String,
        #[arg(long, value_name = "SEQ")]
        at: Option<u64>,
    },
    /// Copy a session (no lineage).
    Copy { src: String, new: String },
    /// Merge sessions into a new one.
    Merge {
        #[arg(required = true, num_args = 2..)]
        sessions: Vec<String>,
        #[arg(long, value_name = "NAME")]
        into: String,
        #[arg(long, value_enum, default_value = "time")]
        order: OrderArg,
        /// Print how many messages the merge would hold, and make nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Keep only the last N messages.
    Truncate {
        name: String,
        #[arg(long, value_name = "N")]
        keep: u64,
        /// Print how many messages would go, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove every message of a session.
    Clear {
        name: String,
        #[arg(long)]
        yes: bool,
    },
    /// Move sessions to the trash.
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Take sessions out of the trash.
    Restore {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Delete sessions for good.
    Purge {
        #[arg(required_unless_present = "trashed")]
        names: Vec<String>,
        /// Purge everything in the trash.
        #[arg(long, conflicts_with = "names")]
        trashed: bool,
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// Archive sessions: set them aside in the store, or with --to move
    /// them out into a compressed archive file (.sbz) that `import` brings
    /// back exactly. --list shows what an archive file holds.
    Archive(ArchiveArgs),
    /// Take sessions out of the archive.
    Unarchive {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Archive, trash or purge the sessions that match criteria, or apply the
    /// retention policy of the config (`--policy`).
    Cleanup(CleanupArgs),
    /// Import session files (or directories of them): Claude Code, Codex,
    /// Gemini CLI, ChatGPT exports, llm's logs.db, Open WebUI, ShareGPT,
    /// scrollback's own JSON.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// claude-code, codex, gemini, chatgpt, llm, open-webui, sharegpt, json,
        /// jsonl, session-file, sdk-export, toon (default: detected per file).
        #[arg(long)]
        format: Option<String>,
        /// Give imported sessions new ids, so they are added even if present.
        #[arg(long)]
        new_id: bool,
        /// Read every file, even those unchanged since their last import (what
        /// the store has is still recognised: nothing is doubled).
        #[arg(long)]
        reread: bool,
        /// For a file that ends in the middle (truncated), import the complete
        /// sessions before the cut instead of failing.
        #[arg(long)]
        partial: bool,
        #[arg(long)]
        json: bool,
    },
    /// The session folders of other tools on this machine (Claude Code, Codex,
    /// Gemini CLI, llm's logs.db, and `[sync] paths` from the config), with
    /// their files, sessions, size, and what is new or changed since the last
    /// sync. No file is opened.
    Sources {
        #[arg(long)]
        json: bool,
    },
    /// Import every source, reading only what is new: a file unchanged since
    /// the last sync is not opened, a transcript that grew is read from where
    /// the last sync stopped, and nothing is ever doubled.
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// Follow the sources and import what their tools write as they write it:
    /// a sync first, then every change within a second. Ctrl-C stops.
    Watch {
        /// One JSON line per pass (what was imported) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Serve the HTTP JSON API (see /api/openapi.json). Loopback only unless
    /// --listen says otherwise; off loopback every request needs the bearer
    /// token from the token file (made on first use). Ctrl-C stops.
    Serve {
        /// Address and port to listen on (port 0: any free port) [default:
        /// serve.listen in the config, 127.0.0.1:8642].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// The bearer token file (made, mode 0600, when missing); giving it
        /// requires the token on loopback too [default: serve.token_file,
        /// or DB.serve-token beside the database].
        #[arg(long, value_name = "PATH")]
        token_file: Option<PathBuf>,
    },
    /// Serve the MCP tools (search_sessions, read_session, list_sessions,
    /// session_stats, and tag_session when mcp.allow_tagging is set) on
    /// stdin and stdout, for coding agents.
    Mcp,
    /// Export sessions as JSON, JSONL or Markdown.
    Export {
        #[arg(required_unless_present = "all")]
        names: Vec<String>,
        /// Every session, archived and trashed ones included.
        #[arg(long, conflicts_with = "names")]
        all: bool,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportArg,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Search every session: words, "phrases", OR, -word, prefix*, role: tag:
    /// session: source: model: after: before: (see the README).
    Search {
        query: String,
        /// Search an archive file (.sbz) instead, without importing it
        /// (slower: it reads the whole file).
        #[arg(long = "in", value_name = "FILE")]
        in_archive: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Sessions per page.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Sessions to skip.
        #[arg(long, value_name = "N", default_value_t = 0)]
        offset: usize,
        /// Include archived sessions.
        #[arg(long)]
        archived: bool,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// Statistics of one session, or of the whole store.
    Stats {
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check the database and repair what can be repaired safely.
    Doctor,
    /// Store the messages already in the store as the config says: with
    /// storage.compress_messages on, compress those of at least
    /// storage.compress_min_bytes; with it off, decompress every one. Texts
    /// do not change. Safe to stop at any point: what was done is kept.
    Compress {
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // command-line flags
pub struct ListArgs {
    #[arg(long)]
    pub json: bool,
    /// Only sessions with this tag (repeat: all of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only sessions whose metadata has KEY=VALUE (repeat: all of them).
    #[arg(long = "where", value_name = "K=V")]
    pub wheres: Vec<String>,
    #[arg(long)]
    pub source: Option<String>,
    /// Only sessions last updated before this span ago (30d, 2w, 12h) or date.
    #[arg(long, value_name = "SPAN")]
    pub older_than: Option<String>,
    /// Archived sessions instead of live ones.
    #[arg(long, conflicts_with_all = ["trashed", "all"])]
    pub archived: bool,
    /// Trashed sessions instead of live ones.
    #[arg(long, conflicts_with = "all")]
    pub trashed: bool,
    /// Every session, whatever its state.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "updated")]
    pub sort: SortArg,
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // command-line flags
#[command(group(clap::ArgGroup::new("action").required(true).args(["archive", "trash", "purge", "policy"])))]
pub struct CleanupArgs {
    /// Apply the retention policy of the config (`[retention]`: max_age,
    /// max_sessions, max_turns, max_session_mb) instead of criteria.
    #[arg(long, conflicts_with_all = ["older_than", "empty", "tag", "without_tag", "source", "larger_than"])]
    pub policy: bool,
    #[command(flatten)]
    pub criteria: CriteriaArgs,
    #[arg(long)]
    pub archive: bool,
    #[arg(long)]
    pub trash: bool,
    #[arg(long)]
    pub purge: bool,
    /// Show the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

/// Which sessions a cleanup or an archive to a file takes: all the
/// criteria given, ANDed.
#[derive(Debug, Args)]
pub struct CriteriaArgs {
    /// Last updated before this span ago (30d, 2w) or date.
    #[arg(long, value_name = "SPAN")]
    pub older_than: Option<String>,
    /// Holding no messages.
    #[arg(long)]
    pub empty: bool,
    /// Carrying this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Not carrying this tag.
    #[arg(long, value_name = "TAG")]
    pub without_tag: Option<String>,
    /// From this source.
    #[arg(long)]
    pub source: Option<String>,
    /// Holding more than N messages.
    #[arg(long, value_name = "N")]
    pub larger_than: Option<u64>,
}

impl CriteriaArgs {
    /// The criteria, spans read as of now.
    pub fn criteria(&self) -> crate::Result<crate::domain::CleanupCriteria> {
        Ok(crate::domain::CleanupCriteria {
            updated_before: self
                .older_than
                .as_deref()
                .map(|s| crate::domain::parse_before(s, crate::domain::now()))
                .transpose()?,
            empty: self.empty,
            tag: self.tag.clone(),
            without_tag: self.without_tag.clone(),
            source: self.source.clone(),
            larger_than: self.larger_than,
        })
    }
}

/// `archive`: in the store, or out to a file.
#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // flags of a command line
pub struct ArchiveArgs {
    /// Sessions to archive (with --to: to move to the file, besides those
    /// the criteria pick).
    pub names: Vec<String>,
    /// Move the sessions into this new archive file (.sbz): written,
    /// read back and verified, then removed from the store and the index.
    #[arg(long, value_name = "FILE", conflicts_with = "list")]
    pub to: Option<PathBuf>,
    /// Show an archive file's header and sessions, without importing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["names", "older_than", "empty", "tag", "without_tag", "source", "larger_than", "keep", "dry_run", "yes"])]
    pub list: Option<PathBuf>,
    /// With --to, the sessions these pick go too.
    #[command(flatten)]
    pub criteria: CriteriaArgs,
    /// Write the archive file but keep the sessions in the store.
    #[arg(long, requires = "to")]
    pub keep: bool,
    /// Show what would be archived and change nothing.
    #[arg(long, requires = "to")]
    pub dry_run: bool,
    /// Go ahead without asking.
    #[arg(long, requires = "to")]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OrderArg {
    Time,
    Given,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    Updated,
    Created,
    Name,
    Size,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportArg {
    Json,
    Jsonl,
    Md,
}

impl Command {
    /// The subcommand's name, for the log.
    pub fn name(&self) -> &'static str {
        match self {
            Command::New { .. } => "new",
            Command::Add { .. } => "add",
            Command::Show { .. } => "show",
            Command::Resume { .. } => "resume",
            Command::List(_) => "list",
            Command::Rename { .. } => "rename",
            Command::Retitle { .. } => "retitle",
            Command::Tag { .. } => "tag",
            Command::Meta { .. } => "meta",
            Command::Branch { .. } => "branch",
            Command::Copy { .. } => "copy",
            Command::Merge { .. } => "merge",
            Command::Truncate { .. } => "truncate",
            Command::Clear { .. } => "clear",
            Command::Rm { .. } => "rm",
            Command::Restore { .. } => "restore",
            Command::Purge { .. } => "purge",
            Command::Archive(_) => "archive",
            Command::Unarchive { .. } => "unarchive",
            Command::Cleanup(_) => "cleanup",
            Command::Import { .. } => "import",
            Command::Sources { .. } => "sources",
            Command::Sync { .. } => "sync",
            Command::Watch { .. } => "watch",
            Command::Serve { .. } => "serve",
            Command::Mcp => "mcp",
            Command::Search { .. } => "search",
            Command::Reindex => "reindex",
            Command::Export { .. } => "export",
            Command::Stats { .. } => "stats",
            Command::Doctor => "doctor",
            Command::Compress { .. } => "compress",
            Command::Completions { .. } => "completions",
        }
    }
}
