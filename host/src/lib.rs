//! The native host: every effect (files, processes, network, HTTP) lives here; every
//! decision is asked of the rules component.

pub mod blocking;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod control_socket;
pub mod credentials;
pub mod durability;
pub mod follow;
pub mod inputs;
pub mod lag;
pub mod litestream;
pub mod logbuf;
pub mod logging;
pub mod prepare;
pub mod private_dir;
pub mod refresh;
pub mod restore;
pub mod rules;
pub mod status;
pub mod supervisor;
pub mod verify;
pub mod writers;
