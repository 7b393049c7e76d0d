//! The contract's values as JSON in the WIT's own terms, the shape the Python and
//! JavaScript examples use and the cross-runtime goldens compare byte for byte:
//! records as objects with kebab-case keys, enums as their case name, variants as
//! `{"tag", "val"}`, results as `{"ok"}` or `{"err"}`, flags as the names set. Every
//! type derives it (`Serialize`); results inside records and flags need the helpers
//! here.

use crate::CredentialFields;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// `{"ok": value}` or `{"err": error}`.
pub fn result<S: Serializer, T: Serialize, E: Serialize>(r: &Result<T, E>, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    match r {
        Ok(v) => map.serialize_entry("ok", v)?,
        Err(e) => map.serialize_entry("err", e)?,
    }
    map.end()
}

/// None as `null`, else as [`result`].
pub fn option_result<S: Serializer, T: Serialize, E: Serialize>(
    r: &Option<Result<T, E>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match r {
        None => s.serialize_none(),
        Some(r) => result(r, s),
    }
}

/// A top-level result (an export's answer) in the same shape.
pub fn answer<T: Serialize, E: Serialize>(r: &Result<T, E>) -> serde_json::Value {
    result(r, serde_json::value::Serializer).expect("a contract value always serialises")
}

impl Serialize for CredentialFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}
