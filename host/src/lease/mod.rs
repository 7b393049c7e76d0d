//! `lease:` — one writer per replica (docs/lease.md). Before Litestream starts, this
//! node takes every replicated database's lock (`lock.json` beside its replica, in
//! Litestream's format); a node that cannot is a standby and looks again every few
//! seconds. The holder renews every third of the TTL and, when it cannot, stops
//! Litestream with SIGKILL (no final upload) `margin` before the lock could be taken
//! over. A graceful stop releases the locks after Litestream's final sync.

mod file;
pub mod gate;
mod s3;
pub mod sigv4;
mod store;
pub mod takeover;
mod tls;

use crate::rules::{LeaseSettings, Lock, RenewalVerdict, Rules, Sight, WriteOutcome};
use crate::util::blocking::blocking;
use crate::util::clock;
use serde::Serialize;
use std::sync::Mutex;
use std::time::Duration;
use store::Store;

pub use crate::rules::LeaseRole as Role;

/// One database's lock as the status view shows it (no keys).
#[derive(Debug, Clone, Serialize)]
pub struct LockView {
    pub database: String,
    pub lock: String,
    pub holder: Option<String>,
    pub generation: Option<u64>,
    /// Unix seconds.
    pub expires_at: Option<f64>,
    pub ours: bool,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct LeaseReport {
    pub role: Role,
    pub owner: String,
    pub ttl_seconds: f64,
    pub locks: Vec<LockView>,
    /// Seconds until this node stops Litestream unless a renewal succeeds.
    pub fence_in_seconds: Option<f64>,
    pub takeovers: u64,
    pub renewals: u64,
    pub renew_failures: u64,
    pub reason: Option<String>,
}

struct Entry {
    name: String,
    store: Store,
    held: Option<(String, Lock)>,
}

pub struct Leases {
    rules: &'static Rules,
    pub settings: LeaseSettings,
    owner: String,
    entries: tokio::sync::Mutex<Vec<Entry>>,
    report: Mutex<LeaseReport>,
    /// Boot-clock seconds after which Litestream must not run.
    fence_at: Mutex<f64>,
    /// The S3 endpoints reached over plain HTTP (`http://host:port`): relayed.
    pub upstreams: Vec<String>,
    /// Whether some S3 endpoint is reached over HTTPS: through the proxy.
    pub tls: bool,
}

/// What keeping the locks ended with.
pub enum Kept {
    Lost(String),
}

impl Leases {
    /// `databases`: (name, path) of each replicated database, in the rendered order.
    pub async fn new(
        rules: &'static Rules,
        settings: LeaseSettings,
        rendered: &crate::rules::Rendered,
        databases: &[(String, String)],
    ) -> Result<Leases, String> {
        let rendered = rendered.clone();
        let targets = blocking(move || rules.lease_targets(&rendered)).await.map_err(|e| e.to_string())??;
        let limit = Duration::from_secs_f64((settings.ttl_seconds / 6.0).max(2.0));
        let mut entries = Vec::new();
        let mut upstreams: Vec<String> = Vec::new();
        let mut tls = false;
        for t in targets {
            if let crate::rules::LockPlace::S3(p) = &t.place {
                match p.endpoint.as_ref().filter(|e| e.starts_with("http://")) {
                    Some(e) if !upstreams.contains(e) => upstreams.push(e.clone()),
                    Some(_) => {}
                    None => tls = true,
                }
            }
            let name =
                databases.iter().find(|(_, p)| *p == t.path).map_or(t.path.clone(), |(n, _)| n.clone());
            entries.push(Entry { name, store: Store::new(t.place, limit).await?, held: None });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let owner = settings.owner.clone().unwrap_or_else(default_owner);
        let report =
            LeaseReport { owner: owner.clone(), ttl_seconds: settings.ttl_seconds, ..Default::default() };
        Ok(Leases {
            rules,
            settings,
            owner,
            entries: tokio::sync::Mutex::new(entries),
            report: Mutex::new(report),
            fence_at: Mutex::new(0.0),
            upstreams,
            tls,
        })
    }

    pub fn report(&self) -> LeaseReport {
        let mut r = self.report.lock().expect("lease report").clone();
        if r.role == Role::Primary {
            r.fence_in_seconds = Some(*self.fence_at.lock().expect("fence") - clock::boot());
        }
        r
    }

    pub fn role(&self) -> Role {
        self.report.lock().expect("lease report").role
    }

    fn set(&self, f: impl FnOnce(&mut LeaseReport)) {
        f(&mut self.report.lock().expect("lease report"));
    }

    /// Takes every lock, or none: Ok(true) when this node now holds them all. A lock
    /// held elsewhere makes this node a standby and lets go of those it took.
    pub async fn try_take_all(&self) -> bool {
        let mut entries = self.entries.lock().await;
        let mut views = Vec::new();
        let mut refused = None;
        let mut earliest = f64::INFINITY;
        for e in entries.iter_mut() {
            match self.take(e).await {
                Ok((view, until)) => {
                    earliest = earliest.min(until);
                    views.push(view);
                }
                Err((view, why)) => {
                    views.push(view);
                    refused = Some(why);
                    break;
                }
            }
        }
        let all = refused.is_none();
        if !all {
            for e in entries.iter_mut() {
                if let Some((etag, _)) = e.held.take() {
                    e.store.delete(etag).await;
                }
            }
        } else {
            *self.fence_at.lock().expect("fence") = earliest;
        }
        self.set(|r| {
            r.locks = views;
            r.reason = refused;
            if all && r.role == Role::Standby {
                r.takeovers += 1;
            }
            r.role = if all { Role::Primary } else { Role::Standby };
        });
        all
    }

    /// Reads one lock and takes it if free, then confirms it with a second
    /// conditional write: two writers both told "taken" by a store whose conditional
    /// writes are not atomic, the one whose bytes were replaced learns it here. The
    /// confirmation is judged as a renewal is, which gives the deadline.
    async fn take(&self, e: &mut Entry) -> Result<(LockView, f64), (LockView, String)> {
        let describe = e.store.describe();
        let view = |lock: Option<&Lock>, ours| LockView {
            database: e.name.clone(),
            lock: describe.clone(),
            holder: lock.and_then(|l| l.owner.clone()),
            generation: lock.map(|l| l.generation),
            expires_at: lock.map(|l| l.expires_at),
            ours,
        };
        let seen = e.store.read().await.map_err(|why| (view(None, false), why))?;
        let (rules, settings, owner) = (self.rules, self.settings.clone(), self.owner.clone());
        let sight = blocking(move || rules.lease_look(&settings, &seen, &owner, clock::now()))
            .await
            .map_err(|err| (view(None, false), err.to_string()))?;
        let take = match sight {
            Sight::Free(take) => take,
            Sight::Held(lock) => {
                let why = format!(
                    "database {:?}: {} holds the lease until {}",
                    e.name,
                    lock.owner.as_deref().unwrap_or("another node"),
                    crate::util::clock::rfc3339(lock.expires_at)
                );
                return Err((view(Some(&lock), false), why));
            }
            Sight::Unreadable(why) => {
                return Err((view(None, false), format!("database {:?}: {why}", e.name)));
            }
        };
        let lost = |lock: &Lock| {
            (view(Some(lock), false), format!("database {:?}: another node took the lease first", e.name))
        };
        let (outcome, etag) = e.store.write(take.if_match.clone(), take.body.clone()).await;
        let Some(etag) = etag.filter(|_| outcome == WriteOutcome::Written) else {
            return Err(lost(&take.lock));
        };
        let (body, lock) = self.renewal_body(&take.lock).await.map_err(|why| (view(None, false), why))?;
        let sent = clock::boot();
        let (outcome, confirmed) = e.store.write(Some(etag), body).await;
        let verdict =
            self.judge(outcome, sent, f64::INFINITY).await.map_err(|why| (view(None, false), why))?;
        match (verdict, confirmed) {
            (RenewalVerdict::Renewed(until), Some(confirmed)) => {
                let v = view(Some(&lock), true);
                e.held = Some((confirmed, lock));
                Ok((v, until))
            }
            _ => Err(lost(&take.lock)),
        }
    }

    /// A conditional write of our own lock, sent at `sent`, judged by the rules.
    async fn judge(&self, outcome: WriteOutcome, sent: f64, fence_at: f64) -> Result<RenewalVerdict, String> {
        let (rules, settings) = (self.rules, self.settings.clone());
        blocking(move || rules.judge_renewal(&settings, outcome, sent, fence_at, clock::boot()))
            .await
            .map_err(|e| e.to_string())
    }

    async fn renewal_body(&self, held: &Lock) -> Result<(String, Lock), String> {
        let (rules, settings, held) = (self.rules, self.settings.clone(), held.clone());
        blocking(move || rules.lease_renewal(&settings, &held, clock::now())).await.map_err(|e| e.to_string())
    }

    /// Renews every lock each `renew` seconds until one is lost or the deadline
    /// passes without a renewal; never returns otherwise.
    pub async fn keep(&self) -> Kept {
        let renew = Duration::from_secs_f64(self.settings.renew_seconds);
        let mut next = tokio::time::Instant::now() + renew;
        loop {
            // The deadline is checked every second on the boot clock, which counts a
            // suspended machine's time too.
            tokio::time::sleep(
                Duration::from_secs(1).min(next.saturating_duration_since(tokio::time::Instant::now())),
            )
            .await;
            let fence_at = *self.fence_at.lock().expect("fence");
            if clock::boot() >= fence_at {
                return Kept::Lost(format!(
                    "the lease could not be renewed in time ({} s before it could be taken over)",
                    self.settings.margin_seconds
                ));
            }
            if tokio::time::Instant::now() < next {
                continue;
            }
            match self.renew_all().await {
                Ok(true) => next = tokio::time::Instant::now() + renew,
                Ok(false) => next = tokio::time::Instant::now() + Duration::from_secs(2).min(renew),
                Err(why) => return Kept::Lost(why),
            }
        }
    }

    /// One round of renewals: Ok(true) all renewed, Ok(false) some to retry.
    async fn renew_all(&self) -> Result<bool, String> {
        let mut entries = self.entries.lock().await;
        let mut all = true;
        let mut earliest = f64::INFINITY;
        for e in entries.iter_mut() {
            let Some((etag, lock)) = e.held.clone() else { continue };
            let (body, renewed) = self.renewal_body(&lock).await?;
            let sent = clock::boot();
            let (outcome, new_etag) = e.store.write(Some(etag), body).await;
            let fence_at = *self.fence_at.lock().expect("fence");
            match self.judge(outcome, sent, fence_at).await? {
                RenewalVerdict::Renewed(until) => {
                    earliest = earliest.min(until);
                    let (name, expires) = (e.name.clone(), renewed.expires_at);
                    if let Some(tag) = new_etag {
                        e.held = Some((tag, renewed));
                    }
                    self.set(|r| {
                        r.renewals += 1;
                        r.locks
                            .iter_mut()
                            .filter(|l| l.database == name)
                            .for_each(|l| l.expires_at = Some(expires));
                    });
                }
                RenewalVerdict::Retry => {
                    all = false;
                    self.set(|r| r.renew_failures += 1);
                }
                RenewalVerdict::Lost(why) => return Err(format!("database {:?}: {why}", e.name)),
            }
        }
        if all && earliest.is_finite() {
            *self.fence_at.lock().expect("fence") = earliest;
        }
        Ok(all)
    }

    /// Whether Litestream may reach the store now: the deadline stands.
    pub fn open(&self) -> bool {
        clock::boot() < *self.fence_at.lock().expect("fence")
    }

    /// The lease is lost: the relays close at once, before Litestream is killed.
    pub fn fenced(&self, why: &str) {
        *self.fence_at.lock().expect("fence") = 0.0;
        self.set(|r| {
            r.role = Role::Fenced;
            r.reason = Some(why.to_owned());
        });
    }

    /// Lets every lock go (after Litestream's final sync), while this node's deadline
    /// still stands: past it, another node may hold the lock already.
    pub async fn release(&self) {
        let mut entries = self.entries.lock().await;
        let valid = self.open();
        for e in entries.iter_mut() {
            if let Some((etag, _)) = e.held.take()
                && valid
            {
                let outcome = e.store.delete(etag).await;
                tracing::info!(database = %e.name, ?outcome, "lease released");
            }
        }
        self.set(|r| {
            r.role = Role::Released;
            r.locks.iter_mut().for_each(|l| l.ours = false);
        });
    }

    pub fn poll(&self) -> Duration {
        Duration::from_secs_f64(self.settings.poll_seconds)
    }
}

/// `hostname:pid`, as Litestream names a lock's owner.
fn default_owner() -> String {
    let host =
        nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "host".into());
    format!("{host}:{}", std::process::id())
}
