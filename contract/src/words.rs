//! Small conveniences on the contract's types, the same on every side.

use crate::{ConfigError, ProcessState, ReplicationState, VerifyOutcome};

/// An enum's word: the same as in the status JSON and the WIT (`not-started`).
macro_rules! words {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let word = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned));
                f.write_str(word.as_deref().unwrap_or("?"))
            }
        }
    )*};
}
words!(ProcessState, ReplicationState, VerifyOutcome);

impl ConfigError {
    /// A problem with `key` (of `database`, or at the top level), without a hint.
    pub fn new(database: Option<&str>, key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            database: database.map(str::to_owned),
            key: key.into(),
            problem: problem.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// How a configuration error reads: `database "db", key "k": problem (hint)`.
impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.database, self.key.as_str()) {
            (_, "") => write!(f, "{}", self.problem)?,
            (Some(db), key) => write!(f, "database {db:?}, key {key:?}: {}", self.problem)?,
            (None, key) => write!(f, "top-level key {key:?}: {}", self.problem)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// `name: why`, as the health check's reason and the status view say it.
impl std::fmt::Display for crate::Behind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.database, self.why)
    }
}

impl crate::CredentialFields {
    /// The set fields by their WIT names (`access-key-id`, …), in declaration order.
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.access_key_id, "access-key-id"),
            (self.secret_access_key, "secret-access-key"),
            (self.session_token, "session-token"),
        ];
        all.into_iter().filter(|(set, _)| *set).map(|(_, name)| name).collect()
    }
}

impl crate::NamedValue {
    /// The series' key as the status view shows it: `name`, `name[replica]`,
    /// `name[status]` or `name[replica,status]`.
    pub fn key(&self) -> String {
        match (&self.replica, &self.status) {
            (Some(r), Some(s)) => format!("{}[{r},{s}]", self.name),
            (Some(r), None) => format!("{}[{r}]", self.name),
            (None, Some(s)) => format!("{}[{s}]", self.name),
            (None, None) => self.name.clone(),
        }
    }
}
