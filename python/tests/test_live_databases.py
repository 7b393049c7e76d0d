"""Databases attached or detached while Datasette runs (issue #15).

The plugin watches datasette.databases and hands the host a complete new set
of inputs whenever the list changes; the host applies only the difference and
answers each line with one event. The first group pins the plugin's side with
the recording stand-in host; the `host`-marked group runs the real host, real
Litestream 0.3 and 0.5, and (for the served tests) a test plugin
(plugins/live_databases.py) that attaches and detaches databases through
routes, as upload plugins do."""

import asyncio
import json
import signal
from urllib.parse import quote

import pytest
from datasette.app import Datasette
from datasette.database import Database
from markupsafe import escape

import datasette_litestream
from conftest import (
    LITESTREAM,
    TESTS,
    add_rows,
    count_rows,
    make_db,
    real_host_env,
    restore,
    started,
    wait_for,
)
from datasette_litestream import host as host_module

PLUGIN = "datasette-litestream"
PLUGINS_DIR = TESTS / "plugins"
VERSIONS = list(LITESTREAM)
ALLOW_ALL = {"permissions": {"litestream-view-status": True}}
REPLICA = {"replicas": [{"url": "file:///nowhere"}]}


def db_config(**databases):
    return {"databases": {name: {"plugins": {PLUGIN: cfg}} for name, cfg in databases.items()}}


def write_json(path, data):
    # JSON is YAML: Datasette reads either from -m/-c.
    path.write_text(json.dumps(data, indent=2))
    return path


async def until(predicate, timeout: float, what: str, interval: float = 0.05):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def updates(fake_host) -> list:
    return fake_host.read().get("updates", []) if fake_host.record.exists() else []


def names(inputs) -> list:
    return [d["name"] for d in inputs["databases"]]


# ---- the plugin's side, with the stand-in host ----


async def test_added_and_removed_databases_reach_the_host(tmp_path, fake_host):
    one = make_db(tmp_path / "one.db")
    two = make_db(tmp_path / "sub" / "two.db")
    ds = Datasette([str(one)], config=db_config(two=REPLICA))
    async with started(ds):
        state = datasette_litestream.state_for(ds)
        assert fake_host.read()["inputs"]["databases"] == [
            {"name": "one", "path": str(one.resolve()), "plugin_config": None}
        ]
        assert updates(fake_host) == []

        ds.add_database(Database(ds, path=str(two)), name="two")
        sent = await until(lambda: updates(fake_host), 10, "the first update line")
        assert len(sent) == 1
        # A complete set of inputs, as at start-up: the new database with its config.
        assert sent[0]["databases"] == [
            {"name": "one", "path": str(one.resolve()), "plugin_config": None},
            {"name": "two", "path": str(two.resolve()), "plugin_config": REPLICA},
        ]
        assert sent[0]["top_level"] is None
        assert sent[0]["working_directory"] == fake_host.read()["inputs"]["working_directory"]
        await until(lambda: state.host.last_event, 10, "the host's answer")
        assert state.host.last_event == {"event": "applied", "replicated": ["two"], "refused": [], "change": "in-place"}

        # In-memory databases are not replicated: attaching one sends nothing of its
        # own, which shows once the next change (the removal) is the second line.
        ds.add_memory_database("scratch")
        ds.remove_database("two")
        sent = await until(lambda: len(updates(fake_host)) >= 2 and updates(fake_host), 10, "the second update line")
        assert len(sent) == 2, sent
        assert names(sent[1]) == ["one"]
        await until(lambda: state.host.last_event["replicated"] == [], 10, "the answer to the removal")
    assert state.watcher.done()
    assert fake_host.read()["stopped_on"] == "stdin-eof"


@pytest.mark.parametrize("where", ["config", "metadata"])
async def test_config_for_a_database_not_attached_yet_starts_the_host(tmp_path, fake_host, where):
    one = make_db(tmp_path / "one.db")
    ds = Datasette([str(one)], **{where: db_config(later=REPLICA)})
    async with started(ds):
        assert datasette_litestream.state_for(ds).host is not None
        assert fake_host.read()["inputs"]["databases"] == [
            {"name": "one", "path": str(one.resolve()), "plugin_config": None}
        ]
        later = make_db(tmp_path / "later.db")
        ds.add_database(Database(ds, path=str(later)), name="later")
        sent = await until(lambda: updates(fake_host), 10, "the update line")
        assert sent[0]["databases"][1] == {"name": "later", "path": str(later.resolve()), "plugin_config": REPLICA}


