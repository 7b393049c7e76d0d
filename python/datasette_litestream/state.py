"""What the plugin remembers about each Datasette instance it started with."""

from __future__ import annotations

import asyncio
import weakref

from .host import Host


class State:
    def __init__(self):
        self.host: Host | None = None
        # The task that hands the host the database list whenever it changes.
        self.watcher: asyncio.Task | None = None
        # Set when the host failed while Datasette ran and the plugin asked the
        # server to stop: the exit status the process must end with.
        self.fatal_code: int | None = None
        # Started by a serving `datasette serve`: the process is the plugin's to end
        # with an exit status (never an embedding program's or a test runner's).
        self.owns_process = False
        # Why no host was started (a command that serves nothing), for the views.
        self.not_started: str | None = None
        # Follower mode: followed database name -> its path (the host's symlink).
        # Only these get cache_size=0, the gate and refused writes.
        self.followed: dict[str, str] = {}


# Keyed by Datasette instance: tests and embedders may run several in one process.
_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def new_state(datasette) -> State:
    state = State()
    _states[datasette] = state
    return state


def state_for(datasette) -> State | None:
    return _states.get(datasette)
