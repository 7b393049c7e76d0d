"""Row 12: read-only follower nodes (ours only: the Python plugin has no followers).

- nodes: the primary (`run` → moto) and the follower nodes (`follow --init`, `datasette serve`)
- probes: the committer, the probe of a follower's JSON API, the health asker, commit →
  visible, moto's request rate, a node's footprint
- setting: default and tuned intervals with one follower (windows, load, footprint, restarts)
- scale: one primary and 1, 4, 10 followers
"""

from __future__ import annotations

import subprocess

from ..common.s3 import start_moto
from ..common.system import log
from ..context import Bench
from .nodes import FOLLOW_POLL, FOLLOW_RATE, FOLLOW_TUNED
from .scale import follow_scale
from .setting import follow_setting


def run(b: Bench) -> dict:
    """Read-only follower nodes (Datasette + the plugin in follower mode) of a primary
    (`run`) replicating to moto S3 with authentication, Litestream 0.5.17. Each part
    gets a moto and a primary of its own: its request log is that part's alone, and
    moto's cost of listing level 0 (which grows with every sync until compaction
    prunes it) is about the same in each."""
    out = {
        "rate_per_s": FOLLOW_RATE,
        "poll_s": FOLLOW_POLL,
        "tuned_settings": FOLLOW_TUNED,
        "seconds": b.args.follow_seconds,
        "load_seconds": b.args.follow_load_seconds,
        "reps": b.args.follow_reps,
        "scale": {},
    }
    parts = [
        ("default", lambda m, e, k: follow_setting(b, m, e, k, tuned=False)),
        ("tuned", lambda m, e, k: follow_setting(b, m, e, k, tuned=True)),
    ]
    parts += [(f"scale-{n}", lambda m, e, k, n=n: follow_scale(b, m, e, k, n)) for n in b.args.follow_scale]
    for name, part in parts:
        moto = None
        try:
            moto, endpoint, key = start_moto()
            result = part(moto, endpoint, key)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:  # the other parts still run
            log(f"row 12 {name} failed: {e}")
            result = {"error": str(e)[:4000]}
        finally:
            if moto is not None:
                b.stop(moto, f"follow-{name}-moto")
        if name.startswith("scale-"):
            out["scale"][name.split("-", 1)[1]] = result
        else:
            out[name] = result
    return out
