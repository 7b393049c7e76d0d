//! What the lag means for a health probe, in one line a load balancer logs.

use crate::model::{LagReport, ReplicationState};

/// Evidence unreadable for longer than this fails the check: one slow answer on a
/// busy machine is not an outage, three seconds of silence is.
const UNKNOWN_GRACE: f64 = 3.0;
/// The largest `max-lag` a probe may ask for: a day.
const MAX_LAG_LIMIT: f64 = 86_400.0;

/// Reads `?max-lag=SECONDS`.
pub fn parse_max_lag(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("max-lag must be a number of seconds, such as max-lag=30; got {text:?}"))?;
    if !value.is_finite() {
        return Err(format!("max-lag must be a finite number of seconds; got {text:?}"));
    }
    if value <= 0.0 {
        return Err(format!("max-lag must be more than 0 seconds; got {text}"));
    }
    if value > MAX_LAG_LIMIT {
        return Err(format!("max-lag must be at most {MAX_LAG_LIMIT} seconds (a day); got {text}"));
    }
    Ok(value)
}

/// Every database caught up or within `max_lag`; otherwise one line naming each that is not.
pub fn require_caught_up(reports: &[LagReport], max_lag: f64, now: f64) -> Result<(), String> {
    let mut behind = vec![];
    let mut unknown = vec![];
    for r in reports {
        match r.state {
            ReplicationState::Unknown => {
                let for_seconds = r.unknown_since.map_or(0.0, |s| now - s);
                if for_seconds > UNKNOWN_GRACE {
                    unknown.push(format!("{}: {} (for {for_seconds:.0} s)", r.name, r.reason));
                }
            }
            // A change still waiting has waited since the look too.
            ReplicationState::Behind if r.lag_seconds + (now - r.observed_at).max(0.0) > max_lag => {
                let lag = r.lag_seconds + (now - r.observed_at).max(0.0);
                behind.push(format!("{}: {}", r.name, behind_words(lag, r.replicated_at)));
            }
            _ => {}
        }
    }
    let mut parts = vec![];
    match behind.as_slice() {
        [] => {}
        [one] => parts.push(format!("behind: {one}")),
        many => parts.push(format!("{} databases behind: {}", many.len(), many.join("; "))),
    }
    if !unknown.is_empty() {
        parts.push(format!("unknown: {}", unknown.join("; ")));
    }
    match parts.is_empty() {
        true => Ok(()),
        false => Err(parts.join("; ")),
    }
}

/// `47 s of changes not on the replica (last replicated 12:01:03 UTC)`.
pub fn behind_words(lag: f64, replicated_at: Option<f64>) -> String {
    let last = match replicated_at {
        Some(at) => format!("last replicated {}", clock(at)),
        None => "nothing replicated since the host started".to_owned(),
    };
    format!("{lag:.0} s of changes not on the replica ({last})")
}

/// `HH:MM:SS UTC` of a Unix time.
fn clock(unix: f64) -> String {
    let day = (unix.max(0.0) as u64) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", day / 3600, day / 60 % 60, day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_lag_is_a_positive_number_of_seconds_up_to_a_day() {
        assert_eq!(parse_max_lag("2.5"), Ok(2.5));
        assert!(parse_max_lag("abc").unwrap_err().contains("max-lag must be a number of seconds"));
        assert!(parse_max_lag("-1").unwrap_err().contains("more than 0"));
        assert!(parse_max_lag("0").unwrap_err().contains("more than 0"));
        assert!(parse_max_lag("1e9").unwrap_err().contains("at most 86400"));
        assert!(parse_max_lag("inf").unwrap_err().contains("finite"));
        assert!(parse_max_lag("NaN").unwrap_err().contains("finite"));
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        assert_eq!(clock(1_700_000_000.9), "22:13:20 UTC");
    }
}
