//! Blocking work (SQLite, file reads, wasm calls) off the async runtime's two workers,
//! which serve the status view and supervise Litestream: a long `PRAGMA
//! integrity_check` must not stall a health probe.

/// Runs `f` on tokio's blocking pool and waits for it; a panic in `f` panics here.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
