// Shared by host/build.rs and tests/build.rs: compiles a component ahead of time with
// the wasmtime configuration the host runs it with (`engine_config.rs`, which the
// including build script declares as a module beside this one).

/// `wasm` compiled for the target triple `target` (for Pulley where Cranelift has no
/// backend). A failure fails the build, never a user's start-up.
pub fn precompile(wasm: &[u8], target: &str) -> Vec<u8> {
    let target = crate::engine_config::compile_target(target);
    let config = crate::engine_config::config(Some(target))
        .unwrap_or_else(|e| panic!("wasmtime cannot compile for {target}: {e}"));
    let engine = wasmtime::Engine::new(&config).expect("the wasmtime configuration is valid");
    engine
        .precompile_component(wasm)
        .unwrap_or_else(|e| panic!("cannot compile the component for {target}: {e}"))
}
