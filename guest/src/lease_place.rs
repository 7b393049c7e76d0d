//! Where a database's lock lives: beside its replica, as Litestream 0.5 names the
//! place (`s3/leaser.go`: the replica's path and `/lock.json`), with the bucket,
//! endpoint and region read from the replica as Litestream reads them
//! (`cmd/litestream/main.go`, `s3.ParseHost`, `replica_url.go`).

use crate::model::{EnvVar, LeaseTarget, LockPlace, Rendered, S3Place};
use serde_json::{Map, Value};

/// Why a replica cannot carry a lease, or None when it can.
pub fn refusal(replica: &Map<String, Value>) -> Option<String> {
    place(replica, &Keys::default()).err()
}

/// Every database's lock in a rendered Litestream 0.5 config.
pub fn targets(rendered: &Rendered) -> Result<Vec<LeaseTarget>, String> {
    let doc: Value =
        serde_json::from_str(&rendered.document).map_err(|e| format!("not a rendered config: {e}"))?;
    let keys = Keys::of(doc.as_object(), &rendered.environment);
    let dbs = doc.get("dbs").and_then(Value::as_array).ok_or("the rendered config has no dbs")?;
    dbs.iter()
        .map(|db| {
            let path = db.get("path").and_then(Value::as_str).ok_or("a dbs entry has no path")?;
            let replica = db.get("replica").and_then(Value::as_object).ok_or("a dbs entry has no replica")?;
            Ok(LeaseTarget { path: path.to_owned(), place: place(replica, &keys)? })
        })
        .collect()
}

/// The keys Litestream is given for every replica: the config's top level, else the
/// environment the host starts it with.
#[derive(Default)]
pub(crate) struct Keys {
    id: Option<String>,
    secret: Option<String>,
    token: Option<String>,
}

impl Keys {
    fn of(doc: Option<&Map<String, Value>>, environment: &[EnvVar]) -> Keys {
        let env = |names: &[&str]| {
            names.iter().find_map(|n| {
                environment.iter().find(|v| v.name == *n && !v.value.is_empty()).map(|v| v.value.clone())
            })
        };
        let text = |k: &str| doc.and_then(|d| d.get(k)).and_then(Value::as_str).map(str::to_owned);
        Keys {
            id: text("access-key-id")
                .or_else(|| env(&["LITESTREAM_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"])),
            secret: text("secret-access-key").or_else(|| {
                env(&["LITESTREAM_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"])
            }),
            token: env(&["AWS_SESSION_TOKEN"]),
        }
    }
}

pub(crate) fn place(replica: &Map<String, Value>, keys: &Keys) -> Result<LockPlace, String> {
    let text = |k: &str| replica.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let url = text("url").map(Url::parse).transpose()?;
    let kind = text("type").or(url.as_ref().map(|u| u.scheme.as_str())).unwrap_or("file");
    match kind {
        "file" => {
            let dir = text("path").map(str::to_owned).or_else(|| url.map(|u| format!("/{}", u.path)));
            match dir {
                Some(d) if d.starts_with('/') => {
                    Ok(LockPlace::File(join(d.trim_end_matches('/'), "lock.json")))
                }
                _ => Err("a file replica needs an absolute path for its lock (file:///absolute/dir)".into()),
            }
        }
        "s3" => Ok(LockPlace::S3(s3_place(replica, url.as_ref(), keys)?)),
        other => Err(format!(
            "a {other} replica cannot hold a lease: the lock needs conditional writes, which the lease uses on s3 and file replicas only"
        )),
    }
}

