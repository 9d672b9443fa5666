"""Client, Handle, Snapshot and Subscription over libhotswap's C API."""

from __future__ import annotations

import ctypes
import datetime
import json
import sys
import threading
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterator, Optional, Type, Union

from . import _native
from ._native import Entry, KeyNotFound, Owned, Status, ValueType, check, fast, lib

_c_int64, _c_double, _c_int, _c_size_t, _byref = (
    ctypes.c_int64, ctypes.c_double, ctypes.c_int, ctypes.c_size_t, ctypes.byref)
_snapshot_find, _snapshot_entry = fast.hotswap_snapshot_find, fast.hotswap_snapshot_entry
_get_int64, _get_double, _get_bool, _get_duration_ns, _get_string, _get_type = (
    fast.hotswap_get_int64, fast.hotswap_get_double, fast.hotswap_get_bool,
    fast.hotswap_get_duration_ns, fast.hotswap_get_string, fast.hotswap_get_type)

#: A value as Python sees it: int (INT64), float (DOUBLE), bool (BOOL), str
#: (STRING), the decoded document (JSON), datetime.timedelta (DURATION).
Value = Any

_MISSING = object()
_per_thread = threading.local()


def _string_buffer(size: int) -> tuple:
    """This thread's buffer for copying strings out, at least `size` bytes,
    and its capacity as a c_size_t. Per thread, so no other thread writes it
    between a copy and its read."""
    held = getattr(_per_thread, "buf", None)
    if held is None or len(held[0]) < size:
        buf = ctypes.create_string_buffer(max(size, 4096))
        held = _per_thread.buf = (buf, _c_size_t(len(buf)))
    return held


def _duration(ns: int) -> datetime.timedelta:
    return datetime.timedelta(microseconds=ns / 1000)


def _entry_value(entry: Entry) -> Value:
    kind = entry.type
    if kind == ValueType.INT64:
        return entry.int64_value
    if kind == ValueType.DOUBLE:
        return entry.double_value
    if kind == ValueType.BOOL:
        return bool(entry.int64_value)
    if kind == ValueType.DURATION:
        return _duration(entry.int64_value)
    text = _native.text(entry.text, entry.text_len)
    return json.loads(text) if kind == ValueType.JSON else text


