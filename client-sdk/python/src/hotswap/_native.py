"""libhotswap through ctypes: the library, its functions' prototypes, and
statuses turned into exceptions. Internal to the package."""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import os
from typing import Callable, Optional, TypeVar

_Self = TypeVar("_Self", bound="Owned")

#: The soname this package is written against (include/hotswap/client.h).
SONAME = "libhotswap.so.0.1"


class Status(enum.IntEnum):
    """hotswap_status."""

    OK = 0
    NOT_FOUND = 1
    TYPE_MISMATCH = 2
    NO_SEGMENT = 3
    NO_SNAPSHOT = 4
    INCOMPATIBLE_LAYOUT = 5
    CORRUPT = 6
    PERMISSION_DENIED = 7
    TIMEOUT = 8
    INVALID_ARGUMENT = 9
    IO = 10
    BUFFER_TOO_SMALL = 11
    BUSY = 12
    NOT_RESIDENT = 13


class ValueType(enum.IntEnum):
    """hotswap_type: how a value is stored."""

    INT64 = 1
    DOUBLE = 2
    BOOL = 3
    STRING = 4
    JSON = 5
    DURATION = 6


class HotswapError(Exception):
    """A call into libhotswap failed; `status` says how, the message why."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(f"{message} ({status.name.lower()})" if message else status.name.lower())
        self.status = status
        self.message = message


class KeyNotFound(HotswapError, KeyError):
    """The active version has no such key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


class TypeMismatch(HotswapError, TypeError):
    """The key holds a value of another type."""


class NotPublished(HotswapError):
    """No sidecar has published the namespace on this host (NO_SEGMENT), or
    nothing is active in it yet (NO_SNAPSHOT)."""


class Timeout(HotswapError, TimeoutError):
    """A wait ended before what it waited for happened."""


_ERRORS = {
    Status.NOT_FOUND: KeyNotFound,
    Status.TYPE_MISMATCH: TypeMismatch,
    Status.NO_SEGMENT: NotPublished,
    Status.NO_SNAPSHOT: NotPublished,
    Status.TIMEOUT: Timeout,
}


class OpenOptions(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("scope", ctypes.c_char_p),
        ("verify_checksum", ctypes.c_int),
        ("copy_up_to", ctypes.c_size_t),
        ("open_timeout_ms", ctypes.c_int64),
    ]


class Entry(ctypes.Structure):
    _fields_ = [
        ("key", ctypes.c_void_p),
        ("key_len", ctypes.c_size_t),
        ("type", ctypes.c_int),
        ("int64_value", ctypes.c_int64),
        ("double_value", ctypes.c_double),
        ("text", ctypes.c_void_p),
        ("text_len", ctypes.c_size_t),
    ]


class HealthScope(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint64), ("start_ns", ctypes.c_int64)]


CHANGE_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_void_p)


def _find_library() -> str:
    explicit = os.environ.get("HOTSWAP_LIBRARY")
    if explicit:
        return explicit
    return ctypes.util.find_library("hotswap") or SONAME


