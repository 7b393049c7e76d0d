"""Row 10: replication lag (ours only: the Python plugin has no lag figure). Litestream
frozen → health 503 and resumed → 200; a soak of write bursts counting false alarms;
the cost of looking, with 1 and 100 databases."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

from .common.figures import stats
from .common.fixtures import commit
from .common.net import free_port, get, until
from .common.procs import comm, cpu_seconds, descendants
from .common.system import log
from .context import Bench


def lag_host(b: Bench, ls: str, dbs_n: int = 1):
    """`run --status-addr` of dbs_n databases (all-replicate, file://); (proc, port, dbs)."""
    d, dbs = b.fresh(dbs_n)
    conf, _ = b.config(d, dbs, template=True)
    port = free_port()
    proc = b.start("run", d, dbs, conf, ls=ls, status_port=port)
    if proc.wait_line("datasette-litestream: replicating", timeout=120) is None:
        raise RuntimeError("run did not start:\n" + proc.tail())
    return proc, port, dbs


def replication_of(port: int, i: int = 0) -> dict:
    status, body = get(port, "/-/litestream-status.json")
    if status != 200:
        raise RuntimeError(f"status JSON HTTP {status}")
    return json.loads(body)["databases"][i].get("replication") or {}


def stall(b: Bench, ls: str, health: str) -> dict:
    """b.reps times: caught up, Litestream SIGSTOPped and a commit → health 503; SIGCONT → 200."""
    proc, port, dbs = lag_host(b, ls)
    to_503, to_200 = [], []
    try:
        ls_pid = next(p for p in descendants(proc.pid) if comm(p) == "litestream")
        for _ in range(b.reps):
            commit(dbs[0])
            until(lambda port=port: replication_of(port).get("state") == "caught-up", 30, "caught up")
            os.kill(ls_pid, signal.SIGSTOP)
            t0 = time.monotonic()
            try:
                commit(dbs[0])
                to_503.append(until(lambda port=port: get(port, health)[0] == 503, 60, "503") - t0)
            finally:
                os.kill(ls_pid, signal.SIGCONT)
            t1 = time.monotonic()
            to_200.append(until(lambda port=port: get(port, health)[0] == 200, 60, "200 again") - t1)
    finally:
        b.stop(proc, f"lag-{ls}")
    return {"to_503_s": stats(to_503), "to_200_s": stats(to_200)}


def run(b: Bench) -> dict:
    max_lag = 5
    health = f"/-/litestream-health?max-lag={max_lag}"
    out = {"max_lag_s": max_lag}
    for ls in ("0.3.13", "0.5.17"):
        out[f"stall-{ls}"] = x = stall(b, ls, health)
        log(
            f"row 10 {ls}: stall -> 503 {x['to_503_s']['median']:.2f} s (max-lag {max_lag}), "
            f"resume -> 200 {x['to_200_s']['median']:.2f} s"
        )
    out["soak"] = lag_soak(b, b.args.lag_minutes * 60)
    out["cost"] = lag_cost(b)
    return out


def soak_writer(stop: threading.Event, db: Path, seed: int, counts: dict):
    rng = random.Random(seed)
    while not stop.is_set():
        burst_end = time.monotonic() + rng.uniform(2, 20)
        while time.monotonic() < burst_end and not stop.is_set():
            commit(db)
            counts["commits"] += 1
            time.sleep(0.05)
        stop.wait(rng.uniform(5, 60))


def soak_prober(stop: threading.Event, port: int, counts: dict):
    while not stop.is_set():
        for key, path in (("default", "/-/litestream-health"), ("max_lag_5", "/-/litestream-health?max-lag=5")):
            code, body = get(port, path)
            counts["probes"] += 1
            if code != 200:
                counts[f"alarms_{key}"] += 1
                counts["examples"] = (counts["examples"] + [body.decode().strip()])[:5]
        lag = replication_of(port).get("lag_seconds") or 0
        counts["max_lag_s"] = max(counts["max_lag_s"], lag)
        stop.wait(0.25)


def lag_soak(b: Bench, seconds: float) -> dict:
    """Both lines at once for `seconds`: write bursts (a commit every 50 ms for 2-20 s)
    between idle periods (5-60 s), probes every 250 ms with the default threshold and
    with max-lag=5; counts every answer that is not 200."""
    hosts = {ls: lag_host(b, ls) for ls in ("0.3.13", "0.5.17")}
    result = {}
    stop = threading.Event()
    threads = []
    for i, (ls, (_proc, port, dbs)) in enumerate(hosts.items()):
        counts = {
            "commits": 0,
            "probes": 0,
            "alarms_default": 0,
            "alarms_max_lag_5": 0,
            "max_lag_s": 0.0,
            "examples": [],
        }
        result[ls] = counts
        threads += [
            threading.Thread(target=soak_writer, args=(stop, dbs[0], 17 + i, counts)),
            threading.Thread(target=soak_prober, args=(stop, port, counts)),
        ]
    for t in threads:
        t.start()
    try:
        time.sleep(seconds)
    finally:
        stop.set()
        for t in threads:
            t.join()
        for ls, (proc, _, _) in hosts.items():
            b.stop(proc, f"soak-{ls}")
    for ls, c in result.items():
        log(
            f"row 10 soak {ls} {seconds / 60:.0f} min: {c['commits']} commits, {c['probes']} probes, "
            f"alarms default {c['alarms_default']}, max-lag=5 {c['alarms_max_lag_5']}, max lag {c['max_lag_s']} s"
        )
    result["seconds"] = seconds
    return result


def lag_cost(b: Bench) -> dict:
    """The host's CPU per second of looking (idle, 20 s) and the standalone status
    page's throughput, with 1 and 100 databases on Litestream 0.5.17."""
    out = {}
    for n in (1, 100):
        proc, port, _ = lag_host(b, "0.5.17", n)
        try:
            until(
                lambda port=port: (
                    len(json.loads(get(port, "/-/litestream-status.json")[1])["databases"][-1].get("replication") or {})
                    > 0
                ),
                30,
                "first look",
            )
            c0, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(20)
            cpu_ms = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0) * 1000
            rps = {
                path: b.load(port, path, 2, 10, b.args.load_seconds)["rps"]
                for path in ("/-/litestream-status", "/-/litestream-status.json", "/-/litestream-health")
            }
        finally:
            b.stop(proc, f"lag-cost-{n}")
        out[f"{n}"] = {"host_cpu_ms_per_s": round(cpu_ms, 2), "rps": rps}
        log(f"row 10 cost {n} db: host CPU {cpu_ms:.1f} ms/s idle; req/s {rps}")
    return out
