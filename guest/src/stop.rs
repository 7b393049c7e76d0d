//! Whether a stop's final sync reached the replica, read from how Litestream ended.
//!
//! Litestream 0.5 exits 0 even when its final sync failed: it retries each database for
//! `shutdown-sync-timeout`, then logs the failure and exits (db.go
//! `syncReplicaWithRetry`, cmd/litestream `Close`). Only its output tells. 0.3 makes one
//! attempt and exits 1 when it fails, naming no database the same way, so its exit
//! status speaks for all of them.

use crate::health::field;
use crate::model::{DatabaseEvidence, LitestreamLine, StopEvidence, Unconfirmed};

/// What 0.5 logs, per database, while its final sync fails: the last word on a
/// database wins, so a retry that then succeeds clears it. A retry loop that runs out
/// of time between attempts ends without a line of its own (db.go), so a `retrying`
/// line not followed by success is a failure too.
const FAILED: [&str; 4] = [
    "shutdown sync failed",
    "shutdown sync interrupted by signal",
    "shutdown sync skipped, interrupted by signal",
    "failed to close database",
];
const SUCCEEDED: &str = "shutdown sync succeeded after retry";

/// The databases whose last commits may not be on the replica; empty when the stop's
/// final sync is confirmed for every one.
pub fn judge(line: LitestreamLine, e: &StopEvidence) -> Vec<Unconfirmed> {
    let everyone = |reason: String| {
        e.databases.iter().map(|d| Unconfirmed { name: d.name.clone(), reason: reason.clone() }).collect()
    };
    if !e.running {
        return everyone("Litestream was not running when the stop came (it had exited)".into());
    }
    if e.killed {
        return everyone("Litestream was killed before its final sync finished".into());
    }
    match e.exit_code {
        None => return everyone("Litestream ended by a signal during its final sync".into()),
        Some(0) => {}
        Some(code) if line == LitestreamLine::V03 => {
            return everyone(format!("Litestream 0.3 exited with status {code}: its final sync failed"));
        }
        Some(code) => return everyone(format!("Litestream exited with status {code} while stopping")),
    }
    // Per database, oldest first: the reason of its last failure, cleared by a success.
    let mut last: Vec<(String, Option<String>)> = Vec::new();
    let mut unnamed = None;
    for l in &e.output {
        let failed = FAILED.iter().any(|m| l.contains(m));
        if !failed && !l.contains(SUCCEEDED) {
            continue;
        }
        let verdict = failed.then(|| why(l));
        match field(l, "db") {
            Some(db) => {
                for d in e.databases.iter().filter(|d| is(d, &db)) {
                    match last.iter_mut().find(|(name, _)| *name == d.name) {
                        Some(entry) => entry.1 = verdict.clone(),
                        None => last.push((d.name.clone(), verdict.clone())),
                    }
                }
            }
            None => unnamed = unnamed.or(verdict),
        }
    }
    let out: Vec<Unconfirmed> = last
        .into_iter()
        .filter_map(|(name, reason)| reason.map(|reason| Unconfirmed { name, reason }))
        .collect();
    // A failure naming no database (cmd/litestream's summary line) stands for every one
    // when none is named; an interrupt with nothing named, likewise.
    match (out.is_empty(), unnamed, e.interrupted) {
        (true, Some(why), _) => everyone(why),
        (true, None, true) => everyone("the final sync did not finish within the stop grace".into()),
        _ => out,
    }
}

/// 0.5 names a database by its file name (`db=data.db`); other lines by path.
fn is(d: &DatabaseEvidence, db: &str) -> bool {
    d.path == db || d.path.rsplit('/').next() == Some(db)
}

