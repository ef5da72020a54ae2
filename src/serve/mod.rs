//! `scrollback serve`: an HTTP JSON API over the library, on tokio and axum.
//!
//! Every endpoint calls the same [`Store`], [`Search`] and [`crate::api`]
//! operations as the command line; nothing is implemented twice. SQLite
//! work runs on tokio's blocking threads: reads on a small pool of read
//! connections (WAL lets them read while a write goes on), writes on one
//! write connection, searches on the one index reader. A thread keeps the
//! index caught up with what was written, and another applies the
//! retention policy on its schedule.
//!
//! Security: the server listens on loopback unless told otherwise; off
//! loopback it requires a bearer token. Bodies and messages have size
//! limits, requests a timeout, and no endpoint takes a path of the server's
//! file system from a client.

mod handlers;
pub mod openapi;
mod params;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::RetentionConfig;
use crate::error::{Error, Result};
use crate::search::Search;
use crate::store::Store;

/// The address `serve` listens on by default: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8642";

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// The bearer token every request but `/healthz` must carry; `None`:
    /// none needed (loopback only).
    pub token: Option<String>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered 503.
    pub timeout: Duration,
    /// How long a write waits for another program writing to the store
    /// (an import) before it is answered 503.
    pub busy_timeout: Duration,
    /// Read connections kept open (0: every request uses the write
    /// connection, as an in-memory store must).
    pub readers: usize,
    /// Tags that keep a session from any cleanup or retention rule.
    pub protected_tags: Vec<String>,
    /// The retention policy, applied every `every` when set.
    pub retention: RetentionConfig,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: DEFAULT_LISTEN.parse().expect("a socket address"),
            token: None,
            max_body_bytes: 16 << 20,
            timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            protected_tags: Vec::new(),
            retention: crate::config::Config::default().retention,
        }
    }
}

/// Whether a listening address needs a token: anything but loopback.
pub fn needs_token(listen: &SocketAddr) -> bool {
    !listen.ip().is_loopback()
}

/// Reads the token from `path`, or makes a new random one there (a new
/// file, readable by its owner only) when there is none. Returns the token
/// and whether it was made now.
pub fn token_from_file(path: &Path) -> Result<(String, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let token = text.trim().to_string();
            if token.len() < 16 {
                return Err(Error::invalid(
                    "token file",
                    &path.display().to_string(),
                    "a token of at least 16 characters on its first line",
                ));
            }
            Ok((token, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(|e| Error::io(path, e))?;
            std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(path, e))?;
            Ok((token, true))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The default place of the token file: beside the database.
pub fn default_token_file(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".serve-token");
    db.with_file_name(name)
}

/// A running server in this process (for tests, benchmarks and programs
/// that embed it): its address, and a way to stop it.
pub struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops it: requests under way are finished first.
    pub fn stop(mut self) -> Result<()> {
        self.shut()
    }

    fn shut(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| {
                Err(Error::invalid(
                    "server",
                    "thread",
                    "a thread that did not panic",
                ))
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.shut();
    }
}

/// Starts a server on its own threads and returns once it listens.
pub fn spawn(store: Store, search: Search, options: ServeOptions) -> Result<Running> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, listening) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("serve".into())
        .spawn(move || {
            let ready2 = ready.clone();
            let result = run(
                store,
                search,
                options,
                move |addr| {
                    let _ = ready2.send(Ok(addr));
                },
                async {
                    let _ = stopped.await;
                },
            );
            if let Err(e) = &result {
                let _ = ready.send(Err(e.to_string()));
            }
            result
        })
        .map_err(|e| Error::io("serve thread", e))?;
    match listening.recv() {
        Ok(Ok(addr)) => Ok(Running {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }),
        Ok(Err(e)) => Err(Error::invalid("server", "start", e)),
        Err(_) => match thread.join() {
            Ok(Err(e)) => Err(e),
            _ => Err(Error::invalid("server", "start", "a server that starts")),
        },
    }
}

