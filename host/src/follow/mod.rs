//! Read-only followers: each replicated database kept following its replica with
//! Litestream 0.5's `restore -f`, looked at to know how stale it may be.

pub mod follower;
pub mod layout;
pub mod looks;
pub mod view;

use crate::rules::{FollowTarget, FollowerReport, Rules};
use crate::util::logbuf::LogBuffer;
use follower::FollowState;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// What every follower of one node shares: the binary, the private config, the
/// credentials environment, the intervals.
pub struct Setup {
    pub rules: &'static Rules,
    pub binary: PathBuf,
    /// The private Litestream config (0600 in the private directory), rewritten in
    /// place when the credentials rotate.
    pub config: PathBuf,
    /// Litestream's environment (credentials) and the secrets scrubbed from what it
    /// says: replaced when the credentials rotate, read at each start.
    pub keys: std::sync::RwLock<Keys>,
    pub follow_interval: Duration,
    pub look_interval: Duration,
    /// How long a follower may stay behind a moving replica before it is restored again.
    pub stuck_after: Duration,
    pub policy: crate::supervisor::Policy,
}

#[derive(Clone, Default)]
pub struct Keys {
    pub environment: Vec<(String, String)>,
    pub secrets: Vec<String>,
}

impl Setup {
    pub fn keys(&self) -> Keys {
        self.keys.read().expect("keys lock").clone()
    }
}

/// One follower as the status view shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FollowerStatus {
    pub name: String,
    /// The path readers open (the follower's symlink).
    pub path: String,
    /// The database's path as the Litestream config names it.
    #[serde(skip)]
    pub key: String,
    /// The replica followed (no secrets).
    pub replica: String,
    pub state: FollowState,
    pub pid: Option<u32>,
    /// The generation file readers open now.
    pub generation: Option<String>,
    /// Restarts after `restore -f` exited, and restores from scratch of a stuck follower.
    pub restarts: u32,
    pub restores: u32,
    pub last_exit: Option<String>,
    /// The last look: positions on both sides and how stale the follower may be.
    #[serde(skip)]
    pub report: Option<FollowerReport>,
    pub looked_at: Option<f64>,
}

/// The followers of this node, and `restore -f`'s recent output.
#[derive(Default)]
pub struct Followers {
    pub list: Mutex<Vec<FollowerStatus>>,
    pub logs: LogBuffer,
    /// The TXID each follower's served file holds, as `restore -f` last said (0 before
    /// it said anything): what a read that must see a durable write waits on.
    pub held: Vec<watch::Sender<u64>>,
}

impl Followers {
    pub fn new(targets: &[(FollowTarget, layout::Layout)]) -> Followers {
        let list = targets
            .iter()
            .map(|(t, layout)| FollowerStatus {
                name: t.name.clone(),
                path: layout.path.display().to_string(),
                key: t.path.clone(),
                replica: t.replica.clone(),
                ..Default::default()
            })
            .collect();
        let held = targets.iter().map(|_| watch::Sender::new(0)).collect();
        Followers { list: Mutex::new(list), logs: LogBuffer::default(), held }
    }

    /// Waits until the follower `name` serves `txid` or later, at most `limit`: Ok with
    /// the TXID it holds then, Err with the one it holds at the limit; None for a name
    /// not followed.
    pub async fn reach(&self, name: &str, txid: u64, limit: Duration) -> Option<Result<u64, u64>> {
        let index = self.list.lock().expect("followers lock").iter().position(|f| f.name == name)?;
        let mut held = self.held.get(index)?.subscribe();
        let reached = tokio::time::timeout(limit, held.wait_for(|t| *t >= txid)).await.map(|r| r.map(|t| *t));
        Some(match reached {
            Ok(Ok(t)) => Ok(t),
            _ => Err(*held.borrow()),
        })
    }

    /// `restore -f` says the served file now holds `txid`.
    pub fn holds(&self, index: usize, txid: u64) {
        if let Some(held) = self.held.get(index) {
            held.send_replace(txid);
        }
    }

    pub fn update(&self, index: usize, f: impl FnOnce(&mut FollowerStatus)) {
        if let Some(s) = self.list.lock().expect("followers lock").get_mut(index) {
            f(s);
        }
    }

    pub fn snapshot(&self) -> Vec<FollowerStatus> {
        self.list.lock().expect("followers lock").clone()
    }
}
