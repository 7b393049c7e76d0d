//! The only place that sees the component: the sandbox for each call, and plain
//! functions on the contract's types (the `contract` crate) for the rest of the host.
//! The generated types stay in `conversions`, the one `bindgen!`.

mod engine;
mod lease;

use anyhow::Result;
use std::sync::OnceLock;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

mod configuration;
mod conversions;
mod follow;
mod membership;

use conversions::bindings::{RulesComponent, RulesComponentPre};
// The contract's plain types are the host's own: every module says `rules::Plan`.
pub use contract::*;

/// The rules component as built into this binary, portable: what `component --out`
/// writes for other runtimes. The host itself runs `engine::COMPILED`.
pub static COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rules.wasm"));

/// Memory one call may use: far above what rendering 10,000 databases needs.
const MEMORY_LIMIT: usize = 128 << 20;
/// Instructions (wasmtime fuel) one call may execute. Deterministic: a call's cost
/// depends on its input alone, so a legitimate call fits however busy the machine is.
/// Rendering a site so large that it reaches MEMORY_LIMIT costs a fraction of this
/// (a test proves it), so memory is always the first limit a real site meets; a hostile
/// endless loop is stopped after a few seconds of CPU.
pub const FUEL_PER_CALL: u64 = 4_000_000_000;

/// A call into the component that did not return normally.
#[derive(Debug, thiserror::Error)]
#[error("the rules component failed in {call}: {reason}")]
pub struct RulesError {
    pub call: &'static str,
    pub reason: String,
}

struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A loaded component; cheap to call from any thread.
pub struct Rules {
    pre: RulesComponentPre<Sandbox>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rules")
    }
}

impl Rules {
    /// The built-in rules, loaded once per process.
    pub fn builtin() -> Result<&'static Rules> {
        static RULES: OnceLock<Rules> = OnceLock::new();
        if let Some(r) = RULES.get() {
            return Ok(r);
        }
        // SAFETY: the artefact host/build.rs compiled from COMPONENT and embedded.
        let rules = Rules::from_component(unsafe { engine::component(engine::COMPILED) }?)?;
        // wasmtime copied the artefact into executable memory of its own and never reads
        // the embedded bytes again: their 2 MiB leave the resident set.
        crate::util::pages::release(engine::COMPILED);
        Ok(RULES.get_or_init(|| rules))
    }

    /// Any component implementing the same world, compiled ahead of time the same way
    /// (the hostile test component, say).
    ///
    /// # Safety
    /// `compiled` must come from `host/precompile.rs` in a build of this project.
    pub unsafe fn from_precompiled(compiled: &[u8]) -> Result<Rules> {
        // SAFETY: passed on to the caller.
        Rules::from_component(unsafe { engine::component(compiled) }?)
    }

    fn from_component(component: Component) -> Result<Rules> {
        let mut linker = Linker::new(engine::engine());
        // std in the guest imports WASI; the context below grants none of it.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let pre = RulesComponentPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Rules { pre })
    }

    /// Runs `f` in a fresh instance with nothing granted and bounded memory and
    /// instructions.
    fn call<T>(
        &self,
        call: &'static str,
        f: impl FnOnce(&RulesComponent, &mut Store<Sandbox>) -> wasmtime::Result<T>,
    ) -> Result<T, RulesError> {
        self.metered(call, f).map(|(out, _)| out)
    }

    /// `call`, also answering how much of FUEL_PER_CALL it used.
    fn metered<T>(
        &self,
        call: &'static str,
        f: impl FnOnce(&RulesComponent, &mut Store<Sandbox>) -> wasmtime::Result<T>,
    ) -> Result<(T, u64), RulesError> {
        let fail = |e: wasmtime::Error| RulesError { call, reason: describe(&e) };
        let sandbox = Sandbox {
            // No preopened directory, no environment, no arguments, no stdio, no
            // sockets, no name lookups: the defaults, spelt out.
            wasi: WasiCtxBuilder::new().allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false).build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(MEMORY_LIMIT)
                .instances(4)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(engine::engine(), sandbox);
        store.limiter(|s| &mut s.limits);
        store.set_fuel(FUEL_PER_CALL).map_err(fail)?;
        let instance = self.pre.instantiate(&mut store).map_err(fail)?;
        let out = f(&instance, &mut store).map_err(fail)?;
        Ok((out, FUEL_PER_CALL - store.get_fuel().map_err(fail)?))
    }
}

