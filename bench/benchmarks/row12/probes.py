"""Row 12's measuring threads and figures: the committer on the primary, the probe of
a follower's JSON API, the health asker, commit → visible, moto's request rate, and a
node's footprint."""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import statistics
import threading
import time
from pathlib import Path

from ..common.figures import pct
from ..common.net import get
from ..common.procs import Proc, comm, cpu_s, descendants, rss_kb
from .nodes import follower_status


class Committer:
    """Commits one row every 1/rate s into the primary (own connection, own thread);
    `times` maps each row id to the monotonic time its commit returned."""

    def __init__(self, db: Path, times: dict, rate: float):
        self.db, self.times, self.rate = db, times, rate
        self.stop_ev = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn = sqlite3.connect(self.db, timeout=30)
            next_t = time.monotonic()
            while not self.stop_ev.is_set():
                cur = conn.execute("insert into t (ts, payload) values (?, ?)", (time.time(), "x" * 100))
                conn.commit()
                self.times[cur.lastrowid] = time.monotonic()
                next_t += 1 / self.rate
                self.stop_ev.wait(max(0.0, next_t - time.monotonic()))
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.error = e

    def stop(self):
        self.stop_ev.set()
        self.thread.join(timeout=30)
        if self.error:
            raise RuntimeError(f"committing on the primary failed: {self.error!r}")


class Probe:
    """Asks one follower's JSON API every `interval` s for rows newer than the
    newest it has seen (keep-alive connection); `seen` maps a row id to the
    monotonic time of the answer that first carried it."""

    def __init__(self, port: int, interval: float):
        self.port, self.interval = port, interval
        self.seen: dict[int, float] = {}
        self.last = 0
        self.asks = self.errors = 0
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        c = None
        while not self.stop_ev.is_set():
            t = time.monotonic()
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", f"/data/t.json?id__gt={self.last}&_shape=array&_size=max")
                r = c.getresponse()
                body = r.read()
                now = time.monotonic()
                self.asks += 1
                if r.status != 200:
                    raise ValueError(r.status)
                for row in json.loads(body):
                    self.seen.setdefault(row["id"], now)
                    self.last = max(self.last, row["id"])
            except (OSError, http.client.HTTPException, ValueError):
                self.errors += 1
                if c is not None:
                    c.close()
                c = None
            self.stop_ev.wait(max(0.0, self.interval - (time.monotonic() - t)))
        if c is not None:
            c.close()

    def stop(self):
        self.stop_ev.set()
        self.thread.join(timeout=30)


class Health:
    """Asks a node's `/-/litestream-health?max-lag=N` and its status JSON every
    second: how many answers were not 200, and the largest staleness it reported."""

    def __init__(self, port: int, max_lag: int = 5):
        self.port, self.max_lag = port, max_lag
        self.asks = self.not_200 = 0
        self.max_staleness = 0.0
        self.examples: list[str] = []
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_ev.wait(1.0):
            try:
                code, body = get(self.port, f"/-/litestream-health?max-lag={self.max_lag}", timeout=5)
                self.asks += 1
                if code != 200:
                    self.not_200 += 1
                    self.examples = (self.examples + [body.decode(errors="replace").strip()[:300]])[:3]
                lag = (follower_status({"port": self.port}) or {}).get("lag") or {}
                self.max_staleness = max(self.max_staleness, lag.get("staleness_seconds") or 0.0)
            except (OSError, http.client.HTTPException, ValueError):
                pass

    def stop(self) -> dict:
        self.stop_ev.set()
        self.thread.join(timeout=30)
        return {
            "max_lag": self.max_lag,
            "asks": self.asks,
            "not_200": self.not_200,
            "max_staleness_s": round(self.max_staleness, 1),
            "examples": self.examples,
        }


def visible(times: dict, probe: Probe, t0: float, t1: float, grace: float = 30) -> dict:
    """Commit → visible latencies of the rows committed in [t0, t1): waits up to
    `grace` s for the probe to see the last of them."""
    ids = [i for i, t in list(times.items()) if t0 <= t < t1]
    deadline = time.monotonic() + grace
    while ids and max(ids) not in probe.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    lat = [probe.seen[i] - times[i] for i in ids if i in probe.seen]
    return {
        "n": len(lat),
        "missing": len(ids) - len(lat),
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "max": max(lat) if lat else None,
        "asks": probe.asks,
        "ask_errors": probe.errors,
    }


def visible_summary(runs: list[dict]) -> dict:
    """Windows with a node started afresh each: medians of their p50s and p99s."""
    p50s = [r["p50"] for r in runs if r["p50"] is not None]
    p99s = [r["p99"] for r in runs if r["p99"] is not None]
    return {
        "runs": len(runs),
        "n": sum(r["n"] for r in runs),
        "missing": sum(r["missing"] for r in runs),
        "p50": statistics.median(p50s) if p50s else None,
        "p99": statistics.median(p99s) if p99s else None,
        "p50_range": [min(p50s), max(p50s)] if p50s else None,
        "p99_range": [min(p99s), max(p99s)] if p99s else None,
    }


S3_LINE = re.compile(r'"(?:\x1b\[[\d;]*m)*([A-Z]+) (\S+) HTTP/')  # werkzeug colours some lines


def s3_rate(moto: Proc, t0: float, t1: float) -> dict:
    """moto's request log lines (one per request) read in [t0, t1): requests/s and by kind."""
    with moto.cond:
        texts = [text for t, _, text in moto.lines if t0 <= t < t1]
    kinds: dict[str, int] = {}
    lists: dict[str, int] = {}  # LIST requests by their query without the prefix's TXID-ish tail
    for text in texts:
        m = S3_LINE.search(text)
        if m:
            method, path = m.groups()
            kind = "LIST" if method == "GET" and "list-type=" in path else method
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == "LIST":
                shape = re.sub(r"(start-after|continuation-token)=[^&]*", r"\1=…", path.split("?", 1)[-1])
                lists[shape] = lists.get(shape, 0) + 1
    total = sum(kinds.values())
    return {
        "requests": total,
        "seconds": round(t1 - t0, 2),
        "per_s": round(total / (t1 - t0), 2),
        "by_kind": dict(sorted(kinds.items())),
        "lists": dict(sorted(lists.items(), key=lambda kv: -kv[1])),
    }


def footprint(node: dict, seconds: float) -> dict:
    """A node over `seconds`: CPU % from /proc/PID/stat (utime+stime) and RSS at the
    end, of Datasette and of its host with the host's litestream children."""
    ds = node["proc"].pid
    others = descendants(ds)
    names = sorted({comm(p) for p in others})
    c0 = {p: cpu_s(p) for p in [ds] + others}
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    others = [p for p in descendants(ds) if p in c0]  # a process restarted meanwhile is not counted
    cpu = lambda ps: round(sum(cpu_s(p) - c0[p] for p in ps) / wall * 100, 2)  # noqa: E731
    return {
        "seconds": round(wall, 1),
        "cpu_pct_datasette": cpu([ds]),
        "cpu_pct_host_tree": cpu(others),
        "rss_mib_datasette": round(rss_kb(ds) / 1024, 1),
        "rss_mib_host_tree": round(sum(rss_kb(p) for p in others) / 1024, 1),
        "host_tree": names,
    }
