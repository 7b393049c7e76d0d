//! A new set of databases while running: the rules admit it and say how the running
//! Litestream takes it (`admit`, `plan-change`); this applies only the difference.

use super::replication::{End, NOTHING_TO_REPLICATE, Replication, error_json, of_the_set};
use crate::config::prepare::{self, Prepared};
use crate::litestream::control_socket;
use crate::rules::{Change, ConfigError, InPlaceChange, Request};
use crate::supervisor::ProcessState;
use crate::util::logbuf::scrub;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// How long a removed database's final sync, and a new one's first, may take.
const SYNC_LIMIT: Duration = Duration::from_secs(10);
/// How long Litestream may take to answer a register request (it opens the database).
const REGISTER_LIMIT: Duration = Duration::from_secs(10);

impl Replication {
    /// A new set of databases (a line of inputs JSON): the rules admit it, render it and
    /// say how the running Litestream takes it; only the difference is applied.
    pub async fn update(&mut self, text: &str) -> Result<(), End> {
        let inputs: crate::config::inputs::Inputs = match serde_json::from_str(text) {
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
        let change = crate::util::blocking::blocking(move || {
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
                if let Err(e) = self.stop(NOTHING_TO_REPLICATE).await {
                    eprintln!("error: {e}");
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
            "stop_grace_seconds": crate::supervisor::longest_stop(self.stop_grace()).as_secs_f64(),
            "durable": super::durable_json(&self.prepared.plan.durable),
        }));
        Ok(())
    }

    /// The new set as the rules admit it, rendered with the credentials in use (read
    /// afresh, and the set rendered again, only when their source changed), and the
    /// databases refused on the way.
    async fn admit(&self, request: Request) -> Result<(Prepared, Vec<ConfigError>), Vec<ConfigError>> {
        let rules = self.rules;
        let problem = |e: &dyn std::fmt::Display| vec![of_the_set(e.to_string())];
        let in_use = self.prepared.credentials.clone();
        let (admitted, request) =
            crate::util::blocking::blocking(move || (rules.admit(&request, in_use.as_ref()), request)).await;
        let admission = admitted.map_err(|e| problem(&e))??;
        let request = Request { databases: admission.databases, ..request };
        let plan = admission.plan;
        let same_source = plan.credentials_source == self.prepared.plan.credentials_source;
        if !plan.start_litestream || (same_source && admission.rendered.is_some()) {
            let credentials = self.prepared.credentials.clone().filter(|_| plan.start_litestream);
            let prepared = Prepared { request, plan, credentials, rendered: admission.rendered };
            return Ok((prepared, admission.refused));
        }
        // A new credentials source, or one never read (Litestream was not running).
        let cwd = PathBuf::from(&request.working_directory);
        let credentials = prepare::fetch_credentials(rules, &plan.credentials_source, &cwd)
            .await
            .map_err(|e| problem(&e))?;
        let (r, c) = (request.clone(), credentials.clone());
        let rendered = crate::util::blocking::blocking(move || prepare::render(rules, &r, c.as_ref())).await;
        let rendered = rendered.map_err(|e| match e {
            prepare::PrepareError::Config(errors) => errors,
            other => problem(&other),
        })?;
        Ok((Prepared { request, plan, credentials, rendered: Some(rendered) }, admission.refused))
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
                let launch = self.launch().await?;
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
}
