"""The Python package against a real control and sidecar (conftest.py)."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
import time

import pytest

import hotswap
from cluster import wait_until
from conftest import UNPUBLISHED

ENTRIES = {
    "limit": {"type": "int64", "value": 100},
    "ratio": {"type": "double", "value": 0.25},
    "enabled": {"type": "bool", "value": True},
    "banner": {"type": "string", "value": "grüße"},
    "long": {"type": "string", "value": "x" * 5000},
    "nul": {"type": "string", "value": "a\u0000b"},
    "db.host": {"type": "string", "value": "db1"},
    "db.port": {"type": "int64", "value": 5432},
    "rules": {"type": "json", "value": {"allow": ["a", "b"], "max": 3}},
    "timeout": {"type": "duration", "value": "250ms"},
}


@pytest.fixture(scope="module")
def published(cluster):
    """Version 1 of ENTRIES, read by a client of the sidecar's scope."""
    version = cluster.publish(ENTRIES)

    def active() -> bool:
        try:
            with hotswap.Client(cluster.namespace, scope=cluster.scope) as c:
                return c.version >= version
        except hotswap.NotPublished:
            return False

    assert wait_until(active)
    return version


@pytest.fixture
def client(cluster, published):
    with hotswap.Client(cluster.namespace, scope=cluster.scope) as c:
        yield c


def test_the_installed_package_is_the_one_imported():
    # Not the source tree: `pip install client-sdk/python` put it in place.
    assert "site-packages" in hotswap.__file__, hotswap.__file__


def test_typed_getters_read_every_type(client):
    assert client.get_int("limit") == 100
    assert client.get_float("ratio") == 0.25
    assert client.get_bool("enabled") is True
    assert client.get_str("banner") == "grüße"
    assert client.get_str("long") == "x" * 5000  # longer than the first buffer
    assert client.get_str("nul") == "a\x00b"
    assert client.get("nul") == "a\x00b"
    assert client.get("rules") == {"allow": ["a", "b"], "max": 3}
    assert client.get("timeout") == datetime.timedelta(milliseconds=250)
    assert client.get_json("rules") == {"allow": ["a", "b"], "max": 3}
    assert client.get_duration("timeout") == datetime.timedelta(milliseconds=250)
    assert client.get_duration_ns("timeout") == 250_000_000
    assert client.get("db.port") == 5432
    assert client.get("missing", "fallback") == "fallback"


def test_errors_are_exceptions_naming_the_key(client):
    with pytest.raises(hotswap.KeyNotFound, match="missing") as info:
        client.get_int("missing")
    assert info.value.status == hotswap.Status.NOT_FOUND
    assert isinstance(info.value, KeyError)
    with pytest.raises(hotswap.TypeMismatch, match="banner"):
        client.get_int("banner")
    with pytest.raises(KeyError):
        client.get("missing")


def test_open_names_scope_and_waits_with_a_bound(cluster, published):
    with pytest.raises(hotswap.NotPublished):
        hotswap.Client(cluster.namespace, scope="another-sidecar")
    with pytest.raises(hotswap.HotswapError) as info:
        hotswap.Client(cluster.namespace, scope="Bad+Scope")
    assert info.value.status == hotswap.Status.INVALID_ARGUMENT
    started = time.monotonic()
    with pytest.raises(hotswap.NotPublished, match="waited 200 ms"):
        hotswap.Client("py/absent", scope=cluster.scope, open_timeout=0.2)
    assert time.monotonic() - started >= 0.2


def test_the_scope_comes_from_the_environment_by_default(cluster, published, monkeypatch):
    monkeypatch.setenv("HOTSWAP_SCOPE", cluster.scope)
    with hotswap.Client(cluster.namespace) as c:
        assert c.get_int("limit") == 100


def test_snapshot_is_a_mapping_in_key_order(client):
    with client.snapshot() as snap:
        assert snap.version == client.version
        assert len(snap) == len(ENTRIES)
        assert list(snap) == sorted(ENTRIES, key=lambda k: k.encode())
        assert snap["db.host"] == "db1"
        assert "limit" in snap and "missing" not in snap
        assert snap.get("missing") is None
        assert snap.with_prefix("db.") == {"db.host": "db1", "db.port": 5432}
        as_dict = dict(snap)
        assert as_dict["rules"] == {"allow": ["a", "b"], "max": 3}
        assert as_dict["timeout"] == datetime.timedelta(milliseconds=250)
        assert as_dict["enabled"] is True


