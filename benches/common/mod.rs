//! Deterministic corpus generation for the benchmarks: seeded, so every run
//! measures the same data. Text mixes prose and code, with some long messages.
#![allow(dead_code)]

pub mod bigstore;

use std::io::Write;
use std::path::Path;

/// xorshift64*: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

const WORDS: &[&str] = &[
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "that",
    "for",
    "it",
    "with",
    "as",
    "on",
    "be",
    "this",
    "session",
    "model",
    "query",
    "index",
    "store",
    "message",
    "branch",
    "merge",
    "token",
    "search",
    "latency",
    "throughput",
    "cache",
    "thread",
    "async",
    "future",
    "vector",
    "matrix",
    "schema",
    "migration",
    "deploy",
    "server",
    "client",
    "request",
    "response",
    "error",
    "retry",
    "timeout",
    "database",
    "transaction",
    "commit",
    "rollback",
    "parser",
    "lexer",
    "compiler",
    "function",
    "variable",
    "closure",
    "iterator",
    "pipeline",
    "benchmark",
    "profile",
    "memory",
    "allocation",
    "garden",
    "recipe",
    "travel",
    "budget",
    "history",
    "physics",
    "poem",
    "story",
    "summary",
    "explain",
    "compare",
    "improve",
    "rewrite",
    "translate",
    "analyze",
    "design",
    "review",
];

const CODE: &[&str] = &[
    "fn parse_config(path: &Path) -> Result<Config> {\n    let text = std::fs::read_to_string(path)?;\n    toml::from_str(&text).map_err(Into::into)\n}",
    "def train_model(data, epochs=10):\n    for epoch in range(epochs):\n        loss = step(data)\n        print(f\"epoch {epoch}: {loss:.4f}\")",
    "SELECT user_id, count(*) AS n FROM events WHERE created_at > now() - interval '7 days' GROUP BY user_id ORDER BY n DESC;",
    "const result = await fetch(`/api/sessions/${id}`).then((r) => r.json());\nsetSessions((prev) => [...prev, result]);",
    "let arr = np.array([[1, 2], [3, 4]])\nprint(arr.T @ arr)",
];

/// A message of roughly `target` bytes: prose, sometimes with a code block.
pub fn text(rng: &mut Rng, target: usize) -> String {
    let mut s = String::with_capacity(target + 64);
    while s.len() < target {
        if rng.below(12) == 0 {
            s.push_str("\n```\n");
            s.push_str(CODE[rng.below(CODE.len())]);
            s.push_str("\n```\n");
        } else {
            s.push_str(WORDS[rng.below(WORDS.len())]);
            s.push(if rng.below(15) == 0 { '.' } else { ' ' });
        }
    }
    s
}

/// Size of the next message: mostly short to medium, 1 in 200 very long.
pub fn message_len(rng: &mut Rng) -> usize {
    match rng.below(200) {
        0 => 8_000 + rng.below(24_000),
        1..=40 => 800 + rng.below(1_600),
        _ => 80 + rng.below(600),
    }
}

