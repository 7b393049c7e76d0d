//! Builds the rules component for wasm32-wasip2, compiles it ahead of time for the
//! target being built, and leaves both in OUT_DIR for `include_bytes!`: one `cargo
//! build` yields a host that carries its rules compiled (it has no compiler itself) and
//! the portable component (for `component --out` and other runtimes).

#[path = "engine_config.rs"]
mod engine_config;
#[path = "precompile.rs"]
mod precompile;
#[path = "wasm_build.rs"]
mod wasm_build;

use std::path::PathBuf;

fn main() {
    let host = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = host.parent().unwrap().to_path_buf();
    for watched in [
        "guest/src",
        "guest/Cargo.toml",
        "wit",
        "Cargo.toml",
        "host/wasm_build.rs",
        "host/engine_config.rs",
        "host/precompile.rs",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    // A source distribution carries the component already built (scripts/wheels puts it
    // here while it packs one), so a user building from it needs neither the
    // wasm32-wasip2 target nor wit-bindgen. A checkout has no such file: it builds the guest.
    let prebuilt = host.join("prebuilt").join("rules.wasm");
    let wasm = if prebuilt.is_file() {
        // Watched only when present: cargo takes a watched file that does not exist for
        // a change, and would rerun this script and rebuild the host on every build.
        println!("cargo:rerun-if-changed={}", prebuilt.display());
        println!("cargo:warning=using the prebuilt rules component {}", prebuilt.display());
        prebuilt
    } else {
        wasm_build::build_component(
            &root,
            &root.join("guest/Cargo.toml"),
            "datasette_litestream_rules",
            "guest",
        )
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::copy(&wasm, out.join("rules.wasm")).expect("cannot copy the rules component into OUT_DIR");
    let target = std::env::var("TARGET").unwrap();
    let compiled = precompile::precompile(&std::fs::read(&wasm).unwrap(), &target);
    std::fs::write(out.join("rules.cwasm"), compiled).expect("cannot write the compiled rules into OUT_DIR");
}
