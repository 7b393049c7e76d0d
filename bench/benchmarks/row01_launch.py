"""Row 1: launch → first replica file, one database (both plugins, `run`, Litestream alone)."""

from __future__ import annotations

from .common.figures import stats
from .common.net import free_port, wait_replicas
from .common.system import log
from .context import Bench

VARIANTS = {
    "py": "datasette + Python plugin 0.2a0 (Litestream v0.3.11)",
    "ours-0.5.17": "datasette + ours (Litestream 0.5.17)",
    "ours-0.3.13": "datasette + ours (Litestream 0.3.13)",
    "run-0.3.13": "datasette-litestream run, Litestream 0.3.13",
    "run-0.5.17": "datasette-litestream run, Litestream 0.5.17",
    "alone-0.3.13": "Litestream 0.3.13 alone",
    "alone-0.5.17": "Litestream 0.5.17 alone",
}


def launch_to_replica(b: Bench, variant: str) -> float:
    if variant.startswith("alone-"):
        proc, reps = b.litestream_alone(variant.split("-", 1)[1])
    else:
        d, dbs = b.fresh()
        conf, reps = b.config(d, dbs)
        if variant.startswith("run-"):
            proc = b.start("run", d, dbs, conf, ls=variant.split("-", 1)[1])
        elif variant == "py":
            proc = b.start("py", d, dbs, conf, port=free_port())
        else:  # ours-<version>
            proc = b.start("ours", d, dbs, conf, port=free_port(), ls=variant.split("-", 1)[1])
    try:
        t_first, _ = wait_replicas(proc, reps)
    finally:
        b.stop(proc, variant)
    return t_first


def run(b: Bench) -> dict:
    vals = {k: [] for k in VARIANTS}
    for _ in range(b.reps):  # interleaved, so a drift in machine load hits every variant alike
        for key in VARIANTS:
            vals[key].append(launch_to_replica(b, key))
    out = {}
    for key, label in VARIANTS.items():
        out[key] = {"label": label, "unit": "s", **stats(vals[key])}
        log(f"row 1 {label}: median {out[key]['median']:.3f} s")
    return out
