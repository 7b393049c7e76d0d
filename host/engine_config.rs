// Shared by host/build.rs and tests/build.rs, which compile components ahead of time,
// and by the host's runtime, which loads what they compiled: an artefact loads only
// into an engine configured exactly as the one that compiled it, so the configuration
// is written once, here. Each knob is chosen for a component that makes small, pure
// decisions:
// - fuel, not a wall-clock deadline: a call's budget is counted in instructions, so
//   whether a legitimate call fits depends on its input alone, never on how busy the
//   machine is, and a hostile endless loop still ends, at the same point every time;
// - modest memory reservations, so that the many short-lived stores stay cheap;
// - no address map from native code back to wasm offsets: it only serves wasm
//   backtraces, which the host never shows (a trap is reported by its kind), and it
//   was a third of the compiled rules' size.

/// The wasmtime configuration of every engine that compiles or runs the rules, for
/// `target` (a target triple; None for the machine running this code).
pub fn config(target: Option<&str>) -> wasmtime::Result<wasmtime::Config> {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(true);
    config.memory_reservation(64 << 20);
    config.memory_guard_size(64 << 10);
    config.generate_address_map(false);
    if let Some(target) = target {
        config.target(target)?;
    }
    Ok(config)
}

/// What wasmtime compiles for when building for the target triple `target`: the target
/// itself, or Pulley, wasmtime's portable interpreter, where Cranelift has no backend
/// (32-bit ARM, x86 and RISC-V). wasmtime's runtime on such a target runs Pulley by
/// itself (its build script makes Pulley the default target there), so the artefact
/// compiled for it loads. The build scripts use this; the runtime's tests check it.
#[allow(dead_code)]
pub fn compile_target(target: &str) -> &str {
    let arch = target.split('-').next().unwrap_or(target);
    let arm32 = arch.starts_with("arm") || arch.starts_with("thumb");
    if arm32 || matches!(arch, "i586" | "i686") || arch.starts_with("riscv32") { "pulley32" } else { target }
}
