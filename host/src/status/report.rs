//! What the status view shows: the report behind the page, its JSON twin and the
//! Prometheus text.

use super::ReplicationReport;
use crate::rules::{ConfigError, Digest};
use crate::util::logbuf::LogLine;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub struct Report {
    pub litestream: LitestreamReport,
    /// Why Litestream is not running, when it is not.
    pub reason: Option<String>,
    pub databases: Vec<DatabaseReport>,
    /// The effective Litestream config, secrets redacted.
    pub config: Option<String>,
    pub logs: Vec<LogLine>,
    pub metrics: Option<MetricsReport>,
    /// Why there are no metrics, when there are none.
    pub metrics_note: Option<String>,
    pub health: HealthReport,
    pub warnings: Vec<String>,
    /// Databases not replicated because their own config is invalid.
    pub refused: Vec<RefusedReport>,
    /// Durable writes, per `durable-writes` database.
    pub durability: Vec<crate::replica::durability::DurabilityReport>,
    /// `lease:`: this node's role, its locks and their holders.
    pub lease: Option<crate::lease::LeaseReport>,
}

#[derive(Serialize)]
pub struct RefusedReport {
    pub database: Option<String>,
    pub key: String,
    pub problem: String,
    pub hint: Option<String>,
}

impl From<&ConfigError> for RefusedReport {
    fn from(e: &ConfigError) -> Self {
        RefusedReport {
            database: e.database.clone(),
            key: e.key.clone(),
            problem: e.problem.clone(),
            hint: e.hint.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct LitestreamReport {
    #[serde(flatten)]
    pub status: crate::supervisor::Status,
    pub uptime_seconds: Option<f64>,
}

#[derive(Serialize)]
pub struct DatabaseReport {
    pub name: String,
    pub path: String,
    pub replicated: bool,
    /// What `datasette-litestream verify` last said about it.
    pub last_verification: Option<crate::recovery::verify::Record>,
    /// How far its replica is behind it; none when not replicated or not looked at yet.
    pub replication: Option<ReplicationReport>,
    /// Whether this node is its replica's only writer, as last looked at.
    pub writers: Option<crate::replica::writers::WritersReport>,
}

#[derive(Serialize)]
pub struct MetricsReport {
    pub go: BTreeMap<&'static str, f64>,
    pub replica_operations: BTreeMap<&'static str, Vec<OperationReport>>,
    pub databases: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Serialize)]
pub struct OperationReport {
    pub replica_type: String,
    pub operation: String,
    pub value: f64,
}

#[derive(Serialize, Clone)]
pub struct HealthReport {
    pub ok: bool,
    pub reason: String,
    pub behind: Vec<String>,
}

pub(super) fn metrics_report(d: &Digest) -> MetricsReport {
    let ops = |list: &[crate::rules::Operation]| {
        list.iter()
            .map(|o| OperationReport {
                replica_type: o.replica_type.clone(),
                operation: o.operation.clone(),
                value: o.value,
            })
            .collect()
    };
    let mut go = BTreeMap::new();
    if let Some(v) = d.goroutines {
        go.insert("go_goroutines", v);
    }
    if let Some(v) = d.threads {
        go.insert("go_threads", v);
    }
    MetricsReport {
        go,
        replica_operations: BTreeMap::from([
            ("bytes", ops(&d.operation_bytes)),
            ("total", ops(&d.operation_counts)),
        ]),
        databases: d
            .databases
            .iter()
            .map(|m| (m.database.clone(), m.values.iter().map(|v| (v.key(), v.value)).collect()))
            .collect(),
    }
}
