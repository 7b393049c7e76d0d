//! AWS Signature Version 4 in the `Authorization` header, for the few S3 requests
//! the lease makes (GET, PUT and DELETE of one object, HEAD of a bucket). Header
//! signing, not presigned URLs: S3-compatible servers (moto among them) that refuse
//! query-string auth still take these.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub struct Keys<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
}

/// A request to sign: the headers it carries besides the ones signing adds.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent, already percent-encoded.
    pub path: &'a str,
    pub host: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// The headers to add: `x-amz-date`, `x-amz-content-sha256`, the token if any, and
/// `authorization`. `amz_date` is `YYYYMMDDTHHMMSSZ`.
pub fn sign(req: &Request, keys: &Keys, region: &str, amz_date: &str) -> Vec<(String, String)> {
    let payload = hex(&Sha256::digest(req.body));
    let mut added = vec![
        ("x-amz-date".to_owned(), amz_date.to_owned()),
        ("x-amz-content-sha256".to_owned(), payload.clone()),
    ];
    if let Some(t) = keys.token {
        added.push(("x-amz-security-token".to_owned(), t.to_owned()));
    }
    let mut signed: Vec<(String, String)> = req
        .headers
        .iter()
        .chain(&added)
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .chain([("host".to_owned(), req.host.to_owned())])
        .collect();
    signed.sort();
    let names = signed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!("{}\n{}\n\n{canonical_headers}\n{names}\n{payload}", req.method, req.path);
    let day = &amz_date[..8];
    let scope = format!("{day}/{region}/s3/aws4_request");
    let to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let mut key = mac(format!("AWS4{}", keys.secret).as_bytes(), day.as_bytes());
    for part in [region, "s3", "aws4_request"] {
        key = mac(&key, part.as_bytes());
    }
    let signature = hex(&mac(&key, to_sign.as_bytes()));
    added.push((
        "authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={names}, Signature={signature}",
            keys.id
        ),
    ));
    added
}

/// `YYYYMMDDTHHMMSSZ` for Unix seconds.
pub fn amz_date(unix: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    humantime::format_rfc3339_seconds(at).to_string().replace(['-', ':'], "")
}

/// Percent-encodes an object key for the path, keeping `/` (S3's rule: once).
pub fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own example, "Example: GET Object" in the S3 API reference's SigV4
    /// header-authentication page (keys and expected signature from that page).
    #[test]
    fn the_s3_reference_example_signs_to_its_published_signature() {
        let req = Request {
            method: "GET",
            path: "/test.txt",
            host: "examplebucket.s3.amazonaws.com",
            headers: vec![("Range".into(), "bytes=0-9".into())],
            body: b"",
        };
        let keys = Keys {
            id: "AKIAIOSFODNN7EXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            token: None,
        };
        let headers = sign(&req, &keys, "us-east-1", "20130524T000000Z");
        let auth = &headers.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn keys_are_encoded_once_and_dates_compacted() {
        assert_eq!(encode_key("a b/lock.json"), "a%20b/lock.json");
        assert_eq!(amz_date(1_369_353_600), "20130524T000000Z");
    }
}
