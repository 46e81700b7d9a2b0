"""opentok_signal: Python bindings (ctypes) to libopentok, the self-hosted
OpenTok / Vonage Video signaling client library."""

from .errors import OpenTokError, code_name
from .session import Connection, Event, Session
from .aio import AsyncSession

__all__ = ["AsyncSession", "Connection", "Event", "OpenTokError", "Session", "code_name"]
__version__ = "0.1.0"
