#!/usr/bin/env python3
"""Row 13: `durable-writes` — insert latency and crash loss, against a real S3 (moto).

    bench/durable.py                      # the whole run: latency 1/10/50 writers x 10 s, 50 kills per mode
    bench/durable.py --quick              # 3 kills per mode, 3 s latency runs, to try it out
    bench/durable.py --kills 20 --modes a,b --parts crash

Writes bench/results/row-13.md (the tables, the machine, the date) and
bench/results/row-13.json (every raw value). Standard library only; it runs the
project's own pieces: ../.venv (Datasette 1.0a41, moto_server, boto3 for
tests/support/s3admin.py), Litestream 0.5.17 from ../.venv/litestream, the plugin
from python/ (python/tests/run_datasette.py) and target/release/datasette-litestream
as it is (never built here).

Part 1, latency: one `datasette serve` per mode (plain, durable), 1/10/50 writer
threads (one keep-alive http.client connection each) POST one row per request to
/data/items/-/insert for --seconds; p50/p99 of the 201 answers, and the writes per
sync from the counters datasette_litestream_durable_{writes,syncs}_total before and
after (n/a while the host does not publish them).

Part 2, crash loss, per kill: a fresh database and replica path; one writer thread
posts a row every --interval s (or as soon as the previous answer came, when slower)
and records every 201; at a random moment 2–6 s after writing starts the whole
process tree (datasette, the host, Litestream) is stopped and killed at once, the
local files deleted, and the replica restored (`litestream restore`) into a fresh
file. Modes: a plain; b durable-writes; c durable-writes with moto frozen (SIGSTOP)
from that random moment for --freeze s, killed while frozen; d plain with the same
freeze. Moto is resumed (SIGCONT) before the restore. In mode c, durable-timeout is
--freeze-timeout (below the freeze, so that the frozen writes are answered 504).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import itertools
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
MOTO = VENV / "bin" / "moto_server"
S3ADMIN = ROOT / "tests" / "support" / "s3admin.py"
RUN_DATASETTE = ROOT / "python" / "tests" / "run_datasette.py"
HOST = ROOT / "target" / "release" / "datasette-litestream"
LITESTREAM = VENV / "litestream" / "0.5.17" / "bin" / "litestream"
RESULTS = BENCH / "results"
STEM = "row-13"
BUCKET = "replicas"
DB = "data"
INSERT = f"/{DB}/items/-/insert"
METRICS = "/-/litestream-metrics"
WRITES_TOTAL = "datasette_litestream_durable_writes_total"
SYNCS_TOTAL = "datasette_litestream_durable_syncs_total"
MODES = {
    "a": ("plain", False, False),
    "b": ("durable-writes", True, False),
    "c": ("durable-writes, S3 frozen before the kill", True, True),
    "d": ("plain, S3 frozen before the kill", False, True),
}
START_TIMEOUT = 60.0


class Refused(Exception):
    """Datasette or the host would not run this configuration (the reason is the text)."""


# ----------------------------------------------------------------------------- small helpers


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> dict:
    return {
        "min": min(values) if values else None,
        "median": statistics.median(values) if values else None,
        "max": max(values) if values else None,
    }


def base_env(**extra) -> dict:
    env = dict(os.environ)
    env.pop("AWS_CA_BUNDLE", None)  # Litestream 0.5.17 refuses every S3 replica with it set
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


# ----------------------------------------------------------------------------- process trees


def children(pid: int) -> list[int]:
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_tree(pid: int) -> list[int]:
    """SIGSTOP pid and every descendant, until no new one appears; returns them all.
    Stopped, none of them can react to the others' deaths (the host's SIGTERM on
    Litestream by PR_SET_PDEATHSIG, a final sync) before the SIGKILL."""
    stopped: list[int] = []
    while True:
        new = [p for p in [pid] + descendants(pid) if p not in stopped]
        if not new:
            return stopped
        signal_all(list(reversed(new)), signal.SIGSTOP)  # deepest first
        stopped.extend(new)


def kill_tree(proc: subprocess.Popen) -> list[str]:
    """The whole tree at once, like a machine lost: stopped, then SIGKILLed, then gone."""
    pids = stop_tree(proc.pid)
    names = [comm(p) for p in pids]
    signal_all(pids, signal.SIGKILL)
    proc.wait(10)
    wait_until(lambda: not any(alive(p) for p in pids), 10, "the killed tree to disappear", 0.01)
    return names


def busy() -> int:
    """cargo/rustc processes running now (figures taken beside a build are slower)."""
    return sum(1 for p in os.listdir("/proc") if p.isdigit() and comm(int(p)) in ("cargo", "rustc"))


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


# ----------------------------------------------------------------------------- the S3 server


class Moto:
    """moto_server on a free loopback port; after set-up it checks every signature."""

    def __init__(self, work: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(work / "moto.log", "wb")
        self.proc = subprocess.Popen(
            [str(MOTO), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.answers, 30, "moto to start")
        admin = subprocess.run(
            [str(PY), str(S3ADMIN), self.endpoint, "setup", BUCKET],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        self.keys = json.loads(admin.stdout)

    def answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def replica(self, path: str) -> dict:
        return {
            "type": "s3",
            "bucket": BUCKET,
            "path": path,
            "endpoint": self.endpoint,
            "region": "us-east-1",
            "force-path-style": True,
        }

    def freeze(self) -> None:
        signal_all([self.proc.pid] + descendants(self.proc.pid), signal.SIGSTOP)

    def thaw(self) -> None:
        signal_all([self.proc.pid] + descendants(self.proc.pid), signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def restore(moto: Moto, path: str, out: Path) -> tuple[set[int] | None, str | None, float]:
    """The replica at path, restored by Litestream 0.5.17 with the admin's keys into
    out: (the seq values it holds, or None; the error, or None; seconds taken)."""
    config = {
        "access-key-id": moto.keys["admin"]["access-key-id"],
        "secret-access-key": moto.keys["admin"]["secret-access-key"],
        "dbs": [{"path": str(out.parent / "source.db"), "replica": moto.replica(path)}],
    }
    cfg = out.parent / "restore.yml"
    cfg.write_text(json.dumps(config))
    t0 = time.monotonic()
    result = subprocess.run(
        [str(LITESTREAM), "restore", "-config", str(cfg), "-o", str(out), str(out.parent / "source.db")],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - t0
    if result.returncode != 0:
        return None, (result.stderr + result.stdout).strip()[-2000:], took
    try:
        return seqs_in(out), None, took
    except sqlite3.Error as e:
        return None, f"the restored file: {e}", took


def seqs_in(path: Path) -> set[int]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("select seq from items")}
    finally:
        conn.close()


# ----------------------------------------------------------------------------- the primary


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
                [str(PY), str(RUN_DATASETTE), "serve", f"{DB}.db", "-c", "datasette.yaml"]
                + ["--host", "127.0.0.1", "-p", str(self.port)],
                cwd=directory,
                env=base_env(DATASETTE_LITESTREAM_HOST=HOST, LITESTREAM_BIN=LITESTREAM),
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


# ----------------------------------------------------------------------------- one insert


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


# ----------------------------------------------------------------------------- part 1: latency


def latency_run(port: int, writers: int, seconds: float, timeout: float) -> tuple[list[dict], float]:
    """writers threads, each inserting one row per request on its own connection, none
    starting a request after `seconds`: (the answers, seconds until the last one)."""
    seq = itertools.count(1)
    start = time.monotonic()
    answers: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()
    end = start + seconds

    def writer():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        mine = []
        while time.monotonic() < end:
            try:
                mine.append(insert(conn, next(seq)))
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.close()
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers + [{"status": "error", "error": e} for e in errors], time.monotonic() - start


def summarise_latency(answers: list[dict], elapsed: float, before: dict, after: dict) -> dict:
    ok = [a for a in answers if a["status"] == 201]
    ms = [(a["answered"] - a["sent"]) * 1000 for a in ok]
    others: dict[str, int] = {}
    for a in answers:
        if a["status"] != 201:
            others[str(a["status"])] = others.get(str(a["status"]), 0) + 1
    writes = delta(before["writes"], after["writes"])
    syncs = delta(before["syncs"], after["syncs"])
    return {
        "acknowledged": len(ok),
        "other_answers": others,
        "not_durable_answers": sum(1 for a in answers if a["status"] != "error" and not_durable(a)),
        "with_durable_header": sum(1 for a in ok if (a["durable"] or "").lower() == "true"),
        "elapsed_s": elapsed,
        "rows_per_s": len(ok) / elapsed,
        "other_examples": sorted({str(a.get("body") or a.get("error")) for a in answers if a["status"] != 201})[:5],
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms) if ms else None,
        "max_ms": max(ms) if ms else None,
        "counters_before": before,
        "counters_after": after,
        "durable_writes": writes,
        "durable_syncs": syncs,
        "writes_per_sync": writes / syncs if writes is not None and syncs else None,
        "latencies_ms": [round(x, 3) for x in ms],
    }


def delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def latency_mode(moto: Moto, work: Path, durable: bool, args) -> dict:
    name = "durable" if durable else "plain"
    d = work / f"latency-{name}"
    make_db(d / f"{DB}.db")
    primary = Primary(d, primary_config(moto, f"latency/{name}", durable, None))
    try:
        try:
            ready = primary.wait_replicating()
        except Refused as e:
            log(f"latency, {name}: refused — {refusal_line(str(e))}")
            return {"refused": str(e)}
        out = {"start_to_first_sync_s": ready, "runs": {}}
        for writers in args.concurrency:
            before = primary.counters()
            answers, elapsed = latency_run(primary.port, writers, args.seconds, args.durable_timeout + 30)
            result = summarise_latency(answers, elapsed, before, primary.counters())
            out["runs"][str(writers)] = result
            log(
                f"latency, {name}, {writers} writers: {result['acknowledged']} rows, "
                f"p50 {fmt_ms(result['p50_ms'])}, p99 {fmt_ms(result['p99_ms'])}, "
                f"writes/sync {fmt_num(result['writes_per_sync'])}, others {result['other_answers']}"
            )
        return out
    finally:
        primary.stop()


# ----------------------------------------------------------------------------- part 2: crash loss


class SteadyWriter(threading.Thread):
    """One writer: a row every interval (or at once when the last answer came late),
    until stopped or its connection breaks (the kill)."""

    def __init__(self, port: int, interval: float, timeout: float):
        super().__init__(daemon=True)
        self.port, self.interval, self.timeout = port, interval, timeout
        self.answers: list[dict] = []
        self.failed: list[dict] = []  # requests without an answer (in flight at the kill)
        self.halt = threading.Event()
        self.started_at: float | None = None
        self.first_sent = threading.Event()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        self.started_at = time.monotonic()
        for seq in itertools.count(1):
            if self.halt.is_set():
                break
            self.first_sent.set()
            sent = time.monotonic()
            try:
                self.answers.append(insert(conn, seq))
            except (OSError, http.client.HTTPException) as e:
                self.failed.append({"seq": seq, "error": repr(e), "sent": sent, "at": time.monotonic()})
                break
            sleep_until(self.started_at + seq * self.interval)
        conn.close()


def crash_once(moto: Moto, work: Path, mode: str, k: int, rng: random.Random, args) -> dict:
    """One primary, written to, lost at a random moment, and its replica restored."""
    _, durable, frozen = MODES[mode]
    d = work / f"crash-{mode}-{k}"
    make_db(d / f"{DB}.db")
    path = f"crash/{mode}/{k}"
    timeout = args.freeze_timeout if (durable and frozen) else None
    primary = Primary(d, primary_config(moto, path, durable, timeout))
    try:
        ready = primary.wait_replicating()
        lost_machine = write_until_lost(primary, moto, frozen, rng.uniform(2, 6), (timeout or 10) + 30, args)
    finally:
        moto.thaw()
        if primary.proc.poll() is None:  # an error or an interrupt before the planned kill
            kill_tree(primary.proc)
    shutil.rmtree(d)  # the machine's disk is gone with it
    out_dir = work / f"restore-{mode}-{k}"
    out_dir.mkdir()
    restored, error, took = restore(moto, path, out_dir / "restored.db")
    shutil.rmtree(out_dir, ignore_errors=True)
    writer = lost_machine.pop("writer")
    result = analyse(writer, restored, lost_machine["t0"], lost_machine["killed_at"])
    result.update(
        {
            "start_to_first_sync_s": ready,
            "kill_after_s": lost_machine["killed_at"] - lost_machine["t0"],
            "random_moment_s": lost_machine["moment"],
            "frozen_at_s": lost_machine["frozen_at"],
            "killed": lost_machine["killed"],
            "restore_s": took,
            "restore_error": error,
            "answers": raw_answers(writer, lost_machine["t0"]),
        }
    )
    return result


def write_until_lost(primary: Primary, moto: Moto, frozen: bool, moment: float, timeout: float, args) -> dict:
    """Starts the writer; `moment` s later kills the tree (frozen: freezes moto then,
    kills --freeze s later, moto still frozen). Moto is resumed --settle s before return."""
    writer = SteadyWriter(primary.port, args.interval, timeout)
    writer.start()
    if not writer.first_sent.wait(10):
        raise TimeoutError("the writer did not start")
    t0 = writer.started_at
    sleep_until(t0 + moment)
    frozen_at = None
    if frozen:
        moto.freeze()
        frozen_at = time.monotonic() - t0
        sleep_until(t0 + frozen_at + args.freeze)
    killed_at = time.monotonic()
    killed = kill_tree(primary.proc)
    writer.halt.set()
    writer.join(timeout)
    if frozen:
        moto.thaw()
        time.sleep(args.settle)  # moto works through what reached it before the kill
    return {
        "writer": writer,
        "t0": t0,
        "moment": moment,
        "frozen_at": frozen_at,
        "killed_at": killed_at,
        "killed": killed,
    }


def raw_answers(writer: SteadyWriter, t0: float) -> list[list]:
    """[seq, status, sent s, answered s, Durable header, Txid header], times from t0;
    a request without an answer (in flight at the kill) has status null."""
    rows = [
        [a["seq"], a["status"], round(a["sent"] - t0, 4), round(a["answered"] - t0, 4), a["durable"], a["txid"]]
        for a in writer.answers
    ]
    return rows + [[f["seq"], None, round(f["sent"] - t0, 4), None, None, f["error"]] for f in writer.failed]


def analyse(writer: SteadyWriter, restored: set[int] | None, t0: float, killed_at: float) -> dict:
    answers = writer.answers
    acked = {a["seq"]: a["answered"] for a in answers if a["status"] == 201}
    present = restored if restored is not None else set()
    lost = sorted(s for s in acked if s not in present)
    kept_times = [t for s, t in acked.items() if s in present]
    last_acked = max(acked.values(), default=t0)
    seconds_lost = (last_acked - max(kept_times, default=t0)) if lost else 0.0
    sent = len(answers) + len(writer.failed)
    statuses: dict[str, int] = {}
    for a in answers:
        statuses[str(a["status"])] = statuses.get(str(a["status"]), 0) + 1
    top = max(present, default=0)
    return {
        "sent": sent,
        "acknowledged": len(acked),
        "answers_by_status": statuses,
        "not_durable_answers": sum(1 for a in answers if not_durable(a)),
        "acked_without_durable_header": sum(
            1 for a in answers if a["status"] == 201 and (a["durable"] or "").lower() != "true"
        ),
        "in_flight_at_kill": sum(1 for f in writer.failed if f["at"] >= killed_at),
        "writer_errors_before_kill": sum(1 for f in writer.failed if f["at"] < killed_at),
        "restored_rows": len(present),
        "restored_is_prefix": present == set(range(1, top + 1)),
        "restored_not_acknowledged": len(present - set(acked)),
        "lost": len(lost),
        "lost_seqs": lost,
        "seconds_lost": seconds_lost,
        "last_ack_before_kill_s": killed_at - last_acked if acked else None,
    }


def crash_mode(moto: Moto, work: Path, mode: str, rng: random.Random, args, out: dict) -> None:
    """The kills of one mode, recorded in out as they come (an interrupted run keeps them)."""
    label, _, _ = MODES[mode]
    kills: list[dict] = []
    out.update({"label": label, "kills": kills})
    for k in range(args.kills):
        try:
            r = crash_once(moto, work, mode, k, rng, args)
        except Refused as e:
            log(f"crash {mode} ({label}): refused — {refusal_line(str(e))}")
            out["refused"] = str(e)
            return
        except (TimeoutError, subprocess.TimeoutExpired) as e:
            log(f"crash {mode} kill {k + 1}: failed — {first_line(str(e))}")
            kills.append({"error": str(e)})
            if len(kills) >= 3 and all("error" in x for x in kills[-3:]):
                log(f"crash {mode}: 3 failures in a row, giving up this mode")
                break
            continue
        kills.append(r)
        log(
            f"crash {mode} kill {k + 1}/{args.kills} at {r['kill_after_s']:.2f} s: "
            f"{r['acknowledged']} acknowledged, {r['lost']} lost ({r['seconds_lost']:.3f} s), "
            f"{r['not_durable_answers']} not-durable, restored {r['restored_rows']}"
            + (f", restore error: {first_line(r['restore_error'])}" if r["restore_error"] else "")
        )
    out["summary"] = summarise_crash(kills)


def summarise_crash(kills: list[dict]) -> dict:
    done = [k for k in kills if "error" not in k]
    return {
        "kills": len(done),
        "failed_kills": len(kills) - len(done),
        "acknowledged": spread([k["acknowledged"] for k in done]),
        "lost_per_kill": spread([k["lost"] for k in done]),
        "lost_total": sum(k["lost"] for k in done),
        "acknowledged_total": sum(k["acknowledged"] for k in done),
        "seconds_lost": spread([k["seconds_lost"] for k in done]),
        "not_durable_answers_total": sum(k["not_durable_answers"] for k in done),
        "acked_without_durable_header_total": sum(k["acked_without_durable_header"] for k in done),
        "restore_errors": sum(1 for k in done if k["restore_error"]),
        "non_prefix_restores": sum(1 for k in done if not k["restored_is_prefix"]),
        "writer_errors_before_kill": sum(k["writer_errors_before_kill"] for k in done),
    }


# ----------------------------------------------------------------------------- the report


def first_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def fmt_ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f} ms"


def fmt_num(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def fmt_per_sync(run: dict) -> str:
    if run["durable_writes"] is None or run["durable_syncs"] is None:
        return "n/a"
    if not run["durable_syncs"]:
        return f"no sync ({run['durable_writes']:g} writes)"
    return f"{run['writes_per_sync']:.1f} ({run['durable_writes']:g} / {run['durable_syncs']:g})"


def fmt_spread(s: dict, digits: int = 0) -> str:
    if s["median"] is None:
        return "n/a"
    return f"{s['min']:.{digits}f} / {s['median']:.{digits}f} / {s['max']:.{digits}f}"


def refusal_line(reason: str) -> str:
    """The configuration check's own words, when the log holds them, else the first line."""
    line = next((x for x in reason.splitlines() if "durable" in x or "unknown" in x.lower()), first_line(reason))
    line = line.strip().lstrip("- ")
    return line.split(" (valid")[0][:200]


