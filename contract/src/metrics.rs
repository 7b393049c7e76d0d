//! The `metrics` interface: Litestream's Prometheus text, digested.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Operation {
    pub replica_type: String,
    pub operation: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct NamedValue {
    pub name: String,
    pub replica: Option<String>,
    pub status: Option<String>,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DatabaseMetrics {
    pub database: String,
    pub values: Vec<NamedValue>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Digest {
    pub goroutines: Option<f64>,
    pub threads: Option<f64>,
    pub operation_bytes: Vec<Operation>,
    pub operation_counts: Vec<Operation>,
    pub databases: Vec<DatabaseMetrics>,
}
