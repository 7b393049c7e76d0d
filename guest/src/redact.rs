//! Hides secrets in a Litestream document: secret keys at any depth, passwords in URL
//! user-info and secret-looking query parameters.

use crate::keys;
use serde_json::Value;

pub const REDACTED: &str = "***REDACTED***";

/// Reads a Litestream document (JSON, or any YAML) and writes it back as JSON, redacted.
pub fn document(text: &str) -> Result<String, String> {
    let mut doc: Value =
        serde_norway::from_str(text).map_err(|e| format!("cannot read the document as YAML: {e}"))?;
    if !doc.is_object() {
        return Err("the document is not a mapping".into());
    }
    walk(&mut doc);
    let mut out =
        serde_json::to_string_pretty(&doc).map_err(|e| format!("cannot write the document: {e}"))?;
    out.push('\n');
    Ok(out)
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if keys::is_secret(key) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                } else {
                    walk(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        Value::String(s) => *s = url(s),
        _ => {}
    }
}

/// The URL with its password and secret query values hidden; other text unchanged.
pub fn url(text: &str) -> String {
    let parts = parts(text);
    if parts.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in parts {
        out.push_str(&text[last..start]);
        out.push_str(REDACTED);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// The secret values inside a URL, for scrubbing logs.
pub fn url_secrets(text: &str) -> Vec<String> {
    parts(text).into_iter().map(|(s, e)| text[s..e].to_owned()).collect()
}

/// Byte ranges of secrets: the password of `scheme://user:password@host` and the values
/// of query parameters whose names say secret, token, password, key or signature.
fn parts(text: &str) -> Vec<(usize, usize)> {
    let Some(scheme_end) = text.find("://") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let authority_start = scheme_end + 3;
    let authority_end =
        text[authority_start..].find(['/', '?', '#']).map_or(text.len(), |i| authority_start + i);
    let authority = &text[authority_start..authority_end];
    if let Some(at) = authority.rfind('@')
        && let Some(colon) = authority[..at].find(':')
    {
        found.push((authority_start + colon + 1, authority_start + at));
    }
    if let Some(q) = text[authority_end..].find('?') {
        let query_start = authority_end + q + 1;
        let query_end = text[query_start..].find('#').map_or(text.len(), |i| query_start + i);
        let mut offset = query_start;
        for pair in text[query_start..query_end].split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                let name = name.to_ascii_lowercase();
                let secret = ["secret", "token", "password", "signature", "sig", "key"]
                    .iter()
                    .any(|w| name.contains(w))
                    && !name.contains("key-id")
                    && !name.contains("keyid")
                    && !value.is_empty();
                if secret {
                    let start = offset + name.len() + 1;
                    found.push((start, start + value.len()));
                }
            }
            offset += pair.len() + 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_and_secret_parameters() {
        assert_eq!(url("sftp://bob:hunter2@host/p"), "sftp://bob:***REDACTED***@host/p");
        assert_eq!(
            url("s3://b/p?endpoint=http://x&secret-access-key=S3CR3T"),
            "s3://b/p?endpoint=http://x&secret-access-key=***REDACTED***"
        );
        assert_eq!(url("s3://bucket/path"), "s3://bucket/path");
        assert_eq!(url("not a url"), "not a url");
        assert_eq!(url_secrets("webdav://u:pw@h/x?token=abc"), vec!["pw", "abc"]);
    }

    #[test]
    fn secret_keys_at_every_depth() {
        let doc = "secret-access-key: A\ndbs:\n- path: /x\n  replicas:\n  - url: s3://b\n    secret-access-key: B\n    password: C\n";
        let out = document(doc).unwrap();
        for s in ["\"A\"", "\"B\"", "\"C\""] {
            assert!(!out.contains(s), "{out}");
        }
        assert_eq!(out.matches(REDACTED).count(), 3);
    }
}
