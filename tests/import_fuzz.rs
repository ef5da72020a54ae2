//! A bounded fuzz test of every importer, run by `cargo test`: small valid
//! files of every format (hand-made, in the shapes of FORMATS.md) are
//! mutated (bits flipped, bytes inserted and deleted, cut at every kind of
//! position, keys duplicated, types swapped, nesting deepened, numbers made
//! huge, UTF-8 broken) and imported through the library into a store that
//! already holds the original file.
//!
//! Each import must end without a panic (nothing catches one: a panic fails
//! the test, after the hook below names the case), and never half done:
//! an error leaves the store exactly as it was (every session, message and
//! outbox row), and a success holds whole sessions whose counts add up to
//! the report (and, for scrollback's own formats, to the file's sessions).
//!
//! The random numbers come from a fixed seed, so every run tries the same
//! cases; `IMPORT_FUZZ_SEED` and `IMPORT_FUZZ_CASES` try others.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;

use scrollback::import::{Format, ImportRequest, import_paths};
use scrollback::jobs::JobControl;
use scrollback::store::{ImportOptions, ImportReport};
use scrollback::{ListQuery, Message, Session, StateFilter, Store};

// ---------------------------------------------------------------------------
// A small seeded random number generator (xorshift64*).
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
}

// ---------------------------------------------------------------------------
// Valid files of every format
// ---------------------------------------------------------------------------

struct Base {
    /// File name: its extension matters to detection.
    file: &'static str,
    format: Format,
    text: &'static str,
}

const BASES: &[Base] = &[
    Base {
        file: "native.json",
        format: Format::Json,
        text: r#"[
  {"uid": "n-1", "name": "alpha", "title": "Alpha", "created_at": "2026-01-02T03:04:05Z",
   "updated_at": "2026-01-02T04:00:00Z", "tags": ["work", "x"],
   "metadata": {"k": "v", "n": [1, 2.5, {"deep": true}]},
   "messages": [
     {"role": "system", "content": "be brief"},
     {"role": "user", "content": "h\u00e9llo \u2713 \"quoted\"", "created_at": "2026-01-02T03:05:00Z"},
     {"role": "assistant", "content": "hi", "model": "m-1", "tokens": {"input": 3, "output": 1},
      "metadata": {"a": 1}, "source_id": "s-1"}]},
  {"name": "beta", "archived_at": "2026-02-01T00:00:00Z",
   "messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "{\"r\": 1}"}]}
]
"#,
    },
    Base {
        file: "native.jsonl",
        format: Format::Jsonl,
        text: concat!(
            r#"{"uid": "l-1", "name": "gamma", "tags": ["a"], "messages": [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two", "model": "m"}]}"#,
            "\n",
            r#"{"uid": "l-2", "name": "delta", "parent": "l-1", "fork_seq": 0, "messages": [{"role": "user", "content": "three"}]}"#,
            "\n",
        ),
    },
    Base {
        file: "notes.json",
        format: Format::SessionFile,
        text: r#"{"messages": [
  {"role": "user", "content": "a question", "timestamp": "2026-03-01T10:00:00Z"},
  {"role": "assistant", "content": [{"type": "text", "text": "an"}, {"type": "text", "text": "answer"}], "model": "m-2", "extra": {"x": 1}},
  {"role": "critic", "content": "skipped and counted"},
  {"role": "tool", "content": {"result": [1, 2]}, "timestamp": 1767323045}
], "metadata": {"project": "p", "n": 2}}
"#,
    },
    Base {
        file: "export.json",
        format: Format::SdkExport,
        text: r#"[
  {"id": "sdk-1", "title": "Plan the launch!", "created_at": 1767323045, "updated_at": "2026-01-03T00:00:00Z",
   "metadata": {"owner": "ana"},
   "messages": [{"role": "user", "content": "plan", "timestamp": "2026-01-02T03:04:05Z"},
                {"role": "assistant", "content": "done", "timestamp": 1767323999000}]},
  {"id": 42, "title": "", "metadata": {}, "messages": [{"role": "user", "content": "numeric id"}]}
]
"#,
    },
    Base {
        file: "session.toon",
        format: Format::Toon,
        text: r#"{"session_id": "t-1", "created_at": "2026-01-02T03:04:05Z",
 "messages": [{"role": "user", "content": "toon as json"}, {"role": "assistant", "content": "yes"}]}
