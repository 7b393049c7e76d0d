//! The one wasmtime Engine of the process, and the compiled rules component.
//!
//! Each knob is chosen for a component that makes small, pure decisions:
//! - epoch interruption, not fuel: a deadline in wall-clock terms costs less per
//!   instruction and needs one ticker thread for the whole process;
//! - compiled code cached on disk (private directory, keyed by the component's bytes
//!   and the engine's compatibility hash): JIT-compiling at every start costs ~120 ms,
//!   loading the cached artifact well under a millisecond.

use crate::cache;
use anyhow::{Context, Result};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// How often the epoch advances; a call's deadline is counted in these ticks.
pub const TICK: Duration = Duration::from_millis(10);

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        // Small guests: keep reservations modest so many short-lived stores stay cheap.
        config.memory_reservation(64 << 20);
        config.memory_guard_size(64 << 10);
        let engine = Engine::new(&config).expect("the wasmtime configuration is valid");
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .expect("cannot start the epoch ticker thread");
        engine
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
    if path.exists() {
        // SAFETY: the file lives in a directory only this user can write (0700), was
        // written by `Engine::precompile_component` of this same engine build (its
        // name carries the compatibility hash) and renamed into place atomically.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &path) } {
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
