//! The OpenAPI 3.1 document of the HTTP API, served at
//! `/api/openapi.json`. A test asks the running server for every path and
//! method it names, and checks that it names every route served.

use serde_json::{Value, json};

/// Every route served: method and path, as the document names them.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/api/openapi.json"),
    ("get", "/api/sessions"),
    ("post", "/api/sessions"),
    ("get", "/api/sessions/{id}"),
    ("patch", "/api/sessions/{id}"),
    ("delete", "/api/sessions/{id}"),
    ("get", "/api/sessions/{id}/history"),
    ("post", "/api/sessions/{id}/messages"),
    ("post", "/api/sessions/{id}/branch"),
    ("post", "/api/merge"),
    ("get", "/api/search"),
    ("get", "/api/stats"),
    ("post", "/api/cleanup"),
];

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name, "in": "query", "required": false,
        "schema": { "type": kind }, "description": description
    })
}

fn id() -> Value {
    json!({
        "name": "id", "in": "path", "required": true, "schema": { "type": "string" },
        "description": "The session's name (its session_id) or its uid, exactly."
    })
}

fn body(schema: &str) -> Value {
    json!({
        "required": true,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn answer(status: &str, schema: &str, description: &str) -> Value {
    let mut responses = json!({
        status: {
            "description": description,
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
        }
    });
    let errors = [
        (
            "400",
            "A bad parameter, body or query; the message says which and where.",
        ),
        ("401", "The server needs its bearer token."),
        ("404", "No such session."),
        ("409", "The name is taken."),
        ("413", "The body or a message is over the size limit."),
        (
            "503",
            "The store is busy with another writer, or the request timed out.",
        ),
    ];
    if let Some(map) = responses.as_object_mut() {
        for (code, why) in errors {
            map.insert(
                code.to_string(),
                json!({
                    "description": why,
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }),
            );
        }
    }
    responses
}

fn object(properties: &Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

/// The document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "scrollback",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Sessions of AI chats kept in a scrollback store: create, append, read back by turns, search, branch, merge, clean up. Errors are {\"error\": {\"code\", \"message\"}}."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas(),
        },
        "security": [{ "bearer": [] }],
        "paths": paths(),
    })
}

