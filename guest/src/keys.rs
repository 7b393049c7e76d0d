//! The keys the plugin accepts at each level, what each must hold, and the nearest
//! valid key for a typo. Litestream ignores unknown keys silently, so this table is a
//! user's only guard against `replica` for `replicas` or `sync-intervall`.

/// What a value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A secret string: hidden in every view.
    Secret,
    /// A Go duration such as `1s`, `500ms`, `1h30m`.
    Duration,
    /// A positive whole number (a numeric string is accepted: `$env` yields strings).
    Count,
    /// A positive number of seconds.
    Seconds,
    /// true or false.
    Bool,
    /// A list of strings.
    TextList,
    /// Anything Litestream parses itself (nested mappings such as `age`).
    Any,
}

pub const TOP_LEVEL: &[(&str, Kind)] = &[
    ("all-replicate", Kind::TextList),
    ("metrics-addr", Kind::Text),
    ("access-key-id", Kind::Text),
    ("secret-access-key", Kind::Secret),
    ("session-token", Kind::Secret),
    ("credentials-file", Kind::Text),
    ("credentials-command", Kind::Text),
    ("credentials-refresh-interval", Kind::Seconds),
    ("shutdown-sync-timeout", Kind::Duration),
    ("durable-writes", Kind::Bool),
    ("durable-timeout", Kind::Seconds),
    ("lease", Kind::Any),
];

pub const DATABASE: &[(&str, Kind)] = &[
    ("replicas", Kind::Any),
    ("monitor-interval", Kind::Duration),
    ("checkpoint-interval", Kind::Duration),
    ("min-checkpoint-page-count", Kind::Count),
    ("max-checkpoint-page-count", Kind::Count),
    ("durable-writes", Kind::Bool),
    ("durable-timeout", Kind::Seconds),
];

/// Keys of ours at the database level: never passed to Litestream.
pub const OURS_AT_DATABASE: &[&str] = &["durable-writes", "durable-timeout"];

/// Replica keys of Litestream 0.3.13 and 0.5 together.
pub const REPLICA: &[(&str, Kind)] = &[
    ("type", Kind::Text),
    ("name", Kind::Text),
    ("path", Kind::Text),
    ("url", Kind::Text),
    ("retention", Kind::Duration),
    ("retention-check-interval", Kind::Duration),
    ("sync-interval", Kind::Duration),
    ("snapshot-interval", Kind::Duration),
    ("validation-interval", Kind::Duration),
    ("access-key-id", Kind::Text),
    ("secret-access-key", Kind::Secret),
    ("region", Kind::Text),
    ("bucket", Kind::Text),
    ("endpoint", Kind::Text),
    ("force-path-style", Kind::Bool),
    ("sign-payload", Kind::Bool),
    ("require-content-md5", Kind::Bool),
    ("skip-verify", Kind::Bool),
    ("storage-class", Kind::Text),
    ("part-size", Kind::Any),
    ("concurrency", Kind::Count),
    ("sse-customer-algorithm", Kind::Text),
    ("sse-customer-key", Kind::Secret),
    ("sse-customer-key-path", Kind::Text),
    ("sse-kms-key-id", Kind::Text),
    ("account-name", Kind::Text),
    ("account-key", Kind::Secret),
    ("sas-token", Kind::Secret),
    ("host", Kind::Text),
    ("user", Kind::Text),
    ("password", Kind::Secret),
    ("key-path", Kind::Text),
    ("host-key", Kind::Text),
    ("concurrent-writes", Kind::Bool),
    ("webdav-url", Kind::Text),
    ("webdav-username", Kind::Text),
    ("webdav-password", Kind::Secret),
    ("jwt", Kind::Secret),
    ("seed", Kind::Secret),
    ("creds", Kind::Secret),
    ("nkey", Kind::Secret),
    ("username", Kind::Text),
    ("token", Kind::Secret),
    ("tls", Kind::Bool),
    ("root-cas", Kind::TextList),
    ("client-cert", Kind::Text),
    ("client-key", Kind::Text),
    ("max-reconnects", Kind::Count),
    ("reconnect-wait", Kind::Duration),
    ("timeout", Kind::Duration),
    ("max-sync-ltx-files", Kind::Count),
    ("auto-recover", Kind::Bool),
    ("age", Kind::Any),
];

pub fn kind_of(table: &[(&str, Kind)], key: &str) -> Option<Kind> {
    table.iter().find(|(k, _)| *k == key).map(|(_, kind)| *kind)
}

/// Keys whose values are secrets wherever they appear in a Litestream document.
pub fn is_secret(key: &str) -> bool {
    kind_of(TOP_LEVEL, key) == Some(Kind::Secret) || kind_of(REPLICA, key) == Some(Kind::Secret)
}

/// The valid key closest to `typo`, when it is close enough to be a likely typo.
pub fn nearest<'a>(typo: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let budget = (typo.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(typo, c), c))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_finds_the_key_it_meant() {
        let keys = DATABASE.iter().map(|(k, _)| *k);
        assert_eq!(nearest("replica", keys.clone()), Some("replicas"));
        assert_eq!(nearest("monitor-intervall", keys.clone()), Some("monitor-interval"));
        assert_eq!(nearest("bucket", keys), None);
    }

    #[test]
    fn secrets_are_known_at_every_level() {
        assert!(is_secret("secret-access-key"));
        assert!(is_secret("session-token"));
        assert!(is_secret("password"));
        assert!(!is_secret("access-key-id"));
    }
}
