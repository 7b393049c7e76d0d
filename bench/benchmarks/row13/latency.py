"""Row 13, part 1: insert latency with and without durable-writes, at 1/10/50 writers."""

from __future__ import annotations

import http.client
import itertools
import statistics
import threading
import time
from pathlib import Path

from ..common.figures import pct
from ..common.system import log
from .figures import delta, fmt_ms, fmt_num, refusal_line
from .primary import Primary, insert, make_db, not_durable, primary_config
from .server import DB, Moto, Refused


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
        "p50_ms": pct(ms, 0.5),
        "p99_ms": pct(ms, 0.99),
        "mean_ms": statistics.fmean(ms) if ms else None,
        "max_ms": max(ms) if ms else None,
        "counters_before": before,
        "counters_after": after,
        "durable_writes": writes,
        "durable_syncs": syncs,
        "writes_per_sync": writes / syncs if writes is not None and syncs else None,
        "latencies_ms": [round(x, 3) for x in ms],
    }


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