"#,
    },
    Base {
        file: "tabular.toon",
        format: Format::Toon,
        text: "session_id: t-2\ncreated_at: \"2026-01-02T03:04:05Z\"\nmessages[3]{role,content}:\n  user,\"Hello, world\"\n  assistant,Hi there\n  user,\"line1\\nline2\"\n",
    },
    Base {
        file: "list.toon",
        format: Format::Toon,
        text: "session_id: t-3\nmeta:\n  owner: ana\n  tags[2|]: a|b c\nmessages[2]:\n  - role: user\n    content: \"q \\\"quoted\\\"\"\n  - role: assistant\n    content: 42\n",
    },
    Base {
        file: "sharegpt.json",
        format: Format::ShareGpt,
        text: r#"[
  {"id": "c1", "system": "be nice", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]},
  {"id": "c1", "conversations": [{"from": "human", "value": "same id, other text"}, {"from": "function_call", "value": "{\"f\": 1}"},
                                 {"from": "observation", "value": "ok"}, {"from": "weird", "value": "skipped"}]},
  {"conversations": [{"from": "human", "value": "no id"}]}
]
"#,
    },
    Base {
        file: "sharegpt.jsonl",
        format: Format::ShareGpt,
        text: concat!(
            r#"{"id": "j1", "conversations": [{"from": "human", "value": "line one"}, {"from": "gpt", "value": "yes"}]}"#,
            "\n",
            r#"{"id": 7, "system": "", "conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "two"}]}"#,
            "\n",
        ),
    },
    Base {
        file: "sharegpt-messages.json",
        format: Format::ShareGpt,
        text: r#"[{"messages": [{"role": "user", "content": "variant"}, {"role": "assistant", "content": [{"type": "text", "text": "blocks"}]}]}]
"#,
    },
];

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------

/// Bytes that mean something to one parser or another.
const INTERESTING: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"\\",
    b"\n",
    b"\r\n",
    b"\t",
    b" ",
    b"  ",
    b"-",
    b"|",
    b"0",
    b"1",
    b"e",
    b"null",
    b"true",
    b"\\u",
    b"\\ud800",
    b"\xff",
    b"\xc3",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98",
    b"\0",
    b"\x1b[2J",
    b"\xe2\x80\xae",
];

/// Values to put where another value was: other types, huge numbers.
const VALUES: &[&str] = &[
    "null",
    "true",
    "0",
    "-0",
    "1e999999",
    "-1e999999",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "0.000000000000000000000000000001",
    "1767323045",
    "-62135596800000",
    "253402300800000",
    "\"\"",
    "\"x\"",
    "\"2026-13-45T99:99:99Z\"",
    "\"\\u0000\"",
    "[]",
    "{}",
    "[null]",
    "{\"role\": \"user\"}",
    "[{\"role\": \"user\", \"content\": \"injected\"}]",
];

/// Keys to add again (after a `{`): duplicates and keys of the wrong type.
const KEYS: &[&str] = &[
    "\"messages\": [], ",
    "\"messages\": {}, ",
    "\"messages\": null, ",
    "\"name\": \"dup\", ",
    "\"name\": 7, ",
    "\"name\": \"bad/name\", ",
    "\"name\": \"\", ",
    "\"uid\": \"n-1\", ",
    "\"uid\": [], ",
    "\"role\": \"user\", ",
    "\"role\": 1, ",
    "\"content\": {\"a\": [1]}, ",
    "\"id\": null, ",
    "\"session_id\": {}, ",
    "\"conversations\": \"x\", ",
    "\"from\": null, ",
    "\"tags\": [1, 2], ",
    "\"tags\": [\"a\", \"a\", \"\"], ",
    "\"metadata\": [], ",
    "\"created_at\": 1e300, ",
    "\"tokens\": {\"input\": -1}, ",
    "\"fork_seq\": -1, ",
    "\"parent\": \"nobody\", ",
];

