//! `verify`: prove each replica restores, intact and up to date.

use crate::cli::VerifyArgs;
use crate::litestream;
use crate::prepare;
use crate::private_dir::PrivateDir;
use crate::rules::{Rules, VerifyOutcome};
use anyhow::{Context, Result};

pub async fn verify(args: VerifyArgs) -> Result<u8> {
    let inputs = super::inputs_from(&args.sources)?;
    let rules = Rules::builtin()?;
    let found = litestream::find(args.sources.litestream.as_deref()).await?;
    let prepared = match super::prepared(rules, prepare::request(&inputs, &found.version, None)).await {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let dir = PrivateDir::create().context("cannot create the private directory")?;
    let verdicts = crate::verify::verify(rules, &prepared, &found.path, &dir, args.timeout).await?;
    let word = crate::verify::word;
    if args.json {
        let list: Vec<_> = verdicts
            .iter()
            .map(|(db, v)| serde_json::json!({"database": db, "outcome": word(&v.outcome), "reason": v.reason}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for (db, v) in &verdicts {
            println!("{} {db}: {}", word(&v.outcome), v.reason);
        }
    }
    let all_verified = verdicts.iter().all(|(_, v)| v.outcome == VerifyOutcome::Verified);
    let any_failed = verdicts.iter().any(|(_, v)| v.outcome == VerifyOutcome::Failed);
    Ok(if any_failed {
        1
    } else if all_verified {
        0
    } else {
        2
    })
}
