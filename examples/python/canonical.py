"""Canonical JSON: the byte-exact form in which the cross-runtime tests compare what
Rust, Python and JavaScript got from the rules component (examples/js/rules.js has
the same function)."""

from __future__ import annotations

import json
import math
from typing import Any


def canonical(value: Any) -> str:
    """Object keys sorted by code point, no whitespace, non-ASCII as is; a float that
    is integral and below 1e15 in magnitude as an integer, any other finite float in
    its shortest round-trip digits laid out as Rust's serde_json (ryu) does
    (`0.5`, `1e-7`, `1e16`, `1000000000000000.0`), NaN and infinities as null."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(v) for k, v in items) + "}"
    raise TypeError(f"not JSON: {value!r}")


def _number(f: float) -> str:
    if not math.isfinite(f):
        return "null"
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    return ("-" if f < 0 else "") + _ryu_layout(repr(abs(f)))


def _ryu_layout(shortest: str) -> str:
    """Lays out the digits of a shortest round-trip repr (Python's or JavaScript's)
    the way ryu's `format64` does."""
    mantissa, _, exp = shortest.partition("e")
    whole, _, frac = mantissa.partition(".")
    full = whole + frac
    lead = len(full) - len(full.lstrip("0"))
    digits = full.strip("0")
    kk = len(whole) + int(exp or 0) - lead  # 10^(kk-1) <= value < 10^kk
    length = len(digits)
    k = kk - length
    if 0 <= k and kk <= 16:
        return digits + "0" * k + ".0"
    if 0 < kk <= 16:
        return digits[:kk] + "." + digits[kk:]
    if -5 < kk <= 0:
        return "0." + "0" * -kk + digits
    if length == 1:
        return f"{digits}e{kk - 1}"
    return f"{digits[0]}.{digits[1:]}e{kk - 1}"
