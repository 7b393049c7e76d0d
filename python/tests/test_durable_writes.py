"""Durable writes under real `datasette serve`, real Litestream 0.5.17 and a real S3
server with keys enforced (moto): a write acknowledged with 201 is already on the
replica; a replica out of reach gets the documented 504; concurrent writers share
syncs; a follower given a write's transaction shows it or says "not yet"."""

import concurrent.futures
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from datasette.app import Datasette
from test_follower import _follower_node, moto_server
from test_temporary_credentials import restore_s3

import datasette_litestream
from conftest import HOST, LITESTREAM, TESTS, count_rows, make_db, real_host_env, restore, started, wait_for


def post(port: int, path: str, document: dict, timeout: float = 30) -> tuple[int, dict, dict]:
    """(status, JSON body, lower-cased headers)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(document).encode(),
        headers={"content-type": "application/json", "accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read()), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), {k.lower(): v for k, v in e.headers.items()}


def get(port: int, path: str, headers: dict, timeout: float = 30) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def durable_config(s3, durable: dict) -> dict:
    keys = s3["replicator"]
    return {
        "plugins": {
            "datasette-litestream": {
                "access-key-id": keys["access-key-id"],
                "secret-access-key": keys["secret-access-key"],
                **durable,
            }
        },
        "databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [s3["replica"]]}}}},
    }


def primary(tmp_path, serve, s3, durable: dict | None = None):
    """A primary `datasette serve` of x.db whose inserts anyone may make, replicating
    to moto with durable-writes, once healthy."""
    directory = tmp_path / "primary"
    make_db(directory / "x.db")
    metadata = durable_config(s3, durable or {"durable-writes": True})
    (directory / "metadata.yaml").write_text(json.dumps(metadata))
    config = {
        "permissions": {"insert-row": True, "litestream-view-status": True},
        "databases": {"x": {"queries": {"add": {"sql": "insert into items (value) values (:v)", "write": True}}}},
    }
    (directory / "datasette.yaml").write_text(json.dumps(config))
    args = ["x.db", "-m", "metadata.yaml", "-c", "datasette.yaml", "--plugins-dir", TESTS / "plugins"]
    server = serve(args, cwd=directory, env=real_host_env())
    server.wait_ready()
    wait_for(lambda: server.get("/-/litestream-health")[0] == 200, 30, f"replicating:\n{server.output}")
    return server, metadata


def insert(server, value: str, timeout: float = 30):
    return post(server.port, "/x/items/-/insert", {"row": {"value": value}}, timeout)


def write_three_ways(server, value: str, way: int):
    """The JSON insert API, a writable canned query, or a plugin's own execute_write."""
    if way == 0:
        return insert(server, value)
    if way == 1:
        return post(server.port, "/x/add", {"v": value})
    return post(server.port, f"/-/test-write?value={urllib.parse.quote(value)}", {})


def replica_rows(tmp_path, s3, name: str) -> list[str]:
    out = tmp_path / "restored" / f"{name}.db"
    out.parent.mkdir(exist_ok=True)
    restore_s3(s3, s3["replica"], out)
    import sqlite3

    with sqlite3.connect(out) as conn:
        return [r[0] for r in conn.execute("select value from items")]


def metric(server, name: str) -> float:
    status, text = server.get("/-/litestream-metrics")
    assert status == 200, text
    for line in text.splitlines():
        if line.startswith(f"datasette_litestream_{name}{{") and 'database="x"' in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} for x in:\n{text}")


@pytest.mark.host
def test_every_acknowledged_insert_is_already_on_the_replica(tmp_path, serve):
    with moto_server(tmp_path) as s3:
        server, _ = primary(tmp_path, serve, s3)
        txids = []
        for i in range(20):
            status, body, headers = write_three_ways(server, f"durable {i}", i % 3)
            assert status in (200, 201), body
            assert headers["datasette-litestream-durable"] == "true", headers
            txids.append(int(headers["datasette-litestream-txid"].split("=")[1]))
            # Restored at once, before anything else: the acknowledged row is there.
            assert f"durable {i}" in replica_rows(tmp_path, s3, f"after-{i}"), i
        assert txids == sorted(txids) and len(set(txids)) == 20, txids
        assert metric(server, "durable_writes_total") == 20
        assert "datasette_litestream_txid=" in headers["set-cookie"]
        assert s3["replicator"]["secret-access-key"] not in server.output


@pytest.mark.host
def test_a_frozen_replica_gets_the_not_durable_answer_then_recovers(tmp_path, serve):
    with moto_server(tmp_path) as s3:
        server, _ = primary(tmp_path, serve, s3, {"durable-writes": True, "durable-timeout": 2})
        assert insert(server, "before")[0] == 201
        os.kill(s3["pid"], signal.SIGSTOP)
        try:
            started = time.monotonic()
            status, body, headers = insert(server, "frozen")
            waited = time.monotonic() - started
            assert status == 504, body
            assert body["durable"] is False and body["written"] is True and body["database"] == "x", body
            assert "not durable yet" in body["errors"][0], body
            assert headers["datasette-litestream-durable"] == "false"
            assert waited < 2 + 5, waited  # within the timeout (and the host's margin), not hanging
            health = server.get("/-/litestream-health")
            assert health[0] == 503 and "x:" in health[1] and "not durable" in health[1], health
        finally:
            os.kill(s3["pid"], signal.SIGCONT)
        # Nothing was lost: the host's own retries make the row durable and health recovers.
        wait_for(lambda: server.get("/-/litestream-health")[0] == 200, 30, f"health back:\n{server.output}")
        assert "frozen" in replica_rows(tmp_path, s3, "after-freeze")
        assert metric(server, "not_durable_writes_total") == 1


