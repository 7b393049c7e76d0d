"""The plugin's side of the host contract, against a recording stand-in host
(tests/fake_host.py): what it hands over, how it waits, how it stops, and how
start-up failures reach Datasette. The real host is exercised in test_host.py
and test_serve.py."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from datasette.app import Datasette
from datasette.utils import StartupError

import datasette_litestream
from conftest import HOST, LITESTREAM, _host_contract, free_port, make_db, started, wait_for
from datasette_litestream import host as host_module
from datasette_litestream import program

REPLICA = {"replicas": [{"url": "file:///nowhere"}]}


def db_config(**databases):
    return {"databases": {name: {"plugins": {"datasette-litestream": cfg}} for name, cfg in databases.items()}}


async def test_inputs_are_what_datasette_sees(tmp_path, fake_host, monkeypatch):
    a = make_db(tmp_path / "a" / "same.db")
    b = make_db(tmp_path / "b" / "same.db")
    other = make_db(tmp_path / "real" / "other.db")
    link = tmp_path / "link.db"
    link.symlink_to(other)
    secret = tmp_path / "secret.txt"
    secret.write_text("from-a-file")
    monkeypatch.setenv("DLT_TEST_URL", "file:///from/env")
    config = {
        "plugins": {
            "datasette-litestream": {
                "access-key-id": {"$env": "DLT_TEST_URL"},
                "secret-access-key": {"$file": str(secret)},
            }
        },
        **db_config(same_2={"replicas": [{"url": {"$env": "DLT_TEST_URL"}}]}),
    }
    ds = Datasette([str(a), str(b), str(link)], config=config, memory=True)
    async with started(ds):
        inputs = fake_host.read()["inputs"]
    assert inputs["working_directory"] == os.getcwd()
    assert inputs["top_level"] == {"access-key-id": "file:///from/env", "secret-access-key": "from-a-file"}
    # Datasette's names (stem, then stem_2), resolved paths, no in-memory database.
    assert inputs["databases"] == [
        {"name": "same", "path": str(a.resolve()), "plugin_config": None},
        {"name": "same_2", "path": str(b.resolve()), "plugin_config": {"replicas": [{"url": "file:///from/env"}]}},
        {"name": "link", "path": str(other.resolve()), "plugin_config": None},
    ]


async def test_database_config_does_not_fall_back_to_top_level(tmp_path, fake_host):
    db = make_db(tmp_path / "x.db")
    config = {"plugins": {"datasette-litestream": {"all-replicate": ["file:///r/$DB_NAME"]}}}
    async with started(Datasette([str(db)], config=config)):
        inputs = fake_host.read()["inputs"]
    assert inputs["top_level"] == {"all-replicate": ["file:///r/$DB_NAME"]}
    assert inputs["databases"][0]["plugin_config"] is None


async def test_metadata_plugins_reach_the_host(tmp_path, fake_host):
    db = make_db(tmp_path / "x.db")
    metadata = db_config(x=REPLICA)
    async with started(Datasette([str(db)], metadata=metadata)):
        inputs = fake_host.read()["inputs"]
    assert inputs["databases"][0]["plugin_config"] == REPLICA


async def test_arguments_status_socket_and_stop_on_stdin_eof(tmp_path, fake_host):
    db = make_db(tmp_path / "x.db")
    ds = Datasette([str(db)], config=db_config(x=REPLICA))
    async with started(ds):
        record = fake_host.read()
        # LITESTREAM_BIN and PATH are the host's business, and so is its private
        # directory: the status socket is where its ready line says.
        assert record["argv"] == ["run", "--stdin"]
        socket = Path(datasette_litestream.state_for(ds).host.socket)
        assert socket.name == "status.sock" and socket.parent.name.startswith("fake-host-")
        assert "stopped_on" not in record
    # invoke_shutdown ran the shutdown hook: stdin closed, host gone.
    assert fake_host.read()["stopped_on"] == "stdin-eof"


async def test_litestream_bin_directory_is_searched_last(tmp_path, fake_host, monkeypatch):
    monkeypatch.setenv("PATH", "/first:/second")
    db = make_db(tmp_path / "x.db")
    async with started(Datasette([str(db)], config=db_config(x=REPLICA))):
        path = fake_host.read()["path"].split(os.pathsep)
    assert path[:2] == ["/first", "/second"]
    assert str(program.script_dirs()[0]) in path[2:]


async def test_no_config_still_starts_the_host_which_decides(tmp_path, fake_host):
    # Whether anything is to be replicated is the host's decision, not the plugin's.
    db = make_db(tmp_path / "x.db")
    async with started(Datasette([str(db)], config={"databases": {"x": {"title": "X"}}})) as ds:
        assert datasette_litestream.state_for(ds).host is not None
    recorded = json.loads(fake_host.record.read_text())
    assert recorded["inputs"]["top_level"] is None
    assert [d["plugin_config"] for d in recorded["inputs"]["databases"]] == [None]


async def test_bad_config_stops_startup_with_the_hosts_errors(tmp_path, fake_host, monkeypatch):
    monkeypatch.setenv("FAKE_HOST_MODE", "bad-config")
    db = make_db(tmp_path / "x.db")
    ds = Datasette([str(db)], config=db_config(x={"replicaz": []}))
    with pytest.raises(StartupError) as e:
        await ds.invoke_startup()
    message = str(e.value)
    assert message.startswith("the datasette-litestream configuration is not valid:")
    assert 'database "x", key "replicaz": unknown key (did you mean "replicas"?)' in message


async def test_host_crash_before_ready_reports_status_and_output(tmp_path, fake_host, monkeypatch):
    monkeypatch.setenv("FAKE_HOST_MODE", "crash")
    db = make_db(tmp_path / "x.db")
    ds = Datasette([str(db)], config=db_config(x=REPLICA))
    with pytest.raises(StartupError) as e:
        await ds.invoke_startup()
    assert "exited with status 1 before it was ready" in str(e.value)
    assert "it exploded" in str(e.value)


async def test_host_that_never_gets_ready_times_out(tmp_path, fake_host, monkeypatch):
    monkeypatch.setenv("FAKE_HOST_MODE", "silent")
    monkeypatch.setattr(host_module, "READY_TIMEOUT", 0.5)
    db = make_db(tmp_path / "x.db")
    ds = Datasette([str(db)], config=db_config(x=REPLICA))
    with pytest.raises(StartupError) as e:
        await ds.invoke_startup()
    assert "did not report ready within 0.5 s" in str(e.value)


async def test_missing_host_binary_is_a_startup_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DATASETTE_LITESTREAM_HOST", str(tmp_path / "missing"))
    db = make_db(tmp_path / "x.db")
    ds = Datasette([str(db)], config=db_config(x=REPLICA))
    with pytest.raises(StartupError) as e:
        await ds.invoke_startup()
    assert "cannot start the host program" in str(e.value)


async def test_unreadable_file_secret_is_a_startup_error(tmp_path, fake_host):
    db = make_db(tmp_path / "x.db")
    config = {"plugins": {"datasette-litestream": {"secret-access-key": {"$file": str(tmp_path / "nope")}}}}
    ds = Datasette([str(db)], config=config)
    with pytest.raises(StartupError) as e:
        await ds.invoke_startup()
    assert "cannot read its configuration" in str(e.value)


async def test_status_page_when_host_is_unreachable(tmp_path, fake_host):
    # The stand-in serves no status socket: the page says so instead of failing.
    db = make_db(tmp_path / "x.db")
    config = {**db_config(x=REPLICA), "permissions": {"litestream-view-status": True}}
    async with started(Datasette([str(db)], config=config)) as ds:
        response = await ds.client.get("/-/litestream-status.json")
        assert response.status_code == 503
        assert "cannot reach the datasette-litestream host" in response.json()["reason"]
        page = await ds.client.get("/-/litestream-status")
        assert page.status_code == 503
        assert "cannot reach the datasette-litestream host" in page.text


@pytest.fixture(scope="module")
def real_status(tmp_path_factory):
    """The status document the real host serves (`run --status-addr`, Litestream 0.5,
    metrics on, a secret in the config), fetched once: the plugin's view is tested on
    what the host really sends, never on a hand-written copy that can drift."""
    import signal
    import urllib.request

    missing = _host_contract()
    if missing is not None:
        raise pytest.UsageError(f"the status-document tests need the real host: {missing}")
    d = tmp_path_factory.mktemp("real-status")
    make_db(d / "x.db", rows=1)
    port, metrics_port = free_port(), free_port()
    (d / "metadata.json").write_text(
        json.dumps(
            {
                "plugins": {
                    "datasette-litestream": {
                        "access-key-id": "AKIDREAL",
                        "secret-access-key": "hunter2-planted-secret",
                        "metrics-addr": f"127.0.0.1:{metrics_port}",
                    }
                },
                "databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [f"file://{d / 'replica'}"]}}}},
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    log = open(d / "host.log", "w")
    proc = subprocess.Popen(
        [
            HOST,
            "run",
            "x.db",
            "-m",
            "metadata.json",
            "--status-addr",
            f"127.0.0.1:{port}",
            "--litestream",
            str(LITESTREAM["0.5.17"]),
        ],
        cwd=d,
        env=env,
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )

    def fetch(path):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.read().decode()

    def complete():
        try:
            doc = json.loads(fetch("/-/litestream-status.json"))
        except OSError:
            return False
        return doc.get("metrics") and doc.get("health", {}).get("ok") and doc.get("logs")

    try:
        wait_for(complete, 30, "the real host's status with metrics, health and logs")
        doc = json.loads(fetch("/-/litestream-status.json"))
        body = fetch("/-/litestream-status.body")
        page = fetch("/-/litestream-status")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(40)
        log.close()
    for text in (json.dumps(doc), body, page):
        assert "hunter2-planted-secret" not in text
    return {"json": doc, "body": body, "page": page}


async def served_status(tmp_path, monkeypatch, real_status) -> tuple[dict, str]:
    """The plugin's status JSON and page for a host that answers as the real one did."""
    (tmp_path / "status.json").write_text(json.dumps(real_status["json"]))
    (tmp_path / "body.html").write_text(real_status["body"])
    monkeypatch.setenv("FAKE_HOST_STATUS", str(tmp_path / "status.json"))
    monkeypatch.setenv("FAKE_HOST_BODY", str(tmp_path / "body.html"))
    db = make_db(tmp_path / "x.db")
    config = {**db_config(x=REPLICA), "permissions": {"litestream-view-status": True}}
    async with started(Datasette([str(db)], config=config)) as ds:
        response = await ds.client.get("/-/litestream-status.json")
        assert response.status_code == 200
        page = await ds.client.get("/-/litestream-status")
        assert page.status_code == 200
        return response.json(), page.text


async def test_status_document_passes_through(tmp_path, fake_host, monkeypatch, real_status):
    served, _ = await served_status(tmp_path, monkeypatch, real_status)
    assert served == real_status["json"]


async def test_the_page_is_the_hosts_body_in_datasettes_chrome(tmp_path, fake_host, monkeypatch, real_status):
    """One renderer: inside Datasette the page shows exactly the body the host's own
    standalone page shows, unescaped, in Datasette's header, footer and stylesheet."""
    _, html = await served_status(tmp_path, monkeypatch, real_status)
    body = real_status["body"]
    assert body.startswith('<div class="litestream-status">') and body in html
    assert body in real_status["page"]
    assert '<header class="hd">' in html and '<footer class="ft">' in html and "app.css" in html
    assert '<a href="/-/litestream-status.json">This page as JSON</a>' in html
    for section in ("health", "process", "databases", "metrics", "config", "logs"):
        assert f'id="{section}"' in html