/// Writes `sessions` sessions of `per_session` messages as scrollback JSONL.
/// Returns the bytes written.
pub fn write_jsonl(
    path: &Path,
    seed: u64,
    sessions: usize,
    per_session: usize,
    name_prefix: &str,
) -> u64 {
    let mut rng = Rng::new(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create corpus file"));
    let base: i64 = 1_735_689_600; // 2025-01-01
    let mut bytes = 0u64;
    for s in 0..sessions {
        let start = base + i64::try_from(s).unwrap_or(0) * 600;
        let messages: Vec<serde_json::Value> = (0..per_session)
            .map(|i| {
                let role = if i % 2 == 0 { "user" } else { "assistant" };
                let at = jiff::Timestamp::from_second(start + i64::try_from(i).unwrap_or(0) * 30).expect("valid time");
                let len = message_len(&mut rng);
                let mut m = serde_json::json!({"role": role, "content": text(&mut rng, len), "created_at": at.to_string()});
                if role == "assistant" {
                    m["model"] = serde_json::Value::from(if rng.below(2) == 0 { "gpt-4o" } else { "claude-sonnet-4-5" });
                }
                m
            })
            .collect();
        let line = serde_json::json!({
            "uid": format!("{seed:04x}{s:012x}-bench"),
            "name": format!("{name_prefix}-{s}"),
            "title": text(&mut rng, 30).trim().to_string(),
            "tags": [WORDS[rng.below(WORDS.len())]],
            "messages": messages,
        });
        let text = line.to_string();
        bytes += text.len() as u64 + 1;
        writeln!(out, "{text}").expect("write corpus");
    }
    out.flush().expect("flush corpus");
    bytes
}

/// Peak resident set size of this process, in MB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Median of a set of durations, in milliseconds.
pub fn median_ms(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The number of cores, for the report.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

// ---------------------------------------------------------------------------
// The search corpus: a Zipf-distributed vocabulary (real words first, then
// made-up words, so rare words exist and can be named), prose with a few
// stock phrases, code blocks with identifiers, some very long messages.

/// Size of the search corpus's vocabulary.
pub const VOCAB: usize = 1_000_000;

/// The most frequent words of the search corpus, most frequent first.
pub const HEAD: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "it",
    "you",
    "that",
    "for",
    "this",
    "with",
    "on",
    "as",
    "are",
    "be",
    "can",
    "not",
    "use",
    "if",
    "or",
    "by",
    "from",
    "an",
    "your",
    "we",
    "will",
    "have",
    "at",
    "but",
    "all",
    "which",
    "one",
    "there",
    "more",
    "when",
    "so",
    "also",
    "here",
    "error",
    "function",
    "data",
    "file",
    "code",
    "value",
    "return",
    "string",
    "type",
    "example",
    "session",
    "model",
    "query",
    "index",
    "store",
    "message",
    "user",
    "server",
    "request",
    "response",
    "time",
    "name",
    "list",
    "result",
    "test",
    "config",
    "output",
    "input",
    "step",
    "version",
    "memory",
    "cache",
    "thread",
    "async",
    "timeout",
    "retry",
    "database",
    "transaction",
    "commit",
    "rollback",
    "branch",
    "merge",
    "token",
    "search",
    "latency",
    "throughput",
    "vector",
    "matrix",
    "schema",
    "migration",
    "deploy",
    "client",
    "parser",
    "lexer",
    "compiler",
    "variable",
    "closure",
    "iterator",
    "pipeline",
    "benchmark",
    "profile",
    "allocation",
    "explain",
    "compare",
    "improve",
    "rewrite",
    "translate",
    "analyze",
    "design",
    "review",
    "summary",
    "history",
    "physics",
    "poem",
    "story",
    "recipe",
    "travel",
    "budget",
    "garden",
    "lambda",
    "socket",
    "kernel",
    "docker",
    "cluster",
    "router",
    "widget",
    "plugin",
    "tensor",
    "gradient",
    "optimizer",
    "dataset",
    "embedding",
    "prompt",
    "context",
    "window",
    "serialize",
    "deserialize",
    "interface",
    "protocol",
    "payload",
    "header",
    "cookie",
    "session_id",
    "endpoint",
    "middleware",
    "handler",
    "callback",
    "promise",
    "future",
    "mutex",
    "channel",
    "sender",
    "receiver",
    "borrow",
    "lifetime",
    "trait",
    "generic",
];

/// Two-letter syllables of the made-up words (a fixed width keeps them unique).
const SYLLABLES: [&str; 32] = [
    "ba", "be", "bo", "da", "de", "di", "do", "fa", "fe", "ga", "go", "ka", "ki", "ko", "la", "le",
    "li", "lo", "ma", "mi", "mo", "na", "ne", "no", "pa", "pi", "ra", "re", "ri", "sa", "ta", "vu",
];

/// Stock phrases sprinkled in prose (1 sentence in 60), for phrase queries.
pub const PHRASES: &[&str] = &[
    "let me know if you have any questions",
    "thank you for the detailed explanation",
    "as an AI language model",
    "here is an example",
    "step by step",
];

const TAGS: &[&str] = &[
    "work", "personal", "rust", "python", "research", "ops", "writing", "travel",
];
const SOURCES: &[&str] = &["chatgpt", "claude", "cursor", "aider"];

/// The word of rank `rank` (0 = most frequent): a real word for the first
/// few, then a made-up word of three or more syllables.
pub fn vocab_word(rank: usize) -> String {
    let mut s = String::new();
    push_vocab_word(&mut s, rank);
    s
}

fn push_vocab_word(s: &mut String, rank: usize) {
    if let Some(w) = HEAD.get(rank) {
        s.push_str(w);
        return;
    }
    let mut n = rank - HEAD.len() + 1024;
    let mut digits = [0usize; 8];
    let mut k = 0;
    while n > 0 {
        digits[k] = n % 32;
        n /= 32;
        k += 1;
    }
    for d in digits[..k].iter().rev() {
        s.push_str(SYLLABLES[*d]);
    }
}

/// A rank in `0..n` with probability about proportional to 1 / (rank + 1).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn zipf(rng: &mut Rng, n: usize) -> usize {
    let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    let r = ((n as f64 + 1.0).powf(u) - 1.0) as usize;
    r.min(n - 1)
}

