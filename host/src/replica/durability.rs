//! Durable writes (`durable-writes`, Litestream 0.5): after a write committed, the
//! plugin asks here for the replica to hold it. Writes that arrive while a sync is on
//! its way wait for the next one, which covers all of them (group commit): one
//! `POST /sync` with `wait` per batch, not one per write. What an answer means is the
//! rules' call (`durability.judge-sync`).

use crate::litestream::control_socket;
use crate::rules::{DurabilityEvidence, Rules, SyncAnswer, SyncOutcome};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

/// After a failed sync, how often the host tries again by itself, so that the status
/// and the health check see the replica recover without waiting for the next write.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// How often a sync asks again while Litestream's control socket does not answer.
const RECONNECT_EVERY: Duration = Duration::from_millis(50);

/// One database to keep durable.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub path: String,
    pub timeout: Duration,
}

/// What a write is told.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The replica holds it; a TXID a follower must reach to show it.
    Durable { txid: u64 },
    /// Committed on this node, not known to be on the replica.
    NotDurable { reason: String },
}

/// The counters and the moment, per database, for the status view and health.
#[derive(Debug, Clone, Serialize)]
pub struct DurabilityReport {
    pub database: String,
    pub timeout_seconds: f64,
    /// Writes acknowledged as durable, and told they were not.
    pub durable_writes: u64,
    pub not_durable_writes: u64,
    /// Syncs asked of Litestream (batches); fewer than writes when they share them.
    pub syncs: u64,
    pub waiting: u32,
    pub longest_wait_seconds: f64,
    /// Why the last sync failed, while none has succeeded since.
    pub failing: Option<String>,
    /// The TXID the replica was last confirmed to hold.
    pub replicated_txid: Option<u64>,
}

impl DurabilityReport {
    pub fn evidence(&self) -> DurabilityEvidence {
        DurabilityEvidence {
            name: self.database.clone(),
            waiting: self.waiting,
            longest_wait_seconds: self.longest_wait_seconds,
            timeout_seconds: self.timeout_seconds,
            failing: self.failing.clone(),
        }
    }
}

struct Waiter {
    since: Instant,
    tell: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct Queue {
    /// Committed before no sync yet: the next batch.
    pending: Vec<Waiter>,
    /// When each write of the batch on its way started waiting.
    in_flight: Vec<Instant>,
    durable_writes: u64,
    not_durable_writes: u64,
    syncs: u64,
    failing: Option<String>,
    replicated_txid: Option<u64>,
}

struct Group {
    target: Target,
    queue: Mutex<Queue>,
    wake: Notify,
}

/// Every durable database's group, replaced as Datasette's set changes.
pub struct Durability {
    rules: &'static Rules,
    socket: PathBuf,
    groups: Mutex<HashMap<String, (Arc<Group>, tokio::task::AbortHandle)>>,
}

impl Durability {
    pub fn new(rules: &'static Rules, socket: PathBuf) -> Durability {
        Durability { rules, socket, groups: Mutex::default() }
    }

    /// Keeps the groups of `targets` (their counters too, when unchanged) and ends the rest.
    pub fn set(&self, targets: Vec<Target>) {
        let mut groups = self.groups.lock().expect("durability lock");
        groups.retain(|name, (group, task)| {
            let keep = targets.iter().any(|t| t.name == *name && *t == group.target);
            if !keep {
                task.abort();
            }
            keep
        });
        for target in targets {
            if groups.contains_key(&target.name) {
                continue;
            }
            let group =
                Arc::new(Group { target: target.clone(), queue: Mutex::default(), wake: Notify::new() });
            let task = tokio::spawn(batches(group.clone(), self.rules, self.socket.clone()));
            groups.insert(target.name, (group, task.abort_handle()));
        }
    }

    /// Waits until everything `name` committed before this call is on the replica, at
    /// most its `durable-timeout`. None when `name` has no durable writes.
    pub async fn wait(&self, name: &str) -> Option<Answer> {
        let group = self.groups.lock().expect("durability lock").get(name).map(|(g, _)| g.clone())?;
        let (tell, told) = oneshot::channel();
        group.queue.lock().expect("queue lock").pending.push(Waiter { since: Instant::now(), tell });
        group.wake.notify_one();
        let timeout = group.target.timeout;
        let answer = match tokio::time::timeout(timeout, told).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Answer::NotDurable { reason: "the database stopped being replicated".into() },
            Err(_) => Answer::NotDurable {
                reason: format!("the replica did not confirm it within durable-timeout ({timeout:?})"),
            },
        };
        let mut q = group.queue.lock().expect("queue lock");
        match answer {
            Answer::Durable { .. } => q.durable_writes += 1,
            Answer::NotDurable { .. } => q.not_durable_writes += 1,
        }
        Some(answer)
    }

