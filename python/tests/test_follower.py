"""Follower mode (DATASETTE_LITESTREAM_FOLLOW=1): the PENDING-byte gate, cache_size=0,
refused writes and the re-add after a file swap, with the stand-in host (a real
second process holds SQLite's lock bytes where it matters); and one end-to-end
test with the real host, a real primary and real Litestream 0.5.17."""

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from datasette.app import Datasette
from datasette.database import Database

from conftest import HOST, add_rows, count_rows, make_db, real_host_env, started, wait_for
from datasette_litestream import follower, gate
from datasette_litestream.state import state_for

REPLICA = {"replicas": [{"url": "file:///nowhere"}]}
CONFIG = {"databases": {"x": {"plugins": {"datasette-litestream": REPLICA}}}}
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0x40000000, 0)  # SQLite's PENDING byte
print("held", flush=True)
sys.stdin.readline()
"""


@contextlib.contextmanager
def pending_held(path):
    """Another process holds a write lock on the PENDING byte, as `litestream
    restore -f` does while it waits to apply an update; yields a release function."""
    p = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert p.stdout.readline().strip() == "held"

        def release():
            p.stdin.close()
            p.wait(10)

        yield release
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.fixture
def follow(fake_host, monkeypatch):
    """The stand-in host in follow mode, and the plugin in follower mode."""
    monkeypatch.setenv("FAKE_HOST_MODE", "follow")
    monkeypatch.setenv("DATASETTE_LITESTREAM_FOLLOW", "1")
    monkeypatch.setattr(follower, "CLOSE_GRACE", 0.2)
    return fake_host


def swap_symlink(link, target):
    """What the host does: an atomic rename of a new symlink over the old one."""
    tmp = link.with_name(link.name + ".new")
    tmp.symlink_to(target)
    tmp.replace(link)


async def rows(ds, path="/x/items.json?_shape=array"):
    response = await ds.client.get(path)
    assert response.status_code == 200, response.text
    return len(response.json())


# ---- the gate ----


async def test_gate_holds_reads_that_sqlite_would_let_through(tmp_path):
    """This process already holds SHARED (a statement running on another thread):
    SQLite lets a second connection in the process read without looking at the
    PENDING byte, so Litestream, waiting for SHARED to drop, starves. The gated read
    waits for the other process's PENDING lock to go, then proceeds."""
    path = make_db(tmp_path / "f.db", rows=5)
    ds = Datasette([])
    plain, gated = (Database(ds, path=str(path), is_mutable=True) for _ in range(2))
    gate.install(gated, str(path))
    reader = sqlite3.connect(path)
    cursor = reader.execute("select * from items")
    cursor.fetchone()  # an unfinished statement: SHARED held
    with pending_held(path) as release:
        started_at = time.monotonic()
        assert (await plain.execute("select count(*) from items")).single_value() == 5
        assert time.monotonic() - started_at < 1  # what starves Litestream
        task = asyncio.create_task(gated.execute("select count(*) from items"))
        await asyncio.sleep(0.5)
        assert not task.done()
        release()
        assert (await asyncio.wait_for(task, 5)).single_value() == 5
    reader.close()


def test_gate_gives_up_after_its_cap(tmp_path):
    path = make_db(tmp_path / "f.db")
    fd = gate.probe_fd(str(path))
    assert gate.wait_until_clear(fd, cap=0.3) is True
    with pending_held(path):
        started_at = time.monotonic()
        assert gate.wait_until_clear(fd, cap=0.3) is False
        assert 0.3 <= time.monotonic() - started_at < 1.5


def test_probe_fd_is_per_file_behind_the_symlink(tmp_path):
    one, two = make_db(tmp_path / "one.db"), make_db(tmp_path / "two.db")
    link = tmp_path / "x.db"
    link.symlink_to(one)
    first = gate.probe_fd(str(link))
    assert gate.probe_fd(str(link)) == first
    swap_symlink(link, two)
    second = gate.probe_fd(str(link))
    assert second != first
    assert os.fstat(first).st_ino == one.stat().st_ino  # a swap alone closes nothing
    assert os.fstat(second).st_ino == two.stat().st_ino


# ---- start-up, cache_size, refused writes (stand-in host) ----


