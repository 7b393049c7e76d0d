"""The table's lines of row 12, the follower nodes."""

from __future__ import annotations

from ..common.figures import fmt


def vis(v: dict | None) -> str:
    """commit → visible p50 / p99 (of several windows: their medians and ranges)."""
    if not v or v.get("p50") is None:
        return "–"
    if v.get("runs", 1) > 1:
        (a, b), (c, e) = v["p50_range"], v["p99_range"]
        return (
            f"{v['p50']:.2f} / {v['p99']:.2f} s (medians of {v['runs']} runs, p50 {a:.2f}–{b:.2f}, "
            f"p99 {c:.2f}–{e:.2f}; n={v['n']}" + (f", {v['missing']} never seen" if v.get("missing") else "") + ")"
        )
    return (
        f"{v['p50']:.2f} / {v['p99']:.2f} s (n={v['n']}"
        + (f", {v['missing']} never seen" if v.get("missing") else "")
        + ")"
    )


def table_12(r: dict) -> list[str]:
    return settings(r) + scale(r) + tuned(r)


def settings(r: dict) -> list[str]:
    """Default and tuned, one follower: failures, commit → visible, health, S3 requests."""
    L = []
    t = r["tuned_settings"]
    names = {
        "default": "default intervals (primary: monitor 1s, sync 1s; follower: follow 1s, look 2s)",
        "tuned": f"tuned (primary: monitor-interval {t['monitor-interval']}, replica sync-interval "
        f"{t['sync-interval']}; follower: DATASETTE_LITESTREAM_FOLLOW_INTERVAL={t['follow-interval']}, look 2s)",
    }
    for key in ("default", "tuned"):
        if "error" in r.get(key, {}):
            L.append(f"| 12 | {key}: failed | {r[key]['error'].splitlines()[0][:300]} | n/a | |")
    for key in ("default", "tuned"):
        x = r.get(key)
        if not x or "visible" not in x:
            continue
        L.append(
            f"| 12 | commit on the primary ({r['rate_per_s']:g}/s, {x['visible'].get('runs', 1)} × "
            f"{r['seconds']:g} s) → row "
            f"in a follower's JSON API (asked every {r['poll_s'] * 1000:.0f} ms), "
            f"{names[key]}: p50 / p99 | {vis(x['visible'])} | n/a (no followers) | |"
        )
    for key in ("default", "tuned"):
        h = r.get(key, {}).get("health")
        if h:
            L.append(
                f"| 12 | {key}, the same windows: `/-/litestream-health?max-lag={h['max_lag']}` on the follower "
                "node "
                f"asked every second: answers not 200; the largest staleness its status reported | "
                f"{h['not_200']} of {h['asks']}; {h['max_staleness_s']:.1f} s | n/a | |"
            )
    for key in ("default", "tuned"):
        x = r.get(key)
        if not x or "s3_one_follower" not in x:
            continue
        k = x["s3_one_follower"]["by_kind"]
        L.append(
            f"| 12 | S3 requests/s, {key}: total with 1 follower; the primary alone (0 followers); per follower "
            f"(the difference) | {x['s3_one_follower']['per_s']:.1f}; {x['s3_primary']['per_s']:.1f}; "
            f"{x['s3_per_follower_per_s']:.1f} (with 1 follower: {', '.join(f'{n} {c}' for n, c in k.items())} "
            f"in {x['s3_one_follower']['seconds']:.0f} s; moto CPU {x['s3_one_follower']['moto_cpu_pct']:.0f} %) | "
            "n/a | |"
        )
    return L


def scale(r: dict) -> list[str]:
    """Tuned, 1, 4 and 10 followers."""
    L = []
    sc = r.get("scale", {})
    for n, x in sc.items():
        if not isinstance(x, dict):
            continue
        if "error" in x:
            L.append(f"| 12 | tuned, {n} followers | not measured: {x['error'].splitlines()[0][:200]} | n/a | |")
            continue
        poll = f"; each asked every {x['poll_interval_s'] * 1000:.0f} ms" if x["poll_interval_s"] > r["poll_s"] else ""
        late = (
            f" ({x['caught_up_before_window']} of {n} had caught up 60 s after the start)"
            if x["caught_up_before_window"] < int(n)
            else ""
        )
        L.append(
            f"| 12 | tuned, {n} follower{'s' if n != '1' else ''} on one S3 server: visible p50 / p99 at the "
            "slowest "
            f"follower; median across followers; total S3 requests/s (moto CPU){poll} | {vis(x['slowest'])}; "
            f"{x['median_p50']:.2f} / {x['median_p99']:.2f} s; {x['s3']['per_s']:.1f} req/s "
            f"({x['s3'].get('moto_cpu_pct', 0):.0f} %){late} | n/a | |"
        )
    return L


def tuned(r: dict) -> list[str]:
    """The tuned follower under load, its footprint, and its restarts."""
    L = []
    x = r.get("tuned", {})
    if "load" in x:
        w = x["load"]["wrk"]
        errors = f", {w['errors']} errors" if w.get("errors") else ""
        L.append(
            f"| 12 | tuned, under read load (wrk -t2 -c10 {r['load_seconds']:g} s on `{x['load']['path']}` of the "
            f"follower): visible p50 / p99 on it; wrk req/s, p99 | {vis(x['load']['visible'])}; "
            f"{w['rps']:.0f} req/s, p99 {w['p99_ms']:.0f} ms{errors} | n/a | |"
        )
    for key, what in (
        ("footprint_idle", "idle (no commits)"),
        ("footprint_following", f"following {r['rate_per_s']:g} commits/s"),
    ):
        if key in x:
            f = x[key]
            L.append(
                f"| 12 | tuned follower node {what}, {f['seconds']:.0f} s: RSS host + litestream / Datasette; "
                "CPU host + litestream / Datasette; S3 requests/s of primary + node | "
                f"{f['rss_mib_host_tree']:.1f} / "
                f"{f['rss_mib_datasette']:.1f} MiB; {f['cpu_pct_host_tree']:.1f} / {f['cpu_pct_datasette']:.1f} %; "
                f"{f['s3']['per_s']:.1f} ({', '.join(f'{k} {c}' for k, c in f['s3']['by_kind'].items())}) | n/a | |"
            )
    if "restart" in x:
        rs = x["restart"]
        left = sum(len(v) for v in rs["left_alive_after_sigkill"])
        L.append(
            "| 12 | tuned follower node SIGKILLed (Datasette; its host by parent death), 100 commits, started "
            "again "
            f"(symlink kept: {sum(rs['symlink_kept'])}/{len(rs['symlink_kept'])}, no --init) → newest row in its "
            "JSON API; "
            f"→ HTTP ready | {fmt(rs['caught_up_s'], 's')}; {fmt(rs['ready_s'], 's')}"
            f"{f' ({left} processes outlived the kill)' if left else ''} | n/a | |"
        )
    return L
