// Shared by host/build.rs and tests/build.rs: builds a crate for wasm32-wasip2 in a
// target directory of its own (the outer build holds the workspace's lock) and
// returns the component's path.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn build_component(root: &Path, manifest: &Path, crate_name: &str, profile: &str) -> PathBuf {
    let target_dir = root.join("target").join("wasm-components");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args(["build", "--manifest-path"]).arg(manifest);
    cmd.args(["--target", "wasm32-wasip2", "--profile", profile]);
    // What the outer build sets for the host target must not leak into the guest's.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    // Nor may the outer build's profile or target settings (maturin sets some for the
    // wheels): the component must come out byte for byte the same from a plain
    // `cargo build`, from maturin and from a cross build for another platform.
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        if ["CARGO_PROFILE_", "CARGO_BUILD_", "CARGO_TARGET_"].iter().any(|p| name.starts_with(p)) {
            cmd.env_remove(&var);
        }
    }
    cmd.env("CARGO_TARGET_DIR", &target_dir);
    let status = cmd.status().expect("cannot run cargo to build the wasm component");
    if !status.success() {
        panic!(
            "cannot build {crate_name} for wasm32-wasip2 ({status}); if the target is missing, \
             run `rustup target add wasm32-wasip2` (scripts/setup does it)"
        );
    }
    let dir = if profile == "dev" { "debug" } else { profile };
    target_dir.join("wasm32-wasip2").join(dir).join(format!("{crate_name}.wasm"))
}
