//! Litestream's recent output: a bounded buffer of lines, secrets scrubbed on the way in.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;

pub const CAPACITY: usize = 500;
const REDACTED: &str = "***REDACTED***";

#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// Seconds since the epoch when the host read the line.
    pub at: f64,
    /// `stdout` or `stderr`.
    pub stream: &'static str,
    pub text: String,
    /// How many lines came before it in this run.
    #[serde(skip)]
    pub seq: u64,
}

#[derive(Default)]
pub struct LogBuffer {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    lines: VecDeque<LogLine>,
    secrets: Vec<String>,
    pushed: u64,
}

impl LogBuffer {
    /// Values to hide from now on (the rules say which; a rotation brings new ones).
    pub fn set_secrets(&self, secrets: &[String]) {
        let mut inner = self.inner.lock().expect("log buffer lock");
        inner.secrets = secrets.iter().filter(|s| !s.is_empty()).cloned().collect();
        // Longest first, so a secret containing another is hidden whole.
        inner.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Stores a line and returns it scrubbed, for forwarding.
    pub fn push(&self, stream: &'static str, text: &str) -> String {
        let mut inner = self.inner.lock().expect("log buffer lock");
        let text = scrub(text, &inner.secrets);
        let at = crate::util::clock::now();
        if inner.lines.len() == CAPACITY {
            inner.lines.pop_front();
        }
        let seq = inner.pushed;
        inner.pushed += 1;
        inner.lines.push_back(LogLine { at, stream, text: text.clone(), seq });
        text
    }

    /// The lines still held whose `seq` is at least `seq`, and the `seq` to ask from next.
    pub fn since(&self, seq: u64) -> (Vec<String>, u64) {
        let inner = self.inner.lock().expect("log buffer lock");
        let lines = inner.lines.iter().filter(|l| l.seq >= seq).map(|l| l.text.clone()).collect();
        (lines, inner.pushed)
    }

    /// How many lines have been pushed in this run.
    pub fn pushed(&self) -> u64 {
        self.inner.lock().expect("log buffer lock").pushed
    }

    pub fn recent(&self, n: usize) -> Vec<LogLine> {
        let inner = self.inner.lock().expect("log buffer lock");
        inner.lines.iter().skip(inner.lines.len().saturating_sub(n)).cloned().collect()
    }
}

/// `text` with every secret value replaced by `***REDACTED***`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_scrubbed() {
        let buf = LogBuffer::default();
        buf.set_secrets(&["s3cr3t".into(), "s3cr3t-longer".into()]);
        for i in 0..CAPACITY + 10 {
            buf.push("stdout", &format!("line {i} key=s3cr3t-longer"));
        }
        let recent = buf.recent(3);
        assert_eq!(recent.len(), 3);
        assert_eq!(recent[2].text, format!("line {} key=***REDACTED***", CAPACITY + 9));
        assert_eq!(buf.recent(10_000).len(), CAPACITY);
        assert_eq!(buf.recent(10_000)[0].text, "line 10 key=***REDACTED***", "the oldest lines go first");
    }
}
