"""Row 12, scale: tuned; a fresh primary and n follower nodes on one S3 server."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from ..common.net import wait_http
from ..common.procs import Proc, cpu_s
from ..common.system import log
from ..context import Bench
from .nodes import FOLLOW_POLL, FOLLOW_RATE, follow_node, follow_primary, follow_ready, follower_status, stop_nodes
from .probes import Committer, Probe, s3_rate, visible


def start_nodes(d: Path, n: int, nodes: list[dict], times: dict) -> list[float | None]:
    """The nodes made (`--init`, one after another, appended to nodes) and started
    together; the seconds from the start until each served the newest row (None: still
    behind after 60 s, then measured as it is)."""
    t_start = time.monotonic()
    for i in range(n):
        nodes.append(follow_node(d, i, True))
    caught: list[float | None] = []
    newest = max(times)
    for node in nodes:
        wait_http(node["proc"], node["port"], timeout=120)
    for node in nodes:  # a node still behind after 60 s is measured as it is
        try:
            caught.append(round(follow_ready(node, newest, timeout=max(1.0, t_start + 60 - time.monotonic()))[1], 2))
        except RuntimeError:
            caught.append(None)
    return caught


def follow_scale(b: Bench, moto: Proc, endpoint: str, key: dict, n: int) -> dict:
    """Tuned; a fresh primary and n follower nodes on one S3 server, committing 10/s:
    the nodes are made (`--init`, one after another) and started together; then
    commit → visible per follower (each node asked by its own probe), the S3 request
    rate and moto's CPU. A node that cannot keep up is measured, not dropped."""
    times: dict[int, float] = {}
    primary, d, db = follow_primary(b, endpoint, key, True, f"scale{n}")
    nodes: list[dict] = []
    probes: list = []
    committer = None
    try:
        committer = Committer(db, times, FOLLOW_RATE)
        time.sleep(2)
        caught = start_nodes(d, n, nodes, times)
        # Every node asked every 20 ms would be n × 50 Datasette requests a second on 2
        # cores; with more than 5 nodes each is asked every n × 10 ms (100 asks a second in all).
        interval = max(FOLLOW_POLL, n / 100)
        probes = [Probe(node["port"], interval) for node in nodes]
        time.sleep(3)
        t0, m0 = time.monotonic(), cpu_s(moto.pid)
        load0 = os.getloadavg()[0]
        time.sleep(b.args.follow_seconds)
        t1 = time.monotonic()
        s3 = s3_rate(moto, t0, t1)
        s3["moto_cpu_pct"] = round((cpu_s(moto.pid) - m0) / (t1 - t0) * 100, 1)
        load1 = os.getloadavg()[0]
        ids = [i for i, t in list(times.items()) if t0 <= t < t1]
        deadline = time.monotonic() + 30  # one grace period for all the probes together
        while ids and time.monotonic() < deadline and any(max(ids) not in p.seen for p in probes):
            time.sleep(0.05)
        per = [visible(times, p, t0, t1, grace=0) for p in probes]
        out = summary(per, interval, s3, caught, nodes, [round(load0, 2), round(load1, 2)])
        out["s3_whole_part"] = s3_rate(moto, moto.t0, t1)
        log(
            f"row 12 {n} followers: slowest p50 {out['slowest']['p50']} p99 {out['slowest']['p99']} missing "
            f"{out['slowest']['missing']}; "
            f"median p50 {out['median_p50']} p99 {out['median_p99']}; S3 {s3['per_s']} req/s, moto CPU "
            f"{s3['moto_cpu_pct']} %; caught up before the window {out['caught_up_before_window']}/{n}"
        )
        return out
    finally:
        for p in probes:
            p.stop()
        if committer is not None:
            try:
                committer.stop()
            except RuntimeError as e:
                log(f"row 12: {e}")
        stop_nodes(b, nodes, f"follow-scale{n}")
        b.stop(primary, f"follow-scale{n}-primary")


def summary(per: list[dict], interval: float, s3: dict, caught: list, nodes: list[dict], loadavg: list) -> dict:
    p50s = [x["p50"] for x in per if x["p50"] is not None]
    p99s = [x["p99"] for x in per if x["p99"] is not None]
    return {
        "poll_interval_s": interval,
        "s3": s3,
        "per_follower": per,
        "slowest": max(per, key=lambda x: (x["missing"], x["p99"] or 0)),
        "median_p50": statistics.median(p50s) if p50s else None,
        "median_p99": statistics.median(p99s) if p99s else None,
        "missing": sum(x["missing"] for x in per),
        "start_to_caught_up_s": caught,
        "caught_up_before_window": sum(c is not None for c in caught),
        "followers": [follower_status(node) for node in nodes],
        "loadavg_1m": loadavg,
    }