#[allow(clippy::too_many_lines)] // the shapes, read top to bottom
fn schemas() -> Value {
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let int = json!({ "type": "integer", "minimum": 0 });
    let time = json!({ "type": "string", "format": "date-time" });
    let meta = json!({ "type": "object", "additionalProperties": true });
    let message_in = object(
        &json!({
            "role": { "type": "string", "enum": ["system", "user", "assistant", "tool"] },
            "content": string,
            "kind": { "type": "string", "description": "text (default), thinking, tool_call, tool_result, ..." },
            "created_at": time, "model": string,
            "tokens": { "type": "object", "properties": { "input": int, "output": int } },
            "metadata": meta, "source_id": string
        }),
        &["role", "content"],
    );
    json!({
                "Error": object(&json!({
                    "error": object(&json!({
                        "code": string, "message": string,
                        "start": { "type": "integer", "description": "For bad_query: where the wrong part starts (characters)." },
                        "end": { "type": "integer" }
                    }), &["code", "message"])
                }), &["error"]),
                "SessionInfo": object(&json!({
                    "session_id": { "type": "string", "description": "The session's name." },
                    "name": { "type": "string", "description": "The same name." },
                    "uid": string, "title": string,
                    "state": { "type": "string", "enum": ["live", "archived", "trashed"] },
                    "turn_count": { "type": "integer", "description": "In an info, not in a listing." },
                    "message_count": int, "char_count": int,
                    "created_at": time, "last_activity": time,
                    "tags": strings, "metadata": meta, "source": string,
                    "source_ref": { "type": ["string", "null"] },
                    "lineage": { "type": "object", "properties": {
                        "parent": { "type": ["string", "null"] },
                        "fork_seq": { "type": ["integer", "null"] },
                        "branches": { "type": "array", "items": { "type": "object", "properties": { "session_id": string, "uid": string } } }
                    } }
                }), &["session_id", "name", "uid", "title", "state", "message_count", "created_at", "last_activity", "tags", "metadata", "source", "lineage"]),
                "SessionPage": object(&json!({
                    "sessions": { "type": "array", "items": { "$ref": "#/components/schemas/SessionInfo" } },
                    "next_cursor": { "type": ["string", "null"] },
                    "total": int
                }), &["sessions", "next_cursor", "total"]),
                "Message": object(&json!({
                    "seq": int, "role": string, "kind": string, "content": string, "created_at": time,
                    "model": { "type": ["string", "null"] },
                    "tokens": { "type": ["object", "null"] },
                    "metadata": meta,
                    "source_id": { "type": ["string", "null"] }
                }), &["seq", "role", "kind", "content", "created_at"]),
                "History": object(&json!({
                    "session_id": string, "uid": string, "turn_count": int, "message_count": int, "from": int,
                    "history": { "type": "array", "items": { "$ref": "#/components/schemas/Message" } },
                    "next_from": { "type": ["integer", "null"] }
                }), &["session_id", "uid", "turn_count", "message_count", "from", "history", "next_from"]),
                "MessageIn": message_in,
                "Messages": {
                    "description": "One message, an array of them, or {\"messages\": [...]}.",
                    "oneOf": [
                        { "$ref": "#/components/schemas/MessageIn" },
                        { "type": "array", "items": { "$ref": "#/components/schemas/MessageIn" } },
                        object(&json!({ "messages": { "type": "array", "items": { "$ref": "#/components/schemas/MessageIn" } } }), &["messages"])
                    ]
                },
                "Appended": object(&json!({
                    "session_id": string, "uid": string, "created": { "type": "boolean" },
                    "added": int, "first_seq": int, "message_count": int, "turn_count": int
                }), &["session_id", "uid", "created", "added", "first_seq", "message_count", "turn_count"]),
                "CreateIn": object(&json!({ "name": string, "title": string, "tags": strings, "metadata": meta }), &[]),
                "PatchIn": object(&json!({
                    "name": string, "title": string,
                    "tags": { "type": "array", "items": { "type": "string" }, "description": "The whole set." },
                    "add_tags": strings, "remove_tags": strings,
                    "metadata": { "type": "object", "description": "Keys to set; null removes a key." },
                    "state": { "type": "string", "enum": ["live", "archived", "trashed"] }
                }), &[]),
                "BranchIn": object(&json!({ "name": string, "at": { "type": "integer", "description": "Seq of the last message to keep (default: all)." } }), &["name"]),
                "MergeIn": object(&json!({
                    "sessions": { "type": "array", "items": { "type": "string" }, "minItems": 2 },
                    "name": string,
                    "order": { "type": "string", "enum": ["time", "given"] }
                }), &["sessions", "name"]),
                "Deleted": object(&json!({ "session_id": string, "uid": string, "deleted": { "type": "string", "enum": ["trashed", "purged"] } }), &["session_id", "uid", "deleted"]),
                "SearchPage": object(&json!({
                    "query": string, "total": int, "offset": int, "next_offset": { "type": ["integer", "null"] },
                    "hits": { "type": "array", "items": object(&json!({
                        "session_id": string, "uid": string, "title": string, "source": string,
                        "seq": { "type": ["integer", "null"] }, "role": { "type": ["string", "null"] },
                        "created_at": { "type": ["string", "null"], "format": "date-time" },
                        "snippet": string,
                        "highlights": { "type": "array", "items": { "type": "array", "items": int } },
                        "score": { "type": "number" }, "other_hits": int
                    }), &["session_id", "uid", "snippet", "score"]) }
                }), &["query", "total", "offset", "hits", "next_offset"]),
                "Stats": { "type": "object", "description": "{\"store\": ..., \"retention\": ...}, or {\"session\": ...} with ?session=" },
                "CleanupIn": object(&json!({
                    "older_than": { "type": "string", "description": "30d, 24h, 2026-01-01, ..." },
                    "empty": { "type": "boolean" }, "tag": string, "without_tag": string, "source": string,
                    "larger_than": int,
                    "action": { "type": "string", "enum": ["archive", "trash", "purge"], "description": "Default trash." },
                    "dry_run": { "type": "boolean", "description": "Default true: the plan only." },
                    "policy": { "type": "boolean", "description": "Apply the config's retention policy instead." }
                }), &[]),
                "Cleanup": { "type": "object", "description": "{\"dry_run\", \"plan\", and \"applied\" or \"run\" when applied}" },
                "Health": object(&json!({ "status": string, "schema_version": int }), &["status"])
    })
}

