//! Builds the hostile test component for wasm32-wasip2 and tells the tests where it is.

#[path = "../host/wasm_build.rs"]
mod wasm_build;

use std::path::PathBuf;

fn main() {
    let tests = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = tests.parent().unwrap().to_path_buf();
    for watched in ["tests/hostile/src", "tests/hostile/Cargo.toml", "wit", "host/wasm_build.rs"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let manifest = tests.join("hostile/Cargo.toml");
    let wasm = wasm_build::build_component(&root, &manifest, "hostile", "release");
    println!("cargo:rustc-env=HOSTILE_WASM={}", wasm.display());
}
