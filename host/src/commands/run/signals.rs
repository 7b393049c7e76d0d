//! What can end or change a run from outside: signals, and (with --stdin) the Datasette
//! plugin's lines — each a new set of databases — and its closing of stdin.

use anyhow::Result;
use tokio::io::{BufReader, Lines, Stdin};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

pub enum Outside {
    Stop(&'static str),
    /// A line of inputs JSON: the whole new set.
    Update(String),
}

pub struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
    /// Lines after the first, in order; closed when stdin closes.
    updates: Option<mpsc::UnboundedReceiver<String>>,
}

impl Signals {
    pub fn new(stdin: Option<Lines<BufReader<Stdin>>>) -> Result<Self> {
        let updates = stdin.map(|mut lines| {
            let (tx, rx) = mpsc::unbounded_channel();
            // Read apart from the main loop, so a line is never lost to a select.
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    if !line.trim().is_empty() && tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        });
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            updates,
        })
    }

    /// An update already received and not yet taken: applied before a stop, so every
    /// database Datasette had when it was stopped gets its final sync.
    pub fn pending(&mut self) -> Option<String> {
        self.updates.as_mut()?.try_recv().ok()
    }

    /// The next stop or update; updates sent before stdin closed come first.
    pub async fn next(&mut self) -> Outside {
        let updates = &mut self.updates;
        let update = async {
            match updates {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.term.recv() => Outside::Stop("SIGTERM received"),
            _ = self.int.recv() => Outside::Stop("SIGINT received"),
            _ = self.hup.recv() => Outside::Stop("SIGHUP received"),
            line = update => line.map_or(Outside::Stop("stdin closed"), Outside::Update),
        }
    }
}
