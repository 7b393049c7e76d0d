//! The status endpoints on the host's runtime: a TCP address (loopback, or any with a
//! bearer token) and/or a Unix socket in the private directory for the Datasette plugin.

use super::Source;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to serve the status view on {addr} without a token: it is not a loopback address; \
         pass --status-token TOKEN (or set LITESTREAM_STATUS_TOKEN), or bind 127.0.0.1"
    )]
    NeedsToken { addr: SocketAddr },
    #[error("cannot listen on {what}: {source}")]
    Bind { what: String, source: std::io::Error },
}

impl ServeError {
    /// docs/commands.md's table: a refused address is invalid configuration (2); an address
    /// or path that cannot be listened on is a runtime failure (1), as for TCP and a
    /// Unix socket alike.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::NeedsToken { .. } => 2,
            ServeError::Bind { .. } => 1,
        }
    }
}

struct App<V> {
    view: Arc<V>,
    token: Option<String>,
    /// The last `max-lag` text and what the rules made of it: probes repeat one query.
    max_lag: std::sync::Mutex<Option<(String, Result<f64, String>)>>,
}

fn router<V: Source>(view: Arc<V>, token: Option<String>) -> Router {
    let app = Arc::new(App { view, token, max_lag: std::sync::Mutex::new(None) });
    Router::new()
        .route("/-/litestream-status", get(page::<V>))
        .route("/-/litestream-status.json", get(json::<V>))
        .route("/-/litestream-status.body", get(body::<V>))
        .route("/-/litestream-health", get(health::<V>))
        .route("/-/litestream-metrics", get(metrics::<V>))
        .layer(middleware::from_fn_with_state(app.clone(), authorize::<V>))
        .with_state(app)
}

/// The status view on TCP and/or a Unix socket; a listener that cannot start ends
/// the command with the exit code docs/commands.md gives, said once.
pub async fn serve_all<V: Source>(
    view: Arc<V>,
    addr: Option<SocketAddr>,
    token: Option<String>,
    socket: Option<&Path>,
) -> Result<(), u8> {
    if let Some(addr) = addr {
        match serve_tcp(view.clone(), addr, token).await {
            Ok(bound) => eprintln!("datasette-litestream: status view at http://{bound}/-/litestream-status"),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(e.exit_code());
            }
        }
    }
    if let Some(path) = socket
        && let Err(e) = serve_unix(view, path).await
    {
        eprintln!("error: {e}");
        return Err(e.exit_code());
    }
    Ok(())
}

/// Binds `addr` (refusing a non-loopback one without a token) and serves in the background.
pub async fn serve_tcp<V: Source>(
    view: Arc<V>,
    addr: SocketAddr,
    token: Option<String>,
) -> Result<SocketAddr, ServeError> {
    if !addr.ip().is_loopback() && token.is_none() {
        return Err(ServeError::NeedsToken { addr });
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { what: addr.to_string(), source })?;
    let bound =
        listener.local_addr().map_err(|source| ServeError::Bind { what: addr.to_string(), source })?;
    let app = router(view, token);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(bound)
}

/// Serves on a Unix socket (the private directory keeps others out).
pub async fn serve_unix<V: Source>(view: Arc<V>, path: &Path) -> Result<(), ServeError> {
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path)
        .map_err(|source| ServeError::Bind { what: path.display().to_string(), source })?;
    let app = router(view.clone(), None).merge(super::plugin_routes::router(view));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}

async fn authorize<V: Source>(State(app): State<Arc<App<V>>>, request: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a valid bearer token is required\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}

async fn page<V: Source>(State(app): State<Arc<App<V>>>) -> Html<String> {
    Html(app.view.page().await)
}

/// The page's body alone, for the Datasette plugin to show inside Datasette's chrome.
async fn body<V: Source>(State(app): State<Arc<App<V>>>) -> Html<String> {
    Html(app.view.body().await)
}

async fn json<V: Source>(State(app): State<Arc<App<V>>>) -> Response {
    app.view.json().await
}

/// `?verified-within=SECONDS` also requires a recent successful `verify` of every
/// database; `?max-lag=SECONDS` sets how long a change may wait for the replica.
#[derive(serde::Deserialize)]
struct HealthQuery {
    #[serde(rename = "verified-within")]
    verified_within: Option<f64>,
    #[serde(rename = "max-lag")]
    max_lag: Option<String>,
}

async fn health<V: Source>(State(app): State<Arc<App<V>>>, Query(q): Query<HealthQuery>) -> Response {
    let max_lag = match q.max_lag {
        None => None,
        Some(text) => match max_lag(&app, text).await {
            Ok(Ok(seconds)) => Some(seconds),
            Ok(Err(reason)) => return (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response(),
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        },
    };
    let h = app.view.health(q.verified_within, max_lag).await;
    let code = if h.ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, format!("{}\n", h.reason)).into_response()
}

/// The rules' reading of a `max-lag` value, remembered for the next probe.
async fn max_lag<V: Source>(
    app: &App<V>,
    text: String,
) -> Result<Result<f64, String>, crate::rules::RulesError> {
    if let Some((last, parsed)) = app.max_lag.lock().expect("max-lag lock").as_ref()
        && *last == text
    {
        return Ok(parsed.clone());
    }
    let rules = app.view.rules();
    let asked = text.clone();
    let parsed = crate::util::blocking::blocking(move || rules.parse_max_lag(&asked)).await?;
    *app.max_lag.lock().expect("max-lag lock") = Some((text, parsed.clone()));
    Ok(parsed)
}

async fn metrics<V: Source>(State(app): State<Arc<App<V>>>) -> Response {
    let text = app.view.metrics().await;
    ([(header::CONTENT_TYPE, super::prometheus::CONTENT_TYPE)], text).into_response()
}
