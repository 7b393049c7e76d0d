//! `/-/litestream-metrics`: our own gauges in Prometheus's text format, so a user's
//! Prometheus can alert on lag without scraping HTML. Litestream's own metrics stay
//! at its `metrics-addr`. This encodes one report as it stands; a registry crate's
//! model of live counters has nothing to hold here.

use super::Report;
use crate::replica::durability::DurabilityReport;
use crate::rules::ReplicationState;
use std::fmt::Write;

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A per-database family: name, type, help, and its value for one database (if any).
type Family = (&'static str, &'static str, &'static str, fn(&super::ReplicationReport) -> Option<f64>);

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let status = &report.litestream.status;
    family(&mut out, "healthy", "gauge", "1 when /-/litestream-health answers 200.");
    sample(&mut out, "healthy", None, report.health.ok as u8 as f64);
    family(&mut out, "litestream_running", "gauge", "1 while Litestream runs.");
    sample(
        &mut out,
        "litestream_running",
        None,
        (status.state == crate::supervisor::ProcessState::Running) as u8 as f64,
    );
    family(&mut out, "restarts_total", "counter", "Litestream restarts after it exited.");
    sample(&mut out, "restarts_total", None, status.restarts as f64);
    family(&mut out, "credential_rotations_total", "counter", "Restarts with rotated credentials.");
    sample(&mut out, "credential_rotations_total", None, status.rotations as f64);
    family(
        &mut out,
        "reloads_total",
        "counter",
        "Restarts to take databases added or removed (Litestream 0.3).",
    );
    sample(&mut out, "reloads_total", None, status.reloads as f64);

    let replicated: Vec<_> =
        report.databases.iter().filter_map(|d| Some((d.name.as_str(), d.replication.as_ref()?))).collect();
    let per_database: [Family; 9] = [
        (
            "lag_seconds",
            "gauge",
            "Seconds the oldest change not on the replica has waited; 0 when caught up.",
            |r| Some(r.lag_seconds),
        ),
        ("caught_up", "gauge", "1 when every change seen locally is on the replica.", |r| {
            Some((r.state == ReplicationState::CaughtUp) as u8 as f64)
        }),
        ("replication_unknown", "gauge", "1 when the evidence of replication could not be read.", |r| {
            Some((r.state == ReplicationState::Unknown) as u8 as f64)
        }),
        ("local_index", "gauge", "Litestream's local position: TXID (0.5) or WAL index (0.3).", |r| {
            r.local_position.as_ref().map(|p| p.index as f64)
        }),
        ("local_offset", "gauge", "Litestream 0.3's local WAL offset in bytes (0 on 0.5).", |r| {
            r.local_position.as_ref().map(|p| p.offset as f64)
        }),
        ("replica_index", "gauge", "The replica's position: TXID (0.5) or WAL index (0.3).", |r| {
            r.replica_position.as_ref().map(|p| p.index as f64)
        }),
        ("replica_offset", "gauge", "The replica's WAL offset in bytes on 0.3 (0 on 0.5).", |r| {
            r.replica_position.as_ref().map(|p| p.offset as f64)
        }),
        ("behind_by", "gauge", "How far behind: TXIDs (0.5) or WAL bytes within one index (0.3).", |r| {
            r.behind_by.map(|b| b as f64)
        }),
        ("last_replicated_timestamp_seconds", "gauge", "When the replica was last seen to advance.", |r| {
            r.last_replicated_at
                .as_deref()
                .and_then(|t| humantime::parse_rfc3339(t).ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64())
        }),
    ];
    for (name, kind, help, value) in per_database {
        let values: Vec<_> = replicated.iter().filter_map(|(db, r)| Some((*db, value(r)?))).collect();
        if values.is_empty() {
            continue;
        }
        family(&mut out, name, kind, help);
        for (db, v) in values {
            sample(&mut out, name, Some(db), v);
        }
    }
    durability(&mut out, &report.durability);
    if let Some(lease) = &report.lease {
        leased(&mut out, lease);
    }
    out
}

/// `lease:`: this node's role, its locks' expiry, takeovers and renewals.
fn leased(out: &mut String, lease: &crate::lease::LeaseReport) {
    use crate::lease::Role;
    family(out, "lease_primary", "gauge", "1 while this node holds every lease and replicates.");
    sample(out, "lease_primary", None, (lease.role == Role::Primary) as u8 as f64);
    family(out, "lease_standby", "gauge", "1 while another node holds a lease and this one does not write.");
    sample(out, "lease_standby", None, (lease.role == Role::Standby) as u8 as f64);
    family(out, "lease_fenced", "gauge", "1 after this node lost its lease and killed Litestream.");
    sample(out, "lease_fenced", None, (lease.role == Role::Fenced) as u8 as f64);
    family(out, "lease_takeovers_total", "counter", "Leases taken over by this node after standing by.");
    sample(out, "lease_takeovers_total", None, lease.takeovers as f64);
    family(out, "lease_renewals_total", "counter", "Lease renewals written.");
    sample(out, "lease_renewals_total", None, lease.renewals as f64);
    family(out, "lease_renew_failures_total", "counter", "Lease renewals that got no answer (retried).");
    sample(out, "lease_renew_failures_total", None, lease.renew_failures as f64);
    let expiries: Vec<_> =
        lease.locks.iter().filter_map(|l| Some((l.database.as_str(), l.expires_at?))).collect();
    if !expiries.is_empty() {
        family(
            out,
            "lease_expires_timestamp_seconds",
            "gauge",
            "When each database's lock expires, whoever holds it.",
        );
        for (db, at) in expiries {
            sample(out, "lease_expires_timestamp_seconds", Some(db), at);
        }
    }
}

type DurableFamily = (&'static str, &'static str, &'static str, fn(&DurabilityReport) -> f64);

/// The `durable-writes` databases' counters and gauges.
fn durability(out: &mut String, reports: &[DurabilityReport]) {
    if reports.is_empty() {
        return;
    }
    let families: [DurableFamily; 6] = [
        ("durable_writes_total", "counter", "Writes acknowledged once the replica held them.", |r| {
            r.durable_writes as f64
        }),
        (
            "not_durable_writes_total",
            "counter",
            "Writes told they were not durable within durable-timeout.",
            |r| r.not_durable_writes as f64,
        ),
        (
            "durable_syncs_total",
            "counter",
            "Syncs asked of Litestream for durable writes (shared by the writes waiting).",
            |r| r.syncs as f64,
        ),
        ("durable_waiting", "gauge", "Writes waiting now for the replica to hold them.", |r| {
            r.waiting as f64
        }),
        ("durable_longest_wait_seconds", "gauge", "How long the oldest waiting write has waited.", |r| {
            r.longest_wait_seconds
        }),
        ("durable_failing", "gauge", "1 while the last sync for durable writes failed.", |r| {
            r.failing.is_some() as u8 as f64
        }),
    ];
    for (name, kind, help, value) in families {
        family(out, name, kind, help);
        for r in reports {
            sample(out, name, Some(&r.database), value(r));
        }
    }
}

pub(crate) fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP datasette_litestream_{name} {help}");
    let _ = writeln!(out, "# TYPE datasette_litestream_{name} {kind}");
}

pub(crate) fn sample(out: &mut String, name: &str, database: Option<&str>, value: f64) {
    let labels = database.map_or_else(String::new, |db| format!("{{database=\"{}\"}}", escape(db)));
    let _ = writeln!(out, "datasette_litestream_{name}{labels} {value}");
}

/// Label values escape backslash, double quote and newline.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
