//! Credentials from a file or a command: parsing that never echoes a secret, and
//! comparing two sets by field name only.

use crate::model::{CredentialFields, Credentials, CredentialsChange, CredentialsError};
use serde_json::Value;

pub fn parse(text: &str) -> Result<Credentials, CredentialsError> {
    // serde_json's messages can quote input; report only where the syntax broke.
    let value: Value = serde_json::from_str(text)
        .map_err(|e| CredentialsError::NotJson(format!("line {} column {}", e.line(), e.column())))?;
    let Value::Object(map) = value else {
        return Err(CredentialsError::NotAnObject);
    };
    let required = |key: &str| match map.get(key) {
        None | Some(Value::Null) => Err(CredentialsError::MissingKey(key.into())),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(CredentialsError::WrongType(key.into())),
    };
    let access_key_id = required("access-key-id")?;
    let secret_access_key = required("secret-access-key")?;
    // An empty token is how some credential services say "none".
    let session_token = match map.get("session-token") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return Err(CredentialsError::WrongType("session-token".into())),
    };
    Ok(Credentials { access_key_id, secret_access_key, session_token })
}

pub fn compare(current: &Credentials, fresh: &Credentials) -> CredentialsChange {
    let fields = CredentialFields {
        access_key_id: current.access_key_id != fresh.access_key_id,
        secret_access_key: current.secret_access_key != fresh.secret_access_key,
        session_token: current.session_token != fresh.session_token,
    };
    CredentialsChange { changed: fields != CredentialFields::default(), fields }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_carry_the_secret() {
        let bad = parse(r#"{"access-key-id": "AKIA", "secret-access-key": "TOPSECRET" "#).unwrap_err();
        assert!(!format!("{bad:?}").contains("TOPSECRET"));
        let wrong = parse(r#"{"access-key-id": "AKIA", "secret-access-key": 12345}"#).unwrap_err();
        assert_eq!(wrong, CredentialsError::WrongType("secret-access-key".into()));
        assert!(!format!("{wrong:?}").contains("12345"));
    }

    #[test]
    fn other_keys_are_ignored_and_token_is_optional() {
        let c = parse(r#"{"access-key-id":"A","secret-access-key":"S","expires":"x"}"#).unwrap();
        assert_eq!(c.session_token, None);
        let t = parse(r#"{"access-key-id":"A","secret-access-key":"S","session-token":"T"}"#).unwrap();
        assert_eq!(compare(&c, &t).fields, CredentialFields { session_token: true, ..Default::default() });
        assert!(!compare(&c, &c).changed);
    }
}