fn push_capitalized(s: &mut String, rank: usize) {
    let at = s.len();
    push_vocab_word(s, rank);
    if let Some(b) = s.get_mut(at..=at) {
        b.make_ascii_uppercase();
    }
}

/// A code identifier from the top of the vocabulary.
fn ident(rng: &mut Rng, s: &mut String) {
    push_vocab_word(s, zipf(rng, 20_000));
}

fn code_block(rng: &mut Rng, s: &mut String) {
    s.push_str("\n```\n");
    let lines = 3 + rng.below(12);
    for _ in 0..lines {
        match rng.below(8) {
            0 => {
                s.push_str("fn ");
                ident(rng, s);
                s.push('_');
                ident(rng, s);
                s.push_str("(&self, ");
                ident(rng, s);
                s.push_str(": &");
                push_capitalized(s, zipf(rng, 20_000));
                s.push_str(") -> Result<");
                push_capitalized(s, zipf(rng, 20_000));
                s.push_str("> {");
            }
            1 => {
                s.push_str("    let ");
                ident(rng, s);
                s.push_str(" = self.");
                ident(rng, s);
                s.push('.');
                ident(rng, s);
                s.push('(');
                ident(rng, s);
                s.push_str(")?;");
            }
            2 => {
                s.push_str("def ");
                ident(rng, s);
                s.push('_');
                ident(rng, s);
                s.push('(');
                ident(rng, s);
                s.push_str(", ");
                ident(rng, s);
                s.push_str("=None):");
            }
            3 => {
                s.push_str("    return ");
                ident(rng, s);
                s.push('.');
                ident(rng, s);
                s.push('(');
                ident(rng, s);
                s.push(')');
            }
            4 => {
                s.push_str("const ");
                ident(rng, s);
                push_capitalized(s, zipf(rng, 20_000));
                s.push_str(" = await ");
                ident(rng, s);
                s.push('.');
                ident(rng, s);
                s.push_str("();");
            }
            5 => {
                s.push_str("SELECT ");
                ident(rng, s);
                s.push_str(", ");
                ident(rng, s);
                s.push_str(" FROM ");
                ident(rng, s);
                s.push_str(" WHERE ");
                ident(rng, s);
                s.push_str(" = ?;");
            }
            _ => s.push_str(CODE[rng.below(CODE.len())]),
        }
        s.push('\n');
    }
    s.push_str("```\n");
}

fn sentence(rng: &mut Rng, s: &mut String) {
    if rng.below(60) == 0 {
        let p = PHRASES[rng.below(PHRASES.len())];
        s.push_str(&p[..1].to_ascii_uppercase());
        s.push_str(&p[1..]);
        s.push_str(". ");
        return;
    }
    let words = 5 + rng.below(16);
    for i in 0..words {
        if i == 0 {
            push_capitalized(s, zipf(rng, VOCAB));
        } else {
            push_vocab_word(s, zipf(rng, VOCAB));
        }
        s.push(match (i + 1 == words, rng.below(12)) {
            (true, _) => '.',
            (false, 0) => ',',
            _ => ' ',
        });
        if rng.below(12) == 0 && i + 1 < words {
            s.push(' ');
        }
    }
    s.push(if rng.below(6) == 0 { '\n' } else { ' ' });
}

/// A message of roughly `target` bytes: prose, with code blocks in one of
/// `code_in` messages.
pub fn search_text(rng: &mut Rng, target: usize, code_in: usize) -> String {
    let mut s = String::with_capacity(target + 256);
    let code = rng.below(code_in) == 0;
    while s.len() < target {
        if code && rng.below(4) == 0 {
            code_block(rng, &mut s);
        } else {
            sentence(rng, &mut s);
        }
    }
    s
}

/// Size of the next message of the search corpus: as [`message_len`], and
/// 1 in 10,000 very long (100 to 300 kB).
pub fn search_message_len(rng: &mut Rng) -> usize {
    if rng.below(10_000) == 0 {
        100_000 + rng.below(200_000)
    } else {
        message_len(rng)
    }
}