async def test_answers_are_kept_not_echoed(tmp_path, fake_host, capsys):
    one = make_db(tmp_path / "one.db")
    ds = Datasette([str(one)], config={"plugins": {PLUGIN: {"all-replicate": ["file:///r/$DB_NAME"]}}})
    async with started(ds):
        host = datasette_litestream.state_for(ds).host
        two = make_db(tmp_path / "two.db")
        answer = await host.update(
            {
                **fake_host.read()["inputs"],
                "databases": [
                    {"name": "one", "path": str(one), "plugin_config": None},
                    {"name": "two", "path": str(two), "plugin_config": None},
                ],
            }
        )
        event = await asyncio.wait_for(answer, 10)
        assert event == {"event": "applied", "replicated": ["one", "two"], "refused": [], "change": "in-place"}
        assert host.last_event == event
        # The host's own human line reaches Datasette's stderr; the event line does not.
        await until(lambda: "fake host: replicating one, two" in capsys.readouterr().err, 10, "the host's stderr line")
    err = capsys.readouterr().err
    assert '"event"' not in err and '"applied"' not in err


async def test_updating_a_host_that_is_gone_is_quiet(tmp_path, fake_host):
    one = make_db(tmp_path / "one.db")
    inputs = {
        "top_level": None,
        "databases": [{"name": "one", "path": str(one), "plugin_config": REPLICA}],
        "working_directory": str(tmp_path),
    }
    host = datasette_litestream.Host()
    await host.start(inputs)
    host.process.kill()
    # Whether the write meets a broken pipe or lands before the host is reaped,
    # nothing is raised and nobody is left waiting for an answer.
    answer = await host.update(inputs)
    if answer is not None:
        await asyncio.wait([answer], timeout=10)
        assert answer.cancelled()
    await host.process.wait()
    assert await host.update(inputs) is None
    await host.stop()
    assert await host.update(inputs) is None


def test_watcher_runs_in_the_serving_loop_without_any_request(tmp_path, serve, fake_host):
    """`datasette serve` with no request at all: a database attached two seconds
    after start-up (by the test plugin's own startup task) still reaches the host."""
    one = make_db(tmp_path / "one.db")
    two = make_db(tmp_path / "two.db")
    meta = write_json(tmp_path / "metadata.yaml", db_config(one=REPLICA))
    env = fake_host.env(LIVE_DATABASES_ADD_LATER=f"two={two}", LIVE_DATABASES_ADD_AFTER="2")
    d = serve([one, "-m", meta, "--plugins-dir", PLUGINS_DIR], env=env)
    sent = wait_for(lambda: updates(fake_host), 30, "the update line (no request made)", interval=0.1)
    assert names(sent[0]) == ["one", "two"]
    wait_for(lambda: "fake host: replicating one" in d.output, 10, "the host's stderr line")
    d.proc.send_signal(signal.SIGTERM)
    d.wait_exit(30)
    assert fake_host.read()["stopped_on"] == "stdin-eof"
    assert '"event"' not in d.output


# ---- the real host and real Litestream ----


def real_env(monkeypatch, version):
    for key, value in real_host_env(version).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


async def status_of(ds) -> dict:
    response = await ds.client.get("/-/litestream-status.json")
    assert response.status_code == 200, response.text
    return response.json()


def replicated(status) -> dict:
    return {entry["name"]: entry.get("replicated") for entry in status.get("databases") or []}


def has_files(directory) -> bool:
    return directory.exists() and any(p.is_file() for p in directory.rglob("*"))


async def next_event(host, previous, timeout=60):
    """The host's answer after `previous` (event objects are new dicts each time)."""
    return await until(lambda: host.last_event is not previous and host.last_event, timeout, "the host's answer")


@pytest.mark.host
@pytest.mark.parametrize("version", VERSIONS)
async def test_each_change_is_answered(tmp_path, monkeypatch, version):
    """In-process Datasette: adding, removing and adding a refused database each get
    one answer, saying what changed: in place on 0.5, by a restart on 0.3."""
    real_env(monkeypatch, version)
    one, two, bad = (make_db(tmp_path / f"{n}.db", rows=1) for n in ("one", "two", "bad"))
    replicas = tmp_path / "replicas"
    config = {
        **ALLOW_ALL,
        "plugins": {PLUGIN: {"all-replicate": [f"file://{replicas}/$DB_NAME"]}},
        **db_config(bad={"replicas": [{"url": f"file://{tmp_path / 'bad-replica'}"}], "replicaz": []}),
    }
    in_place = "in-place" if version == "0.5.17" else "restart"
    async with started(Datasette([str(one)], config=config)) as ds:
        host = datasette_litestream.state_for(ds).host
        assert host.last_event is None

        ds.add_database(Database(ds, path=str(two)), name="two")
        event = await next_event(host, None)
        assert event["event"] == "applied", event
        assert sorted(event["replicated"]) == ["one", "two"]
        assert event["refused"] == []
        assert event["change"] == in_place

        ds.remove_database("two")
        event = await next_event(host, event)
        assert event["event"] == "applied", event
        assert event["replicated"] == ["one"]
        assert event["change"] == in_place

        # Refused alone: the update as a whole is applied, the others keep replicating.
        ds.add_database(Database(ds, path=str(bad)), name="bad")
        event = await next_event(host, event)
        assert event["event"] == "applied", event
        assert event["replicated"] == ["one"]
        assert event["change"] == "none"
        # (On 0.5, also for having two replicas: its own and all-replicate's.)
        assert {e["database"] for e in event["refused"]} == {"bad"}, event
        [error] = [e for e in event["refused"] if "replicaz" in e["key"]]
        assert error["problem"] and error["hint"], error
    assert not (tmp_path / "bad-replica").exists()


