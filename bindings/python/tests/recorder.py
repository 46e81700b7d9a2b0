"""Collects a Session's events from the library's thread, with bounded waits."""

import queue
import time

WAIT = 20.0


class Recorder:
    def __init__(self, session):
        self.q, self.seen = queue.Queue(), []
        session.add_listener(self.q.put)

    def expect(self, kind, pred=lambda e: True, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(ev)
            if ev.kind == kind and pred(ev):
                return ev
        raise AssertionError(f"no {kind} event within {timeout}s; saw {self.seen}")
