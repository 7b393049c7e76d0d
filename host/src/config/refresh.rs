//! The credentials refresh cycle: every interval, read the source again and ask the
//! rules whether the credentials changed.

use crate::config::prepare::{self, PrepareError};
use crate::rules::{Credentials, CredentialsSource, Rules};
use std::path::PathBuf;
use std::time::Duration;

pub struct Refresher {
    source: CredentialsSource,
    interval: Duration,
    cwd: PathBuf,
    current: Credentials,
    next: tokio::time::Instant,
}

/// Fresh credentials and the names of the fields that changed.
pub struct Change {
    pub credentials: Credentials,
    pub fields: Vec<String>,
}

impl Refresher {
    /// None when there is no dynamic source to refresh.
    pub fn new(
        source: &CredentialsSource,
        interval_seconds: Option<f64>,
        cwd: PathBuf,
        current: Option<&Credentials>,
    ) -> Option<Refresher> {
        let (interval, current) = match (source, interval_seconds, current) {
            (CredentialsSource::None, _, _) => return None,
            (_, Some(s), Some(c)) => (Duration::from_secs_f64(s), c.clone()),
            _ => return None,
        };
        Some(Refresher {
            source: source.clone(),
            interval,
            cwd,
            current,
            next: tokio::time::Instant::now() + interval,
        })
    }

    /// Waits for the next tick, reads the source, and says whether anything changed.
    pub async fn next(&mut self, rules: &'static Rules) -> Result<Option<Change>, PrepareError> {
        tokio::time::sleep_until(self.next).await;
        self.next += self.interval;
        let fresh = prepare::fetch_credentials(rules, &self.source, &self.cwd)
            .await?
            .expect("a refresher always has a source");
        let (current, candidate) = (self.current.clone(), fresh.clone());
        let change =
            crate::util::blocking::blocking(move || rules.compare_credentials(&current, &candidate)).await?;
        if !change.changed {
            return Ok(None);
        }
        self.current = fresh.clone();
        let fields = change.fields.names().into_iter().map(str::to_owned).collect();
        Ok(Some(Change { credentials: fresh, fields }))
    }
}

/// The next refresh, or never when there is no dynamic source.
pub async fn next(
    refresher: &mut Option<Refresher>,
    rules: &'static Rules,
) -> Result<Option<Change>, PrepareError> {
    match refresher {
        Some(r) => r.next(rules).await,
        None => std::future::pending().await,
    }
}
