//! Keys to actions. The defaults are a table, the config may rebind any
//! action (`[ui.keys] down = ["j", "down"]`), and the help screen is
//! generated from the result. A key is looked up in the focused pane's layer,
//! then in the main layer, then in the global one.

use std::collections::{BTreeMap, HashMap};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Everywhere outside dialogs and text fields.
    Global,
    /// The main screen, whatever pane has the focus.
    Main,
    /// The session list.
    List,
    /// The history of a session.
    History,
    /// Text boxes: the filter, the search box, the command line (their
    /// keys that type nothing).
    Input,
}

impl Layer {
    /// Name shown on the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Layer::Global => "everywhere",
            Layer::Main => "sessions and history",
            Layer::List => "session list",
            Layer::History => "history",
            Layer::Input => "filter, search and command boxes",
        }
    }
}

/// A key with its modifiers, as bindings name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
}

impl Key {
    /// The key of a terminal event (shift is part of the character).
    pub fn of(e: &KeyEvent) -> Key {
        Key {
            code: e.code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            alt: e.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parses `j`, `G`, `ctrl-d`, `alt-x`, `enter`, `esc`, `tab`, `backtab`,
    /// `space`, `up`, `down`, `left`, `right`, `home`, `end`, `pgup`,
    /// `pgdown`, `delete`, `backspace`, `f1`..`f12`.
    pub fn parse(s: &str) -> Option<Key> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" => KeyCode::PageUp,
            "pgdown" => KeyCode::PageDown,
            "delete" => KeyCode::Delete,
            "backspace" => KeyCode::Backspace,
            f if f.starts_with('f') && f.len() > 1 => KeyCode::F(f[1..].parse().ok()?),
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
            _ => return None,
        };
        Some(Key { code, ctrl, alt })
    }

    /// The key as bindings write it.
    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Enter => "enter".to_string(),
            KeyCode::Esc => "esc".to_string(),
            KeyCode::Tab => "tab".to_string(),
            KeyCode::BackTab => "backtab".to_string(),
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Up => "up".to_string(),
            KeyCode::Down => "down".to_string(),
            KeyCode::Left => "left".to_string(),
            KeyCode::Right => "right".to_string(),
            KeyCode::Home => "home".to_string(),
            KeyCode::End => "end".to_string(),
            KeyCode::PageUp => "pgup".to_string(),
            KeyCode::PageDown => "pgdown".to_string(),
            KeyCode::Delete => "delete".to_string(),
            KeyCode::Backspace => "backspace".to_string(),
            KeyCode::F(n) => format!("f{n}"),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".to_string(),
        };
        let mut s = String::new();
        if self.ctrl {
            s.push_str("ctrl-");
        }
        if self.alt {
            s.push_str("alt-");
        }
        s + &base
    }
}

