//! The golden runner: each case in tests/cases (see its README) runs through the
//! `render` command (the compiled component) and, for render cases, through the same
//! rules compiled natively; all must agree with the expected files.

use datasette_litestream::config::{credentials, inputs, prepare};
use datasette_litestream::rules::{self, Rules};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tests::{binary, root};

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("tests/cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[test]
fn at_least_forty_cases_of_each_shape() {
    let all = cases();
    assert!(all.len() >= 40, "only {} golden cases", all.len());
    assert!(all.iter().any(|c| c.join("expected-errors.txt").exists()));
    assert!(all.iter().any(|c| c.join("expected-redacted.yml").exists()));
    assert!(all.iter().any(|c| c.join("expected-change.txt").exists()));
}

#[test]
fn golden_cases() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let result = if case.join("args").exists() {
            render_case(&case)
        } else if case.join("credentials-input.txt").exists() {
            parse_case(&case)
        } else if case.join("current.json").exists() {
            compare_case(&case)
        } else {
            Err("not a case: it has no args, credentials-input.txt or current.json (tests/cases/README.md)"
                .into())
        };
        ran += 1;
        if let Err(why) = result {
            failures.push(format!("--- {name}:\n{why}"));
        }
    }
    // Every folder ran (an unrecognised one failed above); none went missing.
    assert_eq!(ran, cases().len());
    assert!(ran >= 100, "ran only {ran} cases");
    assert!(failures.is_empty(), "{} of {ran} golden cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// A copy of the case with @CASE@ substituted and its database files created.
struct Prepared {
    _dir: tempfile::TempDir,
    path: PathBuf,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    version: String,
}

fn prepare_case(case: &Path) -> Prepared {
    let (dir, path) = tests::tempdir();
    copy_dir(case, &path, &path.display().to_string());
    let args: Vec<String> = shlex(&std::fs::read_to_string(path.join("args")).unwrap());
    let mut prev = "";
    for a in &args {
        if !a.starts_with('-') && !matches!(prev, "-m" | "-c" | "--metadata" | "--config") {
            let file = path.join(a);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let c = rusqlite::Connection::open(&file).unwrap();
            c.execute_batch("create table if not exists t(id integer primary key)").unwrap();
        }
        prev = a;
    }
    let env = std::fs::read_to_string(path.join("env"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let version = std::fs::read_to_string(path.join("litestream-version"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|_| "v0.3.13".into());
    Prepared { _dir: dir, path, args, env, version }
}

fn shlex(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

/// Copies `from` into `to`, writing the case root `root` for every @CASE@.
fn copy_dir(from: &Path, to: &Path, root: &str) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target, root);
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        let bytes = match String::from_utf8(bytes) {
            Ok(text) => text.replace("@CASE@", root).into_bytes(),
            Err(e) => e.into_bytes(),
        };
        std::fs::write(&target, bytes).unwrap();
        let mode = entry.metadata().unwrap().permissions().mode();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

fn render_case(case: &Path) -> Result<(), String> {
    let p = prepare_case(case);
    let run = |show: bool| {
        let mut cmd = Command::new(binary());
        cmd.current_dir(&p.path).arg("render").args(&p.args).args(["--litestream-version", &p.version]);
        if show {
            cmd.arg("--show-secrets");
        }
        cmd.envs(&p.env).env_remove("LITESTREAM_BIN");
        let out = cmd.output().unwrap();
        let unsub = |b: &[u8]| String::from_utf8_lossy(b).replace(&p.path.display().to_string(), "@CASE@");
        (out.status.code(), unsub(&out.stdout), unsub(&out.stderr))
    };
    let (code, stdout, stderr) = run(true);
    let expected = |f: &str| std::fs::read_to_string(case.join(f)).ok();
    match (expected("expected.yml"), expected("expected-errors.txt")) {
        (Some(want), _) => same("stdout", &want, &stdout, code == Some(0), &stderr)?,
        (None, Some(want)) => same("stderr", &want, &stderr, code == Some(2), &stdout)?,
        _ => return Err("no expected.yml or expected-errors.txt".into()),
    }
    if let Some(want) = expected("expected-redacted.yml") {
        let (code, stdout, stderr) = run(false);
        same("redacted stdout", &want, &stdout, code == Some(0), &stderr)?;
    }
    native_agrees(&p, &case.file_name().unwrap().to_string_lossy())
}

fn same(what: &str, want: &str, got: &str, exit_ok: bool, other: &str) -> Result<(), String> {
    if want == got && exit_ok {
        return Ok(());
    }
    Err(format!(
        "{what} differs (exit ok: {exit_ok})\n--- expected\n{want}--- got\n{got}--- other stream\n{other}"
    ))
}

/// The component and the natively compiled rules give identical answers.
fn native_agrees(p: &Prepared, name: &str) -> Result<(), String> {
    let env = |k: &str| p.env.get(k).cloned().or_else(|| std::env::var(k).ok());
    let (files, metadata, config) = split_args(&p.args);
    let Ok(inputs) = inputs::load(&files, metadata.as_deref(), config.as_deref(), &p.path, &env) else {
        return Ok(()); // unreadable inputs never reach the rules
    };
    let request = prepare::request(&inputs, &p.version, None);
    let rules = Rules::builtin().unwrap();
    let wasm = rules.check(&request).unwrap();
    let local = datasette_litestream_rules::plan::plan(&request);
    let plan = match (wasm, local) {
        (Err(a), Err(b)) => {
            crate::cross_runtime::render_case(name, &request, None);
            configure_agrees(rules, &request, None)?;
            return equal("check errors", &errors(&a), &errors(&b));
        }
        (Ok(a), Ok(b)) => {
            equal("replicated", &a.replicated, &b.replicated)?;
            equal("warnings", &a.warnings, &b.warnings)?;
            a
        }
        (a, b) => return Err(format!("check disagrees: component {a:?}, native {b:?}")),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let creds = match rt.block_on(credentials::read(&plan.credentials_source, &p.path)) {
        Ok(Some(text)) => match rules.parse_credentials(&text).unwrap() {
            Ok(c) => Some(c),
            Err(_) => return Ok(()),
        },
        _ => None,
    };
    crate::cross_runtime::render_case(name, &request, creds.as_ref());
    configure_agrees(rules, &request, creds.as_ref())?;
    compare_render(rules, &request, creds)
}

/// `configure` answers what `check` and `render` answer, on one validation, in the
/// component and natively.
fn configure_agrees(
    rules: &Rules,
    request: &rules::Request,
    creds: Option<&rules::Credentials>,
) -> Result<(), String> {
    let wasm = rules.configure(request, creds).unwrap();
    equal("configure", &wasm, &datasette_litestream_rules::plan::configure(request, creds))?;
    match (wasm, rules.check(request).unwrap()) {
        (Ok(c), Ok(plan)) => {
            equal("configure's plan", &c.plan, &plan)?;
            let at_hand = creds.is_some() || plan.credentials_source == rules::CredentialsSource::None;
            let rendered = match plan.start_litestream && at_hand {
                true => Some(
                    rules
                        .render(request, creds)
                        .unwrap()
                        .map_err(|e| format!("render failed: {:?}", errors(&e)))?,
                ),
                false => None,
            };
            equal("configure's rendered", &c.rendered, &rendered)
        }
        (Err(a), Err(b)) => equal("configure errors", &errors(&a), &errors(&b)),
        (a, b) => Err(format!("configure disagrees with check: {a:?} vs {b:?}")),
    }
}

fn compare_render(
    rules: &Rules,
    request: &rules::Request,
    creds: Option<rules::Credentials>,
) -> Result<(), String> {
    let wasm = rules.render(request, creds.as_ref()).unwrap();
    let local = datasette_litestream_rules::plan::render(request, creds.as_ref());
    match (wasm, local) {
        (Ok(a), Ok(b)) => {
            equal("document", &a.document, &b.document)?;
            equal("environment", &a.environment, &b.environment)?;
            equal("startup", &a.startup, &b.startup)?;
            equal("secrets", &a.secrets, &b.secrets)?;
            let redacted = rules.redact(&a.document).unwrap();
            equal("redacted", &redacted, &datasette_litestream_rules::redact::document(&b.document))
        }
        (Err(a), Err(b)) => equal("render errors", &errors(&a), &errors(&b)),
        (a, b) => Err(format!("render disagrees: component {a:?}, native {b:?}")),
    }
}

fn split_args(args: &[String]) -> (Vec<PathBuf>, Option<PathBuf>, Option<PathBuf>) {
    let (mut files, mut metadata, mut config) = (Vec::new(), None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-m" | "--metadata" => metadata = it.next().map(PathBuf::from),
            "-c" | "--config" => config = it.next().map(PathBuf::from),
            f => files.push(PathBuf::from(f)),
        }
    }
    (files, metadata, config)
}

fn equal<T: PartialEq + std::fmt::Debug>(what: &str, a: &T, b: &T) -> Result<(), String> {
    if a == b { Ok(()) } else { Err(format!("component and native disagree on {what}:\n{a:#?}\nvs\n{b:#?}")) }
}

fn errors(list: &[rules::ConfigError]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

fn parse_case(case: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(case.join("credentials-input.txt")).unwrap();
    crate::cross_runtime::parse_case(&case.file_name().unwrap().to_string_lossy(), &text);
    let want = std::fs::read_to_string(case.join("expected-credentials.txt")).unwrap();
    let got = match Rules::builtin().unwrap().parse_credentials(&text).unwrap() {
        Ok(c) => format!(
            "access-key-id: {}\nsecret-access-key: {}\nsession-token: {}\n",
            c.access_key_id,
            c.secret_access_key,
            c.session_token.as_deref().unwrap_or("(none)")
        ),
        Err(e) => format!("error: {}\n", rules::credentials_problem(&e)),
    };
    let native = match datasette_litestream_rules::credentials::parse(&text) {
        Ok(c) => format!(
            "access-key-id: {}\nsecret-access-key: {}\nsession-token: {}\n",
            c.access_key_id,
            c.secret_access_key,
            c.session_token.as_deref().unwrap_or("(none)")
        ),
        Err(e) => format!("error: {}\n", rules::credentials_problem(&e)),
    };
    equal("parsed credentials", &got, &native)?;
    equal("expected-credentials.txt", &want.trim_end().to_owned(), &got.trim_end().to_owned())
}

fn compare_case(case: &Path) -> Result<(), String> {
    let rules = Rules::builtin().unwrap();
    let read = |f: &str| {
        let text = std::fs::read_to_string(case.join(f)).unwrap();
        rules.parse_credentials(&text).unwrap().map_err(|e| format!("{f}: {e:?}"))
    };
    let (current, fresh) = (read("current.json")?, read("fresh.json")?);
    let change = rules.compare_credentials(&current, &fresh).unwrap();
    crate::cross_runtime::compare_case(&case.file_name().unwrap().to_string_lossy(), &current, &fresh);
    let got = format!("changed: {}\nfields: {}", change.changed, change.fields.names().join(", "));
    let want = std::fs::read_to_string(case.join("expected-change.txt")).unwrap();
    equal("expected-change.txt", &want.trim_end().to_owned(), &got.trim_end().to_owned())
}
