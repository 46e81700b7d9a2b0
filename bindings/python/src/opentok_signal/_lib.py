"""Finding libopentok and declaring the part of include/opentok.h we use.

Every declaration here must match the header exactly: ctypes has no way to
check it, and a wrong argument type or struct layout is undefined behaviour.
"""

import ctypes
import ctypes.util
import os
import shutil
import subprocess

# --- types -----------------------------------------------------------------

otc_status = ctypes.c_int
otc_bool = ctypes.c_int
c_session_p = ctypes.c_void_p      # struct otc_session *
c_connection_p = ctypes.c_void_p   # struct otc_connection *
c_settings_p = ctypes.c_void_p     # struct otc_session_settings *
c_ptr = ctypes.c_void_p

# Callback prototypes, in the header's order inside otc_session_callbacks.
# The "const char *" arguments are declared c_void_p, not c_char_p, so that
# ctypes hands us the raw pointer and we read it with ctypes.string_at (a
# c_char_p argument is converted to bytes already; both work, this keeps the
# NULL case explicit).
CB = ctypes.CFUNCTYPE
ON_SESSION = CB(None, c_session_p, c_ptr)                           # connected, disconnected, reconnection_started, reconnected
ON_CONNECTION = CB(None, c_session_p, c_ptr, c_connection_p)        # connection created / dropped
ON_STREAM = CB(None, c_session_p, c_ptr, c_ptr)                     # stream received / dropped
ON_STREAM_BOOL = CB(None, c_session_p, c_ptr, c_ptr, otc_bool)      # has audio / video / captions changed
ON_STREAM_DIMS = CB(None, c_session_p, c_ptr, c_ptr, ctypes.c_int, ctypes.c_int)
ON_STREAM_TYPE = CB(None, c_session_p, c_ptr, c_ptr, ctypes.c_int)  # enum otc_stream_video_type
ON_SIGNAL = CB(None, c_session_p, c_ptr, c_ptr, c_ptr, c_connection_p)  # type, signal, connection
ON_ARCHIVE_STARTED = CB(None, c_session_p, c_ptr, c_ptr, c_ptr)
ON_ARCHIVE_STOPPED = CB(None, c_session_p, c_ptr, c_ptr)
ON_ERROR = CB(None, c_session_p, c_ptr, c_ptr, ctypes.c_int)        # error_string, enum otc_session_error_code
ON_MUTE_FORCED = CB(None, c_session_p, c_ptr, c_ptr)

# otc_signal_completion_callback(session, user_data, uint64_t signal_id,
#                                otc_status result, void *completion_data)
ON_SIGNAL_COMPLETE = CB(None, c_session_p, c_ptr, ctypes.c_uint64, otc_status, c_ptr)


class otc_session_callbacks(ctypes.Structure):
    _fields_ = [
        ("on_connected", ON_SESSION),
        ("on_disconnected", ON_SESSION),
        ("on_connection_created", ON_CONNECTION),
        ("on_connection_dropped", ON_CONNECTION),
        ("on_stream_received", ON_STREAM),
        ("on_stream_dropped", ON_STREAM),
        ("on_stream_has_audio_changed", ON_STREAM_BOOL),
        ("on_stream_has_video_changed", ON_STREAM_BOOL),
        ("on_stream_has_captions_changed", ON_STREAM_BOOL),
        ("on_stream_video_dimensions_changed", ON_STREAM_DIMS),
        ("on_stream_video_type_changed", ON_STREAM_TYPE),
        ("on_signal_received", ON_SIGNAL),
        ("on_reconnection_started", ON_SESSION),
        ("on_reconnected", ON_SESSION),
        ("on_archive_started", ON_ARCHIVE_STARTED),
        ("on_archive_stopped", ON_ARCHIVE_STOPPED),
        ("on_error", ON_ERROR),
        ("on_mute_forced", ON_MUTE_FORCED),
        ("user_data", c_ptr),
        ("reserved", c_ptr),
    ]


class otc_signal_options(ctypes.Structure):
    _fields_ = [("retry_after_reconnect", otc_bool)]


