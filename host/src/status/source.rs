//! What a status view shows, whatever the node is: `run`'s replicating node (the
//! `Context` here) or `follow`'s follower node (which implements this in `follow`).
//! The endpoints (`server.rs`, `plugin_routes.rs`) know only this trait, so the
//! status view depends on no command and `follow` may use the status view's pieces.

use super::{Context, HealthReport, html, prometheus};
use crate::replica::durability::Answer;
use crate::rules::Rules;
use axum::response::{IntoResponse, Json, Response};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub trait Source: Send + Sync + 'static {
    fn rules(&self) -> &'static Rules;
    /// The whole page, standalone.
    fn page(self: &Arc<Self>) -> impl Future<Output = String> + Send;
    /// The page's body alone, for the plugin to frame in Datasette's chrome.
    fn body(self: &Arc<Self>) -> impl Future<Output = String> + Send;
    fn json(self: &Arc<Self>) -> impl Future<Output = Response> + Send;
    /// `verified_within` and `max_lag` as the health check's query gave them.
    fn health(
        self: &Arc<Self>,
        verified_within: Option<f64>,
        max_lag: Option<f64>,
    ) -> impl Future<Output = HealthReport> + Send;
    fn metrics(self: &Arc<Self>) -> impl Future<Output = String> + Send;
    /// A durable write's wait for the replica; None where `database` has no
    /// `durable-writes` on this node.
    fn durable(self: &Arc<Self>, database: &str) -> impl Future<Output = Option<Answer>> + Send;
    /// A follower's read that must show `txid`: Ok(held) once it does, Err(held) after
    /// `limit`; None where this node does not follow `database`.
    fn reach(
        self: &Arc<Self>,
        database: &str,
        txid: u64,
        limit: Duration,
    ) -> impl Future<Output = Option<Result<u64, u64>>> + Send;
}

impl Source for Context {
    fn rules(&self) -> &'static Rules {
        self.rules
    }

    async fn page(self: &Arc<Self>) -> String {
        html::page(&self.report().await)
    }

    async fn body(self: &Arc<Self>) -> String {
        html::fragment(&self.report().await)
    }

    async fn json(self: &Arc<Self>) -> Response {
        Json(self.report().await).into_response()
    }

    async fn health(self: &Arc<Self>, verified_within: Option<f64>, max_lag: Option<f64>) -> HealthReport {
        Context::health(self, verified_within, max_lag).await
    }

    async fn metrics(self: &Arc<Self>) -> String {
        prometheus::render(&self.report().await)
    }

    async fn durable(self: &Arc<Self>, database: &str) -> Option<Answer> {
        self.durability.clone()?.wait(database).await
    }

    async fn reach(self: &Arc<Self>, _: &str, _: u64, _: Duration) -> Option<Result<u64, u64>> {
        None
    }
}
