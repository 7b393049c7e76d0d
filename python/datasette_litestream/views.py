"""/-/litestream-status and its JSON twin: the host's status document, shown
inside Datasette's page chrome to actors allowed `litestream-view-status`."""

from __future__ import annotations

import datetime
import json

from datasette.utils.asgi import Forbidden, Response

from .state import state_for

VIEW_STATUS = "litestream-view-status"
# What the host's health check takes; passed through as given, judged by the host.
HEALTH_PARAMETERS = ("verified-within", "max-lag")
HIDDEN = f" (the reason needs the {VIEW_STATUS} permission)"
NOT_CONFIGURED = (
    "there is no datasette-litestream configuration, neither top-level nor for any "
    "database, so Litestream was not started"
)


async def status_json_view(datasette, request):
    await _check_allowed(datasette, request)
    status, code = await _status(datasette)
    return Response.json(status, status=code)


async def status_page_view(datasette, request):
    await _check_allowed(datasette, request)
    status, code = await _status(datasette)
    context = {
        "status": status,
        "litestream": _ordered(status.get("litestream") or {}),
        "logs": [_log_line(entry) for entry in status.get("logs") or []],
        "replication": [
            _replication_row(db["name"], db["replication"])
            for db in status.get("databases") or []
            if db.get("replication")
        ],
        "metrics": status.get("metrics") or {},
        "json_url": datasette.urls.path("/-/litestream-status.json"),
    }
    html = await datasette.render_template("litestream_status.html", context, request=request)
    return Response.html(html, status=code)


async def health_view(datasette, request):
    """/-/litestream-health for load balancers: open to anyone, since a probe has no
    actor. The status code is the host's verdict (200 or 503); the one-line reason
    names databases, so it is shown only to actors allowed litestream-view-status."""
    params = {k: request.args.get(k) for k in HEALTH_PARAMETERS if request.args.get(k) is not None}
    host, state, why = _host(datasette)
    if host is None:
        code, reason = 503, (f"Litestream is not running: {why}" if state == "not-started" else why)
    else:
        import httpx  # loaded with the status client already; not at import, see host.py

        try:
            code, reason = await host.health(params)
            reason = reason.strip()
        except (httpx.HTTPError, OSError) as e:
            code, reason = 503, f"cannot reach the datasette-litestream host: {e}"
    # A 400's reason is about the probe's own parameters, never about the databases.
    if code != 400 and not await datasette.allowed(action=VIEW_STATUS, actor=request.actor):
        reason = {200: "ok"}.get(code, "unhealthy") + HIDDEN
    return Response.text(reason + "\n", status=code)


async def metrics_view(datasette, request):
    """/-/litestream-metrics: the host's Prometheus text, for litestream-view-status
    (it names databases, like the status page)."""
    await _check_allowed(datasette, request)
    host, state, why = _host(datasette)
    if host is None:
        return Response.text(f"# Litestream is not running: {why}\n", status=503)
    import httpx  # loaded with the status client already; not at import, see host.py

    try:
        code, text = await host.metrics()
    except (httpx.HTTPError, OSError) as e:
        return Response.text(f"# cannot reach the datasette-litestream host: {e}\n", status=503)
    return Response(text, status=code, content_type="text/plain; version=0.0.4; charset=utf-8")


async def _check_allowed(datasette, request) -> None:
    if not await datasette.allowed(action=VIEW_STATUS, actor=request.actor):
        raise Forbidden(f"You need the {VIEW_STATUS} permission to view this page")


def _host(datasette):
    """(the running host, None, None), or (None, state, why) when there is none."""
    state = state_for(datasette)
    host = state.host if state else None
    if host is None:
        return None, "not-started", NOT_CONFIGURED
    if not host.running:
        return None, "host-exited", f"the datasette-litestream host exited with status {host.exit_code}"
    return host, None, None


async def _status(datasette) -> tuple[dict, int]:
    host, state, why = _host(datasette)
    if host is None:
        return {"litestream": {"state": state, "replicating": False}, "reason": why}, (
            200 if state == "not-started" else 503
        )
    import httpx  # loaded by host.status() already; not at import, see host.py

    try:
        return await host.status(), 200
    except (httpx.HTTPError, OSError, ValueError) as e:
        return {
            "litestream": {"state": "unknown"},
            "reason": f"cannot reach the datasette-litestream host: {e}",
        }, 503


# Shown first, in this order; anything else the host reports follows.
_LITESTREAM_KEYS = (
    "state",
    "replicating",
    "pid",
    "version",
    "uptime_seconds",
    "restarts",
    "reloads",
    "rotations",
    "last_exit",
    "last_exit_code",
)


def _replication_row(name: str, r: dict) -> list[str]:
    def position(p):
        if not p:
            return "—"
        if not p.get("generation"):
            return f"txid {p['index']}"
        return f"{p['generation']}/{p['index']:08x}:{p['offset']}"

    behind_by = r.get("behind_by")
    return [
        name,
        r.get("state", ""),
        f"{r.get('lag_seconds', 0):.1f} s",
        position(r.get("local_position")),
        position(r.get("replica_position")),
        "—" if behind_by is None else str(behind_by),
        r.get("last_replicated_at") or "—",
        r.get("reason", ""),
    ]


def _ordered(litestream: dict) -> list[tuple[str, object]]:
    known = [(k, litestream[k]) for k in _LITESTREAM_KEYS if k in litestream]
    rest = [(k, v) for k, v in litestream.items() if k not in _LITESTREAM_KEYS]
    return [(k, _display(v)) for k, v in known + rest]


def _display(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _log_line(entry) -> dict:
    if not isinstance(entry, dict):
        return {"at": "", "stream": "", "text": str(entry)}
    at = entry.get("at")
    try:
        when = datetime.datetime.fromtimestamp(float(at), datetime.timezone.utc)
        at_text = when.strftime("%Y-%m-%d %H:%M:%S") + f".{when.microsecond // 1000:03d}Z"
    except (TypeError, ValueError, OverflowError, OSError):
        at_text = "" if at is None else str(at)
    return {"at": at_text, "stream": entry.get("stream") or "", "text": entry.get("text") or ""}
