//! Health from evidence: Litestream running is not enough (it keeps running with an
//! unwritable replica, bad credentials or a missing database file), so each database
//! must show no recent unanswered error. Whether its changes reach the replica is the
//! lag's question (`replication`).

use crate::model::{Behind, DatabaseEvidence, HealthInput, LogEntry, ProcessState, Verdict};

pub fn assess(input: &HealthInput) -> Verdict {
    if input.state != ProcessState::Running {
        let reason = match input.state {
            ProcessState::NotStarted => {
                "Litestream is not running: nothing is configured to replicate".to_owned()
            }
            state => format!("Litestream is not running (state: {})", state),
        };
        return Verdict { ok: false, reason, behind: vec![] };
    }
    // Sort the lines once: with 100 databases and a full log buffer, testing every
    // line for every database cost milliseconds per status request.
    let errors: Vec<_> =
        input.logs.iter().filter(|l| l.age_seconds <= input.window_seconds && is_error(&l.text)).collect();
    let successes = match errors.is_empty() {
        true => vec![],
        false => input.logs.iter().filter(|l| is_success(&l.text)).collect(),
    };
    let lines = Lines { errors, successes };
    let durability =
        |name: &str| input.durability.iter().find(|d| d.name == name).and_then(crate::durable::problem);
    let behind: Vec<Behind> = input
        .databases
        .iter()
        .filter_map(|db| {
            let conflict = input.conflicts.iter().find(|c| c.name == db.name).map(|c| {
                let why = &c.reason;
                format!(
                    "another node writes the same replica ({why}); stop it or give one of them its own \
                     replica, then restore this database from the replica (docs/disaster-recovery.md)"
                )
            });
            let why = conflict.or_else(|| problem(db, &lines)).or_else(|| durability(&db.name))?;
            Some(Behind { database: db.name.clone(), why })
        })
        .collect();
    let said: Vec<String> = behind.iter().map(Behind::to_string).collect();
    let reason = match said.as_slice() {
        [] => format!("replicating {} database(s)", input.databases.len()),
        [one] => format!("behind: {one}"),
        many => format!("{} databases behind: {}", many.len(), many.join("; ")),
    };
    Verdict { ok: behind.is_empty(), reason, behind }
}

/// The recent error lines and all success lines, oldest first.
struct Lines<'a> {
    errors: Vec<&'a LogEntry>,
    successes: Vec<&'a LogEntry>,
}

fn problem(db: &DatabaseEvidence, lines: &Lines) -> Option<String> {
    if !db.file_exists {
        return Some("the database file does not exist (Litestream waits for it)".into());
    }
    let file = db.path.rsplit('/').next().unwrap_or(&db.path);
    let about =
        |line: &str| field(line, "db").is_some_and(|v| v == db.path || v == file) || line.contains(&db.path);
    let last_error = lines.errors.iter().rev().find(|e| about(&e.text));
    if let Some(LogEntry { age_seconds: error_age, text: line }) = last_error {
        let recovered = lines.successes.iter().any(|s| s.age_seconds < *error_age && about(&s.text));
        if !recovered {
            let why = field(line, "error").or_else(|| field(line, "msg")).unwrap_or_else(|| line.to_owned());
            return Some(format!("{}{} ({:.0} s ago)", cause(&why), shorten(&why), error_age));
        }
    }
    None
}

/// What S3 answers (403) for keys it does not take: unknown, deleted, a wrong secret, a
/// token missing, wrong or expired, or keys without the permission.
const REFUSED_CREDENTIALS: [&str; 6] = [
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AccessDenied",
    "InvalidClientTokenId",
];

/// The cause in words a user can act on, before Litestream's own error.
fn cause(why: &str) -> String {
    match REFUSED_CREDENTIALS.iter().find(|code| why.contains(*code)) {
        Some(code) => format!(
            "the replica refuses the credentials in use ({code}; fix the keys, the session token or \
             the credentials source): "
        ),
        None => String::new(),
    }
}

/// Known misconfigurations Litestream's output shows, and what to do about them.
pub fn hint(line: &str) -> Option<String> {
    // Litestream 0.5 refuses every S3 replica when AWS_CA_BUNDLE is set.
    line.contains("unable to add custom RootCAs").then(|| {
        "Litestream 0.5 cannot use the CA bundle named by AWS_CA_BUNDLE; unset AWS_CA_BUNDLE for \
         Datasette (or point it at a readable PEM file), or use Litestream 0.3.13"
            .to_owned()
    })
}

