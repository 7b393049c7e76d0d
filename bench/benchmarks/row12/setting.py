"""Row 12, default and tuned intervals: one primary, the S3 rate with no follower; then
one follower node: commit → visible in windows (the node started afresh before each
further one), the S3 rate with it, health; tuned only: the same under wrk load on the
node, its footprint idle and following, and SIGKILL → restarted → caught up."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

from ..common.figures import stats
from ..common.procs import Proc, alive, comm, cpu_s, descendants
from ..common.system import log
from ..context import Bench
from .nodes import FOLLOW_POLL, FOLLOW_RATE, follow_node, follow_primary, follow_ready, follower_status, stop_nodes
from .probes import Committer, Health, Probe, footprint, s3_rate, visible, visible_summary


class Setting:
    """One setting's pieces; close() stops whatever is still running."""

    def __init__(self, b: Bench, moto: Proc, tuned: bool, primary: Proc, d: Path, db: Path):
        self.b, self.moto, self.tuned = b, moto, tuned
        self.label = "tuned" if tuned else "default"
        self.primary, self.d, self.db = primary, d, db
        self.secs = b.args.follow_seconds
        self.times: dict[int, float] = {}
        self.nodes: list[dict] = []
        self.committer: Committer | None = None
        self.probe: Probe | None = None
        self.runs: list[dict] = []
        self.healths: list[dict] = []

    def close(self):
        for x in (self.probe, self.committer):
            if x is not None:
                try:
                    x.stop()
                except RuntimeError as e:
                    log(f"row 12: {e}")
        stop_nodes(self.b, self.nodes, f"follow-{self.label}")
        self.b.stop(self.primary, f"follow-{self.label}-primary")


def follow_setting(b: Bench, moto: Proc, endpoint: str, key: dict, tuned: bool) -> dict:
    label = "tuned" if tuned else "default"
    out: dict = {}
    primary, d, db = follow_primary(b, endpoint, key, tuned, label)
    s = Setting(b, moto, tuned, primary, d, db)
    try:
        s.committer = Committer(db, s.times, FOLLOW_RATE)
        time.sleep(3)
        t0 = time.monotonic()
        time.sleep(b.args.follow_seconds * 2 / 3)
        out["s3_primary"] = s3_rate(moto, t0, time.monotonic())
        first_window(s, out)
        # The primary's sync ticker and the follower's poll ticker keep one phase for a
        # whole window (with equal periods the wait between them is the same for every
        # commit): each further window gets a follower node started afresh (SIGTERM, then
        # the same `datasette serve`), hence a phase of its own.
        for _ in range(b.args.follow_reps - 1):
            another_window(s)
        summarise_windows(s, out)
        if tuned:
            under_load(s, out)  # 3.
            footprints(s, out)  # 4.
            # 5. SIGKILL the node, commit 100 rows, start it again.
            out["restart"] = follow_restarts(b, d, s.nodes, db, s.times, tuned)
        out["follower"] = follower_status(s.nodes[0])
        out["s3_whole_part"] = s3_rate(moto, moto.t0, time.monotonic())
    finally:
        s.close()
    return out


def first_window(s: Setting, out: dict) -> None:
    """The follower node made (`follow --init`) and started; the first window, with the
    S3 rate and moto's CPU over it."""
    s.nodes.append(follow_node(s.d, 0, s.tuned))
    node = s.nodes[0]
    out["init_s"] = round(node["init_s"], 2)
    out["ready_s"], out["caught_up_s"] = (round(x, 2) for x in follow_ready(node, max(s.times)))
    time.sleep(2)
    s.probe = Probe(node["port"], FOLLOW_POLL)
    time.sleep(1)
    t0, m0 = time.monotonic(), cpu_s(s.moto.pid)
    health = Health(node["port"])
    time.sleep(s.secs)
    s.healths.append(health.stop())
    t1 = time.monotonic()
    out["s3_one_follower"] = s3_rate(s.moto, t0, t1)
    out["s3_one_follower"]["moto_cpu_pct"] = round((cpu_s(s.moto.pid) - m0) / (t1 - t0) * 100, 1)
    out["s3_per_follower_per_s"] = round(out["s3_one_follower"]["per_s"] - out["s3_primary"]["per_s"], 2)
    s.runs.append(visible(s.times, s.probe, t0, t1))
    run = s.runs[0]
    log(
        f"row 12 {s.label}: visible p50 {run['p50']:.3f} s p99 {run['p99']:.3f} s "
        f"(n={run['n']}, missing {run['missing']}); S3 {out['s3_one_follower']['per_s']} "
        f"req/s with 1 follower, {out['s3_primary']['per_s']} primary alone"
    )


