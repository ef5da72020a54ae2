//! One handler per endpoint: read the request strictly, run one library
//! operation, answer JSON. The shapes are those of [`crate::api`], and the
//! OpenAPI document ([`super::openapi`]) describes them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::params::{Params, body_bytes, from_value, json};
use super::{ApiError, Shared};
use crate::api::{self, HistoryQuery};
use crate::domain::{
    CleanupAction, CleanupCriteria, Kind, ListCursor, ListQuery, MergeOrder, NewMessage,
    NewSession, Role, Session, Sort, StateFilter, Tokens, Uid, now, parse_before,
};
use crate::error::{Error, Result};
use crate::store::{SessionPatch, Store};

type St = State<Arc<Shared>>;
type Answer = Result<Response, ApiError>;

/// The `{id}` of a path: a session's name or uid.
pub(crate) struct Id(String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Id(id))
            .map_err(|e| ApiError::bad("bad_path", e.body_text()))
    }
}

#[allow(clippy::unnecessary_wraps)] // reads as the answer of a handler
fn ok(value: impl serde::Serialize) -> Answer {
    Ok(Json(value).into_response())
}

#[allow(clippy::unnecessary_wraps)] // reads as the answer of a handler
fn created(value: impl serde::Serialize) -> Answer {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// A session by exact name or uid. A trashed session is not found unless
/// `trashed` says so: for a client, a deleted session is gone.
fn find(store: &Store, id: &str, trashed: bool) -> Result<Session> {
    let s = store.session_exact(id)?;
    if s.trashed && !trashed {
        return Err(Error::NotFound(id.to_string()));
    }
    Ok(s)
}

async fn body(state: &Shared, req: Request) -> Result<Value, ApiError> {
    let bytes = body_bytes(req.into_body(), state.options.max_body_bytes).await?;
    json(&bytes)
}

pub(crate) async fn healthz(State(state): St) -> Answer {
    let version = state.read(|store| Ok(store.schema_version()?)).await?;
    ok(json!({ "status": "ok", "schema_version": version }))
}

pub(crate) async fn openapi() -> Answer {
    ok(super::openapi::document())
}

pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        format!(
            "no endpoint {method} {}; the endpoints are listed at /api/openapi.json",
            uri.path()
        ),
    )
}

pub(crate) async fn no_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not take {method}; see /api/openapi.json",
            uri.path()
        ),
    )
}

