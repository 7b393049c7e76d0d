"""Rows 2 and 3, measured in the same runs: Datasette start → HTTP ready, and the RSS of
the process tree 2 s (--settle) after it (or after `run` says `replicating [`)."""

from __future__ import annotations

import time

from .common.figures import median_parts, stats
from .common.net import free_port, wait_http
from .common.paths import OURS_DEFAULT_LS
from .common.procs import rss_kb, tree_rss
from .common.system import log
from .context import Bench

LABELS = {
    "plain": "datasette, no plugin",
    "py": "datasette + Python plugin 0.2a0",
    "ours": f"datasette + ours (Litestream {OURS_DEFAULT_LS})",
    "ours-0.3.13": "datasette + ours (Litestream 0.3.13)",
    "run-0.5.17": "datasette-litestream run + Litestream 0.5.17 (tree)",
    "run-0.3.13": "datasette-litestream run + Litestream 0.3.13 (tree)",
    "alone-0.5.17": "Litestream 0.5.17 alone",
    "alone-0.3.13": "Litestream 0.3.13 alone",
}


def measure(b: Bench, key: str, r_vals: dict, m_vals: dict, h_vals: dict, parts: dict) -> None:
    """One repetition of one variant: its ready time (Datasette), RSS, host RSS (run)."""
    kind, _, ls = key.partition("-")
    ls = ls or OURS_DEFAULT_LS
    if kind == "alone":
        proc, _ = b.litestream_alone(ls)
    else:
        d, dbs = b.fresh()
        conf, _ = b.config(d, dbs)
        port = free_port()
        proc = b.start(kind, d, dbs, conf, port=port, ls=ls)
    try:
        if kind == "run":
            if not proc.wait_line("datasette-litestream: replicating ["):
                raise RuntimeError(f"run did not report replicating:\n{proc.tail()}")
            time.sleep(b.args.settle)
            h_vals[key].append(rss_kb(proc.pid) / 1024)
        elif kind == "alone":
            time.sleep(b.args.settle)
        else:
            t = wait_http(proc, port)
            r_vals[key].append(t)
            time.sleep(max(0.0, proc.t0 + t + b.args.settle - time.monotonic()))
        total, by = tree_rss(proc.pid)
        m_vals[key].append(total)
        parts[key].append(by)
    finally:
        b.stop(proc, key)


def run(b: Bench) -> tuple[dict, dict]:
    r_vals = {k: [] for k in LABELS}
    m_vals = {k: [] for k in LABELS}
    h_vals = {k: [] for k in LABELS}
    parts = {k: [] for k in LABELS}
    for _ in range(b.reps):  # interleaved, as in row 1
        for key in LABELS:
            measure(b, key, r_vals, m_vals, h_vals, parts)
    ready, rss = {}, {}
    for key, label in LABELS.items():
        if r_vals[key]:
            ready[key] = {"label": label, "unit": "s", **stats(r_vals[key])}
        rss[key] = {"label": label, "unit": "MiB", **stats(m_vals[key]), "by_process": median_parts(parts[key])}
        if h_vals[key]:
            ls = key.split("-", 1)[1]
            rss[f"host-{ls}"] = {
                "label": f"its host process alone (with {ls})",
                "unit": "MiB",
                **stats(h_vals[key]),
            }
        log(
            f"row 2/3 {label}: "
            + (f"ready {ready[key]['median']:.3f} s, " if key in ready else "")
            + f"RSS {rss[key]['median']:.1f} MiB"
        )
    return ready, rss
