#!/usr/bin/env python3
"""`lease:` handovers: write unavailability (graceful and SIGKILL), rows lost, S3
requests. The code is bench/benchmarks/lease.py; `bench/lease.py --help` for options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.lease import main  # noqa: E402

if __name__ == "__main__":
    main()
