//! The host's side of contract `datasette:litestream@0.3.0`: the only place that sees
//! wasmtime's generated types. `contract::conversions!` converts each record and
//! variant to and from the contract crate's plain type (the same list the guest
//! expands); one that misses a field or a case does not compile.

pub mod bindings {
    // host/wit is a link to the workspace's wit/, so that an sdist (which packs only
    // the host crate) carries the contract too.
    wasmtime::component::bindgen!({ world: "rules-component", path: "wit" });
}

use bindings::datasette::litestream::types;
use bindings::exports::datasette::litestream::{
    durability, follow, health, lease, membership, metrics, replication, restore,
};

contract::conversions!();