async def test_follow_mode_starts_follow_and_serves_new_database_objects(tmp_path, follow):
    generation = make_db(tmp_path / "gen1.db", rows=3)
    (tmp_path / "x.db").symlink_to(generation)
    other = make_db(tmp_path / "y.db", rows=1)
    ds = Datasette([str(tmp_path / "x.db"), str(other)], config=CONFIG)
    before = dict(ds.databases)
    async with started(ds):
        record = follow.read()
        assert record["argv"] == ["follow", "--stdin"]
        # The symlink, not the generation it names now: the host swaps it.
        assert record["inputs"]["databases"][0]["path"] == str(tmp_path / "x.db")
        assert list(ds.databases)[:2] == ["x", "y"]
        assert ds.databases["x"] is not before["x"]
        assert ds.databases["y"] is before["y"]
        assert state_for(ds).watcher is None
        assert state_for(ds).followed == {"x": str(tmp_path / "x.db")}
        assert await rows(ds) == 3
        await wait_async(lambda: before["x"]._closed, 5)


async def test_follow_mode_startup_failure_is_a_startup_error(tmp_path, follow, monkeypatch):
    """Bad config, or Litestream 0.3: the host exits 2 before ready, as in run mode."""
    from datasette.utils import StartupError

    monkeypatch.setenv("FAKE_HOST_MODE", "bad-config")
    ds = Datasette([str(make_db(tmp_path / "x.db"))], config=CONFIG)
    with pytest.raises(StartupError, match="replicaz"):
        await ds.invoke_startup()
    assert follow.read()["argv"] == ["follow", "--stdin"]


async def test_cache_size_0_only_on_followed_databases(tmp_path, follow):
    (tmp_path / "x.db").symlink_to(make_db(tmp_path / "gen1.db"))
    ds = Datasette([str(tmp_path / "x.db"), str(make_db(tmp_path / "y.db"))], config=CONFIG)
    async with started(ds):

        def cache_size(conn):
            return conn.execute("pragma cache_size").fetchone()[0]

        assert await ds.databases["x"].execute_fn(cache_size) == 0
        assert await ds.databases["y"].execute_fn(cache_size) == -2000


WRITES = {
    "/x/items/-/insert": {"row": {"value": "w"}},
    "/x/items/-/upsert": {"rows": [{"id": 1, "value": "w"}]},
    "/x/items/1/-/update": {"update": {"value": "w"}},
    "/x/items/1/-/delete": {},
    "/x/items/-/drop": {"confirm": True},
    "/x/-/create": {"table": "n", "columns": [{"name": "a"}]},
    "/x/-/execute-write": {"sql": "insert into items (value) values ('w')"},
}


