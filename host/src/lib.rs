//! The native host: every effect (files, processes, network, HTTP) lives here; every
//! decision is asked of the rules component (`rules`). The layers, top down:
//! `commands` (one module per subcommand) use `status` (the HTTP view), `lease` (one
//! writer per replica), `follow`
//! (read-only followers), `supervisor` (the Litestream child), `replica` (evidence
//! gathered beside it), `recovery` (restore and verify), `config` (inputs to requests),
//! `litestream` (the binary, its control socket) and `util`; every layer may ask
//! `rules`.

pub mod cli;
pub mod commands;
pub mod config;
pub mod follow;
pub mod lease;
pub mod litestream;
pub mod recovery;
pub mod replica;
pub mod rules;
pub mod status;
pub mod supervisor;
pub mod util;
