"""The fixtures of the package's tests: a real control and sidecar.

HOTSWAP_BUILD_DIR names the build holding the binaries; HOTSWAP_LIBRARY
the libhotswap.so the package loads (run_tests.sh sets both)."""

from __future__ import annotations

import os
import tempfile
from typing import Dict, Iterator

import pytest

from cluster import Control, remove_scope_segments, start_sidecar, stop

NAMESPACE = "py/app"
UNPUBLISHED = "py/never-deployed"


class Cluster:
    def __init__(self, control: Control, scope: str) -> None:
        self.control = control
        self.scope = scope
        self.namespace = NAMESPACE

    def publish(self, entries: Dict[str, dict]) -> int:
        """Publishes and deploys `entries` ({key: {"type", "value"}})."""
        return self.control.publish_and_deploy(self.namespace, entries)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    build = os.environ["HOTSWAP_BUILD_DIR"]
    with tempfile.TemporaryDirectory(prefix="hotswap-pytest-") as work:
        control = Control(build, f"{work}/control")
        scope = f"pytest-{os.getpid()}"
        sidecar = None
        try:
            control.create_namespace(NAMESPACE)
            control.create_namespace(UNPUBLISHED)
            sidecar = start_sidecar(build, control, [NAMESPACE, UNPUBLISHED], f"{work}/cache", scope)
            yield Cluster(control, scope)
        finally:
            if sidecar is not None:
                stop(sidecar)
            stop(control.process)
            remove_scope_segments(scope)
