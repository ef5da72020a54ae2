//! `scrollback resume NAME` through the real binary: Claude Code and Codex
//! sessions imported from the fixtures (their working directory moved into
//! the test's folder), the tool replaced through `[resume]` in a config by a
//! stub script that writes down its arguments and the directory it runs in
//! and exits with a code of its own; `--print` and `--print --json`; and the
//! sessions that cannot be resumed, each with its reason.

#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::import::Env;
use serde_json::{Value, json};

const CLAUDE_ID: &str = "c0ffee01-0000-4000-8000-000000000001";
const CLAUDE_NAME: &str = "claude-c0ffee01";
const CODEX_ID: &str = "0199a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b";
const CODEX_NAME: &str = "codex-0199a2b3";
/// The working directory the fixtures record.
const FIXTURE_CWD: &str = "/home/ana/proj";

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(path)
}

/// A store, a project folder (with a space in its name) that the imported
/// sessions were recorded in, and a stub for the tools.
struct Setup {
    env: Env,
    project: PathBuf,
    stub: PathBuf,
    record: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let env = Env::new();
        let project = env.path("my project");
        fs::create_dir(&project).unwrap();
        let record = env.path("record");
        let stub = env.path("stub-tool");
        fs::write(
            &stub,
            format!(
                "#!/bin/sh\npwd -P > '{}'\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\nexit \"${{STUB_EXIT:-0}}\"\n",
                record.display(),
                record.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).unwrap();
        Setup {
            env,
            project,
            stub,
            record,
        }
    }

    /// Imports a fixture with its working directory moved to the project.
    fn import(&self, fixture_path: &str, cwd: &Path) {
        let text = fs::read_to_string(fixture(fixture_path))
            .unwrap()
            .replace(FIXTURE_CWD, &cwd.display().to_string());
        let file = self.env.path(
            Path::new(fixture_path)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap(),
        );
        fs::write(&file, text).unwrap();
        let (ok, report, stderr) = self.env.import(&[], &[&file]);
        assert!(ok, "{report} {stderr}");
    }

    /// A config file with these `[resume]` lines.
    fn config(&self, resume: &str) -> PathBuf {
        let path = self.env.path("config.toml");
        fs::write(&path, format!("[resume]\n{resume}\n")).unwrap();
        path
    }

    fn run(&self, config: Option<&Path>, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut c = common::scrollback_on(&self.env.home, &self.env.db);
        if let Some(config) = config {
            c.arg("--config").arg(config);
        }
        for (k, v) in extra_env {
            c.env(k, v);
        }
        c.args(args).output().unwrap()
    }

