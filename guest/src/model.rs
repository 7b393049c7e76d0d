//! The contract's plain types (the `contract` crate, shared with the host and the
//! tests), so the rules never see generated ones.

pub use contract::*;
