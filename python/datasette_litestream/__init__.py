"""Datasette plugin: keeps Datasette's SQLite databases replicated with Litestream.

The work is done by the native `datasette-litestream` host program. This plugin
hands it Datasette's resolved plugin configuration and database list (again
whenever databases are added or removed while Datasette runs), stops it with
Datasette, and shows its status page inside Datasette. With
DATASETTE_LITESTREAM_FOLLOW=1 the host keeps read-only followers instead
(follower.py says what the plugin does for them).
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

from . import command, durability, follower, lease
from .durability import NotDurable, durable
from .host import FINAL_SYNC_UNCONFIRMED, Host, HostError
from .state import State, new_state, state_for
from .views import VIEW_STATUS, health_view, metrics_view, status_json_view, status_page_view

__all__ = ["NotDurable", "durable"]

PLUGIN = "datasette-litestream"
# After the host fails, how long Datasette may take to shut down in order before
# the process is ended anyway.
FATAL_GRACE = 30.0
# How long to wait for a server's SIGTERM handler to appear before giving up on
# ending the process.
SERVER_WAIT = 5.0
# How often the database list is compared with what the host was last given.
# Datasette has no hook for add_database/remove_database; a comparison of a few
# tuples is cheap enough to run four times a second.
POLL_INTERVAL = 0.25


def follow_mode() -> bool:
    """An operator's switch, like DATASETTE_LITESTREAM_RESTORE_IF_MISSING."""
    return os.environ.get("DATASETTE_LITESTREAM_FOLLOW") == "1"


def _file_backed(db) -> bool:
    """Only databases with a file of their own can be replicated."""
    return not (db.is_memory or getattr(db, "is_temp_disk", False) or not db.path)


def database_list(datasette) -> tuple:
    """What decides whether the host needs new inputs: each file-backed database's
    name and path as given (a Database's path never changes; it is resolved when
    the inputs are built)."""
    return tuple((name, db.path) for name, db in datasette.databases.items() if _file_backed(db))


