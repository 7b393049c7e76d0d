//! A hostile guest for the sandbox tests: every export tries something the sandbox
//! must stop, and reports what it saw so the test can check nothing leaked.

mod wit {
    wit_bindgen::generate!({ world: "rules-component", path: "../../wit" });
}

use wit::datasette::litestream::types::*;
use wit::exports::datasette::litestream::configuration::Guest;

struct Hostile;

impl Guest for Hostile {
    /// Reads a host file; with no preopened directory this must fail.
    fn check(_request: Request) -> Result<Plan, Vec<ConfigError>> {
        match std::fs::read_to_string("/etc/passwd") {
            Ok(text) => Ok(Plan {
                replicated: vec![],
                start_litestream: false,
                credentials_source: CredentialsSource::None,
                refresh_interval_seconds: None,
                metrics_addr: None,
                line: LitestreamLine::V03,
                warnings: vec![text],
                first_sync_seconds: 1.0,
                health_window_seconds: 30.0,
                stop_grace_seconds: 10.0,
                durable: vec![],
                lease: None,
            }),
            Err(e) => Err(vec![ConfigError {
                database: None,
                key: "read /etc/passwd".into(),
                problem: e.to_string(),
                hint: None,
            }]),
        }
    }

    /// Never returns: the deadline must stop it.
    fn render(_request: Request, _credentials: Option<Credentials>) -> Result<Rendered, Vec<ConfigError>> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    /// Never returns either.
    fn configure(request: Request, credentials: Option<Credentials>) -> Result<Configured, Vec<ConfigError>> {
        Self::render(request, credentials).map(|_| unreachable!())
    }

    /// Allocates without end: the memory cap must stop it.
    fn redact(_document: String) -> Result<String, String> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![7u8; 8 << 20]);
            std::hint::black_box(&hoard);
        }
    }

    /// Reads the environment; the host grants none.
    fn parse_credentials(_text: String) -> Result<Credentials, CredentialsError> {
        let probe = std::env::var("HOSTILE_PROBE");
        let count = std::env::vars().count();
        Err(CredentialsError::NotJson(format!("probe={probe:?} vars={count}")))
    }

    /// Opens a socket; the host grants no network.
    fn compare_credentials(_current: Credentials, _fresh: Credentials) -> CredentialsChange {
        match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => CredentialsChange { changed: true, fields: CredentialFields::all() },
            Err(_) => CredentialsChange { changed: false, fields: CredentialFields::empty() },
        }
    }
}

impl wit::exports::datasette::litestream::metrics::Guest for Hostile {
    fn digest_metrics(
        _text: String,
        _databases: Vec<Database>,
    ) -> Result<wit::exports::datasette::litestream::metrics::Digest, String> {
        Err("hostile".into())
    }
}

impl wit::exports::datasette::litestream::health::Guest for Hostile {
    fn assess_health(
        _input: wit::exports::datasette::litestream::health::HealthInput,
    ) -> wit::exports::datasette::litestream::health::Verdict {
        wit::exports::datasette::litestream::health::Verdict {
            ok: true,
            reason: "hostile".into(),
            behind: vec![],
        }
    }

    fn hint(_line: String) -> Option<String> {
        None
    }

    fn judge_stop(
        _line: LitestreamLine,
        _evidence: wit::exports::datasette::litestream::health::StopEvidence,
    ) -> Vec<wit::exports::datasette::litestream::health::Unconfirmed> {
        vec![]
    }

    fn startup_progress(
        _proof: StartupProof,
        _output: Vec<String>,
    ) -> wit::exports::datasette::litestream::health::Startup {
        wit::exports::datasette::litestream::health::Startup::Replicating
    }
}

impl wit::exports::datasette::litestream::restore::Guest for Hostile {
    fn plan_restore(
        _targets: Vec<wit::exports::datasette::litestream::restore::Target>,
        _explicit: Vec<String>,
        _options: wit::exports::datasette::litestream::restore::RestoreOptions,
    ) -> Result<Vec<wit::exports::datasette::litestream::restore::Decision>, String> {
        Err("hostile".into())
    }

    fn empty_replica(
        _database: String,
        _explicit: bool,
    ) -> wit::exports::datasette::litestream::restore::EmptyReplicaVerdict {
        wit::exports::datasette::litestream::restore::EmptyReplicaVerdict {
            outcome: wit::exports::datasette::litestream::restore::EmptyReplicaOutcome::Error,
            message: "hostile".into(),
        }
    }

    fn require_verified(
        _last: Vec<wit::exports::datasette::litestream::restore::LastVerification>,
        _within: f64,
    ) -> Result<(), String> {
        Ok(())
    }

    fn explain_restore_failure(_output: String, _timestamp: Option<String>) -> String {
        "hostile".into()
    }

    fn judge_verification(
        _evidence: wit::exports::datasette::litestream::restore::VerifyEvidence,
    ) -> wit::exports::datasette::litestream::restore::VerifyVerdict {
        wit::exports::datasette::litestream::restore::VerifyVerdict {
            outcome: wit::exports::datasette::litestream::restore::VerifyOutcome::Verified,
            reason: "hostile".into(),
        }
    }
}

