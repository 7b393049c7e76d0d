//! Thin entry point: parse, run, print an error once, choose the exit code.

use clap::Parser;
use datasette_litestream::cli::{Cli, Command};
use datasette_litestream::commands;
use datasette_litestream::config::inputs::InputError;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    datasette_litestream::util::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Render(args) => commands::render::render(args).await,
            Command::Run(args) => commands::run::run(args).await,
            Command::Follow(args) => commands::follow::follow(args).await,
            Command::Restore(args) => commands::restore::restore(args).await,
            Command::Verify(args) => commands::verify::verify(args).await,
            Command::Component { out } => commands::component(&out),
        }
    });
    // A blocking stdin read (--stdin) must not hold the exit: leave it behind.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            let input = e.chain().find_map(|c| c.downcast_ref::<InputError>());
            ExitCode::from(input.map_or(1, InputError::exit_code))
        }
    }
}
