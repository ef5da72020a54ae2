//! Rules for session names and tags.

use crate::error::{Error, Result};

/// Longest allowed session name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Checks a session name: not empty or blank, no control characters or
/// bidi controls (which reorder what a terminal shows), no `/`, at most
/// [`MAX_NAME_CHARS`] characters.
pub fn validate_name(name: &str) -> Result<()> {
    let expected =
        "a non-empty name of at most 200 characters without '/', control or bidi characters";
    if name.trim().is_empty() {
        return Err(Error::invalid("name", name, expected));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid("name", name, expected));
    }
    if name
        .chars()
        .any(|c| c == '/' || crate::sanitize::is_unsafe(c))
    {
        return Err(Error::invalid("name", name, expected));
    }
    Ok(())
}

/// Checks a tag: 1 to 100 characters, no whitespace, no control characters,
/// no commas, and not starting with `+` or `-` (those mean add/remove on the CLI).
pub fn validate_tag(tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag.chars().count() <= 100
        && !tag.starts_with(['+', '-'])
        && !tag
            .chars()
            .any(|c| c.is_whitespace() || crate::sanitize::is_unsafe(c) || c == ',');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "tag",
            tag,
            "1 to 100 characters, no spaces, commas or control characters, not starting with + or -",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("project-planning").is_ok());
        assert!(validate_name("Plan B (draft) ✓").is_ok());
        assert!(validate_name(&"x".repeat(200)).is_ok());
        for bad in [
            "",
            "   ",
            "a/b",
            "tab\there",
            "bell\u{7}",
            "evil\u{202E}txt",
            "iso\u{2067}late",
            &"x".repeat(201),
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn tags() {
        assert!(validate_tag("work").is_ok());
        assert!(validate_tag("lang/rust").is_ok());
        for bad in [
            "",
            "two words",
            "+x",
            "-x",
            "a,b",
            "nl\n",
            "rtl\u{202E}",
            "c1\u{9b}",
        ] {
            assert!(validate_tag(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
