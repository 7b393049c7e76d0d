//! Reading a credentials source: the file's text or the command's standard output.
//! Parsing and comparing are rules, asked of the component by the caller.

use crate::rules::CredentialsSource;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;

pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a failing command's stderr an error shows.
const STDERR_SHOWN: usize = 400;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("credentials-file {path}: cannot read it: {source}")]
    File { path: String, source: std::io::Error },
    #[error("credentials-command {program}: cannot start it: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("credentials-command {program}: {status}{stderr}")]
    Failed { program: String, status: String, stderr: String },
    #[error("credentials-command {program}: did not finish within {} s; it was killed", COMMAND_TIMEOUT.as_secs())]
    Timeout { program: String },
}

/// Names the source in messages without its arguments (they may carry secrets).
pub fn describe(source: &CredentialsSource) -> String {
    match source {
        CredentialsSource::None => "no credentials source".into(),
        CredentialsSource::File(path) => format!("credentials-file {path}"),
        CredentialsSource::Command(argv) => {
            format!("credentials-command {}", argv.first().map_or("", |s| s))
        }
    }
}

/// The text the source yields now; `None` when there is no dynamic source.
/// Relative paths (the file, or `./script` as the command) resolve against `cwd`,
/// Datasette's working directory.
pub async fn read(source: &CredentialsSource, cwd: &Path) -> Result<Option<String>, SourceError> {
    match source {
        CredentialsSource::None => Ok(None),
        CredentialsSource::File(path) => tokio::fs::read_to_string(cwd.join(path))
            .await
            .map(Some)
            .map_err(|source| SourceError::File { path: path.clone(), source }),
        CredentialsSource::Command(argv) => run(argv, cwd).await.map(Some),
    }
}

async fn run(argv: &[String], cwd: &Path) -> Result<String, SourceError> {
    let program = argv[0].clone();
    let mut child = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| SourceError::Spawn { program: program.clone(), source })?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let work = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (_, _, status) =
            tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err), child.wait());
        (out, err, status)
    };
    let Ok((out, err, status)) = tokio::time::timeout(COMMAND_TIMEOUT, work).await else {
        return Err(SourceError::Timeout { program });
    };
    let status = status.map_err(|source| SourceError::Spawn { program: program.clone(), source })?;
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        let text = text.trim();
        let shown = match text.char_indices().nth(STDERR_SHOWN) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        };
        let stderr = if shown.is_empty() { String::new() } else { format!("; its stderr: {shown}") };
        let status = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => format!("was killed ({status})"),
        };
        return Err(SourceError::Failed { program, status, stderr });
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}