# --- loading -----------------------------------------------------------------


def _candidates():
    env = os.environ.get("OTC_LIBOPENTOK")
    if env:
        yield "OTC_LIBOPENTOK", env
        return  # an explicit choice is never silently replaced
    if shutil.which("pkg-config"):
        try:
            libdir = subprocess.run(
                ["pkg-config", "--variable=libdir", "libopentok"],
                capture_output=True, text=True, timeout=10,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            libdir = ""
        if libdir:
            yield "pkg-config", os.path.join(libdir, "libopentok.so")
    found = ctypes.util.find_library("opentok")
    if found:
        yield "find_library", found


def load():
    tried = []
    for how, path in _candidates():
        try:
            return declare(ctypes.CDLL(path))
        except OSError as e:
            tried.append(f"{how}: {path} ({e})")
    raise ImportError(
        "opentok_signal could not load libopentok.so; set OTC_LIBOPENTOK to its path, "
        "or install it where pkg-config (libopentok.pc) or the dynamic linker finds it. "
        + ("Tried: " + "; ".join(tried) if tried else "Nothing found to try.")
    )


def _fn(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


def declare(lib):
    cp = ctypes.c_char_p
    _fn(lib, "otc_init", otc_status, c_ptr)
    _fn(lib, "otc_destroy", otc_status)
    _fn(lib, "otc_session_settings_new", c_settings_p)
    _fn(lib, "otc_session_settings_delete", otc_status, c_settings_p)
    _fn(lib, "otc_session_settings_set_server_url", otc_status, c_settings_p, cp)
    _fn(lib, "otc_session_settings_set_connection_events_suppressed", otc_status, c_settings_p, otc_bool)
    _fn(lib, "otc_session_settings_set_reconnection_window_ms", otc_status, c_settings_p, ctypes.c_int64)
    _fn(lib, "otc_session_settings_set_ca_file", otc_status, c_settings_p, cp)
    _fn(lib, "otc_session_new_with_settings", c_session_p, cp, cp,
        ctypes.POINTER(otc_session_callbacks), c_settings_p)
    _fn(lib, "otc_session_delete", otc_status, c_session_p)
    _fn(lib, "otc_session_connect", otc_status, c_session_p, cp)
    _fn(lib, "otc_session_disconnect", otc_status, c_session_p)
    _fn(lib, "otc_session_send_signal", otc_status, c_session_p, cp, cp)
    _fn(lib, "otc_session_send_signal_to_connection", otc_status, c_session_p, cp, cp, c_connection_p)
    _fn(lib, "otc_session_send_signal_with_options", otc_status, c_session_p, cp, cp, otc_signal_options)
    _fn(lib, "otc_session_send_signal_to_connection_with_options", otc_status,
        c_session_p, cp, cp, c_connection_p, otc_signal_options)
    _fn(lib, "otc_session_send_signal_to_connections", otc_status,
        c_session_p, cp, cp, ctypes.POINTER(cp), ctypes.c_size_t, otc_signal_options,
        ON_SIGNAL_COMPLETE, c_ptr, ctypes.POINTER(ctypes.c_uint64))
    _fn(lib, "otc_session_send_signal_to_server", otc_status,
        c_session_p, cp, cp, otc_signal_options, ON_SIGNAL_COMPLETE, c_ptr, ctypes.POINTER(ctypes.c_uint64))
    _fn(lib, "otc_session_get_connection", c_connection_p, c_session_p)
    _fn(lib, "otc_session_get_id", c_ptr, c_session_p)  # char *, owned by the session
    _fn(lib, "otc_connection_get_id", c_ptr, c_connection_p)
    _fn(lib, "otc_connection_get_data", c_ptr, c_connection_p)
    _fn(lib, "otc_connection_get_creation_time", ctypes.c_int64, c_connection_p)
    _fn(lib, "otc_connection_get_session_id", c_ptr, c_connection_p)
    return lib


def text(ptr):
    """A C string (a c_void_p value or None) as str; None for NULL."""
    if not ptr:
        return None
    return ctypes.string_at(ptr).decode("utf-8", "replace")