fn s3_place(replica: &Map<String, Value>, url: Option<&Url>, keys: &Keys) -> Result<S3Place, String> {
    let text = |k: &str| replica.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let flag = |k: &str| replica.get(k).and_then(Value::as_bool);
    let mut endpoint = text("endpoint").map(|e| with_scheme(&e));
    let mut path_style = flag("force-path-style").unwrap_or(endpoint.is_some());
    let (mut bucket, mut region, mut skip_verify) =
        (text("bucket"), text("region"), flag("skip-verify").unwrap_or(false));
    let mut path = text("path");
    if let Some(u) = url {
        let host = parse_host(&u.host);
        let query_endpoint = u.query("endpoint").map(|e| with_scheme(&e));
        let url_path_style = match u.query("forcePathStyle").as_deref() {
            Some(v) => v == "true",
            None => query_endpoint.is_some() || host.path_style,
        };
        bucket = bucket.or(Some(host.bucket));
        region = region.or(u.query("region")).or(host.region);
        endpoint = endpoint.or(query_endpoint).or(host.endpoint);
        if flag("force-path-style").is_none() {
            path_style = url_path_style;
        }
        if let Some(v) = u.query("skipVerify") {
            skip_verify = v == "true";
        }
        path = path.or(Some(u.path.clone()));
    }
    let bucket =
        bucket.filter(|b| !b.is_empty()).ok_or("an s3 replica without a bucket cannot hold a lease")?;
    if bucket.starts_with("arn:") {
        return Err("an S3 access point (arn:) cannot hold a lease yet: name the bucket".into());
    }
    let path = path.unwrap_or_default();
    let path = path.trim_matches('/');
    let key = if path.is_empty() { "lock.json".to_owned() } else { join(path, "lock.json") };
    Ok(S3Place {
        bucket,
        key,
        endpoint,
        region,
        path_style,
        skip_verify,
        access_key_id: text("access-key-id").or_else(|| keys.id.clone()),
        secret_access_key: text("secret-access-key").or_else(|| keys.secret.clone()),
        session_token: keys.token.clone(),
    })
}

fn join(dir: &str, name: &str) -> String {
    format!("{dir}/{name}")
}

/// Litestream's `EnsureEndpointScheme`: http for local hosts, https for the rest.
fn with_scheme(endpoint: &str) -> String {
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        return endpoint.to_owned();
    }
    let host = endpoint.split(['/', ':']).next().unwrap_or("");
    let local =
        host == "localhost" || host.starts_with("127.") || host == "[::1]" || host.ends_with(".local");
    format!("{}://{endpoint}", if local { "http" } else { "https" })
}

struct Host {
    bucket: String,
    region: Option<String>,
    endpoint: Option<String>,
    path_style: bool,
}

/// `s3.ParseHost`: MinIO-style `bucket.host:port`, AWS virtual hosts, a few
/// providers' hosts, else the host is the bucket.
fn parse_host(host: &str) -> Host {
    let plain = |bucket: &str, region: Option<&str>, endpoint: Option<String>, path_style| Host {
        bucket: bucket.to_owned(),
        region: region.map(str::to_owned),
        endpoint,
        path_style,
    };
    if host.contains(':') && !host.contains(".com") {
        return match host.split_once('.') {
            Some((bucket, rest)) => plain(bucket, Some("us-east-1"), Some(format!("http://{rest}")), true),
            None => plain("", None, Some(format!("http://{host}")), true),
        };
    }
    if let Some(rest) = host.strip_suffix(".amazonaws.com") {
        if let Some((bucket, region)) = rest.rsplit_once(".s3.") {
            return plain(bucket, Some(region), None, false);
        }
        if let Some(bucket) = rest.strip_suffix(".s3") {
            return plain(bucket, None, None, false);
        }
    }
    if let Some(rest) = host.strip_suffix(".digitaloceanspaces.com")
        && let Some((bucket, region)) = rest.rsplit_once('.')
    {
        return plain(bucket, Some(region), Some(format!("https://{region}.digitaloceanspaces.com")), false);
    }
    if let Some(rest) = host.strip_suffix(".backblazeb2.com")
        && let Some((bucket, region)) = rest.split_once(".s3.")
    {
        return plain(bucket, Some(region), Some(format!("https://s3.{region}.backblazeb2.com")), true);
    }
    plain(host, None, None, false)
}

/// The parts of a replica URL the lock needs: scheme, host, cleaned path, query.
struct Url {
    scheme: String,
    host: String,
    path: String,
    query: Vec<(String, String)>,
}