def test_handles_snapshots_waits_and_callbacks_follow_new_versions(cluster, client, monkeypatch):
    base = client.version
    seen = []
    failures = []
    changed = threading.Event()

    def on_change(version: int) -> None:
        seen.append(version)
        if version >= base + 1:
            changed.set()
        raise RuntimeError("a failing callback does not stop the next calls")

    handle = client.handle("limit", int)
    timeout_handle = client.handle("timeout", datetime.timedelta)
    assert handle.get() == 100
    old = client.snapshot()
    assert client.wait_for_change(timeout=0.05) is None  # nothing new yet

    monkeypatch.setattr(sys, "unraisablehook", lambda u: failures.append(u.exc_value))
    with client.on_change(on_change):
        entries = dict(ENTRIES, limit={"type": "int64", "value": 200},
                       timeout={"type": "duration", "value": "2s"})
        version = cluster.publish(entries)
        assert client.wait_for_change(timeout=20) == version
        assert changed.wait(20)
    count = len(seen)
    # A third version after close reaches a new subscription, not the old one.
    witness = threading.Event()
    with client.on_change(lambda v: witness.set()):
        cluster.publish(dict(entries, limit={"type": "int64", "value": 300}))
        assert witness.wait(20)
    assert len(seen) == count
    assert failures and isinstance(failures[0], RuntimeError)
    assert handle.get() == 300
    assert timeout_handle.get() == datetime.timedelta(seconds=2)
    assert old["limit"] == 100  # the held version is unchanged
    old.close()
    with pytest.raises(ValueError):
        old["limit"]
    with pytest.raises(TypeError):
        client.handle("banner", str)


def test_handles_and_snapshots_outlive_their_client(cluster, published):
    c = hotswap.Client(cluster.namespace, scope=cluster.scope)
    handle = c.handle("db.port")
    snap = c.snapshot()
    c.close()
    assert handle.get() == 5432
    assert snap["db.host"] == "db1"
    with pytest.raises(ValueError, match="Client is closed"):
        c.get_int("limit")


def test_health_recorded_in_python_reaches_control(cluster, client):
    health = client.health()
    for _ in range(7):
        with health.request():
            pass
    for _ in range(2):
        with health.request() as request:
            request.fail("timeout")
    with pytest.raises(ZeroDivisionError):
        with health.request():
            1 / 0  # an exception counts as an error
    assert request.version == client.version
    version = client.version
    path = f"/api/v1/namespaces/{cluster.namespace}/health?window=5m&version={version}"

    def reported() -> bool:
        counts = cluster.control.request("GET", path)["versions"]
        return bool(counts) and counts[0]["requests"] >= 10

    assert wait_until(reported)
    counts = cluster.control.request("GET", path)["versions"][0]
    assert (counts["requests"], counts["ok"], counts["errors"]) == (10, 7, 3)
    assert counts["error_classes"] == {"timeout": 2}
    with pytest.raises(hotswap.HotswapError) as info:
        health.error_class("not a valid name")
    assert info.value.status == hotswap.Status.INVALID_ARGUMENT
    health.close()


def test_a_namespace_without_a_version_waits_then_reads(cluster):
    # Subscribed by the sidecar, never deployed: open waits for its first
    # version, published from another thread meanwhile.
    opened = {}

    def open_late() -> None:
        opened["client"] = hotswap.Client(UNPUBLISHED, scope=cluster.scope, open_timeout=30)

    waiter = threading.Thread(target=open_late)
    waiter.start()
    cluster.control.publish_and_deploy(UNPUBLISHED, {"late": {"type": "int64", "value": 7}})
    waiter.join(40)
    with opened["client"] as c:
        assert wait_until(lambda: c.get("late", None) == 7)


def test_package_version_matches_the_release():
    expected = os.environ.get("HOTSWAP_RELEASE")
    assert expected, "HOTSWAP_RELEASE names the release the build is"
    assert hotswap.__version__ == expected


def test_the_example_program_prints_the_config_and_follows_a_change(cluster, published):
    example = os.path.join(os.path.dirname(__file__), "../../../examples/python/print_config.py")
    program = subprocess.Popen(
        [sys.executable, example, cluster.namespace, "--scope", cluster.scope, "--follow", "1"],
        stdout=subprocess.PIPE, text=True)
    first = [program.stdout.readline() for _ in range(len(ENTRIES) + 1)]
    assert first[0].startswith("version ")
    assert "db.host = db1\n" in first
    assert "enabled = True\n" in first
    assert any(line.startswith("timeout = 0:00:0") for line in first)  # a timedelta
    version = cluster.publish(dict(ENTRIES, banner={"type": "string", "value": "next"}))
    out, _ = program.communicate(timeout=30)
    assert program.returncode == 0
    assert f"version {version}\n" in out
    assert "banner = next\n" in out
