"""Follower mode (`DATASETTE_LITESTREAM_FOLLOW=1`): Datasette serves read-only
copies that the host keeps up to date with `litestream restore -f`.

The host makes each followed path a symlink to a fully restored generation file
and swaps the symlink atomically when it restores a new generation. Datasette's
connections keep reading the file they opened (measured: 30/30 requests served
the replaced file, docs/research/follow-under-load.md §4), so after each swap the
plugin puts a new Database object in place: new object, new connections.

A follower's file is written only by Litestream: a write through Datasette would
diverge from the primary and be overwritten by the next update, so writes are
refused twice: Datasette's write actions are denied for followed databases (its
write UI disappears, its API answers 403), and every write method of a followed
Database object raises, for plugins that write without asking for permission.
"""

from __future__ import annotations

import asyncio
import json
import sys

from datasette.database import Database
from datasette.permissions import PermissionSQL

from . import gate

# Seconds a replaced Database object stays open: requests already holding it finish.
CLOSE_GRACE = 5.0
WRITE_METHODS = ("execute_write", "execute_write_many", "execute_write_script", "execute_write_fn", "_execute_write_fn")
# Datasette's actions that change a database (upsert needs insert-row and update-row).
WRITE_ACTIONS = frozenset(
    {
        "insert-row",
        "update-row",
        "delete-row",
        "create-table",
        "create-view",
        "alter-table",
        "set-column-type",
        "drop-table",
        "drop-view",
        "execute-write-sql",
    }
)


def refusal(name: str) -> str:
    return (
        f"database {name!r} is a read-only follower of its Litestream replica: "
        f"writes go to the primary (a write here would diverge from it and be overwritten)"
    )


class FollowerWriteRefused(Exception):
    """A write to a database that Litestream keeps as a copy of the primary."""


def refuse_writes(db: Database, name: str) -> None:
    """Makes every write method of this Database object raise at once, before
    Datasette queues the write or opens a read-write connection to the file.
    The public methods and the private tail they share (1.0a41) are all replaced,
    so a plugin calling either is refused."""

    async def refused(*args, **kwargs):
        raise FollowerWriteRefused(refusal(name))

    for method in WRITE_METHODS:
        if hasattr(db, method):
            setattr(db, method, refused)


def readd(datasette, followed: dict, name: str, path: str) -> Database:
    """Puts a new Database object for `path` in place of `name`'s, gated and
    refusing writes, and closes the old one after CLOSE_GRACE. Synchronous: no
    request sees the name missing in between."""
    old = datasette.databases.get(name)
    db = Database(datasette, path=path, is_mutable=True)
    gate.install(db, path)
    refuse_writes(db, name)
    # Before the swap: connections the new object opens get cache_size=0 at once.
    followed[name] = path
    _swap_in(datasette, name, db, old)
    if old is not None and hasattr(old, "close"):
        _close_later(old)
    return db


def _swap_in(datasette, name: str, db: Database, old) -> None:
    """datasette.remove_database() without its close() (which waits for running
    queries on the event loop), then add_database(), keeping the database's place
    in the list: the first database is Datasette's default one."""
    order = list(datasette.databases)
    datasette.databases = {k: v for k, v in datasette.databases.items() if k != name}
    datasette.add_database(db, name=name, route=old.route if old is not None else None)
    if name in order:
        current = datasette.databases
        datasette.databases = {k: current[k] for k in order if k in current} | {
            k: v for k, v in current.items() if k not in order
        }


def _close_later(old) -> None:
    """close() waits for the old object's running queries and its write thread,
    so it runs off the event loop, after requests holding the object had time to end."""
    loop = asyncio.get_running_loop()
    loop.call_later(CLOSE_GRACE, lambda: loop.run_in_executor(None, _close, old))


def _close(db) -> None:
    try:
        db.close()
    except Exception as e:  # noqa: BLE001 - reported; its probe stays open, see gate.py
        print(f"datasette-litestream: closing the replaced database {db.name!r}: {e!r}", file=sys.stderr, flush=True)
        return
    # All its connections are closed: none of its SQLite locks can be dropped now.
    gate.release(db)


def permission_sql(followed_names, action: str) -> PermissionSQL | None:
    """Denies write actions on followed databases at the database level and on
    each of their tables and views: Datasette resolves child before parent before
    global and deny before allow at one level, so neither root's global allow nor
    a table-level allow in the config can win."""
    if action not in WRITE_ACTIONS or not followed_names:
        return None
    return PermissionSQL(
        sql="""
            SELECT value AS parent, NULL AS child, 0 AS allow, :litestream_follower_reason AS reason
            FROM json_each(:litestream_followed)
            UNION ALL
            SELECT database_name, table_name, 0, :litestream_follower_reason
            FROM catalog_tables WHERE database_name IN (SELECT value FROM json_each(:litestream_followed))
            UNION ALL
            SELECT database_name, view_name, 0, :litestream_follower_reason
            FROM catalog_views WHERE database_name IN (SELECT value FROM json_each(:litestream_followed))
        """,
        params={
            "litestream_followed": json.dumps(sorted(followed_names)),
            "litestream_follower_reason": "read-only follower: writes go to the primary",
        },
    )


def explain_refusals(app, datasette, followed):
    """ASGI middleware: a 403 JSON answer to a POST on a followed database says
    why (Datasette's own says only "Permission denied", which puzzles root)."""

    async def wrapped(scope, receive, send):
        name = _followed_target(datasette, followed(), scope)
        if name is None:
            return await app(scope, receive, send)
        held = {}

        async def rewrite(message):
            if message["type"] == "http.response.start" and message["status"] == 403 and _is_json(message):
                held["start"], held["body"] = message, b""
                return
            if message["type"] != "http.response.body" or "start" not in held:
                return await send(message)
            held["body"] += message.get("body", b"")
            if not message.get("more_body"):
                await _send_explained(send, held["start"], held["body"], name)

        await app(scope, receive, rewrite)

    return wrapped


def _followed_target(datasette, followed: dict, scope) -> str | None:
    """The followed database a POST request's path starts with, if any."""
    if scope.get("type") != "http" or scope.get("method") != "POST" or not followed:
        return None
    from datasette.utils import tilde_decode

    path = scope.get("path", "")
    base = datasette.setting("base_url") or "/"
    if base != "/" and path.startswith(base):
        path = "/" + path[len(base) :]
    first = tilde_decode(path.lstrip("/").split("/", 1)[0])
    for name in followed:
        db = datasette.databases.get(name)
        if db is not None and db.route == first:
            return name
    return None


def _is_json(start) -> bool:
    return any(k.lower() == b"content-type" and b"json" in v for k, v in start.get("headers", []))


async def _send_explained(send, start, body: bytes, name: str) -> None:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("ok") is False:
        document["errors"] = [refusal(name)]
        document["error"] = refusal(name)
        body = json.dumps(document).encode()
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})