#[allow(clippy::too_many_lines)] // the endpoints, read top to bottom
fn paths() -> Value {
    json!({
        "/healthz": { "get": {
            "summary": "Whether the server and its store answer (no token needed).",
            "security": [], "responses": answer("200", "Health", "It answers.")
        } },
        "/api/openapi.json": { "get": {
            "summary": "This document.", "responses": { "200": { "description": "The OpenAPI document." } }
        } },
        "/api/sessions": {
            "get": {
                "summary": "A page of sessions; pass next_cursor as cursor for the next.",
                "parameters": [
                    query("tag", "string", "Carrying these tags (repeat or comma-separate)."),
                    query("where", "string", "Metadata KEY=VALUE (repeat for several)."),
                    query("source", "string", "From this source."),
                    query("older_than", "string", "Not updated since: 30d, 24h, a date."),
                    query("state", "string", "live (default), archived, trashed, all."),
                    query("sort", "string", "updated (default), created, name, size."),
                    query("limit", "integer", "At most this many (default 50, at most 1000)."),
                    query("cursor", "string", "next_cursor of the page before.")
                ],
                "responses": answer("200", "SessionPage", "The page.")
            },
            "post": {
                "summary": "Creates a session (a name is made when none is given).",
                "requestBody": body("CreateIn"),
                "responses": answer("201", "SessionInfo", "Created.")
            }
        },
        "/api/sessions/{id}": {
            "parameters": [id()],
            "get": {
                "summary": "A session's info: counts, turns, tags, metadata, lineage.",
                "parameters": [query("trashed", "boolean", "Find it in the trash too.")],
                "responses": answer("200", "SessionInfo", "The session.")
            },
            "patch": {
                "summary": "Renames, retitles, tags, sets metadata or state, all in one transaction.",
                "requestBody": body("PatchIn"),
                "responses": answer("200", "SessionInfo", "The session as changed.")
            },
            "delete": {
                "summary": "Moves a session to the trash, or purges it for good.",
                "parameters": [query("purge", "boolean", "Delete for good.")],
                "responses": answer("200", "Deleted", "Deleted.")
            }
        },
        "/api/sessions/{id}/history": {
            "parameters": [id()],
            "get": {
                "summary": "The last turns of a session, or a page of its messages.",
                "parameters": [
                    query("max_turns", "integer", "The last N turns (a user message and what answered it)."),
                    query("from", "integer", "First seq of a page (not with max_turns)."),
                    query("limit", "integer", "At most this many messages (default and most 10000)."),
                    query("system", "boolean", "Put the first system message ahead when the page leaves it out.")
                ],
                "responses": answer("200", "History", "The messages.")
            }
        },
        "/api/sessions/{id}/messages": {
            "parameters": [id()],
            "post": {
                "summary": "Appends messages in one transaction.",
                "parameters": [query("create", "boolean", "Create the session, named id, when there is none.")],
                "requestBody": body("Messages"),
                "responses": answer("201", "Appended", "Appended.")
            }
        },
        "/api/sessions/{id}/branch": {
            "parameters": [id()],
            "post": {
                "summary": "Branches a session into a new one.",
                "requestBody": body("BranchIn"),
                "responses": answer("201", "SessionInfo", "The branch.")
            }
        },
        "/api/merge": { "post": {
            "summary": "Merges sessions into a new one.",
            "requestBody": body("MergeIn"),
            "responses": answer("201", "SessionInfo", "The merged session.")
        } },
        "/api/search": { "get": {
            "summary": "Full-text search with the query language of `scrollback search`.",
            "parameters": [
                { "name": "q", "in": "query", "required": true, "schema": { "type": "string" } },
                query("limit", "integer", "Sessions per page (default 20, at most 100)."),
                query("offset", "integer", "Sessions to skip."),
                query("archived", "boolean", "Include archived sessions.")
            ],
            "responses": answer("200", "SearchPage", "The page.")
        } },
        "/api/stats": { "get": {
            "summary": "Statistics of the store and its retention log, or of one session.",
            "parameters": [query("session", "string", "One session's statistics.")],
            "responses": answer("200", "Stats", "The figures.")
        } },
        "/api/cleanup": { "post": {
            "summary": "A cleanup plan by criteria or by the retention policy; applied when dry_run is false.",
            "requestBody": body("CleanupIn"),
            "responses": answer("200", "Cleanup", "The plan, and what was done.")
        } }
    })
}