def latency_table(lat: dict) -> list[str]:
    lines = [
        "| mode | writers | rows acknowledged (201) | rows/s | p50 | p99 | writes per sync | other answers |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, res in lat.items():
        if "refused" in res:
            lines.append(f"| {name} | – | refused: {refusal_line(res['refused'])} | | | | | |")
            continue
        for writers, r in res["runs"].items():
            others = ", ".join(f"{k}: {v}" for k, v in sorted(r["other_answers"].items())) or "–"
            inactive = name == "durable" and r["with_durable_header"] < r["acknowledged"]
            label = name + (" (**201 without the Durable header**)" if inactive else "")
            lines.append(
                f"| {label} | {writers} | {r['acknowledged']} | {r['rows_per_s']:.1f} | {fmt_ms(r['p50_ms'])} "
                f"| {fmt_ms(r['p99_ms'])} | {fmt_per_sync(r)} | {others} |"
            )
    return lines


def crash_table(crash: dict) -> list[str]:
    lines = [
        "| mode | kills | acknowledged per kill (median) | lost per kill min / median / max "
        "| acknowledged lost, all kills | seconds of data lost min / median / max | not-durable answers |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, res in crash.items():
        if "label" not in res:
            continue
        name = f"{mode}: {res['label']}"
        if "refused" in res:
            lines.append(f"| {name} | – | refused: {refusal_line(res['refused'])} | | | | |")
            continue
        s = res.get("summary") or summarise_crash(res["kills"])
        if MODES[mode][1] and s["acked_without_durable_header_total"]:
            name += " (**201 without the Durable header**)"
        lines.append(
            f"| {name} | {s['kills']} | {fmt_num(s['acknowledged']['median'], 0)} | {fmt_spread(s['lost_per_kill'])} "
            f"| {s['lost_total']} of {s['acknowledged_total']} | {fmt_spread(s['seconds_lost'], 3)} "
            f"| {s['not_durable_answers_total']} |"
        )
    return lines


def crash_notes(crash: dict) -> list[str]:
    notes = []
    for mode, res in crash.items():
        if "kills" not in res:
            continue
        s = res.get("summary") or summarise_crash(res["kills"])
        if "summary" not in res:
            notes.append(f"- mode {mode}: interrupted after {len(res['kills'])} kill(s).")
        if s["failed_kills"]:
            notes.append(f"- mode {mode}: {s['failed_kills']} kill(s) failed (their errors are in the JSON).")
        if s["restore_errors"]:
            notes.append(f"- mode {mode}: {s['restore_errors']} restore(s) failed (all their rows count as lost).")
        if s["writer_errors_before_kill"]:
            notes.append(
                f"- mode {mode}: the writer stopped early on a connection error in "
                f"{s['writer_errors_before_kill']} kill(s) (the errors are in the JSON answers)."
            )
        if s["non_prefix_restores"]:
            notes.append(f"- mode {mode}: {s['non_prefix_restores']} restore(s) with a hole in the row sequence.")
        if MODES[mode][1] and s["acked_without_durable_header_total"]:
            notes.append(
                f"- mode {mode}: {s['acked_without_durable_header_total']} 201 answer(s) without "
                "`Datasette-Litestream-Durable: true` — the feature was not active."
            )
    return notes


def report(res: dict) -> str:
    m = res["machine"]
    a = res["args"]
    out = [
        "# Row 13: durable writes — insert latency and crash loss",
        "",
        f"{res['date']}; {m['nproc']} CPUs, {m['cpu_model']}; kernel {m['kernel']}; commit {m['commit']};",
        f"host binary built {m['host_binary_mtime']}; Litestream {res['litestream']}; Datasette 1.0a41;",
        f"S3: moto {res['moto']} with authentication on 127.0.0.1. Load average at start"
        f" {' '.join(m['loadavg_at_start'])}, at end {' '.join(m.get('loadavg_at_end', []))}; cargo/rustc running in"
        f" {m.get('samples_with_cargo_or_rustc', 0)} of {m.get('samples', 0)} samples (every 5 s)."
        + (" **Quick run** (`--quick`)." if a["quick"] else ""),
        "",
    ]
    if "latency" in res:
        out += [
            f"## Insert API latency ({a['seconds']:g} s per run, one row per request)",
            "",
            *latency_table(res["latency"]),
            "",
            "Latency: from sending the POST to reading the whole 201 answer, over the 201 answers."
            " Writes per sync: the increase of `datasette_litestream_durable_writes_total` over"
            " that of `…_durable_syncs_total` during the run (n/a: the metrics do not have both counters).",
            "",
        ]
    if "crash" in res:
        out += [
            f"## Crash loss ({a['kills']} kills per mode requested, a row every {a['interval'] * 1000:g} ms)",
            "",
            *crash_table(res["crash"]),
            "",
            "Each kill: the whole tree (datasette, host, Litestream) stopped and SIGKILLed at a random moment"
            f" 2–6 s after writing starts (frozen modes: moto SIGSTOPped at that moment, the kill {a['freeze']:g} s"
            f" later, moto resumed {a['settle']:g} s before the restore; mode c has `durable-timeout:"
            f" {a['freeze_timeout']:g}`), local files deleted, the replica restored into a fresh file. Lost: rows"
            " answered 201 and absent from the restore. Seconds lost: from the answer to the last acknowledged"
            " row in the restore to the answer to the last acknowledged row. Not-durable answers: 504 with"
            " `Datasette-Litestream-Durable: false` (not acknowledged).",
            "",
            *crash_notes(res["crash"]),
        ]
    return "\n".join(out).rstrip() + "\n"


# ----------------------------------------------------------------------------- the run


def compact_json(obj) -> str:
    """Indented JSON with each list of plain values on one line (the raw latencies and
    answers would take a line per number). A raw newline never occurs inside a JSON
    string, so only real line breaks are folded."""
    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\n\s*([^\[\]{}]*?)\n\s*\]", lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "kernel": platform.release(),
        "loadavg_at_start": loadavg(),
        "commit": git.stdout.strip() + (" (work tree modified)" if dirty.stdout.strip() else ""),
        "host_binary_mtime": datetime.datetime.fromtimestamp(HOST.stat().st_mtime).isoformat(timespec="seconds"),
    }


