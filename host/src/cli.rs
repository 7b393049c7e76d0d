//! The command line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "datasette-litestream",
    version,
    about = "Keeps Datasette's SQLite databases replicated with Litestream"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Print the litestream.yml (and environment) that `run` would start Litestream with.
    Render(RenderArgs),
    /// Keep the databases replicated with Litestream until stopped.
    Run(RunArgs),
    /// Keep read-only copies of the databases following their replicas (Litestream 0.5).
    Follow(FollowArgs),
    /// Restore replicated databases from their replicas with `litestream restore`.
    Restore(RestoreArgs),
    /// Prove each replica restores intact and up to date (a sentinel row round trip).
    Verify(VerifyArgs),
    /// Write the embedded rules component (.wasm) to a file.
    Component {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Where the configuration comes from: the arguments you would give `datasette`.
#[derive(Args, Debug, Clone)]
pub struct Sources {
    /// Database files, as given to `datasette`.
    pub files: Vec<PathBuf>,
    /// Datasette metadata file (JSON or YAML), as `datasette -m`.
    #[arg(short = 'm', long)]
    pub metadata: Option<PathBuf>,
    /// Datasette config file (JSON or YAML), as `datasette -c`.
    #[arg(short = 'c', long)]
    pub config: Option<PathBuf>,
    /// Path to the litestream binary (else LITESTREAM_BIN, else PATH).
    #[arg(long)]
    pub litestream: Option<PathBuf>,
}

#[derive(Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Show secret values instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Render for this Litestream version (such as 0.3.13 or 0.5.17) instead of asking the binary.
    #[arg(long)]
    pub litestream_version: Option<String>,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Read the plugin config and databases as JSON on stdin, and stop when stdin closes
    /// (how the Datasette plugin runs the host).
    #[arg(long, conflicts_with_all = ["files", "metadata", "config"])]
    pub stdin: bool,
    /// How long Litestream may take for its final sync after SIGTERM before it is
    /// interrupted (0.5) or killed; by default the config's `shutdown-sync-timeout`
    /// plus 5 s on Litestream 0.5 (35 s unless set), 10 s on 0.3.
    #[arg(long, value_parser = parse_duration)]
    pub grace_period: Option<Duration>,
    #[command(flatten)]
    pub status: StatusArgs,
    /// Before replicating, restore every configured database whose file is missing
    /// (an empty replica is a fresh start; an unreachable one stops start-up).
    #[arg(long)]
    pub restore_if_missing: bool,
    /// How long start-up may wait for Litestream to be replicating.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub startup_timeout: Duration,
}

#[derive(Args)]
pub struct FollowArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Read the plugin config and databases as JSON on stdin, and stop when stdin closes
    /// (how the Datasette plugin runs a follower).
    #[arg(long, conflicts_with_all = ["files", "metadata", "config"])]
    pub stdin: bool,
    /// Restore each database once (making its path the follower's symlink) and exit:
    /// the first command on a fresh follower node, before Datasette starts.
    #[arg(long, conflicts_with = "stdin")]
    pub init: bool,
    /// How often `restore -f` asks the replica for new transactions.
    #[arg(long, env = "DATASETTE_LITESTREAM_FOLLOW_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub follow_interval: Duration,
    /// How often the replica's newest transaction is compared with the follower's:
    /// the resolution of the staleness, one replica listing per database each time.
    #[arg(long, env = "DATASETTE_LITESTREAM_LOOK_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub look_interval: Duration,
    /// How long a follower may stay behind a moving replica before it is restored
    /// again from scratch (history compacted away, or starved of its lock).
    #[arg(long, env = "DATASETTE_LITESTREAM_STUCK_AFTER", default_value = "60s", value_parser = parse_duration)]
    pub stuck_after: Duration,
    /// How long `restore -f` may take to stop after SIGTERM before SIGKILL.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub grace_period: Duration,
    #[command(flatten)]
    pub status: StatusArgs,
}

/// Where the status view is served (`run` and `follow`).
#[derive(Args)]
pub struct StatusArgs {
    /// Serve the status view (/-/litestream-status, .json, /-/litestream-health) on HOST:PORT.
    #[arg(long = "status-addr", value_name = "HOST:PORT")]
    pub addr: Option<std::net::SocketAddr>,
    /// Bearer token the status view requires (needed to bind a non-loopback address).
    #[arg(long = "status-token", env = "LITESTREAM_STATUS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Also serve the status view on this Unix socket. With --stdin it is served
    /// anyway, in the host's private directory unless given here; the ready line
    /// names it (how the Datasette plugin reads it).
    #[arg(long = "status-socket", value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Only these databases (by Datasette name); an empty replica is then an error.
    #[arg(long = "database", value_name = "NAME")]
    pub databases: Vec<String>,
    /// Replace existing database files (after the restored copy passed integrity_check).
    #[arg(long)]
    pub force: bool,
    /// Restore to this point in time (RFC 3339, passed to `litestream restore -timestamp`).
    #[arg(long)]
    pub timestamp: Option<String>,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// How long to wait for the sentinel row to reach each replica.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Print the outcomes as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `10s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) =
        text.split_at(text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len()));
    let n: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 10s or 500ms"))?;
    let seconds = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; use ms, s or m")),
    };
    Ok(Duration::from_secs_f64(seconds))
}
