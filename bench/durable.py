#!/usr/bin/env python3
"""Row 13: `durable-writes` — insert latency and crash loss, against a real S3 (moto).

The code is bench/benchmarks/row13/; this launcher keeps `bench/durable.py` as its
command. `bench/durable.py --help` lists the options.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.row13.main import main  # noqa: E402

if __name__ == "__main__":
    main()
