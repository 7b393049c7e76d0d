"""Ports, HTTP, replica files, and waiting for a condition."""

from __future__ import annotations

import http.client
import os
import socket
import time
from pathlib import Path

from .procs import POLL, TIMEOUT, Proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_http(proc: Proc, port: int, path: str = "/-/versions.json", timeout: float = TIMEOUT) -> float:
    """Seconds from the launch of proc to the first 200 from path (polled every POLL s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _ = get(port, path, timeout=2)
            if status == 200:
                return time.monotonic() - proc.t0
        except OSError:
            pass
        if proc.p.poll() is not None:
            raise RuntimeError(f"{proc.cmd[0]} exited {proc.p.returncode}:\n{proc.tail()}")
        time.sleep(POLL)
    raise RuntimeError(f"no HTTP 200 on {port}{path} within {timeout} s:\n{proc.tail()}")


def first_file(directory: Path) -> bool:
    """Is there a regular file anywhere under directory?"""
    try:
        with os.scandir(directory) as it:
            for e in it:
                if e.is_file(follow_symlinks=False):
                    return True
                if e.is_dir(follow_symlinks=False) and first_file(Path(e.path)):
                    return True
    except OSError:
        pass
    return False


def wait_replicas(proc: Proc, dirs: list[Path], timeout: float = TIMEOUT, poll: float = POLL):
    """Seconds from launch to the first file under any of dirs, and to a file under every one."""
    pending = list(dirs)
    t_first = None
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        now = time.monotonic()
        pending = [d for d in pending if not first_file(d)]
        if len(pending) < len(dirs) and t_first is None:
            t_first = now - proc.t0
        if not pending:
            return t_first, now - proc.t0
        if proc.p.poll() is not None:
            raise RuntimeError(f"{proc.cmd[0]} exited {proc.p.returncode}:\n{proc.tail()}")
        time.sleep(poll)
    raise RuntimeError(f"no replica within {timeout} s ({len(pending)} of {len(dirs)} missing):\n{proc.tail()}")


def until(check, limit: float, what: str, poll: float = 0.02) -> float:
    """Polls check() until true; returns the monotonic time it became true."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(poll)
    raise RuntimeError(f"not within {limit} s: {what}")


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05, error: type = TimeoutError):
    """Polls predicate() until it returns a true value, and returns that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise error(f"timed out after {timeout} s waiting for {what}")