@pytest.mark.host
@pytest.mark.parametrize("version", VERSIONS)
async def test_a_database_configured_before_it_is_attached(tmp_path, monkeypatch, version):
    """Only a database that is not attached yet has config: the host starts with
    nothing to replicate, starts Litestream when it is attached and stops it when
    it is detached."""
    real_env(monkeypatch, version)
    one = make_db(tmp_path / "one.db")
    later = make_db(tmp_path / "later.db", rows=3)
    replica = tmp_path / "replica"
    config = {**ALLOW_ALL, **db_config(later={"replicas": [{"url": f"file://{replica}"}]})}
    async with started(Datasette([str(one)], config=config)) as ds:
        host = datasette_litestream.state_for(ds).host
        assert host is not None and host.litestream is False
        assert (await status_of(ds))["litestream"]["state"] != "running"

        idle_wait = host.stop_timeout
        ds.add_database(Database(ds, path=str(later)), name="later")
        event = await next_event(host, None)
        # Litestream started: the host's stop now includes its final sync, and says so.
        grace = event.pop("stop_grace_seconds")
        assert event.pop("durable") == {}  # no database with durable-writes
        assert event == {"event": "applied", "replicated": ["later"], "refused": [], "change": "start"}, event
        assert host.stop_timeout == grace + host_module.STOP_MARGIN > idle_wait, (grace, idle_wait)
        status = await until_status(ds, lambda s: s["litestream"]["state"] == "running", "Litestream to run")
        assert replicated(status)["later"] is True
        await until(lambda: has_files(replica), 30, "files in the replica")

        ds.remove_database("later")
        event = await next_event(host, event)
        event.pop("stop_grace_seconds", None)
        assert event.pop("durable") == {}
        assert event == {"event": "applied", "replicated": [], "refused": [], "change": "stop"}, event


async def until_status(ds, predicate, what, timeout=60):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status = await status_of(ds)
        if predicate(status):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}: {status}")


# Served: a real `datasette serve`, the test plugin's routes, SIGTERM at the end.


def serve_live(serve, tmp_path, dbs, version, config=None, metadata=None):
    args = [*dbs, "-c", write_json(tmp_path / "datasette.yaml", {**ALLOW_ALL, **(config or {})})]
    if metadata is not None:
        args += ["-m", write_json(tmp_path / "metadata.yaml", metadata)]
    d = serve([*args, "--plugins-dir", PLUGINS_DIR], env=real_host_env(version))
    d.wait_ready()
    return d


def status(d) -> dict:
    return d.get_json("/-/litestream-status.json")


def until_served(d, predicate, what, timeout=60) -> dict:
    return wait_for(lambda: (lambda s: predicate(s) and s)(status(d)), timeout, what, interval=0.1)


def attach(d, name, path):
    code, body = d.get(f"/-/test-databases/add?name={quote(name)}&path={quote(str(path))}")
    assert code == 200, body
    assert name in json.loads(body)["databases"]


def detach(d, name):
    code, body = d.get(f"/-/test-databases/remove?name={quote(name)}")
    assert code == 200, body
    assert name not in json.loads(body)["databases"]


def all_replicate(replicas):
    return {"plugins": {PLUGIN: {"all-replicate": [f"file://{replicas}/$DB_NAME"]}}}