    /// What the stub wrote down: the directory it ran in, then each argument.
    fn recorded(&self) -> (PathBuf, Vec<String>) {
        let text = fs::read_to_string(&self.record).expect("the stub ran");
        let mut lines = text.lines().map(str::to_string);
        let dir = PathBuf::from(lines.next().unwrap());
        (dir, lines.collect())
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The TOML string for a command template, the stub's path quoted in it.
fn template(stub: &Path, rest: &str) -> String {
    let command = format!("'{}' {rest}", stub.display());
    toml::Value::String(command).to_string()
}

#[test]
fn a_claude_code_session_runs_the_tool_with_its_id_in_its_directory() {
    let s = Setup::new();
    s.import("claude-code/chain.jsonl", &s.project);
    let config = s.config(&format!(
        "claude-code = {}",
        template(&s.stub, "--resume {id} 'two words' \"{cwd}\"")
    ));
    let out = s.run(
        Some(&config),
        &["resume", CLAUDE_NAME],
        &[("STUB_EXIT", "7")],
    );
    // The tool's exit code is scrollback's.
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "nothing said when it runs");
    let (dir, args) = s.recorded();
    assert_eq!(dir, fs::canonicalize(&s.project).unwrap());
    assert_eq!(
        args,
        vec![
            "--resume".to_string(),
            CLAUDE_ID.into(),
            "two words".into(),
            s.project.display().to_string()
        ]
    );
}

#[test]
fn a_codex_session_runs_the_tool_and_exits_as_it_does() {
    let s = Setup::new();
    s.import("codex/newer.jsonl", &s.project);
    let config = s.config(&format!("codex = {}", template(&s.stub, "resume {id}")));
    let out = s.run(Some(&config), &["resume", CODEX_NAME], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (dir, args) = s.recorded();
    assert_eq!(dir, fs::canonicalize(&s.project).unwrap());
    assert_eq!(args, vec!["resume".to_string(), CODEX_ID.into()]);
}

#[test]
fn print_gives_the_line_to_paste_and_json_its_parts() {
    let s = Setup::new();
    s.import("claude-code/chain.jsonl", &s.project);
    s.import("codex/newer.jsonl", &s.project);
    let project = s.project.display().to_string();
    // The built-in commands (nothing configured).
    let out = s.run(None, &["resume", CLAUDE_NAME, "--print"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("cd '{project}' && claude --resume {CLAUDE_ID}\n")
    );
    let out = s.run(None, &["resume", CODEX_NAME, "--print", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        json!({
            "program": "codex",
            "args": ["resume", CODEX_ID],
            "dir": project,
            "command": format!("codex resume {CODEX_ID}"),
        })
    );
    assert!(!s.record.exists(), "--print runs nothing");
    // An override, with a source the config names freely beside it.
    let config =
        s.config("claude-code = \"claude --resume {id} --model 'big one'\"\naider = \"aider\"");
    let out = s.run(Some(&config), &["resume", CLAUDE_NAME, "--print"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "",
        "a source named in [resume] is no unknown key"
    );
    assert_eq!(
        stdout(&out),
        format!("cd '{project}' && claude --resume {CLAUDE_ID} --model 'big one'\n")
    );
    // --json needs --print.
    let out = s.run(None, &["resume", CLAUDE_NAME, "--json"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_command_that_is_not_text_is_a_warning_naming_it() {
    let s = Setup::new();
    s.import("claude-code/chain.jsonl", &s.project);
    let config = s.config("claude-code = [\"claude\"]");
    let out = s.run(Some(&config), &["resume", CLAUDE_NAME, "--print"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`resume.claude-code`"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).ends_with(&format!("&& claude --resume {CLAUDE_ID}\n")));
}

#[test]
fn a_session_made_here_cannot_be_resumed() {
    let s = Setup::new();
    let out = s.run(None, &["new", "my-notes"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(None, &["resume", "my-notes"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "scrollback: error: cannot resume my-notes: it comes from scrollback, not from a tool \
         that resumes sessions (Claude Code, Codex, Gemini CLI, llm); [resume] in the config \
         can name a command for scrollback\n"
    );
    // No such session: the documented exit code for it.
    let out = s.run(None, &["resume", "no-such-session"], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn a_working_directory_that_is_gone_is_named_and_nothing_runs() {
    let s = Setup::new();
    let gone = s.env.path("removed project");
    fs::create_dir(&gone).unwrap();
    s.import("claude-code/chain.jsonl", &gone);
    fs::remove_dir(&gone).unwrap();
    let config = s.config(&format!(
        "claude-code = {}",
        template(&s.stub, "--resume {id}")
    ));
    for args in [
        &["resume", CLAUDE_NAME][..],
        &["resume", CLAUDE_NAME, "--print"],
    ] {
        let out = s.run(Some(&config), args, &[]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out),
            format!(
                "scrollback: error: cannot resume {CLAUDE_NAME}: its working directory {} no \
                 longer exists\n",
                gone.display()
            )
        );
    }
    assert!(!s.record.exists(), "the stub did not run");
}

#[test]
fn branches_and_subagents_name_the_session_to_resume_instead() {
    let s = Setup::new();
    s.import("claude-code/rewind.jsonl", &s.project);
    s.import("codex/newer.jsonl", &s.project);
    s.import("codex/subagent.jsonl", &s.project);
    let out = s.run(None, &["resume", "claude-c0ffee02~2"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "cannot resume claude-c0ffee02~2: it is a branch of claude-c0ffee02, and Claude \
             Code resumes only its own sessions; resume claude-c0ffee02 instead"
        ),
        "{}",
        stderr(&out)
    );
    let out = s.run(None, &["resume", "codex-0199c111"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "cannot resume codex-0199c111: it is a subagent started by {CODEX_NAME}, and Codex \
             resumes only its own sessions; resume {CODEX_NAME} instead"
        )),
        "{}",
        stderr(&out)
    );
    // A branch made here carries the parent's metadata, not an id of its own.
    let out = s.run(None, &["branch", CODEX_NAME, "my-branch", "--at", "1"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(None, &["resume", "my-branch", "--print"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("it is a branch of {CODEX_NAME}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_tool_that_is_not_installed_is_named_with_its_source() {
    let s = Setup::new();
    s.import("claude-code/chain.jsonl", &s.project);
    let missing = s.env.path("no-such-claude");
    let config = s.config(&format!(
        "claude-code = {}",
        template(&missing, "--resume {id}")
    ));
    let out = s.run(Some(&config), &["resume", CLAUDE_NAME], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "scrollback: error: cannot resume {CLAUDE_NAME}: `{}` (the command that resumes \
             claude-code sessions) is not installed or not on PATH; [resume] claude-code in \
             the config can name another\n",
            missing.display()
        )
    );
}
