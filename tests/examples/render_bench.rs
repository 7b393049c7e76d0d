//! Times the rules: component load and instantiate, `render` for N databases and the
//! health verdict for N databases with a full log buffer, through the component and
//! natively. Prints one JSON object (medians in µs).
//!
//! cargo run --release -p tests --example render_bench -- [REPEATS]

use datasette_litestream::rules::{
    Database, DatabaseEvidence, HealthInput, LogEntry, ProcessState, Request, Rules,
};
use std::time::Instant;

fn request(n: usize) -> Request {
    Request {
        top_level: Some(r#"{"all-replicate": ["s3://bucket/$DB_NAME"], "metrics-addr": ":9090"}"#.into()),
        databases: (0..n)
            .map(|i| Database {
                name: format!("db{i}"),
                path: format!("/srv/data/db{i}.db"),
                directory: "/srv/data".into(),
                plugin_config: None,
            })
            .collect(),
        working_directory: "/srv".into(),
        litestream_version: "v0.3.13".into(),
        control_socket: None,
    }
}

/// What the status view hands the health rule: N databases, and Litestream 0.5's
/// start-up lines for each (at least the log buffer's 400 lines), none an error.
fn health_input(n: usize) -> HealthInput {
    let logs = (0..n.max(200))
        .flat_map(|i| {
            let path = format!("/srv/data/db{}.db", i % n);
            [
                format!(r#"time=2026-11-25T10:00:00Z level=INFO msg="initialized db" path={path}"#),
                format!(r#"time=2026-11-25T10:00:00Z level=INFO msg="replicating to" type=s3 db={path}"#),
            ]
        })
        .take(400)
        .map(|text| LogEntry { age_seconds: 5.0, text })
        .collect();
    HealthInput {
        state: ProcessState::Running,
        uptime_seconds: 60.0,
        databases: (0..n)
            .map(|i| DatabaseEvidence {
                name: format!("db{i}"),
                path: format!("/srv/data/db{i}.db"),
                file_exists: true,
            })
            .collect(),
        logs,
        window_seconds: 30.0,
        durability: vec![],
        conflicts: vec![],
    }
}

fn median_us(repeats: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(51);
    let t = Instant::now();
    let rules = Rules::builtin().expect("rules");
    let load_us = t.elapsed().as_secs_f64() * 1e6;
    let mut out = serde_json::json!({"component_bytes": datasette_litestream::rules::COMPONENT.len(), "load_us": load_us});
    // One throwaway call so the first instantiation is not counted as a render.
    rules.check(&request(1)).unwrap().unwrap();
    out["check_1_db_us"] = median_us(repeats, || {
        rules.check(&request(1)).unwrap().unwrap();
    })
    .into();
    for n in [1usize, 100, 1000] {
        let req = request(n);
        // (1,000 is timed again below with its cost; this is the component/native pair.)
        let wasm = median_us(repeats, || {
            rules.render(&req, None).unwrap().unwrap();
        });
        let local = median_us(repeats, || {
            datasette_litestream_rules::plan::render(&req, None).unwrap();
        });
        out[format!("render_{n}_wasm_us")] = wasm.into();
        out[format!("render_{n}_native_us")] = local.into();
        out[format!("render_{n}_ratio")] = (wasm / local).into();
    }
    // The instruction budget's headroom: what a render of N databases costs (counted,
    // so the same on any machine) and the wall time it took here.
    for n in [1_000usize, 10_000, 40_000] {
        let req = request(n);
        out[format!("render_{n}_instructions")] = rules.render_cost(&req).unwrap().into();
        out[format!("render_{n}_wasm_us")] = median_us(3, || {
            rules.render(&req, None).unwrap().unwrap();
        })
        .into();
    }
    out["instruction_budget"] = datasette_litestream::rules::FUEL_PER_CALL.into();
    for n in [1usize, 100] {
        let input = health_input(n);
        let wasm = median_us(repeats, || assert!(rules.assess_health(&input).unwrap().ok));
        let local = median_us(repeats, || assert!(datasette_litestream_rules::health::assess(&input).ok));
        out[format!("health_{n}_wasm_us")] = wasm.into();
        out[format!("health_{n}_native_us")] = local.into();
    }
    println!("{out}");
}
