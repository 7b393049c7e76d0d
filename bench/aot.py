#!/usr/bin/env python3
"""Per-call cost of the rules before and after ahead-of-time compilation, in one run.

The code is bench/benchmarks/aot.py; this launcher keeps `bench/aot.py` as its command.
`bench/aot.py --help` lists the options.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.aot import main  # noqa: E402

if __name__ == "__main__":
    main()
