"""Row 7: growth with 1, 10 and 100 databases (all-replicate, metrics on), both plugins
in Datasette: launch → first and every replica file, HTTP ready, status page p50/p99
with one connection, and its size."""

from __future__ import annotations

import time

from .common.figures import stats
from .common.net import get, wait_http, wait_replicas
from .common.paths import OURS_DEFAULT_LS
from .common.system import log
from .context import Bench

KINDS = (("py", "Python plugin 0.2a0"), ("ours", f"ours (Litestream {OURS_DEFAULT_LS})"))


def measure(b: Bench, kind: str, n: int, r: dict) -> None:
    """One repetition of one plugin with n databases, into r's lists."""
    proc, port, reps = b.serve_status(kind, n, template=True)
    try:
        t_first, t_all = wait_replicas(proc, reps, poll=0.01)
        r["first"].append(t_first)
        r["every"].append(t_all)
        r["ready"].append(wait_http(proc, port))
        time.sleep(1.0)
        status, body = get(port, "/-/litestream-status")
        if status != 200:
            raise RuntimeError(f"status page HTTP {status}")
        r["size"] = len(body)
        x = b.load(port, "/-/litestream-status", 1, 1, b.args.scale_load_seconds)
        r["p50"].append(x["p50_ms"])
        r["p99"].append(x["p99_ms"])
    finally:
        b.stop(proc, f"scale-{kind}")


def run(b: Bench) -> dict:
    out = {}
    for n in (1, 10, 100):
        m = {k: {"first": [], "every": [], "ready": [], "p50": [], "p99": [], "size": None} for k, _ in KINDS}
        for _ in range(b.args.scale_reps):
            for kind, _ in KINDS:  # interleaved
                measure(b, kind, n, m[kind])
        for kind, label in KINDS:
            r = m[kind]
            out[f"{kind}-{n}"] = {
                "label": f"{label}, {n} database{'s' if n > 1 else ''}",
                "first_replica_s": stats(r["first"]),
                "all_replicas_s": stats(r["every"]),
                "http_ready_s": stats(r["ready"]),
                "status_p50_ms": stats(r["p50"]),
                "status_p99_ms": stats(r["p99"]),
                "status_bytes": r["size"],
            }
            log(
                f"row 7 {label} n={n}: first {stats(r['first'])['median']:.2f} s, "
                f"all {stats(r['every'])['median']:.2f} s, status p50 {stats(r['p50'])['median']:.1f} ms"
            )
    return out