/// The default bindings.
const DEFAULTS: &[(Layer, Action, &[&str])] = &[
    (Layer::Global, Action::Quit, &["q"]),
    (Layer::Global, Action::Help, &["?"]),
    (Layer::Global, Action::Search, &["/"]),
    (Layer::Global, Action::Stats, &["S"]),
    (Layer::Global, Action::NextPane, &["tab"]),
    (Layer::Global, Action::PrevPane, &["backtab"]),
    (Layer::Global, Action::ToggleMouse, &["M"]),
    (Layer::Global, Action::NewSession, &["+"]),
    (Layer::Global, Action::Import, &["i"]),
    (Layer::Global, Action::Sync, &["I"]),
    (Layer::Global, Action::Cleanup, &["c"]),
    (Layer::Global, Action::Back, &["esc"]),
    (Layer::Global, Action::CommandLine, &[":"]),
    (Layer::Global, Action::Suspend, &["ctrl-z"]),
    (Layer::Main, Action::Down, &["j", "down"]),
    (Layer::Main, Action::Up, &["k", "up"]),
    (Layer::Main, Action::Top, &["g", "home"]),
    (Layer::Main, Action::Bottom, &["G", "end"]),
    (Layer::Main, Action::HalfPageDown, &["ctrl-d"]),
    (Layer::Main, Action::HalfPageUp, &["ctrl-u"]),
    (Layer::Main, Action::PageDown, &["pgdown", "ctrl-f"]),
    (Layer::Main, Action::PageUp, &["pgup", "ctrl-b"]),
    (Layer::Main, Action::Open, &["enter", "l", "right"]),
    (Layer::Main, Action::Branch, &["b"]),
    (Layer::Main, Action::Delete, &["d"]),
    (Layer::Main, Action::Undo, &["u"]),
    (Layer::Main, Action::Rename, &["r"]),
    (Layer::Main, Action::Tags, &["t"]),
    (Layer::Main, Action::Metadata, &["e"]),
    (Layer::Main, Action::Compose, &["a"]),
    (Layer::Main, Action::Export, &["x"]),
    (Layer::Main, Action::CopySession, &["Y"]),
    (Layer::Main, Action::Pager, &["o"]),
    (Layer::Main, Action::Editor, &["E"]),
    (Layer::Main, Action::Resume, &["R"]),
    (Layer::Main, Action::Retitle, &["T"]),
    (Layer::Main, Action::Restore, &["U"]),
    (Layer::Main, Action::Archive, &["A"]),
    (Layer::Main, Action::Purge, &["D"]),
    (Layer::List, Action::Filter, &["f"]),
    (Layer::List, Action::Sort, &["s"]),
    (Layer::List, Action::Mark, &["space"]),
    (Layer::List, Action::Merge, &["m"]),
    (Layer::List, Action::CopySession, &["y"]),
    (Layer::List, Action::ViewState, &["v"]),
    (Layer::History, Action::Copy, &["y"]),
    (Layer::History, Action::Expand, &["z", "enter"]),
    (Layer::History, Action::NextHit, &["n"]),
    (Layer::History, Action::PrevHit, &["N"]),
    (Layer::History, Action::Back, &["h", "left", "esc"]),
    (Layer::Input, Action::Cancel, &["esc"]),
    (Layer::Input, Action::Accept, &["enter"]),
    (
        Layer::Input,
        Action::NextItem,
        &["down", "tab", "ctrl-n", "ctrl-j"],
    ),
    (
        Layer::Input,
        Action::PrevItem,
        &["up", "backtab", "ctrl-p", "ctrl-k"],
    ),
    (Layer::Input, Action::ClearInput, &["ctrl-u"]),
    (Layer::Input, Action::ToggleArchived, &["ctrl-a"]),
];

/// Every action, in the order of the default table.
pub fn all_actions() -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    for (_, a, _) in DEFAULTS {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

/// The help screen's content: each layer's actions with their keys.
pub type HelpGroups = Vec<(Layer, Vec<(Action, Vec<String>)>)>;

/// The active bindings.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: HashMap<(Layer, Key), Action>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self::with_overrides(&BTreeMap::new()).0
    }
}

