//! The one wasmtime Engine of the process, and the rules component it runs.
//!
//! The component arrives compiled ahead of time for this binary's target
//! (host/build.rs), with the configuration in `host/engine_config.rs` that the build
//! used too: the host carries no compiler and writes no compiled code anywhere.

#[path = "../../engine_config.rs"]
mod engine_config;

use anyhow::{Context, Result};
use std::sync::OnceLock;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The rules component compiled for this binary's target by host/build.rs.
pub static COMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rules.cwasm"));

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let config = engine_config::config(None).expect("the wasmtime configuration is valid");
        Engine::new(&config).expect("the wasmtime configuration is valid")
    })
}

/// Loads a component compiled ahead of time by `host/precompile.rs`.
///
/// # Safety
/// `compiled` must come from that precompilation (wasmtime runs its native code
/// as it is): the bytes embedded in this binary, or a test's own build.
pub unsafe fn component(compiled: &[u8]) -> Result<Component> {
    // SAFETY: the caller vouches for the bytes; wasmtime still checks that they were
    // compiled by this wasmtime version, with this configuration, for this target.
    unsafe { Component::deserialize(engine(), compiled) }
        .map_err(anyhow::Error::from)
        .context("cannot load the precompiled rules component (built by another wasmtime or configuration?)")
}

#[cfg(test)]
mod tests {
    /// A build whose embedded artefact does not fit the runtime fails here, not at a
    /// user's start-up.
    #[test]
    fn the_embedded_artefact_loads_into_this_runtime() {
        assert_eq!(
            wasmtime::Engine::detect_precompiled(super::COMPILED),
            Some(wasmtime::Precompiled::Component)
        );
        // SAFETY: the bytes host/build.rs embedded.
        unsafe { super::component(super::COMPILED) }.unwrap();
    }

    #[test]
    fn targets_without_a_cranelift_backend_are_compiled_for_pulley() {
        use super::engine_config::compile_target;
        for t in ["armv7-unknown-linux-gnueabihf", "arm-unknown-linux-gnueabi", "i686-unknown-linux-gnu"] {
            assert_eq!(compile_target(t), "pulley32", "{t}");
        }
        for t in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "aarch64-apple-darwin"] {
            assert_eq!(compile_target(t), t);
        }
    }
}
