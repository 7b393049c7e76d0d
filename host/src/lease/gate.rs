//! The fence on uploads (docs/lease.md, "Fencing"): Litestream reaches each S3
//! endpoint over plain HTTP through a relay here (its config names the relay), and
//! HTTPS endpoints through a CONNECT proxy here (`HTTPS_PROXY` in its environment:
//! the TLS stream passes through unread), which forwards a byte towards the
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

/// Where Litestream's traffic goes instead: relays for HTTP endpoints, a proxy for
/// HTTPS ones.
#[derive(Clone, Default)]
pub struct Fence {
    /// (upstream endpoint, relay endpoint), both `http://host:port`.
    pub routes: Vec<(String, String)>,
    /// `http://127.0.0.1:port`, for `HTTPS_PROXY`.
    pub proxy: Option<String>,
}

impl Fence {
    pub async fn open(leases: &Arc<Leases>) -> std::io::Result<Fence> {
        let routes = open(&leases.upstreams, leases.clone()).await?;
        let proxy = match leases.tls {
            true => Some(proxy(leases.clone()).await?),
            false => None,
        };
        Ok(Fence { routes, proxy })
    }

    /// The environment that sends Litestream's HTTPS through the proxy (Go reads
    /// either case; an inherited NO_PROXY must not let a host bypass it).
    pub fn environment(&self) -> Vec<(String, String)> {
        let Some(proxy) = &self.proxy else { return vec![] };
        let mut env = Vec::new();
        for name in ["HTTPS_PROXY", "https_proxy"] {
            env.push((name.to_owned(), proxy.clone()));
        }
        for name in ["NO_PROXY", "no_proxy"] {
            env.push((name.to_owned(), String::new()));
        }
        env
    }
}

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

/// A CONNECT proxy that opens a tunnel only while the lease is valid.
async fn proxy(leases: Arc<Leases>) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let leases = leases.clone();
            tokio::spawn(async move { tunnel(client, &leases).await });
        }
    });
    Ok(address)
}

async fn tunnel(mut client: TcpStream, leases: &Leases) {
    let Some(target) = connect_request(&mut client).await else { return };
    if !leases.open() {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n").await;
        return;
    }
    match connect(&target).await {
        Ok(server) => {
            if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_ok() {
                relay(client, server, leases).await;
            }
        }
        Err(e) => {
            tracing::warn!("lease proxy: cannot reach {target}: {e}");
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
        }
    }
}

/// Reads `CONNECT host:port HTTP/1.1` and its headers; the target.
async fn connect_request(client: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || client.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_owned();
    let mut parts = line.split_whitespace();
    (parts.next()? == "CONNECT").then(|| parts.next().map(str::to_owned))?
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
