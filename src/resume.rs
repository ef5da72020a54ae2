//! Resuming a session in the tool it came from: Claude Code, Codex, Gemini
//! CLI, `llm`, or any source the config names a command for.
//!
//! [`plan`] turns a session and the config's `[resume]` commands into a
//! [`ResumePlan`] (the program, its arguments, the directory to run it in,
//! and the command line as a person would type it), or says why the session
//! cannot be resumed ([`CannotResume`]). It runs nothing: the command line
//! and the full-screen browser run the plan. Nothing ever goes through a
//! shell: a command template is split into words here, and `{id}` and
//! `{cwd}` are put into the words after the split, so an id or a folder
//! with spaces or quotes stays one argument.
//!
//! A tool resumes only its own sessions, by its own id: a branch (made here,
//! or a rewind the importer kept beside the session) or a subagent has no id
//! the tool knows, and is refused, naming the session to resume instead.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::domain::Session;
use crate::store::Store;

/// The built-in command of each source that resumes: what the importers
/// record, and what `config.example.toml` lists under `[resume]`.
pub const DEFAULT_COMMANDS: &[(&str, &str)] = &[
    ("claude-code", "claude --resume {id}"),
    ("codex", "codex resume {id}"),
    ("gemini", "gemini --resume {id}"),
    ("llm", "llm chat --cid {id}"),
];

/// What to run to resume a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResumePlan {
    /// The program (looked up on `PATH` unless it names a path).
    pub program: String,
    /// Its arguments, one word each.
    pub args: Vec<String>,
    /// The directory to run it in (the session's working directory), if any.
    pub dir: Option<PathBuf>,
    /// The command as a person would type it, each word shell-quoted.
    pub shown: String,
    /// The source whose command it is (`claude-code`, `codex`...).
    pub source: String,
}

impl ResumePlan {
    /// `cd DIR && COMMAND`, shell-quoted, or just the command when there is
    /// no directory: a line to paste into a shell.
    pub fn command_line(&self) -> String {
        match &self.dir {
            Some(dir) => format!("cd {} && {}", quote(&dir.to_string_lossy()), self.shown),
            None => self.shown.clone(),
        }
    }
}

/// Why a session cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CannotResume {
    /// Its source is not a tool that resumes sessions, and the config names
    /// no command for it.
    NotFromATool { source: String },
    /// The config turns resuming off for its source (an empty command).
    TurnedOff { source: String },
    /// A branch: made here, or a rewind or edit the importer kept beside
    /// the session. `parent` names the session it branched from.
    Branch {
        source: String,
        parent: Option<String>,
    },
    /// A subagent's session, started by `parent`.
    Subagent {
        source: String,
        parent: Option<String>,
    },
    /// The session carries no id of the tool's.
    NoId { source: String },
    /// A Gemini CLI session recorded by a version without `--resume`.
    GeminiWithoutResume,
    /// An `llm` response logged outside a conversation.
    LlmWithoutConversation,
    /// The working directory it was recorded in is gone.
    DirGone { dir: PathBuf },
    /// The command asks for `{cwd}` and none is recorded.
    NoDir { source: String },
    /// The config's command for the source cannot be used.
    BadCommand {
        source: String,
        command: String,
        reason: String,
    },
}

