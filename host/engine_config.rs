// Shared by host/build.rs and tests/build.rs, which compile components ahead of time,
// and by the host's runtime, which loads what they compiled: an artefact loads only
// into an engine configured exactly as the one that compiled it, so the configuration
// is written once, here. Each knob is chosen for a component that makes small, pure
// decisions:
// - fuel, not a wall-clock deadline: a call's budget is counted in instructions, so
//   whether a legitimate call fits depends on its input alone, never on how busy the
//   machine is, and a hostile endless loop still ends, at the same point every time;
// - modest memory reservations, so that the many short-lived stores stay cheap.

/// The wasmtime configuration of every engine that compiles or runs the rules, for
/// `target` (a target triple; None for the machine running this code).
pub fn config(target: Option<&str>) -> wasmtime::Result<wasmtime::Config> {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(true);
    config.memory_reservation(64 << 20);
    config.memory_guard_size(64 << 10);
    if let Some(target) = target {
        config.target(target)?;
    }
    Ok(config)
}
