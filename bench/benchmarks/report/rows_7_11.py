"""The table's lines of rows 7 to 11 (each function: one row's results → its lines)."""

from __future__ import annotations

import statistics

from ..common.figures import fmt, ratio


def table_7(r: dict) -> list[str]:
    L = []
    for n in (1, 10, 100):
        o, p = r[f"ours-{n}"], r[f"py-{n}"]
        L.append(
            f"| 7 | {n} db: launch → first replica file | {fmt(o['first_replica_s'], 's')} | "
            f"{fmt(p['first_replica_s'], 's')} | {ratio(o['first_replica_s'], p['first_replica_s'])} |"
        )
        L.append(
            f"| 7 | {n} db: launch → every database has a replica file | {fmt(o['all_replicas_s'], 's')} | "
            f"{fmt(p['all_replicas_s'], 's')} | {ratio(o['all_replicas_s'], p['all_replicas_s'])} |"
        )
        L.append(
            f"| 7 | {n} db: status page latency p50 / p99 (1 connection) | {fmt(o['status_p50_ms'], 'ms', 1)} / "
            f"{fmt(o['status_p99_ms'], 'ms', 1)} | "
            f"{fmt(p['status_p50_ms'], 'ms', 1)} / {fmt(p['status_p99_ms'], 'ms', 1)} | "
            f"{ratio(o['status_p50_ms'], p['status_p50_ms'])} |"
        )
        L.append(
            f"| 7 | {n} db: status page size | {o['status_bytes']} B | {p['status_bytes']} B | "
            f"{o['status_bytes'] / p['status_bytes']:.2f}× |"
        )
    return L


def table_8(r: dict) -> list[str]:
    L = []
    for target, where in (("file", "`file://`"), ("s3", "S3 (moto on loopback)")):
        for ls in ("0.3.13", "0.5.17"):
            x = r[f"restore-{target}-{ls}"]
            L.append(
                f"| 8 | restore a {x['mib']:.0f} MiB database from {where}, Litestream {ls}: "
                f"`datasette-litestream restore` / `litestream restore` alone | {fmt(x['ours'], 's')} / "
                f"{fmt(x['alone'], 's')} "
                f"({statistics.median(x['ours']['values']) / statistics.median(x['alone']['values']):.2f}×) | n/a "
                "(no restore) | |"
            )
    for ls in ("0.3.13", "0.5.17"):
        for target, where in (("file", "`file://`"), ("s3", "S3 (moto)")):
            L.append(
                f"| 8 | one `verify` of a small database while replicating to {where}, Litestream {ls} | "
                f"{fmt(r[f'verify-{target}-{ls}'], 's')} | n/a (no verify) | |"
            )
    return L


def table_9(r: dict) -> list[str]:
    L = []
    c, o = r["during_check_ms"], r["during_restore_ms"]
    L.append(
        f"| 9 | `run --restore-if-missing`: `/-/litestream-health` latency while a {r['mib']} MiB restored copy is "
        f"integrity-checked ({fmt(r['check_s'], 's')}), p50 / p99 / max (n) | "
        f"{c['p50']:.1f} / {c['p99']:.1f} / {c['max']:.1f} ms ({c['n']}) | n/a (no restore) | |"
    )
    L.append(
        f"| 9 | the same while `litestream restore` runs, p50 / p99 / max (n) | "
        f"{o['p50']:.1f} / {o['p99']:.1f} / {o['max']:.1f} ms ({o['n']}) | n/a | |"
    )
    return L


def table_10(r: dict) -> list[str]:
    L = []
    for ls in ("0.3.13", "0.5.17"):
        x = r[f"stall-{ls}"]
        L.append(
            f"| 10 | Litestream {ls} frozen (SIGSTOP) + a commit → health 503 with max-lag={r['max_lag_s']} | "
            f"{fmt(x['to_503_s'], 's')} | n/a (no lag) | |"
        )
        L.append(f"| 10 | Litestream {ls} resumed (SIGCONT) → health 200 | {fmt(x['to_200_s'], 's')} | n/a | |")
    soak = r["soak"]
    for ls in ("0.3.13", "0.5.17"):
        c = soak[ls]
        L.append(
            f"| 10 | false alarms in {soak['seconds'] / 60:.0f} min of write bursts and idle periods, Litestream "
            f"{ls}: "
            f"default threshold / max-lag=5 (of {c['probes']} probes, {c['commits']} commits; largest lag seen) | "
            f"{c['alarms_default']} / {c['alarms_max_lag_5']} ({c['max_lag_s']} s) | n/a | |"
        )
    for n in ("1", "100"):
        c = r["cost"][n]
        L.append(
            f"| 10 | {n} database{'s' if n != '1' else ''}: host CPU while looking once a second (idle); "
            f"status page / JSON / health throughput | {c['host_cpu_ms_per_s']} ms/s; "
            f"{c['rps']['/-/litestream-status']:.0f} / {c['rps']['/-/litestream-status.json']:.0f} / "
            f"{c['rps']['/-/litestream-health']:.0f} req/s | n/a | |"
        )
    return L


def table_11(r: dict) -> list[str]:
    L = []
    for ls in ("0.3.13", "0.5.17"):
        for n in ("1", "100"):
            x = r[f"{ls}-{n}"]
            L.append(
                f"| 11 | Litestream {ls}, {n} database{'s' if n != '1' else ''} replicated: a database added → "
                f"its first replica file ({', '.join(x['changes'])}) | {fmt(x['first_file_s'], 's')} | n/a "
                "(start-up list only) | |"
            )
            L.append(
                "| 11 | the same: longest pause in the uploads of a database written every 50 ms, around the "
                "change "
                f"(1 s is the sync interval) | {fmt(x['pause_s'], 's')} | n/a | |"
            )
    return L
