//! Reading Litestream's `/metrics` over HTTP, bounded in time.

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Where to connect for a `metrics-addr` as Litestream binds it: an empty or
/// unspecified host means this machine.
pub fn connect_addr(addr: &str) -> String {
    match addr.rsplit_once(':') {
        Some(("" | "0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => addr.to_owned(),
    }
}

pub async fn metrics(addr: &str) -> Result<String> {
    let target = connect_addr(addr);
    let work = async {
        let stream = tokio::net::TcpStream::connect(&target)
            .await
            .with_context(|| format!("cannot connect to {target}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let req = hyper::Request::get("/metrics").header("host", &target).body(Empty::<Bytes>::new())?;
        let resp = sender.send_request(req).await?;
        anyhow::ensure!(resp.status().is_success(), "/metrics answered {}", resp.status());
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(String::from_utf8_lossy(&body).into_owned())
    };
    tokio::time::timeout(TIMEOUT, work).await.map_err(|_| anyhow::anyhow!("no answer within {TIMEOUT:?}"))?
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_form_litestream_accepts() {
        use super::connect_addr;
        assert_eq!(connect_addr(":9090"), "127.0.0.1:9090");
        assert_eq!(connect_addr("0.0.0.0:9090"), "127.0.0.1:9090");
        assert_eq!(connect_addr("127.0.0.1:9090"), "127.0.0.1:9090");
        assert_eq!(connect_addr("localhost:9090"), "localhost:9090");
        assert_eq!(connect_addr("[::1]:9090"), "[::1]:9090");
    }
}
