//! A host driven through its stdin, as the Datasette plugin drives it (each further
//! line is the whole new set of databases), with each database's own replica in the
//! test S3 server: the harness of the `membership` and `temporary` tests.

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;
use tests::moto::{BUCKET, Moto};
use tests::{binary, db, eventually, free_port, get, litestream, tempdir};

const APPLIED: &str = "\"event\":\"applied\"";

/// A host driven through its stdin, as the plugin drives it.
pub struct Driven {
    pub child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
    /// The status view's URL.
    pub base: String,
    dir: PathBuf,
    /// Where its replicas go in the bucket (another run can reuse them).
    pub prefix: String,
    endpoint: String,
    /// The keys in the top-level config: a user's, or temporary ones with a token; with
    /// `credentials-file` too, the config names that file instead (it holds the keys).
    pub keys: Value,
    version: &'static str,
}

impl Driven {
    pub fn start(dir: &Path, moto: &Moto, version: &'static str, names: &[&str]) -> Driven {
        Driven::start_with(dir, moto, version, names, &[], None, moto.user.clone())
    }

    /// Started with `keys` (temporary ones, say) instead of the moto user's.
    pub fn start_as(dir: &Path, moto: &Moto, version: &'static str, names: &[&str], keys: Value) -> Driven {
        Driven::start_with(dir, moto, version, names, &[], None, keys)
    }

    /// `extra` arguments for `run`; `prefix` reuses another run's replicas; `keys` go in
    /// the top-level config.
    pub fn start_with(
        dir: &Path,
        moto: &Moto,
        version: &'static str,
        names: &[&str],
        extra: &[&str],
        prefix: Option<&str>,
        keys: Value,
    ) -> Driven {
        let port = free_port();
        let log = dir.join(format!("run-{version}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(binary());
        cmd.current_dir(dir)
            .args(["run", "--stdin", "--litestream"])
            .arg(litestream(version))
            .args(["--status-addr", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env_remove("AWS_CA_BUNDLE")
            .stdin(Stdio::piped())
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "LITESTREAM_ACCESS_KEY_ID",
            "LITESTREAM_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ] {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take();
        let mut driven = Driven {
            child,
            stdin,
            log,
            base: format!("http://127.0.0.1:{port}"),
            dir: dir.to_path_buf(),
            prefix: prefix.map_or_else(|| format!("membership-{}-{version}", free_port()), str::to_owned),
            endpoint: moto.endpoint.clone(),
            keys,
            version,
        };
        for name in names {
            db::create(&dir.join(format!("{name}.db")));
        }
        driven.send(&driven.inputs(names, &[]));
        driven.wait_for("datasette-litestream: replicating", 1);
        driven
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn wait_for(&mut self, needle: &str, n: usize) {
        eventually(Duration::from_secs(60), &format!("{needle:?} {n} times"), || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the host exited ({status}):\n{}", self.output());
            }
            self.output().matches(needle).count() >= n
        });
    }

    /// Each database's own replica in the bucket, under this run's prefix.
    pub fn replica(&self, name: &str) -> Value {
        json!({"replicas": [{
            "type": "s3", "bucket": BUCKET, "path": format!("{}/{name}", self.prefix),
            "endpoint": self.endpoint, "region": "us-east-1", "force-path-style": true,
        }]})
    }

    /// The inputs line for `names` (each with its replica) and `extra` (name, config) pairs.
    pub fn inputs(&self, names: &[&str], extra: &[(&str, Value)]) -> String {
        let database = |name: &str, config: Value| json!({"name": name, "path": self.dir.join(format!("{name}.db")), "plugin_config": config});
        let mut databases: Vec<Value> = names.iter().map(|n| database(n, self.replica(n))).collect();
        databases.extend(extra.iter().map(|(n, c)| database(n, c.clone())));
        json!({
            "top_level": self.top_level(),
            "databases": databases,
            "working_directory": self.dir,
        })
        .to_string()
    }

    /// The top-level config: the keys (with the session token when there is one), or the
    /// credentials file that holds them.
    pub fn top_level(&self) -> Value {
        match self.keys.get("credentials-file") {
            Some(file) => json!({"credentials-file": file, "credentials-refresh-interval": 3600}),
            None => self.static_keys(),
        }
    }

    /// The keys themselves, as a top-level config (what a restore elsewhere is given).
    pub fn static_keys(&self) -> Value {
        let mut top = json!({"access-key-id": self.keys["access-key-id"], "secret-access-key": self.keys["secret-access-key"]});
        if let Some(token) = self.keys.get("session-token") {
            top["session-token"] = token.clone();
        }
        top
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends a new set and returns the host's answer to it (the n-th applied event).
    pub fn change(&mut self, line: &str, n: usize) -> Value {
        self.send(line);
        self.wait_for(APPLIED, n);
        let output = self.output();
        let event = output.lines().filter(|l| l.contains(APPLIED)).nth(n - 1).unwrap();
        serde_json::from_str(event).unwrap()
    }

    pub fn status(&self) -> Value {
        let (code, body) = get(&format!("{}/-/litestream-status.json", self.base), None);
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    pub fn names(&self) -> Vec<String> {
        let status = self.status();
        status["databases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits until `name`'s replica holds everything Litestream has of it, at a replica
    /// position past the one it had before.
    pub fn caught_up(&self, name: &str, before: &Value) {
        eventually(Duration::from_secs(30), &format!("{name} caught up past {before}"), || {
            let status = self.status();
            let Some(d) = status["databases"].as_array().unwrap().iter().find(|d| d["name"] == name) else {
                return false;
            };
            let r = &d["replication"];
            r["state"] == "caught-up"
                && r["replica_position"] != *before
                && r["replica_position"] == r["local_position"]
        });
    }

    /// Waits until `name`'s replica has moved past `before` (while it is written to).
    pub fn advanced(&self, name: &str, before: &Value) {
        eventually(Duration::from_secs(30), &format!("{name}'s replica past {before}"), || {
            let now = self.replica_position(name);
            !now.is_null() && now != *before
        });
    }

    pub fn replica_position(&self, name: &str) -> Value {
        let status = self.status();
        let d = status["databases"].as_array().unwrap().iter().find(|d| d["name"] == name).cloned();
        d.map_or(Value::Null, |d| d["replication"]["replica_position"].clone())
    }

    /// Closes stdin (as Datasette does when it stops): final sync, clean exit.
    pub fn stop(&mut self) -> String {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}\n{}", self.output());
        self.output()
    }

    /// Restores `name` from its replica into a fresh directory; its rows.
    pub fn restored(&self, name: &str) -> Vec<(i64, String)> {
        let (_keep, fresh) = tempdir();
        let config = json!({"plugins": {"datasette-litestream": self.static_keys()},
            "databases": {name: {"plugins": {"datasette-litestream": self.replica(name)}}}});
        std::fs::write(fresh.join("metadata.json"), config.to_string()).unwrap();
        let out = Command::new(binary())
            .current_dir(&fresh)
            .args(["restore", &format!("{name}.db"), "-m", "metadata.json", "--litestream"])
            .arg(litestream(self.version))
            .env_remove("AWS_CA_BUNDLE")
            .output()
            .unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{}: restore of {name}: {text}", self.version);
        db::rows(&fresh.join(format!("{name}.db")))
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
