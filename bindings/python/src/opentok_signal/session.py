"""Session and Connection over libopentok's C session API."""

import atexit
import ctypes
import itertools
import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Union

from . import _lib
from .errors import OpenTokError, check, code_name

log = logging.getLogger("opentok_signal")

_LIB = None
_LIB_LOCK = threading.Lock()


# Every Session not yet closed, so that the exit handler can close them.
_LIVE = weakref.WeakSet()


def lib():
    """libopentok, loaded and initialized (otc_init) on first use; shut down
    (otc_destroy) when the interpreter exits."""
    global _LIB
    with _LIB_LOCK:
        if _LIB is None:
            loaded = _lib.load()
            check(loaded.otc_init(None), "otc_init")
            _LIB = loaded
            atexit.register(_shutdown)
        return _LIB


def _shutdown():
    """Closes the sessions still open, then stops the library's threads:
    none of them may call into an interpreter that is being torn down.
    Closing first (rather than letting otc_destroy delete them) leaves no
    Session holding a pointer the library has freed."""
    for s in list(_LIVE):
        try:
            s.close()
        except Exception:  # noqa: BLE001 - exiting; nothing to report to
            pass
    with _LIB_LOCK:
        if _LIB is not None:
            _LIB.otc_destroy()


@dataclass(frozen=True)
class Connection:
    """A participant, copied out of the C object while it was valid (the
    pointers callbacks receive die when the callback returns)."""

    id: str
    data: str
    creation_time: int  # milliseconds since the Unix epoch, 0 if unknown
    session_id: Optional[str] = None

    @classmethod
    def _from_c(cls, ptr):
        if not ptr:
            return None
        L = lib()
        return cls(
            id=_lib.text(L.otc_connection_get_id(ptr)) or "",
            data=_lib.text(L.otc_connection_get_data(ptr)) or "",
            creation_time=int(L.otc_connection_get_creation_time(ptr)),
            session_id=_lib.text(L.otc_connection_get_session_id(ptr)),
        )


@dataclass(frozen=True)
class Event:
    """One thing that happened to a session, as given to listeners and to
    the asyncio adapter. `kind` is one of: connected, disconnected,
    connection_created, connection_dropped, signal, reconnecting,
    reconnected, error."""

    kind: str
    connection: Optional[Connection] = None  # created/dropped
    type: Optional[str] = None  # signal
    data: Optional[str] = None  # signal
    from_: Optional[Connection] = None  # signal sender; None for a server (REST) signal
    code: Optional[int] = None  # error
    name: Optional[str] = None  # error
    message: Optional[str] = None  # error


def _encode(value, what):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    return value.encode("utf-8")


Target = Union[None, Connection, str, Sequence[Union[Connection, str]]]


def _target_ids(to: Target) -> Optional[List[str]]:
    if to is None:
        return None
    if isinstance(to, (Connection, str)):
        to = [to]
    ids = []
    for t in to:
        if isinstance(t, Connection):
            ids.append(t.id)
        elif isinstance(t, str):
            ids.append(t)
        else:
            raise TypeError(f"a signal target is a Connection or a connection id, not {type(t).__name__}")
    return ids