fn is_error(line: &str) -> bool {
    line.contains("level=ERROR")
}

/// Lines both Litestream lines print after shipping data.
fn is_success(line: &str) -> bool {
    ["wal segment written", "snapshot written", "snapshot complete", "compaction complete", "sync complete"]
        .iter()
        .any(|m| line.contains(m))
}

/// A logfmt field's value (quoted or bare).
pub fn field(line: &str, key: &str) -> Option<String> {
    let start =
        line.match_indices(&format!("{key}=")).find(|(i, _)| *i == 0 || line.as_bytes()[i - 1] == b' ')?.0;
    let rest = &line[start + key.len() + 1..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut escaped = false;
        for c in quoted.chars() {
            match (escaped, c) {
                (true, c) => (out.push(c), escaped = false).1,
                (false, '\\') => escaped = true,
                (false, '"') => return Some(out),
                (false, c) => out.push(c),
            }
        }
        Some(out)
    } else {
        Some(rest.split(' ').next().unwrap_or("").to_owned())
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Conflict;

    fn input(logs: Vec<(f64, &str)>, exists: bool) -> HealthInput {
        HealthInput {
            state: ProcessState::Running,
            uptime_seconds: 100.0,
            databases: vec![DatabaseEvidence {
                name: "data".into(),
                path: "/srv/data.db".into(),
                file_exists: exists,
            }],
            logs: logs
                .into_iter()
                .map(|(age_seconds, l)| LogEntry { age_seconds, text: l.to_owned() })
                .collect(),
            window_seconds: 30.0,
            durability: vec![],
            conflicts: vec![],
        }
    }

    #[test]
    fn a_recent_error_without_recovery_is_behind() {
        let v = assess(&input(
            vec![(5.0, r#"level=ERROR msg="monitor error" db=/srv/data.db error="permission denied""#)],
            true,
        ));
        assert!(!v.ok);
        assert_eq!(v.behind[0].to_string(), "data: permission denied (5 s ago)");
    }

    #[test]
    fn a_refused_key_names_the_credentials() {
        let line = r#"level=ERROR msg="sync error" db=data.db error="operation error S3: ListObjectsV2, https response error StatusCode: 403, api error InvalidAccessKeyId: The AWS Access Key Id you provided does not exist""#;
        let v = assess(&input(vec![(3.0, line)], true));
        assert!(!v.ok);
        assert!(
            v.behind[0]
                .to_string()
                .starts_with("data: the replica refuses the credentials in use (InvalidAccessKeyId")
        );
    }

    #[test]
    fn recovery_or_age_clears_an_error() {
        let recovered = input(
            vec![
                (9.0, r#"level=ERROR msg="monitor error" db=/srv/data.db error="x""#),
                (2.0, "msg=\"wal segment written\" db=/srv/data.db"),
            ],
            true,
        );
        assert!(assess(&recovered).ok);
        let old = input(vec![(90.0, r#"level=ERROR msg="monitor error" db=/srv/data.db error="x""#)], true);
        assert!(assess(&old).ok);
    }

    #[test]
    fn a_refused_ca_bundle_gets_a_hint() {
        let line = r#"level=ERROR msg="init" error="unable to add custom RootCAs: x""#;
        assert!(hint(line).is_some_and(|h| h.contains("AWS_CA_BUNDLE")));
        assert_eq!(hint("level=INFO msg=replicating"), None);
    }

    #[test]
    fn a_missing_file_or_a_stopped_litestream_is_unhealthy() {
        assert!(!assess(&input(vec![], false)).ok);
        let mut stopped = input(vec![], true);
        stopped.state = ProcessState::Restarting;
        assert_eq!(assess(&stopped).reason, "Litestream is not running (state: restarting)");
    }

    #[test]
    fn another_writer_comes_first_and_names_the_fix() {
        let mut both = input(vec![], true);
        both.conflicts =
            vec![Conflict { name: "data".into(), reason: "the replica holds transaction 8".into() }];
        let v = assess(&both);
        assert!(!v.ok);
        assert!(
            v.reason.contains("data: another node writes the same replica (the replica holds transaction 8)"),
            "{}",
            v.reason
        );
        assert!(v.reason.contains("restore this database"), "{}", v.reason);
    }
}
