//! The fence on uploads (docs/lease.md, "Fencing"): Litestream reaches each S3
//! endpoint over plain HTTP through a relay here, which forwards a byte towards the
//! store only while this node's lease deadline stands (on the boot clock), and cuts
//! every connection once it has passed. A primary frozen past its deadline (SIGSTOP,
//! a VM pause) that resumes cannot get an upload through: the relay checks the clock
//! before it forwards, and the relay is frozen and resumed with it.

use super::Leases;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// How often an open connection looks at the deadline between chunks.
const WATCH: Duration = Duration::from_millis(200);
/// A small send buffer: what the kernel holds unsent at the deadline stays small.
const SEND_BUFFER: u32 = 64 * 1024;

/// Opens one relay per upstream (`http://host:port`); answers (upstream, relay).
pub async fn open(upstreams: &[String], leases: Arc<Leases>) -> std::io::Result<Vec<(String, String)>> {
    let mut routes = Vec::new();
    for upstream in upstreams {
        let authority = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let relay = format!("http://{}", listener.local_addr()?);
        tokio::spawn(serve(listener, authority, leases.clone()));
        routes.push((upstream.clone(), relay));
    }
    Ok(routes)
}

async fn serve(listener: TcpListener, upstream: String, leases: Arc<Leases>) {
    while let Ok((client, _)) = listener.accept().await {
        if !leases.open() {
            continue; // dropped: refused
        }
        let (upstream, leases) = (upstream.clone(), leases.clone());
        tokio::spawn(async move {
            match connect(&upstream).await {
                Ok(server) => relay(client, server, &leases).await,
                Err(e) => tracing::warn!("lease relay: cannot reach {upstream}: {e}"),
            }
        });
    }
}

async fn connect(upstream: &str) -> std::io::Result<TcpStream> {
    let addr = tokio::net::lookup_host(upstream)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{upstream} has no address")))?;
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_send_buffer_size(SEND_BUFFER)?;
    socket.connect(addr).await
}

/// Copies both ways; a chunk towards the store goes only while the lease is valid,
/// and the connection is cut as soon as it is not.
async fn relay(client: TcpStream, server: TcpStream, leases: &Leases) {
    let (mut client_r, mut client_w) = client.into_split();
    let (mut server_r, mut server_w) = server.into_split();
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !leases.open() || server_w.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
        let _ = server_w.shutdown().await;
    };
    let down = tokio::io::copy(&mut server_r, &mut client_w);
    let watch = async {
        while leases.open() {
            tokio::time::sleep(WATCH).await;
        }
    };
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        () = watch => tracing::warn!("lease relay: deadline passed; connection to the store cut"),
    }
}
