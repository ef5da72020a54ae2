//! Library-level tests of full-text search:
//!
//! - recall (and, for plain words, precision) against a brute-force scan of a
//!   generated corpus, with a scan that does not use the tokenizer;
//! - the tokenizer's rules seen through the index (accents, identifiers, CJK,
//!   blobs);
//! - the outbox: every kind of store change reaches the results, a crash
//!   between the store's commit and the index's loses nothing, rows applied
//!   twice give no duplicates;
//! - two processes sharing one index (the real binary against a writer held
//!   here);
//! - automatic rebuilds (missing, damaged, other version), `rebuild`, `repair`;
//! - the shape of results (grouping, pages, snippets) and query errors.

#![allow(clippy::unwrap_used)]
#![allow(clippy::too_many_lines, clippy::cast_possible_truncation)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scrollback::domain::MessageDoc;
use scrollback::search::{Limit, Rebuilt, Results, Search, index_dir};
use scrollback::store::ImportOptions;
use scrollback::{Error, MergeOrder, NewMessage, NewSession, Role, SessionDoc, SessionId, Store};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Every match, no snippets.
fn all() -> Limit {
    Limit {
        limit: 10_000,
        offset: 0,
        archived: false,
        snippets: false,
    }
}

fn run(search: &mut Search, q: &str, limit: Limit) -> Results {
    search
        .query(q, limit)
        .unwrap_or_else(|e| panic!("query {q:?} failed: {e}"))
}

/// Names of the sessions found by `q` (live ones, every page).
fn found(search: &mut Search, q: &str) -> BTreeSet<String> {
    names_of(&run(search, q, all()))
}

/// Names of the sessions found by `q`, archived ones included.
fn found_archived(search: &mut Search, q: &str) -> BTreeSet<String> {
    names_of(&run(
        search,
        q,
        Limit {
            archived: true,
            ..all()
        },
    ))
}

fn names_of(r: &Results) -> BTreeSet<String> {
    let names: BTreeSet<String> = r.hits.iter().map(|h| h.session.name.clone()).collect();
    assert_eq!(names.len(), r.hits.len(), "one hit per session: {r:?}");
    names
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

fn session(store: &mut Store, name: &str, texts: &[&str]) -> SessionId {
    let s = store.create_session(&NewSession::named(name)).unwrap();
    let msgs: Vec<NewMessage> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let role = if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            NewMessage::new(role, *t)
        })
        .collect();
    if !msgs.is_empty() {
        store.add_messages(s.id, &msgs).unwrap();
    }
    s.id
}

fn open(store: &Store) -> Search {
    Search::open(store, &|_, _| {}).unwrap()
}

fn key(id: SessionId) -> u64 {
    u64::try_from(id.0).unwrap()
}

