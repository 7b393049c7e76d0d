"""The native host process: the plugin starts it, feeds it, watches it and stops it.

Everything Litestream-related (validation, rendering, credentials, supervision,
the status document) happens inside the host. This module only moves bytes
between Datasette and that process.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import sys
import urllib.parse

from .messages import (
    STOP_MARGIN,
    STOP_TIMEOUT_FALLBACK,
    answer_json,
    durable_from,
    event_of,
    lease_from,
    stop_timeout_from,
)
from .program import HostError, die_with_parent, find_binary, host_environment
from .unix_http import LINE_LIMIT, HostUnreachable, first_line
from .unix_http import get as _http_get

__all__ = [
    "STOP_MARGIN",
    "STOP_TIMEOUT_FALLBACK",
    "Host",
    "HostError",
    "HostUnreachable",
    "find_binary",
    "host_environment",
    "stop_timeout_from",
]

# Start-up waits for the host's ready line; the host itself gives Litestream 30 s
# to confirm replication, so this only catches a host that hangs.
READY_TIMEOUT = float(os.environ.get("DATASETTE_LITESTREAM_READY_TIMEOUT", "60"))
# One answer from the host's status socket; it answers from memory in milliseconds.
STATUS_TIMEOUT = 5.0
# Lines of the host's start-up output kept for an error message.
STARTUP_LINES = 400


# The host's exit status when it stopped but could not confirm the final sync of
# one or more databases (it names them on its stderr itself).
FINAL_SYNC_UNCONFIRMED = 3


async def _readline(stream: asyncio.StreamReader) -> bytes:
    """A line, or b"" at the end. A line over the reader's limit is dropped rather
    than ending the reading: an unread pipe would block the host."""
    while True:
        try:
            return await stream.readline()
        except ValueError:
            continue


class Host:
    """One running host process, owned by one Datasette instance."""

    def __init__(self, follow: bool = False):
        # Follower mode: `follow --stdin`, which keeps read-only copies up to date
        # instead of replicating, and takes no further lines of inputs.
        self.follow = follow
        # Follower mode: what the ready line says is followed, [{"name", "path"}].
        self.following: list[dict] = []
        # Called with each "replaced" event (follower mode: a database's symlink
        # now names a new generation file).
        self.on_replaced = None
        self.process: asyncio.subprocess.Process | None = None
        # The status socket, in the host's own private directory: its ready line names it.
        self.socket: str | None = None
        self.litestream: bool | None = None
        self.exit_code: int | None = None
        self.on_failure = None
        self._stopping = False
        self._startup_output = collections.deque(maxlen=STARTUP_LINES)
        self._forwarding = False
        self._tasks: list[asyncio.Task] = []
        # The host's answer to the last update line ("applied" or "refused").
        self.last_event: dict | None = None
        # One future per update line not yet answered: the host answers in order.
        self._answers: collections.deque[asyncio.Future] = collections.deque()
        # Update lines are whole JSON documents: two writers must not interleave.
        self._write_lock = asyncio.Lock()
        # How long stop() waits for the host before signalling it (see stop_timeout_from).
        self.stop_timeout = STOP_TIMEOUT_FALLBACK
        # The databases with durable-writes and their durable-timeout in seconds, as the
        # ready line and each "applied" event say.
        self.durable_timeouts: dict[str, float] = {}
        # `lease:`: this node's role as the host last said it; None without a lease.
        self.lease: dict | None = None

    async def start(self, inputs: dict, timeout: float | None = None) -> None:
        """Start the host, hand it the inputs and wait for its ready line.
        Raises HostError with the host's own output when it does not get there."""
        timeout = READY_TIMEOUT if timeout is None else timeout
        binary = find_binary()
        try:
            self.process = await asyncio.create_subprocess_exec(
                binary,
                *self._arguments(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=host_environment(),
                # Its own session: a Ctrl-C at Datasette's terminal reaches Datasette
                # alone, which then stops the host in order (stdin closes).
                start_new_session=True,
                preexec_fn=die_with_parent(),
                limit=LINE_LIMIT,
            )
        except OSError as e:
            raise HostError(f"cannot start the host program {binary}: {e}") from e
        stderr_task = asyncio.create_task(self._pump(self.process.stderr))
        self._tasks.append(stderr_task)
        try:
            self.process.stdin.write(json.dumps(inputs).encode() + b"\n")
            await self.process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it already exited: its status and output say why, below
        try:
            ready = await asyncio.wait_for(self._read_ready(), timeout)
        except asyncio.TimeoutError:
            await self.stop()
            raise HostError(
                f"the datasette-litestream host did not report ready within {timeout:g} s"
                + self._startup_text(prefix=":\n")
            ) from None
        if ready is None:
            code = await self.process.wait()
            await asyncio.wait([stderr_task], timeout=2)
            self.exit_code = code
            raise HostError(self._failure_text(code))
        self.litestream = bool(ready.get("litestream"))
        self.socket = ready.get("status_socket")
        self.stop_timeout = stop_timeout_from(ready)
        self.durable_timeouts = durable_from(ready, self.durable_timeouts)
        self.lease = lease_from(ready, None)
        self.following = [f for f in ready.get("following") or [] if isinstance(f, dict)]
        self._start_forwarding()
        self._tasks.append(asyncio.create_task(self._pump_events(self.process.stdout)))
        self._tasks.append(asyncio.create_task(self._watch()))

    def _arguments(self) -> list[str]:
        if self.follow:
            return ["follow", "--stdin"]
        # Restore on boot is an operator's switch, like the host's own flag.
        restore = ["--restore-if-missing"] if os.environ.get("DATASETTE_LITESTREAM_RESTORE_IF_MISSING") == "1" else []
        return ["run", "--stdin", *restore]

    async def update(self, inputs: dict) -> asyncio.Future | None:
        """Hand the host a complete new set of inputs (same shape as at start); it
        applies only the difference. Returns a future for its answer (the
        "applied" or "refused" event), or None when the host is not there to
        take it: a host that exited reports that through its exit status."""
        if not self.running or self._stopping:
            return None
        answer = asyncio.get_running_loop().create_future()
        async with self._write_lock:
            if not self.running or self._stopping:
                return None
            # Queued before writing: the answer may arrive while drain() waits.
            self._answers.append(answer)
            try:
                self.process.stdin.write(json.dumps(inputs).encode() + b"\n")
                await self.process.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                if answer in self._answers:
                    self._answers.remove(answer)
                answer.cancel()
                return None
        return answer

    async def _read_ready(self) -> dict | None:
        """The first JSON line with "event": "ready" on stdout; None if stdout ends."""
        while True:
            line = await _readline(self.process.stdout)
            if not line:
                return None
            message = event_of(line)
            if message is not None and message["event"] == "ready":
                return message
            self._emit(line)

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        while True:
            line = await _readline(stream)
            if not line:
                return
            self._emit(line)

    async def _pump_events(self, stream: asyncio.StreamReader) -> None:
        """Stdout after ready: event lines are answers for the plugin, not for the
        user (the host tells the user about each change on stderr itself)."""
        try:
            while True:
                line = await _readline(stream)
                if not line:
                    return
                message = event_of(line)
                if message is None:
                    self._emit(line)
                else:
                    self._on_event(message)
        finally:
            self._drop_answers()

    def _on_event(self, message: dict) -> None:
        if "stop_grace_seconds" in message:
            # Litestream started, stopped or changed line since the ready line: the
            # host's stop may now take longer (or shorter) than it said then.
            self.stop_timeout = stop_timeout_from(message)
        self.durable_timeouts = durable_from(message, self.durable_timeouts)
        self.lease = lease_from(message, self.lease)
        if message.get("event") == "replaced":
            self._replaced(message)
            return
        if message.get("event") not in ("applied", "refused"):
            return
        self.last_event = message
        while self._answers:
            answer = self._answers.popleft()
            if not answer.done():
                answer.set_result(message)
                return

    def _replaced(self, message: dict) -> None:
        name, path = message.get("name"), message.get("path")
        if not isinstance(name, str) or not isinstance(path, str) or self.on_replaced is None:
            return
        try:
            self.on_replaced(name, path)
        except Exception as e:  # noqa: BLE001 - the event reader must outlive one bad re-add
            print(
                f"datasette-litestream: error: cannot serve the new copy of {name!r}: {e!r}",
                file=sys.stderr,
                flush=True,
            )

    def _drop_answers(self) -> None:
        """No answer will come any more: nobody should wait for one."""
        while self._answers:
            self._answers.popleft().cancel()

    def _emit(self, line: bytes) -> None:
        """Until ready, output is held back: a start-up failure shows it once, in
        Datasette's error. After that it goes straight to Datasette's stderr."""
        text = line.decode("utf-8", "replace").rstrip("\n")
        if self._forwarding:
            print(text, file=sys.stderr, flush=True)
        else:
            self._startup_output.append(text)

    def _start_forwarding(self) -> None:
        self._forwarding = True
        for text in self._startup_output:
            print(text, file=sys.stderr)
        self._startup_output.clear()
        sys.stderr.flush()

    def _startup_text(self, prefix: str) -> str:
        text = "\n".join(self._startup_output).strip()
        return prefix + text if text else ""

    def _failure_text(self, code: int) -> str:
        text = self._startup_text(prefix="")
        if code == 2 and text:
            # Bad configuration: the host's own key-level errors say it all.
            return text[len("error: ") :] if text.startswith("error: ") else text
        return f"the datasette-litestream host exited with status {code} before it was ready" + (
            ":\n" + text if text else ""
        )

    async def _watch(self) -> None:
        code = await self.process.wait()
        self.exit_code = code
        if self._stopping:
            return
        # Let the last lines it wrote reach stderr before our own.
        await asyncio.wait([t for t in self._tasks if t is not asyncio.current_task()], timeout=1)
        if code != 0 and self.on_failure is not None:
            self.on_failure(code)
        elif code != 0:
            print(f"datasette-litestream: the host exited with status {code}", file=sys.stderr, flush=True)
        else:
            print(
                "datasette-litestream: the host stopped (exit status 0); Litestream is no longer replicating",
                file=sys.stderr,
                flush=True,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def stop(self, timeout: float | None = None) -> None:
        """Closing stdin asks the host to stop Litestream (final sync) and exit.
        Signals are only the fallback for a host that does not within its own
        grace plus a margin (self.stop_timeout): Datasette's shutdown never hangs
        past that, and never cuts the host's final sync short either."""
        timeout = self.stop_timeout if timeout is None else timeout
        self._stopping = True
        process = self.process
        was_running = process is not None and process.returncode is None
        if was_running:
            try:
                process.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except asyncio.TimeoutError:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 5)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
        if process is not None:
            self.exit_code = process.returncode
            if was_running and self.exit_code and self.exit_code != FINAL_SYNC_UNCONFIRMED:
                print(
                    f"datasette-litestream: the host exited with status {self.exit_code} while stopping",
                    file=sys.stderr,
                    flush=True,
                )
        self._drop_answers()
        current = asyncio.current_task()
        pending = [t for t in self._tasks if t is not current and not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=1)
        for t in pending:
            t.cancel()

    async def _get(
        self, path: str, params: dict | None = None, timeout: float | None = None, method: str = "GET"
    ) -> tuple[int, bytes]:
        """One request on the host's status socket: (status code, body). Any failure to
        get a well-formed answer in time is a HostUnreachable naming the cause."""
        if not self.socket:
            raise HostUnreachable("the host's ready line named no status socket")
        # Read at each call (a test may lower it).
        timeout = STATUS_TIMEOUT if timeout is None else timeout
        try:
            target = path + ("?" + urllib.parse.urlencode(params) if params else "")
            return await asyncio.wait_for(_http_get(self.socket, target, method), timeout)
        except asyncio.TimeoutError:
            raise HostUnreachable(f"no answer from {self.socket} within {timeout:g} s") from None
        except HostUnreachable:
            raise
        except Exception as e:  # noqa: BLE001 - whatever went wrong, the views answer 503 naming it
            # Some exceptions say nothing (ConnectionResetError()): then their type does.
            raise HostUnreachable(f"{self.socket}: {str(e) or type(e).__name__}") from e

    async def _get_ok(self, path: str) -> bytes:
        code, body = await self._get(path)
        if code != 200:
            raise HostUnreachable(f"the host answered {code} for {path}: {first_line(body)}")
        return body

    async def status(self) -> dict:
        """The host's status document, fetched over its private Unix socket."""
        body = await self._get_ok("/-/litestream-status.json")
        try:
            document = json.loads(body)
        except ValueError as e:
            raise HostUnreachable(f"the host's status document is not JSON: {e}") from None
        if not isinstance(document, dict):
            raise HostUnreachable("the host's status document is not a JSON object")
        return document

    async def page_body(self) -> str:
        """The host's status page body (HTML), for Datasette's page chrome."""
        return (await self._get_ok("/-/litestream-status.body")).decode("utf-8", "replace")

    async def metrics(self) -> tuple[int, str]:
        """The host's Prometheus text (status code, body)."""
        code, body = await self._get("/-/litestream-metrics")
        return code, body.decode("utf-8", "replace")

    async def health(self, params: dict) -> tuple[int, str]:
        """The host's health answer (status code, one line): its verdict, not ours."""
        code, body = await self._get("/-/litestream-health", params)
        return code, body.decode("utf-8", "replace")

    async def durable(self, database: str) -> dict:
        """Waits until everything `database` committed so far is on its replica (the
        host shares one sync among the writes waiting). The host's answer: "durable"
        true with the "txid" a follower must reach, or false with the "reason"."""
        timeout = self.durable_timeouts.get(database, 0.0) + STATUS_TIMEOUT
        code, body = await self._get("/-/litestream-durable", {"database": database}, timeout, "POST")
        return answer_json(code, body, (200, 504))

    async def reach(self, database: str, txid: int, timeout: float) -> dict | None:
        """Follower mode: waits until this node serves transaction `txid` of `database`,
        at most `timeout` seconds. The host's answer ("txid" it holds, with "needed"
        when it did not get there in time); None for a database this node does not follow."""
        params = {"database": database, "txid": txid, "timeout": timeout}
        code, body = await self._get("/-/litestream-txid", params, timeout + STATUS_TIMEOUT)
        if code == 404:
            return None
        answer = answer_json(code, body, (200, 504))
        answer["reached"] = code == 200
        return answer
