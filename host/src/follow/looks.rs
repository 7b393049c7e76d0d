//! Looking at each follower: the replica's newest TXID (`litestream ltx`), then the
//! follower's own (its `-txid` sidecar), judged by the rules. The replica is listed
//! first, so a follower holding that TXID afterwards held everything the replica had
//! when it was listed.

use super::follower::{Control, FollowState};
use super::layout::side;
use super::{Followers, Setup};
use crate::rules::{FollowerLook, FollowerMemory};
use crate::util::clock::now;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long one listing of the replica may take: a silent S3 endpoint must not stop
/// the looks (its staleness grows meanwhile).
const LIST_LIMIT: Duration = Duration::from_secs(10);

pub async fn watch(setup: Arc<Setup>, followers: Arc<Followers>, controls: Vec<mpsc::Sender<Control>>) {
    let mut tick = tokio::time::interval(setup.look_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut set = tokio::task::JoinSet::new();
        for (index, status) in followers.snapshot().into_iter().enumerate() {
            let Some(generation) = status.generation.clone() else { continue };
            let (setup, memory) = (setup.clone(), status.report.map(|r| r.memory).unwrap_or_default());
            set.spawn(async move {
                let judged = look(&setup, &status.name, &status.key, &generation, memory).await;
                (index, generation, judged)
            });
        }
        while let Some(Ok((index, generation, judged))) = set.join_next().await {
            let report = match judged {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("cannot judge a follower: {e}");
                    continue;
                }
            };
            // A look at a generation that has since been replaced, or one being
            // replaced now, says nothing about the follower that serves now.
            let current = followers.snapshot().get(index).is_some_and(|f| {
                f.state == FollowState::Following && f.generation.as_deref() == Some(generation.as_str())
            });
            if !current {
                continue;
            }
            if report.restore_again
                && let Some(control) = controls.get(index)
            {
                let _ = control.try_send(Control::RestoreAgain(report.reason.clone()));
            }
            followers.update(index, |f| {
                f.report = Some(report);
                f.looked_at = Some(now());
            });
        }
    }
}

async fn look(
    setup: &Setup,
    name: &str,
    path: &str,
    generation: &str,
    memory: FollowerMemory,
) -> Result<crate::rules::FollowerReport, crate::rules::RulesError> {
    let listed_at = now();
    let replica = newest(setup, path).await?;
    let (rules, name, stuck) = (setup.rules, name.to_owned(), setup.stuck_after.as_secs_f64());
    let sidecar_path = side(Path::new(generation), "-txid");
    crate::util::blocking::blocking(move || {
        let sidecar = std::fs::read_to_string(&sidecar_path)
            .map_err(|e| format!("cannot read the follower's -txid file: {e}"));
        let follower = match sidecar {
            Ok(text) => rules.parse_sidecar(&text)?,
            Err(e) => Err(e),
        };
        let look = FollowerLook {
            name,
            now: now(),
            listed_at,
            replica,
            follower,
            memory,
            stuck_after_seconds: stuck,
        };
        rules.judge_follower(&look)
    })
    .await
}

/// The replica's newest TXID, listed with the followers' config and keys.
async fn newest(setup: &Setup, path: &str) -> Result<Result<Option<u64>, String>, crate::rules::RulesError> {
    let keys = setup.keys();
    let reader = crate::litestream::Reader {
        binary: &setup.binary,
        config: &setup.config,
        environment: &keys.environment,
        secrets: &keys.secrets,
    };
    reader.newest(setup.rules, path, LIST_LIMIT).await
}