pub(crate) async fn list(State(state): St, uri: Uri) -> Answer {
    let p = Params::parse(
        uri.query(),
        &[
            "tag",
            "where",
            "source",
            "older_than",
            "state",
            "sort",
            "limit",
            "cursor",
        ],
    )?;
    let metadata = p
        .all("where")
        .into_iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    ApiError::bad("bad_parameter", format!("where={w:?}: expected KEY=VALUE"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let state_filter = match p.one("state").unwrap_or("live") {
        "live" => StateFilter::Live,
        "archived" => StateFilter::Archived,
        "trashed" => StateFilter::Trashed,
        "all" => StateFilter::All,
        other => {
            return Err(ApiError::bad(
                "bad_parameter",
                format!("state={other:?}: expected live, archived, trashed or all"),
            ));
        }
    };
    let sort = match p.one("sort").unwrap_or("updated") {
        "updated" => Sort::Updated,
        "created" => Sort::Created,
        "name" => Sort::Name,
        "size" => Sort::Size,
        other => {
            return Err(ApiError::bad(
                "bad_parameter",
                format!("sort={other:?}: expected updated, created, name or size"),
            ));
        }
    };
    let after = match p.one("cursor") {
        None | Some("") => None,
        Some(c) => match ListCursor::decode(c) {
            Some(cursor) if cursor.sort == sort => Some(cursor),
            _ => {
                return Err(ApiError::bad(
                    "bad_parameter",
                    "cursor: not a cursor of this listing; pass next_cursor of the page before, with the same sort",
                ));
            }
        },
    };
    let q = ListQuery {
        tags: p.tags(),
        metadata,
        source: p.one("source").map(str::to_string),
        updated_before: p
            .one("older_than")
            .map(|s| parse_before(s, now()))
            .transpose()?,
        name_like: None,
        state: state_filter,
        sort,
        limit: p.number("limit")?,
        offset: 0,
        after,
    };
    ok(state
        .read(move |store| Ok(api::list_page(store, &q)?))
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    metadata: Map<String, Value>,
}

pub(crate) async fn create(State(state): St, uri: Uri, req: Request) -> Answer {
    Params::parse(uri.query(), &[])?;
    let input: CreateIn = from_value(body(&state, req).await?, "request body")?;
    let new = NewSession {
        name: input.name.unwrap_or_else(|| {
            let uid = Uid::new_random();
            format!("session-{}", &uid.as_str()[..8])
        }),
        title: input.title,
        tags: input.tags,
        metadata: input.metadata,
        template: None,
    };
    created(
        state
            .write(move |store| {
                let s = store.create_session(&new)?;
                Ok(api::info(store, &s)?)
            })
            .await?,
    )
}

pub(crate) async fn info(State(state): St, Id(id): Id, uri: Uri) -> Answer {
    let p = Params::parse(uri.query(), &["trashed"])?;
    let trashed = p.flag("trashed")?;
    ok(state
        .read(move |store| Ok(api::info(store, &find(store, &id, trashed)?)?))
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchIn {
    name: Option<String>,
    title: Option<String>,
    tags: Option<Vec<String>>,
    #[serde(default)]
    add_tags: Vec<String>,
    #[serde(default)]
    remove_tags: Vec<String>,
    /// Keys to set; a key set to null is removed.
    #[serde(default)]
    metadata: Map<String, Value>,
    state: Option<StateIn>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum StateIn {
    Live,
    Archived,
    Trashed,
}

pub(crate) async fn patch(State(state): St, Id(id): Id, uri: Uri, req: Request) -> Answer {
    Params::parse(uri.query(), &[])?;
    let input: PatchIn = from_value(body(&state, req).await?, "request body")?;
    let (archived, trashed) = match input.state {
        None => (None, None),
        Some(StateIn::Live) => (Some(false), Some(false)),
        Some(StateIn::Archived) => (Some(true), Some(false)),
        Some(StateIn::Trashed) => (None, Some(true)),
    };
    let patch = SessionPatch {
        name: input.name,
        title: input.title,
        tags: input.tags,
        add_tags: input.add_tags,
        remove_tags: input.remove_tags,
        metadata: input
            .metadata
            .into_iter()
            .map(|(k, v)| (k, (!v.is_null()).then_some(v)))
            .collect(),
        archived,
        trashed,
    };
    ok(state
        .write(move |store| {
            let s = find(store, &id, true)?;
            let s = store.patch_session(s.id, &patch)?;
            Ok(api::info(store, &s)?)
        })
        .await?)
}

pub(crate) async fn delete(State(state): St, Id(id): Id, uri: Uri) -> Answer {
    let p = Params::parse(uri.query(), &["purge"])?;
    let purge = p.flag("purge")?;
    ok(state
        .write(move |store| {
            let s = find(store, &id, true)?;
            if purge {
                store.purge(&[s.id])?;
            } else {
                store.trash(&[s.id])?;
            }
            Ok(json!({
                "session_id": s.name,
                "uid": s.uid,
                "deleted": if purge { "purged" } else { "trashed" },
            }))
        })
        .await?)
}

pub(crate) async fn history(State(state): St, Id(id): Id, uri: Uri) -> Answer {
    let p = Params::parse(uri.query(), &["max_turns", "from", "limit", "system"])?;
    let q = HistoryQuery {
        max_turns: p.number("max_turns")?,
        from: p.number("from")?,
        limit: p.number("limit")?,
        system: p.flag("system")?,
    };
    ok(state
        .read(move |store| Ok(api::history(store, &find(store, &id, false)?, &q)?))
        .await?)
}

/// A message to append.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageIn {
    role: Role,
    content: String,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    created_at: Option<Timestamp>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    tokens: Option<Tokens>,
    #[serde(default)]
    metadata: Map<String, Value>,
    #[serde(default)]
    source_id: Option<String>,
}

impl From<MessageIn> for NewMessage {
    fn from(m: MessageIn) -> Self {
        NewMessage {
            role: m.role,
            kind: m.kind.unwrap_or(Kind::Text),
            content: m.content,
            created_at: m.created_at,
            model: m.model,
            tokens: m.tokens,
            metadata: m.metadata,
            source_id: m.source_id,
        }
    }
}

/// A body of messages: one message, or `{"messages": [...]}`, read in one
/// pass so that an error names its line and column.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagesIn {
    messages: Option<Vec<MessageIn>>,
    role: Option<Role>,
    content: Option<String>,
    kind: Option<Kind>,
    created_at: Option<Timestamp>,
    model: Option<String>,
    tokens: Option<Tokens>,
    metadata: Option<Map<String, Value>>,
    source_id: Option<String>,
}

/// The messages of a body: one message, an array of them, or
/// `{"messages": [...]}`.
fn messages_of(bytes: &[u8]) -> Result<Vec<NewMessage>, ApiError> {
    let array = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let items: Vec<MessageIn> = if array {
        json(bytes)?
    } else {
        let body: MessagesIn = json(bytes)?;
        match body.messages {
            Some(items) => {
                let single = body.role.is_some()
                    || body.content.is_some()
                    || body.kind.is_some()
                    || body.created_at.is_some()
                    || body.model.is_some()
                    || body.tokens.is_some()
                    || body.metadata.is_some()
                    || body.source_id.is_some();
                if single {
                    return Err(ApiError::bad(
                        "bad_json",
                        "request body: either one message or {\"messages\": [...]}, not both",
                    ));
                }
                items
            }
            None => {
                let (Some(role), Some(content)) = (body.role, body.content) else {
                    return Err(ApiError::bad(
                        "bad_json",
                        "request body: a message needs \"role\" and \"content\" (or send {\"messages\": [...]})",
                    ));
                };
                vec![MessageIn {
                    role,
                    content,
                    kind: body.kind,
                    created_at: body.created_at,
                    model: body.model,
                    tokens: body.tokens,
                    metadata: body.metadata.unwrap_or_default(),
                    source_id: body.source_id,
                }]
            }
        }
    };
    if items.is_empty() {
        return Err(ApiError::bad("bad_json", "request body: no messages"));
    }
    Ok(items.into_iter().map(NewMessage::from).collect())
}

pub(crate) async fn append(State(state): St, Id(id): Id, uri: Uri, req: Request) -> Answer {
    let p = Params::parse(uri.query(), &["create"])?;
    let create = p.flag("create")?;
    let bytes = body_bytes(req.into_body(), state.options.max_body_bytes).await?;
    let messages = messages_of(&bytes)?;
    let answer = state
        .write(move |store| {
            // Every message is checked before anything is written, so that
            // a session made on first use is not left empty by a refusal.
            let limit = store.options().max_message_bytes;
            if let Some(m) = messages.iter().find(|m| m.content.len() > limit) {
                return Err(Error::MessageTooLarge {
                    size: m.content.len(),
                    limit,
                }
                .into());
            }
            let (s, made) = match find(store, &id, false) {
                Ok(s) => (s, false),
                Err(Error::NotFound(_)) if create => match store.session_exact(&id) {
                    Ok(trashed) if trashed.trashed => {
                        return Err(ApiError::new(
                            StatusCode::CONFLICT,
                            "name_taken",
                            format!(
                                "a session named {id:?} is in the trash: restore it (PATCH with state \"live\") or purge it (DELETE with ?purge=true) first"
                            ),
                        ));
                    }
                    _ => (store.create_session(&NewSession::named(id.clone()))?, true),
                },
                Err(e) => return Err(e.into()),
            };
            let first = store.add_messages(s.id, &messages)?;
            let after = store.session_by_id(s.id)?;
            Ok(json!({
                "session_id": after.name,
                "uid": after.uid,
                "created": made,
                "added": messages.len(),
                "first_seq": first,
                "message_count": after.message_count,
                "turn_count": store.turn_count(s.id)?,
            }))
        })
        .await?;
    created(answer)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BranchIn {
    name: String,
    #[serde(default)]
    at: Option<u64>,
}

pub(crate) async fn branch(State(state): St, Id(id): Id, uri: Uri, req: Request) -> Answer {
    Params::parse(uri.query(), &[])?;
    let input: BranchIn = from_value(body(&state, req).await?, "request body")?;
    created(
        state
            .write(move |store| {
                let s = find(store, &id, false)?;
                let b = store.branch(s.id, &input.name, input.at)?;
                Ok(api::info(store, &b)?)
            })
            .await?,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeIn {
    sessions: Vec<String>,
    name: String,
    #[serde(default)]
    order: OrderIn,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum OrderIn {
    #[default]
    Time,
    Given,
}

pub(crate) async fn merge(State(state): St, uri: Uri, req: Request) -> Answer {
    Params::parse(uri.query(), &[])?;
    let input: MergeIn = from_value(body(&state, req).await?, "request body")?;
    created(
        state
            .write(move |store| {
                let ids = input
                    .sessions
                    .iter()
                    .map(|id| find(store, id, false).map(|s| s.id))
                    .collect::<Result<Vec<_>>>()?;
                let order = match input.order {
                    OrderIn::Time => MergeOrder::Time,
                    OrderIn::Given => MergeOrder::Given,
                };
                let m = store.merge(&ids, &input.name, order)?;
                Ok(api::info(store, &m)?)
            })
            .await?,
    )
}

pub(crate) async fn search(State(state): St, uri: Uri) -> Answer {
    let p = Params::parse(uri.query(), &["q", "limit", "offset", "archived"])?;
    let Some(q) = p.one("q").map(str::to_string) else {
        return Err(ApiError::bad(
            "bad_parameter",
            "q is required: the query, in the query language of `scrollback search`",
        ));
    };
    if let Err(e) = crate::search::query::parse(&q, now()) {
        let mut error = ApiError::bad("bad_query", format!("q: {e}"));
        error.extra = Some(json!({ "start": e.start, "end": e.end }));
        return Err(error);
    }
    let limit = usize::try_from(p.number("limit")?.unwrap_or(20)).unwrap_or(100);
    let offset = usize::try_from(p.number("offset")?.unwrap_or(0)).unwrap_or(usize::MAX);
    let archived = p.flag("archived")?;
    ok(state
        .search(move |search| Ok(api::search_page(search, &q, limit, offset, archived)?))
        .await?)
}

pub(crate) async fn stats(State(state): St, uri: Uri) -> Answer {
    let p = Params::parse(uri.query(), &["session"])?;
    let session = p.one("session").map(str::to_string);
    ok(state
        .read(move |store| match session {
            Some(id) => {
                let s = find(store, &id, true)?;
                Ok(json!({ "session": store.session_stats(s.id)? }))
            }
            None => Ok(json!({
                "store": store.store_stats()?,
                "retention": store.retention_log()?,
            })),
        })
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CleanupIn {
    #[serde(default)]
    older_than: Option<String>,
    #[serde(default)]
    empty: bool,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    without_tag: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    larger_than: Option<u64>,
    #[serde(default)]
    action: Option<CleanupAction>,
    /// Show the plan only (the default).
    #[serde(default = "yes")]
    dry_run: bool,
    /// Apply the retention policy of the config instead of criteria.
    #[serde(default)]
    policy: bool,
}

fn yes() -> bool {
    true
}

pub(crate) async fn cleanup(State(state): St, uri: Uri, req: Request) -> Answer {
    Params::parse(uri.query(), &[])?;
    let input: CleanupIn = from_value(body(&state, req).await?, "request body")?;
    let protected = state.options.protected_tags.clone();
    if input.policy {
        let criteria = input.older_than.is_some()
            || input.empty
            || input.tag.is_some()
            || input.without_tag.is_some()
            || input.source.is_some()
            || input.larger_than.is_some()
            || input.action.is_some();
        if criteria {
            return Err(ApiError::bad(
                "invalid",
                "policy applies the retention rules of the config; it takes no criteria or action",
            ));
        }
        let policy = state.options.retention.policy(now())?;
        if policy.is_empty() {
            return Err(ApiError::bad(
                "invalid",
                "no retention rule is set in the server's config ([retention])",
            ));
        }
        let dry_run = input.dry_run;
        return ok(state
            .write(move |store| {
                let plan = store.retention_plan(&policy, &protected)?;
                if dry_run {
                    return Ok(json!({ "dry_run": true, "plan": plan }));
                }
                let run = store.apply_retention(&plan, "serve")?;
                Ok(json!({ "dry_run": false, "plan": plan, "run": run }))
            })
            .await?);
    }
    let criteria = CleanupCriteria {
        updated_before: input
            .older_than
            .as_deref()
            .map(|s| parse_before(s, now()))
            .transpose()?,
        empty: input.empty,
        tag: input.tag,
        without_tag: input.without_tag,
        source: input.source,
        larger_than: input.larger_than,
    };
    let action = input.action.unwrap_or(CleanupAction::Trash);
    let dry_run = input.dry_run;
    ok(state
        .write(move |store| {
            let plan = store.cleanup_plan(&criteria, action, &protected)?;
            if dry_run {
                return Ok(json!({ "dry_run": true, "plan": plan }));
            }
            let n = store.apply_cleanup(&plan)?;
            Ok(json!({ "dry_run": false, "plan": plan, "applied": n }))
        })
        .await?)
}
