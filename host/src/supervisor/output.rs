//! A child's output, line by line, handed to a callback as it arrives: Litestream's
//! `replicate` under `run` and each follower's `restore -f` are read the same way.

use std::future::Future;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::task::JoinHandle;

/// Reads `stream` to its end on its own task, awaiting `each` for every line; the
/// task ends when the stream does.
pub fn forward<S, F, Fut>(stream: S, mut each: F) -> JoinHandle<()>
where
    S: AsyncRead + Unpin + Send + 'static,
    F: FnMut(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            each(line).await;
        }
    })
}