/// What was done to a file, for the case's name.
fn mutate(rng: &mut Rng, base: &[u8]) -> (Vec<u8>, String) {
    let mut b = base.to_vec();
    let rounds = 1 + usize::from(rng.percent(30)) + usize::from(rng.percent(10));
    let mut what = Vec::new();
    for _ in 0..rounds {
        let at = rng.below(b.len() + 1);
        match rng.below(12) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                let bit = rng.below(8);
                b[i] ^= 1 << bit;
                what.push(format!("flip bit {bit} at {i}"));
            }
            1 => {
                let ins = rng.pick(INTERESTING);
                b.splice(at..at, ins.iter().copied());
                what.push(format!("insert {:?} at {at}", String::from_utf8_lossy(ins)));
            }
            2 if !b.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                let start = at.min(end);
                b.drain(start..end);
                what.push(format!("delete {start}..{end}"));
            }
            3 => {
                b.truncate(at);
                what.push(format!("cut at {at}"));
            }
            4 => {
                // After a random `{`: a key again, or of the wrong type.
                let opens: Vec<usize> = positions(&b, b'{');
                if let Some(&i) = opens.get(rng.below(opens.len().max(1))) {
                    let key = rng.pick(KEYS);
                    b.splice(i + 1..=i, key.bytes());
                    what.push(format!("key {key:?} after {i}"));
                }
            }
            5 => {
                // A value (after a `:`) replaced by one of another type.
                let colons = positions(&b, b':');
                if let Some(&i) = colons.get(rng.below(colons.len().max(1))) {
                    let end = value_end(&b, i + 1);
                    let v = rng.pick(VALUES);
                    b.splice(i + 1..end, format!(" {v}").bytes());
                    what.push(format!("value {v:?} at {i}"));
                }
            }
            6 => {
                let n = *rng.pick(&[1usize, 127, 128, 129, 3_000]);
                let (open, close) = if rng.percent(50) {
                    ("[", "]")
                } else {
                    ("{\"a\":", "}")
                };
                let nest = open.repeat(n) + "0" + &close.repeat(n);
                b.splice(at..at, nest.bytes());
                what.push(format!("nest {n} at {at}"));
            }
            7 => {
                // TOON nests by indentation: deeper and deeper `a:` lines.
                let n = *rng.pick(&[3usize, 130, 400]);
                let mut lines = String::from("\n");
                for level in 0..n {
                    lines.push_str(&" ".repeat(level));
                    lines.push_str("a:\n");
                }
                let line_start = b[..at]
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(0, |i| i + 1);
                b.splice(line_start..line_start, lines.bytes());
                what.push(format!("indent {n} at {line_start}"));
            }
            8 if !b.is_empty() => {
                // A piece of the file again, somewhere else.
                let start = rng.below(b.len());
                let end = (start + 1 + rng.below(64)).min(b.len());
                let piece = b[start..end].to_vec();
                b.splice(at..at, piece);
                what.push(format!("copy {start}..{end} to {at}"));
            }
            9 => {
                // A piece of another format's file.
                let other = rng.pick(BASES).text.as_bytes();
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(80)).min(other.len());
                b.splice(at..at, other[start..end].iter().copied());
                what.push(format!("splice {start}..{end} of another at {at}"));
            }
            10 => {
                // A length in brackets (a TOON array header) made absurd.
                let lengths: Vec<usize> = (1..b.len())
                    .filter(|&i| b[i - 1] == b'[' && b[i].is_ascii_digit())
                    .collect();
                if let Some(&i) = lengths.get(rng.below(lengths.len().max(1))) {
                    let end = i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let n = rng.pick(&[
                        "0",
                        "99999999999999",
                        "18446744073709551615",
                        "18446744073709551616",
                        "-1",
                    ]);
                    b.splice(i..end, n.bytes());
                    what.push(format!("length {n} at {i}"));
                }
            }
            _ => {
                // Digits made huge.
                let digits: Vec<usize> = (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
                if let Some(&i) = digits.get(rng.below(digits.len().max(1))) {
                    let big = "9".repeat(1 + rng.below(400));
                    b.splice(i..i, big.bytes());
                    what.push(format!("huge number at {i}"));
                }
            }
        }
    }
    (b, what.join(", "))
}

