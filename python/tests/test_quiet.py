"""Quiet outside serve: `datasette` commands that serve nothing (create-token,
plugins, inspect, `serve --get`) start no host and print nothing of ours, while
the plugin is installed and databases have replication config. Datasette runs the
startup hooks for some of them on an event loop it closes right after, with no
shutdown hooks: a host started there outlived the command (and said `nothing to
replicate` after it returned)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import HOST, LITESTREAM, TESTS, make_db

pytestmark = pytest.mark.host


@pytest.fixture
def quiet(tmp_path):
    """Runs a `datasette` command with the plugin and the real host behind a wrapper
    that records every start; returns (exit status, stdout, stderr, host starts)."""
    starts = tmp_path / "host-starts"
    wrapper = tmp_path / "bin" / "datasette-litestream"
    wrapper.parent.mkdir()
    # bash's exec -a keeps the wrapper's path as the host's argv[0]: pgrep finds it.
    wrapper.write_text(f'#!/bin/bash\necho "$$ $*" >> "{starts}"\nexec -a "$0" "{HOST}" "$@"\n')
    wrapper.chmod(0o755)
    db = make_db(tmp_path / "x.db", rows=1)
    meta = tmp_path / "metadata.json"
    meta.write_text(
        json.dumps(
            {"databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [f"file://{tmp_path / 'r'}"]}}}}}
        )
    )
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATASETTE_LITESTREAM_HOST": str(wrapper),
        "LITESTREAM_BIN": str(LITESTREAM["0.5.17"]),
    }

    def run(*args):
        out, err = tmp_path / "stdout", tmp_path / "stderr"
        with open(out, "wb") as o, open(err, "wb") as e:
            code = subprocess.run(
                [sys.executable, str(TESTS / "run_datasette.py"), *map(str, args)],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=o,
                stderr=e,
                timeout=120,
            ).returncode
        left = hosts_running(wrapper)
        # Anything still holding those files would write after the command returned.
        time.sleep(0.5)
        return code, out.read_text(), err.read_text(), starts.read_text() if starts.exists() else "", left

    run.db, run.meta = db, meta
    return run


def hosts_running(wrapper) -> list[str]:
    result = subprocess.run(["pgrep", "-a", "-f", str(wrapper)], capture_output=True, text=True)
    return result.stdout.splitlines()


def ours(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "litestream" in line.lower()]


@pytest.mark.parametrize(
    "command",
    [
        ["create-token", "root", "--secret", "S"],
        ["plugins"],
        ["inspect", "{db}"],
        ["serve", "{db}", "-m", "{meta}", "--get", "/-/versions.json"],
        ["serve", "{db}", "-m", "{meta}", "--get", "/x/items.json"],
    ],
    ids=["create-token", "plugins", "inspect", "get-versions", "get-table"],
)
def test_commands_that_serve_nothing_start_no_host(quiet, command):
    args = [a.format(db=quiet.db, meta=quiet.meta) for a in command]
    code, stdout, stderr, starts, left = quiet(*args)
    assert code == 0, stdout + stderr
    assert ours(stderr) == [], stderr
    assert starts == "", f"the host was started: {starts}"
    assert left == [], left
    if command[0] == "plugins":
        # The plugin is there, all the same.
        assert "datasette_litestream" in stdout


def test_health_through_get_says_why_nothing_replicates(quiet):
    code, stdout, stderr, starts, left = quiet("serve", quiet.db, "-m", quiet.meta, "--get", "/-/litestream-health")
    assert (starts, left, ours(stderr)) == ("", [], [])
    # Not 200 (nothing replicates): --get exits 1, and says why.
    assert code == 1
    assert stdout.strip() == "unhealthy (the reason needs the litestream-view-status permission)", stdout
    code, stdout, _, _, _ = quiet(
        "serve",
        quiet.db,
        "-m",
        quiet.meta,
        "--get",
        "/-/litestream-health",
        "--actor",
        '{"id": "root"}',
        "-s",
        "permissions.litestream-view-status.id",
        "root",
    )
    assert stdout.strip() == (
        "the datasette-litestream host was not started: "
        "`datasette serve --get` serves nothing, so nothing is replicated"
    ), stdout