impl Keymap {
    /// The defaults with the config's `[ui.keys]` applied: an action named
    /// there gets exactly the keys listed, in the layer of its default
    /// binding. An unknown action, or a list with a key that cannot be
    /// read (or no key at all), is ignored with a warning: that action
    /// keeps its defaults.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> (Keymap, Vec<String>) {
        let mut warnings = Vec::new();
        let mut parsed: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for (name, keys) in overrides {
            let Ok(action) =
                serde_json::from_value::<Action>(serde_json::Value::String(name.clone()))
            else {
                warnings.push(format!("unknown action `ui.keys.{name}` (ignored)"));
                continue;
            };
            let bad: Vec<&String> = keys.iter().filter(|k| Key::parse(k).is_none()).collect();
            if !bad.is_empty() {
                warnings.push(format!(
                    "`ui.keys.{name}`: unreadable key {} (the default keys stay)",
                    bad.iter()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                continue;
            }
            if keys.is_empty() {
                warnings.push(format!(
                    "`ui.keys.{name}` lists no key (the default keys stay)"
                ));
                continue;
            }
            parsed.insert(action, keys.iter().filter_map(|k| Key::parse(k)).collect());
        }
        let mut bindings = HashMap::new();
        for &(layer, action, keys) in DEFAULTS {
            if parsed.contains_key(&action) {
                continue;
            }
            for k in keys {
                if let Some(key) = Key::parse(k) {
                    bindings.insert((layer, key), action);
                }
            }
        }
        for (action, keys) in parsed {
            let layer = DEFAULTS
                .iter()
                .find(|(_, a, _)| *a == action)
                .map_or(Layer::Main, |(l, _, _)| *l);
            for key in keys {
                bindings.insert((layer, key), action);
            }
        }
        (Keymap { bindings }, warnings)
    }

    /// The action of a key in the given layers, first match wins.
    pub fn lookup(&self, layers: &[Layer], key: &KeyEvent) -> Option<Action> {
        let k = Key::of(key);
        layers
            .iter()
            .find_map(|l| self.bindings.get(&(*l, k)).copied())
    }

    /// The keys bound to an action (any layer), for hints.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        let mut keys: Vec<String> = self
            .bindings
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|((_, k), _)| k.name())
            .collect();
        // Single characters first (the vim key), then named keys.
        keys.sort_by_key(|k| (k.chars().count() > 1, k.clone()));
        keys
    }

    /// Every layer with its actions and keys, for the help screen.
    pub fn help(&self) -> HelpGroups {
        let mut by_layer: BTreeMap<Layer, BTreeMap<Action, Vec<String>>> = BTreeMap::new();
        for ((layer, key), action) in &self.bindings {
            by_layer
                .entry(*layer)
                .or_default()
                .entry(*action)
                .or_default()
                .push(key.name());
        }
        by_layer
            .into_iter()
            .map(|(l, m)| {
                let actions = m
                    .into_iter()
                    .map(|(a, mut keys)| {
                        keys.sort_by_key(|k| (k.chars().count() > 1, k.clone()));
                        (a, keys)
                    })
                    .collect();
                (l, actions)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn defaults_and_layers() {
        let km = Keymap::default();
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(
            km.lookup(&[Layer::List, Layer::Main, Layer::Global], &j),
            Some(Action::Down)
        );
        let y = key(KeyCode::Char('y'), KeyModifiers::NONE);
        assert_eq!(
            km.lookup(&[Layer::History, Layer::Main], &y),
            Some(Action::Copy)
        );
        assert_eq!(
            km.lookup(&[Layer::List, Layer::Main], &y),
            Some(Action::CopySession)
        );
        let cd = key(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(&[Layer::Main], &cd), Some(Action::HalfPageDown));
        let big_g = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(km.lookup(&[Layer::Main], &big_g), Some(Action::Bottom));
    }

    #[test]
    fn overrides_replace_an_actions_keys_and_warn_on_nonsense() {
        let mut o = BTreeMap::new();
        o.insert(
            "down".to_string(),
            vec!["ctrl-n".to_string(), "bogus-key".to_string()],
        );
        o.insert("fly".to_string(), vec!["x".to_string()]);
        o.insert("up".to_string(), vec!["ctrl-p".to_string()]);
        let (km, warnings) = Keymap::with_overrides(&o);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("bogus-key"), "{warnings:?}");
        // A list with an unreadable key is ignored whole: the defaults stay.
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(km.lookup(&[Layer::Main], &j), Some(Action::Down));
        let cn = key(KeyCode::Char('n'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(&[Layer::Main], &cn), None);
        // A good list replaces the action's keys.
        let k = key(KeyCode::Char('k'), KeyModifiers::NONE);
        assert_eq!(km.lookup(&[Layer::Main], &k), None);
        let cp = key(KeyCode::Char('p'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(&[Layer::Main], &cp), Some(Action::Up));
        assert!(km.help().iter().any(|(_, acts)| {
            acts.iter()
                .any(|(a, ks)| *a == Action::Up && ks == &["ctrl-p"])
        }));
    }

    #[test]
    fn key_names_round_trip() {
        for k in [
            "j", "G", "ctrl-d", "alt-x", "enter", "backtab", "space", "pgdown", "f5", "?",
        ] {
            assert_eq!(Key::parse(k).map(|k| k.name()).as_deref(), Some(k));
        }
        assert_eq!(Key::parse("nonsense"), None);
    }
}
