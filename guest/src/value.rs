//! Checks one config value against the kind its key demands, and normalises it into
//! what Litestream's Go YAML decoder accepts (numbers from `$env` strings, for one).

use crate::keys::Kind;
use serde_json::Value;

/// The value Litestream should get, or a problem in words plus an optional fix.
pub fn check(kind: Kind, value: &Value) -> Result<Value, (String, Option<String>)> {
    if value.is_null() {
        return Err((
            "has no value".into(),
            Some("if it comes from {\"$env\": NAME}, that variable is not set".into()),
        ));
    }
    match kind {
        Kind::Any => Ok(value.clone()),
        Kind::Text | Kind::Secret => match value {
            Value::String(s) if s.is_empty() => Err(("is an empty string".into(), None)),
            Value::String(_) => Ok(value.clone()),
            other => Err((format!("must be a string, not {}", describe(other, kind)), None)),
        },
        Kind::Duration => match value {
            Value::String(s) if is_go_duration(s) => Ok(value.clone()),
            Value::String(s) => Err((
                format!("{s:?} is not a duration"),
                Some("write a Go duration such as \"10s\", \"500ms\" or \"1h30m\"".into()),
            )),
            other => Err((
                format!("must be a duration string, not {}", describe(other, kind)),
                Some(format!("write it with a unit, such as \"{}s\"", number_text(other))),
            )),
        },
        Kind::Count => match as_number(value) {
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(Value::from(n as u64)),
            Some(_) => Err(("must be a whole number of at least 1".into(), None)),
            None => Err((format!("must be a whole number, not {}", describe(value, kind)), None)),
        },
        Kind::Seconds => match as_number(value) {
            Some(n) if n > 0.0 && n.is_finite() => Ok(serde_json::Number::from_f64(n)
                .map(|_| if n.fract() == 0.0 { Value::from(n as u64) } else { Value::from(n) })
                .unwrap_or(Value::Null)),
            Some(_) => Err((
                "must be a positive number of seconds".into(),
                Some("for example 300 to check every five minutes".into()),
            )),
            None => Err((
                format!("must be a number of seconds, not {}", describe(value, kind)),
                Some("for example 300 to check every five minutes".into()),
            )),
        },
        Kind::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err((format!("must be true or false, not {}", describe(other, kind)), None)),
        },
        Kind::TextList => match value {
            Value::Array(items) if items.iter().all(|i| matches!(i, Value::String(s) if !s.is_empty())) => {
                Ok(value.clone())
            }
            Value::Array(_) => Err(("must be a list of non-empty strings".into(), None)),
            Value::String(_) => Err((
                "must be a list, not a single string".into(),
                Some("write it as a YAML list: put \"- \" before the value on its own line".into()),
            )),
            other => Err((format!("must be a list of strings, not {}", describe(other, kind)), None)),
        },
    }
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

fn number_text(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        _ => "10".into(),
    }
}

/// Names what a value is without echoing it when the key holds a secret.
pub fn describe(value: &Value, kind: Kind) -> String {
    let shown = |v: &Value| {
        if kind == Kind::Secret { String::new() } else { format!(" {v}") }
    };
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(_) => format!("a boolean{}", shown(value)),
        Value::Number(_) => format!("a number{}", shown(value)),
        Value::String(s) if kind == Kind::Secret => format!("a string of {} characters", s.len()),
        Value::String(_) => format!("the string{}", shown(value)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// Go's `time.ParseDuration` grammar: signed sequence of decimal numbers with units.
pub fn is_go_duration(s: &str) -> bool {
    duration_seconds(s).is_some()
}

/// The seconds a Go duration stands for, when it is one.
pub fn duration_seconds(s: &str) -> Option<f64> {
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    if s == "0" {
        return Some(0.0);
    }
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let number: f64 = match &rest[..digits] {
            "" | "." => return None,
            n => n.parse().ok()?,
        };
        rest = &rest[digits..];
        let (unit, scale) = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("μs", 1e-6),
            ("ms", 1e-3),
            ("s", 1.0),
            ("m", 60.0),
            ("h", 3600.0),
        ]
        .into_iter()
        .filter(|(u, _)| rest.starts_with(u))
        .max_by_key(|(u, _)| u.len())?;
        total += number * scale;
        rest = &rest[unit.len()..];
    }
    Some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_durations() {
        for ok in ["1s", "500ms", "1h30m", "1.5s", "0", "10us", "2h45m0.5s"] {
            assert!(is_go_duration(ok), "{ok}");
        }
        assert_eq!(duration_seconds("1h30m"), Some(5400.0));
        assert_eq!(duration_seconds("250ms"), Some(0.25));
        for bad in ["", "1", "s", "1x", "1.2.3s", "ten seconds", "1 s"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn env_strings_become_numbers() {
        assert_eq!(check(Kind::Count, &json!("1000")), Ok(json!(1000)));
        assert_eq!(check(Kind::Seconds, &json!("300")), Ok(json!(300)));
        assert_eq!(check(Kind::Seconds, &json!(0.5)), Ok(json!(0.5)));
        assert!(check(Kind::Seconds, &json!(0)).is_err());
        assert!(check(Kind::Seconds, &json!(-5)).is_err());
    }

    #[test]
    fn secrets_are_not_echoed() {
        let (problem, _) = check(Kind::Secret, &json!(12345)).unwrap_err();
        assert!(!problem.contains("12345"), "{problem}");
    }
}