class Client(Owned):
    """An open namespace: reads its active version from the shared memory a
    sidecar on this host publishes, without a system call. Safe to use from
    any number of threads. Close it (or use it as a context manager) to
    release it at once; it is also released when collected. Handles and
    Snapshots taken from it keep working after it is closed.

    `scope` is the sidecar's --scope (None: the HOTSWAP_SCOPE environment
    variable, if set). `open_timeout` (seconds) waits for a sidecar that has
    not published the namespace yet. Raises NotPublished if no sidecar
    publishes it, HotswapError(INVALID_ARGUMENT) for a bad name or scope.
    """

    def __init__(
        self,
        namespace: str,
        *,
        scope: Optional[str] = None,
        verify_checksum: bool = True,
        copy_up_to: int = 16 << 20,
        open_timeout: float = 0.0,
    ) -> None:
        options = _native.OpenOptions()
        lib.hotswap_open_options_init(ctypes.byref(options))
        options.scope = scope.encode() if scope else None
        options.verify_checksum = 1 if verify_checksum else 0
        options.copy_up_to = copy_up_to
        options.open_timeout_ms = int(open_timeout * 1000)
        out = ctypes.c_void_p()
        check(lib.hotswap_open_with(namespace.encode(), ctypes.byref(options), ctypes.byref(out)))
        self._adopt(out)
        self.namespace = namespace

    _release = lib.hotswap_close

    def _open(self) -> int:
        if self._ptr is None:
            raise ValueError("the Client is closed")
        return self._ptr

    # ---- typed reads of the active version ----

    def get_int(self, key: str) -> int:
        out = _c_int64()
        status = _get_int64(self._vp, key.encode(), _byref(out))
        if status:
            raise self._closed_error(status)
        return out.value

    def get_float(self, key: str) -> float:
        out = _c_double()
        status = _get_double(self._vp, key.encode(), _byref(out))
        if status:
            raise self._closed_error(status)
        return out.value

    def get_bool(self, key: str) -> bool:
        out = _c_int()
        status = _get_bool(self._vp, key.encode(), _byref(out))
        if status:
            raise self._closed_error(status)
        return bool(out.value)

    def get_duration_ns(self, key: str) -> int:
        out = _c_int64()
        status = _get_duration_ns(self._vp, key.encode(), _byref(out))
        if status:
            raise self._closed_error(status)
        return out.value

    def get_duration(self, key: str) -> datetime.timedelta:
        """A DURATION value (microsecond precision; get_duration_ns is exact)."""
        return _duration(self.get_duration_ns(key))

    def get_str(self, key: str) -> str:
        """A STRING value (or the text of a JSON one)."""
        vp, encoded = self._vp, key.encode()
        length = _c_size_t()
        buf, cap = _string_buffer(0)
        status = _get_string(vp, encoded, buf, cap, _byref(length))
        while status == Status.BUFFER_TOO_SMALL:  # a longer value: once more, large enough
            buf, cap = _string_buffer(length.value + 1)
            status = _get_string(vp, encoded, buf, cap, _byref(length))
        if status:
            raise self._closed_error(status)
        text = buf.value  # up to the first NUL: the whole value unless it holds one
        if len(text) != length.value:
            text = ctypes.string_at(buf, length.value)
        return text.decode("utf-8")

    def get_json(self, key: str) -> Any:
        """A JSON value, decoded."""
        return json.loads(self.get_str(key))

    def get(self, key: str, default: Any = _MISSING) -> Value:
        """The key's value whatever its type (see Value), or `default` if the
        active version lacks it (KeyNotFound when no default is given)."""
        kind = _c_int()
        status = _get_type(self._vp, key.encode(), _byref(kind))
        if status == Status.NOT_FOUND and default is not _MISSING:
            return default
        if status:
            raise self._closed_error(status)
        try:
            return _TYPED_GETTERS[kind.value](self, key)
        except (_native.TypeMismatch, KeyNotFound):
            # A version with another type or without the key became active
            # between the two reads: read again from the new one.
            return self.get(key, default)

    # ---- versions ----

    @property
    def version(self) -> int:
        """The active version's number (NotPublished if none is active)."""
        out = ctypes.c_uint64()
        check(lib.hotswap_version(self._open(), ctypes.byref(out)))
        return out.value

    def wait_for_change(self, timeout: Optional[float] = None) -> Optional[int]:
        """Blocks (in the kernel, the GIL released) until the active version
        changes after the previous wait returned (or after open); the new
        version, or None once `timeout` seconds pass (None: wait for ever)."""
        out = ctypes.c_uint64()
        ptr = self._open()
        while True:
            chunk_ms = 3_600_000 if timeout is None else max(0, int(timeout * 1000))
            status = lib.hotswap_wait_for_change(ptr, chunk_ms, ctypes.byref(out))
            if status == Status.TIMEOUT:
                if timeout is None:
                    continue
                return None
            check(status)
            return out.value

    # ---- handles, snapshots, callbacks ----

    def handle(self, key: str, kind: Union[Type[int], Type[float], Type[bool], Type[datetime.timedelta]] = int) -> "Handle":
        """A key resolved once and read again cheaply; follows new versions."""
        return Handle(self, key, kind)

    def snapshot(self) -> "Snapshot":
        """The active version as a read-only Mapping that later publishes do
        not change."""
        return Snapshot(self)

    def on_change(self, callback: Callable[[int], None]) -> "Subscription":
        """Calls `callback(version)` on the SDK's watcher thread after each
        change of the active version, until the Subscription is closed."""
        return Subscription(self, callback)

    def health(self) -> "HealthRecorder":
        """The recorder of request outcomes for this namespace's rollouts."""
        from .health import HealthRecorder

        return HealthRecorder(self)


_TYPED_GETTERS: Dict[int, Callable[[Client, str], Value]] = {
    ValueType.INT64: Client.get_int,
    ValueType.DOUBLE: Client.get_float,
    ValueType.BOOL: Client.get_bool,
    ValueType.STRING: Client.get_str,
    ValueType.JSON: Client.get_json,
    ValueType.DURATION: Client.get_duration,
}

_HANDLE_READERS: Dict[type, Any] = {
    int: (ValueType.INT64, fast.hotswap_handle_int64, _c_int64, None),
    float: (ValueType.DOUBLE, fast.hotswap_handle_double, _c_double, None),
    bool: (ValueType.BOOL, fast.hotswap_handle_bool, _c_int, bool),
    datetime.timedelta: (ValueType.DURATION, fast.hotswap_handle_duration_ns, _c_int64, _duration),
}