@pytest.mark.host
def test_concurrent_writers_share_syncs_and_every_acknowledged_row_restores(tmp_path, serve):
    with moto_server(tmp_path) as s3:
        server, _ = primary(tmp_path, serve, s3)

        def writer(w: int) -> list[str]:
            acknowledged = []
            for i in range(10):
                status, body, _ = insert(server, f"writer {w} row {i}")
                assert status == 201, body
                acknowledged.append(f"writer {w} row {i}")
            return acknowledged

        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            acknowledged = [v for rows in pool.map(writer, range(10)) for v in rows]
        assert len(acknowledged) == 100
        restored = set(replica_rows(tmp_path, s3, "concurrent"))
        assert set(acknowledged) <= restored
        writes, syncs = metric(server, "durable_writes_total"), metric(server, "durable_syncs_total")
        assert writes == 100
        # Writes share syncs (how many depends on how long a sync takes against how long
        # Datasette takes to answer: bench/results/row-13.md).
        assert syncs < writes, (syncs, writes)

        # Group commit, made visible: while one sync is stuck on a frozen S3, ten writes
        # commit behind it; they all wait for the next sync, not for one each.
        os.kill(s3["pid"], signal.SIGSTOP)
        try:
            with concurrent.futures.ThreadPoolExecutor(10) as pool:
                held = [pool.submit(insert, server, f"held {w}") for w in range(10)]
                wait_for(lambda: metric(server, "durable_waiting") == 10, 20, "ten writes waiting")
                syncs_before = metric(server, "durable_syncs_total")
                os.kill(s3["pid"], signal.SIGCONT)
                assert all(f.result()[0] == 201 for f in held), [f.result() for f in held]
        finally:
            os.kill(s3["pid"], signal.SIGCONT)
        # The sync stuck on the freeze, then one for everyone committed behind it.
        assert metric(server, "durable_syncs_total") - syncs_before <= 1
        assert {f"held {w}" for w in range(10)} <= set(replica_rows(tmp_path, s3, "held"))


@pytest.mark.host
def test_a_follower_given_the_transaction_shows_the_write_or_says_not_yet(tmp_path, serve):
    with moto_server(tmp_path) as s3:
        server, metadata = primary(tmp_path, serve, s3)
        assert insert(server, "seed")[0] == 201
        env = {**real_host_env(), "DATASETTE_LITESTREAM_READ_WAIT": "2"}
        node = _follower_node(tmp_path / "follower", metadata, env, serve)
        status, body, headers = insert(server, "read me")
        assert status == 201, body
        given = {"Datasette-Litestream-Txid": headers["datasette-litestream-txid"]}
        status, page = get(node.port, "/x/items.json?_shape=array&_size=max", given)
        assert status == 200, page
        assert "read me" in [r["value"] for r in json.loads(page)]
        # The cookie works as the header does.
        cookie = {"Cookie": headers["set-cookie"].split(";")[0]}
        assert get(node.port, "/x/items.json?_shape=array", cookie)[0] == 200
        txid = int(headers["datasette-litestream-txid"].split("=")[1])
        ahead = {"Datasette-Litestream-Txid": f"x={txid + 1000}"}
        started = time.monotonic()
        status, page = get(node.port, "/x/items.json", ahead)
        assert status == 503, page
        assert "not yet" in json.loads(page)["errors"][0] and str(txid + 1000) in page, page
        assert time.monotonic() - started < 2 + 5


@pytest.mark.parametrize(
    ("version", "durable", "problem"),
    [
        ("0.3.13", {"durable-writes": True}, "needs Litestream 0.5"),
        ("0.5.17", {"durable-writes": "sometimes"}, "durable-writes"),
        ("0.5.17", {"durable-writes": True, "durable-timeout": 0}, "durable-timeout"),
    ],
)
def test_durable_writes_on_03_or_of_the_wrong_type_are_refused_naming_the_key(tmp_path, version, durable, problem):
    make_db(tmp_path / "x.db")
    metadata = {
        "plugins": {"datasette-litestream": durable},
        "databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [{"url": "file:///tmp/r"}]}}}},
    }
    (tmp_path / "metadata.yaml").write_text(json.dumps(metadata))
    result = subprocess.run(
        [HOST, "run", "x.db", "-m", "metadata.yaml", "--litestream", str(LITESTREAM[version])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert problem in result.stderr and "durable-" in result.stderr, result.stderr
    assert count_rows(tmp_path / "x.db") == 0


@pytest.mark.host
async def test_the_python_api_makes_a_write_outside_a_request_durable(tmp_path, host_env):
    """A plugin's background write (no request): `await durable(datasette, name)`
    returns once the replica holds it; a database without durable-writes is refused."""
    replica = tmp_path / "replica"
    config = {
        "plugins": {"datasette-litestream": {"durable-writes": True}},
        "databases": {
            "x": {"plugins": {"datasette-litestream": {"replicas": [{"url": f"file://{replica}"}]}}},
            "y": {
                "plugins": {
                    "datasette-litestream": {
                        "replicas": [{"url": f"file://{tmp_path / 'y-replica'}"}],
                        "durable-writes": False,
                    }
                }
            },
        },
    }
    ds = Datasette([str(make_db(tmp_path / "x.db")), str(make_db(tmp_path / "y.db"))], config=config)
    async with started(ds):
        await ds.get_database("x").execute_write("insert into items (value) values ('in the background')")
        txid = await datasette_litestream.durable(ds, "x")
        assert isinstance(txid, int) and txid > 0
        out = restore("0.5.17", replica, tmp_path / "restored.db")
        assert count_rows(out) == 1
        with pytest.raises(ValueError, match="'y' has no durable-writes"):
            await datasette_litestream.durable(ds, "y")
