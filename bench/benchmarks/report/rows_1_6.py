"""The table's lines of rows 1 to 6 (each function: one row's results → its lines)."""

from __future__ import annotations

import statistics

from ..common.figures import fmt, ratio


def table_1(r: dict) -> list[str]:
    L = []
    for k in ("ours-0.5.17", "ours-0.3.13"):
        L.append(
            f"| 1 | launch → first replica file, datasette + plugin ({r[k]['label'].split('(')[1][:-1]}) | "
            f"{fmt(r[k], 's')} | {fmt(r['py'], 's')} | {ratio(r[k], r['py'])} |"
        )
    for k in ("run-0.3.13", "run-0.5.17", "alone-0.3.13", "alone-0.5.17"):
        L.append(f"| 1 | launch → first replica file, {r[k]['label']} | {fmt(r[k], 's')} | | {ratio(r[k], r['py'])} |")
    return L


def table_2(r: dict) -> list[str]:
    L = []
    L.append(
        f"| 2 | Datasette start → HTTP ready, with the plugin | {fmt(r['ours'], 's')} | {fmt(r['py'], 's')} | "
        f"{ratio(r['ours'], r['py'])} |"
    )
    L.append(
        f"| 2 | Datasette start → HTTP ready, with ours and Litestream 0.3.13 | {fmt(r['ours-0.3.13'], 's')} | | "
        f"{ratio(r['ours-0.3.13'], r['py'])} |"
    )
    L.append(f"| 2 | Datasette start → HTTP ready, no plugin | {fmt(r['plain'], 's')} | | |")
    return L


def table_3(r: dict) -> list[str]:
    L = []
    L.append(
        f"| 3 | RSS of the process tree, datasette + plugin | {fmt(r['ours'], 'MiB', 1)} | "
        f"{fmt(r['py'], 'MiB', 1)} | {ratio(r['ours'], r['py'])} |"
    )
    L.append(
        "| 3 | RSS of the process tree, datasette + ours with Litestream 0.3.13 | "
        f"{fmt(r['ours-0.3.13'], 'MiB', 1)} | | {ratio(r['ours-0.3.13'], r['py'])} |"
    )
    L.append(f"| 3 | RSS, datasette no plugin | {fmt(r['plain'], 'MiB', 1)} | | |")
    for k in ("run-0.5.17", "host-0.5.17", "run-0.3.13", "host-0.3.13", "alone-0.5.17", "alone-0.3.13"):
        L.append(f"| 3 | RSS, {r[k]['label']} | {fmt(r[k], 'MiB', 1)} | | |")
    return L


def table_4(r: dict) -> list[str]:
    L = []
    for n in (1, 100, 1000):
        L.append(
            f"| 4 | render {n} database{'s' if n > 1 else ''}: component / native (render_bench, median of "
            "medians) | "
            f"{fmt(r[f'render_{n}_wasm_us'], 'µs', 1)} / {fmt(r[f'render_{n}_native_us'], 'µs', 1)} "
            f"({statistics.median(r[f'render_{n}_ratio']['values']):.1f}×) | n/a (no render) | |"
        )
    for n in (1, 100):
        if f"health_{n}_wasm_us" in r:
            L.append(
                f"| 4 | health verdict, {n} database{'s' if n > 1 else ''} and 400 log lines: component / native | "
                f"{fmt(r[f'health_{n}_wasm_us'], 'µs', 1)} / {fmt(r[f'health_{n}_native_us'], 'µs', 1)} | n/a | |"
            )
    L.append(f"| 4 | load the component (`Rules::builtin`, cached compilation) | {fmt(r['load_us'], 'µs', 0)} | | |")
    L.append(
        f"| 4 | whole `datasette-litestream render` process, 1 database ({r['process_warm_cache_ms']['tool']}, "
        f"{r['process_warm_cache_ms']['n']} runs) | "
        f"{fmt(r['process_warm_cache_ms'], 'ms', 1)} | | |"
    )
    L.append(
        "| 4 | the same with no cache at all (`DATASETTE_LITESTREAM_CACHE=`; rules compiled ahead of time) | "
        f"{fmt(r['process_no_cache_ms'], 'ms', 1)} | | |"
    )
    return L


def table_5(r: dict) -> list[str]:
    L = []
    for k in ("ours-0.5.17", "ours-0.3.13"):
        L.append(
            "| 5 | credentials file rewritten → replicating with the new keys "
            f"({r[k]['label'].split('(')[1][:-1]}) | "
            f"{fmt(r[k]['write_to_replicating'], 's')} | {fmt(r['py']['write_to_replicating'], 's')} | "
            f"{ratio(r[k]['write_to_replicating'], r['py']['write_to_replicating'])} |"
        )
        L.append(
            f"| 5 | of which past the refresh tick ({r[k]['label'].split('(')[1][:-1]}) | "
            f"{fmt(r[k]['tick_to_replicating'], 's')} | {fmt(r['py']['tick_to_replicating'], 's')} | "
            f"{ratio(r[k]['tick_to_replicating'], r['py']['tick_to_replicating'])} |"
        )
    L.append(
        "| 5 | rewritten → new Litestream pid / its first log line | "
        f"{fmt(r['ours-0.5.17']['write_to_new_pid'], 's')} / – | "
        f"{fmt(r['py']['write_to_new_pid'], 's')} / {fmt(r['py']['write_to_first_log_line'], 's')} | "
        f"{ratio(r['ours-0.5.17']['write_to_new_pid'], r['py']['write_to_new_pid'])} |"
    )
    return L


def table_6(r: dict) -> list[str]:
    L = []
    p = r["py"]
    for k in ("ours", "ours-json", "run", "run-json"):
        L.append(
            f"| 6 | status page throughput, {r[k]['label']} | {fmt(r[k]['rps'], 'req/s', 0)} | "
            f"{fmt(p['rps'], 'req/s', 0)} | {ratio(r[k]['rps'], p['rps'])} |"
        )
    for k in ("ours", "ours-json", "run", "run-json"):
        L.append(
            f"| 6 | status page p99 latency, {r[k]['label']} | {fmt(r[k]['p99_ms'], 'ms', 1)} | "
            f"{fmt(p['p99_ms'], 'ms', 1)} | {ratio(r[k]['p99_ms'], p['p99_ms'])} |"
        )
    for k in ("ours", "ours-json", "run", "run-json"):
        L.append(
            f"| 6 | status page size, {r[k]['label']} | {r[k]['bytes']} B | {p['bytes']} B | "
            f"{r[k]['bytes'] / p['bytes']:.2f}× |"
        )
    return L
