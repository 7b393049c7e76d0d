//! The one adapter between the host's generated WIT types and the rules' plain Rust
//! model, for tests that call the rules natively and compare with the component.

use datasette_litestream::rules as wit;
use guest::model;

pub fn request(r: &wit::Request) -> model::Request {
    model::Request {
        top_level: r.top_level.clone(),
        databases: r
            .databases
            .iter()
            .map(|d| model::Database {
                name: d.name.clone(),
                path: d.path.clone(),
                directory: d.directory.clone(),
                plugin_config: d.plugin_config.clone(),
            })
            .collect(),
        working_directory: r.working_directory.clone(),
        litestream_version: r.litestream_version.clone(),
        control_socket: r.control_socket.clone(),
    }
}

pub fn credentials(c: &wit::Credentials) -> model::Credentials {
    model::Credentials {
        access_key_id: c.access_key_id.clone(),
        secret_access_key: c.secret_access_key.clone(),
        session_token: c.session_token.clone(),
    }
}

pub fn config_error(e: &model::ConfigError) -> wit::ConfigError {
    wit::ConfigError {
        database: e.database.clone(),
        key: e.key.clone(),
        problem: e.problem.clone(),
        hint: e.hint.clone(),
    }
}

pub fn credentials_error(e: model::CredentialsError) -> wit::CredentialsError {
    match e {
        model::CredentialsError::NotJson(at) => wit::CredentialsError::NotJson(at),
        model::CredentialsError::NotAnObject => wit::CredentialsError::NotAnObject,
        model::CredentialsError::MissingKey(k) => wit::CredentialsError::MissingKey(k),
        model::CredentialsError::WrongType(k) => wit::CredentialsError::WrongType(k),
    }
}