class Session:
    """One libopentok session.

    Handlers are plain attributes, set in the constructor or later, each
    called with the session first:

      on_connected(session)                 on_disconnected(session)
      on_connection_created(session, conn)  on_connection_dropped(session, conn)
      on_signal(session, type, data, from_) (from_ None: sent by the server)
      on_reconnecting(session)              on_reconnected(session)
      on_error(session, code, name, message)

    They run on libopentok's callback thread, one at a time and in order.
    An exception a handler raises is logged (logger "opentok_signal") and
    goes no further. `add_listener(fn)` adds a function that gets every
    event as an `Event`.
    """

    def __init__(
        self,
        api_key: str,
        session_id: str,
        server_url: Optional[str] = None,
        *,
        connection_events_suppressed: bool = False,
        reconnection_window_ms: Optional[int] = None,
        ca_file: Optional[str] = None,
        on_connected: Optional[Callable] = None,
        on_disconnected: Optional[Callable] = None,
        on_connection_created: Optional[Callable] = None,
        on_connection_dropped: Optional[Callable] = None,
        on_signal: Optional[Callable] = None,
        on_reconnecting: Optional[Callable] = None,
        on_reconnected: Optional[Callable] = None,
        on_error: Optional[Callable] = None,
    ):
        L = lib()
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self.on_connection_created = on_connection_created
        self.on_connection_dropped = on_connection_dropped
        self.on_signal = on_signal
        self.on_reconnecting = on_reconnecting
        self.on_reconnected = on_reconnected
        self.on_error = on_error
        self._listeners = []
        self._lock = threading.Lock()
        self._pending = {}  # completion token -> callable(result)
        self._tokens = itertools.count(1)
        self._ptr = None

        # The CFUNCTYPE objects must outlive every call the library can make
        # into them: they are attributes of self until the session is deleted
        # (and kept even after, in case delete is called from a callback).
        C = _lib
        self._c_funcs = {
            "on_connected": C.ON_SESSION(self._c_connected),
            "on_disconnected": C.ON_SESSION(self._c_disconnected),
            "on_connection_created": C.ON_CONNECTION(self._c_connection_created),
            "on_connection_dropped": C.ON_CONNECTION(self._c_connection_dropped),
            "on_signal_received": C.ON_SIGNAL(self._c_signal),
            "on_reconnection_started": C.ON_SESSION(self._c_reconnecting),
            "on_reconnected": C.ON_SESSION(self._c_reconnected),
            "on_error": C.ON_ERROR(self._c_error),
        }
        self._c_complete = C.ON_SIGNAL_COMPLETE(self._c_signal_complete)
        self._callbacks = C.otc_session_callbacks(**self._c_funcs)  # other fields NULL

        settings = L.otc_session_settings_new()
        if not settings:
            raise OpenTokError(2000, None, "otc_session_settings_new returned NULL")
        try:
            if server_url is not None:
                check(L.otc_session_settings_set_server_url(settings, _encode(server_url, "server_url")),
                      f"otc_session_settings_set_server_url({server_url!r})")
            if connection_events_suppressed:
                check(L.otc_session_settings_set_connection_events_suppressed(settings, 1),
                      "otc_session_settings_set_connection_events_suppressed")
            if reconnection_window_ms is not None:
                check(L.otc_session_settings_set_reconnection_window_ms(settings, int(reconnection_window_ms)),
                      "otc_session_settings_set_reconnection_window_ms")
            if ca_file is not None:
                check(L.otc_session_settings_set_ca_file(settings, _encode(ca_file, "ca_file")),
                      "otc_session_settings_set_ca_file")
            ptr = L.otc_session_new_with_settings(
                _encode(api_key, "api_key"), _encode(session_id, "session_id"),
                ctypes.byref(self._callbacks), settings)
        finally:
            L.otc_session_settings_delete(settings)
        if not ptr:
            # The C function only says NULL; its log says why.
            raise OpenTokError(1011, None, "otc_session_new_with_settings returned NULL "
                                           "(bad api key or session id, or library not initialized)")
        self._ptr = ptr
        _LIVE.add(self)
        self.session_id = session_id

    # --- lifecycle -------------------------------------------------------------

    def _handle(self):
        if not self._ptr:
            raise OpenTokError(1011, None, "the session was closed")
        return self._ptr

    def connect(self, token: str) -> None:
        """Starts connecting; on_connected or on_error + on_disconnected follow."""
        check(lib().otc_session_connect(self._handle(), _encode(token, "token")), "otc_session_connect")

    def disconnect(self) -> None:
        """Leaves the session; on_disconnected follows."""
        check(lib().otc_session_disconnect(self._handle()), "otc_session_disconnect")

    def close(self) -> None:
        """Deletes the C session (disconnecting it). No handler runs after
        this returns, unless called from a handler of this session."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            lib().otc_session_delete(ptr)
        with self._lock:
            pending, self._pending = self._pending, {}
        for done in pending.values():
            self._safe(done, 1010)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    @property
    def connection(self) -> Optional[Connection]:
        """This client's own connection while connected, else None."""
        if not self._ptr:
            return None
        return Connection._from_c(lib().otc_session_get_connection(self._ptr))

    def add_listener(self, fn: Callable[[Event], None]) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn) -> None:
        self._listeners.remove(fn)

    # --- signals -------------------------------------------------------------

    def signal(self, type: str, data: str = "", to: Target = None, retry_after_reconnect: bool = True,
               on_complete: Optional[Callable[[int], None]] = None) -> Optional[int]:
        """Sends a signal: to everyone (sender included) when `to` is None,
        else to a Connection, a connection id, or a list of them. Bad input
        or a disconnected session raises OpenTokError at once.

        With `on_complete` (or a target), the send goes through
        otc_session_send_signal_to_connections: it returns the signal's id
        and on_complete(result) is called later with 0 once the server
        routed it, else the error code. A plain broadcast returns None."""
        ids = _target_ids(to)
        t, d = _encode(type, "type"), _encode(data, "data")
        opts = _lib.otc_signal_options(1 if retry_after_reconnect else 0)
        L = lib()
        if ids is None and on_complete is None:
            check(L.otc_session_send_signal_with_options(self._handle(), t, d, opts),
                  "otc_session_send_signal_with_options")
            return None
        if ids is not None and not ids:
            raise OpenTokError(1011, None, "an empty list of targets would mean everyone; pass to=None")
        arr = None
        if ids:
            arr = (ctypes.c_char_p * len(ids))(*[i.encode("utf-8") for i in ids])
        token = next(self._tokens)
        if on_complete is not None:
            with self._lock:
                self._pending[token] = on_complete
        out = ctypes.c_uint64(0)
        status = L.otc_session_send_signal_to_connections(
            self._handle(), t, d, arr, len(ids or ()), opts, self._c_complete, ctypes.c_void_p(token),
            ctypes.byref(out))
        if status != 0:
            with self._lock:
                self._pending.pop(token, None)
            check(status, "otc_session_send_signal_to_connections")
        return out.value

    def signal_to_server(self, type: str, data: str = "", retry_after_reconnect: bool = True,
                         on_complete: Optional[Callable[[int], None]] = None) -> int:
        """Sends a signal to the project's application server instead of
        the session (otc_session_send_signal_to_server, an extension): its
        callback URL or event stream gets it, no participant does. Returns
        the signal's id; on_complete(result) is called later with 0 once the
        application server has it, else the code (1600 not listening, 1601
        it refused, 1603 its queue was full, ...)."""
        t, d = _encode(type, "type"), _encode(data, "data")
        opts = _lib.otc_signal_options(1 if retry_after_reconnect else 0)
        token = next(self._tokens)
        if on_complete is not None:
            with self._lock:
                self._pending[token] = on_complete
        out = ctypes.c_uint64(0)
        status = lib().otc_session_send_signal_to_server(
            self._handle(), t, d, opts, self._c_complete, ctypes.c_void_p(token), ctypes.byref(out))
        if status != 0:
            with self._lock:
                self._pending.pop(token, None)
            check(status, "otc_session_send_signal_to_server")
        return out.value

    # --- the C side --------------------------------------------------------------

    def _safe(self, fn, *args):
        try:
            fn(*args)
        except BaseException:  # nothing may unwind into C
            log.exception("opentok_signal: a handler raised (%r)", fn)

    def _emit(self, handler, handler_args, event):
        fn = getattr(self, handler)
        if fn is not None:
            self._safe(fn, self, *handler_args)
        for listener in list(self._listeners):
            self._safe(listener, event)

    def _guard(fn):  # noqa: N805 - a decorator used in the class body
        def wrapper(self, *args):
            try:
                fn(self, *args)
            except BaseException:
                log.exception("opentok_signal: error in callback %s", fn.__name__)
        wrapper.__name__ = fn.__name__
        return wrapper

    @_guard
    def _c_connected(self, _s, _u):
        self._emit("on_connected", (), Event("connected"))

    @_guard
    def _c_disconnected(self, _s, _u):
        self._emit("on_disconnected", (), Event("disconnected"))

    @_guard
    def _c_connection_created(self, _s, _u, conn):
        c = Connection._from_c(conn)
        self._emit("on_connection_created", (c,), Event("connection_created", connection=c))

    @_guard
    def _c_connection_dropped(self, _s, _u, conn):
        c = Connection._from_c(conn)
        self._emit("on_connection_dropped", (c,), Event("connection_dropped", connection=c))

    @_guard
    def _c_signal(self, _s, _u, type_p, data_p, conn):
        t, d = _lib.text(type_p) or "", _lib.text(data_p) or ""
        sender = Connection._from_c(conn)
        self._emit("on_signal", (t, d, sender), Event("signal", type=t, data=d, from_=sender))

    @_guard
    def _c_reconnecting(self, _s, _u):
        self._emit("on_reconnecting", (), Event("reconnecting"))

    @_guard
    def _c_reconnected(self, _s, _u):
        self._emit("on_reconnected", (), Event("reconnected"))

    @_guard
    def _c_error(self, _s, _u, msg_p, code):
        msg, name = _lib.text(msg_p) or "", code_name(code)
        self._emit("on_error", (code, name, msg), Event("error", code=code, name=name, message=msg))

    @_guard
    def _c_signal_complete(self, _s, _u, _signal_id, result, token):
        with self._lock:
            done = self._pending.pop(token or 0, None)
        if done is not None:
            self._safe(done, int(result))

    del _guard