def inputs_for(datasette, follow: bool = False) -> dict:
    """What the host needs, exactly as Datasette sees it: names as Datasette
    named the databases, config after Datasette's $env/$file resolution. A
    follower's path is the host's symlink, so it is made absolute without
    resolving symlinks (resolving would name the current generation file)."""
    absolute = os.path.abspath if follow else (lambda p: str(Path(p).resolve()))
    try:
        top_level = datasette.plugin_config(PLUGIN)
        databases = []
        for name, db in datasette.databases.items():
            if not _file_backed(db):
                continue
            databases.append(
                {
                    "name": name,
                    "path": absolute(db.path),
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
    # `datasette create-token`, `serve --get` and other commands that serve nothing
    # run the startup hooks too, on an event loop closed right after, with no
    # shutdown hooks: a host started there would outlive the command (and talk after
    # it returned). Nothing to replicate for them, and nothing of ours to say.
    state.not_started = command.serves_nothing()
    if state.not_started is not None:
        return
    state.owns_process = command.serving_cli()
    # Taken with the inputs, with no await in between: the watcher's first
    # comparison is against exactly what the host was given.
    seen = database_list(datasette)
    follow = follow_mode()
    inputs = inputs_for(datasette, follow)
    # Started whether or not anything is configured: the host decides what is to be
    # replicated (and says so on its status page), and a database attached later
    # with config finds it running.
    host = Host(follow=follow)
    host.on_failure = lambda code: _host_failed(state, code)
    host.on_replaced = lambda name, path: follower.readd(datasette, state.followed, name, path)
    try:
        await host.start(inputs)
    except HostError as e:
        raise StartupError(str(e)) from e
    state.host = host
    if follow:
        try:
            _serve_followers(datasette, state, host)
        except StartupError:
            await host.stop()
            raise
        # No watcher: a follower's databases are the host's, fixed at start.
        return
    # `datasette serve` runs the startup hooks and uvicorn on one event loop (as
    # do ASGI lifespan and the first-request fallback), so this task lives as
    # long as the server, with no request needed to start it.
    state.watcher = asyncio.create_task(_watch_databases(datasette, host, seen))
    state.watcher.add_done_callback(_watcher_ended)


def _serve_followers(datasette, state: State, host: Host) -> None:
    """Datasette may have opened the followed files before the host put its
    symlinks in place: every followed database gets a new Database object."""
    for entry in host.following:
        try:
            follower.readd(datasette, state.followed, entry["name"], entry["path"])
        except (KeyError, TypeError, OSError) as e:
            raise StartupError(f"datasette-litestream: cannot serve the follower {entry!r}: {e}") from e


async def _watch_databases(datasette, host: Host, seen: tuple) -> None:
    """Sends the host a complete new set of inputs whenever the database list
    changes (datasette.add_database / remove_database); the host applies only
    the difference and reports each change on its stderr."""
    while host.running:
        await asyncio.sleep(POLL_INTERVAL)
        current = database_list(datasette)
        if current == seen:
            continue
        # Remembered before trying: a failure is reported once per change, not
        # four times a second.
        seen = current
        try:
            inputs = inputs_for(datasette)
        except StartupError as e:
            print(
                f"{e}; the host keeps the databases it had until the database list changes again",
                file=sys.stderr,
                flush=True,
            )
            continue
        await host.update(inputs)


def _watcher_ended(task: asyncio.Task) -> None:
    """Said at once, not when the task is garbage-collected: from now on the host
    no longer follows databases being added or removed."""
    if not task.cancelled() and task.exception() is not None:
        e = task.exception()
        print(
            f"datasette-litestream: error: stopped passing added or removed databases to the host: {e!r}",
            file=sys.stderr,
            flush=True,
        )


@hookimpl(trylast=True)
async def shutdown(datasette):
    state = state_for(datasette)
    if state is None:
        return
    if state.watcher is not None:
        state.watcher.cancel()
        # wait(), not await: the host must be stopped whatever the watcher's end was.
        await asyncio.wait([state.watcher])
    if state.host is not None:
        await state.host.stop()
        if state.host.exit_code == FINAL_SYNC_UNCONFIRMED:
            # The host named the databases on its stderr, just above.
            print(
                "datasette-litestream: error: the final sync was not confirmed for every database "
                "(see the host's lines above); their last writes may be missing from the replica"
                + (f"; exiting with status {FINAL_SYNC_UNCONFIRMED}" if state.owns_process else ""),
                file=sys.stderr,
                flush=True,
            )
            if state.owns_process and state.fatal_code is None:
                state.fatal_code = FINAL_SYNC_UNCONFIRMED
    if state.fatal_code is not None:
        # Datasette has shut down in order; only now can the exit status say
        # that replication failed (uvicorn would otherwise exit 0 or by SIGTERM).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(state.fatal_code)


def _host_failed(state: State, code: int) -> None:
    """The host ended with an error while Datasette runs (a failed credentials
    refresh, Litestream failing for good, or stopped by someone else without its
    final sync confirmed): Datasette must end with an error too, the same 3 for an
    unconfirmed final sync, 1 for anything else."""
    print(
        f"datasette-litestream: error: the replication host exited with status {code}; stopping Datasette",
        file=sys.stderr,
        flush=True,
    )
    loop = asyncio.get_running_loop()
    fatal = FINAL_SYNC_UNCONFIRMED if code == FINAL_SYNC_UNCONFIRMED else 1
    _stop_datasette(state, loop.time() + SERVER_WAIT, fatal)


def _stop_datasette(state: State, deadline: float, fatal: int = 1) -> None:
    loop = asyncio.get_running_loop()
    if callable(signal.getsignal(signal.SIGTERM)):
        # uvicorn's SIGTERM handler shuts Datasette down in order, which runs the
        # shutdown hook above, which then exits with this status.
        state.fatal_code = fatal
        os.kill(os.getpid(), signal.SIGTERM)
        loop.call_later(FATAL_GRACE, _exit_now, state.fatal_code)
    elif loop.time() < deadline:
        # `datasette serve` starts uvicorn (and its handler) just after the startup
        # hooks; the host may fail in between.
        loop.call_later(0.1, _stop_datasette, state, deadline, fatal)
    # Otherwise no server handles SIGTERM (Datasette embedded, or tests): there is
    # no process of ours to end, and the status page reports the failure.


def _exit_now(code: int) -> None:
    sys.stderr.flush()
    os._exit(code)


@hookimpl
def prepare_connection(conn, database, datasette):
    """A follower's pages change under the connection without SQLite noticing
    (Litestream bumps the change counter only when it writes page 1), so a page
    cache serves stale rows: measured up to 17 s+ old. No cache, no staleness."""
    state = state_for(datasette)
    if state is not None and database in state.followed:
        conn.execute("PRAGMA cache_size=0")


@hookimpl
def permission_resources_sql(datasette, actor, action):
    state = state_for(datasette)
    return follower.permission_sql(state.followed if state else (), action)


@hookimpl
def asgi_wrapper(datasette):
    def followed():
        state = state_for(datasette)
        return state.followed if state else {}

    def wrap(app):
        app = follower.explain_refusals(app, datasette, followed)
        app = durability.read_your_writes(app, datasette, followed)
        return durability.hold_acknowledgements(app, datasette)

    return wrap


@hookimpl
def write_wrapper(datasette, database, request, transaction):
    return lease.write_wrapper(datasette, database) or durability.write_wrapper(datasette, database)


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