fn why(line: &str) -> String {
    let msg = field(line, "msg").unwrap_or_default();
    match field(line, "error") {
        Some(error) => format!("{msg}: {error}"),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(exit_code: Option<i32>, output: &[&str]) -> StopEvidence {
        StopEvidence {
            running: true,
            exit_code,
            interrupted: false,
            killed: false,
            output: output.iter().map(|l| (*l).to_owned()).collect(),
            databases: ["/srv/a.db", "/srv/b.db"]
                .iter()
                .map(|p| DatabaseEvidence {
                    name: p.trim_start_matches("/srv/").trim_end_matches(".db").into(),
                    path: (*p).into(),
                    file_exists: true,
                })
                .collect(),
        }
    }

    fn names(u: &[Unconfirmed]) -> Vec<&str> {
        u.iter().map(|u| u.name.as_str()).collect()
    }

    #[test]
    fn a_clean_exit_without_failure_lines_is_confirmed() {
        let e = evidence(Some(0), &["level=INFO msg=\"exiting\""]);
        assert!(judge(LitestreamLine::V05, &e).is_empty());
        assert!(judge(LitestreamLine::V03, &e).is_empty());
    }

    #[test]
    fn a_05_timeout_names_its_database_and_the_error() {
        let e = evidence(
            Some(0),
            &[
                r#"time=x level=WARN msg="shutdown sync failed, retrying" db=a.db attempts=1 error="timeout""#,
                r#"time=x level=ERROR msg="shutdown sync failed after timeout" db=a.db attempts=30 error="dial tcp: i/o timeout""#,
                r#"time=x level=ERROR msg="failed to close database" error="shutdown sync timeout after 30 attempts""#,
            ],
        );
        let u = judge(LitestreamLine::V05, &e);
        assert_eq!(names(&u), ["a"]);
        assert!(u[0].reason.contains("i/o timeout"), "{u:?}");
    }

    #[test]
    fn an_interrupt_names_each_database_it_skipped() {
        let mut e = evidence(
            Some(0),
            &[
                r#"level=WARN msg="shutdown sync interrupted by signal" db=a.db attempts=3"#,
                r#"level=WARN msg="shutdown sync skipped, interrupted by signal" db=b.db attempts=0"#,
            ],
        );
        e.interrupted = true;
        assert_eq!(names(&judge(LitestreamLine::V05, &e)), ["a", "b"]);
    }

    #[test]
    fn a_kill_a_signal_or_a_03_failure_is_everyone_s() {
        let mut killed = evidence(None, &[]);
        killed.killed = true;
        assert_eq!(names(&judge(LitestreamLine::V05, &killed)), ["a", "b"]);
        assert_eq!(names(&judge(LitestreamLine::V05, &evidence(None, &[]))), ["a", "b"]);
        let failed = judge(LitestreamLine::V03, &evidence(Some(1), &[]));
        assert_eq!(names(&failed), ["a", "b"]);
        assert!(failed[0].reason.contains("status 1"));
        let mut down = evidence(Some(0), &[]);
        down.running = false;
        assert_eq!(names(&judge(LitestreamLine::V03, &down)), ["a", "b"]);
    }

    #[test]
    fn a_retry_that_runs_out_between_attempts_or_succeeds_is_read_per_database() {
        let e = evidence(
            Some(0),
            &[
                r#"level=WARN msg="shutdown sync failed, retrying" db=a.db attempts=1 error="refused""#,
                r#"level=WARN msg="shutdown sync failed, retrying" db=b.db attempts=1 error="refused""#,
                r#"level=INFO msg="shutdown sync succeeded after retry" db=b.db attempts=2"#,
                r#"level=ERROR msg="failed to close database" error="shutdown sync timeout after 4 attempts""#,
            ],
        );
        let u = judge(LitestreamLine::V05, &e);
        assert_eq!(names(&u), ["a"]);
        assert!(u[0].reason.contains("refused"), "{u:?}");
    }

    #[test]
    fn a_summary_line_alone_stands_for_everyone() {
        let e = evidence(Some(0), &[r#"level=ERROR msg="failed to close database" error="x""#]);
        assert_eq!(names(&judge(LitestreamLine::V05, &e)), ["a", "b"]);
    }
}
