"""Row 13: `durable-writes` — insert latency and crash loss, against a real S3 (moto).

    bench/durable.py                      # the whole run: latency 1/10/50 writers x 10 s, 50 kills per mode
    bench/durable.py --quick              # 3 kills per mode, 3 s latency runs, to try it out
    bench/durable.py --kills 20 --modes a,b --parts crash

Writes bench/results/row-13.md (the tables, the machine, the date) and
bench/results/row-13.json (every raw value). Standard library only; it runs the
project's own pieces: ../.venv (Datasette 1.0a41, moto_server, boto3 for
tests/support/s3admin.py), Litestream 0.5.17 from ../.venv/litestream, the plugin
from python/ (python/tests/run_datasette.py) and target/release/datasette-litestream
as it is (never built here).

Part 1, latency: one `datasette serve` per mode (plain, durable), 1/10/50 writer
threads (one keep-alive http.client connection each) POST one row per request to
/data/items/-/insert for --seconds; p50/p99 of the 201 answers, and the writes per
sync from the counters datasette_litestream_durable_{writes,syncs}_total before and
after (n/a while the host does not publish them).

Part 2, crash loss, per kill: a fresh database and replica path; one writer thread
posts a row every --interval s (or as soon as the previous answer came, when slower)
and records every 201; at a random moment 2–6 s after writing starts the whole
process tree (datasette, the host, Litestream) is stopped and killed at once, the
local files deleted, and the replica restored (`litestream restore`) into a fresh
file. Modes: a plain; b durable-writes; c durable-writes with moto frozen (SIGSTOP)
from that random moment for --freeze s, killed while frozen; d plain with the same
freeze. Moto is resumed (SIGCONT) before the restore. In mode c, durable-timeout is
--freeze-timeout (below the freeze, so that the frozen writes are answered 504).
"""

from __future__ import annotations

import argparse
import datetime
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..common.paths import HOST, MAIN_PY, MOTO_SERVER, RESULTS, RUN_DATASETTE, S3ADMIN
from ..common.system import loadavg, log, machine, sample_load, version_of
from .crash import crash_mode
from .latency import latency_mode
from .report import compact_json, report
from .server import LITESTREAM_05, MODES, STEM, Moto


def check_tools() -> None:
    missing = [str(p) for p in (MAIN_PY, MOTO_SERVER, S3ADMIN, RUN_DATASETTE, HOST, LITESTREAM_05) if not p.exists()]
    if missing:
        sys.exit("missing (run scripts/setup; build the host yourself):\n  " + "\n  ".join(missing))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 kills per mode and 3 s latency runs")
    ap.add_argument("--kills", type=int, default=None, help="kills per crash mode (default 50; --quick 3)")
    ap.add_argument("--seconds", type=float, default=None, help="length of each latency run (default 10; --quick 3)")
    ap.add_argument("--modes", default="a,b,c,d", help="crash modes to run, of a,b,c,d")
    ap.add_argument("--parts", default="latency,crash", help="latency, crash or both")
    ap.add_argument("--concurrency", default="1,10,50", help="writer threads per latency run")
    ap.add_argument("--interval", type=float, default=0.02, help="seconds between the crash writer's rows")
    ap.add_argument("--freeze", type=float, default=3.0, help="seconds moto is frozen before the kill (c, d)")
    ap.add_argument("--freeze-timeout", type=float, default=1.0, help="durable-timeout in mode c")
    ap.add_argument("--durable-timeout", type=float, default=10.0, help="the default durable-timeout (client timeouts)")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds between resuming moto and the restore")
    ap.add_argument("--seed", type=int, default=None, help="random seed of the kill moments")
    args = ap.parse_args()
    args.kills = args.kills if args.kills is not None else (3 if args.quick else 50)
    args.seconds = args.seconds if args.seconds is not None else (3.0 if args.quick else 10.0)
    args.modes = [m for m in args.modes.split(",") if m]
    args.parts = [p for p in args.parts.split(",") if p]
    args.concurrency = [int(n) for n in args.concurrency.split(",") if n]
    args.seed = args.seed if args.seed is not None else random.randrange(2**32)
    bad = [m for m in args.modes if m not in MODES] + [p for p in args.parts if p not in ("latency", "crash")]
    if bad:
        ap.error(f"unknown mode or part: {', '.join(bad)}")
    return args


def run(args, res: dict, work: Path) -> None:
    moto = Moto(work)
    try:
        if "latency" in args.parts:
            res["latency"] = {}
            for durable in (False, True):
                res["latency"]["durable" if durable else "plain"] = latency_mode(moto, work, durable, args)
        if "crash" in args.parts:
            res["crash"] = {}
            rng = random.Random(args.seed)
            for mode in args.modes:
                crash_mode(moto, work, mode, rng, args, res["crash"].setdefault(mode, {}))
    finally:
        moto.stop()


def main():
    args = parse_args()
    check_tools()
    RESULTS.mkdir(parents=True, exist_ok=True)
    res = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "args": vars(args),
        "machine": machine(memory=False),
        "litestream": version_of([LITESTREAM_05, "version"], line=-1),
        "moto": version_of([MAIN_PY, "-c", "import moto; print(moto.__version__)"], line=-1),
    }
    work = Path(tempfile.mkdtemp(prefix="dl-durable-"))
    samples: list = []
    stop = threading.Event()
    threading.Thread(target=sample_load, args=(samples, stop), daemon=True).start()
    log(f"work directory {work}; seed {args.seed}")
    started = time.monotonic()
    try:
        run(args, res, work)
    finally:
        stop.set()
        res["machine"].update(
            {
                "loadavg_at_end": loadavg(),
                "samples": len(samples),
                "loadavg_median": statistics.median([x for x, _ in samples]) if samples else None,
                "samples_with_cargo_or_rustc": sum(1 for _, n in samples if n),
            }
        )
        res["duration_s"] = time.monotonic() - started
        (RESULTS / f"{STEM}.json").write_text(compact_json(res) + "\n")
        (RESULTS / f"{STEM}.md").write_text(report(res))
        shutil.rmtree(work, ignore_errors=True)
    log(f"done in {res['duration_s'] / 60:.1f} min: {RESULTS / (STEM + '.md')}")
