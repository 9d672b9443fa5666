"""A real hotswap-control and hotswap-sidecar on loopback, for the
package's tests (conftest.py) and its read benchmark (bench/python_read.py)."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
import urllib.error
import urllib.request
from typing import Callable, Dict, Optional

ADMIN_TOKEN = "hs_pytest_admin_00000000000000000000000"
NODE_TOKEN = "hs_pytest_node_000000000000000000000000"


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Calls `condition` until it is true (True) or `timeout` seconds pass
    (False), backing off from 1 ms to 50 ms."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def read_line_containing(process: subprocess.Popen, needle: str, timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(deadline - time.monotonic()):
            line = process.stdout.readline().decode()
            if needle in line:
                return line
            if not line:
                break
    raise RuntimeError(f"no line with {needle!r} from {process.args[0]}")


class Control:
    """hotswap-control on free loopback ports, and its REST API."""

    def __init__(self, build: str, data_dir: str) -> None:
        env = dict(os.environ, HOTSWAP_BOOTSTRAP_TOKEN=ADMIN_TOKEN, HOTSWAP_BOOTSTRAP_NODE_TOKEN=NODE_TOKEN)
        self.process = subprocess.Popen(
            [f"{build}/control/hotswap-control", "--data-dir", data_dir, "--http-listen", "127.0.0.1:0",
             "--rpc-listen", "127.0.0.1:0", "--heartbeat-interval-ms", "300", "--log-level", "warn"],
            stdout=subprocess.PIPE, env=env)
        ready = read_line_containing(self.process, "hotswap-control ready", 30)
        fields = dict(part.split("=", 1) for part in ready.split() if "=" in part)
        self.http, self.rpc = fields["http"], fields["rpc"]

    def request(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://{self.http}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as reply:
            return json.loads(reply.read() or b"{}")

    def create_namespace(self, ns: str) -> None:
        tenant, name = ns.split("/")
        try:
            self.request("POST", "/api/v1/tenants", {"name": tenant})
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
        self.request("POST", f"/api/v1/tenants/{tenant}/namespaces", {"name": name})

    def publish_and_deploy(self, ns: str, entries: Dict[str, dict]) -> int:
        version = self.request("POST", f"/api/v1/namespaces/{ns}/versions",
                               {"message": "pytest", "entries": entries})["number"]
        self.request("POST", "/api/v1/deployments", {"namespace": ns, "version": version})
        return version


def start_sidecar(build: str, control: Control, namespaces, cache_dir: str, scope: str) -> subprocess.Popen:
    """hotswap-sidecar subscribed to `namespaces`, reporting health every 200 ms."""
    return subprocess.Popen(
        [f"{build}/sidecar/hotswap-sidecar", "--control", control.rpc, "--node-id", "py-node",
         "--namespaces", ",".join(namespaces), "--cache-dir", cache_dir,
         "--scope", scope, "--health-interval-ms", "200", "--log-level", "warn"],
        env=dict(os.environ, HOTSWAP_NODE_TOKEN=NODE_TOKEN))


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(10)


def remove_scope_segments(scope: str) -> None:
    """Unlinks the shared memory a sidecar of `scope` left (a sidecar keeps
    its segments when it stops: they are the node's last-known-good state)."""
    for name in os.listdir("/dev/shm"):
        if name.startswith(f"hs@{scope}+"):
            try:
                os.unlink(f"/dev/shm/{name}")
            except FileNotFoundError:
                pass
