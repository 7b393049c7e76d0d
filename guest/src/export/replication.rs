//! Export glue for the `replication` interface.

use super::wit::datasette::litestream::types::LitestreamLine;
use super::wit::exports::datasette::litestream::replication as lx;
use crate::model::Line;
use crate::replication as r;

fn line(l: LitestreamLine) -> Line {
    match l {
        LitestreamLine::V03 => Line::V03,
        LitestreamLine::V05 => Line::V05,
    }
}

fn position(p: lx::Position) -> r::Position {
    r::Position { generation: p.generation, index: p.index, offset: p.offset }
}

fn wit_position(p: r::Position) -> lx::Position {
    lx::Position { generation: p.generation, index: p.index, offset: p.offset }
}

fn state(s: lx::LagState) -> r::LagState {
    r::LagState {
        pending: s
            .pending
            .into_iter()
            .map(|p| r::Pending { position: position(p.position), since: p.since })
            .collect(),
        replica: s.replica.map(position),
        replicated_at: s.replicated_at,
        unknown_since: s.unknown_since,
    }
}

fn wit_state(s: r::LagState) -> lx::LagState {
    lx::LagState {
        pending: s
            .pending
            .into_iter()
            .map(|p| lx::PendingChange { position: wit_position(p.position), since: p.since })
            .collect(),
        replica: s.replica.map(wit_position),
        replicated_at: s.replicated_at,
        unknown_since: s.unknown_since,
    }
}

fn observation(o: lx::Observation) -> r::Observation {
    r::Observation {
        name: o.name,
        path: o.path,
        state: state(o.state),
        files: r::LocalFiles {
            newest_file: o.files.newest_file,
            newest_size: o.files.newest_size,
            generation: o.files.generation,
            wal_index: o.files.wal_index,
        },
        socket: o.socket,
    }
}

fn wit_report(r: r::Report) -> lx::LagReport {
    lx::LagReport {
        name: r.name,
        state: match r.state {
            r::State::CaughtUp => lx::ReplicationState::CaughtUp,
            r::State::Behind => lx::ReplicationState::Behind,
            r::State::Unknown => lx::ReplicationState::Unknown,
        },
        lag_seconds: r.lag_seconds,
        local: r.local.map(wit_position),
        replica: r.replica.map(wit_position),
        behind_by: r.behind_by,
        replicated_at: r.replicated_at,
        unknown_since: r.unknown_since,
        observed_at: r.observed_at,
        reason: r.reason,
    }
}

fn report(l: lx::LagReport) -> r::Report {
    r::Report {
        name: l.name,
        state: match l.state {
            lx::ReplicationState::CaughtUp => r::State::CaughtUp,
            lx::ReplicationState::Behind => r::State::Behind,
            lx::ReplicationState::Unknown => r::State::Unknown,
        },
        lag_seconds: l.lag_seconds,
        local: l.local.map(position),
        replica: l.replica.map(position),
        behind_by: l.behind_by,
        replicated_at: l.replicated_at,
        unknown_since: l.unknown_since,
        observed_at: l.observed_at,
        reason: l.reason,
    }
}

impl lx::Guest for super::Component {
    fn where_to_look(l: LitestreamLine, path: String) -> lx::EvidencePaths {
        let p = r::paths(line(l), &path);
        lx::EvidencePaths {
            position_source: p.position_source,
            shadow_directory: p.shadow_directory,
            wal_index: p.wal_index,
        }
    }

    fn track(
        l: LitestreamLine,
        now: f64,
        output: Vec<String>,
        observations: Vec<lx::Observation>,
    ) -> Vec<lx::Tracked> {
        let observations = observations.into_iter().map(observation).collect();
        r::track(line(l), now, &output, observations)
            .into_iter()
            .map(|(report, state)| lx::Tracked { report: wit_report(report), state: wit_state(state) })
            .collect()
    }

    fn parse_max_lag(text: String) -> Result<f64, String> {
        r::parse_max_lag(&text)
    }

    fn require_caught_up(reports: Vec<lx::LagReport>, max_lag: f64, now: f64) -> Result<(), String> {
        let reports: Vec<r::Report> = reports.into_iter().map(report).collect();
        r::require_caught_up(&reports, max_lag, now)
    }

    fn judge_writers(l: LitestreamLine, e: lx::WritersEvidence) -> lx::WritersVerdict {
        let evidence = crate::writers::Evidence {
            listing: e.listing,
            local_files: e.local_files.into_iter().map(|f| (f.name, f.size)).collect(),
            generation: e.generation,
        };
        match crate::writers::judge(line(l), &evidence) {
            crate::writers::Verdict::Alone => lx::WritersVerdict::Alone,
            crate::writers::Verdict::AnotherWriter(why) => lx::WritersVerdict::AnotherWriter(why),
            crate::writers::Verdict::Unknown(why) => lx::WritersVerdict::Unknown(why),
        }
    }
}
