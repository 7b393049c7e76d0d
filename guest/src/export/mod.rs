//! Export glue: converts between the generated WIT types and the plain model.

mod wit {
    wit_bindgen::generate!({ world: "rules-component", path: "../wit" });
}

use crate::model as m;
use wit::datasette::litestream::types as t;
use wit::exports::datasette::litestream::durability as dx;
use wit::exports::datasette::litestream::health as hx;
use wit::exports::datasette::litestream::metrics as mx;
use wit::exports::datasette::litestream::restore as rx;
use wit::exports::datasette::litestream::rules::Guest;

struct Component;

impl Guest for Component {
    fn check(request: t::Request) -> Result<t::Plan, Vec<t::ConfigError>> {
        crate::plan::plan(&request.into()).map(Into::into).map_err(errors)
    }

    fn render(
        request: t::Request,
        credentials: Option<t::Credentials>,
    ) -> Result<t::Rendered, Vec<t::ConfigError>> {
        let credentials = credentials.map(m::Credentials::from);
        crate::plan::render(&request.into(), credentials.as_ref())
            .map(|r| t::Rendered {
                document: r.document,
                environment: r
                    .environment
                    .into_iter()
                    .map(|(name, value)| t::EnvVar { name, value })
                    .collect(),
                secrets: r.secrets,
            })
            .map_err(errors)
    }

    fn redact(document: String) -> Result<String, String> {
        crate::redact::document(&document)
    }

    fn parse_credentials(text: String) -> Result<t::Credentials, t::CredentialsError> {
        crate::credentials::parse(&text).map(Into::into).map_err(|e| match e {
            m::CredentialsError::NotJson(at) => t::CredentialsError::NotJson(at),
            m::CredentialsError::NotAnObject => t::CredentialsError::NotAnObject,
            m::CredentialsError::MissingKey(k) => t::CredentialsError::MissingKey(k),
            m::CredentialsError::WrongType(k) => t::CredentialsError::WrongType(k),
        })
    }

    fn compare_credentials(current: t::Credentials, fresh: t::Credentials) -> t::CredentialsChange {
        let change = crate::credentials::compare(&current.into(), &fresh.into());
        t::CredentialsChange { changed: change.changed, fields: change.fields }
    }
}

fn errors(list: Vec<m::ConfigError>) -> Vec<t::ConfigError> {
    list.into_iter()
        .map(|e| t::ConfigError { database: e.database, key: e.key, problem: e.problem, hint: e.hint })
        .collect()
}

impl From<t::Request> for m::Request {
    fn from(r: t::Request) -> Self {
        m::Request {
            top_level: r.top_level,
            databases: r.databases.into_iter().map(database).collect(),
            working_directory: r.working_directory,
            litestream_version: r.litestream_version,
            control_socket: r.control_socket,
        }
    }
}

impl From<t::Credentials> for m::Credentials {
    fn from(c: t::Credentials) -> Self {
        m::Credentials {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: c.session_token,
        }
    }
}

impl From<m::Credentials> for t::Credentials {
    fn from(c: m::Credentials) -> Self {
        t::Credentials {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: c.session_token,
        }
    }
}

impl From<m::Plan> for t::Plan {
    fn from(p: m::Plan) -> Self {
        t::Plan {
            replicated: p.replicated,
            start_litestream: p.start_litestream,
            credentials_source: match p.credentials_source {
                m::CredentialsSource::None => t::CredentialsSource::None,
                m::CredentialsSource::File(f) => t::CredentialsSource::File(f),
                m::CredentialsSource::Command(c) => t::CredentialsSource::Command(c),
            },
            refresh_interval_seconds: p.refresh_interval_seconds,
            metrics_addr: p.metrics_addr,
            line: match p.line {
                m::Line::V03 => t::LitestreamLine::V03,
                m::Line::V05 => t::LitestreamLine::V05,
            },
            warnings: p.warnings,
            first_sync_seconds: p.first_sync_seconds,
            health_window_seconds: p.health_window_seconds,
            stop_grace_seconds: p.stop_grace_seconds,
            durable: p
                .durable
                .into_iter()
                .map(|d| t::DurableDatabase { name: d.name, timeout_seconds: d.timeout_seconds })
                .collect(),
        }
    }
}