def version_of(cmd: list) -> str:
    try:
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip().splitlines()[-1]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def check_tools() -> None:
    missing = [str(p) for p in (PY, MOTO, S3ADMIN, RUN_DATASETTE, HOST, LITESTREAM) if not p.exists()]
    if missing:
        sys.exit("missing (run scripts/setup; build the host yourself):\n  " + "\n  ".join(missing))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 kills per mode and 3 s latency runs")
    ap.add_argument("--kills", type=int, default=None, help="kills per crash mode (default 50; --quick 3)")
    ap.add_argument("--seconds", type=float, default=None, help="length of each latency run (default 10; --quick 3)")
    ap.add_argument("--modes", default="a,b,c,d", help="crash modes to run, of a,b,c,d")
    ap.add_argument("--parts", default="latency,crash", help="latency, crash or both")
    ap.add_argument("--concurrency", default="1,10,50", help="writer threads per latency run")
    ap.add_argument("--interval", type=float, default=0.02, help="seconds between the crash writer's rows")
    ap.add_argument("--freeze", type=float, default=3.0, help="seconds moto is frozen before the kill (c, d)")
    ap.add_argument("--freeze-timeout", type=float, default=1.0, help="durable-timeout in mode c")
    ap.add_argument("--durable-timeout", type=float, default=10.0, help="the default durable-timeout (client timeouts)")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds between resuming moto and the restore")
    ap.add_argument("--seed", type=int, default=None, help="random seed of the kill moments")
    args = ap.parse_args()
    args.kills = args.kills if args.kills is not None else (3 if args.quick else 50)
    args.seconds = args.seconds if args.seconds is not None else (3.0 if args.quick else 10.0)
    args.modes = [m for m in args.modes.split(",") if m]
    args.parts = [p for p in args.parts.split(",") if p]
    args.concurrency = [int(n) for n in args.concurrency.split(",") if n]
    args.seed = args.seed if args.seed is not None else random.randrange(2**32)
    bad = [m for m in args.modes if m not in MODES] + [p for p in args.parts if p not in ("latency", "crash")]
    if bad:
        ap.error(f"unknown mode or part: {', '.join(bad)}")
    return args


