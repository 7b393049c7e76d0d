#!/usr/bin/env python3
"""A follower's read throughput beside plain Datasette's, under the same load, in one run.

The code is bench/benchmarks/follower_reads.py; this launcher keeps
`bench/follower_reads.py` as its command. `--help` lists the options.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.follower_reads import main  # noqa: E402

if __name__ == "__main__":
    main()
