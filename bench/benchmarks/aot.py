"""Per-call cost of the rules before and after ahead-of-time compilation, in one run.

    bench/aot.py [--before REV] [--rounds N]

REV (default 0d049ca, the last commit whose host compiled its rules with Cranelift at
run time) is checked out in a git worktree under target/bench-before/ and its
`render_bench` example built there, once. Then the two `render_bench` binaries run
alternately, N rounds each (default 7), and each figure is the median of the rounds'
medians. Both sides also time the same rules natively, so the wasm/native ratio
says what the runtime costs apart from changes to the rules themselves. Writes
bench/results/aot.{md,json}. Standard library only.

A second table isolates the compilation itself: `bench/jit` (a crate of its own, so the
host never gets wasmtime's compiler) loads today's component both ways in one
process, compiled there with Cranelift for this CPU and deserialised from the very
artefact the host embeds, and times the same calls alternately.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
from pathlib import Path

from .common.paths import RENDER_BENCH, RESULTS, ROOT

BEFORE = "0d049ca"
# The figures both revisions' render_bench print, in the table's order.
FIGURES = [
    ("check_1_db_us", "check, 1 database"),
    ("render_1_wasm_us", "render, 1 database"),
    ("render_100_wasm_us", "render, 100 databases"),
    ("render_1000_wasm_us", "render, 1,000 databases"),
    ("health_1_wasm_us", "assess-health, 1 database, 400 log lines"),
    ("health_100_wasm_us", "assess-health, 100 databases, 400 log lines"),
]
NATIVE = {
    "render_1_wasm_us": "render_1_native_us",
    "render_100_wasm_us": "render_100_native_us",
    "render_1000_wasm_us": "render_1000_native_us",
    "health_1_wasm_us": "health_1_native_us",
    "health_100_wasm_us": "health_100_native_us",
}


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def build_before(rev: str) -> Path:
    """The `render_bench` of `rev`, built in a worktree of its own (once)."""
    full = git("rev-parse", rev)
    tree = ROOT / "target" / "bench-before" / full[:12]
    binary = tree / "target" / "release" / "examples" / "render_bench"
    if binary.exists():
        return binary
    if not tree.exists():
        git("worktree", "add", "--detach", str(tree), full)
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    subprocess.run(
        ["cargo", "build", "--release", "-p", "tests", "--example", "render_bench"], cwd=tree, env=env, check=True
    )
    return binary


def build_now() -> Path:
    subprocess.run(["cargo", "build", "--release", "-p", "tests", "--example", "render_bench"], cwd=ROOT, check=True)
    return RENDER_BENCH


def build_jit() -> Path:
    """bench/jit, in a target directory of its own."""
    target = ROOT / "target" / "bench-jit"
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    subprocess.run(
        ["cargo", "build", "--release", "--manifest-path", str(ROOT / "bench/jit/Cargo.toml")], env=env, check=True
    )
    return target / "release" / "jit-vs-aot"


def embedded_artefact() -> Path:
    """The rules.cwasm the release host was built with (its newest build script output)."""
    found = sorted(
        (ROOT / "target/release/build").glob("datasette-litestream-*/out/rules.cwasm"), key=lambda p: p.stat().st_mtime
    )
    if not found:
        raise SystemExit("aot: no target/release/build/datasette-litestream-*/out/rules.cwasm (cargo build --release)")
    return found[-1]


def one_round(binary: Path, env: dict) -> dict:
    out = subprocess.run([binary, "51"], capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def wasm_over_native(medians: dict, key: str) -> float | None:
    native = medians.get(NATIVE.get(key, ""))
    return medians[key] / native if native else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default=BEFORE)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    before, now, jit = build_before(args.before), build_now(), build_jit()
    wasm = ROOT / "target/wasm-components/wasm32-wasip2/guest/datasette_litestream_rules.wasm"
    same = [
        json.loads(
            subprocess.run([jit, wasm, embedded_artefact(), "51"], capture_output=True, text=True, check=True).stdout
        )
        for _ in range(args.rounds)
    ]
    same_med = {k: statistics.median(r[k] for r in same) for k in same[0]}
    # The old host compiles its rules at load unless a trusted cache holds them: no
    # cache, so its load figure is the compile a fresh container pays.
    env = {**os.environ, "DATASETTE_LITESTREAM_CACHE": ""}
    rounds: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        rounds["before"].append(one_round(before, env))
        rounds["after"].append(one_round(now, env))
    med = {
        side: {k: statistics.median(r[k] for r in rs) for k in rs[0] if isinstance(rs[0][k], (int, float))}
        for side, rs in rounds.items()
    }
    rows = []
    for key, label in FIGURES + [("load_us", "load the rules (no cache: before compiles, after deserialises)")]:
        b, a = med["before"].get(key), med["after"].get(key)
        if b is None or a is None:
            continue
        rows.append(
            {
                "figure": label,
                "key": key,
                "before_us": b,
                "after_us": a,
                "after_over_before": a / b,
                "before_wasm_over_native": wasm_over_native(med["before"], key),
                "after_wasm_over_native": wasm_over_native(med["after"], key),
            }
        )
    now_iso = datetime.datetime.now().isoformat(timespec="seconds")
    head = git("rev-parse", "--short", "HEAD")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "aot.json").write_text(
        json.dumps(
            {
                "written": now_iso,
                "before": args.before,
                "after": head,
                "rounds": rounds,
                "rows": rows,
                "same_component": same,
            },
            indent=1,
        )
    )
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    lines = [
        "# Per-call cost of the rules: compiled at run time (before) and ahead of time (after)",
        "",
        f"Written by `bench/aot.py` on {now_iso}: before = {args.before} (Cranelift at run time), "
        f"after = {head} (precompiled, no compiler in the host). {os.cpu_count()} CPUs ({cpu}). "
        f"{args.rounds} alternating rounds of `render_bench 51` each; every cell is the median of the "
        "rounds' medians. wasm/native divides by the same rules compiled natively in the same round, "
        "so it separates the runtime's cost from changes to the rules between the two commits.",
        "",
        "| call | before | after | after / before | wasm/native before | wasm/native after |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    fmt = lambda v: "–" if v is None else f"{v:.1f}×"  # noqa: E731
    for r in rows:
        unit = (lambda v: f"{v / 1000:.1f} ms") if r["key"] == "load_us" else (lambda v: f"{v:.1f} µs")
        lines.append(
            f"| {r['figure']} | {unit(r['before_us'])} | {unit(r['after_us'])} | "
            f"{r['after_over_before']:.2f}× | {fmt(r['before_wasm_over_native'])} | "
            f"{fmt(r['after_wasm_over_native'])} |"
        )
    lines += [
        "",
        f"The same component ({head}) both ways in one process (`bench/jit`): compiled there by Cranelift "
        "for this CPU (JIT), and the artefact the host embeds, compiled at build time for the target "
        f"triple (AOT). Fresh store and instance per call, as in the host; {args.rounds} rounds of 51 "
        "alternating calls, median of the rounds' medians.",
        "",
        "| call | JIT | AOT | AOT / JIT |",
        "|---|---:|---:|---:|",
    ]
    for label, key in [
        ("check, 1 database", "check_1"),
        ("render, 1 database", "render_1"),
        ("render, 100 databases", "render_100"),
    ]:
        j, a = same_med[f"{key}_jit_us"], same_med[f"{key}_aot_us"]
        lines.append(f"| {label} | {j:.1f} µs | {a:.1f} µs | {a / j:.2f}× |")
    lines.append(f"| compile the component (JIT) / nothing (AOT) | {same_med['jit_compile_ms']:.0f} ms | 0 ms | |")
    lines += ["", "Raw values: `bench/results/aot.json`.", ""]
    (RESULTS / "aot.md").write_text("\n".join(lines))
    print("\n".join(lines))
