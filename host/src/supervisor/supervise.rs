//! The supervising task: restarts Litestream with backoff after an unexpected exit,
//! ends after too many exits in the window, and takes the host's control messages.

use super::restarts::{CrashLoop, Restarts};
use super::{
    Control, Launch, Policy, ProcessState, Running, Shared, SupervisorError, describe, judge, start, stop,
};
use crate::rules::{StopEvidence, Unconfirmed};
use crate::util::private_dir::PrivateDir;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// The supervising task's state between events.
struct Loop {
    launch: Launch,
    rx: mpsc::Receiver<Control>,
    dir: Arc<PrivateDir>,
    policy: Policy,
    shared: Arc<Shared>,
    restarts: Restarts,
}

/// Where supervision goes next.
enum After {
    /// Boxed: a child process is large beside the other cases.
    Running(Box<Running>),
    Down,
    /// Stopped on request: the databases whose final sync is not confirmed.
    Stopped(Vec<Unconfirmed>),
}

pub(super) async fn supervise(
    first: Running,
    launch: Launch,
    rx: mpsc::Receiver<Control>,
    dir: Arc<PrivateDir>,
    policy: Policy,
    shared: Arc<Shared>,
) -> Result<Vec<Unconfirmed>, SupervisorError> {
    let restarts = Restarts::new(&policy);
    let mut l = Loop { launch, rx, dir, policy, shared, restarts };
    let mut after = After::Running(Box::new(first));
    loop {
        after = match after {
            After::Running(running) => l.while_running(*running).await?,
            After::Down => l.while_down().await?,
            After::Stopped(unconfirmed) => return Ok(unconfirmed),
        };
    }
}

impl Loop {
    /// Until the process exits or a control message changes it.
    async fn while_running(&mut self, mut running: Running) -> Result<After, SupervisorError> {
        let event = tokio::select! {
            status = running.child.wait() => Err(status),
            control = self.rx.recv() => Ok(control),
        };
        match event {
            Err(status) => {
                let (text, code) = describe(status);
                tracing::warn!(status = %text, "Litestream exited unexpectedly");
                self.crashed(text, code, Some(running.started))?;
                Ok(After::Down)
            }
            Ok(None | Some(Control::Stop)) => {
                let evidence = stop(&mut running, &self.launch, &self.shared).await;
                Ok(After::Stopped(judge(&self.launch, evidence).await))
            }
            Ok(Some(Control::Replace(next))) => {
                self.launch = *next;
                Ok(After::Running(Box::new(running)))
            }
            Ok(Some(Control::Fence)) => {
                let _ = running.child.start_kill();
                let (text, code) = describe(running.child.wait().await);
                self.shared.update(|s| {
                    s.pid = None;
                    s.last_exit = Some(text);
                    s.last_exit_code = code;
                });
                Ok(After::Stopped(vec![]))
            }
            Ok(Some(Control::Rotate(next, why, reply))) => {
                // The next Litestream ships whatever this one's final sync left behind.
                stop(&mut running, &self.launch, &self.shared).await;
                self.launch = *next;
                match start(&self.launch, &self.dir, &self.policy, &self.shared).await {
                    Ok(r) => {
                        self.shared.update(|s| why.count(s));
                        let _ = reply.send(Ok(()));
                        Ok(After::Running(Box::new(r)))
                    }
                    Err(e) => {
                        // The caller reports the failed start; here it is only counted.
                        let _ = reply.send(Err(e.to_string()));
                        let (text, code) = match &e {
                            SupervisorError::Exited { status, code, .. } => (status.clone(), *code),
                            other => (other.to_string(), None),
                        };
                        self.crashed(text, code, None)?;
                        Ok(After::Down)
                    }
                }
            }
        }
    }

    /// Not running: wait out the backoff (unless told to stop), then start again.
    async fn while_down(&mut self) -> Result<After, SupervisorError> {
        self.shared.update(|s| {
            s.state = ProcessState::Restarting;
            s.pid = None;
        });
        tokio::select! {
            _ = tokio::time::sleep(self.restarts.next_wait()) => {}
            control = self.rx.recv() => match control {
                Some(Control::Fence) => return Ok(After::Stopped(vec![])),
                None | Some(Control::Stop) => {
                    self.shared.update(|s| s.state = ProcessState::Stopped);
                    let evidence = StopEvidence {
                        running: false,
                        exit_code: None,
                        interrupted: false,
                        killed: false,
                        output: vec![],
                        databases: self.launch.databases.clone(),
                    };
                    return Ok(After::Stopped(judge(&self.launch, evidence).await));
                }
                Some(Control::Rotate(next, why, reply)) => {
                    self.launch = *next;
                    let _ = reply.send(Ok(()));
                    self.shared.update(|s| why.count(s));
                }
                Some(Control::Replace(next)) => self.launch = *next,
            },
        }
        match start(&self.launch, &self.dir, &self.policy, &self.shared).await {
            Ok(r) => {
                self.shared.update(|s| s.restarts += 1);
                let confirmed = self.shared.status.lock().expect("status lock").replicating;
                tracing::warn!(pid = r.child.id(), confirmed, "Litestream restarted");
                Ok(After::Running(Box::new(r)))
            }
            Err(SupervisorError::Exited { status, code, .. }) => {
                self.shared.update(|s| s.restarts += 1);
                tracing::warn!(%status, "Litestream exited unexpectedly");
                self.crashed(status, code, None)?;
                Ok(After::Down)
            }
            Err(other) => Err(other),
        }
    }

    /// Records an unexpected exit (its caller reports it); too many within the window
    /// ends supervision.
    fn crashed(
        &mut self,
        status: String,
        code: Option<i32>,
        started: Option<Instant>,
    ) -> Result<(), SupervisorError> {
        let shared = &self.shared;
        shared.update(|s| {
            s.last_exit = Some(status.clone());
            s.last_exit_code = code;
            s.pid = None;
            s.replicating = false;
        });
        if let Err(CrashLoop { exits, window }) = self.restarts.exited(started) {
            shared.update(|s| s.state = ProcessState::Failed);
            return Err(SupervisorError::CrashLoop { crashes: exits, window, status, tail: shared.tail() });
        }
        Ok(())
    }
}
