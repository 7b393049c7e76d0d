"""The datasette-litestream rules component, from Python, with nothing granted.

Loads the very `.wasm` the Rust host embeds (WIT: ../../wit/world.wit, package
`datasette:litestream@0.3.0`) with the PyPI package `wasmtime` (wasmtime-py 50.x) and
calls its exports. The component is linked against WASI 0.2 (a Rust guest imports
stdio, environment, exit and a random seed through its standard library) backed by an
empty `WasiConfig`: no preopened directory, no environment variable, no argument, no
inherited stdin/stdout/stderr (stdin closed, output discarded), and no network. The
component imports no filesystem, socket, clock or HTTP interface at all. Memory is
capped and each call metered with fuel, so a runaway call traps instead of hanging.

Values go in and come out as plain JSON-shaped Python values in the WIT's own terms:

    record          dict keyed by the WIT field names (kebab-case: "access-key-id")
    list            list
    option<T>       None or the value
    result<T, E>    {"ok": value} or {"err": value}
    variant         {"tag": "case"} or {"tag": "case", "val": payload}
    enum            the case name ("v03")
    flags           list of the names set, in declaration order
    f64             float (ints are accepted going in)

so what `check`, `render`… return can be printed with `json.dumps` as it is, and
`canonical.canonical()` writes the byte-exact JSON the cross-runtime tests compare.

    from rules import Rules
    rules = Rules()                      # or Rules("rules.wasm")
    rules.check(request)                 # {"ok": plan} or {"err": [config-error, ...]}

Run `python rules.py [WASM]` for a short demonstration.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import component as wc
from wit_codec import codec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# Where `cargo build` leaves the component; `datasette-litestream component --out FILE`
# writes the same bytes from a released binary.
DEFAULT_WASM = ROOT / "target" / "wasm-components" / "wasm32-wasip2" / "guest" / "datasette_litestream_rules.wasm"
PACKAGE = "datasette:litestream"
VERSION = "0.3.0"

# (method, interface, WIT function name)
EXPORTS = [
    ("check", "configuration", "check"),
    ("targets", "lease", "targets"),
    ("route", "lease", "route"),
    ("look", "lease", "look"),
    ("renewal", "lease", "renewal"),
    ("lease_health", "lease", "lease-health"),
    ("judge_renewal", "lease", "judge-renewal"),
    ("render", "configuration", "render"),
    ("configure", "configuration", "configure"),
    ("redact", "configuration", "redact"),
    ("parse_credentials", "configuration", "parse-credentials"),
    ("compare_credentials", "configuration", "compare-credentials"),
    ("digest_metrics", "metrics", "digest-metrics"),
    ("assess_health", "health", "assess-health"),
    ("hint", "health", "hint"),
    ("judge_stop", "health", "judge-stop"),
    ("startup_progress", "health", "startup-progress"),
    ("where_to_look", "replication", "where-to-look"),
    ("track", "replication", "track"),
    ("parse_max_lag", "replication", "parse-max-lag"),
    ("require_caught_up", "replication", "require-caught-up"),
    ("judge_writers", "replication", "judge-writers"),
    ("judge_verification", "restore", "judge-verification"),
    ("explain_restore_failure", "restore", "explain-restore-failure"),
    ("require_verified", "restore", "require-verified"),
    ("judge_sync", "durability", "judge-sync"),
    ("plan_restore", "restore", "plan-restore"),
    ("empty_replica", "restore", "empty-replica"),
    ("plan_follow", "follow", "plan-follow"),
    ("follow_progress", "follow", "follow-progress"),
    ("replica_newest", "follow", "replica-newest"),
    ("parse_sidecar", "follow", "parse-sidecar"),
    ("judge_follower", "follow", "judge-follower"),
    ("require_fresh", "follow", "require-fresh"),
    ("admit", "membership", "admit"),
    ("plan_change", "membership", "plan-change"),
    ("require_admitted", "membership", "require-admitted"),
]

# Limits, like the Rust host's (128 MiB per call, a 0.5 s deadline): memory, and fuel
# refilled before every call (one unit per wasm operator: render for 1,000 databases
# takes about 23 million; 2e9 is a tight loop's 0.1 s or so) so that a runaway call
# traps instead of hanging the caller.
MEMORY_LIMIT = 128 << 20
FUEL_PER_CALL = 2_000_000_000


def default_wasm() -> Path:
    """`$DATASETTE_LITESTREAM_WASM`, else the build output."""
    return Path(os.environ.get("DATASETTE_LITESTREAM_WASM") or DEFAULT_WASM)


# ---------------------------------------------------------------------------


class Rules:
    """One instance of the component in its own store, granted nothing, with its
    memory capped (`memory_limit` bytes) and each call's fuel refilled to
    `fuel_per_call` (None: unmetered).

    Calls run one at a time on the instance. A trap (a guest panic, fuel or memory
    exhausted) poisons an instance: the next call gets a fresh one.
    """

    def __init__(
        self,
        wasm: str | os.PathLike | bytes | None = None,
        *,
        memory_limit: int | None = MEMORY_LIMIT,
        fuel_per_call: int | None = FUEL_PER_CALL,
    ):
        config = wasmtime.Config()
        config.consume_fuel = fuel_per_call is not None
        self.engine = wasmtime.Engine(config)
        self.memory_limit = memory_limit
        self.fuel_per_call = fuel_per_call
        if isinstance(wasm, (bytes, bytearray)):
            self.component = wc.Component(self.engine, wasm)
        else:
            self.component = wc.Component.from_file(self.engine, str(wasm or default_wasm()))
        self.linker = wc.Linker(self.engine)
        # The guest's standard library imports WASI 0.2, so it must be linked; what it
        # can reach through it is decided by the (empty) WasiConfig of each store.
        self.linker.add_wasip2()
        self._indexes = {}
        for method, iface, name in EXPORTS:
            outer = self.component.get_export_index(f"{PACKAGE}/{iface}@{VERSION}")
            inner = outer and self.component.get_export_index(name, outer)
            if inner is not None:
                self._indexes[method] = inner
        self._instance: wc.Instance | None = None
        self._funcs: dict = {}
        self._codecs: dict = {}

    def _instantiate(self) -> None:
        self.store = wasmtime.Store(self.engine)
        # Nothing granted: no preopens, no env, no args, no stdio, no network.
        self.store.set_wasi(wasmtime.WasiConfig())
        if self.memory_limit is not None:
            self.store.set_limits(memory_size=self.memory_limit)
        if self.fuel_per_call is not None:
            self.store.set_fuel(self.fuel_per_call)
        self._instance = self.linker.instantiate(self.store, self.component)
        self._funcs = {m: self._instance.get_func(self.store, i) for m, i in self._indexes.items()}
        if not self._codecs:
            for method, func in self._funcs.items():
                fty = func.type(self.store)
                params = [codec(t)[0] for _, t in fty.params]
                self._codecs[method] = (params, codec(fty.result)[1])

    def call(self, method: str, *args: Any) -> Any:
        if method not in self._indexes:
            raise LookupError(f"this component does not export {method.replace('_', '-')}")
        if self._instance is None:
            self._instantiate()
        elif self.fuel_per_call is not None:
            self.store.set_fuel(self.fuel_per_call)
        lowers, lift = self._codecs[method]
        raw = [lower(a) for lower, a in zip(lowers, args, strict=True)]
        try:
            return lift(self._funcs[method](self.store, *raw))
        except (wasmtime.Trap, wasmtime.WasmtimeError):
            self._instance = None  # poisoned: start afresh next time
            raise

    def check(self, request: dict) -> dict:
        """`{"ok": plan}` or `{"err": [config-error, ...]}`."""
        return self.call("check", request)

    def render(self, request: dict, credentials: dict | None = None) -> dict:
        """`{"ok": rendered}` or `{"err": [config-error, ...]}`."""
        return self.call("render", request, credentials)

    def configure(self, request: dict, credentials: dict | None = None) -> dict:
        """`{"ok": {"plan": ..., "rendered": ...}}`: `check` and `render` on one validation."""
        return self.call("configure", request, credentials)

    def redact(self, document: str) -> dict:
        """`{"ok": "..."}` or `{"err": "..."}`."""
        return self.call("redact", document)

    def parse_credentials(self, text: str) -> dict:
        """`{"ok": credentials}` or `{"err": {"tag": ..., "val": ...}}`."""
        return self.call("parse_credentials", text)

    def compare_credentials(self, current: dict, fresh: dict) -> dict:
        """`{"changed": bool, "fields": [...]}`."""
        return self.call("compare_credentials", current, fresh)

    def digest_metrics(self, text: str, databases: list) -> dict:
        """`{"ok": digest}` or `{"err": "..."}`."""
        return self.call("digest_metrics", text, databases)

    def assess_health(self, evidence: dict) -> dict:
        """`{"ok": bool, "reason": "...", "behind": [...]}`."""
        return self.call("assess_health", evidence)

    def plan_restore(self, targets: list, explicit: list, options: dict) -> dict:
        """`options` is `{"force": bool, "only-missing": bool}`; answers
        `{"ok": [{"database": ..., "step": {"tag": "restore"}}, ...]}` or `{"err": "..."}`."""
        return self.call("plan_restore", targets, explicit, options)

    def empty_replica(self, database: str, explicit: bool) -> dict:
        """`{"outcome": "fresh-start" | "error", "message": "..."}`."""
        return self.call("empty_replica", database, explicit)


# ---------------------------------------------------------------------------


def _demo(wasm: str | None) -> None:
    rules = Rules(wasm)
    request = {
        "top-level": json.dumps(
            {
                "all-replicate": ["s3://my-bucket/$DB_NAME"],
                "credentials-file": "/run/secrets/s3.json",
                "credentials-refresh-interval": 300,
            }
        ),
        "databases": [{"name": "fixtures", "path": "/srv/fixtures.db", "directory": "/srv", "plugin-config": None}],
        "working-directory": "/srv",
        "litestream-version": "0.5.17",
        "control-socket": "/run/dl/litestream.sock",
    }
    creds = {"access-key-id": "AKIAEXAMPLE", "secret-access-key": "s3cr3t/key", "session-token": None}
    show = lambda label, v: print(f"{label}: {json.dumps(v, indent=2, ensure_ascii=False)}")  # noqa: E731
    show("check", rules.check(request))
    rendered = rules.render(request, creds)
    show("render", rendered)
    show("redact", rules.redact(rendered["ok"]["document"]))
    show("check (typo)", rules.check({**request, "top-level": '{"all-replicat": []}'}))
    show("parse-credentials", rules.parse_credentials('{"access-key-id": "A", "secret-access-key": "B"}'))
    show("parse-credentials (bad)", rules.parse_credentials('{"access-key-id": "A"}'))
    show("compare-credentials", rules.compare_credentials(creds, {**creds, "secret-access-key": "rotated"}))
    show(
        "digest-metrics",
        rules.digest_metrics(
            'go_goroutines 12\nlitestream_db_size{db="/srv/fixtures.db"} 8192\n', request["databases"]
        ),
    )
    show(
        "assess-health",
        rules.assess_health(
            {
                "state": "running",
                "uptime-seconds": 60,
                "databases": [
                    {
                        "name": "fixtures",
                        "path": "/srv/fixtures.db",
                        "file-exists": True,
                    }
                ],
                "logs": [],
                "window-seconds": 30,
                "durability": [],
                "conflicts": [],
            }
        ),
    )
    show(
        "plan-restore",
        rules.plan_restore(
            [{"name": "fixtures", "exists": False}, {"name": "other", "exists": True}],
            [],
            {"force": False, "only-missing": True},
        ),
    )


if __name__ == "__main__":
    _demo(sys.argv[1] if len(sys.argv) > 1 else None)
