#!/usr/bin/env python3
"""The host's footprint, `release` beside `dist` (the wheels' profile), in one run.

The code is bench/benchmarks/footprint.py; this launcher keeps `bench/footprint.py`
as its command. It takes no options (it builds target/dist when missing).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.footprint import main  # noqa: E402

if __name__ == "__main__":
    main()
