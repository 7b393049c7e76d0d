//! Small pieces every part of the host uses: blocking work off the runtime, the clock,
//! logging, the private directory, the log buffer.

pub mod blocking;
pub mod clock;
pub mod logbuf;
pub mod logging;
pub mod pages;
pub mod private_dir;
