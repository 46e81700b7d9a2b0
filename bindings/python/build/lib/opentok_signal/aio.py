"""asyncio adapter: events as an async iterator, awaitable connect and signal.

The library calls back on its own thread; everything crosses into the event
loop with loop.call_soon_threadsafe, so futures and queues are only touched
on the loop's thread."""

import asyncio
from typing import Optional

from .errors import OpenTokError, code_name
from .session import Event, Session, Target


class AsyncSession:
    """A Session whose events go to an asyncio.Queue. Create it inside a
    running loop (or pass `loop`). Other arguments as Session."""

    def __init__(self, api_key, session_id, server_url=None, *, loop=None, **kwargs):
        self.loop = loop or asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._waiters = []  # (kinds, future)
        self.session = Session(api_key, session_id, server_url, **kwargs)
        self.session.add_listener(self._from_thread)

    def _from_thread(self, event: Event):
        try:
            self.loop.call_soon_threadsafe(self._on_loop, event)
        except RuntimeError:  # loop closed: nobody is listening any more
            pass

    def _on_loop(self, event):
        self._queue.put_nowait(event)
        for kinds, fut in list(self._waiters):
            if event.kind in kinds and not fut.done():
                fut.set_result(event)
                self._waiters.remove((kinds, fut))

    def _wait_for(self, *kinds):
        fut = self.loop.create_future()
        self._waiters.append((kinds, fut))
        return fut

    async def connect(self, token: str, timeout: float = 30.0) -> None:
        """Connects; returns once connected, raises OpenTokError on on_error."""
        fut = self._wait_for("connected", "error", "disconnected")
        self.session.connect(token)
        ev = await asyncio.wait_for(fut, timeout)
        if ev.kind == "error":
            raise OpenTokError(ev.code, ev.name, ev.message)
        if ev.kind == "disconnected":
            raise OpenTokError(1010, None, "disconnected while connecting")

    async def disconnect(self, timeout: float = 30.0) -> None:
        fut = self._wait_for("disconnected")
        self.session.disconnect()
        await asyncio.wait_for(fut, timeout)

    async def signal(self, type: str, data: str = "", to: Target = None, retry_after_reconnect: bool = True,
                     timeout: float = 30.0) -> int:
        """Sends a signal and waits for its completion callback: returns the
        signal id once the server routed it; raises OpenTokError with the
        failure code (validation errors at once, e.g. 1414)."""
        fut = self.loop.create_future()

        def done(result):
            self.loop.call_soon_threadsafe(_resolve, fut, result)

        signal_id = self.session.signal(type, data, to, retry_after_reconnect, on_complete=done)
        result = await asyncio.wait_for(fut, timeout)
        if result != 0:
            raise OpenTokError(result, code_name(result), f"signal {signal_id} failed")
        return signal_id

    @property
    def connection(self):
        return self.session.connection

    async def next_event(self, timeout: Optional[float] = None) -> Event:
        return await asyncio.wait_for(self._queue.get(), timeout)

    def events(self):
        """Async iterator over every event, until the session is disconnected
        (the 'disconnected' event is the last one yielded)."""
        return self._Events(self)

    class _Events:
        def __init__(self, outer):
            self.outer, self.ended = outer, False

        def __aiter__(self):
            return self

        async def __anext__(self):
            if self.ended:
                raise StopAsyncIteration
            ev = await self.outer._queue.get()
            if ev.kind == "disconnected":
                self.ended = True
            return ev

    def close(self):
        self.session.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()


def _resolve(fut, result):
    if not fut.done():
        fut.set_result(result)
