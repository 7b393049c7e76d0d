"""Row 13, part 2: crash loss. A primary written to, its whole tree lost at a random
moment, its replica restored: the acknowledged rows missing, per mode."""

from __future__ import annotations

import http.client
import itertools
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path

from ..common.system import log
from .figures import first_line, refusal_line, sleep_until, spread
from .primary import Primary, insert, make_db, not_durable, primary_config
from .server import DB, MODES, Moto, Refused, kill_tree, restore


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
