//! jit-vs-aot COMPONENT.wasm PRECOMPILED.cwasm [REPEATS]
//!
//! Times `check` and `render` (1 and 100 databases) of one rules component two ways in
//! one process: compiled here with Cranelift (JIT, this CPU's features) and loaded from
//! the artefact the host embeds (compiled at build time for the target triple). Each
//! call runs in a fresh store and instance with fuel, as the host's calls do. Prints
//! one JSON object: medians in µs, alternating the two sides REPEATS times.

#[path = "../../../host/engine_config.rs"]
mod engine_config;

use std::time::Instant;
use wasmtime::component::{Component, Linker, ResourceTable, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

fn request(n: usize) -> Val {
    let text = |s: String| Val::String(s);
    let database = |i: usize| {
        Val::Record(vec![
            ("name".into(), text(format!("db{i}"))),
            ("path".into(), text(format!("/srv/data/db{i}.db"))),
            ("directory".into(), text("/srv/data".into())),
            ("plugin-config".into(), Val::Option(None)),
        ])
    };
    let top = r#"{"all-replicate": ["s3://bucket/$DB_NAME"], "metrics-addr": ":9090"}"#;
    Val::Record(vec![
        ("top-level".into(), Val::Option(Some(Box::new(text(top.into()))))),
        ("databases".into(), Val::List((0..n).map(database).collect())),
        ("working-directory".into(), text("/srv".into())),
        ("litestream-version".into(), text("v0.3.13".into())),
        ("control-socket".into(), Val::Option(None)),
    ])
}

/// One call in a fresh instance; panics unless it answers `ok`.
fn call(engine: &Engine, linker: &Linker<Sandbox>, component: &Component, name: &str, args: &[Val]) {
    let sandbox = Sandbox { wasi: WasiCtxBuilder::new().build(), table: ResourceTable::new() };
    let mut store = Store::new(engine, sandbox);
    store.set_fuel(4_000_000_000).unwrap();
    let instance = linker.instantiate(&mut store, component).unwrap();
    let iface =
        instance.get_export_index(&mut store, None, "datasette:litestream/configuration@0.3.0").unwrap();
    let index = instance.get_export_index(&mut store, Some(&iface), name).unwrap();
    let func = instance.get_func(&mut store, index).unwrap();
    let mut out = [Val::Bool(false)];
    func.call(&mut store, args, &mut out).unwrap();
    assert!(matches!(&out[0], Val::Result(Ok(_))), "{name} did not answer ok");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeats: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(51);
    let engine = Engine::new(&engine_config::config(None).unwrap()).unwrap();
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let wasm = std::fs::read(&args[1]).expect("the component");
    let t = Instant::now();
    let jit = Component::new(&engine, &wasm).unwrap();
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let cwasm = std::fs::read(&args[2]).expect("the precompiled artefact");
    // SAFETY: the artefact host/build.rs wrote for this target with the same configuration.
    let aot = unsafe { Component::deserialize(&engine, &cwasm) }.unwrap();
    let mut out: Vec<(String, f64)> = vec![("jit_compile_ms".into(), compile_ms)];
    let calls: [(&str, &str, Vec<Val>); 3] = [
        ("check_1", "check", vec![request(1)]),
        ("render_1", "render", vec![request(1), Val::Option(None)]),
        ("render_100", "render", vec![request(100), Val::Option(None)]),
    ];
    for (label, name, args) in &calls {
        call(&engine, &linker, &jit, name, args);
        call(&engine, &linker, &aot, name, args);
        let (mut j, mut a) = (Vec::new(), Vec::new());
        for _ in 0..repeats {
            for (side, times) in [(&jit, &mut j), (&aot, &mut a)] {
                let t = Instant::now();
                call(&engine, &linker, side, name, args);
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        out.push((format!("{label}_jit_us"), median(j)));
        out.push((format!("{label}_aot_us"), median(a)));
    }
    let body: Vec<String> = out.iter().map(|(k, v)| format!("\"{k}\":{v:.3}")).collect();
    println!("{{{}}}", body.join(","));
}
