//! Builds the hostile test component for wasm32-wasip2 and tells the tests where it is.

#[path = "../host/engine_config.rs"]
mod engine_config;
#[path = "../host/precompile.rs"]
mod precompile;
#[path = "../host/wasm_build.rs"]
mod wasm_build;

use std::path::PathBuf;

fn main() {
    let tests = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = tests.parent().unwrap().to_path_buf();
    for watched in [
        "tests/hostile/src",
        "tests/hostile/Cargo.toml",
        "wit",
        "host/wasm_build.rs",
        "host/engine_config.rs",
        "host/precompile.rs",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let manifest = tests.join("hostile/Cargo.toml");
    let wasm = wasm_build::build_component(&root, &manifest, "hostile", "release");
    // Compiled ahead of time the same way as the host's own rules: the host has no
    // compiler to load a component any other way.
    let compiled = precompile::precompile(&std::fs::read(&wasm).unwrap(), &std::env::var("TARGET").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("hostile.cwasm");
    std::fs::write(&out, compiled).unwrap();
    println!("cargo:rustc-env=HOSTILE_CWASM={}", out.display());
}
