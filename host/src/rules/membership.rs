//! The `membership` interface's calls, for databases that come and go while running.

use super::{Admission, Change, ConfigError, Credentials, LitestreamLine, Request, Rules, RulesError};
use contract::Convert;

impl Rules {
    pub fn admit(
        &self,
        request: &Request,
        credentials: Option<&Credentials>,
    ) -> Result<Result<Admission, Vec<ConfigError>>, RulesError> {
        let request = request.clone().convert();
        let credentials: Option<_> = credentials.cloned().convert();
        self.call("admit", |r, s| {
            r.datasette_litestream_membership().call_admit(s, &request, credentials.as_ref())
        })
        .map(Convert::convert)
    }

    pub fn plan_change(
        &self,
        line: LitestreamLine,
        running: Option<&str>,
        next: Option<&str>,
    ) -> Result<Change, RulesError> {
        self.call("plan-change", |r, s| {
            r.datasette_litestream_membership().call_plan_change(s, line.convert(), running, next)
        })
        .map(Convert::convert)
    }

    pub fn require_admitted(&self, refused: &[ConfigError]) -> Result<Result<(), String>, RulesError> {
        let refused: Vec<_> = refused.to_vec().convert();
        self.call("require-admitted", |r, s| {
            r.datasette_litestream_membership().call_require_admitted(s, &refused)
        })
    }
}
