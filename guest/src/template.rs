//! `all-replicate` URL templates: `$DB_NAME`, `$DB_DIRECTORY` and `$PWD`.

use crate::keys::nearest;

pub const VARIABLES: [&str; 3] = ["DB_NAME", "DB_DIRECTORY", "PWD"];

/// The values one database gives the variables.
pub struct Values<'a> {
    pub db_name: &'a str,
    pub db_directory: &'a str,
    pub pwd: &'a str,
}

/// A `$NAME` that is not one of [`VARIABLES`], with the nearest one as a hint.
#[derive(Debug, PartialEq)]
pub struct UnknownVariable {
    pub name: String,
    pub nearest: Option<&'static str>,
}

/// Variables a template uses that do not exist; checked once per template, not per database.
pub fn unknown_variables(template: &str) -> Vec<UnknownVariable> {
    variables(template)
        .filter(|(_, name)| !VARIABLES.contains(name))
        .map(|(_, name)| UnknownVariable { name: name.to_owned(), nearest: nearest(name, VARIABLES) })
        .collect()
}

/// Replaces every known variable; unknown ones were refused by validation and stay as written.
pub fn expand(template: &str, values: &Values) -> String {
    let mut out = String::with_capacity(template.len() + values.db_directory.len());
    let mut last = 0;
    for (start, name) in variables(template) {
        let value = match name {
            "DB_NAME" => values.db_name,
            "DB_DIRECTORY" => values.db_directory,
            "PWD" => values.pwd,
            _ => continue,
        };
        out.push_str(&template[last..start]);
        out.push_str(value);
        last = start + 1 + name.len();
    }
    out.push_str(&template[last..]);
    out
}

/// Each `$NAME` (letters, digits, `_`, starting with a letter or `_`) with its byte offset.
fn variables(template: &str) -> impl Iterator<Item = (usize, &str)> {
    template.match_indices('$').filter_map(move |(start, _)| {
        let rest = &template[start + 1..];
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map_or(rest.len(), |(i, _)| i);
        (len > 0).then(|| (start, &rest[..len]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Values = Values { db_name: "city_budget", db_directory: "/data/dbs", pwd: "/srv" };

    #[test]
    fn expands_each_variable() {
        assert_eq!(expand("s3://b/$DB_NAME", &V), "s3://b/city_budget");
        assert_eq!(expand("file://$DB_DIRECTORY/r/$DB_NAME", &V), "file:///data/dbs/r/city_budget");
        assert_eq!(expand("file://$PWD/$DB_NAME-$DB_NAME", &V), "file:///srv/city_budget-city_budget");
        assert_eq!(expand("s3://b/$1/x$", &V), "s3://b/$1/x$");
    }

    #[test]
    fn unknown_variable_is_named_with_a_hint() {
        let found = unknown_variables("s3://b/$DB_NAMES/$HOME");
        assert_eq!(found[0], UnknownVariable { name: "DB_NAMES".into(), nearest: Some("DB_NAME") });
        assert_eq!(found[1].name, "HOME");
        assert!(unknown_variables("s3://b/$DB_NAME").is_empty());
    }
}
