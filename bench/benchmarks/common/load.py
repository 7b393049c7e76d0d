"""HTTP load: wrk when it is installed, else a closed-loop Python fallback."""

from __future__ import annotations

import http.client
import re
import subprocess
import threading
import time

from .figures import quantile

_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def load(tools: dict, port: int, path: str, threads: int, conns: int, seconds: float) -> dict:
    """{rps, p50_ms, p99_ms, errors, tool} of one run on 127.0.0.1:port path."""
    url = f"http://127.0.0.1:{port}{path}"
    if tools.get("wrk"):
        r = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        )
        return parse_wrk(r.stdout)
    return py_load(port, path, threads, conns, seconds)


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_wrk(text: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", text).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in errs.groups()) if errs else 0)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "tool": "wrk"}


def py_load(port: int, path: str, threads: int, conns: int, seconds: float) -> dict:
    """A closed-loop fallback when wrk is missing: conns keep-alive connections."""
    lat, errors = [], [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < end:
            t = time.perf_counter()
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors[0] += 1
            except OSError:
                errors[0] += 1
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=worker) for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    lat.sort()
    p50, p99 = quantile(lat, 0.5), quantile(lat, 0.99)
    return {"rps": len(lat) / seconds, "p50_ms": p50, "p99_ms": p99, "errors": errors[0], "tool": "python"}