class Handle(Owned):
    """One scalar key (int, float, bool or datetime.timedelta), resolved
    once: get() reads it from the active version without looking the key
    up again. Follows new versions; may outlive its Client."""

    _release = lib.hotswap_handle_close

    def __init__(self, client: Client, key: str, kind: type) -> None:
        if kind not in _HANDLE_READERS:
            raise TypeError("handles read int, float, bool or datetime.timedelta keys")
        value_type, self._read, self._out_type, self._convert = _HANDLE_READERS[kind]
        out = ctypes.c_void_p()
        check(lib.hotswap_handle_open(client._open(), key.encode(), value_type, ctypes.byref(out)))
        self._adopt(out)
        self.key = key

    def get(self) -> Any:
        out = self._out_type()
        status = self._read(self._vp, _byref(out))
        if status:
            raise self._closed_error(status)
        return out.value if self._convert is None else self._convert(out.value)


class Snapshot(Owned, Mapping):
    """One version, held: a read-only Mapping from key to Value, iterated in
    key order (bytewise). Keeps the version readable until closed (or
    collected), also after its Client is closed."""

    _release = lib.hotswap_snapshot_close

    def __init__(self, client: Client) -> None:
        out = ctypes.c_void_p()
        check(lib.hotswap_snapshot_open(client._open(), ctypes.byref(out)))
        self._adopt(out)
        version, size = ctypes.c_uint64(), ctypes.c_size_t()
        check(lib.hotswap_snapshot_version(self._ptr, ctypes.byref(version)))
        check(lib.hotswap_snapshot_size(self._ptr, ctypes.byref(size)))
        self.version: int = version.value
        self._size = size.value

    def _live(self) -> int:
        if self._ptr is None:
            raise ValueError("the Snapshot is closed")
        return self._ptr

    def __getitem__(self, key: str) -> Value:
        entry = Entry()
        encoded = key.encode()
        status = _snapshot_find(self._vp, encoded, _c_size_t(len(encoded)), _byref(entry))
        if status:
            raise self._closed_error(status)
        return _entry_value(entry)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyNotFound:
            return False
        return True

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        for _, key, _ in self._entries():
            yield key

    def items(self):  # type: ignore[override]
        """(key, value) pairs in key order, each entry read once."""
        return [(key, _entry_value(entry)) for _, key, entry in self._entries()]

    def with_prefix(self, prefix: str) -> Dict[str, Value]:
        """The keys starting with `prefix` and their values."""
        return {key: value for key, value in self.items() if key.startswith(prefix)}

    def _entries(self) -> Iterator[tuple]:
        entry = Entry()
        self._live()
        vp, ref = self._vp, _byref(entry)
        for index in range(self._size):
            check(_snapshot_entry(vp, _c_size_t(index), ref))
            yield index, _native.text(entry.key, entry.key_len), entry


class Subscription(Owned):
    """One on_change registration. close() unregisters it: when it returns
    the callback is not running and will not run again. An exception the
    callback raises is reported through sys.unraisablehook and does not
    stop later calls. Calls stop when its Client is closed (the Client's
    watcher thread makes them); it keeps the Client from being collected."""

    _release = lib.hotswap_subscription_close

    def __init__(self, client: Client, callback: Callable[[int], None]) -> None:
        self._client = client

        def trampoline(version: int, _user_data: Optional[int]) -> None:
            try:
                callback(version)
            except BaseException as e:  # noqa: B902 - must not unwind into C
                sys.unraisablehook(_Unraisable(e, callback))  # type: ignore[arg-type]

        # Kept referenced: the library calls it until close.
        self._callback = _native.CHANGE_CALLBACK(trampoline)
        out = ctypes.c_void_p()
        check(lib.hotswap_on_change(client._open(), self._callback, None, ctypes.byref(out)))
        self._adopt(out)


class _Unraisable:
    def __init__(self, exc: BaseException, callback: object) -> None:
        self.exc_type = type(exc)
        self.exc_value = exc
        self.exc_traceback = exc.__traceback__
        self.err_msg = "Exception in hotswap on_change callback"
        self.object = callback
