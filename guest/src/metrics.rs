//! Litestream's Prometheus scrape, digested for the status view: Go runtime figures,
//! replica operations by type and operation, and each database's `litestream_*`
//! metrics under its Datasette name.

use crate::model::{Database, DatabaseMetrics, Digest, NamedValue, Operation};
use std::collections::BTreeMap;

struct Sample<'a> {
    name: &'a str,
    labels: Vec<(&'a str, String)>,
    value: f64,
}

/// A series of a database: (metric, replica, status).
type Series = (String, Option<String>, Option<String>);

pub fn digest(text: &str, databases: &[Database]) -> Result<Digest, String> {
    let mut digest = Digest::default();
    let mut per_db: Vec<BTreeMap<Series, f64>> = vec![BTreeMap::new(); databases.len()];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let s = sample(line).ok_or_else(|| format!("line {} is not a Prometheus sample", n + 1))?;
        let label = |k: &str| s.labels.iter().find(|(l, _)| *l == k).map(|(_, v)| v.as_str());
        match s.name {
            "go_goroutines" => digest.goroutines = Some(s.value),
            "go_threads" => digest.threads = Some(s.value),
            // 0.3.13 and 0.5.17 both print the bytes counter without `_total`.
            "litestream_replica_operation_bytes"
            | "litestream_replica_operation_bytes_total"
            | "litestream_replica_operation_total" => {
                let op = Operation {
                    replica_type: label("replica_type").unwrap_or("").to_owned(),
                    operation: label("operation").unwrap_or("").to_owned(),
                    value: s.value,
                };
                if s.name.contains("_bytes") {
                    digest.operation_bytes.push(op);
                } else {
                    digest.operation_counts.push(op);
                }
            }
            name if name.starts_with("litestream_") => {
                let Some(db) = label("db").and_then(|p| which(p, databases)) else {
                    continue;
                };
                // Series per replica (0.3) or per status keep their distinguishing label.
                let key =
                    (name.to_owned(), label("name").map(str::to_owned), label("status").map(str::to_owned));
                per_db[db].insert(key, s.value);
            }
            _ => {}
        }
    }
    digest.databases = databases
        .iter()
        .zip(per_db)
        .filter(|(_, m)| !m.is_empty())
        .map(|(d, m)| DatabaseMetrics {
            database: d.name.clone(),
            values: m
                .into_iter()
                .map(|((name, replica, status), value)| NamedValue { name, replica, status, value })
                .collect(),
        })
        .collect();
    Ok(digest)
}

/// Litestream labels most series with the full path and some (0.5) with the file name.
fn which(label: &str, databases: &[Database]) -> Option<usize> {
    databases.iter().position(|d| d.path == label).or_else(|| {
        let matches: Vec<usize> = databases
            .iter()
            .enumerate()
            .filter(|(_, d)| d.path.rsplit('/').next() == Some(label))
            .map(|(i, _)| i)
            .collect();
        (matches.len() == 1).then(|| matches[0])
    })
}

/// `name{k="v",…} value [timestamp]`.
fn sample(line: &str) -> Option<Sample<'_>> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '}' {
                end = Some(i);
                break;
            }
            if c == ',' || c == ' ' {
                continue;
            }
            let eq = body[i..].find('=')? + i;
            let key = body[i..eq].trim();
            let mut value = String::new();
            let mut after = body[eq + 1..].char_indices();
            if after.next()?.1 != '"' {
                return None;
            }
            let mut closed = None;
            let mut escaped = false;
            for (j, ch) in after {
                match (escaped, ch) {
                    (true, 'n') => (value.push('\n'), escaped = false).1,
                    (true, other) => (value.push(other), escaped = false).1,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        closed = Some(eq + 1 + j);
                        break;
                    }
                    (false, other) => value.push(other),
                }
            }
            let closed = closed?;
            labels.push((key, value));
            while chars.peek().is_some_and(|(k, _)| *k <= closed) {
                chars.next();
            }
        }
        rest = &body[end? + 1..];
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample { name, labels, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(name: &str, path: &str) -> Database {
        Database { name: name.into(), path: path.into(), directory: "/d".into(), plugin_config: None }
    }

    #[test]
    fn samples_with_escaped_labels() {
        let s = sample(r#"m{a="x\"y",b="1,2"} 3.5 1700000000"#).unwrap();
        assert_eq!(s.name, "m");
        assert_eq!(s.labels, vec![("a", "x\"y".to_owned()), ("b", "1,2".to_owned())]);
        assert_eq!(s.value, 3.5);
        assert_eq!(sample("go_threads 9").unwrap().value, 9.0);
    }

    #[test]
    fn operations_and_databases_by_datasette_name() {
        let text = "go_goroutines 14\nlitestream_replica_operation_total{operation=\"PUT\",replica_type=\"s3\"} 4\n\
                    litestream_db_size{db=\"/x/a.db\"} 16384\nlitestream_txid{db=\"a.db\"} 7\nlitestream_db_size{db=\"/other.db\"} 1\n";
        let d = digest(text, &[db("alpha", "/x/a.db")]).unwrap();
        assert_eq!(d.goroutines, Some(14.0));
        assert_eq!(d.operation_counts[0].operation, "PUT");
        let value = |name: &str, value| NamedValue { name: name.into(), replica: None, status: None, value };
        assert_eq!(
            d.databases,
            vec![DatabaseMetrics {
                database: "alpha".into(),
                values: vec![value("litestream_db_size", 16384.0), value("litestream_txid", 7.0)]
            }]
        );
    }

    /// Real scrapes (tests/metrics/README.md says how they were taken): /tmp/mt/a.db
    /// replicated to file:// and to S3 (moto) by Litestream 0.3.13 and 0.5.17.
    #[test]
    fn real_scrapes_from_both_lines_and_both_replica_types() {
        let scrapes = [
            ("0.3.13 file", include_str!("../../tests/metrics/litestream-0.3.13.txt")),
            ("0.5.17 file", include_str!("../../tests/metrics/litestream-0.5.17.txt")),
            ("0.3.13 s3", include_str!("../../tests/metrics/litestream-0.3.13-s3.txt")),
            ("0.5.17 s3", include_str!("../../tests/metrics/litestream-0.5.17-s3.txt")),
        ];
        for (which, text) in scrapes {
            let d = digest(text, &[db("a", "/tmp/mt/a.db"), db("b", "/tmp/mt/b.db")]).unwrap();
            assert!(d.goroutines.is_some_and(|g| g > 0.0), "{which}");
            assert!(d.threads.is_some_and(|t| t > 0.0), "{which}");
            let DatabaseMetrics { database: name, values: metrics } = &d.databases[0];
            assert_eq!((name.as_str(), d.databases.len()), ("a", 1), "{which}");
            let get = |k: &str| metrics.iter().find(|m| m.name == k).map(|m| m.value);
            assert!(get("litestream_db_size").is_some_and(|v| v > 0.0), "{which}: {metrics:?}");
            assert!(get("litestream_sync_count").is_some_and(|v| v > 0.0), "{which}: {metrics:?}");
            if which.ends_with("s3") {
                let puts = |ops: &[Operation]| {
                    ops.iter()
                        .filter(|o| o.replica_type == "s3" && o.operation == "PUT")
                        .map(|o| o.value)
                        .sum::<f64>()
                };
                assert!(puts(&d.operation_counts) > 0.0, "{which}: {:?}", d.operation_counts);
                assert!(puts(&d.operation_bytes) > 1000.0, "{which}: {:?}", d.operation_bytes);
            }
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(digest("<html>not metrics</html>", &[]).is_err());
    }
}
