"""Row 13's small figures and table cells."""

from __future__ import annotations

import statistics
import time


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def spread(values: list[float]) -> dict:
    return {
        "min": min(values) if values else None,
        "median": statistics.median(values) if values else None,
        "max": max(values) if values else None,
    }


def delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def first_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def fmt_ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f} ms"


def fmt_num(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def fmt_per_sync(run: dict) -> str:
    if run["durable_writes"] is None or run["durable_syncs"] is None:
        return "n/a"
    if not run["durable_syncs"]:
        return f"no sync ({run['durable_writes']:g} writes)"
    return f"{run['writes_per_sync']:.1f} ({run['durable_writes']:g} / {run['durable_syncs']:g})"


def fmt_spread(s: dict, digits: int = 0) -> str:
    if s["median"] is None:
        return "n/a"
    return f"{s['min']:.{digits}f} / {s['median']:.{digits}f} / {s['max']:.{digits}f}"


def refusal_line(reason: str) -> str:
    """The configuration check's own words, when the log holds them, else the first line."""
    line = next((x for x in reason.splitlines() if "durable" in x or "unknown" in x.lower()), first_line(reason))
    line = line.strip().lstrip("- ")
    return line.split(" (valid")[0][:200]
