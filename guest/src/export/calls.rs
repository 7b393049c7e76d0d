//! One function per WIT export: convert, call the rule, convert back.

use super::Component;
use super::wit::datasette::litestream::types as t;
use super::wit::exports::datasette::litestream::{
    configuration, durability as dx, follow as fx, health as hx, lease as ex, membership as bx,
    metrics as mx, replication as lx, restore as rx,
};
use contract::Convert;

impl configuration::Guest for Component {
    fn check(request: t::Request) -> Result<t::Plan, Vec<t::ConfigError>> {
        crate::plan::plan(&request.convert()).convert()
    }

    fn render(
        request: t::Request,
        credentials: Option<t::Credentials>,
    ) -> Result<t::Rendered, Vec<t::ConfigError>> {
        let credentials: Option<contract::Credentials> = credentials.convert();
        crate::plan::render(&request.convert(), credentials.as_ref()).convert()
    }

    fn configure(
        request: t::Request,
        credentials: Option<t::Credentials>,
    ) -> Result<t::Configured, Vec<t::ConfigError>> {
        let credentials: Option<contract::Credentials> = credentials.convert();
        crate::plan::configure(&request.convert(), credentials.as_ref()).convert()
    }

    fn redact(document: String) -> Result<String, String> {
        crate::redact::document(&document)
    }

    fn parse_credentials(text: String) -> Result<t::Credentials, t::CredentialsError> {
        crate::credentials::parse(&text).convert()
    }

    fn compare_credentials(current: t::Credentials, fresh: t::Credentials) -> t::CredentialsChange {
        crate::credentials::compare(&current.convert(), &fresh.convert()).convert()
    }
}

impl dx::Guest for Component {
    fn judge_sync(answer: Result<dx::SyncAnswer, String>) -> dx::SyncOutcome {
        let answer = answer.as_ref().map(|a| (a.status, a.body.as_str())).map_err(String::as_str);
        crate::durable::judge_sync(answer).convert()
    }
}

impl mx::Guest for Component {
    fn digest_metrics(text: String, databases: Vec<t::Database>) -> Result<mx::Digest, String> {
        let databases: Vec<contract::Database> = databases.convert();
        crate::metrics::digest(&text, &databases).convert()
    }
}

impl hx::Guest for Component {
    fn assess_health(input: hx::HealthInput) -> hx::Verdict {
        crate::health::assess(&input.convert()).convert()
    }

    fn hint(line: String) -> Option<String> {
        crate::health::hint(&line)
    }

    fn judge_stop(line: t::LitestreamLine, evidence: hx::StopEvidence) -> Vec<hx::Unconfirmed> {
        crate::stop::judge(line.convert(), &evidence.convert()).convert()
    }

    fn startup_progress(proof: t::StartupProof, output: Vec<String>) -> hx::Startup {
        crate::startup::progress(&proof.convert(), &output).convert()
    }
}

impl lx::Guest for Component {
    fn where_to_look(line: t::LitestreamLine, path: String) -> lx::EvidencePaths {
        crate::replication::paths(line.convert(), &path).convert()
    }

    fn track(
        line: t::LitestreamLine,
        now: f64,
        output: Vec<String>,
        observations: Vec<lx::Observation>,
    ) -> Vec<lx::Tracked> {
        crate::replication::track(line.convert(), now, &output, observations.convert()).convert()
    }

    fn parse_max_lag(text: String) -> Result<f64, String> {
        crate::replication::parse_max_lag(&text)
    }

    fn require_caught_up(reports: Vec<lx::LagReport>, max_lag: f64, now: f64) -> Result<(), String> {
        let reports: Vec<contract::LagReport> = reports.convert();
        crate::replication::require_caught_up(&reports, max_lag, now)
    }

    fn judge_writers(line: t::LitestreamLine, evidence: lx::WritersEvidence) -> lx::WritersVerdict {
        crate::writers::judge(line.convert(), &evidence.convert()).convert()
    }
}