/// Runs the server until `shutdown` completes: binds, calls `ready` with the
/// address it listens on, then answers requests. Requests under way when
/// it stops are finished.
pub fn run(
    store: Store,
    search: Search,
    options: ServeOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("serve-worker")
        .build()
        .map_err(|e| Error::io("tokio runtime", e))?;
    let listen = options.listen;
    let state = Shared::new(store, search, options)?;
    let background = state.start_background();
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::io(format!("listening on {listen}"), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io(format!("listening on {listen}"), e))?;
        ready(addr);
        axum::serve(listener, router(state.clone()))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| Error::io(format!("serving on {addr}"), e))
    });
    state.stop.store(true, Ordering::SeqCst);
    state.index_wake.1.notify_all();
    for t in background {
        let _ = t.join();
    }
    served
}

/// What every request shares.
pub(crate) struct Shared {
    writer: Mutex<Store>,
    readers: Mutex<Vec<Store>>,
    search: Mutex<Search>,
    options: ServeOptions,
    /// Set when a write may have left the index behind.
    index_wake: (Mutex<bool>, Condvar),
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn new(store: Store, search: Search, mut options: ServeOptions) -> Result<Arc<Self>> {
        // A write waiting for another writer gives up before the request
        // times out, so that a client told "busy" knows nothing was written.
        options.busy_timeout = options
            .busy_timeout
            .min(options.timeout.saturating_sub(Duration::from_millis(500)));
        store.set_busy_timeout(options.busy_timeout)?;
        let readers = (0..options.readers)
            .map(|_| {
                let r = store.reopen()?;
                r.set_busy_timeout(options.busy_timeout)?;
                Ok(r)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Shared {
            writer: Mutex::new(store),
            readers: Mutex::new(readers),
            search: Mutex::new(search),
            options,
            index_wake: (Mutex::new(false), Condvar::new()),
            stop: AtomicBool::new(false),
        }))
    }

    /// The indexer and, when a schedule is set, the retention thread.
    fn start_background(self: &Arc<Self>) -> Vec<std::thread::JoinHandle<()>> {
        let mut threads = Vec::new();
        let me = self.clone();
        if let Ok(t) = std::thread::Builder::new()
            .name("serve-index".into())
            .spawn(move || me.index_loop())
        {
            threads.push(t);
        }
        let every = self.options.retention.every.trim().to_string();
        let policy_set = self
            .options
            .retention
            .policy(crate::domain::now())
            .is_ok_and(|p| !p.is_empty());
        if policy_set
            && !every.is_empty()
            && let Ok(since) = crate::domain::parse_before(&every, crate::domain::now())
        {
            let every = crate::domain::now()
                .duration_since(since)
                .unsigned_abs()
                .max(Duration::from_secs(1));
            let me = self.clone();
            if let Ok(t) = std::thread::Builder::new()
                .name("serve-retention".into())
                .spawn(move || me.retention_loop(every))
            {
                threads.push(t);
            }
        }
        threads
    }

    /// Catches the index up after writes: at once when woken, gathering the
    /// writes of the next 50 ms, and once a second in any case (another
    /// program may write to the store too).
    fn index_loop(&self) {
        let (flag, cv) = &self.index_wake;
        loop {
            {
                let mut woken = lock(flag);
                if !*woken && !self.stop.load(Ordering::SeqCst) {
                    woken = cv
                        .wait_timeout(woken, Duration::from_secs(1))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                *woken = false;
            }
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
            if let Err(e) = lock(&self.search).sync(&|_, _| {}) {
                tracing::warn!("catching the index up failed: {e}");
            }
        }
    }

    /// Applies the retention policy at once, then every `every`.
    fn retention_loop(&self, every: Duration) {
        loop {
            match self.apply_retention() {
                Ok(Some(run)) => tracing::info!(?run, "retention applied"),
                Ok(None) => {}
                Err(e) => tracing::warn!("applying the retention policy failed: {e}"),
            }
            let started = std::time::Instant::now();
            while started.elapsed() < every {
                if self.stop.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200).min(every));
            }
        }
    }

    fn apply_retention(&self) -> Result<Option<crate::store::RetentionRun>> {
        let policy = self.options.retention.policy(crate::domain::now())?;
        let mut store = lock(&self.writer);
        let plan = store.retention_plan(&policy, &self.options.protected_tags)?;
        if plan.is_empty() {
            return Ok(None);
        }
        let run = store.apply_retention(&plan, "serve")?;
        drop(store);
        self.wake_indexer();
        Ok(Some(run))
    }

    fn wake_indexer(&self) {
        *lock(&self.index_wake.0) = true;
        self.index_wake.1.notify_one();
    }

    /// Runs a read on a read connection, on a blocking thread.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let me = self.clone();
        blocking(move || {
            let idle = lock(&me.readers).pop();
            match idle {
                Some(store) => {
                    let result = op(&store);
                    lock(&me.readers).push(store);
                    result
                }
                None => op(&lock(&me.writer)),
            }
        })
        .await
    }

    /// Runs a write on the write connection, on a blocking thread; the
    /// index catches up soon after.
    pub(crate) async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let me = self.clone();
        blocking(move || {
            let result = op(&mut lock(&me.writer));
            me.wake_indexer();
            result
        })
        .await
    }

    /// Runs a search on the index, on a blocking thread.
    pub(crate) async fn search<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&mut Search) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let me = self.clone();
        blocking(move || op(&mut lock(&me.search))).await
    }
}

