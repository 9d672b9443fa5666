"""Recording request outcomes for rollout gates (include/hotswap/health.h)."""

from __future__ import annotations

import ctypes
from typing import Dict, Optional

from ._native import HealthScope, Owned, check, fast, lib

_record = fast.hotswap_health_record

_OK, _ERROR = 0, 1


class HealthRecorder(Owned):
    """Counts each request's outcome and latency against the version it
    read, in this process's health segment, which the sidecar reports to
    control for canary gates. Recording takes no lock and makes no system
    call. Made by Client.health()."""

    _release = lib.hotswap_health_close

    def __init__(self, client: "object") -> None:
        out = ctypes.c_void_p()
        check(lib.hotswap_health_open(client._open(), ctypes.byref(out)))  # type: ignore[attr-defined]
        self._adopt(out)
        self._classes: Dict[str, int] = {}

    def error_class(self, name: str) -> int:
        """The id of an error class (at most 15 names per process, 1-47 of
        [A-Za-z0-9._:-]); registered on first use."""
        found = self._classes.get(name)
        if found is None:
            out = ctypes.c_uint32()
            check(lib.hotswap_health_error_class(name.encode(), ctypes.byref(out)))
            found = self._classes[name] = out.value
        return found

    def record(self, ok: bool, latency: float, error_class: Optional[str] = None) -> None:
        """One outcome against the version active now; `latency` in seconds."""
        class_id = self.error_class(error_class) if error_class and not ok else 0
        status = _record(self._vp, _OK if ok else _ERROR,
                         ctypes.c_uint64(max(0, int(latency * 1_000_000))), ctypes.c_uint32(class_id))
        if status:
            raise self._closed_error(status)

    def request(self) -> "Request":
        """A request in progress, as a context manager: it counts against the
        version active when it starts, its latency is measured, and it is
        recorded on exit: an error if the block raised or fail() was called,
        else a success."""
        return Request(self)

    def _live(self) -> int:
        if self._ptr is None:
            raise ValueError("the HealthRecorder is closed")
        return self._ptr


class Request:
    """One request being served (HealthRecorder.request)."""

    def __init__(self, recorder: HealthRecorder) -> None:
        self._recorder = recorder
        self._scope = HealthScope()
        self._failed: Optional[str] = None

    @property
    def version(self) -> int:
        """The version this request counts against."""
        return self._scope.version

    def fail(self, error_class: str = "") -> None:
        """Records the request as an error (of `error_class`, if named)."""
        self._failed = error_class

    def __enter__(self) -> "Request":
        check(lib.hotswap_health_start(self._recorder._live(), ctypes.byref(self._scope)))
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        failed = self._failed is not None or exc_type is not None
        class_id = self._recorder.error_class(self._failed) if self._failed else 0
        check(
            lib.hotswap_health_finish(
                self._recorder._live(), ctypes.byref(self._scope), _ERROR if failed else _OK, class_id
            )
        )
