//! Endpoints for the Datasette plugin alone, on the private Unix socket only (never on
//! TCP: a sync on demand is not for the network): a durable write waits here for the
//! replica, and a follower's read waits here for the transaction it must show.

use super::Source;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The longest a follower's read may be asked to wait.
const MAX_READ_WAIT: f64 = 60.0;

pub fn router<V: Source>(view: Arc<V>) -> Router {
    Router::new()
        .route("/-/litestream-durable", post(durable::<V>))
        .route("/-/litestream-txid", get(reach::<V>))
        .with_state(view)
}

#[derive(serde::Deserialize)]
struct DurableQuery {
    database: String,
}

/// Waits until everything `database` committed before the request is on the replica:
/// 200 with the TXID a follower must reach, 504 when not within `durable-timeout`
/// (written here, not known to be durable), 404 for a database without durable writes.
async fn durable<V: Source>(State(view): State<Arc<V>>, Query(q): Query<DurableQuery>) -> Response {
    let started = std::time::Instant::now();
    let answer = view.durable(&q.database).await;
    let waited = started.elapsed().as_secs_f64();
    match answer {
        Some(crate::replica::durability::Answer::Durable { txid }) => {
            Json(json!({"database": q.database, "durable": true, "txid": txid, "waited_seconds": waited}))
                .into_response()
        }
        Some(crate::replica::durability::Answer::NotDurable { reason }) => (
            StatusCode::GATEWAY_TIMEOUT,
            Json(
                json!({"database": q.database, "durable": false, "reason": reason, "waited_seconds": waited}),
            ),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"database": q.database, "error": "this database has no durable-writes here"})),
        )
            .into_response(),
    }
}

#[derive(serde::Deserialize)]
struct ReachQuery {
    database: String,
    txid: u64,
    timeout: f64,
}

/// A follower's read that must show transaction `txid`: 200 once the follower holds it,
/// 504 with what it holds when not within `timeout` seconds, 404 for a database it
/// does not follow.
async fn reach<V: Source>(State(view): State<Arc<V>>, Query(q): Query<ReachQuery>) -> Response {
    let seconds = if q.timeout.is_finite() { q.timeout.clamp(0.0, MAX_READ_WAIT) } else { 0.0 };
    let limit = Duration::from_secs_f64(seconds);
    match view.reach(&q.database, q.txid, limit).await {
        Some(Ok(held)) => Json(json!({"database": q.database, "txid": held})).into_response(),
        Some(Err(held)) => (
            StatusCode::GATEWAY_TIMEOUT,
            Json(json!({"database": q.database, "txid": held, "needed": q.txid})),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "this node does not follow that database"})))
            .into_response(),
    }
}