fn positions(b: &[u8], c: u8) -> Vec<usize> {
    (0..b.len()).filter(|&i| b[i] == c).collect()
}

/// Where the JSON value starting at `from` ends, roughly: at the next `,`,
/// `}` or `]` outside strings and brackets, or at a new line.
fn value_end(b: &[u8], from: usize) -> usize {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' | b',' | b'\n' if depth == 0 => return i,
                b'}' | b']' => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    b.len()
}

/// Cuts at every kind of position: around every structural byte, inside
/// strings, numbers and keys, at the end of every line.
fn cut_points(text: &[u8], rng: &mut Rng) -> Vec<usize> {
    let mut points: Vec<usize> = (0..=text.len())
        .filter(|&i| {
            let near = |j: Option<&u8>| j.is_some_and(|c| b"{}[],:\"\n\\|-".contains(c));
            near(text.get(i)) || (i > 0 && near(text.get(i - 1)))
        })
        .collect();
    for _ in 0..6 {
        points.push(rng.below(text.len() + 1));
    }
    points.sort_unstable();
    points.dedup();
    points
}

// ---------------------------------------------------------------------------
// The store before and after
// ---------------------------------------------------------------------------

/// Everything an import may change, as it can be compared.
#[derive(Debug, PartialEq)]
struct Snapshot {
    sessions: Vec<(Session, Vec<Message>)>,
    outbox: u64,
}

fn snapshot(store: &Store) -> Snapshot {
    let mut list = store
        .list(&ListQuery {
            state: StateFilter::All,
            ..ListQuery::default()
        })
        .unwrap();
    list.sort_by(|a, b| a.uid.0.cmp(&b.uid.0));
    let sessions = list
        .into_iter()
        .map(|s| {
            let messages = store.all_messages(s.id).unwrap();
            (s, messages)
        })
        .collect();
    Snapshot {
        sessions,
        outbox: store.outbox_len().unwrap(),
    }
}

/// A store holding the base file, imported whole.
fn store_with(path: &Path, format: Format) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, path, Some(format), false).unwrap();
    store
}

fn import(
    store: &mut Store,
    path: &Path,
    format: Option<Format>,
    partial: bool,
) -> scrollback::Result<ImportReport> {
    import_paths(
        store,
        &ImportRequest {
            paths: &[path.to_path_buf()],
            format,
            options: ImportOptions::default(),
            partial,
            found: false,
            progress: &|_, _| {},
            control: &JobControl::new(),
        },
    )
}

/// The sessions of a file of scrollback's own formats, when it is valid JSON.
fn native_sessions(format: Format, bytes: &[u8]) -> Option<usize> {
    match format {
        Format::Json => match serde_json::from_slice::<serde_json::Value>(bytes).ok()? {
            serde_json::Value::Array(items) => Some(items.len()),
            serde_json::Value::Object(_) => Some(1),
            _ => None,
        },
        Format::Jsonl => {
            let text = std::str::from_utf8(bytes).ok()?;
            let mut n = 0;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                serde_json::from_str::<serde_json::Value>(line).ok()?;
                n += 1;
            }
            Some(n)
        }
        _ => None,
    }
}

