"""Datasette plugin: keeps Datasette's SQLite databases replicated with Litestream.

The work is done by the native `datasette-litestream` host program. This plugin
hands it Datasette's resolved plugin configuration and database list, stops it
with Datasette, and shows its status page inside Datasette.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from datasette import hookimpl
from datasette.permissions import Action
from datasette.utils import StartupError

from .host import Host, HostError
from .state import State, new_state, state_for
from .views import VIEW_STATUS, health_view, metrics_view, status_json_view, status_page_view

PLUGIN = "datasette-litestream"
# After the host fails, how long Datasette may take to shut down in order before
# the process is ended anyway.
FATAL_GRACE = 30.0
# How long to wait for a server's SIGTERM handler to appear before giving up on
# ending the process.
SERVER_WAIT = 5.0


def inputs_for(datasette) -> dict:
    """What the host needs, exactly as Datasette sees it: names as Datasette
    named the databases, config after Datasette's $env/$file resolution."""
    try:
        top_level = datasette.plugin_config(PLUGIN)
        databases = []
        for name, db in datasette.databases.items():
            if db.is_memory or getattr(db, "is_temp_disk", False) or not db.path:
                continue
            databases.append(
                {
                    "name": name,
                    "path": str(Path(db.path).resolve()),
                    "plugin_config": datasette.plugin_config(PLUGIN, database=name, fallback=False),
                }
            )
    except OSError as e:
        # A {"$file": ...} that cannot be read.
        raise StartupError(f"datasette-litestream: cannot read its configuration: {e}") from e
    return {"top_level": top_level, "databases": databases, "working_directory": os.getcwd()}


@hookimpl
def register_actions(datasette):
    return [
        Action(
            name=VIEW_STATUS,
            description="View the Litestream replication status page",
        )
    ]


@hookimpl
async def startup(datasette):
    state = new_state(datasette)
    inputs = inputs_for(datasette)
    if inputs["top_level"] is None and all(d["plugin_config"] is None for d in inputs["databases"]):
        return  # not configured anywhere: no host, no Litestream
    host = Host()
    host.on_failure = lambda code: _host_failed(state, code)
    try:
        await host.start(inputs)
    except HostError as e:
        raise StartupError(str(e)) from e
    state.host = host


@hookimpl(trylast=True)
async def shutdown(datasette):
    state = state_for(datasette)
    if state is None:
        return
    if state.host is not None:
        await state.host.stop()
    if state.fatal_code is not None:
        # Datasette has shut down in order; only now can the exit status say
        # that replication failed (uvicorn would otherwise exit 0 or by SIGTERM).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(state.fatal_code)


def _host_failed(state: State, code: int) -> None:
    """The host ended with an error while Datasette runs (a failed credentials
    refresh, Litestream failing for good): Datasette must end with an error too."""
    print(
        f"datasette-litestream: error: the replication host exited with status {code}; "
        f"stopping Datasette",
        file=sys.stderr,
        flush=True,
    )
    loop = asyncio.get_running_loop()
    _stop_datasette(state, loop.time() + SERVER_WAIT)


def _stop_datasette(state: State, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    if callable(signal.getsignal(signal.SIGTERM)):
        # uvicorn's SIGTERM handler shuts Datasette down in order, which runs the
        # shutdown hook above, which then exits with this status.
        state.fatal_code = 1
        os.kill(os.getpid(), signal.SIGTERM)
        loop.call_later(FATAL_GRACE, _exit_now, state.fatal_code)
    elif loop.time() < deadline:
        # `datasette serve` starts uvicorn (and its handler) just after the startup
        # hooks; the host may fail in between.
        loop.call_later(0.1, _stop_datasette, state, deadline)
    # Otherwise no server handles SIGTERM (Datasette embedded, or tests): there is
    # no process of ours to end, and the status page reports the failure.


def _exit_now(code: int) -> None:
    sys.stderr.flush()
    os._exit(code)


@hookimpl
def menu_links(datasette, actor):
    async def inner():
        if await datasette.allowed(action=VIEW_STATUS, actor=actor):
            return [{"href": datasette.urls.path("/-/litestream-status"), "label": "Litestream Status"}]
        return []

    return inner


@hookimpl
def register_routes():
    return [
        (r"^/-/litestream-status$", status_page_view),
        (r"^/-/litestream-status\.json$", status_json_view),
        (r"^/-/litestream-health$", health_view),
        (r"^/-/litestream-metrics$", metrics_view),
    ]