/// Claims everything is caught up, whatever the evidence: the host's checks of its
/// answers are what the sandbox tests exercise, not these.
impl wit::exports::datasette::litestream::replication::Guest for Hostile {
    fn where_to_look(
        _line: LitestreamLine,
        _path: String,
    ) -> wit::exports::datasette::litestream::replication::EvidencePaths {
        wit::exports::datasette::litestream::replication::EvidencePaths {
            position_source: "/etc/passwd".into(),
            shadow_directory: None,
            wal_index: "/etc/shadow".into(),
        }
    }

    fn track(
        _line: LitestreamLine,
        _now: f64,
        _output: Vec<String>,
        _observations: Vec<wit::exports::datasette::litestream::replication::Observation>,
    ) -> Vec<wit::exports::datasette::litestream::replication::Tracked> {
        vec![]
    }

    fn parse_max_lag(_text: String) -> Result<f64, String> {
        Ok(f64::NAN)
    }

    fn require_caught_up(
        _reports: Vec<wit::exports::datasette::litestream::replication::LagReport>,
        _max_lag: f64,
        _now: f64,
    ) -> Result<(), String> {
        Ok(())
    }

    fn judge_writers(
        _line: LitestreamLine,
        _evidence: wit::exports::datasette::litestream::replication::WritersEvidence,
    ) -> wit::exports::datasette::litestream::replication::WritersVerdict {
        wit::exports::datasette::litestream::replication::WritersVerdict::Unknown("hostile".into())
    }
}

/// Refuses every set and asks for restarts: the sandbox tests do not exercise these.
impl wit::exports::datasette::litestream::membership::Guest for Hostile {
    fn admit(
        _request: Request,
        _credentials: Option<Credentials>,
    ) -> Result<wit::exports::datasette::litestream::membership::Admission, Vec<ConfigError>> {
        Err(vec![])
    }

    fn plan_change(
        _line: LitestreamLine,
        _running: Option<String>,
        _next: Option<String>,
    ) -> wit::exports::datasette::litestream::membership::Change {
        wit::exports::datasette::litestream::membership::Change::Restart("hostile".into())
    }

    fn require_admitted(_refused: Vec<ConfigError>) -> Result<(), String> {
        Ok(())
    }
}

impl wit::exports::datasette::litestream::follow::Guest for Hostile {
    fn plan_follow(
        _request: Request,
    ) -> Result<Vec<wit::exports::datasette::litestream::follow::FollowTarget>, Vec<ConfigError>> {
        Err(vec![])
    }

    fn follow_progress(_line: String) -> wit::exports::datasette::litestream::follow::FollowEvent {
        wit::exports::datasette::litestream::follow::FollowEvent::Other
    }

    fn replica_newest(_ltx_json: String) -> Result<Option<u64>, String> {
        Ok(None)
    }

    fn parse_sidecar(_text: String) -> Result<u64, String> {
        Ok(0)
    }

    fn judge_follower(
        look: wit::exports::datasette::litestream::follow::FollowerLook,
    ) -> wit::exports::datasette::litestream::follow::FollowerReport {
        wit::exports::datasette::litestream::follow::FollowerReport {
            name: look.name,
            state: wit::exports::datasette::litestream::replication::ReplicationState::Unknown,
            staleness_seconds: None,
            follower_txid: None,
            replica_txid: None,
            confirmed_at: None,
            reason: "hostile".into(),
            restore_again: false,
            memory: look.memory,
        }
    }

    fn require_fresh(
        _reports: Vec<wit::exports::datasette::litestream::follow::FollowerReport>,
        _max_lag: f64,
        _now: f64,
    ) -> Result<(), String> {
        Ok(())
    }
}

wit::export!(Hostile with_types_in wit);

impl wit::exports::datasette::litestream::durability::Guest for Hostile {
    fn judge_sync(
        _answer: Result<wit::exports::datasette::litestream::durability::SyncAnswer, String>,
    ) -> wit::exports::datasette::litestream::durability::SyncOutcome {
        wit::exports::datasette::litestream::durability::SyncOutcome::NotDurable("hostile".into())
    }
}

impl wit::exports::datasette::litestream::lease::Guest for Hostile {
    fn targets(_rendered: Rendered) -> Result<Vec<wit::exports::datasette::litestream::lease::LeaseTarget>, String> {
        Err("hostile".into())
    }

    fn route(_document: String, _routes: Vec<(String, String)>) -> Result<String, String> {
        Err("hostile".into())
    }

    fn look(
        _settings: LeaseSettings,
        _seen: wit::exports::datasette::litestream::lease::LockSeen,
        _owner: String,
        _wall_now: f64,
    ) -> wit::exports::datasette::litestream::lease::Sight {
        wit::exports::datasette::litestream::lease::Sight::Unreadable("hostile".into())
    }

    fn renewal(
        _settings: LeaseSettings,
        held: wit::exports::datasette::litestream::lease::Lock,
        _wall_now: f64,
    ) -> (String, wit::exports::datasette::litestream::lease::Lock) {
        (String::new(), held)
    }

    fn lease_health(
        _role: wit::exports::datasette::litestream::lease::LeaseRole,
        _reason: Option<String>,
    ) -> Result<Option<String>, String> {
        Err("hostile".into())
    }

    fn judge_renewal(
        _settings: LeaseSettings,
        _outcome: wit::exports::datasette::litestream::lease::WriteOutcome,
        _sent_at: f64,
        _fence_at: f64,
        _now: f64,
    ) -> wit::exports::datasette::litestream::lease::RenewalVerdict {
        wit::exports::datasette::litestream::lease::RenewalVerdict::Retry
    }
}