impl wit::exports::datasette::litestream::durability::Guest for Component {
    fn judge_sync(answer: Result<dx::SyncAnswer, String>) -> dx::SyncOutcome {
        let answer = answer.as_ref().map(|a| (a.status, a.body.as_str())).map_err(String::as_str);
        match crate::durable::judge_sync(answer) {
            crate::durable::SyncOutcome::Durable(txid) => dx::SyncOutcome::Durable(txid),
            crate::durable::SyncOutcome::NotDurable(why) => dx::SyncOutcome::NotDurable(why),
        }
    }
}

impl wit::exports::datasette::litestream::metrics::Guest for Component {
    fn digest_metrics(text: String, databases: Vec<t::Database>) -> Result<mx::Digest, String> {
        let databases: Vec<m::Database> = databases.into_iter().map(database).collect();
        let d = crate::metrics::digest(&text, &databases)?;
        let ops = |list: Vec<m::Operation>| {
            list.into_iter()
                .map(|o| mx::Operation {
                    replica_type: o.replica_type,
                    operation: o.operation,
                    value: o.value,
                })
                .collect()
        };
        Ok(mx::Digest {
            goroutines: d.goroutines,
            threads: d.threads,
            operation_bytes: ops(d.operation_bytes),
            operation_counts: ops(d.operation_counts),
            databases: d
                .databases
                .into_iter()
                .map(|(database, values)| mx::DatabaseMetrics {
                    database,
                    values: values.into_iter().map(|(name, value)| mx::NamedValue { name, value }).collect(),
                })
                .collect(),
        })
    }
}

impl wit::exports::datasette::litestream::health::Guest for Component {
    fn assess_health(input: hx::HealthInput) -> hx::Verdict {
        let state = match input.state {
            hx::ProcessState::Starting => m::ProcessState::Starting,
            hx::ProcessState::Running => m::ProcessState::Running,
            hx::ProcessState::Restarting => m::ProcessState::Restarting,
            hx::ProcessState::Stopping => m::ProcessState::Stopping,
            hx::ProcessState::Stopped => m::ProcessState::Stopped,
            hx::ProcessState::Failed => m::ProcessState::Failed,
            hx::ProcessState::NotStarted => m::ProcessState::NotStarted,
        };
        let v = crate::health::assess(&m::HealthInput {
            state,
            uptime_seconds: input.uptime_seconds,
            databases: input
                .databases
                .into_iter()
                .map(|d| m::Evidence { name: d.name, path: d.path, file_exists: d.file_exists })
                .collect(),
            logs: input.logs.into_iter().map(|l| (l.age_seconds, l.text)).collect(),
            window_seconds: input.window_seconds,
            durability: input
                .durability
                .into_iter()
                .map(|d| m::DurabilityEvidence {
                    name: d.name,
                    waiting: d.waiting,
                    longest_wait_seconds: d.longest_wait_seconds,
                    timeout_seconds: d.timeout_seconds,
                    failing: d.failing,
                })
                .collect(),
            conflicts: input.conflicts.into_iter().map(|c| (c.name, c.reason)).collect(),
        });
        hx::Verdict { ok: v.ok, reason: v.reason, behind: v.behind }
    }

    fn hint(line: String) -> Option<String> {
        crate::health::hint(&line)
    }

    fn judge_stop(line: t::LitestreamLine, e: hx::StopEvidence) -> Vec<hx::Unconfirmed> {
        let line = match line {
            t::LitestreamLine::V03 => m::Line::V03,
            t::LitestreamLine::V05 => m::Line::V05,
        };
        let evidence = crate::stop::StopEvidence {
            running: e.running,
            exit_code: e.exit_code,
            interrupted: e.interrupted,
            killed: e.killed,
            output: e.output,
            databases: e
                .databases
                .into_iter()
                .map(|d| m::Evidence { name: d.name, path: d.path, file_exists: d.file_exists })
                .collect(),
        };
        crate::stop::judge(line, &evidence)
            .into_iter()
            .map(|u| hx::Unconfirmed { name: u.name, reason: u.reason })
            .collect()
    }

