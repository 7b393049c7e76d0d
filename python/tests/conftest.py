"""Shared fixtures: the plugin registered from this source tree (no wheel needed),
the real host binary, the two real Litestream lines, and a runner for async tests."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasette.plugins import pm

import datasette_litestream

REPO = Path(__file__).resolve().parents[2]
TESTS = Path(__file__).resolve().parent
HOST = os.environ.get("DATASETTE_LITESTREAM_HOST") or str(REPO / "target" / "release" / "datasette-litestream")
LITESTREAM = {v: REPO / ".venv" / "litestream" / v / "bin" / "litestream" for v in ("0.3.13", "0.5.17")}

if not pm.is_registered(datasette_litestream):
    pm.register(datasette_litestream, name="datasette-litestream")


def _host_contract() -> str | None:
    """Why the real host cannot run these tests, or None when it can."""
    if not os.access(HOST, os.X_OK):
        return f"no host binary at {HOST} (cargo build --release, or set DATASETTE_LITESTREAM_HOST)"
    try:
        help_text = subprocess.run([HOST, "run", "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"cannot run {HOST}: {e}"
    if "--status-socket" not in help_text:
        return f"{HOST} predates the plugin contract (`run --stdin --status-socket`, ready line)"
    return None


def pytest_collection_modifyitems(config, items):
    """The real-host tests never skip: without the host they fail the run, loudly."""
    if not any(item.get_closest_marker("host") for item in items):
        return
    missing = _host_contract()
    if missing is not None:
        raise pytest.UsageError(f"the real-host tests need the host: {missing}")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Runs `async def` tests, each on its own event loop (no pytest-asyncio needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


def real_host_env(litestream_version: str = "0.5.17") -> dict:
    """Environment for the real host and one real Litestream line (None = unset)."""
    return {
        "DATASETTE_LITESTREAM_HOST": HOST,
        "LITESTREAM_BIN": str(LITESTREAM[litestream_version]),
        # 0.5 refuses S3 replicas with it set (shared/FACTS.md); these tests use file replicas.
        "AWS_CA_BUNDLE": None,
    }


@pytest.fixture
def host_env(monkeypatch):
    """The real host and Litestream 0.5 for in-process Datasette."""
    for key, value in real_host_env().items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


class FakeHost:
    def __init__(self, directory: Path):
        self.record = directory / "fake-host-record.json"
        self.program = directory / "fake-host"
        self.program.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{TESTS / "fake_host.py"}" "$@"\n')
        self.program.chmod(0o755)

    def read(self) -> dict:
        import json

        return json.loads(self.record.read_text())

    def env(self, mode: str = "ready", **extra) -> dict:
        return {
            "DATASETTE_LITESTREAM_HOST": str(self.program),
            "FAKE_HOST_RECORD": str(self.record),
            "FAKE_HOST_MODE": mode,
            **extra,
        }


@pytest.fixture
def fake_host(tmp_path, monkeypatch):
    """Installs the recording stand-in host (mode "ready"); tests may change the mode."""
    host = FakeHost(tmp_path)
    for key, value in host.env().items():
        monkeypatch.setenv(key, value)
    return host


def make_db(path: Path, rows: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("create table if not exists items (id integer primary key, value text)")
    conn.executemany("insert into items (value) values (?)", [(f"row {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def count_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("select count(*) from items").fetchone()[0]
    finally:
        conn.close()


def add_rows(path: Path, count: int, prefix: str = "late") -> None:
    conn = sqlite3.connect(path)
    conn.executemany("insert into items (value) values (?)", [(f"{prefix} {i}",) for i in range(count)])
    conn.commit()
    conn.close()


def restore(version: str, replica: Path, out: Path) -> Path:
    """`litestream restore` of a file replica into a new file, with that Litestream line."""
    result = subprocess.run(
        [str(LITESTREAM[version]), "restore", "-o", str(out), f"file://{replica}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return out


@contextlib.asynccontextmanager
async def started(ds):
    """Runs a Datasette's startup hooks, and its shutdown hooks afterwards."""
    await ds.invoke_startup()
    try:
        yield ds
    finally:
        await ds.invoke_shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(p) for p in f.read().split())
    except FileNotFoundError:
        pass
    return found


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class Serve:
    """A real `datasette serve` process with this plugin registered (by default this
    venv's Datasette through run_datasette.py; `command` names another `datasette`)."""

    def __init__(self, args, cwd: Path, env: dict, log_dir: Path, command=None):
        self.port = free_port()
        self.log = log_dir / f"datasette-{self.port}.log"
        command = command or [sys.executable, str(TESTS / "run_datasette.py")]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [*map(str, command), "serve", *map(str, args)] + ["--host", "127.0.0.1", "-p", str(self.port)],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, timeout: float = 10) -> tuple[int, str]:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get_json(self, path: str):
        import json

        status, body = self.get(path)
        assert status == 200, (status, body)
        return json.loads(body)

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"datasette exited with {self.proc.returncode}:\n{self.output}")
            try:
                return self.get("/-/versions.json", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for(ready, timeout, "datasette to serve HTTP", interval=0.1)

    def wait_exit(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"datasette still running after {timeout} s:\n{self.output}") from None

    def host_pid(self) -> int:
        """The host process: Datasette's child running the datasette-litestream program."""

        def find():
            for pid in children(self.proc.pid):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except FileNotFoundError:
                    continue
                if b"run" in cmdline and b"--stdin" in cmdline:
                    return pid
            return None

        return wait_for(find, 10, "the host process")


@pytest.fixture
def serve(tmp_path):
    """Starts `datasette serve` processes; any still running at the end are killed."""
    started_processes = []

    def start(args, cwd=None, env=None, command=None):
        merged = {**os.environ, **(env or {})}
        # None removes a variable.
        merged = {k: v for k, v in merged.items() if v is not None}
        s = Serve(args, cwd or tmp_path, merged, tmp_path, command)
        started_processes.append(s)
        return s

    yield start
    for s in started_processes:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
