"""`lease:` on the Datasette side (docs/lease.md): a node that does not hold its
replicas' lease refuses every write, naming the holder and when its lease expires.

The host says the role on its channel: the ready line carries `"lease"`, the leased
databases, when the configuration sets one (writes to them are refused until the host
says "primary"; Datasette's own databases are never refused), then a
`{"event": "lease", "role": ...}` line at each change. The refusal is in Datasette's
`write_wrapper`, so it covers the JSON write API, canned queries and plugins alike.
"""

from __future__ import annotations

import datetime

from .state import state_for


class NotPrimary(Exception):
    """This node is a standby (or was fenced): another node writes the replica."""


def refusal(lease: dict | None, database: str) -> str | None:
    """Why a write to `database` is refused on this node, or None."""
    if lease is None or lease.get("role") == "primary" or database not in (lease.get("databases") or ()):
        return None
    holder = lease.get("holder") or "another node"
    expires = lease.get("expires_at")
    until = ""
    if isinstance(expires, (int, float)):
        at = datetime.datetime.fromtimestamp(expires, tz=datetime.timezone.utc)
        until = f" until {at.isoformat(timespec='seconds')}"
    role = lease.get("role")
    if role == "fenced":
        return (
            f"database {database!r} is read-only: this node lost its lease (another node may write the "
            "replica now) and stopped replicating; write to the primary"
        )
    if role == "standby":
        return (
            f"database {database!r} is read-only: this node is a standby; {holder} holds the lease{until}. "
            "Write to the primary; this node takes over when that lease is released or expires"
        )
    return f"database {database!r} is read-only until this node holds its lease ({role})"


def write_wrapper(datasette, database):
    """Refuses the write before it starts when this node is not the primary."""
    state = state_for(datasette)
    host = state.host if state is not None else None
    why = refusal(host.lease if host is not None else None, database)
    if why is None:
        return None

    def refuse(conn):
        raise NotPrimary(why)
        yield  # a generator, as Datasette's write_wrapper hook expects

    return refuse