/// Checks a successful import: every session whole, counts adding up.
fn check_success(case: &str, before: &Snapshot, after: &Snapshot, report: &ImportReport) {
    let count = |s: &Snapshot| s.sessions.iter().map(|(_, m)| m.len() as u64).sum::<u64>();
    assert_eq!(
        after.sessions.len() as u64,
        before.sessions.len() as u64 + report.sessions_added,
        "{case}: sessions in the store and the report disagree: {report:?}"
    );
    assert_eq!(
        count(after),
        count(before) + report.messages_added,
        "{case}: messages in the store and the report disagree: {report:?}"
    );
    for (s, messages) in &after.sessions {
        assert_eq!(
            s.message_count,
            messages.len() as u64,
            "{case}: session {} counts {} messages and holds {}",
            s.name,
            s.message_count,
            messages.len()
        );
        let seqs: Vec<u64> = messages.iter().map(|m| m.seq).collect();
        let dense: Vec<u64> = (0..messages.len() as u64).collect();
        assert_eq!(seqs, dense, "{case}: seqs of {}", s.name);
    }
    // Sessions that were there are still there, with their messages first.
    for (s, messages) in &before.sessions {
        let Some((_, now)) = after.sessions.iter().find(|(a, _)| a.uid == s.uid) else {
            panic!("{case}: session {} went away", s.name);
        };
        assert!(
            now.len() >= messages.len() && now[..messages.len()] == messages[..],
            "{case}: the messages of {} changed",
            s.name
        );
    }
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

/// The case being run, for the panic hook.
static CASE: Mutex<String> = Mutex::new(String::new());

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_files_of_every_format_import_whole_or_not_at_all() {
    let seed = env_number("IMPORT_FUZZ_SEED", 0x5C01_1BAC);
    let random_cases = env_number("IMPORT_FUZZ_CASES", 3_000);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let case = CASE.lock().map(|c| c.clone()).unwrap_or_default();
        eprintln!("import fuzz: panic in case {case} (seed {seed:#x})");
        default_hook(info);
    }));

    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    let started = std::time::Instant::now();
    for base in BASES {
        let original = dir.path().join("original").join(base.file);
        std::fs::create_dir_all(original.parent().unwrap()).unwrap();
        std::fs::write(&original, base.text).unwrap();
        // The originals import, detected and forced.
        assert_eq!(
            scrollback::import::detect(&original).unwrap(),
            base.format,
            "{}",
            base.file
        );
        let mut cases: Vec<(Vec<u8>, String)> = cut_points(base.text.as_bytes(), &mut rng)
            .into_iter()
            .map(|at| (base.text.as_bytes()[..at].to_vec(), format!("cut at {at}")))
            .collect();
        for _ in 0..random_cases / BASES.len() as u64 {
            cases.push(mutate(&mut rng, base.text.as_bytes()));
        }
        let mut store: Option<Store> = None;
        for (i, (bytes, what)) in cases.iter().enumerate() {
            let name = format!("{} #{i}: {what}", base.file);
            *CASE.lock().unwrap() = name.clone();
            let path = dir.path().join("mutated").join(base.file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            let format = match rng.below(4) {
                0 => Some(base.format),
                1 => Some(*rng.pick(&Format::ALL.map(|(f, _)| f))),
                _ => None,
            };
            let partial = rng.percent(25);
            let s = store.get_or_insert_with(|| store_with(&original, base.format));
            let before = snapshot(s);
            let outcome = import(s, &path, format, partial);
            let after = snapshot(s);
            match outcome {
                Err(e) => {
                    stats.errors += 1;
                    let text = e.to_string();
                    assert!(!text.is_empty(), "{name}: an empty error");
                    assert!(
                        after == before,
                        "{name}: the import failed ({text}) and still changed the store"
                    );
                }
                Ok(report) => {
                    stats.imported += 1;
                    check_success(&name, &before, &after, &report);
                    let read_as = format.or_else(|| scrollback::import::detect(&path).ok());
                    if let (Some(f), None) = (read_as, &report.truncated)
                        && let Some(n) = native_sessions(f, bytes)
                    {
                        let met = report.sessions_added
                            + report.sessions_grown
                            + report.sessions_unchanged;
                        assert_eq!(
                            met, n as u64,
                            "{name}: the file holds {n} sessions, the import met {met}: {report:?}"
                        );
                    }
                    if after != before {
                        // Start the next case from the original again.
                        store = None;
                    }
                }
            }
        }
        stats.cases += cases.len();
    }
    let mut summary = String::new();
    write!(
        summary,
        "import fuzz: {} cases ({} imported, {} refused) in {:.1?}",
        stats.cases,
        stats.imported,
        stats.errors,
        started.elapsed()
    )
    .unwrap();
    eprintln!("{summary}");
    // Mutations must not all be refused (then the test would check little).
    assert!(stats.imported > stats.cases / 20, "{summary}");
    assert!(stats.errors > stats.cases / 4, "{summary}");
}

#[derive(Default)]
struct Stats {
    cases: usize,
    imported: usize,
    errors: usize,
}
