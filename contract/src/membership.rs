//! The `membership` interface: databases added or removed while running.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Admission {
    pub databases: Vec<Database>,
    pub plan: Plan,
    pub refused: Vec<ConfigError>,
    pub rendered: Option<Rendered>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Registration {
    pub path: String,
    pub replica_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InPlaceChange {
    pub unregister: Vec<String>,
    pub register: Vec<Registration>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum Change {
    Unchanged,
    Start,
    Stop,
    InPlace(InPlaceChange),
    Restart(String),
}
