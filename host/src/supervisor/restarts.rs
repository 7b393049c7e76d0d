//! The restart policy's memory of one supervised child, the same for `replicate`
//! (`run`) and `restore -f` (followers): the backoff before the next start, doubling
//! up to its maximum and starting over after a healthy run, and the exits within the
//! crash window, too many of which end the restarts.

use super::Policy;
use std::time::{Duration, Instant};

pub struct Restarts {
    policy: Policy,
    backoff: Duration,
    exits: Vec<Instant>,
}

/// Too many exits within the window: (how many, the window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrashLoop {
    pub exits: usize,
    pub window: Duration,
}

impl Restarts {
    pub fn new(policy: &Policy) -> Self {
        Restarts { policy: policy.clone(), backoff: policy.backoff_start, exits: Vec::new() }
    }

    /// An unexpected exit of a child started at `started` (None: it never started).
    /// A run of `healthy_after` or longer starts the backoff over.
    pub fn exited(&mut self, started: Option<Instant>) -> Result<(), CrashLoop> {
        if started.is_some_and(|s| s.elapsed() >= self.policy.healthy_after) {
            self.backoff = self.policy.backoff_start;
        }
        let now = Instant::now();
        self.exits.retain(|t| now.duration_since(*t) < self.policy.crash_window);
        self.exits.push(now);
        match self.exits.len() >= self.policy.crash_limit {
            true => Err(CrashLoop { exits: self.exits.len(), window: self.policy.crash_window }),
            false => Ok(()),
        }
    }

    /// How long to wait before the next start; each wait doubles the next.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(self.policy.backoff_max);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            backoff_start: Duration::from_millis(500),
            backoff_max: Duration::from_secs(2),
            crash_limit: 3,
            ..Policy::default()
        }
    }

    #[test]
    fn the_backoff_doubles_to_its_maximum() {
        let mut r = Restarts::new(&policy());
        let waits: Vec<u128> = (0..4).map(|_| r.next_wait().as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 2000]);
    }

    #[test]
    fn too_many_exits_in_the_window_end_the_restarts() {
        let mut r = Restarts::new(&policy());
        assert!(r.exited(None).is_ok());
        assert!(r.exited(None).is_ok());
        assert_eq!(r.exited(None), Err(CrashLoop { exits: 3, window: Duration::from_secs(60) }));
    }

    #[test]
    fn a_healthy_run_starts_the_backoff_over() {
        let mut r = Restarts::new(&Policy { healthy_after: Duration::ZERO, ..policy() });
        r.next_wait();
        r.next_wait();
        r.exited(Some(Instant::now())).unwrap();
        assert_eq!(r.next_wait(), Duration::from_millis(500));
    }
}
