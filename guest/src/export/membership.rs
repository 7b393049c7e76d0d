//! Export glue for the `membership` interface.

use super::wit::datasette::litestream::types::{self as t, LitestreamLine};
use super::wit::exports::datasette::litestream::membership as bx;
use crate::membership as b;
use crate::model::{self as m, Line};

impl bx::Guest for super::Component {
    fn admit(request: t::Request) -> Result<bx::Admission, Vec<t::ConfigError>> {
        let a = b::admit(&request.into()).map_err(super::errors)?;
        Ok(bx::Admission {
            databases: a.databases.into_iter().map(wit_database).collect(),
            plan: a.plan.into(),
            refused: super::errors(a.refused),
        })
    }

    fn plan_change(l: LitestreamLine, running: Option<String>, next: Option<String>) -> bx::Change {
        let line = match l {
            LitestreamLine::V03 => Line::V03,
            LitestreamLine::V05 => Line::V05,
        };
        match b::plan_change(line, running.as_deref(), next.as_deref()) {
            b::Change::Unchanged => bx::Change::Unchanged,
            b::Change::Start => bx::Change::Start,
            b::Change::Stop => bx::Change::Stop,
            b::Change::Restart(why) => bx::Change::Restart(why),
            b::Change::InPlace { unregister, register } => bx::Change::InPlace(bx::InPlaceChange {
                unregister,
                register: register
                    .into_iter()
                    .map(|r| bx::Registration { path: r.path, replica_url: r.replica_url })
                    .collect(),
            }),
        }
    }

    fn require_admitted(refused: Vec<t::ConfigError>) -> Result<(), String> {
        let refused: Vec<m::ConfigError> = refused
            .into_iter()
            .map(|e| m::ConfigError { database: e.database, key: e.key, problem: e.problem, hint: e.hint })
            .collect();
        b::require_admitted(&refused)
    }
}

fn wit_database(d: m::Database) -> t::Database {
    t::Database { name: d.name, path: d.path, directory: d.directory, plugin_config: d.plugin_config }
}