impl Url {
    fn parse(text: &str) -> Result<Url, String> {
        let (scheme, rest) = text.split_once("://").ok_or_else(|| format!("{text:?} is not a URL"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let query = query
            .split('&')
            .filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let path = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect::<Vec<_>>().join("/");
        Ok(Url { scheme: scheme.to_ascii_lowercase(), host: host.to_owned(), path, query })
    }

    fn query(&self, key: &str) -> Option<String> {
        self.query.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(replica: Value, doc_keys: Value, environment: Vec<(&str, &str)>) -> LockPlace {
        let mut doc = doc_keys;
        doc["dbs"] = json!([{"path": "/data/a.db", "replica": replica}]);
        let rendered = Rendered {
            document: doc.to_string(),
            environment: environment
                .into_iter()
                .map(|(n, v)| EnvVar { name: n.into(), value: v.into() })
                .collect(),
            secrets: vec![],
            startup: crate::model::StartupProof::ControlSocket,
        };
        let mut t = targets(&rendered).unwrap();
        assert_eq!(t[0].path, "/data/a.db");
        t.remove(0).place
    }

    fn s3(place: LockPlace) -> S3Place {
        match place {
            LockPlace::S3(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_s3_url_with_an_endpoint_puts_the_lock_beside_its_ltx_files() {
        let p = s3(one(
            json!({"url": "s3://bkt/backups//a.db/?endpoint=127.0.0.1:9000&region=eu-west-1"}),
            json!({"access-key-id": "AK", "secret-access-key": "SK"}),
            vec![],
        ));
        assert_eq!((p.bucket.as_str(), p.key.as_str()), ("bkt", "backups/a.db/lock.json"));
        assert_eq!(p.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!((p.region.as_deref(), p.path_style), (Some("eu-west-1"), true));
        assert_eq!((p.access_key_id.as_deref(), p.secret_access_key.as_deref()), (Some("AK"), Some("SK")));
    }

    #[test]
    fn aws_hosts_minio_hosts_and_mappings_are_read_as_litestream_reads_them() {
        let aws = s3(one(json!({"url": "s3://bkt.s3.us-west-2.amazonaws.com/db"}), json!({}), vec![]));
        assert_eq!(
            (aws.bucket.as_str(), aws.region.as_deref(), aws.endpoint),
            ("bkt", Some("us-west-2"), None)
        );
        assert!(!aws.path_style);
        let minio = s3(one(json!({"url": "s3://bkt.localhost:9000"}), json!({}), vec![]));
        assert_eq!(
            (minio.key.as_str(), minio.endpoint.as_deref()),
            ("lock.json", Some("http://localhost:9000"))
        );
        let mapping = s3(one(
            json!({"type": "s3", "bucket": "b", "path": "p/q", "endpoint": "minio.example.com", "access-key-id": "R"}),
            json!({}),
            vec![("AWS_ACCESS_KEY", "T"), ("AWS_SECRET_KEY", "S"), ("AWS_SESSION_TOKEN", "X")],
        ));
        assert_eq!(mapping.endpoint.as_deref(), Some("https://minio.example.com"));
        assert_eq!((mapping.key.as_str(), mapping.path_style), ("p/q/lock.json", true));
        assert_eq!(mapping.access_key_id.as_deref(), Some("R"));
        assert_eq!(
            (mapping.secret_access_key.as_deref(), mapping.session_token.as_deref()),
            (Some("S"), Some("X"))
        );
    }

    #[test]
    fn a_file_replica_locks_in_its_directory_and_other_kinds_are_refused() {
        assert_eq!(
            one(json!({"url": "file:///srv/rep/a"}), json!({}), vec![]),
            LockPlace::File("/srv/rep/a/lock.json".into())
        );
        assert_eq!(
            one(json!({"path": "/srv/rep/b/"}), json!({}), vec![]),
            LockPlace::File("/srv/rep/b/lock.json".into())
        );
        let mut gcs = Map::new();
        gcs.insert("url".into(), json!("gs://bucket/db"));
        assert!(refusal(&gcs).unwrap().contains("gs replica"));
        let mut relative = Map::new();
        relative.insert("path".into(), json!("rep"));
        assert!(refusal(&relative).unwrap().contains("absolute"));
    }
}