/// What [`write_search_jsonl`] wrote.
pub struct SearchCorpus {
    pub sessions: usize,
    pub messages: u64,
    pub bytes: u64,
    /// Name of the one long session.
    pub long_session: String,
}

/// Writes the search corpus as scrollback JSONL: `sessions` sessions of 50
/// messages plus, in the middle, one session of `long` messages. Sessions
/// start 10 minutes apart from 2025-01-01, messages 30 s apart; each has one
/// or two tags and a source.
pub fn write_search_jsonl(path: &Path, seed: u64, sessions: usize, long: usize) -> SearchCorpus {
    let mut rng = Rng::new(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create corpus file"));
    let base: i64 = 1_735_689_600; // 2025-01-01
    let mut bytes = 0u64;
    let mut messages = 0u64;
    let long_at = sessions / 2;
    for s in 0..=sessions {
        let n = if s == long_at { long } else { 50 };
        let start = base + i64::try_from(s).unwrap_or(0) * 600;
        let msgs: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let user = i % 2 == 0;
                let at = jiff::Timestamp::from_second(start + i64::try_from(i).unwrap_or(0) * 30)
                    .expect("valid time");
                let len = search_message_len(&mut rng);
                let content = search_text(&mut rng, len, if user { 10 } else { 3 });
                let mut m = serde_json::json!({
                    "role": if user { "user" } else { "assistant" },
                    "content": content,
                    "created_at": at.to_string(),
                });
                if !user {
                    m["model"] = serde_json::Value::from(if rng.below(2) == 0 {
                        "gpt-4o"
                    } else {
                        "claude-sonnet-4-5"
                    });
                }
                m
            })
            .collect();
        messages += n as u64;
        let mut tags = vec![TAGS[rng.below(TAGS.len())]];
        if rng.below(3) == 0 {
            tags.push(TAGS[rng.below(TAGS.len())]);
        }
        let name = if s == long_at {
            "gen-long".to_string()
        } else {
            format!("gen-{s}")
        };
        let line = serde_json::json!({
            "uid": format!("{seed:04x}{s:012x}-search"),
            "name": name,
            "title": search_text(&mut rng, 30, usize::MAX).trim().to_string(),
            "tags": tags,
            "source": SOURCES[rng.below(SOURCES.len())],
            "messages": msgs,
        });
        let text = line.to_string();
        bytes += text.len() as u64 + 1;
        writeln!(out, "{text}").expect("write corpus");
    }
    out.flush().expect("flush corpus");
    SearchCorpus {
        sessions: sessions + 1,
        messages,
        bytes,
        long_session: "gen-long".to_string(),
    }
}

/// Resident set size of this process now, in MB (Linux; 0 elsewhere).
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak RSS to the current RSS (Linux >= 4.0). Whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The `p`-th percentile (0..=100) of samples, nearest rank.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

// ---------------------------------------------------------------------------
// The TUI benchmark's corpus (benches/tui.rs): short messages of words from
// a vocabulary of common words followed by made-up ones, drawn Zipf-like so
// that some words are frequent and most are rare.

/// Size of the TUI corpus's vocabulary.
pub const TUI_VOCAB: usize = 50_000;

/// The word of rank `rank`: a common word, then made-up words of two or
/// more syllables (each rank its own word).
pub fn tui_word(rank: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "be", "do", "fu", "ga", "hi", "jo", "pe",
        "so",
    ];
    if let Some(w) = WORDS.get(rank) {
        return (*w).to_string();
    }
    let mut n = rank - WORDS.len() + 16;
    let mut parts = Vec::new();
    while n > 0 {
        parts.push(SYL[n % 16]);
        n /= 16;
    }
    parts.iter().rev().copied().collect()
}

/// A rank in `0..n`, about proportional to 1 / (rank + 1).
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
pub fn tui_zipf(rng: &mut Rng, n: usize) -> usize {
    let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    let r = ((n as f64 + 1.0).powf(u) - 1.0) as usize;
    r.min(n - 1)
}

/// One line of prose of about `target` bytes from the TUI vocabulary.
pub fn tui_text(rng: &mut Rng, target: usize) -> String {
    let mut s = String::with_capacity(target + 16);
    while s.len() < target {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&tui_word(tui_zipf(rng, TUI_VOCAB)));
    }
    s.push('.');
    s
}

/// A field of /proc/PID/status in MB (`VmRSS`, `VmHWM`, `RssAnon`...), or
/// `None` when it cannot be read (not Linux, process gone).
#[allow(clippy::cast_precision_loss)]
pub fn proc_status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb as f64 / 1024.0)
}

