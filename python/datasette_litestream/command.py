"""Which `datasette` command is running this process, if any.

Datasette runs plugins' startup hooks for commands that serve nothing
(`create-token`, `serve --get`) on an event loop it closes right after, without
the shutdown hooks. The plugin must start no host for those, and only a serving
`datasette serve` owns its process (may end it with the host's exit status).
Click keeps the command being invoked on a context stack for the whole command,
startup and shutdown hooks included."""

from __future__ import annotations

import sys


def _context():
    """Click's context of the `datasette` command running now, or None when
    Datasette is embedded (tests, an ASGI server, another program or CLI)."""
    cli = sys.modules.get("datasette.cli")
    if cli is None:
        # Not imported: this is not the datasette CLI (importing it costs start-up time).
        return None
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    # `datasette ...` has the group at its root; `datasette serve --reload` runs its
    # workers through the serve command alone.
    if ctx.find_root().command not in (cli.cli, cli.serve):
        return None
    return ctx


def serving_cli() -> bool:
    """True under a serving `datasette serve` (not `--get`): the process is ours to
    end with an exit status, and it lives as long as the server."""
    ctx = _context()
    return ctx is not None and _is_serving(ctx)


def serves_nothing() -> str | None:
    """Why this Datasette will serve nothing (the `datasette` command running is not
    a serving `datasette serve`), or None when it may serve: a serving `datasette
    serve`, or Datasette embedded in anything else, which the plugin cannot know."""
    ctx = _context()
    if ctx is None or _is_serving(ctx):
        return None
    command = ctx.command_path + (" --get" if ctx.params.get("get") else "")
    return f"`{command}` serves nothing, so nothing is replicated"


def _is_serving(ctx) -> bool:
    cli = sys.modules["datasette.cli"]
    return ctx.command is cli.serve and not ctx.params.get("get")
