"""Row 4: rendering the config (and the health verdict) in the component and natively
(render_bench), and the whole `datasette-litestream render` process, with and without
the component cache."""

from __future__ import annotations

import json
import subprocess
import time

from .common.figures import stats
from .common.fixtures import yaml_of
from .common.paths import HOST, RENDER_BENCH
from .common.procs import base_env
from .common.system import log
from .context import Bench


def run(b: Bench) -> dict:
    outs = []
    for _ in range(b.reps):
        r = subprocess.run([RENDER_BENCH], capture_output=True, text=True, check=True)
        outs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    res = {}
    for key in outs[0]:
        if isinstance(outs[0][key], (int, float)):
            res[key] = stats([o[key] for o in outs])
    d, dbs = b.fresh()
    meta = d / "metadata.yaml"
    meta.write_text(
        yaml_of({"databases": {"db0": {"plugins": {"datasette-litestream": {"replicas": [f"file://{d}/replica"]}}}}})
    )
    cmd = [HOST, "render", dbs[0], "-m", meta, "--litestream-version", "0.3.13"]
    res["process_warm_cache_ms"] = time_process(b, cmd, base_env(), d)
    res["process_no_cache_ms"] = time_process(b, cmd, base_env(DATASETTE_LITESTREAM_CACHE=""), d)
    log(
        f"row 4: render 1 db wasm {res['render_1_wasm_us']['median']:.1f} µs, native "
        f"{res['render_1_native_us']['median']:.1f} µs; process {res['process_warm_cache_ms']['median']:.1f} ms"
    )
    return res


def time_process(b: Bench, cmd, env, cwd) -> dict:
    """hyperfine (3 warm-ups, at least 20 runs), else a plain timing loop."""
    cmd = [str(c) for c in cmd]
    runs = max(20, b.reps)
    if b.tools.get("hyperfine"):
        out = cwd / "hyperfine.json"
        subprocess.run(
            ["hyperfine", "-N", "--style", "none", "--warmup", "3", "--runs", str(runs)]
            + ["--export-json", str(out), " ".join(cmd)],
            env=env,
            cwd=cwd,
            check=True,
            capture_output=True,
        )
        times = [t * 1000 for t in json.loads(out.read_text())["results"][0]["times"]]
        tool = "hyperfine"
    else:
        times = []
        for i in range(runs + 3):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
            if i >= 3:
                times.append((time.perf_counter() - t) * 1000)
        tool = "loop"
    return {"unit": "ms", "tool": tool, **stats(times)}
