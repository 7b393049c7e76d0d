"""Processes: environments, the process tree from /proc, and `Proc`, a launched
command whose output lines are kept with their times."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

POLL = 0.005  # seconds between polls of the replica directory / the HTTP port
TIMEOUT = 60.0


def clean_env() -> dict:
    """This shell's environment without AWS_CA_BUNDLE (Litestream 0.5 refuses S3 with it)."""
    return {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}


def base_env(**extra) -> dict:
    env = clean_env()  # Litestream 0.5 refuses S3 with AWS_CA_BUNDLE (FACTS.md); harmless to drop
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def children(pid: int) -> list[int]:
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children(p):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> tuple[float, dict]:
    """Sum of VmRSS (MiB) of pid and all its descendants, and the same by process name."""
    by = {}
    total = 0
    for p in [pid] + descendants(pid):
        kb = rss_kb(p)
        total += kb
        by[comm(p)] = by.get(comm(p), 0) + kb / 1024
    return total / 1024, by


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """utime + stime of pid, in seconds (raises when it cannot be read)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """cpu_seconds, or 0.0 when the process is gone."""
    try:
        return cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return 0.0


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def busy() -> list[str]:
    """The cargo/rustc processes running now (figures taken beside a build are slower)."""
    names = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and comm(int(pid)) in ("cargo", "rustc"):
            names.append(comm(int(pid)))
    return names


class Proc:
    """A launched command with timestamped stdout/stderr lines."""

    def __init__(self, cmd: list, env: dict, cwd: Path | None = None, stdin: bool = False):
        self.cmd = [str(c) for c in cmd]
        self.lines: list[tuple[float, str, str]] = []  # (monotonic, stream, text)
        self.cond = threading.Condition()
        self.t0 = time.monotonic()  # launch: just before Popen
        self.p = subprocess.Popen(
            self.cmd,
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.pid = self.p.pid
        for name, stream in (("out", self.p.stdout), ("err", self.p.stderr)):
            threading.Thread(target=self._read, args=(name, stream), daemon=True).start()

    def _read(self, name, stream):
        for raw in iter(stream.readline, b""):
            t = time.monotonic()
            with self.cond:
                self.lines.append((t, name, raw.decode(errors="replace").rstrip("\n")))
                self.cond.notify_all()

    def wait_line(self, needle: str, timeout: float = TIMEOUT, start: int = 0) -> tuple[float, int] | None:
        """(time, index) of the first line at or after index `start` containing needle."""
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if needle in self.lines[i][2]:
                        return self.lines[i][0], i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    return None
                self.cond.wait(min(left, 0.05))

    def send(self, line: str) -> None:
        """One line on stdin (a Proc started with stdin=True)."""
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def count(self, needle: str) -> int:
        with self.cond:
            return sum(1 for _, _, t in self.lines if needle in t)

    def tail(self, n: int = 30) -> str:
        with self.cond:
            return "\n".join(f"{s}: {t}" for _, s, t in self.lines[-n:])

    def stop(self) -> int:
        """SIGTERM, wait, then make sure nothing it started is left. Returns how many
        descendants were still alive 2 s after the main process ended (and were killed)."""
        pids = descendants(self.pid)
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.p.wait()
        left = 0
        deadline = time.monotonic() + 2
        for pid in pids:
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if alive(pid):
                left += 1
                _end(pid)
        return left


def _end(pid: int) -> None:
    """SIGTERM, up to 2 s, then SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.02)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
