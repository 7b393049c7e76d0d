//! Which databases a restore touches, and what an empty replica means.

/// A replicated database and whether its file exists now.
pub struct Target<'a> {
    pub name: &'a str,
    pub exists: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Restore,
    Skip(String),
}

/// `explicit` names limit the restore to those databases (each must be replicated);
/// `only_missing` (start-up) restores only absent files; otherwise an existing file
/// is replaced only with `force`.
pub fn plan(
    targets: &[Target],
    explicit: &[String],
    force: bool,
    only_missing: bool,
) -> Result<Vec<(String, Step)>, String> {
    if let Some(unknown) = explicit.iter().find(|e| !targets.iter().any(|t| t.name == e.as_str())) {
        let known: Vec<&str> = targets.iter().map(|t| t.name).collect();
        return Err(format!(
            "{unknown:?} is not a replicated database; replicated: {}",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ));
    }
    Ok(targets
        .iter()
        .filter(|t| explicit.is_empty() || explicit.iter().any(|e| e == t.name))
        .map(|t| {
            let step = match (t.exists, only_missing, force) {
                (false, _, _) => Step::Restore,
                (true, true, _) => Step::Skip("the database file exists".into()),
                (true, false, true) => Step::Restore,
                (true, false, false) => Step::Skip(
                    "the database file exists; pass --force to replace it with the replica's copy".into(),
                ),
            };
            (t.name.to_owned(), step)
        })
        .collect())
}

