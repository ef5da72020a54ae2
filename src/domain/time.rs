//! Times: storage as milliseconds since the Unix epoch, parsing of spans and
//! dates given by people (`30d`, `2w`, `2026-01-01`), and relative display.

use jiff::{Span, Timestamp, civil::Date, tz::TimeZone};

use crate::error::{Error, Result};

/// The current time, truncated to milliseconds (the store's precision).
pub fn now() -> Timestamp {
    ts_from_ms(Timestamp::now().as_millisecond())
}

/// Milliseconds since the epoch, as stored.
pub fn ts_to_ms(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

/// A stored millisecond count back to a timestamp (clamped to jiff's range).
pub fn ts_from_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Parses a moment given as RFC 3339 (`2026-01-01T10:00:00Z`, any offset),
/// a date and time without a zone (`2026-01-01T10:00:00`, UTC), or a date
/// (`2026-01-01`, midnight UTC). The result is truncated to milliseconds.
/// The one parser of times for imports, the command line, the TUI and the
/// query language.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts_from_ms(ts.as_millisecond()));
    }
    // `strptime` insists on the whole value, unlike `Date::from_str`, which
    // would silently drop the time of `2026-01-01T10:00:00`.
    let civil = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| jiff::civil::DateTime::strptime(f, s).ok())
    .or_else(|| {
        Date::strptime("%Y-%m-%d", s)
            .ok()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })?;
    let ts = civil.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(ts_from_ms(ts.as_millisecond()))
}

/// What [`parse_moment`] reads, for error messages.
pub const MOMENT_EXPECTED: &str = "a span back from now (30d, 2w, 12h, 6mo, 1y, 90m), a date \
     (2026-01-01), or a date and time (2026-01-01T10:00:00, UTC unless it says +02:00 or Z)";

/// A moment as people give it: a time or date ([`parse_time`]), or a
/// positive span back from `now` (`30d`, `2w`, `12h`, `6mo`, `1y`, `90m`).
pub fn parse_moment(s: &str, now: Timestamp) -> Option<Timestamp> {
    if let Some(ts) = parse_time(s) {
        return Some(ts);
    }
    let span: Span = s.trim().parse().ok()?;
    if span.is_negative() || span.is_zero() {
        return None;
    }
    let back = now.to_zoned(TimeZone::UTC).checked_sub(span).ok()?;
    Some(back.timestamp())
}

/// Turns "older than X" into a cut-off moment ([`parse_moment`]).
pub fn parse_before(s: &str, now: Timestamp) -> Result<Timestamp> {
    parse_moment(s, now).ok_or_else(|| Error::invalid("time", s, MOMENT_EXPECTED))
}

/// "just now", "5m ago", "3h ago", "2d ago", "4mo ago", "2y ago"; future times as "in 3h".
pub fn format_relative(ts: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second() - ts.as_second();
    let (ago, secs) = if secs >= 0 {
        (true, secs)
    } else {
        (false, -secs)
    };
    let text = match secs {
        0..60 => return "just now".to_string(),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h", secs / 3_600),
        86_400..2_592_000 => format!("{}d", secs / 86_400),
        2_592_000..31_536_000 => format!("{}mo", secs / 2_592_000),
        _ => format!("{}y", secs / 31_536_000),
    };
    if ago {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("test timestamp")
    }

    #[test]
    fn spans_and_dates() {
        let now = t("2026-11-21T12:00:00Z");
        assert_eq!(
            parse_before("30d", now).ok(),
            Some(t("2026-10-22T12:00:00Z"))
        );
        assert_eq!(
            parse_before("2w", now).ok(),
            Some(t("2026-11-07T12:00:00Z"))
        );
        assert_eq!(
            parse_before("12h", now).ok(),
            Some(t("2026-11-21T00:00:00Z"))
        );
        assert_eq!(
            parse_before("1y", now).ok(),
            Some(t("2025-11-21T12:00:00Z"))
        );
        assert_eq!(
            parse_before("2026-01-01", now).ok(),
            Some(t("2026-01-01T00:00:00Z"))
        );
        // A date and time without a zone is that time in UTC, everywhere.
        assert_eq!(
            parse_before("2026-01-01T10:00:00", now).ok(),
            Some(t("2026-01-01T10:00:00Z"))
        );
        assert_eq!(
            parse_before("2026-01-01 10:30", now).ok(),
            Some(t("2026-01-01T10:30:00Z"))
        );
        assert_eq!(
            parse_before("2026-01-01T10:00:00+02:00", now).ok(),
            Some(t("2026-01-01T08:00:00Z"))
        );
        for bad in [
            "",
            "soon",
            "-3d",
            "0d",
            "3 parsecs",
            "2026-01-01Tnoon",
            "2026-13-01",
        ] {
            assert!(parse_before(bad, now).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn relative() {
        let now = t("2026-11-21T12:00:00Z");
        assert_eq!(format_relative(t("2026-11-21T11:59:30Z"), now), "just now");
        assert_eq!(format_relative(t("2026-11-21T09:00:00Z"), now), "3h ago");
        assert_eq!(format_relative(t("2026-11-19T12:00:00Z"), now), "2d ago");
        assert_eq!(format_relative(t("2026-11-21T15:00:00Z"), now), "in 3h");
    }

    #[test]
    fn millisecond_round_trip() {
        let ts = t("2026-11-21T12:00:00.123456Z");
        let stored = ts_to_ms(parse_time("2026-11-21T12:00:00.123456Z").expect("parses"));
        assert_eq!(ts_from_ms(stored), t("2026-11-21T12:00:00.123Z"));
        assert_ne!(ts_from_ms(stored), ts);
    }
}
