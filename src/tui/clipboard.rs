//! Copying to the clipboard from a terminal, local or over SSH: OSC 52 to
//! the terminal, tmux's own paste buffer inside tmux, and tmux passthrough
//! only where tmux would otherwise drop the sequence. What was done is said
//! in words for the status bar (`copied 120 bytes ...`), or why not.

use std::io::Write;
use std::process::{Command, Stdio};

/// Largest text sent by OSC 52 (terminals drop longer sequences).
pub const OSC52_LIMIT: usize = 1 << 20;

/// What the terminal around us is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClipEnv {
    /// Inside tmux (`$TMUX`).
    pub tmux: bool,
    /// tmux's `set-clipboard` (`on`, `external`, `off`), if it answered.
    pub set_clipboard: Option<String>,
    /// tmux's `allow-passthrough` (`on`, `all`, `off`), if it answered.
    pub passthrough: Option<String>,
    /// Inside GNU screen (`$STY`).
    pub screen: bool,
}

/// How to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Put the text in tmux's paste buffer (`load-buffer -w` also hands it
    /// to the outer clipboard when `set-clipboard` allows).
    pub tmux_buffer: bool,
    /// Write OSC 52: plain, or wrapped for tmux or screen passthrough.
    pub osc52: Option<Wrap>,
}

/// How an OSC 52 sequence is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    Plain,
    Tmux,
    Screen,
}

/// Chooses how to copy `len` bytes.
pub fn plan(env: &ClipEnv, len: usize) -> Plan {
    let fits = len <= OSC52_LIMIT;
    if env.tmux {
        let clipboard_on = matches!(env.set_clipboard.as_deref(), Some("on" | "external"));
        let passthrough = matches!(env.passthrough.as_deref(), Some("on" | "all"));
        return Plan {
            tmux_buffer: true,
            // With set-clipboard on, tmux forwards the buffer itself; only
            // when it is off can passthrough reach the outer terminal.
            osc52: (fits && !clipboard_on && passthrough).then_some(Wrap::Tmux),
        };
    }
    Plan {
        tmux_buffer: false,
        osc52: fits.then_some(if env.screen {
            Wrap::Screen
        } else {
            Wrap::Plain
        }),
    }
}

/// The OSC 52 sequence that sets the clipboard to `text`.
pub fn osc52(text: &str, wrap: Wrap) -> String {
    let seq = format!("\u{1b}]52;c;{}\u{7}", super::base64(text.as_bytes()));
    match wrap {
        Wrap::Plain => seq,
        Wrap::Tmux => format!(
            "\u{1b}Ptmux;{}\u{1b}\\",
            seq.replace('\u{1b}', "\u{1b}\u{1b}")
        ),
        Wrap::Screen => format!("\u{1b}P{seq}\u{1b}\\"),
    }
}

