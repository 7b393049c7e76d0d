"""scripts/demo, run as a user would: it must serve the demo database in real
Datasette, show the status page inside Datasette's chrome to root, and, once stopped
(by itself with DEMO_SECONDS, or by Ctrl-C), restore every row written from the
replica. The build is skipped (DEMO_BUILD=0): the host must already be built, as for
every real-host test; a missing one fails, it never skips."""

from __future__ import annotations

import http.cookiejar
import os
import queue
import re
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, free_port

DEMO = REPO / "scripts" / "demo"
HOST = REPO / "target" / "release" / "datasette-litestream"

pytestmark = pytest.mark.host


class Demo:
    """scripts/demo in its own session (as a terminal runs it), its output read line by
    line into a queue and kept."""

    def __init__(self, tmp_path: Path, **env):
        assert os.access(HOST, os.X_OK), f"no host at {HOST}: cargo build --release (scripts/demo builds it)"
        self.dir = tmp_path / "demo"
        self.port = free_port()
        environment = {
            **os.environ,
            "DEMO_BUILD": "0",
            "DEMO_DIR": str(self.dir),
            "DEMO_PORT": str(self.port),
            "DEMO_METRICS_ADDR": f"127.0.0.1:{free_port()}",
            **env,
        }
        environment.pop("DATASETTE_LITESTREAM_HOST", None)
        self.proc = subprocess.Popen(
            [str(DEMO)],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self._queue.put(raw.decode(errors="replace").rstrip("\n"))
        self._queue.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{self.output}")
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the demo ended before a line matching {pattern!r}:\n{self.output}")
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def wait_exit(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the demo still runs after {timeout} s:\n{self.output}") from None
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return code

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def demo(tmp_path):
    started = []

    def start(**env):
        d = Demo(tmp_path, **env)
        started.append(d)
        return d

    yield start
    for d in started:
        d.kill()


def rows(path: Path) -> set[int]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("select id from visits")}
    finally:
        conn.close()


def assert_every_row_came_back(d: Demo):
    live, restored = rows(d.dir / "demo.db"), rows(d.dir / "restored.db")
    assert live, d.output
    assert live == restored, f"rows missing from the restore: {sorted(live - restored)}\n{d.output}"
    assert re.search(rf"demo: {len(live)} rows came back; the live database has {len(live)} \(every row\)", d.output)


def test_datasette_status_page_and_ctrl_c_restore(demo):
    d = demo()
    link = d.wait_for_line(r"log in as root\s+(http://\S+/-/auth-token\?token=\w+)", timeout=120).group(1)
    d.wait_for_line(r"status page\s+http://127\.0\.0\.1:\d+/-/litestream-status", timeout=10)
    d.wait_for_line(r"health check\s+http://127\.0\.0\.1:\d+/-/litestream-health", timeout=10)
    d.wait_for_line(r"metrics\s+http://127\.0\.0\.1:\d+/-/litestream-metrics", timeout=10)
    base = f"http://127.0.0.1:{d.port}"

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path, opener=browser):
        try:
            with opener.open(base + path, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    # Datasette itself, listing the demo database, to anyone.
    status, home = get("/")
    assert status == 200 and 'href="/demo"' in home, home
    # Not yet root: the status page is refused.
    assert get("/-/litestream-status")[0] == 403
    # The root login link, as a user clicks it: it sets Datasette's signed ds_actor cookie.
    status, _ = get(link.removeprefix(base))
    assert status == 200 and any(c.name == "ds_actor" for c in jar), (status, list(jar))
    status, page = get("/-/litestream-status")
    assert status == 200, page
    assert '<header class="hd">' in page and '<footer class="ft">' in page, "not inside Datasette's chrome"
    assert '<div class="actor">' in page and "root" in page
    assert '<div class="litestream-status"' in page, "not the host's status body"
    assert "demo" in page
    assert get("/-/litestream-metrics")[0] == 200

    # Replication confirmed: the health check turns 200 (anyone may ask).
    deadline = time.monotonic() + 30
    while (health := get("/-/litestream-health", urllib.request.build_opener()))[0] != 200:
        assert time.monotonic() < deadline, health
        time.sleep(0.2)

    # A few of the writer's rows, then Ctrl-C: SIGINT to the demo's process group, as a terminal sends it.
    deadline = time.monotonic() + 30
    while len(rows(d.dir / "demo.db")) < 4:
        assert time.monotonic() < deadline, "the writer added no rows"
        time.sleep(0.2)
    os.killpg(d.proc.pid, signal.SIGINT)
    assert d.wait_exit(120) == 0, d.output
    assert "demo: stopping (Ctrl-C)" in d.output
    assert_every_row_came_back(d)


def test_stops_by_itself_with_demo_seconds(demo):
    d = demo(DEMO_SECONDS="3")
    d.wait_for_line(r"stopping by itself in 3 s", timeout=120)
    assert d.wait_exit(120) == 0, d.output
    assert "demo: stopping (DEMO_SECONDS)" in d.output
    assert_every_row_came_back(d)
