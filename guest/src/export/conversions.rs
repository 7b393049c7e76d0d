//! The guest's side of the contract: `contract::conversions!` converts each WIT record
//! and variant to and from the `contract` crate's plain type (the same list the host
//! expands). One that misses a field or a case does not compile.

use super::wit::datasette::litestream::types;
use super::wit::exports::datasette::litestream::{
    durability, follow, health, lease, membership, metrics, replication, restore,
};

contract::conversions!();
