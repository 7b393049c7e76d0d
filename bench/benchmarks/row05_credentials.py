"""Row 5: the credentials file rewritten → replicating with the new keys (both plugins)."""

from __future__ import annotations

import json
import os
import time

from .common.figures import stats
from .common.net import free_port, wait_http, wait_replicas
from .common.paths import OURS_DEFAULT_LS
from .common.procs import POLL, comm, descendants
from .common.system import log
from .context import Bench

VARIANTS = (
    ("py", "py", None, "datasette + Python plugin 0.2a0"),
    ("ours-0.5.17", "ours", "0.5.17", "datasette + ours (Litestream 0.5.17)"),
    ("ours-0.3.13", "ours", "0.3.13", "datasette + ours (Litestream 0.3.13)"),
)


def rotation(b: Bench, kind: str, ls: str, phase: float) -> dict:
    d, dbs = b.fresh()
    creds = d / "credentials.json"
    creds.write_text(json.dumps({"access-key-id": "AKIAFIRST", "secret-access-key": "first-secret"}))
    conf, reps = b.config(d, dbs, credentials=creds)
    port = free_port()
    proc = b.start(kind, d, dbs, conf, port=port, ls=ls)
    try:
        wait_http(proc, port)
        wait_replicas(proc, reps)
        lit = [p for p in descendants(proc.pid) if comm(p) == "litestream"]
        if len(lit) != 1:
            raise RuntimeError(f"expected one litestream under {proc.pid}, found {lit}")
        old = lit[0]
        logf = open(f"/proc/{old}/fd/2", "rb") if kind == "py" else None  # the plugin's log file
        mark = len(proc.lines)
        # The refresh ticks every second: the repetitions rewrite the file at phases
        # spread evenly over that second, so the tick wait averages 0.5 s in each variant.
        time.sleep(0.2 + phase)
        tmp = d / "credentials.json.new"
        tmp.write_text(json.dumps({"access-key-id": "AKIASECOND", "secret-access-key": "second-secret"}))
        os.replace(tmp, creds)
        t_write = time.monotonic()
        t_pid = t_line = t_repl = None
        deadline = t_write + 20
        while time.monotonic() < deadline and (t_pid is None or (logf and t_repl is None)):
            now = time.monotonic()
            if t_pid is None and any(p != old and comm(p) == "litestream" for p in descendants(proc.pid)):
                t_pid = now
            if logf:
                logf.seek(0)
                text = logf.read().decode(errors="replace")
                if t_line is None and text.count("litestream v") >= 2:
                    t_line = now
                if t_repl is None and text.count("replicating to") >= 2:
                    t_repl = now
            time.sleep(POLL)
        if kind == "py":
            tick = proc.wait_line("credentials changed", timeout=0.1, start=mark)
            done_t = t_repl
        else:
            tick = proc.wait_line("credentials changed (", timeout=10, start=mark)
            done = proc.wait_line("replicating with the new credentials", timeout=20, start=mark)
            done_t = done[0] if done else None
        if done_t is None or tick is None:
            raise RuntimeError(f"rotation not seen ({kind}):\n{proc.tail()}")
        return {
            "write_to_replicating": done_t - t_write,
            "tick_to_replicating": done_t - tick[0],
            "write_to_tick": tick[0] - t_write,
            "write_to_new_pid": None if t_pid is None else t_pid - t_write,
            "write_to_first_log_line": None if t_line is None else t_line - t_write,
        }
    finally:
        b.stop(proc, f"rotation-{kind}")


def run(b: Bench) -> dict:
    runs = {v[0]: [] for v in VARIANTS}
    for i in range(b.reps):  # interleaved; repetition i rewrites at phase (i + 0.5) / reps
        for key, kind, ls, _ in VARIANTS:
            runs[key].append(rotation(b, kind, ls or OURS_DEFAULT_LS, (i + 0.5) / b.reps))
    out = {}
    for key, _, _, label in VARIANTS:
        out[key] = {"label": label, "unit": "s"}
        for f in runs[key][0]:
            out[key][f] = stats([r[f] for r in runs[key]])
        log(
            f"row 5 {label}: write→replicating {out[key]['write_to_replicating']['median']:.3f} s, "
            f"tick→replicating {out[key]['tick_to_replicating']['median']:.3f} s"
        )
    return out
