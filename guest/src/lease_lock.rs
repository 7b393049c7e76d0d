//! `lock.json` as Litestream writes it (`leaser.go`): `{"generation", "expires_at",
//! "owner"}`, the time in Go's RFC 3339 with nanoseconds (`time.Time`'s JSON), which
//! may carry a zone offset and 0 to 9 fraction digits.

use crate::model::Lock;
use serde_json::{Map, Value};

/// The lock's body, its time in UTC.
pub fn write(lock: &Lock) -> String {
    let mut m = Map::new();
    m.insert("generation".into(), Value::from(lock.generation));
    m.insert("expires_at".into(), Value::String(rfc3339(lock.expires_at)));
    if let Some(owner) = &lock.owner {
        m.insert("owner".into(), Value::String(owner.clone()));
    }
    Value::Object(m).to_string()
}

/// Reads a lock body; says what is wrong with one that is not a lock.
pub fn read(body: &str) -> Result<Lock, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("lock.json is not JSON: {e}"))?;
    let generation =
        v.get("generation").and_then(Value::as_u64).ok_or("lock.json has no whole-number \"generation\"")?;
    let text = v.get("expires_at").and_then(Value::as_str).ok_or("lock.json has no \"expires_at\" text")?;
    let expires_at =
        parse_rfc3339(text).ok_or_else(|| format!("lock.json's expires_at {text:?} is not RFC 3339"))?;
    let owner = v.get("owner").and_then(Value::as_str).filter(|o| !o.is_empty()).map(str::to_owned);
    Ok(Lock { generation, expires_at, owner })
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the fraction's trailing zeros
/// trimmed as Go does; to the microsecond, what an f64 of today's time holds.
pub fn rfc3339(unix: f64) -> String {
    let nanos_total = (unix * 1e6).round() as i128 * 1000;
    let secs = nanos_total.div_euclid(1_000_000_000) as i64;
    let nanos = nanos_total.rem_euclid(1_000_000_000) as u32;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// RFC 3339 (`Z` or `±HH:MM`, any fraction) as Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi, s) =
        (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut fraction = 0.0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        fraction = format!("0.{}", &text[start..i]).parse().ok()?;
    }
    let offset = match text.get(i..)? {
        "Z" | "z" => 0,
        zone if zone.len() == 6 && matches!(&zone[..1], "+" | "-") && &zone[3..4] == ":" => {
            let minutes = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if zone.starts_with('-') { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset * 60) as f64 + fraction)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_written_locks_are_read_whatever_their_zone_and_fraction() {
        // As Go's encoding/json writes time.Now() on a machine in UTC+2, with 9, 0 and
        // 3 fraction digits.
        let at = 1_764_680_400.0; // 2025-12-02T13:00:00Z
        for (text, want) in [
            ("2025-12-02T15:00:00.123456789+02:00", at + 0.123456789),
            ("2025-12-02T13:00:00Z", at),
            ("2025-12-02T08:00:00.5-05:00", at + 0.5),
        ] {
            let body = format!(r#"{{"generation":3,"expires_at":"{text}","owner":"web-1:42"}}"#);
            let lock = read(&body).unwrap();
            assert!((lock.expires_at - want).abs() < 1e-6, "{text}");
            assert_eq!((lock.generation, lock.owner.as_deref()), (3, Some("web-1:42")));
        }
        let no_owner = read(r#"{"generation":1,"expires_at":"2025-12-02T13:00:00Z"}"#).unwrap();
        assert_eq!(no_owner.owner, None);
    }

    #[test]
    fn written_as_go_writes_it_and_read_back() {
        let lock = Lock { generation: 7, expires_at: 1_764_680_400.25, owner: Some("n".into()) };
        let body = write(&lock);
        assert_eq!(body, r#"{"generation":7,"expires_at":"2025-12-02T13:00:00.25Z","owner":"n"}"#);
        assert_eq!(read(&body).unwrap(), lock);
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400.0), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn what_is_not_a_lock_says_why() {
        assert!(read("{}").unwrap_err().contains("generation"));
        assert!(read(r#"{"generation":1,"expires_at":"tomorrow"}"#).unwrap_err().contains("tomorrow"));
        assert!(read("[").unwrap_err().contains("not JSON"));
        assert_eq!(parse_rfc3339("2025-13-01T00:00:00Z"), None);
    }
}
