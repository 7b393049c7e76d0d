//! The `durability` interface: Litestream's answer to a waiting sync, judged.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

/// Litestream's HTTP answer to a sync that waits for the replica.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SyncAnswer {
    pub status: u16,
    pub body: String,
}

/// What the writes committed before a sync began may be told.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum SyncOutcome {
    /// On the replica; a TXID the replica holds that is at least theirs.
    Durable(u64),
    NotDurable(String),
}
