//! Whether Litestream's start-up output proves that it replicates.
//!
//! Litestream 0.3 prints `initialized db path=…` for each database and then one
//! `replicating to name=…` line per replica of it (the line names the replica, not the
//! database). It replicates once every replica of every database in the config it was
//! started with has been announced: counting lines against databases would call a
//! database with two replicas ready after its first. Litestream 0.5 is ready to be asked
//! once its control socket listens; the host then forces the first sync through it.

use crate::health::field;
use crate::model::{LitestreamLine, ReplicaCount, Startup, StartupProof};
use crate::validate::{Replicated, Validated};
use std::collections::BTreeMap;

/// What start-up output must show for the Litestream config rendered from `valid`
/// (with a control socket when `socket`, which only 0.5 gets).
pub fn proof(valid: &Validated, socket: bool) -> StartupProof {
    // With a control socket (0.5), only a forced sync through it is proof.
    if valid.line == LitestreamLine::V05 && socket {
        return StartupProof::ControlSocket;
    }
    let count = |r: &Replicated| match valid.line {
        LitestreamLine::V03 => r.replicas.len(),
        LitestreamLine::V05 => r.replicas.len().min(1),
    };
    let counts = valid
        .databases
        .iter()
        .map(|r| ReplicaCount { path: r.database.path.clone(), replicas: count(r) as u32 });
    StartupProof::Replicas(counts.collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The proof `render` gives a config with these databases and replica counts.
    fn progress(counts: &[(&str, u32)], output: &[String]) -> Startup {
        let counts =
            counts.iter().map(|(path, replicas)| ReplicaCount { path: (*path).into(), replicas: *replicas });
        super::progress(&StartupProof::Replicas(counts.collect()), output)
    }

    /// a.db with two replicas, b.db with one.
    const TWO_DATABASES: &[(&str, u32)] = &[("/d/a.db", 2), ("/d/b.db", 1)];

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
        // Litestream 0.5.17's order: its announcement of the replica does not count.
        let out = lines(
            "time=T level=INFO msg=\"initialized db\" path=/d/a.db
time=T level=INFO msg=\"replicating to\" type=file sync-interval=1s path=/r
time=T level=INFO msg=\"control socket listening\" system=server path=/tmp/s.sock",
        );
        assert_eq!(super::progress(&StartupProof::ControlSocket, &out[..2]), Startup::Waiting);
        assert_eq!(super::progress(&StartupProof::ControlSocket, &out), Startup::SocketListening);
    }

    #[test]
    fn render_counts_each_databases_replicas_or_names_the_socket() {
        use crate::model::{Database, Request};
        let request = |version: &str, own: bool, socket: Option<&str>| Request {
            top_level: Some(r#"{"all-replicate": ["file:///r/$DB_NAME"]}"#.into()),
            databases: vec![Database {
                name: "a".into(),
                path: "/d/a.db".into(),
                directory: "/d".into(),
                plugin_config: own.then(|| r#"{"replicas": ["file:///own/a"]}"#.into()),
            }],
            working_directory: "/d".into(),
            litestream_version: version.into(),
            control_socket: socket.map(str::to_owned),
        };
        let startup = |r: &Request| crate::plan::render(r, None).unwrap().startup;
        let two = StartupProof::Replicas(vec![ReplicaCount { path: "/d/a.db".into(), replicas: 2 }]);
        assert_eq!(startup(&request("v0.3.13", true, Some("/run/s.sock"))), two);
        let one = StartupProof::Replicas(vec![ReplicaCount { path: "/d/a.db".into(), replicas: 1 }]);
        assert_eq!(startup(&request("v0.5.17", false, None)), one);
        assert_eq!(startup(&request("v0.5.17", false, Some("/run/s.sock"))), StartupProof::ControlSocket);
    }
}
