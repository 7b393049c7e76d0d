"""moto_server, the S3 of the benchmarks: start-up check, bucket and keys, replica entries."""

from __future__ import annotations

import http.client
import json
import subprocess
import time

from .net import free_port
from .paths import MAIN_PY, MOTO_SERVER, S3ADMIN
from .procs import Proc, base_env

BUCKET = "replicas"


def moto_answers(port: int) -> bool:
    """Does moto on port take a request yet?"""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        c.request("GET", "/moto-api/")
        return True
    except OSError:
        return False
    finally:
        c.close()


def s3admin_setup(endpoint: str, bucket: str = BUCKET) -> dict:
    """The bucket, authentication on, and the keys (tests/support/s3admin.py): its JSON."""
    r = subprocess.run(
        [MAIN_PY, S3ADMIN, endpoint, "setup", bucket],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode != 0:
        raise RuntimeError(f"s3admin.py setup failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return json.loads(r.stdout)


def start_moto() -> tuple[Proc, str, dict]:
    """A moto S3 server on loopback with a bucket and a key (tests/support/s3admin.py);
    its request log lines are kept (Proc). (proc, endpoint, the replicator's key)."""
    port = free_port()
    proc = Proc([MOTO_SERVER, "-H", "127.0.0.1", "-p", port], base_env())
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while not moto_answers(port):
            if time.monotonic() > deadline:
                raise RuntimeError("moto did not start:\n" + proc.tail())
            time.sleep(0.05)
        return proc, endpoint, s3admin_setup(endpoint)["replicator"]
    except BaseException:
        proc.stop()
        raise


def s3_replica(endpoint: str, path: str, bucket: str = BUCKET) -> dict:
    """A replica entry (ours and Litestream's own config) for moto."""
    return {
        "type": "s3",
        "bucket": bucket,
        "path": path,
        "endpoint": endpoint,
        "region": "us-east-1",
        "force-path-style": True,
    }
