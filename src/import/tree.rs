//! Conversations that are trees (edits, regenerations, rewinds, forks) made
//! into sessions: the path from the root to the main leaf is the session, and
//! every other leaf's path is a branch session whose parent is the path it
//! left and whose fork point is the last message the two share.
//!
//! A format adds its nodes in file order, each with the messages it holds
//! (possibly none, such as an empty root). Nodes that are not real branches
//! (the parts of one split reply, parallel tool results) are the format's to
//! fold into one chain before they get here, with [`Tree::alias`] where a
//! later node names a folded one as its parent.

use std::collections::HashMap;

use crate::domain::{MessageDoc, SessionDoc, Uid};

use super::ids::uid_for;

/// A tree of nodes, each holding messages.
#[derive(Default)]
pub struct Tree {
    nodes: Vec<Node>,
    by_id: HashMap<String, usize>,
}

struct Node {
    id: String,
    parent: Option<String>,
    messages: Vec<MessageDoc>,
    children: Vec<usize>,
    parent_index: Option<usize>,
}

/// One path of a tree, ready to be a session.
pub struct TreePath {
    /// Every message from the root to the leaf.
    pub messages: Vec<MessageDoc>,
    /// For a branch: the index (in the list returned) of the path it left, and
    /// the seq of the last message they share (`None` when they share none).
    pub fork: Option<(usize, Option<u64>)>,
    /// The id of the first node of the path that its parent path lacks (the
    /// leaf's own id for the main path): stable as the path grows.
    pub first_own: String,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node. A node whose id was seen before is ignored (a resumed
    /// session repeats its lines): returns false then. A parent that is
    /// never added makes the node a root.
    pub fn add(&mut self, id: &str, parent: Option<&str>, messages: Vec<MessageDoc>) -> bool {
        if self.by_id.contains_key(id) {
            return false;
        }
        self.by_id.insert(id.to_string(), self.nodes.len());
        self.nodes.push(Node {
            id: id.to_string(),
            parent: parent.map(str::to_string),
            messages,
            children: Vec::new(),
            parent_index: None,
        });
        true
    }

    /// Makes `id` another name of node `target` (a line folded into the node
    /// of the reply it is part of): children naming `id` hang off `target`.
    pub fn alias(&mut self, id: &str, target: &str) {
        if let Some(&i) = self.by_id.get(target) {
            self.by_id.entry(id.to_string()).or_insert(i);
        }
    }

    /// Appends messages to a node already added (a reply split over lines).
    pub fn extend(&mut self, id: &str, messages: impl IntoIterator<Item = MessageDoc>) -> bool {
        match self.by_id.get(id) {
            Some(&i) => {
                self.nodes[i].messages.extend(messages);
                true
            }
            None => false,
        }
    }

    /// Every path, the main one first. The main path ends at `main_leaf`
    /// (any node: the path goes on through its last-added children down to
    /// a leaf), or at the last node added when `None` or unknown. The other
    /// leaves follow in the order they were added; a path that carries no
    /// message of its own is left out.
    pub fn into_paths(mut self, main_leaf: Option<&str>) -> Vec<TreePath> {
        if self.nodes.is_empty() {
            return Vec::new();
        }
        self.link();
        let start = main_leaf
            .and_then(|id| self.by_id.get(id).copied())
            .unwrap_or(self.nodes.len() - 1);
        // Down from the chosen node through the latest children to a leaf.
        let mut leaf = start;
        while let Some(&c) = self.nodes[leaf].children.last() {
            leaf = c;
        }
        let mut leaves = vec![leaf];
        leaves.extend(
            (0..self.nodes.len()).filter(|&i| self.nodes[i].children.is_empty() && i != leaf),
        );
        // For each node on an emitted path: (path index, position of the
        // node's last message in that path, plus one).
        let mut placed: HashMap<usize, (usize, usize)> = HashMap::new();
        let mut paths: Vec<TreePath> = Vec::new();
        for leaf in leaves {
            // Up from the leaf to the root or to a node already placed.
            let mut own = Vec::new();
            let mut at = Some(leaf);
            let mut fork = None;
            while let Some(i) = at {
                if let Some(&p) = placed.get(&i) {
                    fork = Some(p);
                    break;
                }
                own.push(i);
                at = self.nodes[i].parent_index;
            }
            own.reverse();
            if own.iter().all(|&i| self.nodes[i].messages.is_empty()) && fork.is_some() {
                continue;
            }
            let mut messages: Vec<MessageDoc> = match fork {
                Some((p, upto)) => paths[p].messages[..upto].to_vec(),
                None => Vec::new(),
            };
            let index = paths.len();
            for &i in &own {
                messages.extend(std::mem::take(&mut self.nodes[i].messages));
                placed.insert(i, (index, messages.len()));
            }
            let first_own = match (fork, own.first()) {
                (None, _) | (_, None) => self.nodes[leaf].id.clone(),
                (Some(_), Some(&first)) => self.nodes[first].id.clone(),
            };
            paths.push(TreePath {
                messages,
                fork: fork.map(|(p, upto)| (p, (upto as u64).checked_sub(1))),
                first_own,
            });
        }
        paths
    }

    /// Resolves parents to indexes, dropping links that would make a cycle.
    fn link(&mut self) {
        for i in 0..self.nodes.len() {
            let parent = self.nodes[i]
                .parent
                .as_deref()
                .and_then(|p| self.by_id.get(p).copied())
                .filter(|&p| p != i);
            self.nodes[i].parent_index = parent;
        }
        // A cycle (hostile input): cut it where it closes.
        let mut state = vec![0u8; self.nodes.len()]; // 0 new, 1 on the walk, 2 done
        for start in 0..self.nodes.len() {
            let mut walk: Vec<usize> = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at {
                match state[i] {
                    2 => break,
                    1 => {
                        if let Some(&last) = walk.last() {
                            self.nodes[last].parent_index = None;
                        }
                        break;
                    }
                    _ => {
                        state[i] = 1;
                        walk.push(i);
                        at = self.nodes[i].parent_index;
                    }
                }
            }
            for i in walk {
                state[i] = 2;
            }
        }
        for i in 0..self.nodes.len() {
            if let Some(p) = self.nodes[i].parent_index {
                self.nodes[p].children.push(i);
            }
        }
    }
}

/// Sessions from the paths of a tree. `base` gives what every path shares
/// (name, title, times, metadata, source); its `source_ref` names the
/// conversation. The main path keeps that reference, a branch's is
/// `REF@ID` with the id of its first own node, and every uid is derived from
/// the source and the reference, so that the branches name their parents.
/// Branch names are the main name with `~2`, `~3`... appended.
pub fn sessions(base: &SessionDoc, paths: Vec<TreePath>) -> Vec<SessionDoc> {
    let source = base.source.clone().unwrap_or_else(|| "scrollback".into());
    let root_ref = base.source_ref.clone().unwrap_or_default();
    let mut uids: Vec<Uid> = Vec::with_capacity(paths.len());
    let mut out = Vec::with_capacity(paths.len());
    for (i, path) in paths.into_iter().enumerate() {
        let source_ref = if path.fork.is_none() && i == 0 {
            root_ref.clone()
        } else {
            format!("{root_ref}@{}", path.first_own)
        };
        let uid = uid_for(&source, &source_ref);
        uids.push(uid.clone());
        let mut doc = base.clone();
        doc.uid = Some(uid);
        doc.source_ref = Some(source_ref);
        if i > 0 {
            doc.name = base.name.as_ref().map(|n| format!("{n}~{}", i + 1));
        }
        if let Some((p, seq)) = path.fork {
            doc.parent = uids.get(p).cloned();
            doc.fork_seq = seq;
        }
        doc.messages = path.messages;
        out.push(doc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn m(text: &str) -> Vec<MessageDoc> {
        vec![MessageDoc {
            role: Some(Role::User),
            content: text.into(),
            source_id: Some(text.into()),
            ..MessageDoc::default()
        }]
    }

    fn texts(p: &TreePath) -> Vec<&str> {
        p.messages.iter().map(|m| m.content.as_str()).collect()
    }

    #[test]
    fn a_chain_is_one_path() {
        let mut t = Tree::new();
        t.add("a", None, m("a"));
        t.add("b", Some("a"), m("b"));
        t.add("c", Some("b"), m("c"));
        let paths = t.into_paths(None);
        assert_eq!(paths.len(), 1);
        assert_eq!(texts(&paths[0]), ["a", "b", "c"]);
        assert!(paths[0].fork.is_none());
    }

    #[test]
    fn the_main_leaf_comes_first_and_others_fork_from_it() {
        // a - b - c          (old path, written first)
        //      \- d - e      (a rewind to b, the latest leaf)
        let mut t = Tree::new();
        t.add("a", None, m("a"));
        t.add("b", Some("a"), m("b"));
        t.add("c", Some("b"), m("c"));
        t.add("d", Some("b"), m("d"));
        t.add("e", Some("d"), m("e"));
        let paths = t.into_paths(None);
        assert_eq!(paths.len(), 2);
        assert_eq!(texts(&paths[0]), ["a", "b", "d", "e"]);
        assert_eq!(texts(&paths[1]), ["a", "b", "c"]);
        assert_eq!(paths[1].fork, Some((0, Some(1))));
        assert_eq!(paths[1].first_own, "c");
    }

    #[test]
    fn a_chosen_leaf_wins_and_repeats_and_cycles_are_harmless() {
        let mut t = Tree::new();
        t.add("root", None, Vec::new());
        t.add("a", Some("root"), m("a"));
        t.add("b", Some("root"), m("b"));
        assert!(!t.add("a", Some("b"), m("again")));
        t.add("x", Some("y"), m("x"));
        t.add("y", Some("x"), m("y"));
        let paths = t.into_paths(Some("a"));
        assert_eq!(texts(&paths[0]), ["a"]);
        assert_eq!(texts(&paths[1]), ["b"]);
        // Nothing shared: a branch at an empty root has no fork seq.
        assert_eq!(paths[1].fork, Some((0, None)));
        let all: Vec<Vec<&str>> = paths.iter().map(texts).collect();
        assert!(
            all.contains(&vec!["x", "y"]) || all.contains(&vec!["y", "x"]),
            "{all:?}"
        );
    }

    #[test]
    fn sessions_name_their_parents() {
        let mut t = Tree::new();
        t.add("a", None, m("a"));
        t.add("b", Some("a"), m("b"));
        t.add("c", Some("a"), m("c"));
        let base = SessionDoc {
            name: Some("s".into()),
            source: Some("x".into()),
            source_ref: Some("S".into()),
            ..SessionDoc::default()
        };
        let docs = sessions(&base, t.into_paths(None));
        assert_eq!(docs[0].source_ref.as_deref(), Some("S"));
        assert_eq!(docs[1].source_ref.as_deref(), Some("S@b"));
        assert_eq!(docs[1].parent, docs[0].uid);
        assert_eq!(docs[1].fork_seq, Some(0));
        assert_eq!(docs[1].name.as_deref(), Some("s~2"));
        assert_eq!(docs[0].uid, Some(uid_for("x", "S")));
    }
}
