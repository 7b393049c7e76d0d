"""The machine: logging, its description in the results, its load, and waiting for it."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

from .paths import HOST, ROOT
from .procs import busy


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def machine(memory: bool = True) -> dict:
    """CPUs, CPU model, (memory,) kernel, load average, commit and the host's build time."""
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain"], capture_output=True, text=True)
    out = {"nproc": os.cpu_count(), "cpu_model": cpu}
    if memory:
        mem_kb = 0
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        out["memory_gib"] = round(mem_kb / 1024 / 1024, 1)
    return {
        **out,
        "kernel": platform.release(),
        "loadavg_at_start": loadavg(),
        "commit": git.stdout.strip() + (" (work tree modified)" if dirty.stdout.strip() else ""),
        "host_binary_mtime": datetime.datetime.fromtimestamp(HOST.stat().st_mtime).isoformat(timespec="seconds"),
    }


def version_of(cmd: list, line: int = 0) -> str:
    """One line (the first unless told) of what cmd prints, or "?"."""
    try:
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip().splitlines()[line]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def sample_load(samples: list, stop: threading.Event) -> None:
    """Every 5 s until stop: (1-minute load average, cargo/rustc processes running)."""
    while not stop.wait(5):
        samples.append((float(loadavg()[0]), len(busy())))


def wait_idle(limit: float) -> None:
    """Up to limit seconds for no cargo/rustc process and a load average below 1."""
    deadline = time.monotonic() + limit
    while True:
        load = float(Path("/proc/loadavg").read_text().split()[0])
        others = busy()
        if not others and load < 1.0:
            return
        if time.monotonic() >= deadline:
            if others or load >= 1.5:
                log(
                    f"warning: the machine is busy (load {load}, {len(others)} cargo/rustc processes): "
                    f"figures will be slower and noisier"
                )
            return
        time.sleep(5)