impl bx::Guest for Component {
    fn admit(
        request: t::Request,
        credentials: Option<t::Credentials>,
    ) -> Result<bx::Admission, Vec<t::ConfigError>> {
        let credentials: Option<contract::Credentials> = credentials.convert();
        crate::membership::admit(&request.convert(), credentials.as_ref()).convert()
    }

    fn plan_change(line: t::LitestreamLine, running: Option<String>, next: Option<String>) -> bx::Change {
        crate::membership::plan_change(line.convert(), running.as_deref(), next.as_deref()).convert()
    }

    fn require_admitted(refused: Vec<t::ConfigError>) -> Result<(), String> {
        let refused: Vec<contract::ConfigError> = refused.convert();
        crate::membership::require_admitted(&refused)
    }
}

impl rx::Guest for Component {
    fn plan_restore(
        targets: Vec<rx::Target>,
        explicit: Vec<String>,
        options: rx::RestoreOptions,
    ) -> Result<Vec<rx::Decision>, String> {
        let targets: Vec<contract::Target> = targets.convert();
        crate::restore::plan(&targets, &explicit, options.force, options.only_missing).convert()
    }

    fn empty_replica(database: String, explicit: bool) -> rx::EmptyReplicaVerdict {
        crate::restore::empty_replica(&database, explicit).convert()
    }

    fn require_verified(last: Vec<rx::LastVerification>, within: f64) -> Result<(), String> {
        let last: Vec<contract::LastVerification> = last.convert();
        crate::restore::require_verified(&last, within)
    }

    fn judge_verification(evidence: rx::VerifyEvidence) -> rx::VerifyVerdict {
        crate::restore::verify(&evidence.convert()).convert()
    }

    fn explain_restore_failure(output: String, timestamp: Option<String>) -> String {
        crate::restore::explain_failure(&output, timestamp.as_deref())
    }
}

impl fx::Guest for Component {
    fn plan_follow(request: t::Request) -> Result<Vec<fx::FollowTarget>, Vec<t::ConfigError>> {
        crate::follow::plan(&request.convert()).convert()
    }

    fn follow_progress(line: String) -> fx::FollowEvent {
        crate::follow::progress(&line).convert()
    }

    fn replica_newest(ltx_json: String) -> Result<Option<u64>, String> {
        crate::follow::replica_newest(&ltx_json)
    }

    fn parse_sidecar(text: String) -> Result<u64, String> {
        crate::follow::parse_sidecar(&text)
    }

    fn judge_follower(look: fx::FollowerLook) -> fx::FollowerReport {
        crate::follow::judge(look.convert()).convert()
    }

    fn require_fresh(reports: Vec<fx::FollowerReport>, max_lag: f64, now: f64) -> Result<(), String> {
        let reports: Vec<contract::FollowerReport> = reports.convert();
        crate::follow::require_fresh(&reports, max_lag, now)
    }
}

impl ex::Guest for Component {
    fn targets(rendered: t::Rendered) -> Result<Vec<ex::LeaseTarget>, String> {
        crate::lease_place::targets(&rendered.convert()).convert()
    }

    fn route(document: String, routes: Vec<(String, String)>) -> Result<String, String> {
        crate::lease_route::route(&document, &routes)
    }

    fn look(settings: t::LeaseSettings, seen: ex::LockSeen, owner: String, wall_now: f64) -> ex::Sight {
        crate::lease::look(&settings.convert(), &seen.convert(), &owner, wall_now).convert()
    }

    fn renewal(settings: t::LeaseSettings, held: ex::Lock, wall_now: f64) -> (String, ex::Lock) {
        crate::lease::renewal(&settings.convert(), &held.convert(), wall_now).convert()
    }

    fn lease_health(role: ex::LeaseRole, reason: Option<String>) -> Result<Option<String>, String> {
        crate::lease::health(role.convert(), reason.as_deref())
    }

    fn judge_renewal(
        settings: t::LeaseSettings,
        outcome: ex::WriteOutcome,
        sent_at: f64,
        fence_at: f64,
        now: f64,
    ) -> ex::RenewalVerdict {
        crate::lease::judge_renewal(&settings.convert(), outcome.convert(), sent_at, fence_at, now).convert()
    }
}