impl fmt::Display for CannotResume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parent_of = |p: &Option<String>| match p {
            Some(p) => format!(" of {p}"),
            None => String::new(),
        };
        let instead = |p: &Option<String>| match p {
            Some(p) => format!("; resume {p} instead"),
            None => String::new(),
        };
        match self {
            CannotResume::NotFromATool { source } => write!(
                f,
                "it comes from {source}, not from a tool that resumes sessions (Claude Code, \
                 Codex, Gemini CLI, llm); [resume] in the config can name a command for {source}"
            ),
            CannotResume::TurnedOff { source } => write!(
                f,
                "resuming {source} sessions is turned off in the config ([resume] {source} = \"\")"
            ),
            CannotResume::Branch { source, parent } => write!(
                f,
                "it is a branch{}, and {} resumes only its own sessions{}",
                parent_of(parent),
                tool_name(source),
                instead(parent)
            ),
            CannotResume::Subagent { source, parent } => write!(
                f,
                "it is a subagent{}, and {} resumes only its own sessions{}",
                match parent {
                    Some(p) => format!(" started by {p}"),
                    None => String::new(),
                },
                tool_name(source),
                instead(parent)
            ),
            CannotResume::NoId { source } => write!(
                f,
                "it carries no {} session id (a copy, or a session made in scrollback)",
                tool_name(source)
            ),
            CannotResume::GeminiWithoutResume => f.write_str(
                "the Gemini CLI version that wrote it cannot resume sessions (--resume came later)",
            ),
            CannotResume::LlmWithoutConversation => f.write_str(
                "it was imported as a response llm logged outside a conversation, and \
                 `llm chat --cid` continues conversations only",
            ),
            CannotResume::DirGone { dir } => write!(
                f,
                "its working directory {} no longer exists",
                dir.display()
            ),
            CannotResume::NoDir { source } => write!(
                f,
                "the command for {source} in [resume] uses {{cwd}}, and the session has no \
                 working directory recorded"
            ),
            CannotResume::BadCommand {
                source,
                command,
                reason,
            } => write!(
                f,
                "the command for {source} in [resume] ({command:?}) cannot be used: {reason}"
            ),
        }
    }
}

impl std::error::Error for CannotResume {}

/// The name of a tool for people.
fn tool_name(source: &str) -> &str {
    match source {
        "claude-code" => "Claude Code",
        "codex" => "Codex",
        "gemini" => "Gemini CLI",
        other => other,
    }
}

/// The built-in command of `source`, if it is a tool that resumes.
pub fn default_command(source: &str) -> Option<&'static str> {
    DEFAULT_COMMANDS
        .iter()
        .find(|(s, _)| *s == source)
        .map(|(_, c)| *c)
}

