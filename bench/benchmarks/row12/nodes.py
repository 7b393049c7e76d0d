"""Row 12's processes: the primary (`run` replicating to moto) and the follower nodes
(`follow --init`, then `datasette serve` with the plugin in follower mode)."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from ..common.fixtures import yaml_of
from ..common.net import free_port, get, wait_http
from ..common.paths import HOST, LITESTREAM, MAIN_PY, RUN_DATASETTE
from ..common.procs import TIMEOUT, Proc, base_env
from ..common.s3 import s3_replica
from ..context import Bench

FOLLOW_LS = LITESTREAM["0.5.17"]  # followers need Litestream 0.5 (`restore -f`)
FOLLOW_RATE = 10.0  # commits a second on the primary
FOLLOW_POLL = 0.02  # seconds between a probe's asks of one follower's JSON API
FOLLOW_TUNED = {"monitor-interval": "100ms", "sync-interval": "100ms", "follow-interval": "200ms"}


def follow_env(**extra) -> dict:
    """The real host and Litestream 0.5.17; no keys or follower settings from this
    shell's environment (the metadata carries the keys, each node its intervals)."""
    env = base_env()
    for k in list(env):
        if k.startswith(("AWS_", "LITESTREAM_ACCESS_KEY", "LITESTREAM_SECRET", "DATASETTE_LITESTREAM_")):
            del env[k]
    env.update(DATASETTE_LITESTREAM_HOST=str(HOST), LITESTREAM_BIN=str(FOLLOW_LS))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def follow_metadata(endpoint: str, key: dict, path: str, tuned: bool) -> str:
    """The metadata of the primary and of every follower node: the replica, the keys."""
    replica = s3_replica(endpoint, path)
    database: dict = {"replicas": [replica]}
    if tuned:
        replica["sync-interval"] = FOLLOW_TUNED["sync-interval"]
        database["monitor-interval"] = FOLLOW_TUNED["monitor-interval"]
    return yaml_of(
        {
            "plugins": {
                "datasette-litestream": {
                    "access-key-id": key["access-key-id"],
                    "secret-access-key": key["secret-access-key"],
                }
            },
            "databases": {"data": {"plugins": {"datasette-litestream": database}}},
        }
    )


def follow_primary(b: Bench, endpoint: str, key: dict, tuned: bool, label: str) -> tuple[Proc, Path, Path]:
    """`run` replicating data.db (table t) to moto; the metadata file it reads is
    also the followers' (same replica, same keys). (proc, directory, database)."""
    b.n += 1
    d = b.work / f"follow{b.n}-{label}"
    (d / "primary").mkdir(parents=True)
    meta = follow_metadata(endpoint, key, d.name, tuned)
    (d / "metadata.yaml").write_text(meta)
    (d / "primary" / "metadata.yaml").write_text(meta)
    db = d / "primary" / "data.db"
    conn = sqlite3.connect(db)
    conn.execute("create table t (id integer primary key, ts real, payload text)")
    conn.executemany("insert into t (ts, payload) values (?, ?)", [(time.time(), f"row {i}") for i in range(10)])
    conn.commit()
    conn.close()
    proc = Proc(
        [HOST, "run", "data.db", "-m", "metadata.yaml", "--litestream", FOLLOW_LS],
        follow_env(),
        cwd=d / "primary",
    )
    if proc.wait_line("datasette-litestream: replicating", timeout=60) is None:
        proc.stop()
        raise RuntimeError(f"the primary did not start replicating:\n{proc.tail()}")
    return proc, d, db


