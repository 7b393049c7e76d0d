"""What the host says on its channel: its ready line and events on stdout (JSON
objects with an "event" key), and the JSON answers of its private status socket."""

from __future__ import annotations

import json
import math

from .unix_http import HostUnreachable, first_line

# How long stop() waits for the host after closing its stdin, beyond the grace its
# ready line says it gives Litestream between SIGTERM and SIGKILL (stop_grace_seconds):
# the host's own shutdown after Litestream's (status socket, private directory).
STOP_MARGIN = 10.0
# A host whose ready line does not say (an older host): its longest default grace,
# Litestream 0.5's shutdown-sync-timeout (30 s) plus 5 s, plus the margin.
STOP_TIMEOUT_FALLBACK = 45.0


def stop_timeout_from(message: dict) -> float:
    """The host's ready line (and each "applied" event that changes it) says how long
    its stop may take, Litestream's final sync included (`stop_grace_seconds`); the
    plugin waits that plus STOP_MARGIN. A line without it (an older host) or with
    nonsense gets STOP_TIMEOUT_FALLBACK."""
    grace = message.get("stop_grace_seconds")
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or not math.isfinite(grace) or grace < 0:
        return STOP_TIMEOUT_FALLBACK
    return float(grace) + STOP_MARGIN


def durable_from(message: dict, previous: dict[str, float]) -> dict[str, float]:
    """The `durable` mapping of a ready line or "applied" event (database name to its
    durable-timeout); a message without one leaves what was known."""
    durable = message.get("durable")
    if not isinstance(durable, dict):
        return previous
    return {
        name: float(t)
        for name, t in durable.items()
        if isinstance(name, str) and isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)
    }


def event_of(line: bytes) -> dict | None:
    """A JSON object with an "event" key, or None for any other line."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) and "event" in message else None


def answer_json(code: int, body: bytes, expected: tuple[int, ...]) -> dict:
    """A JSON object answered with one of the `expected` codes, or HostUnreachable."""
    if code not in expected:
        raise HostUnreachable(f"the host answered {code}: {first_line(body)}")
    try:
        answer = json.loads(body)
    except ValueError as e:
        raise HostUnreachable(f"the host's answer is not JSON: {e}") from None
    if not isinstance(answer, dict):
        raise HostUnreachable("the host's answer is not a JSON object")
    return answer


def lease_from(message: dict, previous: dict | None) -> dict | None:
    """The lease as a ready line or a "lease" event says it; None when not leased.
    `databases`: the names whose writes wait for this node to be the primary."""
    if message.get("event") == "ready":
        names = message.get("lease")
        return {"role": "starting", "databases": names} if isinstance(names, list) else None
    if message.get("event") == "lease" and isinstance(message.get("role"), str):
        return {k: message.get(k) for k in ("role", "holder", "expires_at", "reason", "databases")}
    return previous
