//! `scrollback serve` and `scrollback mcp`: the servers, started from the
//! command line with the config's settings.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::config::Config;
use crate::serve::{ServeOptions, default_token_file, needs_token, token_from_file};
use crate::store::Store;

/// Runs the HTTP API until ctrl-c or SIGTERM. `db` is the database file
/// (`None` for a store in memory).
pub(super) fn serve(
    store: Store,
    config: &Config,
    listen: Option<&str>,
    token_file: Option<&PathBuf>,
    db: Option<&Path>,
) -> Result<()> {
    let listen = listen.unwrap_or(&config.serve.listen);
    let addr: SocketAddr = listen
        .to_socket_addrs()
        .with_context(|| {
            format!("--listen {listen:?}: expected an address and port such as 127.0.0.1:8642")
        })?
        .next()
        .ok_or_else(|| anyhow!("--listen {listen:?}: the name has no address"))?;
    let configured =
        (!config.serve.token_file.as_os_str().is_empty()).then(|| config.serve.token_file.clone());
    let token_path = match (token_file, needs_token(&addr)) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => Some(
            configured
                .or_else(|| db.map(default_token_file))
                .ok_or_else(|| {
                    anyhow!("listening off loopback needs a token: give --token-file PATH")
                })?,
        ),
        (None, false) => None,
    };
    let token = match &token_path {
        Some(path) => {
            let (token, made) = token_from_file(path)?;
            if made {
                eprintln!(
                    "{}",
                    crate::sanitize::message(&format!(
                        "scrollback: a new token was written to {} (readable by you only)",
                        path.display()
                    ))
                );
            }
            Some(token)
        }
        None => None,
    };
    let search = super::open_search(&store, config)?;
    let options = ServeOptions {
        listen: addr,
        token,
        max_body_bytes: usize::try_from(config.serve.max_body_mb.saturating_mul(1 << 20))
            .unwrap_or(usize::MAX),
        timeout: Duration::from_secs(config.serve.timeout_secs.max(1)),
        busy_timeout: Duration::from_secs(config.serve.busy_timeout_secs),
        readers: if store.path().is_some() { 4 } else { 0 },
        protected_tags: config.cleanup.protected_tags.clone(),
        retention: config.retention.clone(),
    };
    let auth = token_path.map_or_else(
        || "loopback only, no token needed".to_string(),
        |p| format!("token in {}", p.display()),
    );
    let shutdown = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            if let Ok(mut term) = signal(SignalKind::terminate()) {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
    };
    crate::serve::run(
        store,
        search,
        options,
        |addr| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{}",
                crate::sanitize::message(&format!(
                    "scrollback serving on http://{addr} ({auth}); the API is described at /api/openapi.json"
                ))
            );
            let _ = out.flush();
            tracing::info!(%addr, "serving");
        },
        shutdown,
    )?;
    Ok(())
}

/// Runs the MCP server on stdin and stdout until the client closes them.
pub(super) fn mcp(store: Store, config: &Config) -> Result<()> {
    let search = super::open_search(&store, config)?;
    crate::mcp::McpServer::new(store, search, config.mcp.allow_tagging).run_stdio()?;
    Ok(())
}
