//! The lock on S3: GET, conditional PUT and conditional DELETE of `lock.json`, signed
//! with the keys Litestream is given (else the host's own `AWS_*` variables).

use super::sigv4;
use crate::rules::{LockSeen, S3Place, WriteOutcome};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::time::Duration;

pub struct S3Lock {
    place: S3Place,
    /// Where to connect (`host:port`) and the `Host` header.
    address: String,
    host: String,
    path: String,
    region: String,
    tls: Option<tokio_rustls::TlsConnector>,
    limit: Duration,
}

/// One answer: status, ETag, body.
type Answer = (u16, Option<String>, Bytes);

impl S3Lock {
    /// `region`: the bucket's, asked of AWS beforehand when the replica names none.
    pub fn new(place: S3Place, region: Option<String>, limit: Duration) -> Result<S3Lock, String> {
        let region = region.or(place.region.clone()).unwrap_or_else(|| "us-east-1".into());
        let (tls, authority) = match &place.endpoint {
            Some(e) => match (e.strip_prefix("http://"), e.strip_prefix("https://")) {
                (Some(a), _) => (false, a.trim_end_matches('/').to_owned()),
                (_, Some(a)) => (true, a.trim_end_matches('/').to_owned()),
                _ => return Err(format!("the lock's endpoint {e} is neither http:// nor https://")),
            },
            None => (true, format!("s3.{region}.amazonaws.com")),
        };
        let key = sigv4::encode_key(&place.key);
        let (host, path) = match place.path_style {
            true => (authority.clone(), format!("/{}/{key}", place.bucket)),
            false => (format!("{}.{authority}", place.bucket), format!("/{key}")),
        };
        let port = if tls { 443 } else { 80 };
        let address = if host.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let tls = tls.then(|| super::tls::connector(place.skip_verify)).transpose()?;
        Ok(S3Lock { place, address, host, path, region, tls, limit })
    }

    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.place.bucket, self.place.key)
    }

    pub async fn read(&self) -> Result<LockSeen, String> {
        match self.send("GET", vec![], Vec::new()).await? {
            (200, Some(etag), body) => {
                Ok(LockSeen::Present((etag, String::from_utf8_lossy(&body).into_owned())))
            }
            (200, None, _) => Err("S3 answered the lock without an ETag".into()),
            (404, _, _) => Ok(LockSeen::Absent),
            (status, _, body) => Err(format!("reading the lock: S3 answered {status}: {}", said(&body))),
        }
    }

    /// PUT with `If-Match: etag`, or `If-None-Match: *` without one; the new ETag.
    pub async fn write(&self, if_match: Option<&str>, body: &str) -> (WriteOutcome, Option<String>) {
        let condition = match if_match {
            Some(etag) => ("if-match".to_owned(), etag.to_owned()),
            None => ("if-none-match".to_owned(), "*".to_owned()),
        };
        let headers = vec![condition, ("content-type".into(), "application/json".into())];
        match self.send("PUT", headers, body.as_bytes().to_vec()).await {
            Ok((status, etag, _)) => (outcome(status), etag),
            Err(why) => {
                tracing::warn!("lease: writing {}: {why}", self.describe());
                (WriteOutcome::Failed, None)
            }
        }
    }

    pub async fn delete(&self, etag: &str) -> WriteOutcome {
        match self.send("DELETE", vec![("if-match".into(), etag.to_owned())], Vec::new()).await {
            Ok((status, _, _)) => outcome(status),
            Err(_) => WriteOutcome::Failed,
        }
    }

    async fn send(
        &self,
        method: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<Answer, String> {
        let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let id = self.place.access_key_id.clone().or_else(|| env("AWS_ACCESS_KEY_ID"));
        let secret = self.place.secret_access_key.clone().or_else(|| env("AWS_SECRET_ACCESS_KEY"));
        let token = self.place.session_token.clone().or_else(|| env("AWS_SESSION_TOKEN"));
        let (Some(id), Some(secret)) = (id, secret) else {
            return Err("no S3 keys for the lock: give access-key-id and secret-access-key".into());
        };
        let keys = sigv4::Keys { id: &id, secret: &secret, token: token.as_deref() };
        let request = sigv4::Request { method, path: &self.path, host: &self.host, headers, body: &body };
        let date = sigv4::amz_date(crate::util::clock::now() as u64);
        let signed = sigv4::sign(&request, &keys, &self.region, &date);
        let mut builder = hyper::Request::builder().method(method).uri(&self.path).header("host", &self.host);
        for (k, v) in request.headers.iter().chain(&signed) {
            builder = builder.header(k, v);
        }
        let req = builder.body(Full::new(Bytes::from(body.clone()))).map_err(|e| e.to_string())?;
        let work = async {
            let stream = tokio::net::TcpStream::connect(&self.address).await?;
            match &self.tls {
                None => exchange(stream, req).await,
                Some(tls) => {
                    let name = self.host.rsplit_once(':').map_or(self.host.as_str(), |(h, _)| h).to_owned();
                    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(name)?;
                    exchange(tls.connect(name, stream).await?, req).await
                }
            }
        };
        match tokio::time::timeout(self.limit, work).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(format!("{} {}: {e}", method, self.describe())),
            Err(_) => Err(format!("{} {}: no answer within {:?}", method, self.describe(), self.limit)),
        }
    }
}

/// One request on a fresh connection (a few per database every renewal period: no
/// pool to keep warm).
async fn exchange<S>(stream: S, req: hyper::Request<Full<Bytes>>) -> anyhow::Result<Answer>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, etag, bytes))
}

/// The region of an AWS bucket the replica names no region for: AWS says it in
/// `x-amz-bucket-region` on any answer to `HEAD /` of the bucket, even a 403.
pub async fn bucket_region(bucket: &str, limit: Duration) -> Result<String, String> {
    let host = format!("{bucket}.s3.amazonaws.com");
    let tls = super::tls::connector(false)?;
    let req = hyper::Request::builder()
        .method("HEAD")
        .uri("/")
        .header("host", &host)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let work = async {
        let stream = tokio::net::TcpStream::connect(format!("{host}:443")).await?;
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())?;
        let stream = tls.connect(name, stream).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let resp = sender.send_request(req).await?;
        anyhow::Ok(resp.headers().get("x-amz-bucket-region").and_then(|v| v.to_str().ok()).map(str::to_owned))
    };
    match tokio::time::timeout(limit, work).await {
        Ok(Ok(Some(region))) => Ok(region),
        Ok(Ok(None)) => {
            Err(format!("AWS did not say which region bucket {bucket} is in: set region on the replica"))
        }
        Ok(Err(e)) => {
            Err(format!("cannot ask AWS which region bucket {bucket} is in: {e}; set region on the replica"))
        }
        Err(_) => {
            Err(format!("AWS did not answer which region bucket {bucket} is in: set region on the replica"))
        }
    }
}

/// S3's status for a conditional write or delete.
fn outcome(status: u16) -> WriteOutcome {
    match status {
        200..=299 => WriteOutcome::Written,
        404 => WriteOutcome::Absent,
        412 => WriteOutcome::Precondition,
        409 => WriteOutcome::Conflict,
        _ => WriteOutcome::Failed,
    }
}

/// The first line of an error body, short.
fn said(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}
