//! Tab completion of file and folder names in path fields, as a shell does
//! it: the folder of what was typed is listed (`~` is the home folder), the
//! longest common start of the names that begin with the typed name is
//! added, and a folder gets its `/`. This is the one place a dialog reads
//! the file system.

use std::path::{Path, PathBuf};

use crate::paths::expand_tilde;

/// What Tab makes of a typed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The typed text, completed as far as the candidates agree.
    pub text: String,
    /// The names that match, sorted, folders ending in `/`.
    pub candidates: Vec<String>,
}

/// Completes `typed`. Hidden names are offered only when the typed name
/// starts with a dot. A folder that cannot be read completes nothing.
pub fn complete_path(typed: &str) -> Completion {
    let unchanged = || Completion {
        text: typed.to_string(),
        candidates: Vec::new(),
    };
    if typed == "~" {
        return if expand_tilde(typed).is_dir() {
            Completion {
                text: "~/".into(),
                candidates: Vec::new(),
            }
        } else {
            unchanged()
        };
    }
    let (folder, name) = typed
        .rfind('/')
        .map_or(("", typed), |i| typed.split_at(i + 1));
    let listed = if folder.is_empty() {
        PathBuf::from(".")
    } else {
        expand_tilde(folder)
    };
    let candidates = matching(&listed, name);
    let Some(first) = candidates.first() else {
        return unchanged();
    };
    let common = candidates
        .iter()
        .skip(1)
        .fold(first.as_str(), |acc, c| common_start(acc, c));
    Completion {
        text: format!("{folder}{common}"),
        candidates,
    }
}

/// The entries of `folder` whose names start with `name`, sorted, folders
/// (and links to folders) with a `/`. Names that are not UTF-8 cannot be
/// typed and are left out.
fn matching(folder: &Path, name: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let hidden = name.starts_with('.');
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let n = e.file_name().into_string().ok()?;
            if !n.starts_with(name) || (n.starts_with('.') && !hidden) {
                return None;
            }
            Some(if e.path().is_dir() { n + "/" } else { n })
        })
        .collect();
    found.sort();
    found
}

/// The longest start `a` and `b` share, on a character boundary.
fn common_start<'a>(a: &'a str, b: &str) -> &'a str {
    let end = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i);
    &a[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder with files and folders, names with spaces and non-ASCII.
    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [
            "notes one.json",
            "notes two.json",
            "日本語.md",
            "日本.txt",
            ".hidden.json",
            "single.jsonl",
        ] {
            std::fs::write(dir.path().join(f), "x").expect("write");
        }
        for d in ["exports", "exports-old", "my folder"] {
            std::fs::create_dir(dir.path().join(d)).expect("mkdir");
        }
        dir
    }

    fn at(dir: &tempfile::TempDir, rest: &str) -> String {
        format!("{}/{rest}", dir.path().display())
    }

    #[test]
    fn one_match_completes_whole_and_a_folder_gets_its_slash() {
        let dir = tree();
        let c = complete_path(&at(&dir, "si"));
        assert_eq!(c.text, at(&dir, "single.jsonl"));
        assert_eq!(c.candidates, ["single.jsonl"]);
        let c = complete_path(&at(&dir, "my"));
        assert_eq!(c.text, at(&dir, "my folder/"));
        // In the folder, nothing to list: unchanged.
        let c = complete_path(&c.text);
        assert_eq!(c.text, at(&dir, "my folder/"));
        assert!(c.candidates.is_empty());
    }

    #[test]
    fn several_matches_complete_their_common_start_and_are_offered() {
        let dir = tree();
        let c = complete_path(&at(&dir, "no"));
        assert_eq!(c.text, at(&dir, "notes "));
        assert_eq!(c.candidates, ["notes one.json", "notes two.json"]);
        let c = complete_path(&at(&dir, "ex"));
        assert_eq!(c.text, at(&dir, "exports"));
        assert_eq!(c.candidates, ["exports-old/", "exports/"]);
        // Non-ASCII names share whole characters only.
        let c = complete_path(&at(&dir, "日"));
        assert_eq!(c.text, at(&dir, "日本"));
        assert_eq!(c.candidates, ["日本.txt", "日本語.md"]);
        let c = complete_path(&at(&dir, "日本語"));
        assert_eq!(c.text, at(&dir, "日本語.md"));
    }

    #[test]
    fn the_whole_folder_is_offered_and_hidden_names_only_after_a_dot() {
        let dir = tree();
        let c = complete_path(&at(&dir, ""));
        assert_eq!(c.text, at(&dir, ""), "nothing common to all");
        assert_eq!(c.candidates.len(), 8, "{:?}", c.candidates);
        assert!(!c.candidates.iter().any(|n| n.starts_with('.')));
        let c = complete_path(&at(&dir, "."));
        assert_eq!(c.text, at(&dir, ".hidden.json"));
    }

    #[test]
    fn missing_or_unreadable_folders_complete_nothing() {
        let dir = tree();
        for typed in [
            at(&dir, "no-such-folder/x"),
            at(&dir, "single.jsonl/x"),
            at(&dir, "zzz"),
        ] {
            let c = complete_path(&typed);
            assert_eq!(c.text, typed);
            assert!(c.candidates.is_empty());
        }
        // A folder without read permission (root reads it anyway).
        let locked = dir.path().join("exports");
        std::fs::write(locked.join("inside.json"), "x").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000))
                .expect("chmod");
            let typed = at(&dir, "exports/in");
            let c = complete_path(&typed);
            if std::fs::read_dir(&locked).is_err() {
                assert_eq!(c.text, typed);
            } else {
                assert_eq!(c.text, at(&dir, "exports/inside.json"));
            }
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
    }

    #[test]
    fn tilde_is_the_home_folder_and_stays_as_typed() {
        let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
            return;
        };
        if !home.is_dir() {
            return;
        }
        assert_eq!(complete_path("~").text, "~/");
        let c = complete_path("~/.");
        assert!(c.text.starts_with("~/."), "{}", c.text);
        let dots = std::fs::read_dir(&home)
            .expect("home")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .count();
        assert_eq!(c.candidates.len(), dots, "{:?}", c.candidates);
        for n in &c.candidates {
            assert!(home.join(n.trim_end_matches('/')).exists(), "{n}");
        }
    }

    #[test]
    fn common_start_cuts_on_characters() {
        assert_eq!(common_start("日本語", "日本"), "日本");
        assert_eq!(common_start("abc", "abd"), "ab");
        assert_eq!(common_start("é", "e"), "");
        assert_eq!(common_start("same", "same"), "same");
    }
}