impl Rules {
    /// What Litestream's answer to a waiting sync (or its absence) says about the writes
    /// committed before the sync began.
    pub fn judge_sync(&self, answer: Result<SyncAnswer, String>) -> Result<SyncOutcome, RulesError> {
        let answer: Result<_, String> = answer.convert();
        self.call("judge-sync", |r, s| {
            r.datasette_litestream_durability().call_judge_sync(s, answer.as_ref().map_err(String::as_str))
        })
        .map(Convert::convert)
    }

    /// Whether another node writes the replica of the database this evidence is about.
    pub fn judge_writers(
        &self,
        line: LitestreamLine,
        evidence: &WritersEvidence,
    ) -> Result<WritersVerdict, RulesError> {
        let (line, evidence) = (line.convert(), evidence.clone().convert());
        self.call("judge-writers", |r, s| {
            r.datasette_litestream_replication().call_judge_writers(s, line, &evidence)
        })
        .map(Convert::convert)
    }

    pub fn digest_metrics(
        &self,
        text: &str,
        databases: &[Database],
    ) -> Result<Result<Digest, String>, RulesError> {
        let databases: Vec<_> = databases.to_vec().convert();
        self.call("digest-metrics", |r, s| {
            r.datasette_litestream_metrics().call_digest_metrics(s, text, &databases)
        })
        .map(Convert::convert)
    }

    pub fn plan_restore(
        &self,
        targets: &[Target],
        explicit: &[String],
        options: RestoreOptions,
    ) -> Result<Result<Vec<Decision>, String>, RulesError> {
        let targets: Vec<_> = targets.to_vec().convert();
        self.call("plan-restore", |r, s| {
            r.datasette_litestream_restore().call_plan_restore(s, &targets, explicit, options.convert())
        })
        .map(Convert::convert)
    }

    pub fn empty_replica(&self, database: &str, explicit: bool) -> Result<EmptyReplicaVerdict, RulesError> {
        self.call("empty-replica", |r, s| {
            r.datasette_litestream_restore().call_empty_replica(s, database, explicit)
        })
        .map(Convert::convert)
    }

    pub fn require_verified(
        &self,
        last: &[LastVerification],
        within: f64,
    ) -> Result<Result<(), String>, RulesError> {
        let last: Vec<_> = last.to_vec().convert();
        self.call("require-verified", |r, s| {
            r.datasette_litestream_restore().call_require_verified(s, &last, within)
        })
    }

    pub fn judge_verification(&self, evidence: &VerifyEvidence) -> Result<VerifyVerdict, RulesError> {
        let evidence = evidence.clone().convert();
        self.call("judge-verification", |r, s| {
            r.datasette_litestream_restore().call_judge_verification(s, &evidence)
        })
        .map(Convert::convert)
    }

    pub fn startup_progress(&self, proof: &StartupProof, output: &[String]) -> Result<Startup, RulesError> {
        let proof = proof.clone().convert();
        self.call("startup-progress", |r, s| {
            r.datasette_litestream_health().call_startup_progress(s, &proof, output)
        })
        .map(Convert::convert)
    }

    pub fn hint(&self, line: &str) -> Result<Option<String>, RulesError> {
        self.call("hint", |r, s| r.datasette_litestream_health().call_hint(s, line))
    }

