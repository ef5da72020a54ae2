//! Deterministic corpus generation for the benchmarks: seeded, so every run
//! measures the same data. Text mixes prose and code, with some long messages.
#![allow(dead_code)]

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
