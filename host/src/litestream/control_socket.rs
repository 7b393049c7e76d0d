//! Litestream 0.5's control socket: HTTP over a Unix socket in the private directory.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::time::Duration;

async fn request(
    socket: &Path,
    method: &str,
    uri: &str,
    body: String,
    limit: Duration,
) -> anyhow::Result<(u16, Bytes)> {
    let work = async {
        let stream = tokio::net::UnixStream::connect(socket).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "litestream")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        anyhow::Ok((status, bytes))
    };
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| anyhow::anyhow!("Litestream's control socket did not answer within {limit:?}"))?
}

/// Asks Litestream to sync `db` now and waits until the replica has it.
pub async fn sync(socket: &Path, db: &str, limit: Duration) -> anyhow::Result<()> {
    let body = serde_json::json!({"path": db, "wait": true, "timeout": limit.as_secs().max(1)}).to_string();
    let (status, bytes) = request(socket, "POST", "/sync", body, limit + Duration::from_secs(1)).await?;
    if status != 200 {
        anyhow::bail!("sync of {db} answered {status}: {}", String::from_utf8_lossy(&bytes).trim());
    }
    Ok(())
}

/// Litestream's whole answer to `POST /sync` for `db` with `wait` (its status and
/// body, for the rules to judge), bounded by `limit` on both sides: Litestream gets it
/// in whole seconds, the request a second more.
pub async fn sync_answer(socket: &Path, db: &str, limit: Duration) -> anyhow::Result<(u16, String)> {
    let seconds = limit.as_secs_f64().ceil().max(1.0) as u64;
    let body = serde_json::json!({"path": db, "wait": true, "timeout": seconds}).to_string();
    let (status, bytes) = request(socket, "POST", "/sync", body, limit + Duration::from_secs(1)).await?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The body of Litestream's answer to `POST /sync` for `db` without waiting (the rules
/// read it): the WAL-to-LTX step its own monitor runs every second, and the only
/// answer that carries the replica's position.
pub async fn positions(socket: &Path, db: &str, limit: Duration) -> anyhow::Result<String> {
    let body = serde_json::json!({"path": db}).to_string();
    let (status, bytes) = request(socket, "POST", "/sync", body, limit).await?;
    if status != 200 {
        anyhow::bail!("POST /sync answered {status}: {}", String::from_utf8_lossy(&bytes).trim());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Adds `db` to the running Litestream, replicating to `replica_url`.
pub async fn register(socket: &Path, db: &str, replica_url: &str, limit: Duration) -> anyhow::Result<()> {
    let body = serde_json::json!({"path": db, "replica_url": replica_url}).to_string();
    let (status, bytes) = request(socket, "POST", "/register", body, limit).await?;
    if status != 200 {
        // The answer may quote the URL; the caller scrubs what it shows.
        anyhow::bail!("register of {db} answered {status}: {}", String::from_utf8_lossy(&bytes).trim());
    }
    Ok(())
}

/// Drops `db` from the running Litestream, which closes it (and syncs it) first.
pub async fn unregister(socket: &Path, db: &str, limit: Duration) -> anyhow::Result<()> {
    let body = serde_json::json!({"path": db, "timeout": limit.as_secs().max(1)}).to_string();
    let (status, bytes) =
        request(socket, "POST", "/unregister", body, limit + Duration::from_secs(1)).await?;
    if status != 200 {
        anyhow::bail!("unregister of {db} answered {status}: {}", String::from_utf8_lossy(&bytes).trim());
    }
    Ok(())
}
