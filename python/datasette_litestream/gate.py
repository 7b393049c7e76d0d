"""The PENDING-byte gate: Datasette's reads on a follower wait while Litestream
waits to apply an update.

Why (docs/research/follow-under-load.md): `litestream restore -f` applies each
update under SQLite's EXCLUSIVE lock, taken with a *blocking* fcntl: first a
write lock on the PENDING byte, then on the SHARED range. SQLite lets a second
connection in the same process take SHARED without looking at the PENDING byte
again, so while Datasette's SQL threads overlap (one query always running) its
SHARED lock never drops and Litestream starves: measured 10 applies in 31 s
under ~100 ms queries. Before each read we ask the kernel (F_GETLK) whether
another process holds the PENDING byte; while one does, the read waits a few
milliseconds, so the reads already running drain and Litestream gets its lock.
The wait is capped: a stuck writer must not stop Datasette from answering (after
the cap SQLite's own busy timeout applies).

The probe needs a file descriptor of the file Litestream writes. Closing *any*
descriptor of a file drops every POSIX lock this process holds on it, which
would silently drop SQLite's own read locks; so a probe descriptor stays open
while any Database object gated on that file may have connections. A followed
path is a symlink that the host swaps to a new generation file: each gate probes
the file its database's connections opened, so a re-added database gets the
descriptor of the current target. The old descriptor is closed only by
release(), once the old Database object has closed all its connections (no
SQLite lock of ours is left on that file): the host deletes old generations,
and an open descriptor would keep each one's disk space for Datasette's life.
"""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import threading
import time

# SQLite's lock bytes start at 1 GiB (PENDING_BYTE in sqlite3.c).
PENDING_BYTE = 0x40000000
# How long a read waits for Litestream at most, and how often it looks again.
WAIT_CAP = 2.0
POLL = 0.002

# struct flock differs by platform: Linux puts the type first, the BSDs and
# macOS put the offsets first. Native alignment ("@") adds the padding.
if sys.platform.startswith("linux"):
    _FLOCK, _TYPE_FIELD = "@hhqqi", 0
else:
    _FLOCK, _TYPE_FIELD = "@qqihh", 3
_FLOCK_SIZE = max(struct.calcsize(_FLOCK), 32)


class _Probe:
    """One open descriptor per file, and how many gated Database objects use it."""

    def __init__(self, fd: int):
        self.fd = fd
        self.users = 0
        # Descriptors opened in a race with a symlink swap for a file already
        # probed: closed with the main one, never before (see above).
        self.spare: list[int] = []


# (st_dev, st_ino) -> its probe.
_probes: dict[tuple[int, int], _Probe] = {}
_probes_lock = threading.Lock()


def _flock_request() -> bytes:
    """F_GETLK question: could this process take a read lock on the PENDING byte?"""
    if _TYPE_FIELD == 0:
        values = (fcntl.F_RDLCK, os.SEEK_SET, PENDING_BYTE, 1, 0)
    else:
        values = (PENDING_BYTE, 1, 0, fcntl.F_RDLCK, os.SEEK_SET)
    packed = struct.pack(_FLOCK, *values)
    return packed + b"\0" * (_FLOCK_SIZE - len(packed))


_REQUEST = _flock_request()


def pending_held_elsewhere(fd: int) -> bool:
    """True while another process holds a write lock on the PENDING byte (locks
    of this process never conflict with its own F_GETLK, so SQLite's own locks
    here do not count)."""
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, _REQUEST)
    lock_type = struct.unpack(_FLOCK, answer[: struct.calcsize(_FLOCK)])[_TYPE_FIELD]
    return lock_type != fcntl.F_UNLCK


def wait_until_clear(fd: int, cap: float | None = None) -> bool:
    """Waits (in the calling thread) until no other process holds the PENDING byte,
    at most `cap` seconds. True if it cleared, False if the cap was reached."""
    deadline = time.monotonic() + (WAIT_CAP if cap is None else cap)
    while pending_held_elsewhere(fd):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True


def _probe(path: str) -> tuple[tuple[int, int], _Probe]:
    """The probe of the file `path` names now (through its symlink), opened once
    per file; the caller holds _probes_lock."""
    try:
        st = os.stat(path)
        key = (st.st_dev, st.st_ino)
        if key in _probes:
            return key, _probes[key]
    except FileNotFoundError:
        pass  # the open below says so
    fd = os.open(path, os.O_RDONLY)
    st = os.fstat(fd)
    key = (st.st_dev, st.st_ino)
    if key in _probes:
        # The symlink moved between stat and open: not closed now (see above).
        _probes[key].spare.append(fd)
    else:
        _probes[key] = _Probe(fd)
    return key, _probes[key]


def probe_fd(path: str) -> int:
    """The descriptor the gate probes for the file `path` names now."""
    with _probes_lock:
        return _probe(path)[1].fd


def release(db) -> None:
    """Called once `db` (gated by install()) has closed all its connections: the
    last user of a file's probe closes its descriptors."""
    key = getattr(db, "_litestream_gate_key", None)
    with _probes_lock:
        probe = _probes.get(key)
        if probe is None:
            return
        probe.users -= 1
        if probe.users > 0:
            return
        del _probes[key]
    for fd in (probe.fd, *probe.spare):
        os.close(fd)


def install(db, path: str) -> None:
    """Gates every read of this Database object on its file's PENDING byte.

    Wraps Datasette's private `Database._execute_fn`, through which execute(),
    execute_fn() and every internal read pass (datasette 1.0a41; the plugin's
    tests pin this). The wait runs in the SQL thread, before the query, like the
    query itself."""
    with _probes_lock:
        key, probe = _probe(path)
        probe.users += 1
    fd = probe.fd
    original = db._execute_fn

    async def gated_execute_fn(fn):
        def gated(conn):
            wait_until_clear(fd)
            return fn(conn)

        return await original(gated)

    db._execute_fn = gated_execute_fn
    db._litestream_gate_fd = fd
    db._litestream_gate_key = key
