"""Answers cross-runtime request files with the rules component, from Python.

    python cross_runtime.py REQUESTS_DIR OUT_DIR [--wasm FILE]
    python cross_runtime.py --bench [--wasm FILE]

Each REQUESTS_DIR/<case>.json is one of

    {"kind": "render", "request": <request>, "credentials": null | <credentials>}
    {"kind": "parse", "text": "..."}
    {"kind": "compare", "current": <credentials>, "fresh": <credentials>}
    {"kind": "call", "call": "<export's WIT name>", "args": [<argument>, ...]}

and OUT_DIR/<case>.json gets, in canonical JSON (see canonical.py),

    {"check": RESULT, "render": RESULT | null, "redact": RESULT | null}
    {"parse": RESULT}
    {"compare": <credentials-change>}

`render` is null unless check succeeded with `start-litestream`, `redact` null unless
render succeeded (it redacts the rendered document). The Rust host and the
JavaScript example write the same files; examples/cross-runtime-test.sh compares them
byte for byte.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from canonical import canonical
from rules import Rules, default_wasm


def answer(rules: Rules, req: dict) -> dict:
    kind = req["kind"]
    if kind == "render":
        check = rules.check(req["request"])
        render = redact = None
        if "ok" in check and check["ok"]["start-litestream"]:
            render = rules.render(req["request"], req["credentials"])
            if "ok" in render:
                redact = rules.redact(render["ok"]["document"])
        return {"check": check, "render": render, "redact": redact}
    if kind == "parse":
        return {"parse": rules.parse_credentials(req["text"])}
    if kind == "compare":
        return {"compare": rules.compare_credentials(req["current"], req["fresh"])}
    if kind == "call":  # any export, by its WIT name
        return {"answer": rules.call(req["call"].replace("-", "_"), *req["args"])}
    raise ValueError(f"unknown request kind {kind!r}")


def run(requests: Path, out: Path, wasm: Path) -> int:
    rules = Rules(wasm)
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(requests.glob("*.json"))
    if not files:
        print(f"no request files in {requests}", file=sys.stderr)
        return 1
    for path in files:
        req = json.loads(path.read_text(encoding="utf-8"))
        try:
            result = answer(rules, req)
        except Exception as e:
            raise SystemExit(f"{path.name}: {type(e).__name__}: {e}") from e
        (out / path.name).write_bytes(canonical(result).encode("utf-8"))
    print(f"python: {len(files)} case(s) answered into {out}")
    return 0


def bench_request(n: int) -> dict:
    """The request the Rust render_bench times (tests/examples/render_bench.rs)."""
    return {
        "top-level": '{"all-replicate": ["s3://bucket/$DB_NAME"], "metrics-addr": ":9090"}',
        "databases": [
            {"name": f"db{i}", "path": f"/srv/data/db{i}.db", "directory": "/srv/data", "plugin-config": None}
            for i in range(n)
        ],
        "working-directory": "/srv",
        "litestream-version": "v0.3.13",
        "control-socket": None,
    }


def median_us(repeats: int, f) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e6)
    return statistics.median(times)


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def bench(wasm: Path, repeats: int = 50) -> int:
    import wasmtime

    size = wasm.stat().st_size
    t = time.perf_counter()
    rules = Rules(wasm)
    load_ms = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    rules._instantiate()
    inst_ms = (time.perf_counter() - t) * 1e3
    out = {
        "runtime": f"python {sys.version.split()[0]}, wasmtime {_version('wasmtime')}",
        "component_bytes": size,
        "load_ms": round(load_ms, 1),
        "instantiate_ms": round(inst_ms, 2),
    }
    for n in (1, 1000):
        req = bench_request(n)
        assert "ok" in rules.render(req, None)  # warm up, and check it renders
        out[f"render_{n}_us"] = round(median_us(repeats, lambda req=req: rules.render(req, None)), 1)
    # How much of that is the call into wasm itself (lifting and lowering included),
    # the rest being wasmtime-py's ctypes conversion of the values, field by field.
    ffi = wasmtime._ffi
    real = ffi.wasmtime_component_func_call
    inside: list = []

    def timed(*args):
        t = time.perf_counter()
        try:
            return real(*args)
        finally:
            inside.append((time.perf_counter() - t) * 1e6)

    ffi.wasmtime_component_func_call = timed
    try:
        for n in (1, 1000):
            req = bench_request(n)
            inside.clear()
            for _ in range(repeats):
                rules.render(req, None)
            out[f"render_{n}_wasm_call_us"] = round(statistics.median(inside), 1)
    finally:
        ffi.wasmtime_component_func_call = real
    print(json.dumps(out))
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("requests", nargs="?", type=Path)
    p.add_argument("out", nargs="?", type=Path)
    p.add_argument("--wasm", type=Path, default=None, help="the component (default: %(default)s)")
    p.add_argument("--bench", action="store_true", help="time render for 1 and 1,000 databases")
    a = p.parse_args(argv)
    wasm = a.wasm or default_wasm()
    if a.bench:
        return bench(wasm)
    if a.requests is None or a.out is None:
        p.error("REQUESTS_DIR and OUT_DIR are required (or --bench)")
    return run(a.requests, a.out, wasm)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
