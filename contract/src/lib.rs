//! The contract between the host and its rules component, as plain Rust: one type per
//! record, enum and variant of `wit/world.wit` (package `datasette:litestream`), with
//! the same names and fields, grouped by the WIT interface that defines them.
//!
//! The guest, the host and the tests share these types; each side's generated
//! bindings are converted to and from them once, in that side's `conversions.rs`,
//! with the macros of [`convert`]: a field or a case added to the WIT fails to compile
//! on a side until that side's list names it. No wasm, no wasmtime here.

pub mod convert;
mod durability;
mod follow;
mod health;
mod lease;
mod membership;
mod metrics;
mod replication;
mod restore;
mod types;
pub mod wit_json;
mod words;

pub use convert::Convert;
pub use durability::*;
pub use follow::*;
pub use health::*;
pub use lease::*;
pub use membership::*;
pub use metrics::*;
pub use replication::*;
pub use restore::*;
pub use types::*;

/// The version of the WIT package these types mirror.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    /// The crate's version is the WIT package's: bumping one without the other fails.
    #[test]
    fn the_crate_version_is_the_wit_packages() {
        let package = format!("package datasette:litestream@{};", super::VERSION);
        for (file, text) in [
            ("world.wit", include_str!("../../wit/world.wit")),
            ("types.wit", include_str!("../../wit/types.wit")),
            ("follow.wit", include_str!("../../wit/follow.wit")),
            ("lease.wit", include_str!("../../wit/lease.wit")),
        ] {
            assert!(text.starts_with(&package), "wit/{file} does not start with {package}");
        }
    }
}
