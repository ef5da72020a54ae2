//! What the importer tests share: a store of their own run through the
//! real binary, and the shapes they compare (messages as (role, kind,
//! content), skipped items as (what, reason, count)).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A home folder and a store of the test's own.
pub struct Env {
    dir: tempfile::TempDir,
    pub home: PathBuf,
    pub db: PathBuf,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let db = dir.path().join("store.db");
        Env { dir, home, db }
    }

    /// A path in the test's folder (beside the home).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A path in the home folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.home.join(name)
    }

    /// `import --json ARGS PATHS`: whether it succeeded, the report, stderr.
    pub fn import(&self, args: &[&str], paths: &[&Path]) -> (bool, Value, String) {
        let out = super::scrollback_on(&self.home, &self.db)
            .arg("import")
            .arg("--json")
            .args(args)
            .args(paths)
            .output()
            .expect("run");
        let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.success(),
            report,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `list --json ARGS`.
    pub fn list(&self, args: &[&str]) -> Vec<Value> {
        let out = super::scrollback_on(&self.home, &self.db)
            .args(["list", "--json"])
            .args(args)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("list json")
    }

    /// Every session, live and archived, by name.
    pub fn all(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .list(&[])
            .into_iter()
            .chain(self.list(&["--archived"]))
            .map(|s| s["name"].as_str().expect("name").to_string())
            .collect();
        names.sort();
        names
    }

    /// `show NAME --json`.
    pub fn show(&self, name: &str) -> Value {
        let out = super::scrollback_on(&self.home, &self.db)
            .args(["show", name, "--json"])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("show json")
    }
}

/// (role, kind, content) of each message of a shown session.
pub fn triples(session: &Value) -> Vec<(String, String, String)> {
    message_triples(session["messages"].as_array().expect("messages"))
}

/// (role, kind, content) of each message.
pub fn message_triples(messages: &[Value]) -> Vec<(String, String, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m["role"].as_str().expect("role").to_string(),
                m["kind"].as_str().expect("kind").to_string(),
                m["content"].as_str().expect("content").to_string(),
            )
        })
        .collect()
}

pub fn t(role: &str, kind: &str, content: &str) -> (String, String, String) {
    (role.into(), kind.into(), content.into())
}

/// The source id of each message of a shown session.
pub fn source_ids(session: &Value) -> Vec<String> {
    message_source_ids(session["messages"].as_array().expect("messages"))
}

/// The source id of each message.
pub fn message_source_ids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["source_id"].as_str().expect("source id").to_string())
        .collect()
}

/// The report's skipped items as (what, reason, count), sorted.
pub fn skipped(report: &Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<(String, String, u64)> = report["skipped_items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["what"].as_str().expect("what").to_string(),
                        s["reason"].as_str().expect("reason").to_string(),
                        s["count"].as_u64().expect("count"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

pub fn s(what: &str, reason: &str, n: u64) -> (String, String, u64) {
    (what.into(), reason.into(), n)
}

/// The store of a test that runs in a temporary folder of its own.
pub fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("scrollback.db")
}

/// `scrollback ARGS` on the folder's store.
pub fn run(dir: &tempfile::TempDir, args: &[&str]) -> std::process::Output {
    super::scrollback_on(dir.path(), &db(dir))
        .args(args)
        .output()
        .expect("scrollback runs")
}

/// `scrollback ARGS`, which must succeed and print JSON.
pub fn ok_json(dir: &tempfile::TempDir, args: &[&str]) -> Value {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// `import --json PATH`: the report.
pub fn import(dir: &tempfile::TempDir, path: &Path) -> Value {
    ok_json(
        dir,
        &["import", "--json", path.to_str().expect("utf-8 path")],
    )
}

/// `import --json --reread PATH`: read even if unchanged since its last import.
pub fn reread(dir: &tempfile::TempDir, path: &Path) -> Value {
    ok_json(
        dir,
        &[
            "import",
            "--json",
            "--reread",
            path.to_str().expect("utf-8 path"),
        ],
    )
}

/// An import that must fail: its stderr.
pub fn import_fails(dir: &tempfile::TempDir, path: &Path) -> String {
    let out = run(dir, &["import", path.to_str().expect("utf-8 path")]);
    assert!(!out.status.success(), "the import should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every session, archived and trashed ones included.
pub fn list(dir: &tempfile::TempDir) -> Vec<Value> {
    match ok_json(dir, &["list", "--json", "--all"]) {
        Value::Array(a) => a,
        other => panic!("not an array: {other}"),
    }
}
