//! Times the rules: component load and instantiate, and `render` for N databases
//! through the component and natively. Prints one JSON object (medians in µs).
//!
//! cargo run --release -p tests --example render_bench -- [REPEATS]

use datasette_litestream::rules::{Database, Request, Rules};
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
        let here = tests::native_request(&req);
        let wasm = median_us(repeats, || {
            rules.render(&req, None).unwrap().unwrap();
        });
        let local = median_us(repeats, || {
            guest::plan::render(&here, None).unwrap();
        });
        out[format!("render_{n}_wasm_us")] = wasm.into();
        out[format!("render_{n}_native_us")] = local.into();
        out[format!("render_{n}_ratio")] = (wasm / local).into();
    }
    println!("{out}");
}