// ---------------------------------------------------------------------------
// Claude Code homes (benches/import.rs, benches/sync.rs): session files as
// Claude Code writes them, tool output heavy.

/// Writes a Claude Code projects folder: `<root>/<project>/<session>.jsonl`,
/// each file a chain of prompts, replies split over lines (thinking, text,
/// tool use, one block each), and tool results of 1-20 KB, one in 40 of
/// 200 KB. The first `large` files are grown past `large_size` each; the
/// others to `small.0` bytes plus up to `small.1` more (an exchange is never
/// cut, so a file ends a little past its size). Returns the bytes and the
/// paths of one small and one large file.
pub fn generate_claude(
    root: &Path,
    files: usize,
    large: usize,
    large_size: u64,
    small: (u64, usize),
) -> (u64, std::path::PathBuf, std::path::PathBuf) {
    let _ = std::fs::remove_dir_all(root);
    let mut rng = Rng::new(7);
    let mut bytes = 0u64;
    let mut small_path = std::path::PathBuf::new();
    let mut big = std::path::PathBuf::new();
    for f in 0..files {
        let project = root.join(format!("-home-dev-project-{:02}", f % 50));
        std::fs::create_dir_all(&project).expect("create project folder");
        let sid = format!("{:08x}-0000-4000-8000-{:012x}", f, f * 7919);
        let path = project.join(format!("{sid}.jsonl"));
        let target: u64 = if f < large {
            large_size
        } else {
            small.0 + rng.below(small.1) as u64
        };
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(&path).expect("create session file"));
        let mut w = ClaudeWriter::new(&sid, f);
        while w.bytes < target {
            w.exchange(&mut rng, &mut out);
        }
        out.flush().expect("write session file");
        bytes += w.bytes;
        if f < large {
            big.clone_from(&path);
        } else if small_path.as_os_str().is_empty() {
            small_path.clone_from(&path);
        }
    }
    (bytes, small_path, big)
}

/// Writes the lines of one Claude Code session.
pub struct ClaudeWriter {
    sid: String,
    parent: Option<String>,
    n: u64,
    at: i64,
    pub bytes: u64,
}

impl ClaudeWriter {
    pub fn new(sid: &str, f: usize) -> Self {
        ClaudeWriter {
            sid: sid.to_string(),
            parent: None,
            n: 0,
            at: 1_750_000_000 + i64::try_from(f).unwrap_or(0) * 3600,
            bytes: 0,
        }
    }

    /// Goes on from the last line of a session file: its session, its
    /// uuid as the next line's parent, its line number and time.
    fn continuing(path: &Path) -> Self {
        use std::io::BufRead;
        let f = std::fs::File::open(path).expect("open session file");
        let last = std::io::BufReader::new(f)
            .lines()
            .map(|l| l.expect("read session file"))
            .filter(|l| !l.trim().is_empty())
            .last()
            .expect("a session file has lines");
        let last: serde_json::Value = serde_json::from_str(&last).expect("a JSON line");
        let sid = last["sessionId"].as_str().expect("a session id");
        let mut w = ClaudeWriter::new(sid, 0);
        w.parent = last["uuid"].as_str().map(str::to_string);
        w.n = last["uuid"]
            .as_str()
            .and_then(|u| u.rsplit('-').next())
            .and_then(|n| u64::from_str_radix(n, 16).ok())
            .unwrap_or(0x00F0_0000);
        if let Some(t) = last["timestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        {
            w.at = t.as_second();
        }
        w
    }

    fn line(&mut self, out: &mut impl Write, kind: &str, message: &serde_json::Value) {
        self.n += 1;
        self.at += 7;
        let uuid = format!("{}-{:08x}", &self.sid[..18], self.n);
        let line = serde_json::json!({
            "parentUuid": self.parent,
            "isSidechain": false,
            "userType": "external",
            "cwd": "/home/dev/project",
            "sessionId": self.sid,
            "version": "2.0.14",
            "gitBranch": "main",
            "type": kind,
            "message": message,
            "uuid": uuid,
            "timestamp": jiff::Timestamp::from_second(self.at).expect("valid time").to_string(),
        });
        let text = line.to_string();
        self.bytes += text.len() as u64 + 1;
        writeln!(out, "{text}").expect("write session line");
        self.parent = Some(uuid);
    }