def sample_load(samples: list, stop: threading.Event) -> None:
    while not stop.wait(5):
        samples.append((float(loadavg()[0]), busy()))


def run(args, res: dict, work: Path) -> None:
    moto = Moto(work)
    try:
        if "latency" in args.parts:
            res["latency"] = {}
            for durable in (False, True):
                res["latency"]["durable" if durable else "plain"] = latency_mode(moto, work, durable, args)
        if "crash" in args.parts:
            res["crash"] = {}
            rng = random.Random(args.seed)
            for mode in args.modes:
                crash_mode(moto, work, mode, rng, args, res["crash"].setdefault(mode, {}))
    finally:
        moto.stop()


def main():
    args = parse_args()
    check_tools()
    RESULTS.mkdir(parents=True, exist_ok=True)
    res = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "args": vars(args),
        "machine": machine(),
        "litestream": version_of([LITESTREAM, "version"]),
        "moto": version_of([PY, "-c", "import moto; print(moto.__version__)"]),
    }
    work = Path(tempfile.mkdtemp(prefix="dl-durable-"))
    samples: list = []
    stop = threading.Event()
    threading.Thread(target=sample_load, args=(samples, stop), daemon=True).start()
    log(f"work directory {work}; seed {args.seed}")
    started = time.monotonic()
    try:
        run(args, res, work)
    finally:
        stop.set()
        res["machine"].update(
            {
                "loadavg_at_end": loadavg(),
                "samples": len(samples),
                "loadavg_median": statistics.median([x for x, _ in samples]) if samples else None,
                "samples_with_cargo_or_rustc": sum(1 for _, n in samples if n),
            }
        )
        res["duration_s"] = time.monotonic() - started
        (RESULTS / f"{STEM}.json").write_text(compact_json(res) + "\n")
        (RESULTS / f"{STEM}.md").write_text(report(res))
        shutil.rmtree(work, ignore_errors=True)
    log(f"done in {res['duration_s'] / 60:.1f} min: {RESULTS / (STEM + '.md')}")


if __name__ == "__main__":
    main()
