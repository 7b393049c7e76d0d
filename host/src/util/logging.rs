//! Diagnostics go to stderr through `tracing`; DATASETTE_LITESTREAM_LOG, else RUST_LOG,
//! sets the level: `debug`, or per target, `datasette_litestream=debug,info`.
//! (`Targets` rather than `EnvFilter`: the same directives without span and field
//! filters, which the host never needs, and without a regex engine in the binary.)

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init() {
    let from = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<Targets>().ok());
    let filter = from("DATASETTE_LITESTREAM_LOG")
        .or_else(|| from("RUST_LOG"))
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
}
