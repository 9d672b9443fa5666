"""hotswap: configuration a hotswap sidecar publishes, read lock-free from
shared memory through libhotswap (no compiler needed: ctypes).

    import hotswap
    client = hotswap.Client("acme/checkout-prod", scope="prod")
    limit = client.get_int("rate_limit")
    with client.snapshot() as config:
        print(config.version, dict(config))
"""

from ._native import (
    HotswapError,
    KeyNotFound,
    NotPublished,
    Status,
    Timeout,
    TypeMismatch,
    ValueType,
)
from .client import Client, Handle, Snapshot, Subscription, Value
from .health import HealthRecorder, Request

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Handle",
    "HealthRecorder",
    "HotswapError",
    "KeyNotFound",
    "NotPublished",
    "Request",
    "Snapshot",
    "Status",
    "Subscription",
    "Timeout",
    "TypeMismatch",
    "Value",
    "ValueType",
]