def _load(path: str) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            f"hotswap: cannot load {path} ({e}); install libhotswap (make install) or set "
            "HOTSWAP_LIBRARY to its path"
        ) from e
    P = ctypes.POINTER
    vp, cp, i64, u64, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_uint64, ctypes.c_size_t
    prototypes = {
        "hotswap_status_string": (cp, [ctypes.c_int]),
        "hotswap_last_error": (cp, []),
        "hotswap_open_options_init": (None, [P(OpenOptions)]),
        "hotswap_open_with": (ctypes.c_int, [cp, P(OpenOptions), P(vp)]),
        "hotswap_close": (None, [vp]),
        "hotswap_get_int64": (ctypes.c_int, [vp, cp, P(i64)]),
        "hotswap_get_double": (ctypes.c_int, [vp, cp, P(ctypes.c_double)]),
        "hotswap_get_bool": (ctypes.c_int, [vp, cp, P(ctypes.c_int)]),
        "hotswap_get_duration_ns": (ctypes.c_int, [vp, cp, P(i64)]),
        "hotswap_get_string": (ctypes.c_int, [vp, cp, ctypes.c_char_p, sz, P(sz)]),
        "hotswap_get_type": (ctypes.c_int, [vp, cp, P(ctypes.c_int)]),
        "hotswap_handle_open": (ctypes.c_int, [vp, cp, ctypes.c_int, P(vp)]),
        "hotswap_handle_close": (None, [vp]),
        "hotswap_handle_int64": (ctypes.c_int, [vp, P(i64)]),
        "hotswap_handle_double": (ctypes.c_int, [vp, P(ctypes.c_double)]),
        "hotswap_handle_bool": (ctypes.c_int, [vp, P(ctypes.c_int)]),
        "hotswap_handle_duration_ns": (ctypes.c_int, [vp, P(i64)]),
        "hotswap_version": (ctypes.c_int, [vp, P(u64)]),
        "hotswap_wait_for_change": (ctypes.c_int, [vp, i64, P(u64)]),
        "hotswap_snapshot_open": (ctypes.c_int, [vp, P(vp)]),
        "hotswap_snapshot_close": (None, [vp]),
        "hotswap_snapshot_version": (ctypes.c_int, [vp, P(u64)]),
        "hotswap_snapshot_size": (ctypes.c_int, [vp, P(sz)]),
        "hotswap_snapshot_entry": (ctypes.c_int, [vp, sz, P(Entry)]),
        "hotswap_snapshot_find": (ctypes.c_int, [vp, cp, sz, P(Entry)]),
        "hotswap_on_change": (ctypes.c_int, [vp, CHANGE_CALLBACK, vp, P(vp)]),
        "hotswap_subscription_close": (None, [vp]),
        "hotswap_health_open": (ctypes.c_int, [vp, P(vp)]),
        "hotswap_health_close": (None, [vp]),
        "hotswap_health_error_class": (ctypes.c_int, [cp, P(ctypes.c_uint32)]),
        "hotswap_health_record": (ctypes.c_int, [vp, ctypes.c_int, u64, ctypes.c_uint32]),
        "hotswap_health_start": (ctypes.c_int, [vp, P(HealthScope)]),
        "hotswap_health_finish": (ctypes.c_int, [vp, P(HealthScope), ctypes.c_int, ctypes.c_uint32]),
    }
    for name, (restype, argtypes) in prototypes.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


lib = _load(_find_library())

#: The same library for the reads: called with the GIL held (no release and
#: re-acquire around a call that takes nanoseconds and never blocks) and
#: without argtypes (no per-argument conversion): callers pass c_void_p,
#: bytes, c_size_t and byref() themselves. Measured in docs/benchmarks.md.
fast = ctypes.PyDLL(lib._name)
for _name in ("hotswap_get_int64", "hotswap_get_double", "hotswap_get_bool",
              "hotswap_get_duration_ns", "hotswap_get_string", "hotswap_get_type", "hotswap_handle_int64",
              "hotswap_handle_double", "hotswap_handle_bool", "hotswap_handle_duration_ns",
              "hotswap_snapshot_find", "hotswap_snapshot_entry", "hotswap_health_record"):
    getattr(fast, _name).restype = ctypes.c_int


class Owned:
    """Owns one object of the library: `_ptr` (an int, for the slow calls)
    and `_vp` (the same as c_void_p, for the fast ones, None once closed).
    close() releases it once through the class's `_release`; so do leaving
    a `with` block and garbage collection."""

    _release: Callable[[int], None]
    _ptr: Optional[int] = None
    _vp: Optional[ctypes.c_void_p] = None

    def _adopt(self, out: ctypes.c_void_p) -> None:
        self._ptr = out.value
        self._vp = ctypes.c_void_p(self._ptr)

    def _closed_error(self, status: int) -> Exception:
        """The exception for a failed fast call: ValueError once closed (the
        library saw NULL), else the call's own."""
        if self._vp is None:
            return ValueError(f"the {type(self).__name__} is closed")
        return error(status)

    def close(self) -> None:
        if self._ptr is not None:
            ptr, self._ptr, self._vp = self._ptr, None, None
            self._release(ptr)

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def error(status: int) -> HotswapError:
    """The exception for a failed call's `status`, with the library's
    message of the last failure on this thread."""
    code = Status(status)
    message = (lib.hotswap_last_error() or b"").decode("utf-8", "replace")
    if not message:
        message = lib.hotswap_status_string(status).decode()
    return _ERRORS.get(code, HotswapError)(code, message)


def check(status: int) -> None:
    if status != 0:
        raise error(status)


def text(pointer: Optional[int], length: int) -> str:
    return ctypes.string_at(pointer, length).decode("utf-8") if length else ""
