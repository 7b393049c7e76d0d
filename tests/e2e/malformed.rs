//! A corpus of malformed configuration, made from the golden cases by seeded mutation:
//! wrong types at every depth, deep nesting, YAML aliases and several documents,
//! non-mapping top levels, `$file` of a missing file, numbers out of range, truncated
//! and non-UTF-8 text. `render` must answer each with exit 0 or 2 (a configuration
//! problem, docs/commands.md's table), never panic, never print a backtrace, never hang.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Fixed, so a failure names an input that can be made again.
const SEED: u64 = 0x5eed_2026_1129;
const INPUTS: usize = 400;
/// Far above any real answer (milliseconds); only a hang reaches it.
const HANG: Duration = Duration::from_secs(20);

/// xorshift64*: small, seeded, enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every golden case's configuration file, parsed.
fn seeds() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(tests::root().join("tests/cases")).unwrap().flatten() {
        for file in ["metadata.yaml", "datasette.yaml"] {
            if let Ok(text) = std::fs::read_to_string(entry.path().join(file))
                && let Ok(value) = serde_norway::from_str::<Value>(&text)
            {
                out.push((file.to_owned(), value));
            }
        }
    }
    out.sort_by_key(|(_, v)| v.to_string());
    assert!(out.len() >= 50, "the golden cases went missing: {}", out.len());
    out
}

/// A value of some other type, including the awkward ones.
fn other_value(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!("text"),
        json!(""),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(true),
        json!(null),
        json!([]),
        json!(["a", 1, null]),
        json!({}),
        json!({"unknown-key": 1}),
        json!({"$env": "DATASETTE_LITESTREAM_NO_SUCH_VARIABLE"}),
        json!({"$file": "no/such/file.txt"}),
        json!({"$env": ["not", "a", "name"]}),
        json!("s3://bucket/$NO_SUCH_VARIABLE"),
        json!("1s"),
        json!("-5s"),
    ])
    .clone()
}

/// Replaces one node, chosen at random at any depth, with another type.
fn retype(value: &mut Value, rng: &mut Rng) {
    let children = match value {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if children == 0 || rng.below(3) == 0 {
        *value = other_value(rng);
        return;
    }
    let i = rng.below(children);
    match value {
        Value::Object(m) => retype(m.values_mut().nth(i).unwrap(), rng),
        Value::Array(a) => retype(&mut a[i], rng),
        _ => unreachable!(),
    }
}

/// One malformed document (bytes, since some are not UTF-8), and what it is.
fn mutate(rng: &mut Rng, seed: &Value) -> (Vec<u8>, &'static str) {
    let yaml = |v: &Value| serde_norway::to_string(v).unwrap();
    match rng.below(12) {
        0..=3 => {
            let mut v = seed.clone();
            for _ in 0..=rng.below(3) {
                retype(&mut v, rng);
            }
            let text = if rng.below(2) == 0 { yaml(&v) } else { v.to_string() };
            (text.into_bytes(), "wrong types")
        }
        4 => {
            let depth = 200 + rng.below(20_000);
            let text = format!("plugins:\n  datasette-litestream:\n    all-replicate: {}{}\n", "[".repeat(depth), "]".repeat(depth));
            (text.into_bytes(), "deep nesting")
        }
        5 => {
            // An alias bomb: each level refers nine times to the one before.
            let mut text = String::from("a0: &a0 [\"s3://b/x\"]\n");
            for i in 1..=rng.below(9) + 1 {
                text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 9].join(", ")));
            }
            text.push_str(&format!("plugins:\n  datasette-litestream:\n    all-replicate: *a{}\n", rng.below(3)));
            (text.into_bytes(), "YAML aliases")
        }
        6 => (format!("{}---\n{}", yaml(seed), yaml(seed)).into_bytes(), "several YAML documents"),
        7 => {
            let top = rng.pick(&["- a\n- b\n", "just text\n", "42\n", "[1, 2]", "\"plugins\"", "true\n"]);
            (top.as_bytes().to_vec(), "non-mapping top level")
        }
        8 => {
            let number = rng.pick(&["1e400", "-1e400", "99999999999999999999999999", "-0", "0x7fffffffffffffffff", ".nan", ".inf"]);
            let key = rng.pick(&["credentials-refresh-interval", "min-checkpoint-page-count", "metrics-addr", "all-replicate"]);
            let text = if key.starts_with("min-") {
                format!("databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas: [\"file:///tmp/r\"]\n        {key}: {number}\n")
            } else {
                format!("plugins:\n  datasette-litestream:\n    credentials-file: c.json\n    {key}: {number}\n")
            };
            (text.into_bytes(), "numbers out of range")
        }
        9 => {
            let text = yaml(seed);
            let cut = rng.below(text.len().max(1));
            (text.as_bytes()[..cut].to_vec(), "truncated")
        }
        10 => {
            let mut bytes = yaml(seed).into_bytes();
            let at = rng.below(bytes.len().max(1));
            bytes.insert(at.min(bytes.len()), 0xff);
            (bytes, "not UTF-8")
        }
        _ => (
            b"plugins:\n  datasette-litestream:\n    access-key-id: {\"$file\": missing-secret.txt}\n    secret-access-key: s\n".to_vec(),
            "$file of a missing file",
        ),
    }
}

struct Answer {
    code: Option<i32>,
    output: String,
    took: Duration,
}

fn render(dir: &Path, file: &Path, flag: &str) -> Answer {
    let start = Instant::now();
    let mut child = Command::new(tests::binary())
        .current_dir(dir)
        .args(["render", "data.db", flag])
        .arg(file)
        .args(["--litestream-version", "v0.3.13"])
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    Answer {
        code: out.status.code(),
        output: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        took: start.elapsed(),
    }
}

#[test]
fn malformed_configuration_exits_0_or_2_and_never_panics_or_hangs() {
    let (_keep, dir) = tests::tempdir();
    let seeds = seeds();
    let mut rng = Rng(SEED);
    let (mut zero, mut two) = (0, 0);
    let mut slowest: (Duration, PathBuf) = (Duration::ZERO, PathBuf::new());
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..INPUTS {
        let (name, seed) = &seeds[rng.below(seeds.len())];
        let (bytes, kind) = mutate(&mut rng, seed);
        *kinds.entry(kind).or_default() += 1;
        let file = dir.join(format!("case-{i:03}-{name}"));
        std::fs::write(&file, &bytes).unwrap();
        let flag = if name == "datasette.yaml" { "-c" } else { "-m" };
        let answer = render(&dir, &file, flag);
        let shown =
            || format!("input {} ({kind}), exit {:?}:\n{}", file.display(), answer.code, answer.output);
        assert!(answer.took < HANG, "hung: {}", shown());
        assert!(matches!(answer.code, Some(0 | 2)), "{}", shown());
        assert!(!answer.output.contains("panicked") && !answer.output.contains("backtrace"), "{}", shown());
        if answer.code == Some(2) {
            assert!(answer.output.contains("error"), "exit 2 without an error line: {}", shown());
            two += 1;
        } else {
            zero += 1;
        }
        if answer.took > slowest.0 {
            slowest = (answer.took, file.clone());
        }
    }
    eprintln!(
        "malformed corpus (seed {SEED:#x}): {INPUTS} inputs, {zero} exit 0, {two} exit 2; slowest {:?} ({}); kinds {kinds:?}",
        slowest.0,
        slowest.1.display()
    );
    assert!(two > INPUTS / 4, "the corpus hardly exercises refusals: {two} of {INPUTS}");
}