/// An empty replica is a fresh start unless the user asked for this database by name.
pub fn empty_replica(database: &str, explicit: bool) -> Result<String, String> {
    if explicit {
        Err(format!("the replica of {database:?} is empty: there is nothing to restore"))
    } else {
        Ok(format!("the replica of {database:?} is empty; skipped (a fresh start)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, exists: bool) -> Target<'_> {
        Target { name, exists }
    }

    #[test]
    fn existing_files_need_force_and_start_up_restores_only_missing_ones() {
        let targets = [t("a", true), t("b", false)];
        let plain = plan(&targets, &[], false, false).unwrap();
        assert!(matches!(plain[0].1, Step::Skip(_)));
        assert_eq!(plain[1].1, Step::Restore);
        assert_eq!(plan(&targets, &[], true, false).unwrap()[0].1, Step::Restore);
        assert!(matches!(plan(&targets, &[], true, true).unwrap()[0].1, Step::Skip(_)));
        assert_eq!(plan(&targets, &["b".into()], false, false).unwrap().len(), 1);
        assert!(plan(&targets, &["c".into()], false, false).unwrap_err().contains("replicated: a, b"));
    }

    #[test]
    fn an_empty_replica_fails_only_when_asked_for() {
        assert!(empty_replica("a", false).is_ok());
        assert!(empty_replica("a", true).is_err());
    }
}

/// What a verification attempt saw.
pub struct Evidence<'a> {
    pub sentinel_error: Option<&'a str>,
    pub restored: bool,
    pub restore_error: Option<&'a str>,
    pub integrity_ok: Option<bool>,
    pub sentinel_found: bool,
    pub timed_out: bool,
    pub waited_seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Verified,
    Failed,
    Inconclusive,
    /// Not decided yet: try again.
    Pending,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Failed => "failed",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Pending => "pending",
        }
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
pub fn verify(e: &Evidence) -> (Outcome, String) {
    if let Some(error) = e.sentinel_error {
        return (Outcome::Inconclusive, format!("cannot write the sentinel row: {error}"));
    }
    if let Some(error) = e.restore_error {
        if damaged(error) {
            return (Outcome::Failed, format!("the replica cannot be restored: {error}"));
        }
        return if e.timed_out {
            (Outcome::Inconclusive, format!("the replica could not be reached: {error}"))
        } else {
            (Outcome::Pending, String::new())
        };
    }
    match (e.restored, e.integrity_ok, e.sentinel_found) {
        (true, Some(false), _) => (Outcome::Failed, "the restored copy fails PRAGMA integrity_check".into()),
        (true, Some(true), true) => (
            Outcome::Verified,
            format!("restored, integrity ok, sentinel found after {:.1} s", e.waited_seconds),
        ),
        _ if !e.timed_out => (Outcome::Pending, String::new()),
        (false, _, _) => (Outcome::Inconclusive, "the replica is empty".into()),
        _ => (
            Outcome::Inconclusive,
            format!(
                "the sentinel did not reach the replica within {:.0} s (is Litestream running?)",
                e.waited_seconds
            ),
        ),
    }
}

#[cfg(test)]
mod verify_tests {
    use super::*;

    fn ev(error: Option<&str>, integrity: Option<bool>, found: bool, timed_out: bool) -> Outcome {
        verify(&Evidence {
            sentinel_error: None,
            restored: error.is_none() && integrity.is_some(),
            restore_error: error,
            integrity_ok: integrity,
            sentinel_found: found,
            timed_out,
            waited_seconds: 3.0,
        })
        .0
    }

    #[test]
    fn three_outcomes() {
        assert_eq!(ev(None, Some(true), true, false), Outcome::Verified);
        assert_eq!(ev(None, Some(false), false, false), Outcome::Failed);
        assert_eq!(
            ev(Some("decode wal segment: lz4: bad magic number"), None, false, false),
            Outcome::Failed
        );
        assert_eq!(
            ev(Some("dial tcp 127.0.0.1:1: connect: connection refused"), None, false, true),
            Outcome::Inconclusive
        );
        assert_eq!(ev(None, Some(true), false, false), Outcome::Pending);
        assert_eq!(ev(None, Some(true), false, true), Outcome::Inconclusive);
    }

    #[test]
    fn refused_credentials_are_out_of_reach_not_damage() {
        let moto = "cannot fetch generations: InvalidAccessKeyId: The AWS Access Key Id you provided \
                    does not exist in our records.\n\tstatus code: 403";
        assert_eq!(ev(Some(moto), None, false, false), Outcome::Pending);
        assert_eq!(ev(Some(moto), None, false, true), Outcome::Inconclusive);
        let eof = "decode database: decode page 2: read page header 0: read compressed data: unexpected EOF";
        assert_eq!(ev(Some(eof), None, false, false), Outcome::Failed);
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

#[cfg(test)]
mod explain_tests {
    #[test]
    fn a_time_no_backup_covers_gets_the_way_to_pick_one() {
        let why = super::explain_failure("no matching backup index found", Some("2020-01-01T00:00:00Z"));
        assert!(
            why.contains("no backup covers 2020-01-01T00:00:00Z") && why.contains("litestream generations")
        );
        assert_eq!(
            super::explain_failure("no matching backup index found", None),
            "no matching backup index found"
        );
        assert_eq!(super::explain_failure("access denied", Some("x")), "access denied");
    }

    #[test]
    fn a_sentinel_that_cannot_be_written_is_inconclusive() {
        let (outcome, why) = super::verify(&super::Evidence {
            sentinel_error: Some("database is locked"),
            restored: false,
            restore_error: None,
            integrity_ok: None,
            sentinel_found: false,
            timed_out: false,
            waited_seconds: 0.0,
        });
        assert_eq!(outcome, super::Outcome::Inconclusive);
        assert!(why.contains("database is locked"), "{why}");
    }
}

/// A database's last verification as the host found it: (name, outcome, age in seconds).
pub type Last<'a> = (&'a str, Option<Outcome>, Option<f64>);

/// Every database needs a verification that said "verified" within `within` seconds.
pub fn require_verified(last: &[Last], within: f64) -> Result<(), String> {
    let stale: Vec<String> = last
        .iter()
        .filter_map(|(name, outcome, age)| match (outcome, age) {
            (Some(Outcome::Verified), Some(a)) if *a <= within => None,
            (Some(Outcome::Verified), Some(a)) => Some(format!("{name}: last verified {a:.0} s ago")),
            (Some(other), _) => Some(format!("{name}: last verification {}", other.word())),
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
mod require_tests {
    #[test]
    fn stale_failed_or_missing_verifications_fail() {
        use super::Outcome::{Failed, Verified};
        use super::require_verified as r;
        assert!(r(&[("a", Some(Verified), Some(10.0))], 60.0).is_ok());
        assert!(
            r(&[("a", Some(Verified), Some(100.0))], 60.0)
                .unwrap_err()
                .contains("a: last verified 100 s ago")
        );
        assert!(r(&[("a", Some(Failed), Some(1.0))], 60.0).unwrap_err().contains("last verification failed"));
        assert!(r(&[("a", None, None)], 60.0).unwrap_err().contains("never verified"));
    }
}
