"""The plugin talks to the host's status socket with a few lines of asyncio (no HTTP
library whose next release could drop an API). Whatever goes wrong there, every
view answers 503 naming the cause, never 500: sockets that are missing, refuse,
close, never answer, answer garbage or a truncated body, and any unexpected error.
And the answers the host's server may give (Content-Length, chunked, HTTP/1.0 to
the end) are read whole."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest
from datasette.app import Datasette

import datasette_litestream
from conftest import make_db, started
from datasette_litestream import host as host_module

CONFIG = {
    "permissions": {"litestream-view-status": True},
    "databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [{"url": "file:///nowhere"}]}}}},
}

# What a socket sends back, by kind; None: the kind is handled in answer() itself.
ANSWERS = {
    "garbage": b"hello there\r\n\r\n",
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
    "bad-header": b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"b\r\nreplicating\r\nf\r\n 1 database(s)\n\r\n0\r\n\r\n",
    "http10": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nreplicating 1 database(s)\n",
    "not-json": b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<html>",
}


@contextlib.asynccontextmanager
async def status_socket(path, kind):
    """A Unix socket at `path` that answers every request as `kind` says."""
    if kind == "missing":
        yield
        return
    if kind == "refused":
        # A socket file nobody listens on: what a host killed outright leaves.
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
        yield
        return
    done = asyncio.Event()

    async def answer(reader, writer):
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            if kind == "silent":
                await done.wait()
            elif kind == "http10-slow":
                # The body in two parts, apart in time: read until the host closes.
                writer.write(b"HTTP/1.0 200 OK\r\n\r\nreplicating ")
                await writer.drain()
                await asyncio.sleep(0.2)
                writer.write(b"1 database(s)\n")
                await writer.drain()
            elif kind != "closed":
                writer.write(ANSWERS[kind])
                await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(answer, path=str(path))
    try:
        yield
    finally:
        done.set()
        server.close()
        await server.wait_closed()


async def views(ds):
    """(status code, text) of each view that asks the host."""
    found = {}
    for path in ("/-/litestream-health", "/-/litestream-status", "/-/litestream-status.json", "/-/litestream-metrics"):
        response = await ds.client.get(path)
        found[path] = (response.status_code, response.text)
    return found


FAILURES = {
    "missing": "No such file or directory",
    "refused": "Connection refused",
    "closed": "closed the connection without an answer",
    "silent": "within 0.3 s",
    "garbage": "malformed status line",
    "truncated": "5 bytes read on a total of 100 expected bytes",
    "bad-header": "malformed header line",
    "bad-chunk": "malformed chunk size",
}


@pytest.mark.parametrize("kind", list(FAILURES))
async def test_every_view_answers_503_naming_the_cause(tmp_path, fake_host, monkeypatch, kind):
    monkeypatch.setattr(host_module, "STATUS_TIMEOUT", 0.3)
    db = make_db(tmp_path / "x.db")
    path = tmp_path / "status.sock"
    async with started(Datasette([str(db)], config=CONFIG)) as ds:
        # The stand-in host is running; its status socket is this one.
        datasette_litestream.state_for(ds).host.socket = str(path)
        async with status_socket(path, kind):
            answers = await views(ds)
    cause = FAILURES[kind]
    for view, (code, text) in answers.items():
        assert code == 503, (view, code, text)
        assert "cannot reach the datasette-litestream host" in text and cause in text, (view, text)
    code, text = answers["/-/litestream-health"]
    assert text.endswith("\n") and "\n" not in text[:-1], text  # one line


async def test_an_unexpected_error_is_a_503_too(tmp_path, fake_host, monkeypatch):
    async def broken(*args):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(host_module, "_http_get", broken)
    db = make_db(tmp_path / "x.db")
    async with started(Datasette([str(db)], config=CONFIG)) as ds:
        answers = await views(ds)
    for view, (code, text) in answers.items():
        assert code == 503 and "something nobody expected" in text, (view, code, text)


async def test_an_error_without_a_message_is_named_by_its_type(tmp_path, fake_host, monkeypatch):
    async def reset(*args):
        raise ConnectionResetError()

    monkeypatch.setattr(host_module, "_http_get", reset)
    db = make_db(tmp_path / "x.db")
    async with started(Datasette([str(db)], config=CONFIG)) as ds:
        response = await ds.client.get("/-/litestream-health")
    assert response.status_code == 503
    assert response.text.strip().endswith(": ConnectionResetError"), response.text


async def test_a_host_that_exited_is_a_503(tmp_path, fake_host):
    db = make_db(tmp_path / "x.db")
    async with started(Datasette([str(db)], config=CONFIG)) as ds:
        host = datasette_litestream.state_for(ds).host
        host.process.kill()
        await host.process.wait()
        answers = await views(ds)
    for view, (code, text) in answers.items():
        assert code == 503 and "the datasette-litestream host exited with status -9" in text, (view, code, text)


@pytest.mark.parametrize("kind", ["chunked", "http10", "http10-slow"])
async def test_answers_are_read_whole(tmp_path, fake_host, kind):
    db = make_db(tmp_path / "x.db")
    path = tmp_path / "status.sock"
    async with started(Datasette([str(db)], config=CONFIG)) as ds:
        datasette_litestream.state_for(ds).host.socket = str(path)
        async with status_socket(path, kind):
            response = await ds.client.get("/-/litestream-health")
    assert (response.status_code, response.text) == (200, "replicating 1 database(s)\n")


async def test_a_status_document_that_is_not_json_is_a_503(tmp_path, fake_host):
    db = make_db(tmp_path / "x.db")
    path = tmp_path / "status.sock"
    async with started(Datasette([str(db)], config=CONFIG)) as ds:
        datasette_litestream.state_for(ds).host.socket = str(path)
        async with status_socket(path, "not-json"):
            response = await ds.client.get("/-/litestream-status.json")
    assert response.status_code == 503
    assert "the host's status document is not JSON" in response.json()["reason"]


async def test_the_cause_is_hidden_from_actors_without_the_permission(tmp_path, fake_host):
    """The reason of a 503 may name databases when the host gives it; the plugin's own
    causes follow the same rule, so a probe sees the status code and a generic line."""
    db = make_db(tmp_path / "x.db")
    config = {**CONFIG, "permissions": {"litestream-view-status": {"id": "root"}}}
    async with started(Datasette([str(db)], config=config)) as ds:
        datasette_litestream.state_for(ds).host.socket = str(tmp_path / "missing.sock")
        response = await ds.client.get("/-/litestream-health")
    assert response.status_code == 503
    assert response.text == "unhealthy (the reason needs the litestream-view-status permission)\n"