def another_window(s: Setting) -> None:
    s.probe.stop()
    s.probe = None
    s.b.stop(s.nodes[0]["proc"], f"follow-{s.label}-node0")
    s.nodes[0] = node = follow_node(s.d, 0, s.tuned, init=not (s.d / "node0" / "data.db").is_symlink())
    follow_ready(node, max(s.times))
    s.probe = Probe(node["port"], FOLLOW_POLL)
    time.sleep(1)
    t0 = time.monotonic()
    health = Health(node["port"])
    time.sleep(s.secs)
    s.healths.append(health.stop())
    s.runs.append(visible(s.times, s.probe, t0, time.monotonic()))
    log(f"row 12 {s.label}, node started again: visible p50 {s.runs[-1]['p50']:.3f} s p99 {s.runs[-1]['p99']:.3f} s")


def summarise_windows(s: Setting, out: dict) -> None:
    out["visible_runs"] = s.runs
    out["visible"] = visible_summary(s.runs)
    healths = s.healths
    out["health"] = {
        "windows": healths,
        "asks": sum(h["asks"] for h in healths),
        "not_200": sum(h["not_200"] for h in healths),
        "max_staleness_s": max(h["max_staleness_s"] for h in healths),
        "max_lag": 5,
    }
    log(
        f"row 12 {s.label}: health max-lag=5 not 200 in {out['health']['not_200']} of {out['health']['asks']} "
        f"asks, largest staleness {out['health']['max_staleness_s']} s"
    )


def under_load(s: Setting, out: dict) -> None:
    """wrk on the node's table page while committing (the probe keeps asking)."""
    node = s.nodes[0]
    t0 = time.monotonic()
    wrk = s.b.load(node["port"], "/data/t?_size=50", 2, 10, s.b.args.follow_load_seconds)
    t1 = time.monotonic()
    out["load"] = {
        "path": "/data/t?_size=50",
        "wrk": wrk,
        "visible": visible(s.times, s.probe, t0, t1),
        "follower": follower_status(node),
    }
    log(
        f"row 12 under load: {wrk['rps']:.0f} req/s, visible p50 {out['load']['visible']['p50']:.3f} s "
        f"p99 {out['load']['visible']['p99']:.3f} s"
    )
    s.probe.stop()
    s.probe = None


def footprints(s: Setting, out: dict) -> None:
    """Footprint, no probe: idle, then following 10 commits/s."""
    node = s.nodes[0]
    s.committer.stop()
    s.committer = None
    time.sleep(3)
    t0 = time.monotonic()
    out["footprint_idle"] = footprint(node, s.b.args.follow_cpu_seconds)
    out["footprint_idle"]["s3"] = s3_rate(s.moto, t0, time.monotonic())
    s.committer = Committer(s.db, s.times, FOLLOW_RATE)
    time.sleep(2)
    t0 = time.monotonic()
    out["footprint_following"] = footprint(node, s.b.args.follow_cpu_seconds)
    out["footprint_following"]["s3"] = s3_rate(s.moto, t0, time.monotonic())
    s.committer.stop()
    s.committer = None
    log(f"row 12 footprint idle {out['footprint_idle']}, following {out['footprint_following']}")


def follow_restarts(b: Bench, d: Path, nodes: list[dict], db: Path, times: dict, tuned: bool) -> dict:
    ready, caught, symlinks, survivors = [], [], [], []
    for _ in range(b.args.follow_restarts):
        node = nodes[0]
        pids = [node["proc"].pid] + descendants(node["proc"].pid)
        os.kill(node["proc"].pid, signal.SIGKILL)  # Datasette only: the host dies of its parent's death
        node["proc"].p.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(p) for p in pids[1:]) and time.monotonic() < deadline:
            time.sleep(0.02)
        left = [f"{comm(p)} {p}" for p in pids[1:] if alive(p)]
        survivors.append(left)
        for p in pids[1:]:
            if alive(p):
                os.kill(p, signal.SIGKILL)
        symlink = (node["dir"] / "data.db").is_symlink()
        symlinks.append(symlink)
        conn = sqlite3.connect(db, timeout=30)
        for _ in range(100):
            cur = conn.execute("insert into t (ts, payload) values (?, ?)", (time.time(), "after the kill"))
            conn.commit()
            times[cur.lastrowid] = time.monotonic()
        conn.close()
        newest = max(times)
        nodes[0] = follow_node(d, 0, tuned, init=not symlink)
        r, c = follow_ready(nodes[0], newest, timeout=120)
        ready.append(r)
        caught.append(c)
        log(
            f"row 12 restart: HTTP ready {r:.2f} s, newest row served {c:.2f} s (symlink kept: {symlink}, "
            f"left alive after SIGKILL: {left or 'none'})"
        )
        time.sleep(1)
    return {
        "ready_s": stats(ready),
        "caught_up_s": stats(caught),
        "symlink_kept": symlinks,
        "left_alive_after_sigkill": survivors,
    }
