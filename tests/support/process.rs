//! Child processes for tests: output captured to a file, killed when dropped, and
//! helpers to find Litestream among a host's children.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running host (or other process) whose output goes to `log`.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(mut cmd: Command, log: &Path) -> Proc {
        let out = std::fs::File::create(log).expect("log file");
        cmd.stdout(Stdio::from(out.try_clone().unwrap())).stderr(Stdio::from(out)).stdin(Stdio::null());
        let child = cmd.spawn().expect("spawn");
        Proc { child, log: log.to_path_buf() }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the output contains `needle`; panics with the output after `limit`.
    pub fn wait_for(&mut self, needle: &str, limit: Duration) {
        self.wait_for_nth(needle, 1, limit);
    }

    /// Waits until the output contains `needle` at least `n` times.
    pub fn wait_for_nth(&mut self, needle: &str, n: usize, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.output().matches(needle).count() >= n {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("process exited ({status}) before printing {needle:?} {n} times:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{needle:?} not {n} times within {limit:?}:\n{}", self.output());
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig);
    }

    /// Waits for exit; panics after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(start.elapsed() < limit, "still running after {limit:?}:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Direct children of `pid` (from /proc).
pub fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(text.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}

pub fn command_line(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

pub fn alive(pid: i32) -> bool {
    // A zombie has exited; only its parent's wait is missing.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Litestream processes whose config lives under `dir_hint` (any parent).
pub fn litestreams_with(config_hint: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()))
        .filter(|pid| {
            let cmd = command_line(*pid);
            cmd.contains("litestream replicate") && cmd.contains(config_hint) && alive(*pid)
        })
        .collect()
}

/// The Litestream child of a host, waiting up to `limit` for it to appear.
pub fn litestream_child(host: i32, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(pid) =
            children(host).into_iter().find(|p| command_line(*p).contains("replicate") && alive(*p))
        {
            return pid;
        }
        assert!(start.elapsed() < limit, "host {host} has no Litestream child after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