    /// A prompt, a reply split over three lines, the tool's result, and
    /// a closing reply.
    pub fn exchange(&mut self, rng: &mut Rng, out: &mut impl Write) {
        use serde_json::json;
        let n = 60 + rng.below(400);
        let prompt = text(rng, n);
        let reply = 100 + rng.below(600);
        let closing = 80 + rng.below(300);
        self.line(out, "user", &json!({"role": "user", "content": prompt}));
        let id = format!("msg_{:016x}", rng.next());
        let call = format!("toolu_{:016x}", rng.next());
        let usage = json!({"input_tokens": 1200, "output_tokens": 300,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 9000});
        for block in [
            json!({"type": "thinking", "thinking": text(rng, 200), "signature": "c2ln"}),
            json!({"type": "text", "text": text(rng, reply)}),
            json!({"type": "tool_use", "id": call, "name": "Bash",
                   "input": {"command": "cargo test --all", "description": "run the tests"}}),
        ] {
            self.line(
                out,
                "assistant",
                &json!({"model": "claude-sonnet-4-5", "id": id, "type": "message",
                       "role": "assistant", "content": [block], "stop_reason": null,
                       "usage": usage}),
            );
        }
        let size = if rng.below(40) == 0 {
            200_000
        } else {
            1_000 + rng.below(19_000)
        };
        let output = text(rng, size);
        self.line(
            out,
            "user",
            &json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": call, "content": output, "is_error": false}
            ]}),
        );
        self.reply(rng, out, closing);
    }

    /// A reply of text that ends the turn.
    fn reply(&mut self, rng: &mut Rng, out: &mut impl Write, len: usize) {
        let id = format!("msg_{:016x}", rng.next());
        let usage = serde_json::json!({"input_tokens": 1200, "output_tokens": 300,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 9000});
        self.line(
            out,
            "assistant",
            &serde_json::json!({"model": "claude-sonnet-4-5", "id": id, "type": "message",
                   "role": "assistant", "content": [{"type": "text", "text": text(rng, len)}],
                   "stop_reason": "end_turn", "usage": usage}),
        );
    }
}

/// Appends one exchange (five lines, a tool's output among them) to a
/// session file, as Claude Code does. Returns the bytes appended.
pub fn append_exchange(path: &Path) -> u64 {
    let mut w = ClaudeWriter::continuing(path);
    let mut buf = Vec::new();
    w.exchange(&mut Rng::new(99), &mut buf);
    append(path, &buf);
    w.bytes
}

/// The next message of a session file, as Claude Code writes it: a prompt
/// that starts with `word`, and its reply (two lines), to be written with
/// [`append`].
pub fn next_message(path: &Path, word: &str) -> Vec<u8> {
    let mut w = ClaudeWriter::continuing(path);
    let mut rng = Rng::new(w.n);
    let mut buf = Vec::new();
    let prompt = format!("{word} {}", text(&mut rng, 200));
    w.line(
        &mut buf,
        "user",
        &serde_json::json!({"role": "user", "content": prompt}),
    );
    w.reply(&mut rng, &mut buf, 400);
    buf
}

/// Appends `bytes` to a file, in one write.
pub fn append(path: &Path, bytes: &[u8]) {
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open session file to append");
    out.write_all(bytes).expect("append to session file");
}

/// A database path in `dir` with no database or index there yet.
pub fn fresh_db(dir: &Path, name: &str) -> std::path::PathBuf {
    let db = dir.join(name);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let _ = std::fs::remove_dir_all(scrollback::search::index_dir(&db));
    db
}

/// What one run of a command took.
pub struct Measured {
    pub secs: f64,
    /// Peak RSS of the process, in MB.
    pub peak_mb: f64,
    /// The most anonymous memory (heap, stacks: RSS less mapped files)
    /// seen while polling, in MB.
    pub peak_anon_mb: f64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs a command to its end, polling its peak RSS (VmHWM only grows, so
/// the last reading before it exits is its peak, give or take the last
/// 20 ms). Its output can be larger than a pipe holds: it is read as it
/// comes.
pub fn run_measured(cmd: &mut std::process::Command) -> Measured {
    use std::process::Stdio;
    let start = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let pid = child.id();
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let mut peak: f64 = 0.0;
    let mut anon: f64 = 0.0;
    loop {
        if let Some(v) = proc_status_mb(pid, "VmHWM") {
            peak = peak.max(v);
        }
        if let Some(v) = proc_status_mb(pid, "RssAnon") {
            anon = anon.max(v);
        }
        if child.try_wait().expect("wait for the command").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Measured {
        secs: start.elapsed().as_secs_f64(),
        peak_mb: peak,
        peak_anon_mb: anon,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    }
}
