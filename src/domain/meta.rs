//! The one grammar of metadata assignments, for the command line (`meta
//! NAME key=value`), the TUI's metadata dialog (`key = value` lines) and
//! anything else that sets a key: `key = text` sets the text as it is,
//! `key := json` sets a JSON value (a number, `true`, a list), `key =` with
//! nothing after it removes the key.

use serde_json::{Map, Value};

/// Reads one assignment: the key, and the value (`None`: remove the key).
pub fn parse_assignment(s: &str) -> Result<(String, Option<Value>), String> {
    let Some((k, v)) = s.split_once('=') else {
        return Err(format!(
            "{s:?}: expected `key = text`, `key := json` or `key =` (to remove it)"
        ));
    };
    let (k, json) = match k.trim_end().strip_suffix(':') {
        Some(k) => (k.trim(), true),
        None => (k.trim(), false),
    };
    if k.is_empty() {
        return Err(format!("{s:?}: the key is empty"));
    }
    let v = v.trim();
    if json {
        let value = serde_json::from_str(v)
            .map_err(|e| format!("{s:?}: the value after := must be JSON ({e})"))?;
        return Ok((k.to_string(), Some(value)));
    }
    Ok((
        k.to_string(),
        (!v.is_empty()).then(|| Value::String(v.to_string())),
    ))
}

/// Writes one key and value so that [`parse_assignment`] reads them back.
pub fn render_assignment(key: &str, value: &Value) -> String {
    match value {
        Value::String(s) if !s.is_empty() && s.trim() == s && !s.contains('\n') => {
            format!("{key} = {s}")
        }
        other => format!("{key} := {other}"),
    }
}

/// Reads `key = value` lines (blank lines and `#` comments skipped) into
/// the metadata they describe; errors name the line.
pub fn parse_lines(text: &str) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = parse_assignment(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if let Some(v) = v {
            map.insert(k, v);
        }
    }
    Ok(map)
}

/// Metadata as lines that [`parse_lines`] reads back to the same map.
pub fn render_lines(m: &Map<String, Value>) -> String {
    m.iter()
        .map(|(k, v)| render_assignment(k, v))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_json_and_removal() {
        assert_eq!(
            parse_assignment("priority=2"),
            Ok(("priority".into(), Some(json!("2"))))
        );
        assert_eq!(
            parse_assignment("priority := 2"),
            Ok(("priority".into(), Some(json!(2))))
        );
        assert_eq!(
            parse_assignment(" topic = async rust "),
            Ok(("topic".into(), Some(json!("async rust"))))
        );
        assert_eq!(parse_assignment("gone="), Ok(("gone".into(), None)));
        assert!(parse_assignment("x:=nope").is_err());
        assert!(parse_assignment("=3").is_err());
        assert!(parse_assignment("novalue").is_err());
    }

    #[test]
    fn lines_round_trip_every_kind_of_value() {
        let m: Map<String, Value> = json!({
            "topic": "rust", "priority": 2, "quoted": "2", "billable": true,
            "list": [1, "a"], "padded": " x ", "empty": "", "multi": "a\nb", "null": null,
        })
        .as_object()
        .expect("an object")
        .clone();
        assert_eq!(parse_lines(&render_lines(&m)), Ok(m));
        assert_eq!(
            parse_lines("a = 1\nnonsense").expect_err("bad line"),
            "line 2: \"nonsense\": expected `key = text`, `key := json` or `key =` (to remove it)"
        );
    }
}
