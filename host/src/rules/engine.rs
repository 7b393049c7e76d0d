//! The one wasmtime Engine of the process, and the compiled rules component.
//!
//! Each knob is chosen for a component that makes small, pure decisions:
//! - fuel, not a wall-clock deadline: a call's budget is counted in instructions, so
//!   whether a legitimate call fits depends on its input alone, never on how busy the
//!   machine is (a deadline made a large render fail on a loaded machine), and a
//!   hostile endless loop still ends, at the same point every time;
//! - compiled code cached on disk (private directory, keyed by the component's bytes
//!   and the engine's compatibility hash): JIT-compiling at every start costs ~120 ms,
//!   loading the cached artifact well under a millisecond.

use crate::cache;
use anyhow::{Context, Result};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::OnceLock;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(true);
        // Small guests: keep reservations modest so many short-lived stores stay cheap.
        config.memory_reservation(64 << 20);
        config.memory_guard_size(64 << 10);
        Engine::new(&config).expect("the wasmtime configuration is valid")
    })
}

/// Compiles `wasm`, or loads the compiled artifact cached for exactly these bytes.
pub fn component(wasm: &[u8]) -> Result<Component> {
    let engine = engine();
    let Some(path) = cache_path(engine, wasm) else {
        return Component::new(engine, wasm)
            .map_err(anyhow::Error::from)
            .context("cannot compile the rules component");
    };
    if let Some(bytes) = cache::read_trusted(&path) {
        // SAFETY: `read_trusted` returns only a file that nobody but this user could
        // have written (private directory and file, no symlink), and this host writes
        // there only what `Engine::precompile_component` of this same engine build
        // produced (the name carries its compatibility hash), renamed into place whole.
        if let Ok(c) = unsafe { Component::deserialize(engine, &bytes) } {
            return Ok(c);
        }
    }
    let compiled = engine
        .precompile_component(wasm)
        .map_err(anyhow::Error::from)
        .context("cannot compile the rules component")?;
    if cache::write_private(&path, &compiled).is_err() {
        tracing::debug!(path = %path.display(), "cannot cache the compiled component");
    }
    // SAFETY: the bytes were produced just above by this engine.
    unsafe { Component::deserialize(engine, &compiled) }
        .map_err(anyhow::Error::from)
        .context("cannot load the rules component")
}

fn cache_path(engine: &Engine, wasm: &[u8]) -> Option<PathBuf> {
    let mut h = DefaultHasher::new();
    wasm.hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    Some(cache::dir()?.join(format!("rules-{:016x}.cwasm", h.finish())))
}
