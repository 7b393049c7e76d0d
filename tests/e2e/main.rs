//! All end-to-end tests build as one binary (one link, one process to set up).
//!
//! - `golden`: every case in tests/cases through `render` (the component) and natively;
//!   `cross_runtime` writes each case's request and answers for the Python and JS examples;
//! - `malformed`: a seeded corpus of broken configuration exits 0 or 2, never panics;
//! - `sandbox`: a hostile component cannot read files, the environment or the network,
//!   nor hang or exhaust the host;
//! - `run`: the supervisor against real Litestream 0.3.13 and 0.5.17;
//! - `status`: the status view, health check, token rule and redaction;
//! - `lag`: replication lag with Litestream or the S3 server frozen, idle and busy;
//! - `membership`: databases added and removed while `run --stdin` runs (`driven`: the
//!   host driven through its stdin, as the plugin drives it);
//! - `follow`: read-only followers with `restore -f`, against moto and file:// replicas;
//! - `s3`, `restore_s3`: credentials and disaster recovery against moto (a real S3 server);
//! - `restore`, `refresh`: disaster recovery and credential refresh with file:// replicas;
//! - `stop`: a stop whose final sync fails exits 3, naming the database;
//! - `temporary`: temporary credentials (a session token) on every path, and the health
//!   check of a replica that refuses the key.

mod cross_runtime;
mod cross_runtime_calls;
mod cross_runtime_evidence;
mod cross_runtime_lease;
mod driven;
mod follow;
mod golden;
mod lag;
mod lease;
mod malformed;
mod membership;
mod refresh;
mod restore;
mod restore_s3;
mod run;
mod s3;
mod sandbox;
mod status;
mod stop;
mod temporary;
mod writers;