async def test_api_writes_to_a_follower_are_refused_with_the_reason(tmp_path, follow):
    """Root with a token: 403 and the reason, not Datasette's bare "Permission denied";
    a stored write query (allowed to anyone who may view it) gets its 400 with the
    reason from the refused write; the non-followed database stays writable."""
    (tmp_path / "x.db").symlink_to(make_db(tmp_path / "gen1.db", rows=2))
    other = make_db(tmp_path / "y.db")
    config = json.loads(json.dumps(CONFIG))
    config["databases"]["x"]["queries"] = {"add": {"sql": "insert into items (value) values (:v)", "write": True}}
    ds = Datasette([str(tmp_path / "x.db"), str(other)], config=config)
    ds.root_enabled = True
    async with started(ds):
        auth = {"Authorization": f"Bearer {await ds.create_token('root')}"}
        for path, body in WRITES.items():
            response = await ds.client.post(path, json=body, headers=auth)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["errors"] == [follower.refusal("x")], path
        assert "read-only follower" in follower.refusal("x") and "primary" in follower.refusal("x")
        response = await ds.client.post("/x/add", json={"v": "w"}, headers={**auth, "accept": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [follower.refusal("x")]
        response = await ds.client.post("/y/items/-/insert", json={"row": {"value": "w"}}, headers=auth)
        assert response.status_code == 201, response.text
    assert count_rows(tmp_path / "gen1.db") == 2


async def test_write_actions_are_denied_even_against_a_table_level_allow(tmp_path, follow):
    from datasette.resources import DatabaseResource, TableResource

    (tmp_path / "x.db").symlink_to(make_db(tmp_path / "gen1.db"))
    config = {
        "databases": {
            "x": {
                "plugins": {"datasette-litestream": REPLICA},
                "tables": {"items": {"permissions": {"insert-row": {"id": "alice"}}}},
            },
            "y": {"tables": {"items": {"permissions": {"insert-row": {"id": "alice"}}}}},
        }
    }
    ds = Datasette([str(tmp_path / "x.db"), str(make_db(tmp_path / "y.db"))], config=config)
    ds.root_enabled = True
    async with started(ds):
        await ds.refresh_schemas()
        alice, root = {"id": "alice"}, {"id": "root"}
        assert not await ds.allowed(action="insert-row", resource=TableResource("x", "items"), actor=alice)
        assert await ds.allowed(action="insert-row", resource=TableResource("y", "items"), actor=alice)
        for action in ("insert-row", "update-row", "delete-row", "drop-table", "alter-table"):
            assert not await ds.allowed(action=action, resource=TableResource("x", "items"), actor=root), action
        for action in ("create-table", "execute-write-sql"):
            assert not await ds.allowed(action=action, resource=DatabaseResource("x"), actor=root), action
            assert await ds.allowed(action=action, resource=DatabaseResource("y"), actor=root), action
        assert await ds.allowed(action="view-table", resource=TableResource("x", "items"), actor=root)


async def test_write_methods_raise_for_plugins_that_skip_permissions(tmp_path, follow):
    (tmp_path / "x.db").symlink_to(make_db(tmp_path / "gen1.db", rows=1))
    ds = Datasette([str(tmp_path / "x.db")], config=CONFIG)
    async with started(ds):
        db = ds.get_database("x")
        calls = [
            db.execute_write("insert into items (value) values ('w')"),
            db.execute_write_many("insert into items (value) values (?)", [("w",)]),
            db.execute_write_script("insert into items (value) values ('w');"),
            db.execute_write_fn(lambda conn: conn.execute("insert into items (value) values ('w')")),
            db._execute_write_fn(lambda conn: conn.execute("insert into items (value) values ('w')")),
        ]
        for call in calls:
            with pytest.raises(follower.FollowerWriteRefused, match="database 'x' is a read-only follower.*primary"):
                await call
        assert db._write_thread is None  # refused before a read-write connection was opened
    assert count_rows(tmp_path / "gen1.db") == 1


# ---- the re-add after a swap ----


async def test_replaced_event_serves_the_new_file(tmp_path, follow, monkeypatch):
    """The test swaps the symlink as the host would. Before the "replaced" event,
    Datasette keeps reading the old file (its connection is open); after it, a new
    Database object with new connections reads the new one."""
    gen1, gen2 = make_db(tmp_path / "gen1.db", rows=3), make_db(tmp_path / "gen2.db", rows=5)
    link = tmp_path / "x.db"
    link.symlink_to(gen1)
    trigger = tmp_path / "swapped"
    monkeypatch.setenv("FAKE_HOST_REPLACE_AFTER", "0")
    monkeypatch.setenv("FAKE_HOST_REPLACE_WHEN", str(trigger))
    # One SQL thread: every read uses the one connection opened before the swap.
    ds = Datasette([str(link)], config=CONFIG, settings={"num_sql_threads": 1})
    async with started(ds):
        assert await rows(ds) == 3
        first = ds.databases["x"]
        swap_symlink(link, gen2)
        seen = [await rows(ds) for _ in range(20)]
        assert seen == [3] * 20  # measured: without a re-add the old file is served
        trigger.touch()
        await asyncio.to_thread(wait_for, lambda: "replaced_at" in follow.read(), 10, "the replaced event")
        await wait_async(lambda: ds.databases["x"] is not first, 5)
        assert await rows(ds) == 5
        assert ds.databases["x"]._litestream_gate_fd == gate.probe_fd(str(gen2))
        await wait_async(lambda: first._closed, 5)
        # Its connections closed, the old generation's probe goes too (its disk space with it).
        old_fd = first._litestream_gate_fd
        await wait_async(lambda: not fd_open(old_fd, gen1), 5)
        with pytest.raises(follower.FollowerWriteRefused):
            await ds.databases["x"].execute_write("delete from items")


def fd_open(fd, path) -> bool:
    try:
        return os.fstat(fd).st_ino == path.stat().st_ino
    except OSError:
        return False


async def wait_async(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


# ---- the real host, a real primary, real Litestream 0.5.17 ----


@pytest.mark.host
def test_two_follower_nodes_serve_rows_committed_on_the_primary_under_read_load(tmp_path, serve):
    """A primary `datasette serve` replicating to S3 (moto, keys enforced) and two
    follower nodes: rows committed on the primary reach both followers' JSON API,
    also on the one under 10 connections of wrk; a write is refused; both healthy."""
    import shutil

    probe = subprocess.run([HOST, "follow", "--help"], capture_output=True, text=True, timeout=30)
    assert probe.returncode == 0, f"{HOST} predates `follow`: {probe.stderr}"
    wrk = shutil.which("wrk")
    assert wrk, "wrk is installed by scripts/setup"
    with moto_server(tmp_path) as s3:
        keys, replica = s3["replicator"], s3["replica"]
        metadata = {
            "plugins": {
                "datasette-litestream": {
                    "access-key-id": keys["access-key-id"],
                    "secret-access-key": keys["secret-access-key"],
                }
            },
            "databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [replica]}}}},
        }
        primary_dir = tmp_path / "primary"
        db = make_db(primary_dir / "x.db", rows=3)
        (primary_dir / "metadata.yaml").write_text(json.dumps(metadata))
        env = real_host_env("0.5.17")
        primary = serve(["x.db", "-m", "metadata.yaml"], cwd=primary_dir, env=env)
        primary.wait_ready()
        wait_for(
            lambda: primary.get("/-/litestream-health")[0] == 200, 30, f"the primary replicating:\n{primary.output}"
        )
        nodes = [_follower_node(tmp_path / f"follower-{n}", metadata, env, serve) for n in (1, 2)]
        for node in nodes:
            assert len(node.get_json("/x/items.json?_shape=array&_size=max")) == 3

        load = subprocess.Popen(
            [wrk, "-t2", "-c10", "-d30s", f"http://127.0.0.1:{nodes[0].port}/x/items?_size=50"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            for _ in range(50):  # 10 commits a second for 5 s
                add_rows(db, 1, prefix="from the primary")
                time.sleep(0.1)
            for node in nodes:
                wait_for(
                    lambda node=node: len(node.get_json("/x/items.json?_shape=array&_size=max")) == 53,
                    60,
                    f"the follower to serve the primary's rows:\n{node.output}",
                    interval=0.25,
                )
            assert load.poll() is None, "the rows arrived while wrk was still loading the first follower"
        finally:
            load.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
            report = load.communicate(timeout=30)[0]
        import re

        served = re.search(r"(\d+) requests in", report)
        assert served and int(served.group(1)) > 100, f"wrk did not load the follower:\n{report}"

        status, body = _post_json(nodes[1], "/x/items/-/insert", {"row": {"value": "on the follower"}})
        assert status == 403, body
        assert "read-only follower" in body and "primary" in body, body
        assert count_rows(db) == 53
        for node in nodes:
            wait_for(
                lambda node=node: node.get("/-/litestream-health?max-lag=30")[0] == 200,
                30,
                f"a healthy follower:\n{node.output}",
            )
        assert keys["secret-access-key"] not in nodes[0].output + nodes[1].output


def _follower_node(directory, metadata, env, serve):
    """The two commands of a fresh follower node: `follow --init`, then Datasette."""
    directory.mkdir()
    (directory / "metadata.yaml").write_text(json.dumps(metadata))
    init = subprocess.run(
        [HOST, "follow", "--init", "x.db", "-m", "metadata.yaml"],
        cwd=directory,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr + init.stdout
    assert (directory / "x.db").is_symlink()
    # Anyone may insert, as far as Datasette's own permissions go: only the follower refuses.
    (directory / "datasette.yaml").write_text(json.dumps({"permissions": {"insert-row": True}}))
    node = serve(
        ["x.db", "-m", "metadata.yaml", "-c", "datasette.yaml"],
        cwd=directory,
        env={**env, "DATASETTE_LITESTREAM_FOLLOW": "1"},
    )
    node.wait_ready()
    return node


@contextlib.contextmanager
def moto_server(tmp_path):
    """A real S3 server (moto) on a free loopback port, keys enforced once set up."""
    from conftest import REPO, free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "moto.log", "wb")
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _answers(endpoint), 30, "moto to start")
        admin = subprocess.run(
            [sys.executable, str(REPO / "tests" / "support" / "s3admin.py"), endpoint, "setup", "replicas"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        keys = json.loads(admin.stdout)
        replica = {
            "type": "s3",
            "bucket": "replicas",
            "path": "x",
            "endpoint": endpoint,
            "region": "us-east-1",
            "force-path-style": True,
        }
        yield {
            "pid": proc.pid,
            "replicator": keys["replicator"],
            "admin": keys["admin"],
            "role_arn": keys["role_arn"],
            "endpoint": endpoint,
            "replica": replica,
        }
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _answers(endpoint) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _env(extra: dict) -> dict:
    merged = {**os.environ, **extra}
    return {k: v for k, v in merged.items() if v is not None}


def _post_json(server, path, document) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}",
        data=json.dumps(document).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
