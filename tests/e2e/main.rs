//! All end-to-end tests build as one binary (one link, one process to set up).
//!
//! - `golden`: every case in tests/cases through `render` (the component) and natively;
//! - `sandbox`: a hostile component cannot read files, the environment or the network,
//!   nor hang or exhaust the host;
//! - `run`: the supervisor against real Litestream 0.3.13 and 0.5.17;
//! - `status`: the status view, health check, token rule and redaction.

mod golden;
mod refresh;
mod run;
mod s3;
mod sandbox;
mod status;
