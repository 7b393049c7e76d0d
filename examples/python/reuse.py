"""Many calls on ONE instance of the rules component, with memory flat.

    python reuse.py [--wasm FILE] [--calls N] [--max-rss-growth-mib M]

`Rules` keeps one instance for every call (a fresh one only after a trap), so the
guest must reclaim what each call allocated (guest/src/bump.rs). This makes N calls
(default 100,000) on one `Rules` object, going round every export with small inputs,
and measures the process RSS after the first 1,000 calls and after the last. It fails
(exit 1) if a call fails or traps, if the instance was replaced, if the linear memory
grew at all after the first 1,000 calls, or if RSS grew by more than M MiB (default
10). wasmtime-py does not expose a component's linear memory, so its size cannot be
read; instead, after the first 1,000 calls the store's memory limit is set to 0 bytes,
below the memory's size: from then on any `memory.grow` fails, the guest's allocator
gets no memory and the call traps. (--no-freeze leaves the usual 128 MiB cap, which
unbounded growth reaches later.) Prints one line with the figures;
examples/cross-runtime-test.sh runs it.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time

from rules import PACKAGE, VERSION, Rules, default_wasm

REQUEST = {
    "top-level": '{"all-replicate": ["s3://bucket/$DB_NAME"], "metrics-addr": ":9090"}',
    "databases": [{"name": "db0", "path": "/srv/data/db0.db", "directory": "/srv/data", "plugin-config": None}],
    "working-directory": "/srv",
    "litestream-version": "v0.3.13",
    "control-socket": None,
}
CREDS = {"access-key-id": "AKIAEXAMPLE", "secret-access-key": "s3cr3t/key", "session-token": None}
DOCUMENT = "access-key-id: AKIAEXAMPLE\nsecret-access-key: s3cr3t/key\ndbs:\n  - path: /srv/data/db0.db\n"
METRICS = 'go_goroutines 12\nlitestream_db_size{db="/srv/data/db0.db"} 8192\n'
EVIDENCE = {
    "name": "db0",
    "path": "/srv/data/db0.db",
    "file-exists": True,
}
HEALTH = {
    "state": "running",
    "uptime-seconds": 60,
    "databases": [EVIDENCE],
    "logs": [{"age-seconds": 5, "text": "level=INFO msg=replicating"}],
    "window-seconds": 30,
    "durability": [],
    "conflicts": [],
}
VERIFY = {
    "sentinel-error": None,
    "restored": True,
    "restore-error": None,
    "integrity-ok": True,
    "sentinel-found": True,
    "timed-out": False,
    "waited-seconds": 1.5,
}
CREDS_JSON = '{"access-key-id": "A", "secret-access-key": "B"}'
ROTATED = {**CREDS, "session-token": "t"}
TARGETS = [{"name": "db0", "exists": False}]
OPTIONS = {"force": False, "only-missing": True}
LAST = [{"database": "db0", "outcome": "verified", "age-seconds": 10}]
OUTPUT = ["level=INFO msg=replicating"]
PROOF = {"tag": "replicas", "val": [{"path": "/srv/data/db0.db", "replicas": 1}]}

# Every export, each with an input it answers without error; `good` tells a good answer.
CALLS = [
    ("render", lambda r: r.render(REQUEST, CREDS), lambda a: "ok" in a),
    ("check", lambda r: r.check(REQUEST), lambda a: "ok" in a),
    ("redact", lambda r: r.redact(DOCUMENT), lambda a: "ok" in a),
    ("parse-credentials", lambda r: r.parse_credentials(CREDS_JSON), lambda a: "ok" in a),
    ("compare-credentials", lambda r: r.compare_credentials(CREDS, ROTATED), lambda a: a["changed"]),
    ("digest-metrics", lambda r: r.digest_metrics(METRICS, REQUEST["databases"]), lambda a: "ok" in a),
    ("assess-health", lambda r: r.assess_health(HEALTH), lambda a: a["ok"]),
    ("plan-restore", lambda r: r.plan_restore(TARGETS, [], OPTIONS), lambda a: "ok" in a),
    ("empty-replica", lambda r: r.empty_replica("db0", False), lambda a: a["outcome"] == "fresh-start"),
    # Exports Rules has no method for (yet), called by name.
    ("startup-progress", lambda r: r.call("startup_progress", PROOF, OUTPUT), lambda a: isinstance(a, str)),
    ("judge-verification", lambda r: r.call("judge_verification", VERIFY), lambda a: a["outcome"] == "verified"),
    ("require-verified", lambda r: r.call("require_verified", LAST, 60), lambda a: "ok" in a),
]
# (method, interface, WIT name) of those, registered on the Rules object when the
# component has them.
UNWRAPPED = [
    ("startup_progress", "health", "startup-progress"),
    ("judge_verification", "restore", "judge-verification"),
    ("require_verified", "restore", "require-verified"),
]

MIB = 1 << 20


def rss() -> int:
    """The process's resident set now, in bytes (Linux); its peak elsewhere."""
    gc.collect()
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wasm", default=None, help="the component (default: the build output)")
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--max-rss-growth-mib", type=float, default=10.0)
    ap.add_argument("--no-freeze", action="store_true", help="keep the 128 MiB cap after the first 1,000 calls")
    args = ap.parse_args()
    warmup = min(1_000, args.calls)

    rules = Rules(args.wasm or default_wasm())
    for method, iface, name in UNWRAPPED:
        outer = rules.component.get_export_index(f"{PACKAGE}/{iface}@{VERSION}")
        inner = outer and rules.component.get_export_index(name, outer)
        if inner is not None:
            rules._indexes[method] = inner
    calls = [c for c in CALLS if c[0].replace("-", "_") in rules._indexes]
    instance = None
    before = None
    start = time.perf_counter()
    for i in range(args.calls):
        name, call, good = calls[i % len(calls)]
        try:
            answer = call(rules)
        except Exception as e:  # a trap: the memory limit, fuel, a guest panic
            frozen = before is not None and not args.no_freeze
            print(
                f"reuse python: FAILED at call {i + 1:,} ({name}) on one instance after "
                f"{time.perf_counter() - start:.1f} s; RSS {'?' if before is None else f'{before / MIB:.1f}'} -> "
                f"{rss() / MIB:.1f} MiB (after {warmup:,} -> now): {type(e).__name__}: "
                f"{(str(e).strip().splitlines() or [''])[-1].strip()}"
                + (f" (the linear memory had to grow after {warmup:,} calls)" if frozen else "")
            )
            return 1
        if not good(answer):
            print(f"reuse python: FAILED at call {i + 1:,} ({name}): unexpected answer {answer!r}")
            return 1
        if instance is None:
            instance = rules._instance
        elif rules._instance is not instance:
            print(f"reuse python: FAILED at call {i + 1:,} ({name}): the instance was replaced")
            return 1
        if i + 1 == warmup:
            before = rss()
            if not args.no_freeze:
                rules.store.set_limits(memory_size=0)  # no memory.grow succeeds any more
    seconds = time.perf_counter() - start
    after = rss()
    grew = (after - before) / MIB
    ok = grew <= args.max_rss_growth_mib
    print(
        f"reuse python: {args.calls:,} calls on one instance ({len(calls)} exports in turn) in {seconds:.1f} s; "
        f"RSS {before / MIB:.1f} -> {after / MIB:.1f} MiB "
        f"({grew:+.1f}, after {warmup:,} -> after {args.calls:,} calls); "
        + (
            "linear memory capped at 128 MiB"
            if args.no_freeze
            else f"linear memory did not grow after {warmup:,} calls (frozen: no memory.grow succeeded)"
        )
        + ("" if ok else f"; FAILED: RSS grew more than {args.max_rss_growth_mib:g} MiB")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