    fn startup_progress(document: String, output: Vec<String>) -> hx::Startup {
        match crate::startup::progress(&document, &output) {
            m::Startup::Waiting => hx::Startup::Waiting,
            m::Startup::Replicating => hx::Startup::Replicating,
            m::Startup::SocketListening => hx::Startup::SocketListening,
        }
    }
}

impl wit::exports::datasette::litestream::restore::Guest for Component {
    fn plan_restore(
        targets: Vec<rx::Target>,
        explicit: Vec<String>,
        options: rx::RestoreOptions,
    ) -> Result<Vec<rx::Decision>, String> {
        let targets: Vec<crate::restore::Target> =
            targets.iter().map(|t| crate::restore::Target { name: &t.name, exists: t.exists }).collect();
        let plan = crate::restore::plan(&targets, &explicit, options.force, options.only_missing)?;
        Ok(plan
            .into_iter()
            .map(|(database, step)| rx::Decision {
                database,
                step: match step {
                    crate::restore::Step::Restore => rx::Step::Restore,
                    crate::restore::Step::Skip(why) => rx::Step::Skip(why),
                },
            })
            .collect())
    }

    fn empty_replica(database: String, explicit: bool) -> rx::EmptyReplicaVerdict {
        match crate::restore::empty_replica(&database, explicit) {
            Ok(message) => rx::EmptyReplicaVerdict { outcome: rx::EmptyReplicaOutcome::FreshStart, message },
            Err(message) => rx::EmptyReplicaVerdict { outcome: rx::EmptyReplicaOutcome::Error, message },
        }
    }

    fn require_verified(last: Vec<rx::LastVerification>, within: f64) -> Result<(), String> {
        use crate::restore::Outcome;
        let outcome = |o: rx::VerifyOutcome| match o {
            rx::VerifyOutcome::Verified => Outcome::Verified,
            rx::VerifyOutcome::Failed => Outcome::Failed,
            rx::VerifyOutcome::Inconclusive => Outcome::Inconclusive,
            rx::VerifyOutcome::Pending => Outcome::Pending,
        };
        let last: Vec<crate::restore::Last> =
            last.iter().map(|l| (l.database.as_str(), l.outcome.map(outcome), l.age_seconds)).collect();
        crate::restore::require_verified(&last, within)
    }

    fn judge_verification(e: rx::VerifyEvidence) -> rx::VerifyVerdict {
        use crate::restore::Outcome;
        let (outcome, reason) = crate::restore::verify(&crate::restore::Evidence {
            sentinel_error: e.sentinel_error.as_deref(),
            restored: e.restored,
            restore_error: e.restore_error.as_deref(),
            integrity_ok: e.integrity_ok,
            sentinel_found: e.sentinel_found,
            timed_out: e.timed_out,
            waited_seconds: e.waited_seconds,
        });
        let outcome = match outcome {
            Outcome::Verified => rx::VerifyOutcome::Verified,
            Outcome::Failed => rx::VerifyOutcome::Failed,
            Outcome::Inconclusive => rx::VerifyOutcome::Inconclusive,
            Outcome::Pending => rx::VerifyOutcome::Pending,
        };
        rx::VerifyVerdict { outcome, reason }
    }

    fn explain_restore_failure(output: String, timestamp: Option<String>) -> String {
        crate::restore::explain_failure(&output, timestamp.as_deref())
    }
}

fn database(d: t::Database) -> m::Database {
    m::Database { name: d.name, path: d.path, directory: d.directory, plugin_config: d.plugin_config }
}

wit::export!(Component with_types_in wit);

mod replication;

mod follow;
mod membership;
