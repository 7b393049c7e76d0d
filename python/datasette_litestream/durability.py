"""Durable writes (`durable-writes: true`, Litestream 0.5; docs/durable-writes.md).

A write Datasette makes during a request to a durable database is acknowledged only
once the replica holds it. `write_wrapper` notes, on the write thread, which durable
databases a request wrote to (after the write succeeded); the ASGI wrapper holds the
response's start until the host says the replica holds everything committed so far
(one sync shared by the writes waiting). Then the response goes out as Datasette made
it, with the transaction a follower must reach; otherwise it becomes the documented
504 "written on this node, not durable yet".

A follower given that transaction (header or cookie) waits until it serves it before
it answers, or says "not yet" (503) rather than answer with older data.
"""

from __future__ import annotations

import contextvars
import json
import os
import urllib.parse

from .host import HostUnreachable
from .state import state_for

# The response headers of a held write; the request header and cookie a follower reads.
DURABLE_HEADER = "datasette-litestream-durable"
TXID_HEADER = "datasette-litestream-txid"
TXID_COOKIE = "datasette_litestream_txid"
# How long a browser keeps the cookie: enough for the next few pages.
COOKIE_MAX_AGE = 60
# The durable databases the current request wrote to. Datasette calls write_wrapper in
# the writing caller's task, which runs in the request's context, whether or not the
# write names its request (a plugin's `db.execute_write(sql)` does not).
WRITTEN: contextvars.ContextVar[set | None] = contextvars.ContextVar("datasette_litestream.written", default=None)
# How long a follower's read waits for the transaction it was given.
READ_WAIT = float(os.environ.get("DATASETTE_LITESTREAM_READ_WAIT", "5"))


class NotDurable(Exception):
    """Committed on this node, not known to be on the replica (yet): the write is not
    lost, but it would be if this machine were lost now."""

    def __init__(self, database: str, reason: str):
        super().__init__(f"database {database!r}: written on this node but not durable yet: {reason}")
        self.database = database
        self.reason = reason


async def durable(datasette, database: str) -> int:
    """Returns once everything committed to `database` so far is on its replica, with a
    transaction ID a follower must reach to show it. Raises NotDurable when the replica
    does not confirm within the database's `durable-timeout`, and ValueError for a
    database without `durable-writes`."""
    state = state_for(datasette)
    host = state.host if state is not None else None
    if host is None or database not in host.durable_timeouts:
        raise ValueError(f"database {database!r} has no durable-writes (see docs/durable-writes.md)")
    try:
        answer = await host.durable(database)
    except HostUnreachable as e:
        raise NotDurable(database, str(e)) from None
    if answer.get("durable") is True and isinstance(answer.get("txid"), int):
        return answer["txid"]
    raise NotDurable(database, str(answer.get("reason") or "the host did not confirm it"))


def write_wrapper(datasette, database):
    """Notes `database` on the request once its write succeeded (the code after
    `yield` runs only then, before Datasette's commit)."""
    written = WRITTEN.get()
    state = state_for(datasette)
    if written is None or state is None or state.host is None or database not in state.host.durable_timeouts:
        return None

    def note(conn):
        yield
        written.add(database)

    return note


def hold_acknowledgements(app, datasette):
    """The primary's ASGI wrapper: a response to a request that wrote to a durable
    database starts only once the replica holds the write."""

    async def wrapped(scope, receive, send):
        state = state_for(datasette)
        if scope.get("type") != "http" or state is None or state.host is None or not state.host.durable_timeouts:
            return await app(scope, receive, send)
        written: set[str] = set()
        replaced = False

        async def held_send(message):
            nonlocal replaced
            if replaced:
                return  # the body of the response our 504 replaced
            if message["type"] == "http.response.start" and written and message["status"] < 400:
                message, replaced = await _acknowledge(datasette, sorted(written), message, send)
                if replaced:
                    return
            await send(message)

        token = WRITTEN.set(written)
        try:
            await app(scope, receive, held_send)
        finally:
            WRITTEN.reset(token)

    return wrapped


async def _acknowledge(datasette, databases: list[str], start: dict, send) -> tuple[dict, bool]:
    """Waits for each written database; the response start with the durable headers,
    or (having sent the 504 in its place) True."""
    txids = {}
    for database in databases:
        try:
            txids[database] = await durable(datasette, database)
        except NotDurable as e:
            await _send_not_durable(send, e, start["status"])
            return start, True
    value = ",".join(f"{urllib.parse.quote(d, safe='')}={t}" for d, t in txids.items())
    cookie = f"{TXID_COOKIE}={urllib.parse.quote(value, safe='')}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax"
    headers = [
        *start.get("headers", []),
        (DURABLE_HEADER.encode(), b"true"),
        (TXID_HEADER.encode(), value.encode()),
        (b"set-cookie", cookie.encode()),
    ]
    return {**start, "headers": headers}, False


async def _send_not_durable(send, error: NotDurable, status: int) -> None:
    body = {
        "ok": False,
        "durable": False,
        "written": True,
        "database": error.database,
        "status": status,
        "errors": [
            f"written on this node but not durable yet: {error.reason}. The write is not lost, "
            "but a loss of this machine now would lose it; do not repeat it blindly "
            "(read it back first)"
        ],
    }
    await _send_json(send, 504, body, (DURABLE_HEADER.encode(), b"false"))


def wanted_transactions(scope) -> dict[str, int]:
    """The transactions a request asks a follower to show: its header, else its
    cookie (`name=txid` pairs, names percent-encoded, comma-separated)."""
    raw = None
    for name, value in scope.get("headers", []):
        if name.decode("latin-1").lower() == TXID_HEADER:
            raw = value.decode("latin-1")
    if raw is None:
        for name, value in scope.get("headers", []):
            if name.decode("latin-1").lower() == "cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, v = part.strip().partition("=")
                    if key == TXID_COOKIE:
                        raw = urllib.parse.unquote(v)
    wanted = {}
    for pair in (raw or "").split(","):
        database, _, txid = pair.strip().rpartition("=")
        if database and txid.isdigit():
            wanted[urllib.parse.unquote(database)] = int(txid)
    return wanted


def read_your_writes(app, datasette, followed):
    """The follower's ASGI wrapper: a request carrying a durable write's transaction
    waits until this node serves it, or is told "not yet"."""

    async def wrapped(scope, receive, send):
        state = state_for(datasette)
        wanted = wanted_transactions(scope) if scope.get("type") == "http" else {}
        names = followed()
        for database, txid in wanted.items():
            if state is None or state.host is None or database not in names:
                continue
            try:
                answer = await state.host.reach(database, txid, READ_WAIT)
            except HostUnreachable as e:
                answer = {"reached": False, "txid": None, "error": str(e)}
            if answer is not None and not answer["reached"]:
                return await _send_not_yet(send, database, txid, answer)
        await app(scope, receive, send)

    return wrapped


async def _send_not_yet(send, database: str, txid: int, answer: dict) -> None:
    held = answer.get("txid")
    body = {
        "ok": False,
        "errors": [
            f"not yet: this follower of {database!r} serves transaction {held} and the request needs "
            f"{txid} (a write acknowledged on the primary); try again in a moment, or ask the primary"
        ],
    }
    await _send_json(send, 503, body, (b"retry-after", b"1"))


async def _send_json(send, status: int, body: dict, extra: tuple[bytes, bytes]) -> None:
    """A whole JSON response of our own, with one header of ours besides its type."""
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
        extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