@pytest.mark.host
@pytest.mark.parametrize("version", VERSIONS)
def test_attached_database_replicates(tmp_path, serve, version):
    one = make_db(tmp_path / "data" / "one.db", rows=1)
    two = make_db(tmp_path / "data" / "two.db", rows=5)
    replicas = tmp_path / "replicas"
    d = serve_live(serve, tmp_path, [one], version, config=all_replicate(replicas))
    before = until_served(d, lambda s: s["litestream"]["state"] == "running", "Litestream to run")
    assert replicated(before) == {"one": True}

    attach(d, "two", two)
    after = until_served(
        d,
        lambda s: (
            s["litestream"]["state"] == "running" and replicated(s).get("two") is True and has_files(replicas / "two")
        ),
        "the attached database to replicate",
    )
    assert replicated(after) == {"one": True, "two": True}
    if version == "0.5.17":
        # Registered with the running Litestream through its control socket.
        assert after["litestream"]["pid"] == before["litestream"]["pid"]
        assert after["litestream"]["reloads"] == before["litestream"]["reloads"]
    else:
        # 0.3 has no control socket: a graceful restart, counted as a reload, not a failure.
        assert after["litestream"]["reloads"] > before["litestream"]["reloads"]
    assert after["litestream"]["restarts"] == before["litestream"]["restarts"]

    add_rows(two, 100)
    d.proc.send_signal(signal.SIGTERM)
    d.wait_exit(60)
    assert count_rows(restore(version, replicas / "two", tmp_path / "restored-two.db")) == 105
    # Event lines are the plugin's; the user sees the host's own lines.
    assert '"event"' not in d.output


@pytest.mark.host
@pytest.mark.parametrize("version", VERSIONS)
def test_detached_database_leaves_with_its_last_rows(tmp_path, serve, version):
    one = make_db(tmp_path / "data" / "one.db", rows=1)
    two = make_db(tmp_path / "data" / "two.db", rows=5)
    replicas = tmp_path / "replicas"
    d = serve_live(serve, tmp_path, [one, two], version, config=all_replicate(replicas))
    before = until_served(
        d,
        lambda s: (
            s["litestream"]["state"] == "running"
            and replicated(s) == {"one": True, "two": True}
            and has_files(replicas / "two")
        ),
        "both databases to replicate",
    )

    add_rows(two, 100)
    detach(d, "two")
    after = until_served(
        d,
        lambda s: "two" not in replicated(s) and s["litestream"]["state"] == "running",
        "the detached database to leave",
    )
    assert replicated(after) == {"one": True}
    if version == "0.5.17":
        assert after["litestream"]["pid"] == before["litestream"]["pid"]
    # Restored while Datasette still runs: the rows came from the removal's final sync.
    assert count_rows(restore(version, replicas / "two", tmp_path / "restored-two.db")) == 105

    add_rows(one, 10)
    d.proc.send_signal(signal.SIGTERM)
    d.wait_exit(60)
    assert count_rows(restore(version, replicas / "one", tmp_path / "restored-one.db")) == 11


BAD_CONFIGS = {
    "unknown-key": ({"replicas": [{"url": "file://{bad_replica}"}], "replicaz": []}, "replicaz"),
    "number-for-url": ({"replicas": [{"url": 42}]}, "url"),
}


@pytest.mark.host
@pytest.mark.parametrize("bad", list(BAD_CONFIGS))
@pytest.mark.parametrize("version", VERSIONS)
def test_attached_database_with_bad_config_is_refused_alone(tmp_path, serve, version, bad):
    good = make_db(tmp_path / "data" / "good.db", rows=2)
    bad_db = make_db(tmp_path / "data" / "bad.db", rows=2)
    good_replica, bad_replica = tmp_path / "good-replica", tmp_path / "bad-replica"
    bad_config, bad_key = BAD_CONFIGS[bad]
    bad_config = json.loads(json.dumps(bad_config).replace("{bad_replica}", str(bad_replica)))
    metadata = {
        "databases": {
            "good": {"plugins": {PLUGIN: {"replicas": [{"url": f"file://{good_replica}"}]}}},
            "bad": {"plugins": {PLUGIN: bad_config}},
        }
    }
    d = serve_live(serve, tmp_path, [good], version, metadata=metadata)
    before = until_served(d, lambda s: s["litestream"]["state"] == "running", "Litestream to run")
    assert replicated(before) == {"good": True}
    assert not before.get("refused")
    assert d.get("/-/litestream-health")[0] == 200

    attach(d, "bad", bad_db)
    after = until_served(d, lambda s: any(e.get("database") == "bad" for e in s.get("refused") or []), "the refusal")
    [error] = [e for e in after["refused"] if e.get("database") == "bad"]
    assert bad_key in error["key"], error
    assert error["problem"], error
    assert replicated(after).get("good") is True
    assert not replicated(after).get("bad")

    code, reason = d.get("/-/litestream-health")
    assert code == 503, reason
    assert "bad" in reason, reason
    code, page = d.get("/-/litestream-status")
    assert code == 200
    assert "configuration refused" in page
    assert f"<td>bad</td><td>{escape(error['key'])}</td>" in page, page

    add_rows(good, 50)
    d.proc.send_signal(signal.SIGTERM)
    d.wait_exit(60)
    assert count_rows(restore(version, good_replica, tmp_path / "restored-good.db")) == 52
    assert not bad_replica.exists()
