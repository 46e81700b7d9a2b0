"""Fixtures of the Python suite (helpers: harness.py)."""

import opentok
import pytest

from harness import API_KEY, API_SECRET, WAIT, Chat, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """otc-server on a free loopback port, with our project; stopped with
    SIGTERM (graceful) at the end, which must give exit status 0."""
    s = Server(tmp_path_factory.mktemp("server") / "otc-server.log", "--api-key", API_KEY, "--api-secret", API_SECRET)
    try:
        yield s.url
    finally:
        code = s.stop()
        assert code == 0, f"otc-server did not shut down cleanly ({code}); log: {s.log_path}"


@pytest.fixture()
def ot(server):
    """The SDK's client, pointed at our server."""
    client = opentok.Client(API_KEY, API_SECRET, api_url=server, timeout=WAIT)
    client.proxies = {"http": None, "https": None}
    return client


@pytest.fixture()
def chats(server, tmp_path):
    """Starts chat clients in our project (closed at the end of the test):
    chats(session_id, token, name, connect=True, extra=(), server_url=None)."""
    started = []

    def start(session_id, token, name, connect=True, extra=(), server_url=None):
        c = Chat(server_url or server, session_id, token, name, tmp_path, connect, extra=extra)
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()
