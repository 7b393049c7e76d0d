//! One module per subcommand; each returns the process exit code.

pub mod render;
pub mod restore;
pub mod run;
pub mod verify;

use crate::cli::Sources;
use crate::inputs::{self, Inputs};
use anyhow::{Context, Result};

/// Inputs from `datasette`-style arguments, resolved against this process's directory and environment.
pub fn inputs_from(sources: &Sources) -> Result<Inputs> {
    let cwd = std::env::current_dir().context("cannot find the current directory")?;
    let env = |k: &str| std::env::var(k).ok();
    Ok(inputs::load(&sources.files, sources.metadata.as_deref(), sources.config.as_deref(), &cwd, &env)?)
}

/// `component --out FILE`: the exact rules component this binary embeds.
pub fn component(out: &std::path::Path) -> Result<u8> {
    std::fs::write(out, crate::rules::COMPONENT)
        .with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("wrote the rules component ({} bytes) to {}", crate::rules::COMPONENT.len(), out.display());
    Ok(0)
}

/// Asks the rules and reads the credentials, printing warnings; a configuration or
/// credentials problem is printed once and becomes the exit code.
pub async fn prepared(
    rules: &crate::rules::Rules,
    request: crate::rules::Request,
) -> Result<crate::prepare::Prepared, u8> {
    match crate::prepare::prepare(rules, request).await {
        Ok(p) => {
            for w in &p.plan.warnings {
                eprintln!("warning: {w}");
            }
            Ok(p)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(e.exit_code())
        }
    }
}
