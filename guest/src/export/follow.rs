//! Export glue for the `follow` interface.

use super::wit::datasette::litestream::types as t;
use super::wit::exports::datasette::litestream::follow as fx;
use crate::follow as f;

impl fx::Guest for super::Component {
    fn plan_follow(request: t::Request) -> Result<Vec<fx::FollowTarget>, Vec<t::ConfigError>> {
        let targets = f::plan(&request.into()).map_err(super::errors)?;
        Ok(targets
            .into_iter()
            .map(|t| fx::FollowTarget { name: t.name, path: t.path, replica: t.replica })
            .collect())
    }

    fn follow_progress(line: String) -> fx::FollowEvent {
        match f::progress(&line) {
            f::Event::Following(txid) => fx::FollowEvent::Following(txid),
            f::Event::Applied(txid) => fx::FollowEvent::Applied(txid),
            f::Event::Failed(text) => fx::FollowEvent::Failed(text),
            f::Event::Stopped => fx::FollowEvent::Stopped,
            f::Event::EmptyReplica => fx::FollowEvent::EmptyReplica,
            f::Event::Other => fx::FollowEvent::Other,
        }
    }

    fn replica_newest(ltx_json: String) -> Result<Option<u64>, String> {
        f::replica_newest(&ltx_json)
    }

    fn parse_sidecar(text: String) -> Result<u64, String> {
        f::parse_sidecar(&text)
    }

    fn judge_follower(look: fx::FollowerLook) -> fx::FollowerReport {
        let look = f::Look {
            name: look.name,
            now: look.now,
            listed_at: look.listed_at,
            replica: look.replica,
            follower: look.follower,
            memory: memory(look.memory),
            stuck_after: look.stuck_after_seconds,
        };
        report(f::judge(look))
    }

    fn require_fresh(reports: Vec<fx::FollowerReport>, max_lag: f64, now: f64) -> Result<(), String> {
        let reports: Vec<f::Report> = reports.into_iter().map(native_report).collect();
        f::require_fresh(&reports, max_lag, now)
    }
}

fn memory(m: fx::FollowerMemory) -> f::Memory {
    f::Memory { confirmed_at: m.confirmed_at, txid: m.txid, since: m.since, listings: m.listings }
}

fn wit_memory(m: f::Memory) -> fx::FollowerMemory {
    fx::FollowerMemory { confirmed_at: m.confirmed_at, txid: m.txid, since: m.since, listings: m.listings }
}

fn report(r: f::Report) -> fx::FollowerReport {
    fx::FollowerReport {
        name: r.name,
        state: match r.state {
            f::State::CaughtUp => fx::FollowerState::CaughtUp,
            f::State::Behind => fx::FollowerState::Behind,
            f::State::Unknown => fx::FollowerState::Unknown,
        },
        staleness_seconds: r.staleness,
        follower_txid: r.follower_txid,
        replica_txid: r.replica_txid,
        confirmed_at: r.confirmed_at,
        reason: r.reason,
        restore_again: r.restore_again,
        memory: wit_memory(r.memory),
    }
}

fn native_report(r: fx::FollowerReport) -> f::Report {
    f::Report {
        name: r.name,
        state: match r.state {
            fx::FollowerState::CaughtUp => f::State::CaughtUp,
            fx::FollowerState::Behind => f::State::Behind,
            fx::FollowerState::Unknown => f::State::Unknown,
        },
        staleness: r.staleness_seconds,
        follower_txid: r.follower_txid,
        replica_txid: r.replica_txid,
        confirmed_at: r.confirmed_at,
        reason: r.reason,
        restore_again: r.restore_again,
        memory: memory(r.memory),
    }
}
