"""Row 13's S3 server (moto, frozen and thawed), the restore of a replica, and the
whole process tree stopped and killed at once."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from ..common.net import free_port, wait_until
from ..common.paths import LITESTREAM, MOTO_SERVER
from ..common.procs import alive, base_env, comm, descendants, signal_all
from ..common.s3 import BUCKET, moto_answers, s3_replica, s3admin_setup

LITESTREAM_05 = LITESTREAM["0.5.17"]
STEM = "row-13"
DB = "data"
INSERT = f"/{DB}/items/-/insert"
METRICS = "/-/litestream-metrics"
WRITES_TOTAL = "datasette_litestream_durable_writes_total"
SYNCS_TOTAL = "datasette_litestream_durable_syncs_total"
MODES = {
    "a": ("plain", False, False),
    "b": ("durable-writes", True, False),
    "c": ("durable-writes, S3 frozen before the kill", True, True),
    "d": ("plain, S3 frozen before the kill", False, True),
}
START_TIMEOUT = 60.0


class Refused(Exception):
    """Datasette or the host would not run this configuration (the reason is the text)."""


class Moto:
    """moto_server on a free loopback port; after set-up it checks every signature."""

    def __init__(self, work: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(work / "moto.log", "wb")
        self.proc = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: moto_answers(self.port), 30, "moto to start")
        self.keys = s3admin_setup(self.endpoint, BUCKET)

    def replica(self, path: str) -> dict:
        return s3_replica(self.endpoint, path, BUCKET)

    def freeze(self) -> None:
        signal_all([self.proc.pid] + descendants(self.proc.pid), signal.SIGSTOP)

    def thaw(self) -> None:
        signal_all([self.proc.pid] + descendants(self.proc.pid), signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def restore(moto: Moto, path: str, out: Path) -> tuple[set[int] | None, str | None, float]:
    """The replica at path, restored by Litestream 0.5.17 with the admin's keys into
    out: (the seq values it holds, or None; the error, or None; seconds taken)."""
    config = {
        "access-key-id": moto.keys["admin"]["access-key-id"],
        "secret-access-key": moto.keys["admin"]["secret-access-key"],
        "dbs": [{"path": str(out.parent / "source.db"), "replica": moto.replica(path)}],
    }
    cfg = out.parent / "restore.yml"
    cfg.write_text(json.dumps(config))
    t0 = time.monotonic()
    result = subprocess.run(
        [str(LITESTREAM_05), "restore", "-config", str(cfg), "-o", str(out), str(out.parent / "source.db")],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - t0
    if result.returncode != 0:
        return None, (result.stderr + result.stdout).strip()[-2000:], took
    try:
        return seqs_in(out), None, took
    except sqlite3.Error as e:
        return None, f"the restored file: {e}", took


def seqs_in(path: Path) -> set[int]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("select seq from items")}
    finally:
        conn.close()


def stop_tree(pid: int) -> list[int]:
    """SIGSTOP pid and every descendant, until no new one appears; returns them all.
    Stopped, none of them can react to the others' deaths (the host's SIGTERM on
    Litestream by PR_SET_PDEATHSIG, a final sync) before the SIGKILL."""
    stopped: list[int] = []
    while True:
        new = [p for p in [pid] + descendants(pid) if p not in stopped]
        if not new:
            return stopped
        signal_all(list(reversed(new)), signal.SIGSTOP)  # deepest first
        stopped.extend(new)


def kill_tree(proc: subprocess.Popen) -> list[str]:
    """The whole tree at once, like a machine lost: stopped, then SIGKILLed, then gone."""
    pids = stop_tree(proc.pid)
    names = [comm(p) for p in pids]
    signal_all(pids, signal.SIGKILL)
    proc.wait(10)
    wait_until(lambda: not any(alive(p) for p in pids), 10, "the killed tree to disappear", 0.01)
    return names
