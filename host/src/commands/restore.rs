//! `restore`: bring databases back from their replicas.

use crate::cli::RestoreArgs;
use crate::recovery::restore::{self, Options, Outcome};
use anyhow::Result;

pub async fn restore(args: RestoreArgs) -> Result<u8> {
    let o = match super::offline(&args.sources).await? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let options = Options {
        explicit: &args.databases,
        force: args.force,
        only_missing: false,
        timestamp: args.timestamp.as_deref(),
    };
    let outcomes = match restore::restore(o.rules, &o.prepared, &o.litestream.path, &o.dir, &options).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(2);
        }
    };
    Ok(report(&outcomes))
}

/// Prints one line per database; 1 when any failed.
pub fn report(outcomes: &[(String, Outcome)]) -> u8 {
    let mut failed = false;
    for (name, outcome) in outcomes {
        match outcome {
            Outcome::Restored { bytes, took } => {
                eprintln!(
                    "datasette-litestream: restored {name:?} ({bytes} bytes) in {:.2} s",
                    took.as_secs_f64()
                )
            }
            Outcome::Skipped(why) => eprintln!("datasette-litestream: skipped {name:?}: {why}"),
            Outcome::Failed(why) => {
                failed = true;
                eprintln!("error: cannot restore {name:?}: {why}");
            }
        }
    }
    u8::from(failed)
}