/// What to run to resume `session`: the config's command for its source
/// (`commands`, the `[resume]` table) when it differs from the built-in one,
/// else the command its importer recorded (metadata `resume_command`), else
/// the built-in one; run in its working directory (metadata `cwd`) when one
/// is recorded. `parent` names the session it comes from, for the reason a
/// branch or a subagent is refused.
///
/// Reads the file system only to check that the working directory exists.
pub fn plan(
    session: &Session,
    parent: Option<&str>,
    commands: &BTreeMap<String, String>,
) -> Result<ResumePlan, CannotResume> {
    let source = session.source.as_str();
    let builtin = default_command(source);
    let configured = commands.get(source).map(String::as_str);
    let template = match (configured, builtin) {
        (Some(c), _) if c.trim().is_empty() => {
            return Err(CannotResume::TurnedOff {
                source: source.into(),
            });
        }
        (Some(c), _) => c,
        (None, Some(b)) => b,
        (None, None) => {
            return Err(CannotResume::NotFromATool {
                source: source.into(),
            });
        }
    };
    let parent = parent
        .map(str::to_string)
        .or_else(|| session.parent.as_ref().map(|uid| uid.as_str().to_string()));
    let meta = |k: &str| {
        session
            .metadata
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let id = session.source_ref.as_deref().filter(|r| !r.is_empty());
    if meta("relation") == Some("subagent") {
        return Err(CannotResume::Subagent {
            source: source.into(),
            parent,
        });
    }
    match id {
        Some(r) if r.contains('@') => {
            return Err(CannotResume::Branch {
                source: source.into(),
                parent,
            });
        }
        None if session.parent.is_some() => {
            return Err(CannotResume::Branch {
                source: source.into(),
                parent,
            });
        }
        _ => {}
    }
    if id.is_none() && builtin.is_some() {
        return Err(CannotResume::NoId {
            source: source.into(),
        });
    }
    let recorded = meta("resume_command");
    if id.is_some() && recorded.is_none() {
        match source {
            "gemini" => return Err(CannotResume::GeminiWithoutResume),
            "llm" => return Err(CannotResume::LlmWithoutConversation),
            _ => {}
        }
    }
    let overridden = configured.is_some() && configured != builtin;
    let from_importer = match (recorded, id, builtin) {
        (Some(r), Some(id), Some(b)) if !overridden => recorded_words(r, id, b),
        _ => None,
    };
    let words = match from_importer {
        Some(w) => w,
        None => split_words(template).map_err(|reason| CannotResume::BadCommand {
            source: source.into(),
            command: template.into(),
            reason,
        })?,
    };
    let cwd = meta("cwd");
    let mut out = Vec::with_capacity(words.len());
    for w in &words {
        if w.contains("{id}") && id.is_none() {
            return Err(CannotResume::NoId {
                source: source.into(),
            });
        }
        if w.contains("{cwd}") && cwd.is_none() {
            return Err(CannotResume::NoDir {
                source: source.into(),
            });
        }
        out.push(fill(w, id.unwrap_or_default(), cwd.unwrap_or_default()));
    }
    let dir = cwd.map(PathBuf::from);
    if let Some(d) = &dir
        && !d.is_dir()
    {
        return Err(CannotResume::DirGone { dir: d.clone() });
    }
    let mut words = out.into_iter();
    let program = words.next().unwrap_or_default();
    let args: Vec<String> = words.collect();
    let shown = std::iter::once(&program)
        .chain(&args)
        .map(|w| quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(ResumePlan {
        program,
        args,
        dir,
        shown,
        source: source.into(),
    })
}

/// [`plan`] for a session of `store`, its parent named by its name there.
pub fn plan_in(
    store: &Store,
    session: &Session,
    commands: &BTreeMap<String, String>,
) -> Result<ResumePlan, CannotResume> {
    let parent = session.parent.as_ref().map(|uid| {
        store
            .session(uid.as_str())
            .map_or_else(|_| uid.to_string(), |p| p.name)
    });
    plan(session, parent.as_deref(), commands)
}

/// Why a plan's program could not be started, for a person: the program
/// and the source it resumes named, and what to do about it.
pub fn start_failed(plan: &ResumePlan, error: &std::io::Error) -> String {
    if let Some(dir) = plan.dir.as_ref().filter(|d| !d.is_dir()) {
        return CannotResume::DirGone { dir: dir.clone() }.to_string();
    }
    let (program, source) = (&plan.program, &plan.source);
    match error.kind() {
        std::io::ErrorKind::NotFound => format!(
            "`{program}` (the command that resumes {source} sessions) is not installed or not \
             on PATH; [resume] {source} in the config can name another"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "`{program}` (the command that resumes {source} sessions) cannot be run: \
             permission denied"
        ),
        _ => format!(
            "`{program}` (the command that resumes {source} sessions) failed to start: {error}"
        ),
    }
}

/// The words of the command an importer recorded, as a template (`{id}`
/// where the id was), when it is safe to run: the tool's own program, the
/// session's id as one of its words, and nothing else but plain options and
/// subcommand words. A command edited into the metadata, or brought in by a
/// file from elsewhere, that does more is not run; the built-in one is.
fn recorded_words(recorded: &str, id: &str, builtin: &str) -> Option<Vec<String>> {
    let words = split_words(recorded).ok()?;
    let program = builtin.split_whitespace().next()?;
    if words.first().map(String::as_str) != Some(program) || !words.iter().any(|w| w == id) {
        return None;
    }
    let plain = |w: &str| {
        let body = w.trim_start_matches('-');
        w.len() - body.len() <= 2
            && body.starts_with(|c: char| c.is_ascii_lowercase())
            && body
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    words
        .into_iter()
        .map(|w| {
            if w == id {
                Some("{id}".to_string())
            } else if plain(&w) {
                Some(w)
            } else {
                None
            }
        })
        .collect()
}

/// Splits a command template into words as a shell would, without running
/// one: blanks separate words, `'...'` keeps everything as it is, `"..."`
/// keeps everything but `\"` and `\\`, and a backslash outside quotes takes
/// the next character as it is. No variables, globs or other expansion.
pub fn split_words(template: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a ' is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a \" is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a \" is not closed".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("it ends with a lone \\".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err("it names no program".into());
    }
    for w in &words {
        if let Some(unknown) = unknown_placeholder(w) {
            return Err(format!(
                "{{{unknown}}} is not a placeholder (use {{id}} or {{cwd}})"
            ));
        }
    }
    Ok(words)
}

/// `word` with each `{id}` and `{cwd}` replaced, in one pass (an id that
/// reads `{cwd}` stays as it is).
fn fill(word: &str, id: &str, cwd: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        if let Some(r) = after.strip_prefix("{id}") {
            out.push_str(id);
            rest = r;
        } else if let Some(r) = after.strip_prefix("{cwd}") {
            out.push_str(cwd);
            rest = r;
        } else {
            out.push('{');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    out
}

/// A `{name}` in a word that is neither `{id}` nor `{cwd}`.
fn unknown_placeholder(word: &str) -> Option<&str> {
    let mut rest = word;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name != "id"
            && name != "cwd"
        {
            return Some(name);
        }
        rest = &after[close + 1..];
    }
    None
}

/// A word as a POSIX shell reads it back: as it is when it holds only
/// characters no shell treats specially, else in single quotes; a word with
/// characters that must not reach a terminal (controls, bidi overrides) in
/// `$'...'` with those written as escapes, so the line stays safe to show
/// and still gives the word back to bash and zsh.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_string();
    }
    if !word.chars().any(crate::sanitize::is_unsafe) {
        return format!("'{}'", word.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for c in word.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if crate::sanitize::is_unsafe(c) => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SessionId, Uid};
    use serde_json::{Map, json};

    fn session(source: &str, source_ref: Option<&str>, metadata: Value) -> Session {
        let Value::Object(metadata) = metadata else {
            panic!("metadata is an object")
        };
        let t = jiff::Timestamp::UNIX_EPOCH;
        Session {
            id: SessionId(1),
            uid: Uid("u-1".into()),
            name: "s".into(),
            title: String::new(),
            created_at: t,
            updated_at: t,
            message_count: 0,
            char_count: 0,
            tags: Vec::new(),
            metadata,
            source: source.into(),
            source_ref: source_ref.map(str::to_string),
            parent: None,
            fork_seq: None,
            archived: false,
            trashed: false,
            archived_at: None,
            trashed_at: None,
        }
    }

    fn defaults() -> BTreeMap<String, String> {
        DEFAULT_COMMANDS
            .iter()
            .map(|(s, c)| ((*s).to_string(), (*c).to_string()))
            .collect()
    }

    fn here() -> String {
        std::env::temp_dir().to_string_lossy().into_owned()
    }

    #[test]
    fn claude_code_resumes_in_its_directory() {
        let s = session(
            "claude-code",
            Some("c0ffee01"),
            json!({"cwd": here(), "resume_command": "claude --resume c0ffee01"}),
        );
        let p = plan(&s, None, &defaults()).expect("plan");
        assert_eq!(p.program, "claude");
        assert_eq!(p.args, vec!["--resume", "c0ffee01"]);
        assert_eq!(p.dir, Some(PathBuf::from(here())));
        assert_eq!(p.shown, "claude --resume c0ffee01");
        assert_eq!(
            p.command_line(),
            format!("cd {} && claude --resume c0ffee01", quote(&here()))
        );
    }

    #[test]
    fn each_tool_has_its_default_command() {
        for (source, args) in [
            ("claude-code", vec!["claude", "--resume", "X1"]),
            ("codex", vec!["codex", "resume", "X1"]),
            ("gemini", vec!["gemini", "--resume", "X1"]),
            ("llm", vec!["llm", "chat", "--cid", "X1"]),
        ] {
            let recorded = default_command(source)
                .expect("built in")
                .replace("{id}", "X1");
            let with = session(source, Some("X1"), json!({ "resume_command": recorded }));
            let p = plan(&with, None, &defaults()).expect(source);
            assert_eq!(
                std::iter::once(p.program.clone())
                    .chain(p.args.clone())
                    .collect::<Vec<_>>(),
                args,
                "{source}"
            );
            assert_eq!(p.dir, None, "{source}: no cwd recorded, none used");
            // With no config at all, the built-in command is used.
            let p2 = plan(&with, None, &BTreeMap::new()).expect(source);
            assert_eq!(p2, p, "{source}");
        }
        // Claude Code and Codex need no recorded command.
        let codex = session("codex", Some("X2"), json!({}));
        let p = plan(&codex, None, &defaults()).expect("codex");
        assert_eq!(p.shown, "codex resume X2");
    }

    #[test]
    fn an_override_wins_over_the_recorded_command() {
        let s = session(
            "claude-code",
            Some("abc"),
            json!({"cwd": here(), "resume_command": "claude --resume abc"}),
        );
        let mut c = defaults();
        c.insert(
            "claude-code".into(),
            r#""/opt/my tools/claude-wrap" "--dir={cwd}" -r {id} 'a b'"#.into(),
        );
        let p = plan(&s, None, &c).expect("plan");
        assert_eq!(p.program, "/opt/my tools/claude-wrap");
        assert_eq!(
            p.args,
            vec![
                format!("--dir={}", here()),
                "-r".into(),
                "abc".into(),
                "a b".into()
            ]
        );
        assert_eq!(
            p.shown,
            format!(
                "'/opt/my tools/claude-wrap' {} -r abc 'a b'",
                quote(&format!("--dir={}", here()))
            )
        );
    }

    #[test]
    fn the_recorded_command_is_preferred_to_the_default() {
        let s = session(
            "codex",
            Some("t-1"),
            json!({"resume_command": "codex --no-alt-screen resume t-1"}),
        );
        let p = plan(&s, None, &defaults()).expect("plan");
        assert_eq!(p.args, vec!["--no-alt-screen", "resume", "t-1"]);
    }

    #[test]
    fn a_recorded_command_that_does_more_is_not_run() {
        for recorded in [
            "rm -rf / t-1",
            "codex resume t-1 'do something else'",
            "codex exec --path=/tmp/x t-1",
            "codex resume other-id",
            "codex resume 't-1",
        ] {
            let s = session("codex", Some("t-1"), json!({ "resume_command": recorded }));
            let p = plan(&s, None, &defaults()).expect(recorded);
            assert_eq!(p.shown, "codex resume t-1", "{recorded}");
        }
    }

    #[test]
    fn words_are_substituted_after_the_split() {
        let dir = tempfile::tempdir().expect("tempdir");
        let odd = dir.path().join("a dir with 'quotes' and $x");
        std::fs::create_dir(&odd).expect("mkdir");
        let s = session(
            "aider",
            Some("id with space;rm -rf"),
            json!({"cwd": odd.to_string_lossy()}),
        );
        let mut c = BTreeMap::new();
        c.insert(
            "aider".to_string(),
            "aider --restore {id} --in {cwd}".to_string(),
        );
        let p = plan(&s, None, &c).expect("plan");
        assert_eq!(p.program, "aider");
        assert_eq!(
            p.args,
            vec![
                "--restore".to_string(),
                "id with space;rm -rf".into(),
                "--in".into(),
                odd.to_string_lossy().into_owned()
            ]
        );
        assert_eq!(p.dir.as_deref(), Some(odd.as_path()));
        assert!(p.shown.contains("'id with space;rm -rf'"), "{}", p.shown);
        assert!(
            p.command_line()
                .starts_with(&format!("cd {} && aider", quote(&odd.to_string_lossy()))),
            "{}",
            p.command_line()
        );
    }

    #[test]
    fn placeholders_are_filled_once() {
        assert_eq!(fill("{id}-{cwd}{x}{", "{cwd}", "/p"), "{cwd}-/p{x}{");
    }

    #[test]
    fn templates_split_like_a_shell_without_one() {
        assert_eq!(
            split_words(r#"a  "b c" 'd "e"' f\ g "h\"i" 'j'k"#).expect("split"),
            vec!["a", "b c", r#"d "e""#, "f g", r#"h"i"#, "jk"]
        );
        assert_eq!(split_words("x ''").expect("split"), vec!["x", ""]);
        assert!(split_words("a 'b").expect_err("open").contains('\''));
        assert!(split_words("a \"b").expect_err("open").contains('"'));
        assert!(
            split_words("   ")
                .expect_err("empty")
                .contains("no program")
        );
        assert!(
            split_words("x {ID}")
                .expect_err("unknown")
                .contains("{ID} is not a placeholder")
        );
        assert_eq!(split_words("x {} {a-b}").expect("not names").len(), 3);
    }

    #[test]
    fn quoting_round_trips_through_the_splitter() {
        for w in ["plain", "", "a b", "it's", "$HOME", "a\"b", "x\\y", "-–ü"] {
            let q = quote(w);
            assert_eq!(
                split_words(&format!("p {q}")).expect(w),
                vec!["p", w],
                "{q}"
            );
        }
        assert_eq!(quote("--resume"), "--resume");
        assert_eq!(quote("/a/b.c:d@e%f+g=h,i"), "/a/b.c:d@e%f+g=h,i");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(
            quote("a\x1b]0;x\x07'\\\u{202e}"),
            r"$'a\x1b]0;x\x07\'\\\u202e'"
        );
    }

    #[test]
    fn a_source_that_does_not_resume_is_refused() {
        for source in ["scrollback", "chatgpt", "sharegpt", "open-webui"] {
            let s = session(source, Some("x"), json!({}));
            let e = plan(&s, None, &defaults()).expect_err(source);
            assert_eq!(
                e,
                CannotResume::NotFromATool {
                    source: source.into()
                }
            );
            assert!(e.to_string().contains(source), "{e}");
            assert!(e.to_string().contains("[resume]"), "{e}");
        }
    }

    #[test]
    fn an_empty_command_turns_a_source_off() {
        let s = session("claude-code", Some("x"), json!({}));
        let mut c = defaults();
        c.insert("claude-code".into(), "  ".into());
        let e = plan(&s, None, &c).expect_err("off");
        assert_eq!(
            e,
            CannotResume::TurnedOff {
                source: "claude-code".into()
            }
        );
    }

    #[test]
    fn branches_are_refused_naming_the_parent() {
        // A rewind kept by the importer beside the session.
        let mut s = session(
            "claude-code",
            Some("c0ffee02@m5"),
            json!({"resume_command": "claude --resume c0ffee02"}),
        );
        s.parent = Some(Uid("p-uid".into()));
        let e = plan(&s, Some("claude-c0ffee02"), &defaults()).expect_err("branch");
        assert_eq!(
            e.to_string(),
            "it is a branch of claude-c0ffee02, and Claude Code resumes only its own sessions; \
             resume claude-c0ffee02 instead"
        );
        // A branch made here: no id of its own, the parent's command copied.
        s.source_ref = None;
        let e = plan(&s, None, &defaults()).expect_err("branch");
        assert_eq!(
            e,
            CannotResume::Branch {
                source: "claude-code".into(),
                parent: Some("p-uid".into())
            }
        );
    }

    #[test]
    fn a_resumed_or_forked_session_with_its_own_id_resumes() {
        let mut s = session(
            "claude-code",
            Some("new-id"),
            json!({"relation": "resume", "resumed_from": "old-id",
                   "resume_command": "claude --resume new-id"}),
        );
        s.parent = Some(Uid("p".into()));
        let p = plan(&s, Some("claude-old"), &defaults()).expect("plan");
        assert_eq!(p.args, vec!["--resume", "new-id"]);
    }

    #[test]
    fn subagents_are_refused_naming_who_started_them() {
        let mut s = session(
            "codex",
            Some("sub-1"),
            json!({"relation": "subagent", "spawned_by": "main-1",
                   "resume_command": "codex resume sub-1"}),
        );
        s.parent = Some(Uid("main-uid".into()));
        let e = plan(&s, Some("codex-main"), &defaults()).expect_err("subagent");
        assert_eq!(
            e.to_string(),
            "it is a subagent started by codex-main, and Codex resumes only its own sessions; \
             resume codex-main instead"
        );
    }

    #[test]
    fn a_session_without_an_id_is_refused() {
        let s = session("codex", None, json!({"resume_command": "codex resume x"}));
        let e = plan(&s, None, &defaults()).expect_err("no id");
        assert_eq!(
            e,
            CannotResume::NoId {
                source: "codex".into()
            }
        );
        assert!(e.to_string().contains("Codex session id"), "{e}");
    }

    #[test]
    fn gemini_without_resume_and_llm_outside_a_conversation_are_refused() {
        let g = session("gemini", Some("g-1"), json!({"kind": "main"}));
        assert_eq!(
            plan(&g, None, &defaults()),
            Err(CannotResume::GeminiWithoutResume)
        );
        let l = session("llm", Some("r-1"), json!({"model": "gpt-4o"}));
        assert_eq!(
            plan(&l, None, &defaults()),
            Err(CannotResume::LlmWithoutConversation)
        );
    }

    #[test]
    fn a_working_directory_that_is_gone_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gone = dir.path().join("removed project");
        let s = session(
            "claude-code",
            Some("x"),
            json!({"cwd": gone.to_string_lossy()}),
        );
        let e = plan(&s, None, &defaults()).expect_err("gone");
        assert_eq!(e, CannotResume::DirGone { dir: gone.clone() });
        assert!(e.to_string().contains(&gone.display().to_string()), "{e}");
    }

    #[test]
    fn cwd_in_a_command_needs_a_recorded_directory() {
        let s = session("codex", Some("x"), json!({}));
        let mut c = defaults();
        c.insert("codex".into(), "codex resume {id} -C {cwd}".into());
        assert_eq!(
            plan(&s, None, &c),
            Err(CannotResume::NoDir {
                source: "codex".into()
            })
        );
    }

    #[test]
    fn a_broken_command_in_the_config_is_named() {
        let s = session("codex", Some("x"), json!({}));
        let mut c = defaults();
        c.insert("codex".into(), "codex resume '{id}".into());
        let e = plan(&s, None, &c).expect_err("broken");
        assert!(
            matches!(&e, CannotResume::BadCommand { source, .. } if source == "codex"),
            "{e:?}"
        );
        assert!(e.to_string().contains("not closed"), "{e}");
    }

    #[test]
    fn metadata_that_is_not_text_is_ignored() {
        let mut m = Map::new();
        m.insert("cwd".into(), json!(42));
        m.insert("resume_command".into(), json!(["claude"]));
        let s = session("claude-code", Some("x"), Value::Object(m));
        let p = plan(&s, None, &defaults()).expect("plan");
        assert_eq!(p.dir, None);
        assert_eq!(p.shown, "claude --resume x");
    }
}
