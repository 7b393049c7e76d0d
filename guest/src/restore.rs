//! Which databases a restore touches, and what an empty replica means.

use crate::model::{
    Decision, EmptyReplicaOutcome, EmptyReplicaVerdict, LastVerification, Step, Target, VerifyEvidence,
    VerifyOutcome, VerifyVerdict,
};

/// `explicit` names limit the restore to those databases (each must be replicated);
/// `only_missing` (start-up) restores only absent files; otherwise an existing file
/// is replaced only with `force`.
pub fn plan(
    targets: &[Target],
    explicit: &[String],
    force: bool,
    only_missing: bool,
) -> Result<Vec<Decision>, String> {
    if let Some(unknown) = explicit.iter().find(|e| !targets.iter().any(|t| t.name == **e)) {
        let known: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "{unknown:?} is not a replicated database; replicated: {}",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ));
    }
    Ok(targets
        .iter()
        .filter(|t| explicit.is_empty() || explicit.contains(&t.name))
        .map(|t| {
            let step = match (t.exists, only_missing, force) {
                (false, _, _) => Step::Restore,
                (true, true, _) => Step::Skip("the database file exists".into()),
                (true, false, true) => Step::Restore,
                (true, false, false) => Step::Skip(
                    "the database file exists; pass --force to replace it with the replica's copy".into(),
                ),
            };
            Decision { database: t.name.clone(), step }
        })
        .collect())
}

/// An empty replica is a fresh start unless the user asked for this database by name.
pub fn empty_replica(database: &str, explicit: bool) -> EmptyReplicaVerdict {
    if explicit {
        let message = format!("the replica of {database:?} is empty: there is nothing to restore");
        EmptyReplicaVerdict { outcome: EmptyReplicaOutcome::Error, message }
    } else {
        let message = format!("the replica of {database:?} is empty; skipped (a fresh start)");
        EmptyReplicaVerdict { outcome: EmptyReplicaOutcome::FreshStart, message }
    }
}

/// Words in `litestream restore` errors that mean the replica's data is damaged.
const DAMAGE: [&str; 7] = ["checksum", "corrupt", "lz4", "unexpected eof", "decode", "invalid", "malformed"];

/// Words that mean the replica is out of reach (network, credentials, bucket), checked
/// first: "InvalidAccessKeyId" says nothing about the data, whatever "invalid" suggests.
const UNREACHABLE: [&str; 11] = [
    "status code: 403",
    "accessdenied",
    "invalidaccesskeyid",
    "signaturedoesnotmatch",
    "expiredtoken",
    "invalidtoken",
    "nosuchbucket",
    "credentials",
    "connection refused",
    "no such host",
    "timeout",
];

/// Whether a restore error says the replica's data is damaged (not merely out of reach).
fn damaged(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    !UNREACHABLE.iter().any(|w| lower.contains(w)) && DAMAGE.iter().any(|w| lower.contains(w))
}

/// Whether a replica is good, from one restore of it.
pub fn verify(e: &VerifyEvidence) -> VerifyVerdict {
    let (outcome, reason) = judge(e);
    VerifyVerdict { outcome, reason }
}

fn judge(e: &VerifyEvidence) -> (VerifyOutcome, String) {
    if let Some(error) = &e.sentinel_error {
        return (VerifyOutcome::Inconclusive, format!("cannot write the sentinel row: {error}"));
    }
    if let Some(error) = &e.restore_error {
        if damaged(error) {
            return (VerifyOutcome::Failed, format!("the replica cannot be restored: {error}"));
        }
        return if e.timed_out {
            (VerifyOutcome::Inconclusive, format!("the replica could not be reached: {error}"))
        } else {
            (VerifyOutcome::Pending, String::new())
        };
    }
    match (e.restored, e.integrity_ok, e.sentinel_found) {
        (true, Some(false), _) => {
            (VerifyOutcome::Failed, "the restored copy fails PRAGMA integrity_check".into())
        }
        (true, Some(true), true) => (
            VerifyOutcome::Verified,
            format!("restored, integrity ok, sentinel found after {:.1} s", e.waited_seconds),
        ),
        _ if !e.timed_out => (VerifyOutcome::Pending, String::new()),
        (false, _, _) => (VerifyOutcome::Inconclusive, "the replica is empty".into()),
        _ => (
            VerifyOutcome::Inconclusive,
            format!(
                "the sentinel did not reach the replica within {:.0} s (is Litestream running?)",
                e.waited_seconds
            ),
        ),
    }
}

/// A failed `litestream restore` in words: with a point in time that no backup covers,
/// how to pick one.
pub fn explain_failure(output: &str, timestamp: Option<&str>) -> String {
    match timestamp {
        Some(t) if output.contains("no matching backup") => format!(
            "{output}; no backup covers {t}: pick a time between a generation's first and last sync \
             (`litestream generations` lists them), or leave out --timestamp for the latest"
        ),
        _ => output.to_owned(),
    }
}

/// Every database needs a verification that said "verified" within `within` seconds.
pub fn require_verified(last: &[LastVerification], within: f64) -> Result<(), String> {
    let stale: Vec<String> = last
        .iter()
        .map(|l| (&l.database, l.outcome, l.age_seconds))
        .filter_map(|(name, outcome, age)| match (outcome, age) {
            (Some(VerifyOutcome::Verified), Some(a)) if a <= within => None,
            (Some(VerifyOutcome::Verified), Some(a)) => Some(format!("{name}: last verified {a:.0} s ago")),
            (Some(other), _) => Some(format!("{name}: last verification {other}")),
            _ => Some(format!("{name}: never verified")),
        })
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!("no verification within {within:.0} s: {}", stale.join("; ")))
    }
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod tests;