def follow_init(fd: Path, env: dict) -> float:
    """`follow --init` in fd, retried for 60 s (the primary's first sync may still be on
    its way); its seconds."""
    t0 = time.monotonic()
    deadline = t0 + 60
    while True:
        try:
            r = subprocess.run(
                [HOST, "follow", "--init", "data.db", "-m", "metadata.yaml", "--litestream", FOLLOW_LS],
                cwd=fd,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if r.returncode == 0:
                break
            why = f"exit {r.returncode}:\n{(r.stdout + r.stderr)[-3000:]}"
        except (OSError, subprocess.TimeoutExpired) as e:  # OSError: the binary being rebuilt
            why = repr(e)
        if time.monotonic() > deadline:
            raise RuntimeError(f"follow --init in {fd} failed: {why}")
        time.sleep(0.5)
    init_s = time.monotonic() - t0
    if not (fd / "data.db").is_symlink():
        raise RuntimeError(f"follow --init exited 0 but {fd / 'data.db'} is not a symlink")
    return init_s


def follow_node(d: Path, i: int, tuned: bool, init: bool = True) -> dict:
    """A follower node in d/node{i}: `follow --init` (unless its symlink is there),
    then `datasette serve` with the plugin in follower mode. Returns {dir, port, proc,
    init_s}; HTTP is not waited for (the caller times it)."""
    fd = d / f"node{i}"
    fd.mkdir(exist_ok=True)
    shutil.copy(d / "metadata.yaml", fd / "metadata.yaml")
    (fd / "datasette.yaml").write_text(yaml_of({"permissions": {"litestream-view-status": True}}))
    extra = {"DATASETTE_LITESTREAM_FOLLOW_INTERVAL": FOLLOW_TUNED["follow-interval"]} if tuned else {}
    env = follow_env(**extra)
    init_s = follow_init(fd, env) if init else None
    port = free_port()
    proc = Proc(
        [MAIN_PY, RUN_DATASETTE, "serve", "data.db", "-m", "metadata.yaml", "-c", "datasette.yaml", "-p", port],
        {**env, "DATASETTE_LITESTREAM_FOLLOW": "1"},
        cwd=fd,
    )
    return {"dir": fd, "port": port, "proc": proc, "init_s": init_s, "i": i}


def follow_ready(node: dict, newest: int, timeout: float = TIMEOUT) -> tuple[float, float]:
    """Seconds from the node's launch to HTTP ready and to its JSON API serving row `newest`."""
    ready = wait_http(node["proc"], node["port"], timeout=timeout)
    deadline = time.monotonic() + timeout
    path = f"/data/t.json?id__gt={newest - 1}&_shape=array"
    while time.monotonic() < deadline:
        try:
            status, body = get(node["port"], path, timeout=5)
            if status == 200 and any(r["id"] == newest for r in json.loads(body)):
                return ready, time.monotonic() - node["proc"].t0
        except (OSError, http.client.HTTPException, ValueError):
            pass
        if node["proc"].p.poll() is not None:
            raise RuntimeError(f"follower node {node['dir']} exited:\n{node_tail(node)}")
        time.sleep(0.02)
    raise RuntimeError(
        f"follower node {node['dir']} did not serve row {newest} within {timeout} s; its "
        f"follower: {json.dumps(follower_status(node))}\n{node_tail(node)}"
    )


def node_tail(node: dict, n: int = 25) -> str:
    """The node's last output lines without Datasette's access log."""
    proc = node["proc"]
    with proc.cond:
        lines = [f"{s}: {t}" for _, s, t in proc.lines if not re.match(r"INFO: +\d+\.\d+\.\d+\.\d+:\d+ - ", t)]
    return "\n".join(lines[-n:])


def follower_status(node: dict) -> dict | None:
    """The node's own view of its follower (status JSON), or None."""
    try:
        status, body = get(node["port"], "/-/litestream-status.json", timeout=5)
        if status == 200:
            f = json.loads(body).get("followers") or []
            return f[0] if f else None
    except (OSError, http.client.HTTPException, ValueError):
        pass
    return None


def stop_nodes(b: Bench, nodes: list[dict], label: str):
    for node in nodes:
        b.stop(node["proc"], f"{label}-node{node['i']}")
