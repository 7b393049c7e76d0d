//! `verify`: prove each replica restores, intact and up to date.

use crate::cli::VerifyArgs;
use crate::rules::VerifyOutcome;
use anyhow::Result;

pub async fn verify(args: VerifyArgs) -> Result<u8> {
    let o = match super::offline(&args.sources).await? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let verdicts =
        crate::recovery::verify::verify(o.rules, &o.prepared, &o.litestream.path, &o.dir, args.timeout)
            .await?;
    if args.json {
        let list: Vec<_> = verdicts
            .iter()
            .map(|(db, v)| serde_json::json!({"database": db, "outcome": v.outcome.to_string(), "reason": v.reason}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for (db, v) in &verdicts {
            println!("{} {db}: {}", v.outcome, v.reason);
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
