//! Wall-clock time as the status view, the log buffer and verification records keep
//! it: seconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in seconds since the epoch (0 if the clock is before it).
pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Seconds on a clock that keeps counting while the machine is suspended
/// (`CLOCK_BOOTTIME` on Linux; std's `Instant` stops there): what a lease's deadline
/// is measured on.
pub fn boot() -> f64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let id = nix::time::ClockId::CLOCK_BOOTTIME;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let id = nix::time::ClockId::CLOCK_MONOTONIC;
    nix::time::clock_gettime(id).map_or(0.0, |t| t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9)
}

/// Unix seconds as RFC 3339 (UTC, whole seconds), for messages.
pub fn rfc3339(unix: f64) -> String {
    let at = std::time::UNIX_EPOCH + Duration::from_secs_f64(unix.max(0.0));
    humantime::format_rfc3339_seconds(at).to_string()
}