/// Reads the environment (and asks tmux for its options).
pub fn detect() -> ClipEnv {
    let tmux = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
    let option = |name: &str| -> Option<String> {
        let out = Command::new("tmux")
            .args(["show-options", "-gv", name])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    ClipEnv {
        tmux,
        set_clipboard: if tmux { option("set-clipboard") } else { None },
        passthrough: if tmux {
            option("allow-passthrough")
        } else {
            None
        },
        screen: std::env::var_os("STY").is_some(),
    }
}

/// Copies `text`: returns what to tell the user, or why it failed.
pub fn copy(text: &str, what: &str, out: &mut dyn Write) -> Result<String, String> {
    let env = detect();
    let p = plan(&env, text.len());
    let n = text.len();
    let mut done = Vec::new();
    let forwarded = matches!(env.set_clipboard.as_deref(), Some("on" | "external"));
    if p.tmux_buffer {
        if load_tmux_buffer(text) {
            done.push(if forwarded {
                "tmux's paste buffer and the clipboard"
            } else {
                "tmux's paste buffer"
            });
        } else if p.osc52.is_none() {
            // tmux did not take it: try the sequence, which tmux reads
            // itself when set-clipboard is on.
            write(out, &osc52(text, Wrap::Plain))?;
            return Ok(format!("copied {what}: {n} bytes (OSC 52 through tmux)"));
        }
    }
    if let Some(wrap) = p.osc52 {
        write(out, &osc52(text, wrap))?;
        done.push(match wrap {
            Wrap::Plain => "the terminal's clipboard (OSC 52)",
            Wrap::Tmux => "the outer terminal (tmux passthrough)",
            Wrap::Screen => "the terminal's clipboard (OSC 52 through screen)",
        });
    }
    if done.is_empty() {
        return Err(format!(
            "not copied: {what} is {n} bytes, more than a terminal takes by OSC 52 ({OSC52_LIMIT}); x exports it"
        ));
    }
    let mut message = format!("copied {what}: {n} bytes to {}", done.join(" and "));
    if env.tmux
        && !matches!(env.set_clipboard.as_deref(), Some("on" | "external"))
        && p.osc52.is_none()
    {
        message.push_str(" (tmux's set-clipboard is off: prefix ] pastes it)");
    }
    Ok(message)
}

fn write(out: &mut dyn Write, seq: &str) -> Result<(), String> {
    out.write_all(seq.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("not copied: the terminal cannot be written ({e})"))
}

/// `tmux load-buffer -w -` (tmux 3.2+ also sets the outer clipboard), or
/// without `-w` for an older tmux.
fn load_tmux_buffer(text: &str) -> bool {
    let run = |args: &[&str]| -> bool {
        let Ok(mut child) = Command::new("tmux")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return false;
        };
        let wrote = child
            .stdin
            .take()
            .is_some_and(|mut i| i.write_all(text.as_bytes()).is_ok());
        child.wait().is_ok_and(|s| s.success()) && wrote
    };
    run(&["load-buffer", "-w", "-"]) || run(&["load-buffer", "-"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmux(clip: &str, pass: &str) -> ClipEnv {
        ClipEnv {
            tmux: true,
            set_clipboard: Some(clip.into()),
            passthrough: Some(pass.into()),
            screen: false,
        }
    }

    #[test]
    fn plain_osc52_outside_tmux_and_wrapped_for_screen() {
        assert_eq!(
            plan(&ClipEnv::default(), 10),
            Plan {
                tmux_buffer: false,
                osc52: Some(Wrap::Plain)
            }
        );
        let screen = ClipEnv {
            screen: true,
            ..ClipEnv::default()
        };
        assert_eq!(plan(&screen, 10).osc52, Some(Wrap::Screen));
        assert_eq!(plan(&ClipEnv::default(), OSC52_LIMIT + 1).osc52, None);
    }

    #[test]
    fn inside_tmux_the_buffer_and_passthrough_only_when_needed() {
        // set-clipboard on: tmux forwards its buffer; no passthrough.
        assert_eq!(
            plan(&tmux("on", "on"), 10),
            Plan {
                tmux_buffer: true,
                osc52: None
            }
        );
        assert_eq!(plan(&tmux("external", "off"), 10).osc52, None);
        // Off, but passthrough allowed: wrap it.
        assert_eq!(plan(&tmux("off", "on"), 10).osc52, Some(Wrap::Tmux));
        // Off and no passthrough: the buffer alone.
        assert_eq!(plan(&tmux("off", "off"), 10).osc52, None);
        assert!(plan(&tmux("off", "off"), 10).tmux_buffer);
    }

    #[test]
    fn sequences() {
        assert_eq!(osc52("hi", Wrap::Plain), "\u{1b}]52;c;aGk=\u{7}");
        assert_eq!(
            osc52("hi", Wrap::Tmux),
            "\u{1b}Ptmux;\u{1b}\u{1b}]52;c;aGk=\u{7}\u{1b}\\"
        );
        assert_eq!(
            osc52("hi", Wrap::Screen),
            "\u{1b}P\u{1b}]52;c;aGk=\u{7}\u{1b}\\"
        );
    }
}
