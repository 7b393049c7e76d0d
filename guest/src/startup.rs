//! Whether Litestream's start-up output proves that it replicates.
//!
//! Litestream 0.3 prints `initialized db path=…` for each database and then one
//! `replicating to name=…` line per replica of it (the line names the replica, not the
//! database). It replicates once every replica of every database in the config it was
//! started with has been announced: counting lines against databases would call a
//! database with two replicas ready after its first. Litestream 0.5 is ready to be asked
//! once its control socket listens; the host then forces the first sync through it.

use crate::health::field;
use crate::model::{ReplicaCount, Startup, StartupProof};
use serde_json::Value;
use std::collections::BTreeMap;

/// What start-up output must show for the Litestream config `config` (as rendered).
pub fn proof(config: &Value) -> StartupProof {
    // With a control socket (0.5), only a forced sync through it is proof.
    if config.pointer("/socket/enabled") == Some(&Value::Bool(true)) {
        return StartupProof::ControlSocket;
    }
    let counts = replicas_per_database(config).into_iter();
    StartupProof::Replicas(counts.map(|(path, n)| ReplicaCount { path, replicas: n as u32 }).collect())
}

/// `proof` is what the config the process was started with needs; `output` every line
/// it printed so far, oldest first.
pub fn progress(proof: &StartupProof, output: &[String]) -> Startup {
    let expected = match proof {
        StartupProof::ControlSocket => {
            let listening = output.iter().any(|l| l.contains("msg=\"control socket listening\""));
            return if listening { Startup::SocketListening } else { Startup::Waiting };
        }
        StartupProof::Replicas(counts) => counts,
    };
    let mut announced: BTreeMap<String, usize> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in output {
        if line.contains("msg=\"initialized db\"") {
            current = field(line, "path");
        } else if line.contains("msg=\"replicating to\"")
            && let Some(db) = &current
        {
            *announced.entry(db.clone()).or_default() += 1;
        }
    }
    let all = !expected.is_empty()
        && expected.iter().all(|c| announced.get(&c.path).is_some_and(|seen| *seen >= c.replicas as usize));
    if all { Startup::Replicating } else { Startup::Waiting }
}

/// Each database path in the config, and how many replicas it has.
fn replicas_per_database(config: &Value) -> BTreeMap<String, usize> {
    let dbs = config.get("dbs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    dbs.iter()
        .filter_map(|db| {
            let path = db.get("path")?.as_str()?.to_owned();
            let count = match (db.get("replicas"), db.get("replica")) {
                (Some(Value::Array(list)), _) => list.len(),
                (_, Some(_)) => 1,
                _ => 0,
            };
            Some((path, count))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proof of a document as `render` would compute it, then the progress.
    fn progress(document: &str, output: &[String]) -> Startup {
        super::progress(&proof(&serde_json::from_str(document).unwrap()), output)
    }

    const TWO_DATABASES: &str = r#"{"dbs": [
        {"path": "/d/a.db", "replicas": [{"name": "x", "url": "file:///r/x"}, {"name": "y", "url": "file:///r/y"}]},
        {"path": "/d/b.db", "replicas": [{"url": "file:///r/b"}]}
    ]}"#;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    /// What Litestream 0.3.13 printed for TWO_DATABASES (seen on this machine).
    const OUTPUT_03: &str = "time=T level=INFO msg=litestream version=v0.3.13
time=T level=INFO msg=\"initialized db\" path=/d/a.db
time=T level=INFO msg=\"replicating to\" name=x type=file sync-interval=1s path=/r/x
time=T level=INFO msg=\"replicating to\" name=y type=file sync-interval=1s path=/r/y
time=T level=INFO msg=\"initialized db\" path=/d/b.db
time=T level=INFO msg=\"replicating to\" name=file type=file sync-interval=1s path=/r/b";

    #[test]
    fn every_replica_of_every_database_must_be_announced() {
        let all = lines(OUTPUT_03);
        for n in 0..all.len() {
            let seen = progress(TWO_DATABASES, &all[..n]);
            assert_eq!(seen, Startup::Waiting, "after {n} lines");
        }
        assert_eq!(progress(TWO_DATABASES, &all), Startup::Replicating);
    }

    #[test]
    fn as_many_lines_as_databases_is_not_enough() {
        // Two `replicating to` lines for two databases, but both of a.db's.
        let all = lines(OUTPUT_03);
        assert_eq!(progress(TWO_DATABASES, &all[..4]), Startup::Waiting);
    }

    #[test]
    fn litestream_05_is_asked_once_its_socket_listens() {
        let doc =
            r#"{"dbs": [{"path": "/d/a.db", "replica": {"url": "file:///r"}}], "socket": {"enabled": true}}"#;
        // Litestream 0.5.17's order: its announcement of the replica does not count.
        let out = lines(
            "time=T level=INFO msg=\"initialized db\" path=/d/a.db
time=T level=INFO msg=\"replicating to\" type=file sync-interval=1s path=/r
time=T level=INFO msg=\"control socket listening\" system=server path=/tmp/s.sock",
        );
        assert_eq!(progress(doc, &out[..2]), Startup::Waiting);
        assert_eq!(progress(doc, &out), Startup::SocketListening);
    }
}
