"""Stopping the host with Datasette, against the recording stand-in host:

- the plugin waits for the host as long as its ready line says its stop may take
  (`stop_grace_seconds`) plus a margin, never less (the final sync is not cut short,
  as the old fixed 20 s did) and never much more (Datasette's shutdown never hangs);
- a host that stopped without its final sync confirmed (exit 3) makes a serving
  `datasette serve` exit 3 after its orderly shutdown, with one error line."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from datasette.app import Datasette

import datasette_litestream
from conftest import FakeHost, make_db, started
from datasette_litestream.host import STOP_MARGIN, STOP_TIMEOUT_FALLBACK, Host, stop_timeout_from
from test_serve import replicated_metadata, write_yaml

INPUTS = {"top_level": None, "databases": [], "working_directory": "/"}


def test_the_wait_follows_the_hosts_word():
    assert stop_timeout_from({"stop_grace_seconds": 15}) == 15 + STOP_MARGIN
    assert stop_timeout_from({"stop_grace_seconds": 0.5}) == 0.5 + STOP_MARGIN
    # An older host says nothing; nonsense counts as nothing.
    assert STOP_TIMEOUT_FALLBACK == 45
    for nonsense in (
        {},
        {"stop_grace_seconds": "15"},
        {"stop_grace_seconds": True},
        {"stop_grace_seconds": -1},
        {"stop_grace_seconds": float("inf")},
        {"stop_grace_seconds": None},
    ):
        assert stop_timeout_from(nonsense) == STOP_TIMEOUT_FALLBACK, nonsense
    host = Host()
    assert host.stop_timeout == STOP_TIMEOUT_FALLBACK
    # An "applied" event that starts (or stops) Litestream says the new longest stop.
    host._on_event(
        {"event": "applied", "replicated": ["x"], "refused": [], "change": "start", "stop_grace_seconds": 35}
    )
    assert host.stop_timeout == 35 + STOP_MARGIN
    host._on_event({"event": "applied", "replicated": [], "refused": [], "change": "none"})
    assert host.stop_timeout == 35 + STOP_MARGIN


async def start_fake(tmp_path, monkeypatch, name, **env) -> tuple[Host, FakeHost]:
    fake = FakeHost(tmp_path / name)
    for key, value in fake.env(**env).items():
        monkeypatch.setenv(key, value)
    host = Host()
    await host.start(INPUTS)
    return host, fake


async def timed_stop(host: Host) -> float:
    started_at = time.monotonic()
    await host.stop()
    return time.monotonic() - started_at


async def test_stop_waits_for_the_hosts_grace_and_no_longer(tmp_path, monkeypatch):
    """Two hosts stopped at once (one wait for both): one whose stop takes 21 s, more
    than the old fixed 20 s, within its grace of 15 s + 10: waited for, not signalled;
    one that says 0.5 s and never stops: SIGTERM after 10.5 s."""
    for name in ("slow", "stuck"):
        (tmp_path / name).mkdir()
    slow, slow_fake = await start_fake(
        tmp_path, monkeypatch, "slow", FAKE_HOST_STOP_GRACE="15", FAKE_HOST_STOP_DELAY="21"
    )
    stuck, stuck_fake = await start_fake(
        tmp_path, monkeypatch, "stuck", FAKE_HOST_STOP_GRACE="0.5", FAKE_HOST_STOP_DELAY="3600"
    )
    assert (slow.stop_timeout, stuck.stop_timeout) == (25, 10.5)
    slow_took, stuck_took = await asyncio.gather(timed_stop(slow), timed_stop(stuck))

    assert slow_fake.read()["stopped_on"] == "stdin-eof"
    assert slow.exit_code == 0 and 21 <= slow_took < 25, slow_took

    record = stuck_fake.read()
    assert record["stopped_on"] == "sigterm", record
    assert 10.5 <= record["stop_took"] < 12 and stuck_took < 13, (record, stuck_took)


async def test_an_unconfirmed_final_sync_is_said_when_embedded(tmp_path, fake_host, monkeypatch, capfd):
    """Embedded (here: a test runner), the process is not the plugin's to end: the
    error line is printed, and the embedding program goes on."""
    monkeypatch.setenv("FAKE_HOST_EXIT_CODE", "3")
    db = make_db(tmp_path / "x.db")
    async with started(Datasette([str(db)])) as ds:
        host = datasette_litestream.state_for(ds).host
    assert host.exit_code == 3
    err = capfd.readouterr().err
    assert 'the final sync of "x" was not confirmed' in err
    lines = [line for line in err.splitlines() if line.startswith("datasette-litestream: error:")]
    assert lines == [
        "datasette-litestream: error: the final sync was not confirmed for every database "
        "(see the host's lines above); their last writes may be missing from the replica"
    ], err
    assert os.getpid()  # still here


def test_an_unconfirmed_final_sync_makes_datasette_exit_3(tmp_path, serve, fake_host):
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", tmp_path / "replica"))
    d = serve([db, "-m", meta], env=fake_host.env(FAKE_HOST_EXIT_CODE="3"))
    d.wait_ready()
    d.proc.send_signal(signal.SIGTERM)
    assert d.wait_exit(30) == 3, d.output
    assert fake_host.read()["stopped_on"] == "stdin-eof"
    # In order: uvicorn shut the server down and ran Datasette's shutdown hooks (the
    # plugin's last), the host said which database, then the plugin's one line.
    out = d.output
    assert out.index("Waiting for application shutdown") < out.index('the final sync of "x" was not confirmed'), out
    lines = [line for line in d.output.splitlines() if line.startswith("datasette-litestream: error:")]
    assert lines == [
        "datasette-litestream: error: the final sync was not confirmed for every database "
        "(see the host's lines above); their last writes may be missing from the replica; exiting with status 3"
    ], d.output


def test_a_confirmed_stop_ends_datasette_as_usual(tmp_path, serve, fake_host):
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", tmp_path / "replica"))
    d = serve([db, "-m", meta], env=fake_host.env())
    d.wait_ready()
    d.proc.send_signal(signal.SIGTERM)
    # uvicorn re-raises the SIGTERM it handled once it has shut down.
    assert d.wait_exit(30) in (0, -signal.SIGTERM), d.output
    assert "datasette-litestream: error" not in d.output


def test_a_host_stopping_by_itself_unconfirmed_ends_datasette_with_3(tmp_path, serve, fake_host):
    """Someone else stopped the host (a SIGTERM to it alone) and its final sync was
    not confirmed: Datasette stops too, with the same status."""
    db = make_db(tmp_path / "x.db")
    meta = write_yaml(tmp_path / "metadata.yaml", replicated_metadata("x", tmp_path / "replica"))
    d = serve([db, "-m", meta], env=fake_host.env("fail-later", FAKE_HOST_FAIL_AFTER="1.5", FAKE_HOST_FAIL_CODE="3"))
    assert d.wait_exit(60) == 3, d.output
    assert "the replication host exited with status 3; stopping Datasette" in d.output
