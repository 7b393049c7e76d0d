"""Row 13's report: the latency and crash tables, notes, and the compact JSON."""

from __future__ import annotations

import json
import re

from .crash import summarise_crash
from .figures import fmt_ms, fmt_num, fmt_per_sync, fmt_spread, refusal_line
from .server import MODES


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


def compact_json(obj) -> str:
    """Indented JSON with each list of plain values on one line (the raw latencies and
    answers would take a line per number). A raw newline never occurs inside a JSON
    string, so only real line breaks are folded."""
    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\n\s*([^\[\]{}]*?)\n\s*\]", lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text)
