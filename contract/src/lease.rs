//! The `lease` interface: one writer per replica, with Litestream's `lock.json`.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

/// Where a database's lock lives on S3, and the keys that sign requests for it.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct S3Place {
    pub bucket: String,
    pub key: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: bool,
    pub skip_verify: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

/// Never shows the keys: a place may be logged.
impl std::fmt::Debug for S3Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let endpoint = self.endpoint.as_deref().unwrap_or("aws");
        write!(f, "s3://{}/{} ({endpoint})", self.bucket, self.key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum LockPlace {
    S3(S3Place),
    File(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LeaseTarget {
    pub path: String,
    pub place: LockPlace,
}

/// A lock as `lock.json` holds it; `expires_at` in Unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Lock {
    pub generation: u64,
    pub expires_at: f64,
    pub owner: Option<String>,
}

/// The lock read: absent, or (ETag, body).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum LockSeen {
    Absent,
    Present((String, String)),
}

/// The conditional write that takes a lock: `If-Match` with `if_match`, else
/// `If-None-Match: *`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Take {
    pub if_match: Option<String>,
    pub body: String,
    pub lock: Lock,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum Sight {
    Free(Take),
    Held(Lock),
    Unreadable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteOutcome {
    Written,
    Absent,
    Precondition,
    Conflict,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LeaseRole {
    #[default]
    Starting,
    Primary,
    Standby,
    Fenced,
    Released,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum RenewalVerdict {
    Renewed(f64),
    Retry,
    Lost(String),
}