/// The store's message count of every session, keyed as the index keys them.
fn store_counts(store: &Store) -> BTreeMap<u64, u64> {
    store
        .list(&scrollback::ListQuery {
            state: scrollback::StateFilter::All,
            ..scrollback::ListQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| (key(s.id), s.message_count))
        .collect()
}

/// The real binary, on `db`, with HOME and the XDG directories in `home`.
fn sb(home: &Path, db: &Path) -> Command {
    common::scrollback_on(home, db)
}

fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Session names in the output of `search --json`.
fn json_names(out: &Output) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| h["session"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn file_store(dir: &TempDir) -> (PathBuf, Store) {
    let db = dir.path().join("scrollback.db");
    let store = Store::open(&db).unwrap();
    (db, store)
}

/// Deletes every document of these sessions from the index behind the
/// store's back (as a damaged or stale index would be).
fn delete_behind_its_back(db: &Path, ids: &[SessionId]) {
    let index = tantivy::Index::open_in_dir(index_dir(db)).unwrap();
    let field = index.schema().get_field("session").unwrap();
    let mut w = index
        .writer::<tantivy::TantivyDocument>(50_000_000)
        .unwrap();
    for &id in ids {
        w.delete_term(tantivy::Term::from_field_u64(field, key(id)));
    }
    w.commit().unwrap();
    w.wait_merging_threads().unwrap();
}

// ---------------------------------------------------------------------------
// A seeded corpus and a brute-force scan of it
// ---------------------------------------------------------------------------

/// xorshift64: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const ACCENTED: &[&str] = &[
    "café",
    "naïve",
    "résumé",
    "Zürich",
    "façade",
    "jalapeño",
    "über",
];

/// Identifiers and the parts the index also knows them by.
const IDENTIFIERS: &[(&str, &[&str])] = &[
    ("snake_case_name", &["snake", "case", "name"]),
    ("camelCaseName", &["camel", "case", "name"]),
    ("np.array", &["np", "array"]),
    ("std::fs::read", &["std", "fs", "read"]),
];

const JA_WORDS: &[&str] = &[
    "東京",
    "大阪",
    "会議",
    "検索エンジン",
    "明日",
    "予定",
    "資料",
    "データ",
];
const JA_PARTICLES: &[&str] = &["は", "で", "の", "に", "を", "が", "と"];
const KO_WORDS: &[&str] = &["데이터베이스", "서울", "회의", "검색", "엔진"];
const KO_ENDINGS: &[&str] = &["를", "에서", "는", "와", ""];
const ZH_WORDS: &[&str] = &["中国", "搜索", "引擎", "数据", "会议", "今天"];

struct Corpus {
    /// Vocabulary, most frequent first (Zipf).
    vocab: Vec<String>,
    /// Words put into one to three messages each.
    rare: Vec<String>,
    docs: Vec<SessionDoc>,
}

/// ~400 made-up words (consonant-vowel syllables), plus three real words that
/// are also identifier parts.
fn vocabulary(rng: &mut Rng) -> Vec<String> {
    const C: &[&str] = &[
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "pl",
        "tr",
    ];
    const V: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
    let mut words: Vec<String> = vec!["array".into(), "name".into(), "case".into()];
    let mut seen: BTreeSet<String> = words.iter().cloned().collect();
    while words.len() < 400 {
        let mut w = String::new();
        for _ in 0..rng.range(2, 3) {
            w.push_str(rng.pick(C));
            w.push_str(rng.pick(V));
        }
        if rng.chance(300) {
            w.push_str(rng.pick(&["n", "r", "s", "t", "m"]));
        }
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    // Put the real words among the frequent ones, not at the very top.
    words.swap(0, 40);
    words.swap(1, 120);
    words.swap(2, 250);
    words
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn generate() -> Corpus {
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let vocab = vocabulary(&mut rng);
    let mut cumulative = Vec::with_capacity(vocab.len());
    let mut total = 0u64;
    for i in 0..vocab.len() {
        total += 1_000_000 / (i as u64 + 1);
        cumulative.push(total);
    }
    let zipf = |rng: &mut Rng| -> usize {
        let x = rng.next() % total;
        cumulative.partition_point(|&c| c <= x)
    };
    let mut rare = Vec::new();
    let mut seen = BTreeSet::new();
    while rare.len() < 25 {
        let w = format!(
            "x{}{}{}",
            rng.pick(&["b", "d", "k", "l", "m"]),
            rng.pick(&["a", "o", "u"]),
            vocab[rng.below(vocab.len())]
        );
        if seen.insert(w.clone()) {
            rare.push(w);
        }
    }
    let latin = |rng: &mut Rng| -> String {
        let mut s = String::new();
        let n = rng.range(4, 14);
        for i in 0..n {
            if i > 0 {
                s.push_str(if rng.chance(80) { ", " } else { " " });
            }
            if rng.chance(5) {
                let w = rng.pick(ACCENTED);
                s.push_str(&if i == 0 {
                    capitalised(w)
                } else {
                    w.to_string()
                });
            } else if rng.chance(4) {
                let (id, _) = rng.pick(IDENTIFIERS);
                s.push_str(id);
                if id == "np.array" && rng.chance(500) {
                    s.push_str("(x)");
                }
            } else {
                let w = &vocab[zipf(rng)];
                s.push_str(&if i == 0 { capitalised(w) } else { w.clone() });
            }
        }
        s.push_str(rng.pick(&[". ", "? ", ".\n", "! "]));
        s
    };
    let sentence = |rng: &mut Rng| -> String {
        match rng.below(100) {
            0 | 1 => {
                let mut s = String::new();
                for _ in 0..rng.range(2, 4) {
                    s.push_str(rng.pick(JA_WORDS));
                    s.push_str(rng.pick(JA_PARTICLES));
                }
                s.push_str(rng.pick(JA_WORDS));
                s.push_str("です。 ");
                s
            }
            2 => {
                let mut words = Vec::new();
                for _ in 0..rng.range(2, 4) {
                    words.push(format!("{}{}", rng.pick(KO_WORDS), rng.pick(KO_ENDINGS)));
                }
                format!("{} 합니다. ", words.join(" "))
            }
            3 => {
                let mut s = String::new();
                for _ in 0..rng.range(2, 4) {
                    s.push_str(rng.pick(ZH_WORDS));
                }
                s.push_str("。 ");
                s
            }
            _ => latin(rng),
        }
    };
    let mut docs = Vec::new();
    for i in 0..300 {
        let mut messages = Vec::new();
        let n = rng.range(5, 40);
        for j in 0..n {
            let role = if j == 0 && rng.chance(100) {
                Role::System
            } else if j % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            let mut content = String::new();
            for _ in 0..rng.range(1, 4) {
                content.push_str(&sentence(&mut rng));
            }
            messages.push(MessageDoc {
                role: Some(role),
                content: content.trim_end().to_string(),
                ..MessageDoc::default()
            });
        }
        let title: Vec<String> = (0..rng.range(2, 3))
            .map(|_| capitalised(&vocab[zipf(&mut rng)]))
            .collect();
        docs.push(SessionDoc {
            name: Some(format!("g{i:04}")),
            title: title.join(" "),
            messages,
            ..SessionDoc::default()
        });
    }
    for w in &rare {
        for _ in 0..rng.range(1, 3) {
            let d = rng.below(docs.len());
            let m = rng.below(docs[d].messages.len());
            docs[d].messages[m].content.push(' ');
            docs[d].messages[m].content.push_str(w);
        }
    }
    Corpus { vocab, rare, docs }
}

/// Lower case, the accents of the corpus stripped, blanks made single spaces.
/// Deliberately not the index's analyzer.
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
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'á' | 'à' | 'â' | 'ä' => 'a',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
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

/// Whether `w` (normalised) occurs in `text` (normalised) with no word
/// character right before or after it.
fn has_word(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(word_char)
            && !text[i + w.len()..].chars().next().is_some_and(word_char)
    })
}

/// A document as the brute force sees it: a message, or a session's name and title.
struct Doc {
    session: usize,
    role: Option<Role>,
    text: String,
}

/// What a query means, evaluated on one document.
#[derive(Clone, Debug)]
enum Pred {
    Word(String),
    Phrase(String),
    Prefix(String),
    Substring(String),
    Role(Role),
    All(Vec<Pred>),
    Any(Vec<Pred>),
    Not(Box<Pred>),
}

impl Pred {
    fn word(w: &str) -> Pred {
        Pred::Word(norm(w))
    }

    fn eval(&self, d: &Doc) -> bool {
        match self {
            Pred::Word(w) | Pred::Phrase(w) => has_word(&d.text, w),
            Pred::Prefix(p) => d
                .text
                .split(|c: char| !word_char(c))
                .any(|w| w.starts_with(p.as_str())),
            Pred::Substring(s) => d.text.contains(s.as_str()),
            Pred::Role(r) => d.role == Some(*r),
            Pred::All(v) => v.iter().all(|p| p.eval(d)),
            Pred::Any(v) => v.iter().any(|p| p.eval(d)),
            Pred::Not(p) => !p.eval(d),
        }
    }

    /// Whether a session whose documents are `docs` matches (see [`brute`]).
    fn holds(&self, docs: &[&Doc]) -> bool {
        match self {
            Pred::All(v) => {
                let counted: Vec<&Doc> = docs
                    .iter()
                    .copied()
                    .filter(|d| {
                        v.iter()
                            .all(|p| !matches!(p, Pred::Role(r) if d.role != Some(*r)))
                    })
                    .collect();
                !counted.is_empty()
                    && v.iter()
                        .filter(|p| !matches!(p, Pred::Role(_)))
                        .all(|p| p.holds(&counted))
            }
            Pred::Not(p) => !p.holds(docs),
            _ => docs.iter().any(|d| self.eval(d)),
        }
    }

    /// Whether the brute force is exact for this query (else recall only).
    fn exact(&self) -> bool {
        match self {
            Pred::Word(_) | Pred::Role(_) => true,
            Pred::Phrase(_) | Pred::Prefix(_) | Pred::Substring(_) => false,
            Pred::All(v) | Pred::Any(v) => v.iter().all(Pred::exact),
            Pred::Not(p) => p.exact(),
        }
    }

    /// The most the index may find: a word also matches the identifiers it
    /// is a part of. This is the one legitimate difference between the
    /// brute force (which sees `snake_case_name` as one word, and `camelCaseName`
    /// as `camelcasename`) and the index (which also indexes `snake`, `case`,
    /// `name`, `camel`).
    fn upper(&self) -> Pred {
        match self {
            Pred::Word(w) => {
                let mut alts = vec![self.clone()];
                for (id, parts) in IDENTIFIERS {
                    if parts.contains(&w.as_str()) {
                        alts.push(Pred::Substring(norm(id)));
                    }
                }
                Pred::Any(alts)
            }
            Pred::All(v) => Pred::All(v.iter().map(Pred::upper).collect()),
            Pred::Any(v) => Pred::Any(v.iter().map(Pred::upper).collect()),
            // An excluded word excludes at least what the brute force sees.
            other => other.clone(),
        }
    }
}

/// The sessions the query `p` finds, by brute force: a session matches when
/// each clause of an `All` is matched by one of its documents that counts
/// (those of the role a `Role` clause names, else every one, its name and
/// title included), and none of those matches an excluded clause.
fn brute(docs: &[Doc], names: &[String], p: &Pred) -> BTreeSet<String> {
    let mut by_session: BTreeMap<usize, Vec<&Doc>> = BTreeMap::new();
    for d in docs {
        by_session.entry(d.session).or_default().push(d);
    }
    by_session
        .into_iter()
        .filter(|(_, docs)| p.holds(docs))
        .map(|(s, _)| names[s].clone())
        .collect()
}

/// Two consecutive vocabulary words separated by one space in some message.
fn phrase_from(corpus: &Corpus, rng: &mut Rng) -> String {
    let plain: BTreeSet<&str> = corpus.vocab.iter().map(String::as_str).collect();
    loop {
        let d = &corpus.docs[rng.below(corpus.docs.len())];
        let text = &d.messages[rng.below(d.messages.len())].content;
        let words: Vec<&str> = text.split(' ').collect();
        if words.len() < 2 {
            continue;
        }
        let i = rng.below(words.len() - 1);
        let (a, b) = (words[i], words[i + 1]);
        if plain.contains(a) && plain.contains(b) {
            return format!("{a} {b}");
        }
    }
}

/// For a rare word: a vocabulary word of another message of a session that
/// has it, not in the rare word's message, and two consecutive vocabulary
/// words of such a message (a phrase).
fn split_from(corpus: &Corpus, rare: &str) -> (String, String) {
    let (word, phrase, _) = split_from_role(corpus, rare, false);
    (word, phrase)
}

/// As [`split_from`], with the role of the rare word's message; with
/// `same_role`, from a message of that role.
fn split_from_role(corpus: &Corpus, rare: &str, same_role: bool) -> (String, String, Role) {
    let plain: BTreeSet<&str> = corpus.vocab.iter().map(String::as_str).collect();
    for d in &corpus.docs {
        let Some(at) = d
            .messages
            .iter()
            .position(|m| has_word(&norm(&m.content), rare))
        else {
            continue;
        };
        let with = norm(&d.messages[at].content);
        for (i, m) in d.messages.iter().enumerate() {
            let words: Vec<&str> = m.content.split(' ').collect();
            let pair = words
                .windows(2)
                .find(|p| plain.contains(p[0]) && plain.contains(p[1]));
            let word = words
                .iter()
                .find(|w| plain.contains(**w) && !has_word(&with, w));
            let role = d.messages[at].role.unwrap_or(Role::User);
            let other = i != at && (!same_role || m.role == Some(role));
            if let (true, Some(pair), Some(word)) = (other, pair, word) {
                return ((*word).to_string(), pair.join(" "), role);
            }
        }
    }
    panic!("no session with {rare} and another message to split it from");
}

/// Two vocabulary words that occur in the same message.
fn pair_from(corpus: &Corpus, rng: &mut Rng) -> (String, String) {
    loop {
        let d = &corpus.docs[rng.below(corpus.docs.len())];
        let text = norm(&d.messages[rng.below(d.messages.len())].content);
        let present: Vec<&String> = corpus.vocab.iter().filter(|w| has_word(&text, w)).collect();
        if present.len() >= 2 {
            let a = present[rng.below(present.len())];
            let b = present[rng.below(present.len())];
            if a != b {
                return (a.clone(), b.clone());
            }
        }
    }
}

#[test]
fn recall_against_a_brute_force_scan() {
    let corpus = generate();
    let mut store = Store::open_in_memory().unwrap();
    let report = store
        .import_docs(corpus.docs.clone(), ImportOptions::default())
        .unwrap();
    assert_eq!(report.sessions_added, 300);
    let mut search = open(&store);

    let names: Vec<String> = corpus
        .docs
        .iter()
        .map(|d| d.name.clone().unwrap())
        .collect();
    let mut docs = Vec::new();
    for (i, d) in corpus.docs.iter().enumerate() {
        docs.push(Doc {
            session: i,
            role: None,
            text: norm(&format!("{} {}", names[i], d.title)),
        });
        for m in &d.messages {
            docs.push(Doc {
                session: i,
                role: m.role,
                text: norm(&m.content),
            });
        }
    }

    let v = &corpus.vocab;
    let w = |s: &str| Pred::word(s);
    let mut cases: Vec<(String, Pred)> = Vec::new();
    // Rare words: one to three sessions each.
    for r in corpus.rare.iter().take(8) {
        cases.push((r.clone(), w(r)));
    }
    // Common and middling words (the vocabulary is Zipf-distributed).
    for &i in &[0, 1, 3, 5, 10, 100, 200, 300, 399] {
        cases.push((v[i].clone(), w(&v[i])));
    }
    // Accents and case fold.
    for q in [
        "café", "cafe", "CAFE", "naive", "NAÏVE", "zurich", "Résumé", "facade", "jalapeno", "uber",
    ] {
        cases.push((q.to_string(), w(q)));
    }
    // Identifiers whole, and words that are also identifier parts.
    for q in [
        "snake_case_name",
        "camelCaseName",
        "np.array",
        "std::fs::read",
        "array",
        "name",
        "case",
        "snake",
    ] {
        cases.push((q.to_string(), w(q)));
    }
    let mut rng = Rng(0xdead_beef_1357_9bdf);
    // Two words, AND: both in the same message (or name and title), or
    // said in different messages of a session.
    for _ in 0..3 {
        let (a, b) = pair_from(&corpus, &mut rng);
        cases.push((format!("{a} {b}"), Pred::All(vec![w(&a), w(&b)])));
    }
    cases.push((
        format!("{} {}", v[0], v[2]),
        Pred::All(vec![w(&v[0]), w(&v[2])]),
    ));
    // A rare word and a word of the message it is in.
    let rare = &corpus.rare[9];
    let with = corpus
        .docs
        .iter()
        .flat_map(|d| &d.messages)
        .map(|m| norm(&m.content))
        .find(|t| has_word(t, rare))
        .unwrap();
    let other = v.iter().find(|x| has_word(&with, x)).unwrap();
    cases.push((
        format!("{rare} {other}"),
        Pred::All(vec![w(rare), w(other)]),
    ));
    // Quoted phrases of two consecutive words of a real message.
    for _ in 0..4 {
        let p = phrase_from(&corpus, &mut rng);
        cases.push((format!("\"{p}\""), Pred::Phrase(norm(&p))));
    }
    // OR.
    for (a, b) in [
        (corpus.rare[10].as_str(), corpus.rare[11].as_str()),
        ("café", "zurich"),
        (v[50].as_str(), v[60].as_str()),
    ] {
        cases.push((format!("{a} OR {b}"), Pred::Any(vec![w(a), w(b)])));
    }
    // Words said in different messages of one session (never in one): a
    // rare word and a word of another message of its session; the same
    // with a phrase, and with an OR group.
    for r in &corpus.rare[15..19] {
        let (other, phrase) = split_from(&corpus, r);
        cases.push((format!("{r} {other}"), Pred::All(vec![w(r), w(&other)])));
        cases.push((
            format!("\"{phrase}\" {r}"),
            Pred::All(vec![Pred::Phrase(norm(&phrase)), w(r)]),
        ));
        cases.push((
            format!("{r} OR {} {other}", corpus.rare[20]),
            Pred::All(vec![Pred::Any(vec![w(r), w(&corpus.rare[20])]), w(&other)]),
        ));
        let (other, _, role) = split_from_role(&corpus, r, true);
        cases.push((
            format!("role:{} {r} {other}", role.as_str()),
            Pred::All(vec![Pred::Role(role), w(r), w(&other)]),
        ));
    }
    // Exclusion: sessions none of whose messages say the word.
    for (a, b) in [
        (v[0].as_str(), corpus.rare[13].as_str()),
        (v[7].as_str(), v[300].as_str()),
        ("café", v[60].as_str()),
        (corpus.rare[14].as_str(), v[399].as_str()),
    ] {
        cases.push((
            format!("{a} -{b}"),
            Pred::All(vec![w(a), Pred::Not(Box::new(w(b)))]),
        ));
    }
    // Prefixes.
    for p in [&v[4][..3], &v[20][..3], &corpus.rare[12][..4], "caf"] {
        cases.push((format!("{p}*"), Pred::Prefix(p.to_string())));
    }
    // Role filter.
    for q in [v[0].as_str(), v[30].as_str(), "café"] {
        cases.push((
            format!("role:user {q}"),
            Pred::All(vec![Pred::Role(Role::User), w(q)]),
        ));
    }
    // CJK words inside sentences written without spaces.
    for q in [
        "東京",
        "会議",
        "検索エンジン",
        "検索エ",
        "データ",
        "데이터",
        "데이터베이스",
        "中国",
        "搜索引擎",
    ] {
        cases.push((q.to_string(), Pred::Substring(q.to_string())));
    }
    assert!(cases.len() >= 40, "{} queries", cases.len());

    let mut failures = Vec::new();
    for (q, pred) in &cases {
        // A single word is also promised inside the identifiers it is a part of.
        let expected = match pred {
            Pred::Word(_) => brute(&docs, &names, &pred.upper()),
            _ => brute(&docs, &names, pred),
        };
        if expected.is_empty() {
            failures.push(format!("{q:?}: the brute force expects nothing (bad case)"));
            continue;
        }
        let got = found(&mut search, q);
        let missing: Vec<&String> = expected.difference(&got).take(5).collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{q:?}: expected {} found {}; missing e.g. {missing:?}",
                expected.len(),
                got.len()
            ));
        }
        if pred.exact() {
            let most = brute(&docs, &names, &pred.upper());
            let extra: Vec<&String> = got.difference(&most).take(5).collect();
            if !extra.is_empty() {
                failures.push(format!(
                    "{q:?}: found {} sessions that do not match, e.g. {extra:?}",
                    got.difference(&most).count()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Tokenizer rules through the index
// ---------------------------------------------------------------------------

/// An alphanumeric base64-looking blob (no `+` or `/`, so it is one run).
fn blob(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = Rng(0x0b10_b000_0000_0001);
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
        .collect()
}

fn tokenizer_store() -> (Store, Search, String) {
    let mut store = Store::open_in_memory().unwrap();
    let b = blob(120);
    let blob_text = format!("before the attachment {b} after the attachment");
    for (name, text) in [
        ("cafe", "Meet me at the Café at noon"),
        ("snake", "my_snake_case var"),
        ("camel", "call camelCase here"),
        ("numpy", "y = np.array(x)"),
        ("tokyo", "私は東京に住んでいます"),
        ("engine", "新しい検索エンジンを作りました"),
        ("korean", "우리는 데이터베이스를 사용합니다"),
        ("blob", blob_text.as_str()),
    ] {
        session(&mut store, name, &[text]);
    }
    let search = open(&store);
    (store, search, b)
}

#[test]
fn tokenizer_rules_through_the_index() {
    let (_store, mut search, b) = tokenizer_store();
    for (q, want) in [
        ("cafe", &["cafe"][..]),
        ("CAFE", &["cafe"]),
        ("café", &["cafe"]),
        ("Café", &["cafe"]),
        ("snake", &["snake"]),
        ("my_snake_case", &["snake"]),
        ("camel", &["camel"]),
        ("camelcase", &["camel"]),
        ("camelCase", &["camel"]),
        ("case", &["camel", "snake"]),
        ("np.array", &["numpy"]),
        ("array", &["numpy"]),
        ("np", &["numpy"]),
        ("東京", &["tokyo"]),
        ("住んで", &["tokyo"]),
        ("検索エ", &["engine"]),
        ("検索エンジン", &["engine"]),
        ("데이터", &["korean"]),
        ("데이터베이스", &["korean"]),
        ("attachment", &["blob"]),
        ("before", &["blob"]),
        ("after", &["blob"]),
        ("\"the attachment\"", &["blob"]),
    ] {
        assert_eq!(found(&mut search, q), set(want), "query {q:?}");
    }
    for q in ["京都", "大阪", "데이터베이스를요", "camelcases"] {
        assert!(found(&mut search, q).is_empty(), "query {q:?}");
    }
    // A 20-character piece of the blob is no word of the index.
    for piece in [&b[40..60], &b[..20], &b[100..120]] {
        assert!(
            found(&mut search, piece).is_empty(),
            "blob piece {piece:?} was found"
        );
    }
    // Nor is the blob itself (the query has no word left: an error or nothing).
    match search.query(&b, Limit::default()) {
        Ok(r) => assert!(r.hits.is_empty(), "{r:?}"),
        Err(Error::Query(_)) => {}
        Err(e) => panic!("{e:?}"),
    }
}

/// The brief: `snake_case` finds "my_snake_case var". The index holds
/// `my_snake_case`, `my`, `snake`, `case`; the query `snake_case` looks up
/// the whole token `snake_case` only, which is not there.
#[test]
fn identifier_query_finds_a_longer_identifier() {
    let (_store, mut search, _) = tokenizer_store();
    assert_eq!(found(&mut search, "snake_case"), set(&["snake"]));
}

/// A camelCase word inside a dotted identifier: `pd.DataFrame` is indexed as
/// `pd.dataframe`, `pd`, `data`, `frame`, so `dataframe` (which finds a bare
/// `DataFrame`) misses it. On the ShareGPT corpus, about one conversation in
/// six that mentions `dataframe` is found by no query for it; likewise
/// `usestate` and `React.useState`.
#[test]
fn a_camel_case_word_inside_a_dotted_identifier_is_found_whole() {
    let mut store = Store::open_in_memory().unwrap();
    session(&mut store, "pandas", &["df = pd.DataFrame(rows)"]);
    session(
        &mut store,
        "react",
        &["const [n, setN] = React.useState(0);"],
    );
    session(&mut store, "bare", &["a DataFrame and useState"]);
    let mut search = open(&store);
    assert_eq!(found(&mut search, "dataframe"), set(&["pandas", "bare"]));
    assert_eq!(found(&mut search, "usestate"), set(&["react", "bare"]));
}

#[test]
fn dotted_identifiers_are_found_whole_and_by_parts() {
    let mut store = Store::open_in_memory().unwrap();
    session(&mut store, "pandas", &["df = pd.DataFrame(rows)"]);
    session(&mut store, "rust", &["use std::fs::read_to_string;"]);
    let mut search = open(&store);
    for (q, want) in [
        ("pd.DataFrame", "pandas"),
        ("pd", "pandas"),
        ("data", "pandas"),
        ("frame", "pandas"),
        ("std::fs::read_to_string", "rust"),
        ("fs", "rust"),
        ("read", "rust"),
        ("string", "rust"),
    ] {
        assert_eq!(found(&mut search, q), set(&[want]), "query {q:?}");
    }
}

// ---------------------------------------------------------------------------
// Outbox: every kind of change reaches the results
// ---------------------------------------------------------------------------

#[test]
fn every_kind_of_change_reaches_the_results() {
    let mut store = Store::open_in_memory().unwrap();
    let alpha = session(&mut store, "alpha", &[]);
    let mut search = open(&store);
    let q = |search: &mut Search, store: &Store, text: &str| -> BTreeSet<String> {
        let r = found(search, text);
        assert_eq!(store.outbox_len().unwrap(), 0, "after query {text:?}");
        r
    };

    // Add a message.
    store
        .add_message(alpha, NewMessage::new(Role::User, "the quokka jumps"))
        .unwrap();
    assert!(store.outbox_len().unwrap() > 0);
    assert_eq!(q(&mut search, &store, "quokka"), set(&["alpha"]));

    // Rename: the new name is found as a filter and as a word; the old is gone.
    store.rename(alpha, "wombat-notes").unwrap();
    assert_eq!(
        q(&mut search, &store, "session:wombat-notes quokka"),
        set(&["wombat-notes"])
    );
    assert!(q(&mut search, &store, "session:alpha quokka").is_empty());
    let r = run(&mut search, "wombat", all());
    assert_eq!(names_of(&r), set(&["wombat-notes"]));
    assert_eq!(r.hits[0].message, None, "a name match has no message");
    assert!(q(&mut search, &store, "alpha").is_empty());

    // Retitle.
    store.retitle(alpha, "Platypus migration plan").unwrap();
    assert_eq!(q(&mut search, &store, "platypus"), set(&["wombat-notes"]));
    store.retitle(alpha, "Echidna survey").unwrap();
    assert!(q(&mut search, &store, "platypus").is_empty());
    assert_eq!(q(&mut search, &store, "echidna"), set(&["wombat-notes"]));

    // Tag and untag.
    store
        .update_tags(alpha, &["marsupial".to_string()], &[])
        .unwrap();
    assert_eq!(
        q(&mut search, &store, "tag:marsupial quokka"),
        set(&["wombat-notes"])
    );
    assert_eq!(q(&mut search, &store, "marsupial"), set(&["wombat-notes"]));
    store
        .update_tags(alpha, &[], &["marsupial".to_string()])
        .unwrap();
    assert!(q(&mut search, &store, "tag:marsupial quokka").is_empty());
    assert!(q(&mut search, &store, "marsupial").is_empty());

    // Truncate: the removed text is gone, the kept text renumbered.
    store
        .add_messages(
            alpha,
            &[
                NewMessage::new(Role::Assistant, "first bettong"),
                NewMessage::new(Role::User, "second numbat"),
                NewMessage::new(Role::Assistant, "third bilby"),
            ],
        )
        .unwrap();
    assert_eq!(q(&mut search, &store, "bettong"), set(&["wombat-notes"]));
    assert_eq!(store.truncate(alpha, 2).unwrap(), 2);
    assert!(q(&mut search, &store, "quokka").is_empty());
    assert!(q(&mut search, &store, "bettong").is_empty());
    let r = run(&mut search, "numbat", all());
    assert_eq!(r.hits[0].message.as_ref().unwrap().seq, 0);
    let r = run(&mut search, "bilby", all());
    assert_eq!(r.hits[0].message.as_ref().unwrap().seq, 1);
    assert_eq!(search.index().message_counts().unwrap()[&key(alpha)], 2);

    // Clear: no message is found, the name still is.
    store.clear(alpha).unwrap();
    assert!(q(&mut search, &store, "numbat").is_empty());
    assert!(q(&mut search, &store, "bilby").is_empty());
    assert_eq!(q(&mut search, &store, "wombat"), set(&["wombat-notes"]));
    assert_eq!(search.index().message_counts().unwrap()[&key(alpha)], 0);

    // Branch: the branch holds the prefix, not what came after.
    let src = session(
        &mut store,
        "source",
        &["dingo one", "dingo two kookaburra", "dingo three lyrebird"],
    );
    store.branch(src, "branch-b", Some(1)).unwrap();
    assert_eq!(
        q(&mut search, &store, "kookaburra"),
        set(&["source", "branch-b"])
    );
    assert_eq!(q(&mut search, &store, "lyrebird"), set(&["source"]));
    let r = run(&mut search, "session:branch-b dingo", all());
    assert_eq!(names_of(&r), set(&["branch-b"]));
    assert_eq!(r.hits[0].other_hits, 1);

    // Copy.
    store.copy(src, "copy-c").unwrap();
    assert_eq!(
        q(&mut search, &store, "kookaburra"),
        set(&["source", "branch-b", "copy-c"])
    );
    assert_eq!(
        q(&mut search, &store, "lyrebird"),
        set(&["source", "copy-c"])
    );

    // Merge.
    let m1 = session(&mut store, "m1", &["galah alpha"]);
    let m2 = session(&mut store, "m2", &["cockatoo beta"]);
    store.merge(&[m1, m2], "merged", MergeOrder::Time).unwrap();
    assert_eq!(q(&mut search, &store, "galah"), set(&["m1", "merged"]));
    assert_eq!(q(&mut search, &store, "cockatoo"), set(&["m2", "merged"]));
    // Said in different messages of the merged session: found there only.
    assert_eq!(q(&mut search, &store, "galah cockatoo"), set(&["merged"]));

    // Import.
    store
        .import_docs(
            [SessionDoc {
                name: Some("imported".into()),
                title: "From elsewhere".into(),
                messages: vec![MessageDoc {
                    role: Some(Role::User),
                    content: "a bandicoot in the garden".into(),
                    ..MessageDoc::default()
                }],
                ..SessionDoc::default()
            }],
            ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(q(&mut search, &store, "bandicoot"), set(&["imported"]));
    assert_eq!(q(&mut search, &store, "elsewhere"), set(&["imported"]));
    let imported = store.session("imported").unwrap().id;

    // Trash and restore.
    store.trash(&[imported]).unwrap();
    assert!(q(&mut search, &store, "bandicoot").is_empty());
    assert!(found_archived(&mut search, "bandicoot").is_empty());
    assert!(q(&mut search, &store, "elsewhere").is_empty());
    store.restore(&[imported]).unwrap();
    assert_eq!(q(&mut search, &store, "bandicoot"), set(&["imported"]));

    // Archive: only with `archived`.
    store.archive(&[imported]).unwrap();
    assert!(q(&mut search, &store, "bandicoot").is_empty());
    assert_eq!(found_archived(&mut search, "bandicoot"), set(&["imported"]));
    store.unarchive(&[imported]).unwrap();
    assert_eq!(q(&mut search, &store, "bandicoot"), set(&["imported"]));

    // Purge: gone from the results and from the index.
    assert!(
        search
            .index()
            .message_counts()
            .unwrap()
            .contains_key(&key(imported))
    );
    store.purge(&[imported]).unwrap();
    assert!(q(&mut search, &store, "bandicoot").is_empty());
    assert!(found_archived(&mut search, "bandicoot").is_empty());
    assert!(
        !search
            .index()
            .message_counts()
            .unwrap()
            .contains_key(&key(imported))
    );
    assert_eq!(
        search.index().message_counts().unwrap(),
        store_counts(&store)
    );
    assert_eq!(store.outbox_len().unwrap(), 0);
}

// ---------------------------------------------------------------------------
// Crashes and re-applied rows
// ---------------------------------------------------------------------------

#[test]
fn a_crash_between_store_and_index_commits_loses_nothing() {
    let dir = TempDir::new().unwrap();
    let (db, mut store) = file_store(&dir);
    let keep = session(&mut store, "keep", &["an ordinary heron"]);
    let gone = session(&mut store, "gone", &["a doomed heron"]);
    let binned = session(&mut store, "binned", &["a trashed heron"]);
    let search = open(&store);
    assert_eq!(store.outbox_len().unwrap(), 0);

    // Changes through the store only: the index never hears of them.
    store
        .add_message(keep, NewMessage::new(Role::Assistant, "a capybara appears"))
        .unwrap();
    store.rename(keep, "kept-renamed").unwrap();
    store.retitle(keep, "Tapir notes").unwrap();
    store.purge(&[gone]).unwrap();
    store.trash(&[binned]).unwrap();
    let fresh = session(
        &mut store,
        "fresh",
        &["a newborn heron", "and a heron again"],
    );
    assert!(store.outbox_len().unwrap() > 0);
    drop(search);
    drop(store);

    let store = Store::open(&db).unwrap();
    assert!(
        store.outbox_len().unwrap() > 0,
        "the rows outlive the crash"
    );
    let mut search = open(&store);
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert_eq!(found(&mut search, "capybara"), set(&["kept-renamed"]));
    assert_eq!(found(&mut search, "tapir"), set(&["kept-renamed"]));
    assert_eq!(found(&mut search, "heron"), set(&["kept-renamed", "fresh"]));
    assert!(found(&mut search, "doomed").is_empty());
    assert!(found(&mut search, "trashed").is_empty());
    let counts = search.index().message_counts().unwrap();
    assert!(!counts.contains_key(&key(gone)));
    assert_eq!(counts, store_counts(&store));
    assert_eq!(counts[&key(fresh)], 2);
}

#[test]
fn rows_applied_twice_give_no_duplicates() {
    let dir = TempDir::new().unwrap();
    let (_db, mut store) = file_store(&dir);
    let id = session(
        &mut store,
        "thrice",
        &["one ibis", "two ibis", "three ibis", "no bird"],
    );
    session(&mut store, "once", &["a lone ibis"]);
    let mut search = open(&store);
    let check = |search: &mut Search, store: &Store| {
        let r = run(search, "ibis", all());
        assert_eq!(r.hits.len(), 2, "{r:?}");
        let thrice = r.hits.iter().find(|h| h.session.name == "thrice").unwrap();
        assert_eq!(thrice.other_hits, 2);
        assert_eq!(
            search.index().message_counts().unwrap(),
            store_counts(store)
        );
        assert_eq!(store.outbox_len().unwrap(), 0);
    };
    check(&mut search, &store);

    // The same session queued again, twice, and synced twice.
    store.outbox_sessions(&[id]).unwrap();
    store.outbox_sessions(&[id]).unwrap();
    search.sync(&|_, _| {}).unwrap();
    search.sync(&|_, _| {}).unwrap();
    check(&mut search, &store);

    // Queued with a message added in between, applied in one batch.
    store.outbox_sessions(&[id]).unwrap();
    store
        .add_message(id, NewMessage::new(Role::User, "four ibis"))
        .unwrap();
    store.outbox_sessions(&[id]).unwrap();
    let r = run(&mut search, "ibis", all());
    let thrice = r.hits.iter().find(|h| h.session.name == "thrice").unwrap();
    assert_eq!(thrice.other_hits, 3);
    assert_eq!(
        search.index().message_counts().unwrap(),
        store_counts(&store)
    );
    assert_eq!(search.index().message_counts().unwrap()[&key(id)], 5);

    // Everything queued again (as after a lost index) changes nothing either.
    store.outbox_everything().unwrap();
    let r = run(&mut search, "ibis", all());
    assert_eq!(r.hits.len(), 2);
    assert_eq!(
        search.index().message_counts().unwrap(),
        store_counts(&store)
    );
}

// ---------------------------------------------------------------------------
// Two processes
// ---------------------------------------------------------------------------

#[test]
fn a_busy_index_writer_delays_indexing_but_not_searching() {
    let dir = TempDir::new().unwrap();
    let (db, mut store) = file_store(&dir);
    session(&mut store, "shared", &["an ordinary sentence"]);
    drop(open(&store));

    let index = tantivy::Index::open_in_dir(index_dir(&db)).unwrap();
    let writer = index
        .writer::<tantivy::TantivyDocument>(50_000_000)
        .unwrap();

    ok(sb(dir.path(), &db).args(["add", "shared", "--role", "user", "the ocelot sleeps"]));
    assert_eq!(store.outbox_len().unwrap(), 1);
    let out = ok(sb(dir.path(), &db).args(["search", "ocelot", "--json"]));
    assert!(
        json_names(&out).is_empty() || json_names(&out) == set(&["shared"]),
        "{out:?}"
    );
    let out = ok(sb(dir.path(), &db).args(["search", "ordinary", "--json"]));
    assert_eq!(json_names(&out), set(&["shared"]), "it still searches");
    assert_eq!(
        store.outbox_len().unwrap(),
        1,
        "the change waits for the writer"
    );

    drop(writer);
    drop(index);
    let out = ok(sb(dir.path(), &db).args(["search", "ocelot", "--json"]));
    assert_eq!(json_names(&out), set(&["shared"]));
    assert_eq!(store.outbox_len().unwrap(), 0);
}

/// A Search kept open (as the TUI keeps one) must see what another process
/// indexed: the other process empties the outbox, so this one has nothing to
/// apply, but its reader still shows the index as it was when it last synced.
#[test]
fn an_open_search_sees_what_another_process_indexed() {
    let dir = TempDir::new().unwrap();
    let (db, mut store) = file_store(&dir);
    session(&mut store, "shared", &["an ordinary sentence"]);
    let mut search = open(&store);
    assert_eq!(found(&mut search, "ordinary"), set(&["shared"]));

    ok(sb(dir.path(), &db).args(["add", "shared", "--role", "user", "the margay climbs"]));
    let out = ok(sb(dir.path(), &db).args(["search", "margay", "--json"]));
    assert_eq!(json_names(&out), set(&["shared"]));
    assert_eq!(store.outbox_len().unwrap(), 0);

    assert_eq!(found(&mut search, "margay"), set(&["shared"]));
}

// ---------------------------------------------------------------------------
// Rebuilds and repair
// ---------------------------------------------------------------------------

fn rebuild_store(dir: &TempDir) -> (PathBuf, Store, Vec<SessionId>) {
    let (db, mut store) = file_store(dir);
    let ids = (0..12)
        .map(|i| {
            session(
                &mut store,
                &format!("s{i:02}"),
                &[&format!("common osprey number {i}"), "filler text"],
            )
        })
        .collect();
    (db, store, ids)
}

fn every_name(n: usize) -> BTreeSet<String> {
    (0..n).map(|i| format!("s{i:02}")).collect()
}

#[test]
fn missing_damaged_or_old_indexes_are_rebuilt() {
    let dir = TempDir::new().unwrap();
    let (db, store, _) = rebuild_store(&dir);
    let open_with = |store: &Store| Search::open_with(store, 64_000_000, &|_, _| {}).unwrap();

    let (mut search, rebuilt) = open_with(&store);
    assert_eq!(rebuilt, Rebuilt::Missing);
    assert_eq!(found(&mut search, "osprey"), every_name(12));
    drop(search);
    let (_, rebuilt) = open_with(&store);
    assert_eq!(rebuilt, Rebuilt::No);

    // Deleted.
    std::fs::remove_dir_all(index_dir(&db)).unwrap();
    let (mut search, rebuilt) = open_with(&store);
    assert_eq!(rebuilt, Rebuilt::Missing);
    assert_eq!(found(&mut search, "osprey"), every_name(12));
    assert_eq!(
        search.index().message_counts().unwrap(),
        store_counts(&store)
    );
    drop(search);

    // Damaged.
    std::fs::write(index_dir(&db).join("meta.json"), "{ this is not json").unwrap();
    let (mut search, rebuilt) = open_with(&store);
    assert!(matches!(rebuilt, Rebuilt::Replaced(_)), "{rebuilt:?}");
    assert_eq!(found(&mut search, "osprey"), every_name(12));
    drop(search);

    // Another schema version.
    std::fs::write(index_dir(&db).join("scrollback-index-version"), "0").unwrap();
    let (mut search, rebuilt) = open_with(&store);
    assert!(matches!(rebuilt, Rebuilt::Replaced(_)), "{rebuilt:?}");
    assert_eq!(found(&mut search, "osprey"), every_name(12));
    assert_eq!(
        search.index().message_counts().unwrap(),
        store_counts(&store)
    );
    assert_eq!(store.outbox_len().unwrap(), 0);
}

#[test]
fn rebuild_and_repair_restore_full_recall() {
    let dir = TempDir::new().unwrap();
    let (db, store, ids) = rebuild_store(&dir);
    drop(open(&store));

    // Rebuild: after documents vanished behind the index's back.
    delete_behind_its_back(&db, &ids[..4]);
    let mut search = open(&store);
    assert_eq!(found(&mut search, "osprey").len(), 8);
    let report = search.rebuild(&|_, _| {}).unwrap();
    assert_eq!(report.sessions, 12);
    assert_eq!(found(&mut search, "osprey"), every_name(12));
    assert_eq!(
        search.index().message_counts().unwrap(),
        store_counts(&store)
    );
    drop(search);

    // Repair: reindexes exactly the sessions that differ.
    delete_behind_its_back(&db, &ids[3..6]);
    let mut search = open(&store);
    assert_eq!(found(&mut search, "osprey").len(), 9);
    assert_eq!(search.repair(&|_, _| {}).unwrap(), 3);
    assert_eq!(found(&mut search, "osprey"), every_name(12));
    assert_eq!(
        search.index().message_counts().unwrap(),
        store_counts(&store)
    );
    assert_eq!(search.repair(&|_, _| {}).unwrap(), 0, "nothing differs now");
}

/// A writer memory below what two indexing threads need (tantivy wants 15 MB
/// per thread) is clamped by the index (`writer_memory.max(15_000_000)`),
/// but to one thread's minimum while the writer is opened with two threads:
/// any budget under 30 MB (the config key `search.writer_memory_mb`) makes
/// every sync fail with "The memory arena in bytes per thread needs to be at
/// least 15000000".
#[test]
fn a_small_writer_memory_still_indexes() {
    for memory in [1_000_000, 20_000_000, 29_000_000] {
        let mut store = Store::open_in_memory().unwrap();
        session(&mut store, "small", &["a frugal indexer"]);
        let (mut search, _) = Search::open_with(&store, memory, &|_, _| {})
            .unwrap_or_else(|e| panic!("writer memory {memory}: {e}"));
        assert_eq!(found(&mut search, "frugal"), set(&["small"]), "{memory}");
    }
}

/// The same, with the Search open while the documents vanish (the TUI's case).
#[test]
fn repair_on_an_open_search_sees_the_damage() {
    let dir = TempDir::new().unwrap();
    let (db, store, ids) = rebuild_store(&dir);
    let mut search = open(&store);
    delete_behind_its_back(&db, &ids[..3]);
    assert_eq!(search.repair(&|_, _| {}).unwrap(), 3);
    assert_eq!(found(&mut search, "osprey"), every_name(12));
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

#[test]
fn results_are_grouped_ranked_and_paged() {
    let mut store = Store::open_in_memory().unwrap();
    // Session i has i+1 messages mentioning the egret.
    for i in 0..30 {
        let texts: Vec<String> = (0..=i)
            .map(|j| format!("egret sighting {j} near the marsh"))
            .chain(std::iter::once("nothing here".to_string()))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        session(&mut store, &format!("p{i:02}"), &refs);
    }
    let mut search = open(&store);
    let full = run(&mut search, "egret", all());
    assert_eq!(full.hits.len(), 30);
    assert_eq!(full.sessions, 30);
    for h in &full.hits {
        let i: usize = h.session.name[1..].parse().unwrap();
        assert_eq!(h.other_hits, i, "{}", h.session.name);
        assert!(h.message.is_some());
        assert!(
            h.snippet.is_empty() && h.highlights.is_empty(),
            "no snippets asked"
        );
    }
    assert!(
        full.hits.windows(2).all(|w| w[0].score >= w[1].score),
        "best first"
    );

    // Pages are disjoint and together the full list, in its order.
    let order: Vec<String> = full.hits.iter().map(|h| h.session.name.clone()).collect();
    let mut paged = Vec::new();
    for offset in (0..35).step_by(7) {
        let page = run(
            &mut search,
            "egret",
            Limit {
                limit: 7,
                offset,
                archived: false,
                snippets: false,
            },
        );
        assert!(page.hits.len() <= 7);
        paged.extend(page.hits.iter().map(|h| h.session.name.clone()));
    }
    assert_eq!(paged, order);
    let past = run(
        &mut search,
        "egret",
        Limit {
            offset: 30,
            ..all()
        },
    );
    assert!(past.hits.is_empty());
    let default = run(&mut search, "egret", Limit::default());
    assert_eq!(default.hits.len(), 20);
}

#[test]
fn snippets_mark_the_matched_words() {
    let mut store = Store::open_in_memory().unwrap();
    session(
        &mut store,
        "long",
        &[&format!(
            "{} The Heron waded into the MARSH at dawn. {}",
            "Filler words before. ".repeat(30),
            "Filler words after. ".repeat(30)
        )],
    );
    session(&mut store, "short", &["heron and marsh, heron again"]);
    session(&mut store, "accent", &["Un Café noir, café au lait"]);
    let titled = store
        .create_session(&NewSession {
            name: "titled".into(),
            title: "Flamingo budget".into(),
            ..NewSession::default()
        })
        .unwrap();
    store
        .add_message(titled.id, NewMessage::new(Role::User, "numbers only"))
        .unwrap();
    let mut search = open(&store);

    let r = run(&mut search, "heron marsh", Limit::default());
    assert_eq!(names_of(&r), set(&["long", "short"]));
    for h in &r.hits {
        assert!(!h.highlights.is_empty(), "{h:?}");
        for &[a, b] in &h.highlights {
            let marked = h.snippet[a..b].to_lowercase();
            assert!(
                marked == "heron" || marked == "marsh",
                "{marked:?} in {h:?}"
            );
        }
        assert!(!h.snippet.contains('\n'), "one line: {:?}", h.snippet);
    }
    let long = r.hits.iter().find(|h| h.session.name == "long").unwrap();
    assert!(long.snippet.starts_with('…') && long.snippet.ends_with('…'));

    let r = run(&mut search, "cafe", Limit::default());
    let marked: Vec<&str> = r.hits[0]
        .highlights
        .iter()
        .map(|&[a, b]| &r.hits[0].snippet[a..b])
        .collect();
    assert_eq!(marked, ["Café", "café"]);

    let r = run(
        &mut search,
        "heron",
        Limit {
            snippets: false,
            ..Limit::default()
        },
    );
    assert!(
        r.hits
            .iter()
            .all(|h| h.snippet.is_empty() && h.highlights.is_empty())
    );

    // A title-only match: no message, the title in the snippet.
    let r = run(&mut search, "flamingo", Limit::default());
    assert_eq!(names_of(&r), set(&["titled"]));
    assert_eq!(r.hits[0].message, None);
    let h = &r.hits[0];
    let marked: Vec<&str> = h
        .highlights
        .iter()
        .map(|&[a, b]| &h.snippet[a..b])
        .collect();
    assert_eq!(marked, ["Flamingo"]);
}

// ---------------------------------------------------------------------------
// Query errors
// ---------------------------------------------------------------------------

#[test]
fn malformed_queries_are_errors_that_point_at_the_bad_part() {
    let mut store = Store::open_in_memory().unwrap();
    session(&mut store, "s", &["some text"]);
    let mut search = open(&store);
    for (q, what, column, carets) in [
        ("\"unclosed", "unclosed quote", 1, "^"),
        ("a OR", "OR needs a term on each side", 3, "  ^^"),
        ("role:robot", "unknown role `robot`", 6, "     ^^^^^"),
        (
            "after:notadate",
            "invalid time `notadate`",
            7,
            "      ^^^^^^^^",
        ),
        ("-only", "not only exclusions", 1, "^^^^^"),
        ("   ", "empty query", 1, "^^^"),
    ] {
        match search.query(q, Limit::default()) {
            Err(Error::Query(msg)) => {
                assert!(msg.contains(what), "{q:?}: {msg}");
                assert!(msg.contains(&format!("column {column}")), "{q:?}: {msg}");
                let lines: Vec<&str> = msg.lines().collect();
                assert_eq!(lines.last(), Some(&carets), "{q:?}: {msg}");
            }
            other => panic!("{q:?}: expected a query error, got {other:?}"),
        }
    }
}

#[test]
fn random_queries_never_panic() {
    const PIECES: &[&str] = &[
        "a",
        "text",
        "café",
        "\"",
        "-",
        "*",
        "OR",
        "NOT",
        ":",
        "role:",
        "user",
        "tag:",
        "x",
        "session:",
        "after:",
        "before:",
        "7d",
        "2026-01-01",
        "東京",
        "\\",
        "(",
        ")",
        "np.",
        "array",
        " ",
        " ",
        " ",
        "model:",
        "source:",
        "**",
        "--",
        "!!",
        "é",
        "_",
    ];
    let mut store = Store::open_in_memory().unwrap();
    session(
        &mut store,
        "s",
        &["some text with café, np.array and 東京の会議", "more words"],
    );
    let mut search = open(&store);
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    for _ in 0..600 {
        let mut q = String::new();
        for _ in 0..rng.range(1, 6) {
            q.push_str(rng.pick(PIECES));
            if rng.chance(400) {
                q.push(' ');
            }
        }
        match search.query(&q, Limit::default()) {
            Ok(_) | Err(Error::Query(_)) => {}
            Err(e) => panic!("{q:?}: unexpected error {e:?}"),
        }
    }
}

#[test]
fn identifier_pieces_match_exactly_and_inside_phrases() {
    let mut st = Store::open_in_memory().unwrap();
    let a = st.create_session(&NewSession::named("exact")).unwrap();
    st.add_message(
        a.id,
        NewMessage::new(Role::User, "let text = std::fs::read_to_string(path)?;"),
    )
    .unwrap();
    let b = st.create_session(&NewSession::named("scattered")).unwrap();
    st.add_message(
        b.id,
        NewMessage::new(Role::User, "use the state you read to make a string"),
    )
    .unwrap();
    let c = st.create_session(&NewSession::named("hooks")).unwrap();
    st.add_message(
        c.id,
        NewMessage::new(Role::User, "const [x, setX] = React.useState(0)"),
    )
    .unwrap();
    let mut search = Search::open(&st, &|_, _| {}).unwrap();
    let names = |search: &mut Search, q: &str| {
        let mut n: Vec<String> = search
            .query(q, Limit::default())
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.session.name)
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&mut search, "read_to_string"), ["exact"]);
    assert_eq!(names(&mut search, "\"read_to_string(path)\""), ["exact"]);
    assert_eq!(
        names(&mut search, "\"fs::read_to_string(path)\""),
        ["exact"]
    );
    assert_eq!(
        names(&mut search, "useState"),
        ["hooks"],
        "parts scattered over a message are not the identifier"
    );
    assert_eq!(names(&mut search, "state"), ["hooks", "scattered"]);
}

#[test]
fn filters_that_keep_most_sessions_are_exact() {
    // Over 1024 matching sessions the filter is run as "none of the others".
    let mut st = Store::open_in_memory().unwrap();
    let docs = (0..1200).map(|i| SessionDoc {
        name: Some(format!("s{i}")),
        source: Some(if i < 1150 {
            "big".into()
        } else {
            "small".into()
        }),
        tags: if i % 100 == 0 {
            vec![]
        } else {
            vec!["common".into()]
        },
        messages: vec![MessageDoc {
            role: Some(Role::User),
            content: "a shared kestrel".into(),
            ..MessageDoc::default()
        }],
        ..SessionDoc::default()
    });
    st.import_docs(docs, ImportOptions::default()).unwrap();
    let mut search = Search::open(&st, &|_, _| {}).unwrap();
    let count = |search: &mut Search, q: &str| {
        search
            .query(
                q,
                Limit {
                    limit: 5000,
                    ..Limit::default()
                },
            )
            .unwrap()
            .hits
            .len()
    };
    assert_eq!(count(&mut search, "source:big kestrel"), 1150);
    assert_eq!(count(&mut search, "source:small kestrel"), 50);
    assert_eq!(count(&mut search, "tag:common kestrel"), 1188);
    assert_eq!(count(&mut search, "-tag:common kestrel"), 12);
    assert_eq!(count(&mut search, "source:none kestrel"), 0);
}

#[test]
fn sessions_imported_through_the_search_meet_filters_at_once() {
    let dir = TempDir::new().unwrap();
    let (_db, store) = file_store(&dir);
    let mut search = open(&store);
    // Fills the cached session sets for these filters.
    assert!(found(&mut search, "tag:work osprey").is_empty());
    assert!(found(&mut search, "source:elsewhere osprey").is_empty());
    let file = dir.path().join("one.jsonl");
    let doc = serde_json::json!({
        "name": "birds",
        "title": "",
        "tags": ["work"],
        "source": "elsewhere",
        "messages": [{"role": "user", "content": "an osprey over the lake"}],
    });
    std::fs::write(&file, format!("{doc}\n")).unwrap();
    let control = scrollback::jobs::JobControl::new();
    let paths = [file];
    search
        .import(&scrollback::import::ImportRequest {
            paths: &paths,
            format: None,
            options: ImportOptions::default(),
            partial: false,
            found: false,
            progress: &|_, _| {},
            control: &control,
        })
        .unwrap();
    assert_eq!(found(&mut search, "tag:work osprey"), set(&["birds"]));
    assert_eq!(
        found(&mut search, "source:elsewhere osprey"),
        set(&["birds"])
    );
    assert_eq!(found(&mut search, "-tag:work osprey"), set(&[]));
}

#[test]
fn phrases_are_exact_wherever_they_stand_in_a_query() {
    // The index keeps no word positions: every phrase below is found by its
    // words and then checked on the text, in each place a phrase can stand.
    let mut st = Store::open_in_memory().unwrap();
    session(&mut st, "ordered", &["the quick brown fox jumps"]);
    session(&mut st, "reversed", &["brown quick the fox"]);
    session(&mut st, "apart", &["quick red brown fox"]);
    session(&mut st, "quick-brown-notes", &["nothing to see"]);
    session(&mut st, "zebra", &["a zebra crossing"]);
    session(&mut st, "answer", &["hello", "unrelated words"]);
    session(&mut st, "cjk-word", &["検索エンジンの使い方を学ぶ"]);
    // Every bigram of 検索エンジン, but never in one run.
    session(
        &mut st,
        "cjk-scattered",
        &["検索した。索エは、エンジンです"],
    );
    let hits = session(
        &mut st,
        "steps",
        &["quick brown", "brown quick", "a quick brown dog"],
    );
    let mut search = open(&st);
    let cases: &[(&str, &[&str])] = &[
        (
            "\"quick brown\"",
            &["ordered", "quick-brown-notes", "steps"],
        ),
        (
            "\"quick brown\" OR zebra",
            &["ordered", "quick-brown-notes", "steps", "zebra"],
        ),
        (
            "\"quick brown\" OR zeb*",
            &["ordered", "quick-brown-notes", "steps", "zebra"],
        ),
        ("fox -\"quick brown\"", &["apart", "reversed"]),
        ("fox NOT \"quick brown\"", &["apart", "reversed"]),
        ("fox -\"quick brown\" -red", &["reversed"]),
        // A message filter anywhere leaves session names out.
        (
            "role:assistant OR \"quick brown\"",
            &["answer", "ordered", "steps"],
        ),
        ("\"brown fox\" \"quick brown\"", &["ordered"]),
        ("\"fox quick\"", &[]),
        ("検索エンジン", &["cjk-word"]),
        ("\"エンジン\" -検索エンジン", &["cjk-scattered"]),
    ];
    for (q, want) in cases {
        assert_eq!(found(&mut search, q), set(want), "{q}");
    }
    // Stepping through the hits of an opened session checks phrases too.
    assert_eq!(
        search.session_hits("\"quick brown\"", hits).unwrap(),
        [0, 2]
    );
    // An excluded phrase said anywhere in a session leaves it out, with
    // nothing to step through.
    assert!(
        search
            .session_hits("quick -\"quick brown\"", hits)
            .unwrap()
            .is_empty()
    );
    // A renamed session is checked against its new name.
    let notes = st.session("quick-brown-notes").unwrap().id;
    st.rename(notes, "brown-quick-notes").unwrap();
    assert!(!found(&mut search, "\"quick brown\"").contains("brown-quick-notes"));
    assert!(found(&mut search, "\"brown quick\"").contains("brown-quick-notes"));
}

/// Whether `text` has the words of `phrase` one after another.
fn has_phrase(text: &str, phrase: &str) -> bool {
    let words: Vec<&str> = text.split(' ').collect();
    let want: Vec<&str> = phrase.split(' ').collect();
    words.windows(want.len()).any(|w| w == want.as_slice())
}

/// Whether a text matches a query, by brute force.
type Matches = fn(&str) -> bool;

#[test]
fn phrase_results_are_exact_and_page_like_one_long_page() {
    // More candidates than wait for their texts at once (4096), so the
    // checks run in batches under a rising bar; against a brute-force scan.
    let words = ["alpha", "beta", "gamma", "delta", "the", "and"];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut store = Store::open_in_memory().unwrap();
    let mut sessions = Vec::new();
    for i in 0..3000 {
        let texts: Vec<String> = (0..rng.range(1, 4))
            .map(|_| {
                (0..rng.range(5, 40))
                    .map(|_| words[rng.below(words.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let name = format!("s{i:04}");
        session(&mut store, &name, &refs);
        sessions.push((name, texts));
    }
    let mut search = open(&store);
    // The query, what a matching message has, and what none of a matching
    // session's messages may have.
    let cases: [(&str, Matches, Option<Matches>); 3] = [
        ("\"alpha beta\"", |t| has_phrase(t, "alpha beta"), None),
        (
            "\"gamma delta alpha\"",
            |t| has_phrase(t, "gamma delta alpha"),
            None,
        ),
        (
            "delta -\"alpha beta\"",
            |t| t.split(' ').any(|w| w == "delta"),
            Some(|t| has_phrase(t, "alpha beta")),
        ),
    ];
    for (q, matches, excluded) in cases {
        let expected: BTreeMap<String, usize> = sessions
            .iter()
            .filter(|(_, texts)| !excluded.is_some_and(|x| texts.iter().any(|t| x(t))))
            .map(|(name, texts)| (name.clone(), texts.iter().filter(|t| matches(t)).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        assert!(expected.len() > 20, "{q}: a bad case");
        let full = run(&mut search, q, all());
        let got: BTreeMap<String, usize> = full
            .hits
            .iter()
            .map(|h| (h.session.name.clone(), h.other_hits + 1))
            .collect();
        assert_eq!(got, expected, "{q}: sessions and their matching messages");
        assert!(full.hits.windows(2).all(|w| w[0].score >= w[1].score));
        let order: Vec<&String> = full.hits.iter().map(|h| &h.session.name).collect();
        let mut paged = Vec::new();
        for offset in (0..70).step_by(7) {
            let page = run(
                &mut search,
                q,
                Limit {
                    limit: 7,
                    offset,
                    ..all()
                },
            );
            paged.extend(page.hits.into_iter().map(|h| h.session.name));
        }
        assert_eq!(paged.iter().collect::<Vec<_>>(), order[..70], "{q}: pages");
    }
}

#[test]
fn time_filters_keep_the_messages_written_in_their_range() {
    let mut st = Store::open_in_memory().unwrap();
    let day = |d: &str| -> jiff::Timestamp { format!("2025-{d}T12:00:00Z").parse().unwrap() };
    for (name, when) in [
        ("jan", "01-15"),
        ("feb", "02-15"),
        ("mar", "03-15"),
        ("apr", "04-15"),
    ] {
        let s = st.create_session(&NewSession::named(name)).unwrap();
        let mut m = NewMessage::new(Role::User, format!("deploy notes {name}"));
        m.created_at = Some(day(when));
        st.add_message(s.id, m).unwrap();
    }
    // A session whose name, not a message, has the word: never a dated hit.
    st.create_session(&NewSession::named("deploy-plans"))
        .unwrap();
    let mut search = open(&st);
    let cases: &[(&str, &[&str])] = &[
        ("deploy after:2025-02-01", &["feb", "mar", "apr"]),
        ("deploy before:2025-03-01", &["jan", "feb"]),
        ("deploy after:2025-02-01 before:2025-04-01", &["feb", "mar"]),
        (
            "after:2025-02-01 deploy before:2025-04-01 after:2025-03-01",
            &["mar"],
        ),
        ("deploy after:2025-05-01", &[]),
        // Elsewhere than beside words, dates are range queries: the same
        // answers. Any date leaves session names out.
        ("deploy -before:2025-03-01", &["mar", "apr"]),
        (
            "deploy after:2025-04-01 OR before:2025-02-01",
            &["jan", "apr"],
        ),
        ("after:2025-03-01", &["mar", "apr"]),
    ];
    for (q, want) in cases {
        assert_eq!(found(&mut search, q), set(want), "{q}");
    }
    let jan = st.session("jan").unwrap().id;
    assert_eq!(
        search
            .session_hits("deploy before:2025-02-01", jan)
            .unwrap(),
        [0]
    );
    assert!(
        search
            .session_hits("deploy after:2025-02-01", jan)
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------
// Conversations: a query's clauses may be matched by different messages
// ---------------------------------------------------------------------------

/// A session whose messages have these roles and texts.
fn session_with(store: &mut Store, name: &str, messages: &[(Role, &str)]) -> SessionId {
    let s = store.create_session(&NewSession::named(name)).unwrap();
    let msgs: Vec<NewMessage> = messages
        .iter()
        .map(|(role, t)| NewMessage::new(*role, *t))
        .collect();
    store.add_messages(s.id, &msgs).unwrap();
    s.id
}

/// Names of the hits of `q`, in order (every page).
fn ranked(search: &mut Search, q: &str) -> Vec<String> {
    run(search, q, all())
        .hits
        .into_iter()
        .map(|h| h.session.name)
        .collect()
}

#[test]
fn words_said_in_different_messages_find_the_session() {
    let mut st = Store::open_in_memory().unwrap();
    let split = session(
        &mut st,
        "split",
        &[
            "how do I stop a tokio task?",
            "cancellation is cooperative: drop the future",
        ],
    );
    session(&mut st, "tokio-only", &["tokio runtime", "nothing else"]);
    session(&mut st, "cancellation-only", &["cancellation of a flight"]);
    let titled = st
        .create_session(&NewSession {
            name: "titled".into(),
            title: "Tokio notes".into(),
            ..NewSession::default()
        })
        .unwrap();
    st.add_message(
        titled.id,
        NewMessage::new(Role::User, "cancellation, again"),
    )
    .unwrap();
    let mut search = open(&st);
    assert_eq!(
        found(&mut search, "tokio cancellation"),
        set(&["split", "titled"]),
        "each word said somewhere in the conversation (or its title)"
    );
    let r = run(&mut search, "tokio cancellation", all());
    assert_eq!(r.sessions, 2);
    let hit = r.hits.iter().find(|h| h.session.name == "split").unwrap();
    assert_eq!(hit.other_hits, 1, "{hit:?}");
    assert!(hit.message.is_some() && hit.score > 0.0, "{hit:?}");
    // Stepping through the opened session shows where each word was said.
    assert_eq!(
        search.session_hits("tokio cancellation", split).unwrap(),
        [0, 1]
    );
    assert_eq!(
        search.session_hits("cancellation", split).unwrap(),
        [1],
        "one clause: the messages that match it"
    );
    assert!(
        search
            .session_hits("tokio flight", split)
            .unwrap()
            .is_empty()
    );
    // Three clauses: the best message is the one matching the most of them.
    let three = session(
        &mut st,
        "three",
        &[
            "the heron saw dawn over the marsh",
            "we left at dawn",
            "marsh",
        ],
    );
    let r = run(&mut search, "heron marsh \"at dawn\"", Limit::default());
    assert_eq!(names_of(&r), set(&["three"]));
    let h = &r.hits[0];
    assert_eq!(h.message.as_ref().map(|m| m.seq), Some(0), "{h:?}");
    assert_eq!(h.other_hits, 2, "{h:?}");
    // Its snippet marks what that message matched: not `dawn`, which it
    // has, but not in the phrase `at dawn`.
    let marked: Vec<String> = h
        .highlights
        .iter()
        .map(|&[a, b]| h.snippet[a..b].to_lowercase())
        .collect();
    assert_eq!(marked, ["heron", "marsh"], "{h:?}");
    assert_eq!(
        search
            .session_hits("heron marsh \"at dawn\"", three)
            .unwrap(),
        [0, 1, 2]
    );
}

#[test]
fn one_message_with_every_word_ranks_above_words_in_different_messages() {
    let mut st = Store::open_in_memory().unwrap();
    // The split session says each word many times, in short messages: its
    // per-word scores are high, yet it ranks after both sessions where one
    // message has both words.
    session(
        &mut st,
        "split",
        &["kestrel kestrel kestrel", "falconry falconry falconry"],
    );
    session(
        &mut st,
        "together-long",
        &[&format!(
            "a kestrel {} and falconry",
            "with many other words around it ".repeat(20)
        )],
    );
    session(&mut st, "together", &["kestrel falconry"]);
    session(
        &mut st,
        "split-weak",
        &[
            &format!("kestrel {}", "and more words ".repeat(20)),
            &format!("falconry {}", "and more words ".repeat(20)),
        ],
    );
    let mut search = open(&st);
    let r = run(&mut search, "kestrel falconry", all());
    let order: Vec<&str> = r.hits.iter().map(|h| h.session.name.as_str()).collect();
    assert_eq!(order, ["together", "together-long", "split", "split-weak"]);
    assert!(r.hits[0].score >= r.hits[1].score);
    assert!(r.hits[2].score >= r.hits[3].score);
    assert_eq!(r.sessions, 4);
}

#[test]
fn an_exclusion_leaves_out_every_session_that_says_it() {
    let mut st = Store::open_in_memory().unwrap();
    session(&mut st, "fox-then-red", &["the quick fox", "a red barn"]);
    session(&mut st, "fox-only", &["the quick fox", "a blue barn"]);
    session(&mut st, "fox-red", &["the fox is red"]);
    let titled = st
        .create_session(&NewSession {
            name: "titled".into(),
            title: "Red notes".into(),
            ..NewSession::default()
        })
        .unwrap();
    st.add_message(titled.id, NewMessage::new(Role::User, "the fox again"))
        .unwrap();
    let hits = session(&mut st, "phrase", &["fox tracks", "red fox, a barn"]);
    let mut search = open(&st);
    let cases: &[(&str, &[&str])] = &[
        (
            "fox",
            &["fox-then-red", "fox-only", "fox-red", "titled", "phrase"],
        ),
        // Said in another message, or in the title: left out all the same.
        ("fox -red", &["fox-only"]),
        ("fox NOT red", &["fox-only"]),
        ("fox -re*", &["fox-only"]),
        (
            "fox -\"red barn\"",
            &["fox-only", "fox-red", "titled", "phrase"],
        ),
        ("barn -\"quick fox\"", &["phrase"]),
        ("fox -red -blue", &[]),
    ];
    for (q, want) in cases {
        assert_eq!(found(&mut search, q), set(want), "{q}");
    }
    assert!(search.session_hits("fox -red", hits).unwrap().is_empty());
    assert_eq!(
        search.session_hits("fox -\"red barn\"", hits).unwrap(),
        [0, 1]
    );
}

#[test]
fn message_filters_say_which_messages_count_for_every_clause() {
    let mut st = Store::open_in_memory().unwrap();
    session_with(
        &mut st,
        "user-asks-assistant-answers",
        &[
            (Role::User, "a tokio question"),
            (Role::Assistant, "cancellation is cooperative"),
        ],
    );
    session_with(
        &mut st,
        "user-says-both",
        &[
            (Role::User, "a tokio question"),
            (Role::Assistant, "ok"),
            (Role::User, "and cancellation?"),
        ],
    );
    session_with(
        &mut st,
        "assistant-says-red",
        &[(Role::User, "the fox"), (Role::Assistant, "is red")],
    );
    let tagged = session_with(
        &mut st,
        "tagged",
        &[(Role::User, "tokio"), (Role::User, "cancellation")],
    );
    st.update_tags(tagged, &["rust".to_string()], &[]).unwrap();
    let mut search = open(&st);
    let cases: &[(&str, &[&str])] = &[
        (
            "tokio cancellation",
            &["user-asks-assistant-answers", "user-says-both", "tagged"],
        ),
        // Each word in a message of that role.
        (
            "role:user tokio cancellation",
            &["user-says-both", "tagged"],
        ),
        ("role:assistant tokio cancellation", &[]),
        (
            "-role:assistant tokio cancellation",
            &["user-says-both", "tagged"],
        ),
        // Session filters pick sessions, whatever the messages.
        ("tag:rust tokio cancellation", &["tagged"]),
        (
            "-tag:rust tokio cancellation",
            &["user-asks-assistant-answers", "user-says-both"],
        ),
        // An exclusion looks at the messages that count too.
        ("fox -red", &[]),
        ("role:user fox -red", &["assistant-says-red"]),
        ("role:assistant red -fox", &["assistant-says-red"]),
    ];
    for (q, want) in cases {
        assert_eq!(found(&mut search, q), set(want), "{q}");
    }

    // Dates: each word in a message written in the range.
    let day = |d: &str| -> jiff::Timestamp { format!("2025-{d}T12:00:00Z").parse().unwrap() };
    let s = st.create_session(&NewSession::named("dated")).unwrap();
    for (text, when) in [("deploy notes", "01-15"), ("rollback plan", "03-15")] {
        let mut m = NewMessage::new(Role::User, text);
        m.created_at = Some(day(when));
        st.add_message(s.id, m).unwrap();
    }
    let cases: &[(&str, &[&str])] = &[
        ("deploy rollback", &["dated"]),
        ("deploy rollback after:2025-01-01", &["dated"]),
        ("deploy rollback after:2025-02-01", &[]),
        ("deploy rollback before:2025-02-01", &[]),
        ("rollback -deploy", &[]),
        ("rollback -deploy after:2025-02-01", &["dated"]),
    ];
    for (q, want) in cases {
        assert_eq!(found(&mut search, q), set(want), "{q}");
    }
}

#[test]
fn phrases_and_or_groups_match_across_messages() {
    let mut st = Store::open_in_memory().unwrap();
    let split = session(
        &mut st,
        "phrase-then-word",
        &["the quick brown fox", "it jumped over the dog"],
    );
    // Every word of the phrase, but never in a row: not the phrase.
    session(&mut st, "scattered", &["quick notes", "brown dog"]);
    session(
        &mut st,
        "or-split",
        &["we chose graphql", "the schema is typed"],
    );
    session(&mut st, "or-together", &["a grpc schema"]);
    let mut search = open(&st);
    let cases: &[(&str, &[&str])] = &[
        ("\"quick brown\" dog", &["phrase-then-word"]),
        ("dog \"quick brown\"", &["phrase-then-word"]),
        ("quick brown dog", &["phrase-then-word", "scattered"]),
        ("grpc OR graphql schema", &["or-split", "or-together"]),
        ("schema graphql OR grpc", &["or-split", "or-together"]),
        ("\"quick brown\" OR graphql dog", &["phrase-then-word"]),
        ("\"quick brown\" OR graphql schema", &["or-split"]),
        ("qu* dog", &["phrase-then-word", "scattered"]),
    ];
    for (q, want) in cases {
        assert_eq!(found(&mut search, q), set(want), "{q}");
    }
    assert_eq!(
        ranked(&mut search, "grpc OR graphql schema"),
        ["or-together", "or-split"]
    );
    assert_eq!(
        search.session_hits("\"quick brown\" dog", split).unwrap(),
        [0, 1]
    );
}

#[test]
fn pages_of_sessions_matched_across_messages_are_stable() {
    let mut store = Store::open_in_memory().unwrap();
    // A third of the sessions have both words in one message; the others
    // in different messages, said a number of times that varies.
    let mut together = BTreeSet::new();
    for i in 0..30 {
        let name = format!("p{i:02}");
        let texts: Vec<String> = if i % 3 == 0 {
            together.insert(name.clone());
            vec![format!("egret and heron, sighting {i}"), "nothing".into()]
        } else {
            (0..=i % 4)
                .map(|j| format!("egret sighting {j} near the marsh"))
                .chain((0..=i % 5).map(|j| format!("a heron, {j} times")))
                .collect()
        };
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        session(&mut store, &name, &refs);
    }
    let mut search = open(&store);
    let full = run(&mut search, "egret heron", all());
    assert_eq!(full.hits.len(), 30);
    assert_eq!(full.sessions, 30);
    let order: Vec<String> = full.hits.iter().map(|h| h.session.name.clone()).collect();
    let first: BTreeSet<String> = order[..10].iter().cloned().collect();
    assert_eq!(first, together, "one message with both words ranks first");
    assert!(full.hits[..10].windows(2).all(|w| w[0].score >= w[1].score));
    assert!(full.hits[10..].windows(2).all(|w| w[0].score >= w[1].score));
    for h in &full.hits[10..] {
        let i: usize = h.session.name[1..].parse().unwrap();
        assert_eq!(h.other_hits, i % 4 + i % 5 + 1, "{}", h.session.name);
    }

    // Pages are disjoint and together the full list, in its order, whether
    // a page holds sessions of one kind, the other, or both.
    for size in [7, 10, 20] {
        let mut paged = Vec::new();
        for offset in (0..35).step_by(size) {
            let page = run(
                &mut search,
                "egret heron",
                Limit {
                    limit: size,
                    offset,
                    archived: false,
                    snippets: true,
                },
            );
            assert!(page.hits.len() <= size);
            paged.extend(page.hits.iter().map(|h| h.session.name.clone()));
        }
        assert_eq!(paged, order, "pages of {size}");
    }
    assert!(
        run(
            &mut search,
            "egret heron",
            Limit {
                offset: 30,
                ..all()
            }
        )
        .hits
        .is_empty()
    );
    let default = run(&mut search, "egret heron", Limit::default());
    assert_eq!(default.hits.len(), 20);
}

#[test]
fn several_openers_of_the_same_new_store_all_get_its_index() {
    // Two commands started at once on a store that does not exist yet: the
    // index folder one of them is making is never taken for another
    // program's folder by the other.
    for _ in 0..20 {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("new.db");
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let store = Store::open(&path).map_err(|e| e.to_string())?;
                    Search::open(&store, &|_, _| {})
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for o in openers {
            assert_eq!(o.join().unwrap(), Ok(()));
        }
    }
}