    pub fn explain_restore_failure(
        &self,
        output: &str,
        timestamp: Option<&str>,
    ) -> Result<String, RulesError> {
        self.call("explain-restore-failure", |r, s| {
            r.datasette_litestream_restore().call_explain_restore_failure(s, output, timestamp)
        })
    }

    /// Which databases a stop's final sync did not confirm.
    pub fn judge_stop(
        &self,
        line: LitestreamLine,
        evidence: &StopEvidence,
    ) -> Result<Vec<Unconfirmed>, RulesError> {
        let evidence = evidence.clone().convert();
        self.call("judge-stop", |r, s| {
            r.datasette_litestream_health().call_judge_stop(s, line.convert(), &evidence)
        })
        .map(Convert::convert)
    }

    pub fn assess_health(&self, input: &HealthInput) -> Result<Verdict, RulesError> {
        let input = input.clone().convert();
        self.call("assess-health", |r, s| r.datasette_litestream_health().call_assess_health(s, &input))
            .map(Convert::convert)
    }

    pub fn where_to_look(&self, line: LitestreamLine, path: &str) -> Result<EvidencePaths, RulesError> {
        self.call("where-to-look", |r, s| {
            r.datasette_litestream_replication().call_where_to_look(s, line.convert(), path)
        })
        .map(Convert::convert)
    }

    /// One look at every database; one answer per observation, in order.
    pub fn track(
        &self,
        line: LitestreamLine,
        now: f64,
        output: &[String],
        observations: &[Observation],
    ) -> Result<Vec<Tracked>, RulesError> {
        let observed: Vec<_> = observations.to_vec().convert();
        let tracked: Vec<Tracked> = self
            .call("track", |r, s| {
                r.datasette_litestream_replication().call_track(s, line.convert(), now, output, &observed)
            })?
            .convert();
        if tracked.len() != observations.len() {
            let reason = format!("it answered for {} of {} databases", tracked.len(), observations.len());
            return Err(RulesError { call: "track", reason });
        }
        Ok(tracked)
    }

    pub fn parse_max_lag(&self, text: &str) -> Result<Result<f64, String>, RulesError> {
        self.call("parse-max-lag", |r, s| r.datasette_litestream_replication().call_parse_max_lag(s, text))
    }

    pub fn require_caught_up(
        &self,
        reports: &[LagReport],
        max_lag: f64,
        now: f64,
    ) -> Result<Result<(), String>, RulesError> {
        let reports: Vec<_> = reports.to_vec().convert();
        self.call("require-caught-up", |r, s| {
            r.datasette_litestream_replication().call_require_caught_up(s, &reports, max_lag, now)
        })
    }
}

/// A trap's kind in words (instruction budget, memory) rather than a wasm backtrace.
fn describe(e: &wasmtime::Error) -> String {
    // The store's limiter refuses a grow past MEMORY_LIMIT with this error (not a Trap).
    if format!("{e:#}").contains("forcing trap when growing memory") {
        return format!("it exceeded its memory limit of {} MiB", MEMORY_LIMIT >> 20);
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => {
            format!("it ran past its budget of {FUEL_PER_CALL} instructions (an endless loop?)")
        }
        Some(wasmtime::Trap::UnreachableCodeReached) => "it panicked (unreachable)".into(),
        Some(trap) if e.to_string().contains("memory") => {
            format!("it exceeded its memory limit ({trap})")
        }
        Some(trap) => trap.to_string(),
        None => format!("{e:#}"),
    }
}

/// The problem in words; never a secret value (the component's errors carry none).
pub fn credentials_problem(e: &CredentialsError) -> String {
    match e {
        CredentialsError::NotJson(at) => format!("not valid JSON ({at})"),
        CredentialsError::NotAnObject => "the JSON is not an object".into(),
        CredentialsError::MissingKey(k) => format!("the JSON has no {k:?} key"),
        CredentialsError::WrongType(k) => format!("the JSON's {k:?} is not a non-empty string"),
    }
}
