//! Which databases a restore touches, and what an empty replica means.

/// A replicated database and whether its file exists now.
pub struct Target<'a> {
    pub name: &'a str,
    pub exists: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Restore,
    Skip(String),
}

/// `explicit` names limit the restore to those databases (each must be replicated);
/// `only_missing` (start-up) restores only absent files; otherwise an existing file
/// is replaced only with `force`.
pub fn plan(
    targets: &[Target],
    explicit: &[String],
    force: bool,
    only_missing: bool,
) -> Result<Vec<(String, Step)>, String> {
    if let Some(unknown) = explicit.iter().find(|e| !targets.iter().any(|t| t.name == e.as_str())) {
        let known: Vec<&str> = targets.iter().map(|t| t.name).collect();
        return Err(format!(
            "{unknown:?} is not a replicated database; replicated: {}",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ));
    }
    Ok(targets
        .iter()
        .filter(|t| explicit.is_empty() || explicit.iter().any(|e| e == t.name))
        .map(|t| {
            let step = match (t.exists, only_missing, force) {
                (false, _, _) => Step::Restore,
                (true, true, _) => Step::Skip("the database file exists".into()),
                (true, false, true) => Step::Restore,
                (true, false, false) => Step::Skip(
                    "the database file exists; pass --force to replace it with the replica's copy".into(),
                ),
            };
            (t.name.to_owned(), step)
        })
        .collect())
}

/// An empty replica is a fresh start unless the user asked for this database by name.
pub fn empty_replica(database: &str, explicit: bool) -> Result<String, String> {
    if explicit {
        Err(format!("the replica of {database:?} is empty: there is nothing to restore"))
    } else {
        Ok(format!("the replica of {database:?} is empty; skipped (a fresh start)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, exists: bool) -> Target<'_> {
        Target { name, exists }
    }

    #[test]
    fn existing_files_need_force_and_start_up_restores_only_missing_ones() {
        let targets = [t("a", true), t("b", false)];
        let plain = plan(&targets, &[], false, false).unwrap();
        assert!(matches!(plain[0].1, Step::Skip(_)));
        assert_eq!(plain[1].1, Step::Restore);
        assert_eq!(plan(&targets, &[], true, false).unwrap()[0].1, Step::Restore);
        assert!(matches!(plan(&targets, &[], true, true).unwrap()[0].1, Step::Skip(_)));
        assert_eq!(plan(&targets, &["b".into()], false, false).unwrap().len(), 1);
        assert!(plan(&targets, &["c".into()], false, false).unwrap_err().contains("replicated: a, b"));
    }

    #[test]
    fn an_empty_replica_fails_only_when_asked_for() {
        assert!(empty_replica("a", false).is_ok());
        assert!(empty_replica("a", true).is_err());
    }
}
