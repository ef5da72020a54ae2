//! Query strings and JSON bodies, read strictly: an unknown parameter or
//! field, a wrong type or a body over the limit is a 400 or 413 that says
//! which and where.

use axum::body::Body;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::ApiError;

/// The parameters of a query string, in order; a key may repeat.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Reads `query`, refusing keys not in `allowed`.
    pub(crate) fn parse(query: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| ApiError::bad("bad_parameter", format!("query string: {e}")))?;
        if let Some((k, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(ApiError::bad(
                "bad_parameter",
                format!(
                    "unknown query parameter {k:?}; this endpoint takes: {}",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            ));
        }
        Ok(Params(pairs))
    }

    /// The value of `key` (the last, when given more than once).
    pub(crate) fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every tag given: `tag` repeated, or comma-separated (a tag holds no
    /// comma; a metadata value may, so only tags are split).
    pub(crate) fn tags(&self) -> Vec<String> {
        self.all("tag")
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A whole number.
    pub(crate) fn number(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.one(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad(
                        "bad_parameter",
                        format!("query parameter {key}={v:?}: expected a whole number"),
                    )
                })
            })
            .transpose()
    }

    /// `true` or `false` (`1`, `0`, or the key alone mean the same).
    pub(crate) fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.one(key) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "") => Ok(true),
            Some(v) => Err(ApiError::bad(
                "bad_parameter",
                format!("query parameter {key}={v:?}: expected true or false"),
            )),
        }
    }
}

/// How much of a body over the limit is still read (and thrown away)
/// before answering, so that a client still sending gets its 413 rather
/// than a connection cut under it.
const DRAIN: usize = 8 << 20;

/// Reads a body of at most `limit` bytes.
pub(crate) async fn body_bytes(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad(
                "bad_body",
                format!("the request body could not be read: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > limit.saturating_add(DRAIN) {
            break;
        }
        if seen <= limit {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(too_large(limit));
    }
    Ok(kept.into())
}

/// The answer to a body over `limit` bytes.
pub(crate) fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "the request body is over the limit of {limit} bytes (config key serve.max_body_mb)"
        ),
    )
}

/// Parses JSON, naming the line and column of what is wrong.
pub(crate) fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad(
            "bad_json",
            "the request body is empty; expected a JSON object",
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad("bad_json", format!("request body: {e}")))
}

/// Reads a JSON value as `T`, naming where in the body it was (`what`).
pub(crate) fn from_value<T: DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::bad("bad_json", format!("{what}: {e}")))
}
