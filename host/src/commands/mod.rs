//! One module per subcommand; each returns the process exit code.

pub mod follow;
pub mod render;
pub mod restore;
pub mod run;
pub mod verify;

use crate::cli::Sources;
use crate::config::inputs::{self, Inputs};
use anyhow::{Context, Result};

/// Inputs from `datasette`-style arguments, resolved against this process's directory and environment.
pub fn inputs_from(sources: &Sources) -> Result<Inputs> {
    let cwd = std::env::current_dir().context("cannot find the current directory")?;
    let env = |k: &str| std::env::var(k).ok();
    Ok(inputs::load(&sources.files, sources.metadata.as_deref(), sources.config.as_deref(), &cwd, &env)?)
}

/// What `restore` and `verify` work from: the rules, the prepared configuration for
/// the Litestream found, and a private directory for its config and copies.
pub struct Offline {
    pub rules: &'static crate::rules::Rules,
    pub prepared: crate::config::prepare::Prepared,
    pub litestream: crate::litestream::Litestream,
    pub dir: crate::util::private_dir::PrivateDir,
}

/// Builds an `Offline`; a configuration or credentials problem is printed once and
/// becomes the exit code.
pub async fn offline(sources: &Sources) -> Result<std::result::Result<Offline, u8>> {
    let inputs = inputs_from(sources)?;
    let rules = crate::rules::Rules::builtin()?;
    let litestream = crate::litestream::find(sources.litestream.as_deref()).await?;
    let request = crate::config::prepare::request(&inputs, &litestream.version, None);
    let prepared = match prepared(rules, request).await {
        Ok(p) => p,
        Err(code) => return Ok(Err(code)),
    };
    let dir =
        crate::util::private_dir::PrivateDir::create().context("cannot create the private directory")?;
    Ok(Ok(Offline { rules, prepared, litestream, dir }))
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
) -> Result<crate::config::prepare::Prepared, u8> {
    match crate::config::prepare::prepare(rules, request).await {
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