/// Runs `op` on tokio's blocking threads. A client that goes away does not
/// stop it: each operation is one transaction, done whole or not at all.
async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(op).await {
        Ok(result) => result,
        Err(e) => Err(ApiError::internal(&format!("the operation failed: {e}"))),
    }
}

/// An error answer: `{"error": {"code", "message", ...}}` with its status.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Option<serde_json::Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
        }
    }

    pub(crate) fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn internal(message: &str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let message = match &e {
            // Programs name sessions exactly: no uid prefixes here.
            Error::NotFound(id) => format!("no session {id:?}"),
            e => e.to_string(),
        };
        let (status, code) = match &e {
            Error::NotFound(_) => (S::NOT_FOUND, "not_found"),
            Error::NameTaken(_) => (S::CONFLICT, "name_taken"),
            Error::Ambiguous { .. } | Error::Invalid { .. } => (S::BAD_REQUEST, "invalid"),
            Error::MessageTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "too_large"),
            Error::Query(_) => (S::BAD_REQUEST, "bad_query"),
            Error::Busy => {
                return ApiError::new(
                    S::SERVICE_UNAVAILABLE,
                    "busy",
                    "the store is busy: another program is writing to it (an import?); nothing was written, try again",
                );
            }
            Error::Cancelled => (S::SERVICE_UNAVAILABLE, "cancelled"),
            _ => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status == S::INTERNAL_SERVER_ERROR {
            tracing::error!("request failed: {message}");
        }
        ApiError::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let (Some(serde_json::Value::Object(extra)), Some(e)) =
            (self.extra, error.as_object_mut())
        {
            e.extend(extra);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}

/// The routes, with the token check and the timeout around them.
pub(crate) fn router(state: Arc<Shared>) -> Router {
    use axum::routing::{get, post};
    use handlers as h;
    Router::new()
        .route("/healthz", get(h::healthz))
        .route("/api/openapi.json", get(h::openapi))
        .route("/api/sessions", get(h::list).post(h::create))
        .route(
            "/api/sessions/{id}",
            get(h::info).patch(h::patch).delete(h::delete),
        )
        .route("/api/sessions/{id}/history", get(h::history))
        .route("/api/sessions/{id}/messages", post(h::append))
        .route("/api/sessions/{id}/branch", post(h::branch))
        .route("/api/merge", post(h::merge))
        .route("/api/search", get(h::search))
        .route("/api/stats", get(h::stats))
        .route("/api/cleanup", post(h::cleanup))
        .fallback(h::no_route)
        .method_not_allowed_fallback(h::no_method)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// The token check (all but `/healthz`) and the request timeout.
async fn guard(State(state): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if let Some(token) = &state.options.token
        && req.uri().path() != "/healthz"
        && !bearer_matches(req.headers(), token)
    {
        {
            let mut r = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server needs its token: send the header `Authorization: Bearer TOKEN` (the token is in the server's token file)",
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
    }
    match tokio::time::timeout(state.options.timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!(
                "the request took longer than {} s (config key serve.timeout_secs); a write it asked for may still be completed",
                state.options.timeout.as_secs_f64()
            ),
        )
        .into_response(),
    }
}

/// Compares the bearer token in time that does not depend on where the
/// first difference is.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}
