//! The `configuration` interface's calls: validate, render, redact, credentials.

use super::{
    ConfigError, Configured, Credentials, CredentialsChange, CredentialsError, Plan, Rendered, Request,
    Rules, RulesError,
};
use contract::Convert;

impl Rules {
    pub fn check(&self, request: &Request) -> Result<Result<Plan, Vec<ConfigError>>, RulesError> {
        let request = request.clone().convert();
        self.call("check", |r, s| r.datasette_litestream_configuration().call_check(s, &request))
            .map(Convert::convert)
    }

    pub fn render(
        &self,
        request: &Request,
        credentials: Option<&Credentials>,
    ) -> Result<Result<Rendered, Vec<ConfigError>>, RulesError> {
        let request = request.clone().convert();
        let credentials: Option<_> = credentials.cloned().convert();
        self.call("render", |r, s| {
            r.datasette_litestream_configuration().call_render(s, &request, credentials.as_ref())
        })
        .map(Convert::convert)
    }

    /// The plan and, unless a credentials source must be read first, the rendered config,
    /// on one validation.
    pub fn configure(
        &self,
        request: &Request,
        credentials: Option<&Credentials>,
    ) -> Result<Result<Configured, Vec<ConfigError>>, RulesError> {
        let request = request.clone().convert();
        let credentials: Option<_> = credentials.cloned().convert();
        self.call("configure", |r, s| {
            r.datasette_litestream_configuration().call_configure(s, &request, credentials.as_ref())
        })
        .map(Convert::convert)
    }

    /// The instructions one `render` of `request` costs (of FUEL_PER_CALL): what the
    /// benchmark reports as a large site's headroom, and a limit test checks.
    pub fn render_cost(&self, request: &Request) -> Result<u64, RulesError> {
        let request = request.clone().convert();
        self.metered("render", |r, s| r.datasette_litestream_configuration().call_render(s, &request, None))
            .map(|(_, fuel)| fuel)
    }

    pub fn redact(&self, document: &str) -> Result<Result<String, String>, RulesError> {
        self.call("redact", |r, s| r.datasette_litestream_configuration().call_redact(s, document))
    }

    pub fn parse_credentials(&self, text: &str) -> Result<Result<Credentials, CredentialsError>, RulesError> {
        self.call("parse-credentials", |r, s| {
            r.datasette_litestream_configuration().call_parse_credentials(s, text)
        })
        .map(Convert::convert)
    }

    pub fn compare_credentials(
        &self,
        current: &Credentials,
        fresh: &Credentials,
    ) -> Result<CredentialsChange, RulesError> {
        let (current, fresh) = (current.clone().convert(), fresh.clone().convert());
        self.call("compare-credentials", |r, s| {
            r.datasette_litestream_configuration().call_compare_credentials(s, &current, &fresh)
        })
        .map(Convert::convert)
    }
}
