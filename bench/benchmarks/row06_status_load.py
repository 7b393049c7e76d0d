"""Row 6: status page throughput and p99 (wrk), the Python plugin's page beside ours in
Datasette and standalone (HTML and JSON), with metrics on; and each page's size."""

from __future__ import annotations

import time

from .common.figures import stats
from .common.net import get, wait_http, wait_replicas
from .common.system import log
from .context import Bench

TARGETS = (
    ("py", "py", "/-/litestream-status", "Python plugin's page in Datasette"),
    ("ours", "ours", "/-/litestream-status", "ours in Datasette, HTML"),
    ("ours-json", "ours", "/-/litestream-status.json", "ours in Datasette, JSON"),
    ("run", "run", "/-/litestream-status", "ours standalone (run --status-addr), HTML"),
    ("run-json", "run", "/-/litestream-status.json", "ours standalone, JSON"),
)


def run(b: Bench) -> dict:
    servers = {}
    sizes = {}
    runs = {t[0]: [] for t in TARGETS}
    try:
        # All three servers up at once (idle between load runs), load runs interleaved.
        for kind in ("py", "ours", "run"):
            proc, port, reps = b.serve_status(kind)
            servers[kind] = (proc, port)
            wait_http(proc, port, "/-/litestream-status.json" if kind == "run" else "/-/versions.json")
            wait_replicas(proc, reps)
        time.sleep(b.args.settle)
        for key, kind, path, label in TARGETS:
            status, body = get(servers[kind][1], path)
            if status != 200:
                raise RuntimeError(f"{label}: HTTP {status}: {body[:300]!r}")
            sizes[key] = len(body)
        for _ in range(b.reps):
            for key, kind, path, _ in TARGETS:
                runs[key].append(b.load(servers[kind][1], path, 2, 10, b.args.load_seconds))
    finally:
        for kind, (proc, _) in servers.items():
            b.stop(proc, f"status-{kind}")
    out = {}
    for key, _, _, label in TARGETS:
        r = runs[key]
        out[key] = {
            "label": label,
            "bytes": sizes[key],
            "rps": {"unit": "req/s", **stats([x["rps"] for x in r])},
            "p50_ms": {"unit": "ms", **stats([x["p50_ms"] for x in r])},
            "p99_ms": {"unit": "ms", **stats([x["p99_ms"] for x in r])},
            "errors": sum(x["errors"] for x in r),
            "tool": r[0]["tool"],
        }
        log(
            f"row 6 {label}: {out[key]['rps']['median']:.0f} req/s, p99 {out[key]['p99_ms']['median']:.1f} ms, "
            f"{sizes[key]} B"
        )
    return out
