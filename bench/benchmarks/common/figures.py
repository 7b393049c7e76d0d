"""Summaries of repeated measurements, and their cells in the Markdown tables."""

from __future__ import annotations

import math
import statistics


def stats(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "median": None, "min": None, "max": None, "values": []}
    return {
        "n": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": [round(v, 6) for v in values],
    }


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q from 0 to 1)."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, math.ceil(q * len(v)) - 1))]


def quantile(values: list[float], q: float, empty=None):
    """The value at index int(q × n) of the sorted values (empty: when there are none)."""
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else empty


def median_parts(parts: list[dict]) -> dict:
    names = sorted({k for p in parts for k in p})
    return {k: round(statistics.median([p.get(k, 0) for p in parts]), 1) for k in names}


def fmt(s: dict | None, unit: str, digits: int = 2) -> str:
    """A table cell: median (min–max) of a stats() dict."""
    if not s or s.get("median") is None:
        return "–"
    if s["n"] == 1:
        return f"{s['median']:.{digits}f} {unit}"
    return f"{s['median']:.{digits}f} {unit} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def ratio(ours: dict | None, theirs: dict | None) -> str:
    """A table cell: ours divided by theirs, medians."""
    if not ours or not theirs or not ours.get("median") or not theirs.get("median"):
        return "–"
    return f"{ours['median'] / theirs['median']:.2f}×"
