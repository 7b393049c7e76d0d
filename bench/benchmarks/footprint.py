"""The host's footprint, `release` beside `dist` (the wheels' profile), in one run.

    bench/footprint.py          # builds target/dist/datasette-litestream when missing

For each profile: the host's size stripped, `render` wall time with no cache anywhere
(median of 20), and the host's RSS (and how much of it is file-backed pages of its own
binary) 8 s after `run` started replicating 1 and 100 databases to `file://` replicas
with Litestream 0.5.17. Writes bench/results/footprint.{md,json}. Standard library only.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from .common.paths import DIST_HOST, HOST, LITESTREAM, RESULTS, ROOT
from .common.procs import clean_env

LITESTREAM_05 = LITESTREAM["0.5.17"]
HOSTS = {"release": HOST, "dist": DIST_HOST}


def stripped_size(binary: Path) -> int:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "host"
        subprocess.run(["strip", "-o", str(out), str(binary)], check=True)
        return out.stat().st_size


def databases(directory: Path, n: int) -> list[str]:
    names = []
    for i in range(n):
        name = f"db{i}"
        with sqlite3.connect(directory / f"{name}.db") as c:
            c.execute("pragma journal_mode=wal")
            c.execute("create table t (x)")
        names.append(f"{name}.db")
    replica = directory / "replica"
    (directory / "metadata.yaml").write_text(
        f"plugins:\n  datasette-litestream:\n    all-replicate:\n      - file://{replica}/$DB_NAME\n"
    )
    return names


def render_ms(host: Path, directory: Path, files: list[str]) -> float:
    times = []
    for _ in range(20):
        start = time.perf_counter()
        subprocess.run(
            [host, "render", *files, "-m", "metadata.yaml", "--litestream-version", "v0.5.17"],
            cwd=directory,
            check=True,
            capture_output=True,
            env={**os.environ, "DATASETTE_LITESTREAM_CACHE": str(directory / "no-cache")},
        )
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rss_kib(pid: int, binary: Path) -> tuple[int, int]:
    """(RSS, of which pages of the binary itself) in KiB."""
    total = own = 0
    current = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5:
                current = head[5] if len(head) > 5 else ""
            elif line.startswith("Rss:"):
                kib = int(head[1])
                total += kib
                if current == str(binary):
                    own += kib
    return total, own


def replicating_rss(host: Path, n: int) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as d:
        directory = Path(d)
        files = databases(directory, n)
        env = clean_env()
        p = subprocess.Popen(
            [host, "run", *files, "-m", "metadata.yaml", "--litestream", LITESTREAM_05],
            cwd=directory,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            for line in p.stderr:
                if "datasette-litestream: replicating" in line:
                    break
            time.sleep(8)
            return rss_kib(p.pid, host.resolve())
        finally:
            p.terminate()
            p.wait(60)


def main() -> None:
    if not shutil.which("strip"):
        raise SystemExit("footprint: needs strip (binutils)")
    if not HOSTS["dist"].exists():
        subprocess.run(["cargo", "build", "--profile", "dist", "-p", "datasette-litestream"], cwd=ROOT, check=True)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "profiles": {}}
    for profile, host in HOSTS.items():
        with tempfile.TemporaryDirectory() as d:
            files = databases(Path(d), 1)
            render = render_ms(host, Path(d), files)
        r = {"stripped_bytes": stripped_size(host), "render_ms": render}
        for n in (1, 100):
            r[f"rss_kib_{n}"], r[f"rss_own_kib_{n}"] = replicating_rss(host, n)
        result["profiles"][profile] = r
        print(profile, r, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "footprint.json").write_text(json.dumps(result, indent=1))
    rows = [
        "# The host's footprint: `release` (tests) beside `dist` (wheels)",
        "",
        f"{result['date']}; {os.cpu_count()} CPUs; Litestream 0.5.17, `file://` replicas (bench/footprint.py).",
        "",
        "| | release | dist |",
        "|---|---|---|",
    ]
    p = result["profiles"]

    def row(label, key, fmt):
        rows.append(f"| {label} | {fmt(p['release'][key])} | {fmt(p['dist'][key])} |")

    row("host, stripped", "stripped_bytes", lambda v: f"{v / 1e6:.1f} MB")
    row("`render`, no cache (median of 20)", "render_ms", lambda v: f"{v:.1f} ms")
    for n in (1, 100):
        row(f"RSS replicating {n} database(s)", f"rss_kib_{n}", lambda v: f"{v / 1024:.1f} MiB")
        row(f"… of which the binary's own pages ({n})", f"rss_own_kib_{n}", lambda v: f"{v / 1024:.1f} MiB")
    (RESULTS / "footprint.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))
