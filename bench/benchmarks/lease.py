"""`lease:` (bench/lease.py): write unavailability during a handover, rows lost, and
what the lease costs in S3 requests. Real Litestream 0.5.17 and moto; the host runs
each node as `datasette-litestream run` (no Datasette: the handover is the host's),
and a thread commits a row every 20 ms on whichever node is the primary.

- graceful: A is the primary and writing; B stands by; A gets SIGTERM right after a
  committed write. Unavailable = A's last commit -> B says "took over" and commits.
- kill: the same, A's host and Litestream SIGKILLed (a machine lost): B waits for the
  TTL (10 s here) and 2 s of grace.
- lost: rows A committed that B's database does not hold after taking over.
- requests: lock.json requests in moto's log over a minute, primary and standby.

The Python plugin 0.2a0 has no lease: two nodes on one replica corrupt it (the
measurement in issue #30), so there is nothing of its to put beside these.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from .common.figures import pct, stats
from .common.paths import HOST, LITESTREAM, RESULTS
from .common.procs import Proc, base_env, children
from .common.s3 import start_moto

TTL = 10


def node(root: Path, name: str, endpoint: str, key: dict, path: str) -> tuple[Path, Proc]:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(d / "data.db")
    db.execute("pragma journal_mode=wal")
    db.execute("create table if not exists t (id integer primary key, v text)")
    db.commit()
    db.close()
    top = {
        "access-key-id": key["access-key-id"],
        "secret-access-key": key["secret-access-key"],
        "lease": {"ttl": TTL, "owner": name},
    }
    replica = {
        "type": "s3",
        "bucket": "replicas",
        "path": path,
        "endpoint": endpoint,
        "region": "us-east-1",
        "force-path-style": True,
    }
    metadata = {
        "plugins": {"datasette-litestream": top},
        "databases": {"data": {"plugins": {"datasette-litestream": {"replicas": [replica]}}}},
    }
    (d / "metadata.json").write_text(json.dumps(metadata))
    cmd = [HOST, "run", "data.db", "-m", "metadata.json", "--litestream", LITESTREAM["0.5.17"]]
    env = {k: v for k, v in base_env().items() if k != "AWS_CA_BUNDLE"}
    return d, Proc(cmd, env, cwd=d)


class Writer:
    """Commits a row every 20 ms into one database; remembers what it committed."""

    def __init__(self, db: Path):
        self.db, self.committed, self.last = db, [], 0.0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        c = sqlite3.connect(self.db, timeout=5)
        while not self.stop_flag.is_set():
            i = len(self.committed) + 1
            c.execute("insert into t (id, v) values (?, 'a')", (i,))
            c.commit()
            self.committed.append(i)
            self.last = time.monotonic()
            time.sleep(0.02)
        c.close()

    def stop(self) -> float:
        self.stop_flag.set()
        self.thread.join()
        return self.last


def handover(root: Path, endpoint: str, key: dict, path: str, kill: bool) -> dict:
    a_dir, a = node(root, "a", endpoint, key, path)
    b = None
    try:
        assert a.wait_line("datasette-litestream: replicating", 30), a.tail()
        writer = Writer(a_dir / "data.db")
        b_dir, b = node(root, "b", endpoint, key, path)
        assert b.wait_line("lease: standby", 30), b.tail()
        time.sleep(2)
        if kill:
            ls = [p for p in children(a.pid)]
            last = writer.stop()
            for pid in [a.pid, *ls]:
                os.kill(pid, signal.SIGKILL)
        else:
            last = writer.stop()
            a.p.send_signal(signal.SIGTERM)
        took = b.wait_line("lease: took over", 60)
        assert took, b.tail()
        c = sqlite3.connect(b_dir / "data.db", timeout=5)
        held = {r[0] for r in c.execute("select id from t")}
        c.execute("insert into t (id, v) values (1000000, 'b')")
        c.commit()
        first = time.monotonic()
        c.close()
        lost = [i for i in writer.committed if i not in held]
        # Lost rows are the newest only (not yet shipped), never a gap in the history.
        tail = all(i > max(held, default=0) for i in lost)
        return {"unavailable": first - last, "committed": len(writer.committed), "lost": len(lost), "tail": tail}
    finally:
        for p in (a, b):
            if p is not None:
                p.stop()


def requests(root: Path, endpoint: str, key: dict, moto: Proc) -> dict:
    _, a = node(root, "a", endpoint, key, "requests")
    _, b = node(root, "b", endpoint, key, "requests")
    try:
        assert a.wait_line("lease: this node is the primary", 30), a.tail()
        assert b.wait_line("lease: standby", 30), b.tail()
        start = len(moto.lines)
        time.sleep(60)
        lines = [t for _, _, t in moto.lines[start:] if "lock.json" in t]
        return {
            "primary_put_per_min": sum('"PUT ' in t for t in lines),
            "standby_get_per_min": sum('"GET ' in t for t in lines),
        }
    finally:
        a.stop()
        b.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    moto, endpoint, key = start_moto()
    out: dict = {"runs": args.runs, "ttl_seconds": TTL}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for kind in ("graceful", "kill"):
                runs = [
                    handover(root / f"{kind}-{i}", endpoint, key, f"{kind}-{i}", kind == "kill")
                    for i in range(args.runs)
                ]
                values = [r["unavailable"] for r in runs]
                out[kind] = {
                    "unavailable": stats(values),
                    "p50": pct(values, 0.5),
                    "max": max(values),
                    "committed": sum(r["committed"] for r in runs),
                    "lost": sum(r["lost"] for r in runs),
                    "lost_per_run": [r["lost"] for r in runs],
                    "lost_only_newest": all(r["tail"] for r in runs),
                }
            out["requests"] = requests(root / "req", endpoint, key, moto)
    finally:
        moto.stop()
    write(out)


def write(out: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lease.json").write_text(json.dumps(out, indent=1))
    g, k, r = out["graceful"], out["kill"], out["requests"]
    table = [
        "# `lease:` handovers (bench/lease.py)",
        "",
        f"Litestream 0.5.17, moto on loopback, ttl {out['ttl_seconds']} s, {out['runs']} runs each; "
        "a row committed every 20 ms on the primary. The Python plugin 0.2a0 has no lease (n/a).",
        "",
        "| figure | graceful (SIGTERM) | machine lost (SIGKILL) |",
        "|---|---:|---:|",
        f"| writes unavailable, p50 | {g['p50']:.2f} s | {k['p50']:.2f} s |",
        f"| writes unavailable, max | {g['max']:.2f} s | {k['max']:.2f} s |",
        f"| rows committed on the old primary | {g['committed']} | {k['committed']} |",
        f"| of them not in the new primary | {g['lost']} | {k['lost']} |",
        f"| those lost were only the newest (never a gap) | {g['lost_only_newest']} | {k['lost_only_newest']} |",
        "",
        f"lock.json requests per database per minute: primary {r['primary_put_per_min']} PUT, "
        f"standby {r['standby_get_per_min']} GET.",
        "",
    ]
    (RESULTS / "lease.md").write_text("\n".join(table))
    print("\n".join(table))
