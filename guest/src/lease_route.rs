//! The fence on a leased node's uploads (docs/lease.md, "Fencing"): each S3 replica
//! reached over plain HTTP is pointed at a relay in the host, which forwards a byte
//! only while the lease is valid. The replica is written in the mapping form with the
//! relay as its endpoint, path-style (the relay is an IP address), everything else
//! as it was. Litestream signs for the relay's `Host`, which is what the server
//! receives, so the signature still holds.

use crate::lease_place::{self, Keys};
use crate::model::LockPlace;
use serde_json::{Map, Value};

/// `document` with every replica whose endpoint is a route's upstream pointed at that
/// route's relay. `routes`: (upstream endpoint, relay endpoint), both `http://host:port`.
pub fn route(document: &str, routes: &[(String, String)]) -> Result<String, String> {
    let mut doc: Value = serde_json::from_str(document).map_err(|e| format!("not a rendered config: {e}"))?;
    let dbs = doc.get_mut("dbs").and_then(Value::as_array_mut).ok_or("the rendered config has no dbs")?;
    for db in dbs {
        let Some(replica) = db.get_mut("replica").and_then(Value::as_object_mut) else { continue };
        let LockPlace::S3(place) = lease_place::place(replica, &Keys::default())? else { continue };
        let Some(relay) =
            routes.iter().find(|(up, _)| Some(up) == place.endpoint.as_ref()).map(|r| r.1.clone())
        else {
            continue;
        };
        let mut routed = Map::new();
        routed.insert("type".into(), "s3".into());
        routed.insert("bucket".into(), place.bucket.into());
        let path = place.key.strip_suffix("lock.json").unwrap_or("").trim_end_matches('/').to_owned();
        routed.insert("path".into(), path.into());
        routed.insert("endpoint".into(), relay.into());
        routed.insert("region".into(), place.region.unwrap_or_else(|| "us-east-1".into()).into());
        routed.insert("force-path-style".into(), true.into());
        for (k, v) in replica.iter() {
            let replaced = ["url", "type", "bucket", "path", "endpoint", "region", "force-path-style"];
            if !replaced.contains(&k.as_str()) {
                routed.insert(k.clone(), v.clone());
            }
        }
        *replica = routed;
    }
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_http_replica_goes_through_its_relay_and_keeps_its_other_keys() {
        let doc = json!({"dbs": [
            {"path": "/a.db", "replica": {"url": "s3://bkt/x/a.db?endpoint=http://127.0.0.1:9000&region=eu-west-1", "sync-interval": "1s"}},
            {"path": "/b.db", "replica": {"type": "s3", "bucket": "b", "path": "y", "endpoint": "http://10.0.0.5:9000", "access-key-id": "K"}},
            {"path": "/c.db", "replica": {"url": "file:///srv/c"}},
        ]});
        let routes = vec![("http://127.0.0.1:9000".to_owned(), "http://127.0.0.1:4444".to_owned())];
        let out: Value = serde_json::from_str(&route(&doc.to_string(), &routes).unwrap()).unwrap();
        assert_eq!(
            out["dbs"][0]["replica"],
            json!({"type": "s3", "bucket": "bkt", "path": "x/a.db", "endpoint": "http://127.0.0.1:4444",
                   "region": "eu-west-1", "force-path-style": true, "sync-interval": "1s"})
        );
        assert_eq!(out["dbs"][1], doc["dbs"][1], "no route for this endpoint: unchanged");
        assert_eq!(out["dbs"][2], doc["dbs"][2]);
    }
}