    /// One report per durable database, in name order.
    pub fn reports(&self) -> Vec<DurabilityReport> {
        let groups = self.groups.lock().expect("durability lock");
        let mut reports: Vec<_> = groups.values().map(|(g, _)| report(g)).collect();
        reports.sort_by(|a, b| a.database.cmp(&b.database));
        reports
    }
}

fn report(group: &Group) -> DurabilityReport {
    let q = group.queue.lock().expect("queue lock");
    // A write whose client gave up (its timeout passed) no longer waits.
    let pending = q.pending.iter().filter(|w| !w.tell.is_closed()).map(|w| w.since);
    let waiting: Vec<Instant> = pending.chain(q.in_flight.iter().copied()).collect();
    let longest = waiting.iter().map(|s| s.elapsed().as_secs_f64()).fold(0.0, f64::max);
    DurabilityReport {
        database: group.target.name.clone(),
        timeout_seconds: group.target.timeout.as_secs_f64(),
        durable_writes: q.durable_writes,
        not_durable_writes: q.not_durable_writes,
        syncs: q.syncs,
        waiting: waiting.len() as u32,
        longest_wait_seconds: longest,
        failing: q.failing.clone(),
        replicated_txid: q.replicated_txid,
    }
}

/// One group's syncs: each takes every write committed so far, so a write that commits
/// while one is on its way waits for the next. After a failure it retries by itself.
async fn batches(group: Arc<Group>, rules: &'static Rules, socket: PathBuf) {
    loop {
        let failing = group.queue.lock().expect("queue lock").failing.is_some();
        if failing {
            let _ = tokio::time::timeout(RETRY_EVERY, group.wake.notified()).await;
        } else {
            group.wake.notified().await;
        }
        let batch = {
            let mut q = group.queue.lock().expect("queue lock");
            let batch: Vec<Waiter> = std::mem::take(&mut q.pending);
            let batch: Vec<Waiter> = batch.into_iter().filter(|w| !w.tell.is_closed()).collect();
            if batch.is_empty() && q.failing.is_none() {
                continue;
            }
            q.in_flight = batch.iter().map(|w| w.since).collect();
            q.syncs += 1;
            batch
        };
        let outcome = sync(&group.target, rules, &socket).await;
        let mut q = group.queue.lock().expect("queue lock");
        q.in_flight.clear();
        let answer = match outcome {
            SyncOutcome::Durable(txid) => {
                q.failing = None;
                q.replicated_txid = Some(txid);
                Answer::Durable { txid }
            }
            SyncOutcome::NotDurable(reason) => {
                q.failing = Some(reason.clone());
                Answer::NotDurable { reason }
            }
        };
        drop(q);
        for w in batch {
            let _ = w.tell.send(answer.clone());
        }
    }
}

/// One `POST /sync` with `wait`, bounded by the database's timeout, judged by the rules.
/// A socket that does not answer yet (Litestream starting or restarting) is asked again
/// until the timeout: the writes wait for it rather than fail at once.
async fn sync(target: &Target, rules: &'static Rules, socket: &std::path::Path) -> SyncOutcome {
    let deadline = Instant::now() + target.timeout;
    let answer = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match control_socket::sync_answer(socket, &target.path, left.max(RECONNECT_EVERY)).await {
            Ok((status, body)) => break Ok(SyncAnswer { status, body }),
            Err(e) if Instant::now() + RECONNECT_EVERY < deadline => {
                tracing::debug!("durable sync of {}: {e:#}; asking again", target.name);
                tokio::time::sleep(RECONNECT_EVERY).await;
            }
            Err(e) => break Err(format!("{e:#}")),
        }
    };
    let judged = crate::util::blocking::blocking(move || rules.judge_sync(answer)).await;
    judged.unwrap_or_else(|e| SyncOutcome::NotDurable(e.to_string()))
}
